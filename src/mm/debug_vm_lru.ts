/**
 * The LRU lists and memory-cgroup charges, recounted (Kernel: the
 * VM_BUG_ON_FOLIO checks of include/linux/mm_inline.h and mm/vmscan.c,
 * mem_cgroup_update_lru_size()'s "lru_size ... is negative" report).
 * Why: a folio whose flags change while it is on a list would later be
 * taken off the wrong one, and the page allocator, which shares the lru
 * links, would inherit a broken list.
 */
import { KernelBug } from '../include/bug.js'
import { folio_lru_list, NR_LRU_LISTS } from './lruvec.js'
import type { MemcgSubsys } from './memcontrol.js'
import { PG_lru, type PageArray } from './page.js'
import { NR_ZONE_INACTIVE_ANON, type Zone } from './mmzone.js'
import { NODE_STAT, type VmStat } from './vmstat.js'

/**
 * `full`: walk every list and look for pages that claim PG_lru but are on no
 * list (a pass over every frame). Otherwise (the check after each call) only
 * the list lengths against the node counters and the links of `touched`
 * pages: walking every list after every call made big tests quadratic.
 */
export function check_lru(ss: MemcgSubsys, pages: PageArray, vmstat: VmStat, full: boolean, touched: readonly number[] = [], zones: readonly Zone[] = []): void {
  if (!full) {
    check_lru_counts(ss, vmstat, zones)
    for (const pfn of touched) {
      if (!pages.test(pfn, PG_lru)) continue
      const prev = pages.lru_prev[pfn]
      const next = pages.lru_next[pfn]
      if ((prev >= 0 && pages.lru_next[prev] !== pfn) || (next >= 0 && pages.lru_prev[next] !== pfn)) throw new KernelBug(`check_lru: broken links around pfn 0x${pfn.toString(16)}`)
    }
    return
  }
  const seen = new Set<number>()
  for (const g of ss.by_id.values()) {
    const lv = g.lruvec
    for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
      const list = lv.lists[lru]
      let n = 0
      let prev = -1
      for (let pfn = list.head; pfn >= 0; pfn = pages.lru_next[pfn]) {
        if (pages.lru_prev[pfn] !== prev) throw new KernelBug(`check_lru: broken back link at pfn 0x${pfn.toString(16)} on list ${lru} of memcg ${g.id}`)
        if (!pages.test(pfn, PG_lru)) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} on list ${lru} without PG_lru`)
        if (folio_lru_list(pages, pfn) !== lru) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} on list ${lru} but its flags say list ${folio_lru_list(pages, pfn)}`)
        if ((pages.memcg_data[pfn] || ss.root.id) !== g.id) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} charged to memcg ${pages.memcg_data[pfn]} is on memcg ${g.id}'s list`)
        if (pages._refcount[pfn] <= 0) throw new KernelBug(`check_lru: free pfn 0x${pfn.toString(16)} on list ${lru}`)
        if (seen.has(pfn)) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} on two lists`)
        seen.add(pfn)
        prev = pfn
        n++
      }
      if (list.tail !== prev || list.count !== n) throw new KernelBug(`check_lru: list ${lru} of memcg ${g.id} counts ${list.count}, holds ${n}`)
    }
    // A group's usage is what it was charged: its pages, its kernel memory, its stocked pages.
    if (!g.is_root) {
      let own = 0
      for (const c of g.subtree()) own += c.kmem.usage + ss.stocked(c)
      if (g.memory.usage < own) throw new KernelBug(`check_lru: memcg ${g.id} usage ${g.memory.usage} below its kmem and stock ${own}`)
    }
  }
  if (full) for (let pfn = 0; pfn < pages.nr; pfn++) if (pages.test(pfn, PG_lru) && !seen.has(pfn)) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} has PG_lru but is on no list`)
  check_lru_counts(ss, vmstat, zones)
}

/** The node's LRU counters against the lists' lengths, and the zones' counters against the node's. */
function check_lru_counts(ss: MemcgSubsys, vmstat: VmStat, zones: readonly Zone[]): void {
  for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
    let n = 0
    for (const g of ss.by_id.values()) n += g.lruvec.lists[lru].count
    const node = vmstat.node_page_state(NODE_STAT.nr_inactive_anon + lru)
    if (node !== n) throw new KernelBug(`check_lru: node counts ${node} pages on list ${lru}, the lists hold ${n}`)
    if (!zones.length) continue
    let z = 0
    for (const zone of zones) {
      const v = zone.vm_stat[NR_ZONE_INACTIVE_ANON + lru]
      if (v < 0) throw new KernelBug(`check_lru: zone ${zone.name} counts ${v} pages on list ${lru}`)
      z += v
    }
    if (z !== n) throw new KernelBug(`check_lru: the zones count ${z} pages on list ${lru}, the lists hold ${n}`)
  }
}
