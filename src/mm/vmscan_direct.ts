/**
 * Direct reclaim as the page allocator's slow path sees it (Kernel:
 * mm/vmscan.c try_to_free_pages()). The allocator sits below the LRU
 * code, so the machine hands it src/mm/vmscan.ts's try_to_free_pages at
 * boot; an allocator built alone (unit tests) has no LRU lists and reclaims
 * nothing.
 */
import type { gfp_t } from './gfp.js'

/** Kernel: try_to_free_pages(): pages reclaimed (0: no progress). */
export type TryToFreePages = (gfp_mask: gfp_t, order: number) => number

/** An allocator without LRU lists: nothing to reclaim. */
export const try_to_free_pages: TryToFreePages = () => 0
