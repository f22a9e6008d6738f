/**
 * LRU list operations (Kernel: mm/swap.c folio_add_lru(), lru_add(),
 * folio_mark_accessed(), folio_activate(), folio_deactivate(),
 * lru_note_cost(); mm/mlock.c's unevictable list for mlocked folios).
 *
 * Linux batches these per CPU (folio_batch) and drains at lru_add_drain();
 * the batches only delay when a folio reaches its list, and every reclaim
 * and every oracle sync point drains them first, so here a folio moves at
 * once. A folio in a batch that folio_mark_accessed() sees for the second
 * time is activated in place (__lru_cache_activate_folio): the same as
 * activating it on its list.
 */
import { type Lruvec, LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, lruvec_add_folio, lruvec_add_folio_tail, lruvec_del_folio, folio_is_file_lru, folio_lru_list } from './lruvec.js'
import type { MmEnv } from './mm_types.js'
import { PG_active, PG_dirty, PG_lru, PG_mlocked, PG_referenced, PG_swapbacked, PG_unevictable, PG_workingset } from './page.js'
import { PGACTIVATE, PGDEACTIVATE, PGROTATED } from './vm_event_item.js'
import { workingset_age_nonresident, workingset_refault } from './workingset.js'
import { trace_mm_lru_activate, trace_mm_lru_insertion } from './mm_trace.js'

/** SWAP_CLUSTER_MAX: the unit of reclaim work. */
export const SWAP_CLUSTER_MAX = 32

/**
 * A folio on its list whose flags change (active, swap-backed): off its
 * list, `change`, back at the head of the list the flags now name. Flags
 * that pick the list must never change while the folio is on one.
 */
function lru_move(env: MmEnv, pfn: number, change: () => void): void {
  const lruvec = env.memcg.folio_lruvec(pfn)
  lruvec_del_folio(lruvec, env.pages, env.vmstat, pfn)
  change()
  lruvec_add_folio(lruvec, env.pages, env.vmstat, pfn)
}

/**
 * The `lru` replacement policy's record of a use (replacement.ts): the
 * page moves to the young end of its list. Nothing for other policies.
 */
export function replacement_touch(env: MmEnv, pfn: number): void {
  const r = env.memcg.replacement
  if (r === null || r.policy !== 'lru') return
  const pages = env.pages
  if ((pages.flags[pfn] & ((1 << PG_lru) | (1 << PG_unevictable))) !== 1 << PG_lru) return
  // A move within one list: no list sizes change.
  const list = env.memcg.folio_lruvec(pfn).lists[folio_lru_list(pages, pfn)]
  if (list.head !== pfn) {
    list.del(pages, pfn)
    list.add(pages, pfn)
  }
  r.used(pfn)
}

/** Kernel: folio_evictable(): mlocked folios go on the unevictable list. */
export function folio_evictable(env: MmEnv, pfn: number): boolean {
  return !env.pages.test(pfn, PG_mlocked)
}

/** Kernel: folio_add_lru() + lru_add(): a new folio goes on its lruvec (inactive unless PG_active). */
export function folio_add_lru(env: MmEnv, pfn: number): void {
  const pages = env.pages
  // folio_evictable() and the flag updates as one read and one write of the flags word.
  let f = pages.flags[pfn]
  if ((f & (1 << PG_mlocked)) === 0) f &= ~(1 << PG_unevictable)
  else f = (f & ~(1 << PG_active)) | (1 << PG_unevictable)
  // Another replacement policy keeps every page inactive (replacement.ts).
  if (env.memcg.replacement !== null) f &= ~(1 << PG_active)
  pages.flags[pfn] = f | (1 << PG_lru)
  lruvec_add_folio(env.memcg.folio_lruvec(pfn), pages, env.vmstat, pfn)
  if (env.trace.enabled) trace_mm_lru_insertion(env, pfn)
}

/**
 * Kernel: folio_isolate_lru() without the reference: take the folio off its
 * list (it is being freed or moved). Clears PG_lru; other flags stay.
 */
export function folio_del_lru(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (!pages.test(pfn, PG_lru)) return
  lruvec_del_folio(env.memcg.folio_lruvec(pfn), pages, env.vmstat, pfn)
  pages.clear(pfn, PG_lru)
}

/** Kernel: __page_cache_release() / free: off the LRU, LRU flags cleared, uncharged. */
export function folio_release_lru(env: MmEnv, pfn: number): void {
  folio_del_lru(env, pfn)
  env.pages.flags[pfn] &= ~LRU_FLAGS_CLEARED_ON_FREE
  env.memcg.mem_cgroup_uncharge(pfn)
}
/** The flags folio_release_lru() clears. */
const LRU_FLAGS_CLEARED_ON_FREE = (1 << PG_active) | (1 << PG_unevictable) | (1 << PG_referenced) | (1 << PG_workingset)

/** Kernel: folio_activate() (lru_activate): an inactive folio on its list moves to the active head. */
export function folio_activate(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (env.memcg.replacement !== null) return
  if (!pages.test(pfn, PG_lru) || pages.test(pfn, PG_active) || pages.test(pfn, PG_unevictable)) return
  lru_move(env, pfn, () => pages.set(pfn, PG_active))
  env.vmstat.count_vm_event(PGACTIVATE)
  if (env.trace.enabled) trace_mm_lru_activate(env, pfn)
}

/**
 * Kernel: folio_mark_accessed(): the first access sets PG_referenced, the
 * second activates the folio (and ticks the workingset clock).
 */
export function folio_mark_accessed(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (env.memcg.replacement !== null) {
    // Another policy: a use for `lru`, a reference for `clock`'s hand; never an activation.
    pages.set(pfn, PG_referenced)
    replacement_touch(env, pfn)
    return
  }
  if (!pages.test(pfn, PG_referenced)) {
    pages.set(pfn, PG_referenced)
  } else if (pages.test(pfn, PG_unevictable)) {
    // Unevictable folios stay where they are.
  } else if (!pages.test(pfn, PG_active)) {
    if (pages.test(pfn, PG_lru)) folio_activate(env, pfn)
    else pages.set(pfn, PG_active)
    pages.clear(pfn, PG_referenced)
    workingset_age_nonresident(env.memcg, env.memcg.folio_lruvec(pfn), 1)
  }
}

/**
 * Kernel: folio_rotate_reclaimable() -> lru_move_tail(): writeback ended on
 * a folio reclaim had marked PG_reclaim (it found it dirty or under
 * writeback); if it is still on an LRU, clean and evictable, it goes to the
 * tail of the inactive list, inactive again, to be the next one reclaimed
 * (pgrotated).
 */
export function folio_rotate_reclaimable(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (pages.test(pfn, PG_dirty) || pages.test(pfn, PG_unevictable) || !pages.test(pfn, PG_lru)) return
  const lruvec = env.memcg.folio_lruvec(pfn)
  lruvec_del_folio(lruvec, pages, env.vmstat, pfn)
  pages.clear(pfn, PG_active)
  lruvec_add_folio_tail(lruvec, pages, env.vmstat, pfn)
  env.vmstat.count_vm_event(PGROTATED)
}

/** Kernel: folio_deactivate() (lru_deactivate, MADV_COLD): an active folio moves to the inactive head. */
export function folio_deactivate(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (!pages.test(pfn, PG_lru) || pages.test(pfn, PG_unevictable) || !pages.test(pfn, PG_active)) return
  lru_move(env, pfn, () => {
    pages.clear(pfn, PG_active)
    pages.clear(pfn, PG_referenced)
  })
  env.vmstat.count_vm_event(PGDEACTIVATE)
}

/**
 * Kernel: folio_mark_lazyfree() (lru_lazyfree, MADV_FREE): a clean
 * anonymous folio stops being swap-backed and moves to the inactive file
 * list, to be discarded rather than swapped.
 */
export function folio_mark_lazyfree(env: MmEnv, pfn: number): void {
  const pages = env.pages
  const change = (): void => {
    pages.clear(pfn, PG_active)
    pages.clear(pfn, PG_referenced)
    pages.clear(pfn, PG_swapbacked)
  }
  if (pages.test(pfn, PG_lru) && !pages.test(pfn, PG_unevictable)) lru_move(env, pfn, change)
  else change()
}

/**
 * Kernel: lru_note_cost(): reclaim cost of a list type (I/O counts
 * SWAP_CLUSTER_MAX per page, rotations 1), up the hierarchy, halved when
 * it outgrows a quarter of the LRU so it follows recent behaviour.
 */
export function lru_note_cost(env: MmEnv, lruvec: Lruvec, file: boolean, nr_io: number, nr_rotated: number): void {
  const cost = nr_io * SWAP_CLUSTER_MAX + nr_rotated
  if (!cost) return
  for (let g = env.memcg.by_id.get(lruvec.memcg_id) ?? null; g; g = g.parent) {
    const lv = g.lruvec
    const f = lv.flushed
    const lrusize = f[LRU_INACTIVE_ANON] + f[LRU_ACTIVE_ANON] + f[LRU_INACTIVE_FILE] + f[LRU_ACTIVE_FILE]
    if (file) lv.file_cost += cost
    else lv.anon_cost += cost
    if (lv.file_cost + lv.anon_cost > Math.floor(lrusize / 4)) {
      lv.file_cost = Math.floor(lv.file_cost / 2)
      lv.anon_cost = Math.floor(lv.anon_cost / 2)
    }
  }
}

/**
 * Kernel: workingset_refault() of a folio read back where `shadow` was, with
 * lru_note_cost_refault() (a refaulting workingset page costs one page of
 * I/O on its type) — the one cost workingset.ts cannot reach itself.
 */
export function folio_refault(env: MmEnv, pfn: number, shadow: number): void {
  workingset_refault(env.memcg, env.pages, env.vmstat, pfn, shadow, (lruvec, file, nr_io) => lru_note_cost(env, lruvec, file, nr_io, 0))
}

export { folio_is_file_lru }
