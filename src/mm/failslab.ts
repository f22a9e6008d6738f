/**
 * Kernel: mm/failslab.c: fault injection for slab allocations.
 * slab_pre_alloc_hook() asks should_failslab() and the allocation returns
 * NULL when it says yes. The bootstrap kmem_cache cache is never failed;
 * with cache_filter only caches created with SLAB_FAILSLAB are;
 * ignore_gfp_reclaim (default on) spares allocations that may sleep.
 */
import { FAULT_NOWARN, FaultAttr } from '../include/fault_inject.js'
import type { Printk } from '../include/printk.js'
import { __GFP_DIRECT_RECLAIM, __GFP_NOFAIL, __GFP_NOWARN, type gfp_t } from './gfp.js'

export class FailSlab extends FaultAttr {
  ignore_gfp_reclaim = true
  cache_filter = false

  constructor(seed: number, printk: Printk) {
    super('failslab', seed, printk)
  }

  /**
   * Kernel: __should_failslab(). `bootstrap` is s == kmem_cache; `failslab_flag`
   * whether the cache has SLAB_FAILSLAB.
   */
  should_failslab(object_size: number, gfp: gfp_t, bootstrap: boolean, failslab_flag: boolean): boolean {
    if (this.probability === 0 || bootstrap) return false
    if (gfp & __GFP_NOFAIL) return false
    if (this.ignore_gfp_reclaim && gfp & __GFP_DIRECT_RECLAIM) return false
    if (this.cache_filter && !failslab_flag) return false
    return this.should_fail(object_size, gfp & __GFP_NOWARN ? FAULT_NOWARN : 0)
  }
}
