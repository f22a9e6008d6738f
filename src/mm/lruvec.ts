/**
 * struct lruvec and the LRU list helpers (Kernel: include/linux/mmzone.h
 * enum lru_list / struct lruvec, include/linux/mm_inline.h
 * folio_lru_list(), lruvec_add_folio(), lruvec_add_folio_tail(),
 * lruvec_del_folio()).
 *
 * Every memory cgroup has one lruvec per node (one node here); a page on an
 * LRU list is on the lruvec of the memcg it is charged to (the root's when
 * uncharged). Lists are intrusive through the page's lru links, newest at
 * the head: reclaim takes from the tail. The node's nr_inactive_anon ...
 * nr_unevictable counters are the sums over all lruvecs, kept as folios
 * move, as the kernel's __update_lru_size() does.
 */
import { NR_ZONE_INACTIVE_ANON, PfnList } from './mmzone.js'
import { PG_active, PG_lru, PG_swapbacked, PG_unevictable, type PageArray } from './page.js'
import { NODE_STAT, type VmStat } from './vmstat.js'
import type { Replacement, ReplacementMembers } from './replacement.js'

export const LRU_INACTIVE_ANON = 0
export const LRU_ACTIVE_ANON = 1
export const LRU_INACTIVE_FILE = 2
export const LRU_ACTIVE_FILE = 3
export const LRU_UNEVICTABLE = 4
export const NR_LRU_LISTS = 5
/** LRU_ACTIVE: the offset from an inactive list to its active list. LRU_FILE: from anon to file. */
export const LRU_ACTIVE = 1
export const LRU_FILE = 2

/** WORKINGSET_ANON / WORKINGSET_FILE: indices of lruvec->refaults[]. */
export const WORKINGSET_ANON = 0
export const WORKINGSET_FILE = 1

/** The lruvec state items reclaim reads (Kernel: lruvec_page_state() of the workingset counters). */
export class LruvecStat {
  workingset_refault = [0, 0]
  workingset_activate = [0, 0]
  workingset_restore = [0, 0]
}

export class Lruvec implements ReplacementMembers {
  readonly lists: PfnList[] = [new PfnList(), new PfnList(), new PfnList(), new PfnList(), new PfnList()]
  /** Kernel: lruvec->nonresident_age: evictions plus activations, the workingset clock. */
  nonresident_age = 0
  /** Kernel: lruvec->refaults[]: WORKINGSET_ACTIVATE_* when reclaim last finished (snapshot_refaults()). */
  readonly refaults = [0, 0]
  /** Kernel: lruvec->anon_cost / file_cost (lru_note_cost()). */
  anon_cost = 0
  file_cost = 0
  readonly stat = new LruvecStat()
  /**
   * The statistics as of the last rstat flush (hierarchical: this group and
   * its descendants): LRU sizes and WORKINGSET_ACTIVATE_*. Reclaim's
   * balance decisions (inactive_is_low, refault activation, the refault
   * check of prepare_scan_control) read these, not the live list sizes.
   */
  readonly flushed = [0, 0, 0, 0, 0]
  readonly flushed_activate = [0, 0]
  /** The random replacement policy's evictable pages of this lruvec: anon, file (replacement.ts). */
  readonly of: [number[], number[]] = [[], []]
  constructor(
    /** The owning memory cgroup's id (mem_cgroup_id(); 1 is the root). */
    readonly memcg_id: number,
    /** Statistics changes since the last flush, shared by all groups (memcg_vmstats->stats_updates). */
    readonly pending: { updates: number },
    /** The machine's page-replacement policy when it is not Linux's (replacement.ts), else null. */
    readonly replacement: Replacement | null = null,
  ) {}

  /** Kernel: lruvec_lru_size() for a single node without zone filtering. */
  size(lru: number): number {
    return this.lists[lru].count
  }
}

/** Kernel: folio_is_file_lru(): file pages, and anonymous pages made lazily freeable, age on the file lists. */
export function folio_is_file_lru(pages: PageArray, pfn: number): boolean {
  return !pages.test(pfn, PG_swapbacked)
}

/** Kernel: folio_lru_list(): the list a folio belongs on given its flags. */
export function folio_lru_list(pages: PageArray, pfn: number): number {
  const f = pages.flags[pfn] // one read of the flags word for the three tests
  if (f & (1 << PG_unevictable)) return LRU_UNEVICTABLE
  const lru = (f & (1 << PG_swapbacked)) === 0 ? LRU_INACTIVE_FILE : LRU_INACTIVE_ANON
  return f & (1 << PG_active) ? lru + LRU_ACTIVE : lru
}

/**
 * Kernel: update_lru_size(): `nr` pages more (or fewer) on list `lru` of
 * the lruvec, counted in the node's and the page's zone's LRU sizes too.
 */
function update_lru_size(lruvec: Lruvec, vmstat: VmStat, pfn: number, lru: number, nr: number): void {
  lruvec.pending.updates++
  vmstat.mod_node_page_state(NODE_STAT.nr_inactive_anon + lru, nr)
  vmstat.page_zone_stat(pfn)[NR_ZONE_INACTIVE_ANON + lru] += nr
}

/** Kernel: lruvec_add_folio(): at the head (the young end). The caller sets PG_lru. */
export function lruvec_add_folio(lruvec: Lruvec, pages: PageArray, vmstat: VmStat, pfn: number): void {
  const lru = folio_lru_list(pages, pfn)
  lruvec.lists[lru].add(pages, pfn)
  update_lru_size(lruvec, vmstat, pfn, lru, 1)
  if (lruvec.replacement !== null && lru !== LRU_UNEVICTABLE) lruvec.replacement.added(lruvec, pfn, lru >> 1, true)
}

/** Kernel: lruvec_add_folio_tail(): at the tail, the next to be reclaimed. */
export function lruvec_add_folio_tail(lruvec: Lruvec, pages: PageArray, vmstat: VmStat, pfn: number): void {
  const lru = folio_lru_list(pages, pfn)
  lruvec.lists[lru].add_tail(pages, pfn)
  update_lru_size(lruvec, vmstat, pfn, lru, 1)
  if (lruvec.replacement !== null && lru !== LRU_UNEVICTABLE) lruvec.replacement.added(lruvec, pfn, lru >> 1, false)
}

/** Kernel: lruvec_del_folio(): off its list; flags unchanged. */
export function lruvec_del_folio(lruvec: Lruvec, pages: PageArray, vmstat: VmStat, pfn: number): void {
  const lru = folio_lru_list(pages, pfn)
  lruvec.lists[lru].del(pages, pfn)
  update_lru_size(lruvec, vmstat, pfn, lru, -1)
  if (lruvec.replacement !== null && lru !== LRU_UNEVICTABLE) lruvec.replacement.removed(lruvec, pfn, lru >> 1)
}

/** Kernel: folio_test_lru(). */
export function folio_test_lru(pages: PageArray, pfn: number): boolean {
  return pages.test(pfn, PG_lru)
}
