/**
 * Page reclaim (Kernel: mm/vmscan.c). For now only reclaim_pages(), what
 * MADV_PAGEOUT hands its folios to; the LRU scanning reclaim comes with
 * the LRU lists.
 */
import type { MmEnv } from './mm_types.js'
import { PG_dirty, PG_mlocked, PG_swapbacked, PG_swapcache } from './page.js'
import { put_page } from './rmap.js'
import { try_to_unmap } from './rmap_unmap.js'
import { swap_writepage } from './page_io.js'
import { __delete_from_swap_cache, add_to_swap } from './swap_state.js'
import { put_swap_folio } from './swapfile.js'
import { delete_from_page_cache } from './shmem.js'
import { try_to_unmap_file_page } from './truncate.js'
import { PGLAZYFREED } from './vm_event_item.js'

/**
 * Kernel: reclaim_pages() -> reclaim_folio_list() -> shrink_folio_list()
 * for folios MADV_PAGEOUT isolated (each mapped by one PTE at most; the
 * caller holds no reference of its own). What shrink_folio_list() does to
 * them, and nothing more (no LRU, no activation, no memcg):
 *  - anonymous, swap-backed: a swap slot and the swap cache (add_to_swap;
 *    without free swap it stays), unmapped to its swap entry
 *    (try_to_unmap), written (swap_writepage) while dirty, then taken out of
 *    the swap cache and freed (__remove_mapping) once the write is done; a
 *    rotational area's write is still in flight then, and the folio stays
 *    in the swap cache for a later reclaim;
 *  - lazily freed (MADV_FREE): unmapped and freed when still clean;
 *  - file: unmapped; a clean page leaves the page cache, a dirty one stays
 *    (shmem's writeout to swap is not modelled: it stays too).
 * Returns the number of folios freed.
 */
export function reclaim_pages(env: MmEnv, pfns: readonly number[]): number {
  const pages = env.pages
  let freed = 0
  for (const pfn of pfns) {
    if (pages._refcount[pfn] === 0 || pages.test(pfn, PG_mlocked)) continue
    const m = pages.mapping[pfn]
    if (m > 0) {
      const mapping = env.mappings.get(m)
      if (!mapping) continue
      const index = pages.index[pfn]
      try_to_unmap_file_page(mapping, pfn, index)
      if (!pages.test(pfn, PG_dirty) && pages._mapcount[pfn] === 0) {
        delete_from_page_cache(env, mapping, index)
        freed++
      }
      continue
    }
    if (m === 0 && !pages.test(pfn, PG_swapcache)) continue
    if (!pages.test(pfn, PG_swapbacked)) {
      // MADV_FREE'd: try_to_unmap() drops it when clean (its last reference goes with the PTE).
      if (try_to_unmap(env, pfn)) {
        env.vmstat.count_vm_event(PGLAZYFREED)
        freed++
      }
      continue
    }
    if (!pages.test(pfn, PG_swapcache) && !add_to_swap(env, pfn)) continue // no swap: keep (activate)
    if (pages._mapcount[pfn] > 0 && !try_to_unmap(env, pfn)) continue
    if (pages.test(pfn, PG_dirty)) {
      // pageout(): only the swap cache holds the folio now.
      swap_writepage(env, pfn)
      const entry = pages.private[pfn]
      const si = env.swap.si_of(entry)
      if (!si?.bdev?.synchronous) continue // under writeback: kept
    }
    // __remove_mapping(): the swap cache's reference is the only one left.
    if (pages._refcount[pfn] !== 1) continue
    const entry = pages.private[pfn]
    // workingset_eviction() computes the shadow here once the workingset code exists.
    __delete_from_swap_cache(env, pfn, entry, 0)
    put_swap_folio(env, entry)
    put_page(env, pfn)
    freed++
  }
  return freed
}
