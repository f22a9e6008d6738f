/**
 * Kernel: mm/fail_page_alloc.c: fault injection for the page allocator.
 * __alloc_pages() asks should_fail_alloc_page() first (prepare_alloc_pages())
 * and returns NULL without the allocation-failure warning when it says yes.
 * The knobs besides the fault_attr ones, with Linux's defaults: allocations
 * that may sleep in reclaim (ignore_gfp_reclaim) and highmem ones
 * (ignore_gfp_highmem) are spared, and so are orders below min_order (1:
 * order-0 pages are spared by default).
 */
import { FAULT_NOWARN, FaultAttr } from '../include/fault_inject.js'
import type { Printk } from '../include/printk.js'
import { __GFP_DIRECT_RECLAIM, __GFP_HIGHMEM, __GFP_NOFAIL, __GFP_NOWARN, type gfp_t } from './gfp.js'

export class FailPageAlloc extends FaultAttr {
  ignore_gfp_highmem = true
  ignore_gfp_reclaim = true
  min_order = 1

  constructor(seed: number, printk: Printk) {
    super('fail_page_alloc', seed, printk)
  }

  /** Kernel: should_fail_alloc_page(). */
  should_fail_alloc_page(gfp: gfp_t, order: number): boolean {
    if (this.probability === 0) return false
    if (order < this.min_order) return false
    if (gfp & __GFP_NOFAIL) return false
    if (this.ignore_gfp_highmem && gfp & __GFP_HIGHMEM) return false
    if (this.ignore_gfp_reclaim && gfp & __GFP_DIRECT_RECLAIM) return false
    return this.should_fail(1 << order, gfp & __GFP_NOWARN ? FAULT_NOWARN : 0)
  }
}
