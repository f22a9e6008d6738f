/**
 * SLUB's slab pages and lists (Kernel: mm/slub.c allocate_slab(),
 * new_slab(), setup_object(), __free_slab(), discard_slab(),
 * __add_partial(), remove_partial(), add_full(), remove_full(),
 * do_kmem_cache_create(), slab_ksize(), slab_out_of_memory()).
 *
 * A new slab is a compound page block of s->order (or s->min order when the
 * first try fails) marked PGTY_slab, with page->private naming the slab;
 * its objects are set up (debug init, constructor) and threaded onto the
 * slab freelist in address order. Slab pages are accounted in
 * NR_SLAB_RECLAIMABLE_B or NR_SLAB_UNRECLAIMABLE_B while they live.
 * SL_partial is PG_workingset on the head page, as in Linux.
 *
 * Invariants: a slab is on the node partial list iff node_partial is set;
 * nr_slabs/total_objects of the node count every slab not yet discarded.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import {
  __GFP_DIRECT_RECLAIM,
  __GFP_HARDWALL,
  __GFP_IO,
  __GFP_FS,
  __GFP_MEMALLOC,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  __GFP_ZERO,
  format_gfp,
  type gfp_t,
} from './gfp.js'
import { PG_workingset, PGTY_none, PGTY_slab } from './page.js'
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './vmstat.js'
import { SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU, type KmemCacheArgs, type slab_flags_t, OBJ_FREE, OBJ_LEAKED, SLUB_RED_INACTIVE } from './slab_h.js'
import type { PageAllocLike, SlabEnv, SlabRegistry } from './slab_env.js'
import type { SlabMem } from './slab_mem.js'
import {
  calculate_sizes,
  get_freepointer,
  kmem_cache_debug,
  set_cpu_partial,
  set_freepointer,
  set_min_partial,
  Slab,
  SlubCache,
  type KmemCacheNode,
} from './slub_cache.js'
import { SlubDebug } from './slub_debug.js'

/** Kernel: GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK: what new_slab() keeps of the caller's mask. */
const GFP_NEW_SLAB_MASK =
  __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_HARDWALL | __GFP_THISNODE

export interface SlubOptions {
  init_on_alloc: boolean
  init_on_free: boolean
  /** CONFIG_SLAB_FREELIST_HARDENED: obfuscate free pointers with a per-cache secret. */
  freelist_hardened: boolean
  /** Deterministic source for the per-cache secrets. */
  random32: () => number
}

export class SlubSlabs {
  readonly debug: SlubDebug

  constructor(
    readonly env: SlabEnv,
    readonly pa: PageAllocLike,
    readonly registry: SlabRegistry<Slab>,
    readonly opts: SlubOptions,
  ) {
    this.debug = new SlubDebug(env)
  }

  get mem(): SlabMem {
    return this.env.mem
  }

  /** The slab with this registry id (page->private - 1 of its head page). */
  slab_by_id(id: number): Slab | undefined {
    return this.registry.items[id]
  }

  /** Kernel: do_kmem_cache_create() (SLUB part). Null when no slab can hold the object. */
  create(name: string, size: number, args: KmemCacheArgs, flags: slab_flags_t): SlubCache | null {
    const s = new SlubCache(name, size, args, flags, this.env.geo.nr_cpus)
    if (this.opts.freelist_hardened) {
      s.random_lo = this.opts.random32() >>> 0
      s.random_hi = this.opts.random32() | 0
      if (this.env.geo.ptr_size === 4) s.random_hi = 0
    }
    if (!calculate_sizes(this.env.geo, args, s)) return null
    set_min_partial(s)
    set_cpu_partial(s)
    return s
  }

  /** Kernel: slab_ksize(). */
  ksize(s: SlubCache): number {
    if (s.flags & (SLAB_RED_ZONE | SLAB_POISON)) return s.object_size
    if (s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER)) return s.inuse
    return s.size
  }

  /** Kernel: allocate_slab() / new_slab(): a slab with all objects on its freelist. */
  protected new_slab(s: SlubCache, gfp: gfp_t): Slab | null {
    const flags = (gfp & GFP_NEW_SLAB_MASK) | s.allocflags
    let alloc_gfp = (flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL
    if (alloc_gfp & __GFP_DIRECT_RECLAIM && s.order > s.min_order) alloc_gfp = (alloc_gfp | __GFP_NOMEMALLOC) & ~__GFP_RECLAIM
    let order = s.order
    let objects = s.objects
    let pfn = this.pa.alloc_pages(alloc_gfp, order)
    if (pfn < 0) {
      order = s.min_order
      objects = s.min_objects
      pfn = this.pa.alloc_pages(flags, order)
      if (pfn < 0) return null
    }
    const pages = this.pa.pages
    const id = this.registry.alloc_id()
    const slab = new Slab(id, s, pfn, order, this.pa.page_address(pfn), objects)
    this.registry.set(id, slab)
    pages.page_type[pfn] = PGTY_slab
    pages.private[pfn] = id + 1
    this.pa.vmstat.mod_node_page_state(s.flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B, PAGE_SIZE * 2 ** order)
    this.debug.setup_slab_debug(s, slab)
    // Thread the freelist through the objects in address order (no CONFIG_SLAB_FREELIST_RANDOM).
    let prev = 0
    for (let i = 0; i < objects; i++) {
      const p = slab.obj(i)
      this.setup_object(s, p)
      if (prev) set_freepointer(this.mem, s, prev, p)
      else slab.freelist = p
      prev = p
    }
    set_freepointer(this.mem, s, prev, 0)
    return slab
  }

  /** Kernel: setup_object(): debug init, then the constructor. */
  protected setup_object(s: SlubCache, p: number): void {
    this.debug.setup_object_debug(s, p)
    if (s.ctor) s.ctor(p)
  }

  /** Kernel: __free_slab() / free_slab(). */
  protected free_slab(s: SlubCache, slab: Slab): void {
    if (kmem_cache_debug(s)) {
      this.debug.slab_pad_check(s, slab)
      for (let i = 0; i < slab.objects; i++) if (slab.state[i] === OBJ_FREE) this.debug.check_object(s, slab, slab.obj(i), SLUB_RED_INACTIVE)
    }
    const pages = this.pa.pages
    pages.page_type[slab.pfn] = PGTY_none
    pages.private[slab.pfn] = 0
    pages.clear(slab.pfn, PG_workingset)
    this.pa.vmstat.mod_node_page_state(s.flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B, -PAGE_SIZE * 2 ** slab.order)
    this.registry.remove(slab.id)
    this.pa.__free_pages(slab.pfn, slab.order)
  }

  /** Kernel: discard_slab(). */
  protected discard_slab(s: SlubCache, slab: Slab): void {
    s.node.nr_slabs--
    s.node.total_objects -= slab.objects
    this.free_slab(s, slab)
  }

  /** Kernel: __add_partial(). */
  protected add_partial(n: KmemCacheNode, slab: Slab, tail: boolean): void {
    if (tail) n.partial.add_tail(slab)
    else n.partial.add_head(slab)
    slab.node_partial = true
    this.pa.pages.set(slab.pfn, PG_workingset)
  }

  /** Kernel: remove_partial(). */
  protected remove_partial(n: KmemCacheNode, slab: Slab): void {
    n.partial.del(slab)
    slab.node_partial = false
    this.pa.pages.clear(slab.pfn, PG_workingset)
  }

  /** Kernel: add_full() / remove_full() (debug caches with SLAB_STORE_USER). */
  protected add_full(s: SlubCache, n: KmemCacheNode, slab: Slab): void {
    if (!(s.flags & SLAB_STORE_USER)) return
    n.full.add_head(slab)
    slab.on_full = true
  }

  protected remove_full(s: SlubCache, n: KmemCacheNode, slab: Slab): void {
    if (!(s.flags & SLAB_STORE_USER) || !slab.on_full) return
    n.full.del(slab)
    slab.on_full = false
  }

  /**
   * Walk a freelist that starts at `head`, stopping at a corrupt pointer as
   * freelist_corrupted() does (the rest of the chain is isolated and leaked).
   * Returns [tail, count].
   */
  protected walk_freelist(s: SlubCache, slab: Slab, head: number): [number, number] {
    let tail = 0
    let count = 0
    for (let p = head; p; ) {
      const i = slab.obj_to_index(p)
      if (i < 0 || slab.state[i] !== OBJ_FREE || count >= slab.objects) {
        if (tail) {
          this.debug.object_err(s, slab, tail, 'Freechain corrupt')
          set_freepointer(this.mem, s, tail, 0)
        }
        break
      }
      tail = p
      count++
      p = get_freepointer(this.mem, s, p)
    }
    return [tail, count]
  }

  /** Objects with state 0 no freelist reaches any more (after a cut) become leaked and count as in use. */
  protected leak_unreachable(s: SlubCache, slab: Slab, cpu_freelist: number): void {
    const reach = this.debug.free_map(s, slab)
    for (let p = cpu_freelist, n = 0; p && n <= slab.objects; n++) {
      const i = slab.obj_to_index(p)
      if (i < 0) break
      reach[i] = 1
      p = get_freepointer(this.mem, s, p)
    }
    let free = 0
    for (let i = 0; i < slab.objects; i++) {
      if (slab.state[i] === OBJ_FREE && !reach[i]) slab.state[i] = OBJ_LEAKED
      if (slab.state[i] === OBJ_FREE && reach[i]) free++
    }
    if (!slab.frozen) slab.inuse = slab.objects - free
  }

  /** Kernel: slab_want_init_on_alloc(). */
  protected want_init_on_alloc(s: SlubCache, gfp: gfp_t): boolean {
    if (this.opts.init_on_alloc) return !(s.ctor || s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))
    return (gfp & __GFP_ZERO) !== 0
  }

  /** Kernel: slab_want_init_on_free(). */
  protected want_init_on_free(s: SlubCache): boolean {
    return this.opts.init_on_free && !(s.ctor || s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))
  }

  /** Kernel: slab_out_of_memory(). */
  protected slab_out_of_memory(s: SlubCache, gfp: gfp_t): void {
    if (gfp & __GFP_NOWARN) return
    const p = this.env.printk
    const n = s.node
    let nr_free = 0
    for (const slab of n.partial) nr_free += slab.objects - slab.inuse
    p.pr_warn(`SLUB: Unable to allocate memory on CPU ${this.pa.cpu} (of node 0) on node -1, gfp=${format_gfp(gfp)}`)
    p.pr_warn(`  cache: ${s.name}, object size: ${s.object_size}, buffer size: ${s.size}, default order: ${s.order}, min order: ${s.min_order}`)
    p.pr_warn(`  node 0: slabs: ${n.nr_slabs}, objs: ${n.total_objects}, free: ${nr_free}`)
  }
}
