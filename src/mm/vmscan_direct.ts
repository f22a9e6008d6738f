/**
 * Direct reclaim as the page allocator's slow path calls it (Kernel:
 * mm/vmscan.c try_to_free_pages()). Reclaim itself (the LRU lists,
 * shrink_node, swap-out) lands with the LRU branch in src/mm/vmscan.ts;
 * until then there is nothing on any LRU to reclaim, so this honestly
 * reports no progress and the allocator goes on to the OOM killer, as Linux
 * does when reclaim finds nothing.
 */
import type { gfp_t } from './gfp.js'

/** Kernel: try_to_free_pages(): pages reclaimed (0: no progress). */
export type TryToFreePages = (gfp_mask: gfp_t, order: number) => number

/** The reclaim available before the LRU branch: none. */
export const try_to_free_pages: TryToFreePages = () => 0
