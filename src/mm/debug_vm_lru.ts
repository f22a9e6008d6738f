/**
 * The LRU lists and memory-cgroup charges, recounted (Kernel: the
 * VM_BUG_ON_FOLIO checks of include/linux/mm_inline.h and mm/vmscan.c,
 * mem_cgroup_update_lru_size()'s "lru_size ... is negative" report).
 * Why: a folio whose flags change while it is on a list would later be
 * taken off the wrong one, and the page allocator, which shares the lru
 * links, would inherit a broken list.
 */
import { KernelBug } from '../include/bug.js'
import { folio_lru_list, LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, type Lruvec, NR_LRU_LISTS } from './lruvec.js'
import type { Replacement } from './replacement.js'
import type { MemcgSubsys } from './memcontrol.js'
import { PG_lru, type PageArray } from './page.js'
import { NR_ZONE_INACTIVE_ANON, type Zone } from './mmzone.js'
import { NODE_STAT, type VmStat } from './vmstat.js'

const seen_buffers = new WeakMap<PageArray, Uint8Array>()

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
  // Frames met on a list so far: a byte per frame, reused (zeroed) from one full check to the next.
  let seen = seen_buffers.get(pages)
  if (seen) seen.fill(0)
  else seen_buffers.set(pages, (seen = new Uint8Array(pages.nr)))
  const flags = pages.flags
  const lru_bit = 1 << PG_lru
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
        if (seen[pfn]) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} on two lists`)
        seen[pfn] = 1
        prev = pfn
        n++
      }
      if (list.tail !== prev || list.count !== n) throw new KernelBug(`check_lru: list ${lru} of memcg ${g.id} counts ${list.count}, holds ${n}`)
    }
    if (ss.replacement !== null) check_replacement(ss.replacement, lv, pages, g.id)
    // A group's usage is what it was charged: its pages, its kernel memory, its stocked pages.
    if (!g.is_root) {
      let own = 0
      for (const c of g.subtree()) own += c.kmem.usage + ss.stocked(c)
      if (g.memory.usage < own) throw new KernelBug(`check_lru: memcg ${g.id} usage ${g.memory.usage} below its kmem and stock ${own}`)
    }
  }
  for (let pfn = 0; pfn < pages.nr; pfn++) if (flags[pfn] & lru_bit && !seen[pfn]) throw new KernelBug(`check_lru: pfn 0x${pfn.toString(16)} has PG_lru but is on no list`)
  check_lru_counts(ss, vmstat, zones)
}

/**
 * Another replacement policy (replacement.ts): nothing is active, each
 * evictable list is in the policy's order (seq falling from head to tail),
 * and random's member arrays hold exactly the pages of the lists.
 */
function check_replacement(r: Replacement, lv: Lruvec, pages: PageArray, id: number): void {
  if (lv.lists[LRU_ACTIVE_ANON].count || lv.lists[LRU_ACTIVE_FILE].count) throw new KernelBug(`check_lru: memcg ${id} has active pages under the ${r.policy} replacement policy`)
  for (const lru of [LRU_INACTIVE_ANON, LRU_INACTIVE_FILE]) {
    const list = lv.lists[lru]
    for (let pfn = list.head; pfn >= 0 && pages.lru_next[pfn] >= 0; pfn = pages.lru_next[pfn]) {
      const next = pages.lru_next[pfn]
      if (!(r.seq[next] < r.seq[pfn])) throw new KernelBug(`check_lru: list ${lru} of memcg ${id} is out of ${r.policy} order at pfn 0x${next.toString(16)}`)
    }
    if (r.pos === null) continue
    const members = lv.of[lru >> 1]
    if (members.length !== list.count) throw new KernelBug(`check_lru: memcg ${id}'s random members of list ${lru}: ${members.length}, the list holds ${list.count}`)
    members.forEach((pfn, i) => {
      if (r.pos![pfn] !== i || folio_lru_list(pages, pfn) !== lru) throw new KernelBug(`check_lru: memcg ${id}'s random member ${i} (pfn 0x${pfn.toString(16)}) is not on list ${lru} at that index`)
    })
  }
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
