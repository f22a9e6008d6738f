/**
 * Page reclaim on the two-list LRU (Kernel: mm/vmscan.c without MGLRU:
 * try_to_free_mem_cgroup_pages(), try_to_free_pages(),
 * do_try_to_free_pages(), shrink_node(), shrink_node_memcgs(),
 * shrink_lruvec(), get_scan_count(), prepare_scan_control(),
 * shrink_inactive_list(), shrink_active_list(), isolate_lru_folios(),
 * reclaim_pages()).
 *
 * A reclaim pass lowers the priority from 12 to 0; at each level every
 * evictable list of each group is scanned in steps of SWAP_CLUSTER_MAX, size
 * >> priority pages in all, split between anon and file by swappiness and
 * the recent cost of each, until nr_to_reclaim pages are freed. Active lists
 * are aged only when their inactive list is low (or refaults were seen).
 * Scans take from the tail (the oldest) and put survivors back at the head.
 * A machine booted with another replacement policy reclaims through
 * vmscan_replacement.ts instead, from shrink_lruvec() down.
 */
import { __GFP_FS, __GFP_IO, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, gfp_names } from './gfp.js'
import {
  type Lruvec,
  LRU_ACTIVE,
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  WORKINGSET_ANON,
  WORKINGSET_FILE,
  folio_is_file_lru,
  lruvec_del_folio,
} from './lruvec.js'
import type { MemCgroup } from './memcontrol.js'
import { type MmEnv, type NodeState, VM_EXEC, vm_flags_test } from './mm_types.js'
import { PG_active, PG_lru, PG_workingset } from './page.js'
import { folio_referenced } from './rmap.js'
import { SWAP_CLUSTER_MAX, folio_add_lru, folio_del_lru, folio_evictable, lru_note_cost } from './swap.js'
import { type FolioScan, move_folios_to_lru, reclaim_stat, shrink_folio_list, writeback_throttling_sane } from './vmscan_folio.js'
import { reclaim_throttle_writeback } from './vmscan_throttle.js'
import { wakeup_flusher_threads } from './fs_writeback.js'
import { shrink_lruvec_replacement } from './vmscan_replacement.js'
import { PGDEACTIVATE, PGREFILL, PGSCAN_ANON, PGSCAN_DIRECT, PGSCAN_KSWAPD, PGSTEAL_ANON, PGSTEAL_DIRECT, PGSTEAL_KSWAPD, ALLOCSTALL_DMA } from './vm_event_item.js'
import { NODE_STAT } from './vmstat.js'

/** DEF_PRIORITY: the first pass scans 1/4096 of each list. */
export const DEF_PRIORITY = 12
const MAX_SWAPPINESS = 200
const DEACTIVATE_ANON = 1
const DEACTIVATE_FILE = 2
const SCAN_EQUAL = 0
const SCAN_FRACT = 1
const SCAN_ANON = 2
const SCAN_FILE = 3

/** struct scan_control. */
export interface ScanControl extends FolioScan {
  nr_to_reclaim: number
  nr_reclaimed: number
  priority: number
  may_swap: boolean
  may_deactivate: number
  force_deactivate: boolean
  skipped_deactivate: boolean
  /** Walk every group of the target's subtree, not only until the goal is met (set for a retry). */
  memcg_full_walk: boolean
  cache_trim_mode: boolean
  file_is_tiny: boolean
  anon_cost: number
  file_cost: number
  /** Global reclaim: free pages and the sum of high watermarks, for file_is_tiny. */
  node: NodeState | null
  /** Kernel: current_is_kswapd(): kswapd's balance_pgdat() (kswapd.ts), not direct reclaim. */
  kswapd: boolean
}

export type { NodeState }

export function scan_control(target: MemCgroup | null, nr_to_reclaim: number, gfp: number, may_swap: boolean, node: NodeState | null): ScanControl {
  return {
    nr_to_reclaim,
    nr_reclaimed: 0,
    nr_scanned: 0,
    priority: DEF_PRIORITY,
    gfp_mask: gfp,
    may_unmap: true,
    may_writepage: true,
    may_swap,
    target_mem_cgroup: target,
    may_deactivate: 0,
    force_deactivate: false,
    skipped_deactivate: false,
    memcg_full_walk: false,
    cache_trim_mode: false,
    file_is_tiny: false,
    anon_cost: 0,
    file_cost: 0,
    node,
    kswapd: false,
  }
}

/** Kernel: cgroup_reclaim(). */
function cgroup_reclaim(sc: ScanControl): boolean {
  return sc.target_mem_cgroup !== null
}

/**
 * Kernel: isolate_lru_folios(): take up to nr_to_scan folios from the tail
 * of `lru` (oldest first, the order they are returned in).
 */
function isolate_lru_folios(env: MmEnv, lruvec: Lruvec, lru: number, nr_to_scan: number): number[] {
  const pages = env.pages
  const list = lruvec.lists[lru]
  const taken: number[] = []
  while (taken.length < nr_to_scan && list.tail >= 0) {
    const pfn = list.tail
    lruvec_del_folio(lruvec, pages, env.vmstat, pfn)
    pages.clear(pfn, PG_lru)
    taken.push(pfn)
  }
  // One zone of reclaim here (classzone ZONE_NORMAL's index on x86_64: 2), order 0, no folios skipped.
  if (env.trace.enabled) {
    env.trace.emit('mm_vmscan_lru_isolate', () =>
      `isolate_mode=0 classzone=2 order=0 nr_requested=${nr_to_scan} nr_scanned=${taken.length} nr_skipped=0 nr_taken=${taken.length} lru=${LRU_NAMES[lru]}`,
    )
  }
  return taken
}

/** Kernel: LRU_NAMES (include/trace/events/mmflags.h): the lru= of the vmscan tracepoints. */
const LRU_NAMES = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable']

/** Kernel: show_reclaim_flags(trace_reclaim_flags(file)). */
function reclaim_flags(file: boolean): string {
  return `${file ? 'RECLAIM_WB_FILE' : 'RECLAIM_WB_ANON'}|RECLAIM_WB_ASYNC`
}

/** Kernel: shrink_inactive_list(). */
function shrink_inactive_list(env: MmEnv, nr_to_scan: number, lruvec: Lruvec, sc: ScanControl, lru: number): number {
  const file = lru === LRU_INACTIVE_FILE ? 1 : 0
  const list = isolate_lru_folios(env, lruvec, lru, nr_to_scan)
  const nr_scanned = list.length
  const vm = env.vmstat
  if (!cgroup_reclaim(sc)) vm.count_vm_events(sc.kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, nr_scanned)
  vm.count_vm_events(PGSCAN_ANON + file, nr_scanned)
  const memcg = env.memcg.by_id.get(lruvec.memcg_id)!
  memcg.pgscan += nr_scanned
  if (nr_scanned === 0) return 0
  const stat = reclaim_stat()
  const kept: number[] = []
  const nr_reclaimed = shrink_folio_list(env, list, sc, stat, false, kept)
  move_folios_to_lru(env, lruvec, kept)
  if (!cgroup_reclaim(sc)) vm.count_vm_events(sc.kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, nr_reclaimed)
  vm.count_vm_events(PGSTEAL_ANON + file, nr_reclaimed)
  memcg.pgsteal += nr_reclaimed
  lru_note_cost(env, lruvec, file === 1, stat.nr_pageout, nr_scanned - nr_reclaimed)
  // Every folio taken was dirty and not queued for I/O: the flushers are behind. Wake them; cgroup v1
  // reclaim has no dirty throttling of its own, so it waits here for their writes to progress.
  if (stat.nr_unqueued_dirty === nr_scanned) {
    for (const bdi of stat.dirty_bdis ?? []) wakeup_flusher_threads(env, bdi)
    if (!writeback_throttling_sane(sc)) reclaim_throttle_writeback(env)
  }
  if (env.trace.enabled) {
    env.trace.emit('mm_vmscan_lru_shrink_inactive', () =>
      `nid=0 nr_scanned=${nr_scanned} nr_reclaimed=${nr_reclaimed} nr_dirty=${stat.nr_dirty} nr_writeback=${stat.nr_writeback} nr_congested=${stat.nr_congested} nr_immediate=${stat.nr_immediate} nr_activate_anon=${stat.nr_activate[0]} nr_activate_file=${stat.nr_activate[1]} nr_ref_keep=${stat.nr_ref_keep} nr_unmap_fail=${stat.nr_unmap_fail} priority=${sc.priority} flags=${reclaim_flags(file === 1)}`,
    )
  }
  return nr_reclaimed
}

/**
 * Kernel: shrink_active_list(): folios from the active tail go to the
 * inactive list (marked workingset), except referenced executable file
 * folios, which get another trip round the active list.
 */
export function shrink_active_list(env: MmEnv, nr_to_scan: number, lruvec: Lruvec, sc: ScanControl, lru: number): void {
  const pages = env.pages
  const list = isolate_lru_folios(env, lruvec, lru, nr_to_scan)
  if (!cgroup_reclaim(sc)) env.vmstat.count_vm_events(PGREFILL, list.length)
  const l_active: number[] = []
  const l_inactive: number[] = []
  let nr_rotated = 0
  for (const pfn of list) {
    if (!folio_evictable(env, pfn)) {
      folio_add_lru(env, pfn)
      continue
    }
    const r = folio_referenced(env, pfn, sc.target_mem_cgroup)
    if (r.referenced && vm_flags_test(r.vm_flags, VM_EXEC) && folio_is_file_lru(pages, pfn)) {
      nr_rotated++
      l_active.push(pfn)
      continue
    }
    pages.clear(pfn, PG_active)
    pages.set(pfn, PG_workingset)
    l_inactive.push(pfn)
  }
  move_folios_to_lru(env, lruvec, l_active)
  const nr_deactivate = move_folios_to_lru(env, lruvec, l_inactive)
  env.vmstat.count_vm_events(PGDEACTIVATE, nr_deactivate)
  if (env.trace.enabled) {
    env.trace.emit('mm_vmscan_lru_shrink_active', () =>
      `nid=0 nr_taken=${list.length} nr_active=${l_active.length} nr_deactivated=${nr_deactivate} nr_referenced=${nr_rotated} priority=${sc.priority} flags=${reclaim_flags(lru === LRU_ACTIVE_FILE)}`,
    )
  }
  if (nr_rotated) lru_note_cost(env, lruvec, lru === LRU_ACTIVE_FILE, 0, nr_rotated)
}

/** Kernel: shrink_list(). */
function shrink_list(env: MmEnv, lru: number, nr_to_scan: number, lruvec: Lruvec, sc: ScanControl): number {
  if (lru === LRU_ACTIVE_ANON || lru === LRU_ACTIVE_FILE) {
    if (sc.may_deactivate & (lru === LRU_ACTIVE_FILE ? DEACTIVATE_FILE : DEACTIVATE_ANON)) shrink_active_list(env, nr_to_scan, lruvec, sc, lru)
    else sc.skipped_deactivate = true
    return 0
  }
  return shrink_inactive_list(env, nr_to_scan, lruvec, sc, lru)
}

/**
 * Kernel: inactive_is_low(): the inactive list is smaller than active /
 * ratio (ratio sqrt(10 * GiB), 1 below 1 GiB), by the flushed statistics.
 */
export function inactive_is_low(lruvec: Lruvec, inactive_lru: number): boolean {
  const inactive = lruvec.flushed[inactive_lru]
  const active = lruvec.flushed[inactive_lru + LRU_ACTIVE]
  const gb = Math.floor((inactive + active) / 262144)
  const ratio = gb ? Math.floor(Math.sqrt(10 * gb)) : 1
  return inactive * ratio < active
}

/** Kernel: can_reclaim_anon_pages(): is there swap for this group? */
export function can_reclaim_anon_pages(env: MmEnv, memcg: MemCgroup | null): boolean {
  return env.memcg.get_nr_swap_pages(memcg ?? env.memcg.root) > 0
}

/** Kernel: prepare_scan_control(). */
function prepare_scan_control(env: MmEnv, sc: ScanControl): void {
  const target = (sc.target_mem_cgroup ?? env.memcg.root).lruvec
  sc.anon_cost = target.anon_cost
  sc.file_cost = target.file_cost
  if (!sc.force_deactivate) {
    // Refaults since the last reclaim mean a new workingset is forming: age the active list.
    if (target.flushed_activate[WORKINGSET_ANON] !== target.refaults[WORKINGSET_ANON] || inactive_is_low(target, LRU_INACTIVE_ANON)) sc.may_deactivate |= DEACTIVATE_ANON
    else sc.may_deactivate &= ~DEACTIVATE_ANON
    if (target.flushed_activate[WORKINGSET_FILE] !== target.refaults[WORKINGSET_FILE] || inactive_is_low(target, LRU_INACTIVE_FILE)) sc.may_deactivate |= DEACTIVATE_FILE
    else sc.may_deactivate &= ~DEACTIVATE_FILE
  } else sc.may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE
  // Plenty of inactive file pages that are not thrashing: reclaim those before touching anon.
  const file = target.flushed[LRU_INACTIVE_FILE]
  sc.cache_trim_mode = Math.floor(file / 2 ** sc.priority) > 0 && (sc.may_deactivate & DEACTIVATE_FILE) === 0
  if (!cgroup_reclaim(sc) && sc.node) {
    const free = sc.node.nr_free_pages()
    const files = env.vmstat.node_page_state(NODE_STAT.nr_active_file) + env.vmstat.node_page_state(NODE_STAT.nr_inactive_file)
    const anon = env.vmstat.node_page_state(NODE_STAT.nr_inactive_anon)
    sc.file_is_tiny = files + free <= sc.node.total_high_wmark() && (sc.may_deactivate & DEACTIVATE_ANON) === 0 && Math.floor(anon / 2 ** sc.priority) > 0
  }
}

/** Kernel: get_scan_count(): how many pages of each evictable list to scan at this priority. */
function get_scan_count(env: MmEnv, lruvec: Lruvec, memcg: MemCgroup, sc: ScanControl): number[] {
  const swappiness = memcg.is_root ? env.sysctl.swappiness : memcg.swappiness
  let balance = SCAN_FRACT
  let fraction = [0, 0]
  let denominator = 1
  if (!sc.may_swap || !can_reclaim_anon_pages(env, memcg)) balance = SCAN_FILE
  else if (cgroup_reclaim(sc) && !swappiness) balance = SCAN_FILE
  else if (!sc.priority && swappiness) balance = SCAN_EQUAL
  else if (sc.file_is_tiny) balance = SCAN_ANON
  else if (sc.cache_trim_mode) balance = SCAN_FILE
  else {
    // Pressure on each type inversely proportional to its recent cost, at least a third before swappiness.
    let total_cost = sc.anon_cost + sc.file_cost
    const anon_cost = total_cost + sc.anon_cost
    const file_cost = total_cost + sc.file_cost
    total_cost = anon_cost + file_cost
    const ap = Math.floor((swappiness * (total_cost + 1)) / (anon_cost + 1))
    const fp = Math.floor(((MAX_SWAPPINESS - swappiness) * (total_cost + 1)) / (file_cost + 1))
    fraction = [ap, fp]
    denominator = ap + fp
  }
  const nr = [0, 0, 0, 0]
  for (let lru = LRU_INACTIVE_ANON; lru <= LRU_ACTIVE_FILE; lru++) {
    const file = lru >= LRU_FILE ? 1 : 0
    let scan = Math.floor(lruvec.size(lru) / 2 ** sc.priority)
    if (balance === SCAN_FRACT) scan = denominator ? Math.floor((scan * fraction[file]) / denominator) : 0
    else if (balance === SCAN_FILE || balance === SCAN_ANON) {
      if ((balance === SCAN_FILE) !== (file === 1)) scan = 0
    }
    nr[lru] = scan
  }
  return nr
}

/** Kernel: shrink_lruvec(). */
function shrink_lruvec(env: MmEnv, lruvec: Lruvec, memcg: MemCgroup, sc: ScanControl): void {
  if (env.memcg.replacement !== null) {
    // Another page-replacement policy: anonymous pages count when Linux would scan them at all.
    const swappiness = memcg.is_root ? env.sysctl.swappiness : memcg.swappiness
    const anon = sc.may_swap && can_reclaim_anon_pages(env, memcg) && !(cgroup_reclaim(sc) && !swappiness)
    shrink_lruvec_replacement(env, lruvec, memcg, sc, anon)
    return
  }
  const nr = get_scan_count(env, lruvec, memcg, sc)
  const targets = [...nr]
  const nr_to_reclaim = sc.nr_to_reclaim
  let nr_reclaimed = 0
  // Global direct reclaim at the first priority does its whole batch: kswapd is evidently behind.
  const proportional_reclaim = !cgroup_reclaim(sc) && !sc.kswapd && sc.priority === DEF_PRIORITY
  while (nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]) {
    for (let lru = LRU_INACTIVE_ANON; lru <= LRU_ACTIVE_FILE; lru++) {
      if (!nr[lru]) continue
      const n = Math.min(nr[lru], SWAP_CLUSTER_MAX)
      nr[lru] -= n
      nr_reclaimed += shrink_list(env, lru, n, lruvec, sc)
    }
    if (nr_reclaimed < nr_to_reclaim || proportional_reclaim) continue
    // Goal met: stop the smaller type, scale the other down to the share already done.
    const nr_file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE]
    const nr_anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON]
    if (!nr_file || !nr_anon) break
    let lru: number
    let percentage: number
    if (nr_file > nr_anon) {
      lru = LRU_INACTIVE_ANON
      percentage = Math.floor((nr_anon * 100) / (targets[LRU_INACTIVE_ANON] + targets[LRU_ACTIVE_ANON] + 1))
    } else {
      lru = LRU_INACTIVE_FILE
      percentage = Math.floor((nr_file * 100) / (targets[LRU_INACTIVE_FILE] + targets[LRU_ACTIVE_FILE] + 1))
    }
    nr[lru] = 0
    nr[lru + LRU_ACTIVE] = 0
    lru = lru === LRU_INACTIVE_FILE ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE
    for (const l of [lru, lru + LRU_ACTIVE]) {
      const scanned = targets[l] - nr[l]
      nr[l] = Math.floor((targets[l] * (100 - percentage)) / 100)
      nr[l] -= Math.min(nr[l], scanned)
    }
  }
  sc.nr_reclaimed += nr_reclaimed
  // Keep the anon lists balanced even when no anon was scanned.
  if (can_reclaim_anon_pages(env, memcg) && inactive_is_low(lruvec, LRU_INACTIVE_ANON)) shrink_active_list(env, SWAP_CLUSTER_MAX, lruvec, sc, LRU_ACTIVE_ANON)
}

/**
 * Kernel: shrink_node() with shrink_node_memcgs(): each group of the
 * target's subtree, until the goal (kswapd, and a full-walk retry, walk
 * them all). Reclaim that frees anything makes the node hopeful again for
 * kswapd.
 */
export function shrink_node(env: MmEnv, sc: ScanControl): void {
  const nr_reclaimed = sc.nr_reclaimed
  prepare_scan_control(env, sc)
  const target = sc.target_mem_cgroup ?? env.memcg.root
  for (const memcg of target.subtree()) {
    shrink_lruvec(env, memcg.lruvec, memcg, sc)
    if (!sc.kswapd && !sc.memcg_full_walk && sc.nr_reclaimed >= sc.nr_to_reclaim) break
  }
  if (sc.nr_reclaimed > nr_reclaimed) env.kswapd.kswapd_failures = 0
}

/**
 * Kernel: do_try_to_free_pages(): the priority loop, then the refault
 * snapshot. A loop that frees nothing is run again, first as a full walk
 * of the group tree, then deactivating active lists by force.
 */
function do_try_to_free_pages(env: MmEnv, sc: ScanControl): number {
  const initial_priority = sc.priority
  for (;;) {
    if (!cgroup_reclaim(sc)) env.vmstat.__count_zid_vm_events(ALLOCSTALL_DMA, 2, 1)
    do {
      sc.nr_scanned = 0
      shrink_node(env, sc)
      if (sc.nr_reclaimed >= sc.nr_to_reclaim) break
      if (sc.priority < DEF_PRIORITY - 2) sc.may_writepage = true
    } while (--sc.priority >= 0)
    const target = (sc.target_mem_cgroup ?? env.memcg.root).lruvec
    target.refaults[WORKINGSET_ANON] = target.flushed_activate[WORKINGSET_ANON]
    target.refaults[WORKINGSET_FILE] = target.flushed_activate[WORKINGSET_FILE]
    if (sc.nr_reclaimed) return sc.nr_reclaimed
    // A partial walk of the group tree may have missed the groups that could give: walk them all.
    // The priority loop runs again from the start, so folios the first pass only marked
    // referenced (young PTEs cleared) are reclaimed now.
    if (!sc.memcg_full_walk) {
      sc.priority = initial_priority
      sc.memcg_full_walk = true
      continue
    }
    // Nothing freed because active lists were never aged: try again, deactivating by force.
    if (sc.skipped_deactivate) {
      sc.priority = initial_priority
      sc.force_deactivate = true
      sc.skipped_deactivate = false
      continue
    }
    return 0
  }
}

/**
 * Kernel: try_to_free_mem_cgroup_pages(): reclaim at least nr_pages
 * (SWAP_CLUSTER_MAX at least) from memcg's subtree; pages freed.
 */
export function try_to_free_mem_cgroup_pages(env: MmEnv, memcg: MemCgroup, nr_pages: number, gfp: number, may_swap: boolean): number {
  const gfp_mask = (gfp & (__GFP_IO | __GFP_FS | GFP_KERNEL)) | (GFP_HIGHUSER_MOVABLE & ~GFP_KERNEL)
  // Another replacement policy frees just what the charge needs, so that a group of N pages is N frames.
  const nr_to_reclaim = env.memcg.replacement !== null ? nr_pages : Math.max(nr_pages, SWAP_CLUSTER_MAX)
  const sc = scan_control(memcg, nr_to_reclaim, gfp_mask, may_swap, null)
  if (env.trace.enabled) env.trace.emit('mm_vmscan_memcg_reclaim_begin', () => `order=0 gfp_flags=${gfp_flags_text(gfp_mask)}`)
  const n = do_try_to_free_pages(env, sc)
  if (env.trace.enabled) env.trace.emit('mm_vmscan_memcg_reclaim_end', () => `nr_reclaimed=${n}`)
  return n
}

/** show_gfp_flags(): the flag names without the hex prefix format_gfp prints. */
function gfp_flags_text(gfp: number): string {
  return gfp_names(gfp)
}

/** Kernel: try_to_free_pages(): direct reclaim for an allocation; pages freed. */
export function try_to_free_pages(env: MmEnv, gfp: number, node: NodeState, order = 0): number {
  const sc = scan_control(null, SWAP_CLUSTER_MAX, gfp, true, node)
  if (env.trace.enabled) env.trace.emit('mm_vmscan_direct_reclaim_begin', () => `order=${order} gfp_flags=${gfp_flags_text(gfp)}`)
  const n = do_try_to_free_pages(env, sc)
  if (env.trace.enabled) env.trace.emit('mm_vmscan_direct_reclaim_end', () => `nr_reclaimed=${n}`)
  return n
}

/**
 * Kernel: reclaim_pages() (MADV_PAGEOUT): these folios, taken off their
 * lists (those not on one are skipped), go through shrink_folio_list()
 * ignoring references; the ones it keeps go back on the inactive list.
 * Returns the number freed.
 */
export function reclaim_pages(env: MmEnv, folios: readonly number[]): number {
  const pages = env.pages
  const list: number[] = []
  for (const pfn of folios) {
    if (!pages.test(pfn, PG_lru)) continue
    folio_del_lru(env, pfn)
    pages.clear(pfn, PG_active)
    list.push(pfn)
  }
  const sc: FolioScan = { gfp_mask: GFP_KERNEL, may_unmap: true, may_writepage: true, target_mem_cgroup: null, nr_scanned: 0 }
  const kept: number[] = []
  const n = shrink_folio_list(env, list, sc, reclaim_stat(), true, kept)
  for (const pfn of kept) folio_add_lru(env, pfn)
  return n
}
