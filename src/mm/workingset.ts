/**
 * Refault detection (Kernel: mm/workingset.c).
 *
 * Every lruvec keeps a clock, nonresident_age, that ticks on each eviction
 * and activation. An evicted page leaves a shadow entry in its slot: the
 * clock's reading and the group that evicted it. When the page faults back
 * in, the clock has moved by the refault distance: the pages that had to
 * go or be promoted in the meantime. Had the inactive list been that much
 * longer, the page would have stayed; so if the distance fits in the
 * workingset (the active file list, plus inactive file for anonymous pages,
 * plus the anon lists when the group can swap) the page comes back active.
 */
import { type Lruvec, LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, WORKINGSET_ANON, WORKINGSET_FILE, folio_is_file_lru } from './lruvec.js'
import { type MemCgroup, type MemcgSubsys, MEMCG_WORKINGSET_REFAULT_ANON } from './memcontrol.js'
import { PG_active, PG_workingset, type PageArray } from './page.js'
import { NODE_STAT, type VmStat } from './vmstat.js'

/** Shadow fields: memcg id (16 bits), PG_workingset (1 bit), then the eviction clock. */
const MEMCG_SPAN = 1 << 16

/** Kernel: pack_shadow(); a shadow is never 0 (0 means "no shadow"). */
function pack_shadow(memcgid: number, eviction: number, workingset: boolean): number {
  return ((eviction * 2 + (workingset ? 1 : 0)) * MEMCG_SPAN + memcgid) * 2 + 1
}

function unpack_shadow(shadow: number): { memcgid: number; eviction: number; workingset: boolean } {
  const v = (shadow - 1) / 2
  const memcgid = v % MEMCG_SPAN
  const rest = (v - memcgid) / MEMCG_SPAN
  return { memcgid, workingset: rest % 2 === 1, eviction: Math.floor(rest / 2) }
}

/** Kernel: workingset_age_nonresident(): tick the clock of the lruvec and of its ancestors. */
export function workingset_age_nonresident(ss: MemcgSubsys, lruvec: Lruvec, nr_pages: number): void {
  for (let g = ss.by_id.get(lruvec.memcg_id) ?? null; g; g = g.parent) g.lruvec.nonresident_age += nr_pages
}

/**
 * Kernel: workingset_eviction(): the shadow an evicted page leaves (read the
 * clock, then tick it). The clock is that of the group reclaim works for
 * (`target`), the root's for reclaim on no group's behalf (MADV_PAGEOUT).
 */
export function workingset_eviction(ss: MemcgSubsys, pages: PageArray, pfn: number, target: MemCgroup | null): number {
  const lruvec = (target ?? ss.root).lruvec
  const eviction = lruvec.nonresident_age
  workingset_age_nonresident(ss, lruvec, 1)
  return pack_shadow(lruvec.memcg_id, eviction, pages.test(pfn, PG_workingset))
}

/** Kernel: workingset_test_recent(): would the page have stayed with a longer inactive list? */
export function workingset_test_recent(ss: MemcgSubsys, shadow: number, file: boolean): { recent: boolean; workingset: boolean } {
  const { memcgid, eviction, workingset } = unpack_shadow(shadow)
  const g = ss.by_id.get(memcgid)
  if (!g || !g.online) return { recent: false, workingset }
  const lv = g.lruvec
  const refault_distance = lv.nonresident_age - eviction
  // The group's (hierarchical) LRU sizes as of the last statistics flush.
  let workingset_size = lv.flushed[LRU_ACTIVE_FILE]
  if (!file) workingset_size += lv.flushed[LRU_INACTIVE_FILE]
  if (ss.get_nr_swap_pages(g) > 0) {
    workingset_size += lv.flushed[LRU_ACTIVE_ANON]
    if (file) workingset_size += lv.flushed[LRU_INACTIVE_ANON]
  }
  return { recent: refault_distance <= workingset_size, workingset }
}

/**
 * Kernel: workingset_refault(): a page read back where a shadow was. Counts
 * the refault; activates the page when it is recent (before it goes on the
 * LRU), and marks it workingset when it was when it left.
 */
export function workingset_refault(ss: MemcgSubsys, pages: PageArray, vmstat: VmStat, pfn: number, shadow: number, note_cost: (lruvec: Lruvec, file: boolean, nr_io: number) => void): void {
  const file = folio_is_file_lru(pages, pfn)
  const memcg = ss.folio_memcg(pfn)
  const lruvec = memcg.lruvec
  const type = file ? WORKINGSET_FILE : WORKINGSET_ANON
  lruvec.stat.workingset_refault[type]++
  memcg.stat[MEMCG_WORKINGSET_REFAULT_ANON + type]++
  vmstat.mod_node_page_state(NODE_STAT.workingset_refault_anon + type, 1)
  const t = workingset_test_recent(ss, shadow, file)
  if (!t.recent) return
  pages.set(pfn, PG_active)
  workingset_age_nonresident(ss, lruvec, 1)
  lruvec.stat.workingset_activate[type]++
  lruvec.pending.updates++
  vmstat.mod_node_page_state(NODE_STAT.workingset_activate_anon + type, 1)
  if (t.workingset) {
    pages.set(pfn, PG_workingset)
    note_cost(lruvec, file, 1)
    lruvec.stat.workingset_restore[type]++
    vmstat.mod_node_page_state(NODE_STAT.workingset_restore_anon + type, 1)
  }
}
