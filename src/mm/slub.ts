/**
 * SLUB, the default slab allocator (Kernel: mm/slub.c, 6.18 without
 * sheaves, CONFIG_SLUB_CPU_PARTIAL=y, CONFIG_SLUB_DEBUG=y).
 *
 * Each CPU allocates from its cpu slab through a lockless freelist
 * (kmem_cache_cpu.freelist); frees to the cpu slab go back to that list,
 * frees to any other slab go to the slab's own freelist. A slab that gets
 * its first free while full moves to the per-cpu partial list; when that
 * list holds cpu_partial_slabs it is drained to the node partial list.
 * Empty slabs are given back to the page allocator once the node keeps
 * min_partial partial slabs. Caches with debug flags bypass the per-cpu
 * structures and allocate/free one object at a time under the node lock.
 *
 * Free pointers are stored in the free objects themselves, at s->offset.
 *
 * Invariants (checked by check_slab() in slab_check.ts):
 *  - every object of a slab is exactly one of: on the cpu freelist, on the
 *    slab freelist, allocated (state 1), or leaked after a corruption (2);
 *  - a cpu slab is frozen with inuse == objects - (objects freed to it
 *    from other cpus, on the slab freelist); any other slab has
 *    inuse == objects - (objects on its freelist);
 *  - a slab is on at most one of: a cpu slab, a per-cpu partial list, the
 *    node partial list, the node full list; slabs on partial lists have
 *    free objects;
 *  - node nr_slabs / total_objects count all slabs of the cache.
 */
import {
  __GFP_DIRECT_RECLAIM,
  __GFP_HARDWALL,
  __GFP_IO,
  __GFP_FS,
  __GFP_KSWAPD_RECLAIM,
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
import {
  PAGE_SIZE,
  SLAB_KMALLOC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
  type KmemCacheArgs,
  type SlabInfo,
  type slab_flags_t,
} from './slab_h.js'
import type { PageAllocLike, SlabEnv, SlabRegistry } from './slab_env.js'
import {
  calculate_sizes,
  freeptr_outside_object,
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
const SHRINK_PROMOTE_MAX = 32

export interface SlubOptions {
  init_on_alloc: boolean
  init_on_free: boolean
  /** CONFIG_SLAB_FREELIST_HARDENED: obfuscate free pointers with a per-cache secret. */
  freelist_hardened: boolean
  /** Deterministic source for the per-cache secrets. */
  random32: () => number
}

export class Slub {
  readonly kind = 'slub' as const
  readonly debug: SlubDebug

  constructor(
    readonly env: SlabEnv,
    readonly pa: PageAllocLike,
    readonly registry: SlabRegistry<Slab>,
    readonly opts: SlubOptions,
  ) {
    this.debug = new SlubDebug(env)
  }

  private get mem() {
    return this.env.mem
  }

  /** The slab with this registry id (page->private - 1 of its head page). */
  slab_by_id(id: number): Slab | undefined {
    return this.registry.items[id]
  }

  // ------------------------------------------------------------ cache setup

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

  // ------------------------------------------------------------ slab pages

  /** Kernel: allocate_slab() / new_slab(): a slab with all objects on its freelist. */
  private new_slab(s: SlubCache, gfp: gfp_t): Slab | null {
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
  private setup_object(s: SlubCache, p: number): void {
    this.debug.setup_object_debug(s, p)
    if (s.ctor) s.ctor(p)
  }

  /** Kernel: __free_slab() / free_slab(). */
  private free_slab(s: SlubCache, slab: Slab): void {
    if (kmem_cache_debug(s)) {
      this.debug.slab_pad_check(s, slab)
      for (let i = 0; i < slab.objects; i++) if (slab.state[i] === 0) this.debug.check_object(s, slab, slab.obj(i), 0xbb)
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
  private discard_slab(s: SlubCache, slab: Slab): void {
    s.node.nr_slabs--
    s.node.total_objects -= slab.objects
    this.free_slab(s, slab)
  }

  // ------------------------------------------------------------ lists

  /** Kernel: __add_partial(). */
  private add_partial(n: KmemCacheNode, slab: Slab, tail: boolean): void {
    if (tail) n.partial.add_tail(slab)
    else n.partial.add_head(slab)
    slab.node_partial = true
    this.pa.pages.set(slab.pfn, PG_workingset)
  }
  /** Kernel: remove_partial(). */
  private remove_partial(n: KmemCacheNode, slab: Slab): void {
    n.partial.del(slab)
    slab.node_partial = false
    this.pa.pages.clear(slab.pfn, PG_workingset)
  }
  /** Kernel: add_full() / remove_full() (debug caches with SLAB_STORE_USER). */
  private add_full(s: SlubCache, n: KmemCacheNode, slab: Slab): void {
    if (!(s.flags & SLAB_STORE_USER)) return
    n.full.add_head(slab)
    slab.on_full = true
  }
  private remove_full(s: SlubCache, n: KmemCacheNode, slab: Slab): void {
    if (!(s.flags & SLAB_STORE_USER) || !slab.on_full) return
    n.full.del(slab)
    slab.on_full = false
  }

  /**
   * Walk a freelist that starts at `head`, stopping at a corrupt pointer as
   * freelist_corrupted() does (the rest of the chain is isolated and leaked).
   * Returns [tail, count].
   */
  private walk_freelist(s: SlubCache, slab: Slab, head: number): [number, number] {
    let tail = 0
    let count = 0
    for (let p = head; p; ) {
      const i = slab.obj_to_index(p)
      if (i < 0 || slab.state[i] !== 0 || count >= slab.objects) {
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

  /** Kernel: deactivate_slab(): give the cpu slab and its cpu freelist back to the node. */
  private deactivate_slab(s: SlubCache, slab: Slab, freelist: number): void {
    const n = s.node
    let to_tail = false
    if (slab.freelist) to_tail = true
    const [tail, free_delta] = this.walk_freelist(s, slab, freelist)
    slab.frozen = false
    if (tail) {
      slab.inuse -= free_delta
      set_freepointer(this.mem, s, tail, slab.freelist)
      slab.freelist = freelist
    }
    this.leak_unreachable(s, slab, 0)
    if (!slab.inuse && n.nr_partial >= s.min_partial) this.discard_slab(s, slab)
    else if (slab.freelist) this.add_partial(n, slab, to_tail)
  }

  /** Objects with state 0 no freelist reaches any more (after a cut) become leaked and count as in use. */
  private leak_unreachable(s: SlubCache, slab: Slab, cpu_freelist: number): void {
    const reach = this.debug.free_map(s, slab)
    for (let p = cpu_freelist, n = 0; p && n <= slab.objects; n++) {
      const i = slab.obj_to_index(p)
      if (i < 0) break
      reach[i] = 1
      p = get_freepointer(this.mem, s, p)
    }
    let free = 0
    for (let i = 0; i < slab.objects; i++) {
      if (slab.state[i] === 0 && !reach[i]) slab.state[i] = 2
      if (slab.state[i] === 0 && reach[i]) free++
    }
    if (!slab.frozen) slab.inuse = slab.objects - free
  }

  /** Kernel: __put_partials(): move a per-cpu partial chain to the node. */
  private __put_partials(s: SlubCache, partial: Slab | null): void {
    const n = s.node
    while (partial) {
      const slab = partial
      partial = slab.next
      slab.next = null
      slab.cpu_partial = -1
      if (!slab.inuse && n.nr_partial >= s.min_partial) this.discard_slab(s, slab)
      else this.add_partial(n, slab, true)
    }
  }

  /** Kernel: put_cpu_partial(). */
  private put_cpu_partial(s: SlubCache, slab: Slab, drain: boolean): void {
    const cpu = this.pa.cpu
    const c = s.cpu_slab[cpu]
    let oldslab = c.partial
    let slabs = 0
    let to_put: Slab | null = null
    if (oldslab) {
      if (drain && oldslab.slabs >= s.cpu_partial_slabs) {
        to_put = oldslab
        oldslab = null
      } else {
        slabs = oldslab.slabs
      }
    }
    slab.slabs = slabs + 1
    slab.next = oldslab
    slab.cpu_partial = cpu
    c.partial = slab
    if (to_put) this.__put_partials(s, to_put)
  }

  /** Kernel: flush_slab() + put_partials() for one cpu (flush_cpu_slab()). */
  private flush_cpu_slab(s: SlubCache, cpu: number): void {
    const c = s.cpu_slab[cpu]
    if (c.slab) {
      const slab = c.slab
      const freelist = c.freelist
      c.slab = null
      c.freelist = 0
      c.tid++
      this.deactivate_slab(s, slab, freelist)
    }
    const partial = c.partial
    c.partial = null
    this.__put_partials(s, partial)
  }

  /** Kernel: flush_all(). */
  flush_all(s: SlubCache): void {
    for (let cpu = 0; cpu < s.cpu_slab.length; cpu++) this.flush_cpu_slab(s, cpu)
  }

  // ------------------------------------------------------------ allocation

  /**
   * Kernel: slab_alloc_node(): fast path from the cpu freelist, slow path
   * otherwise. Returns the object address, or 0 when no memory is left.
   */
  alloc(s: SlubCache, gfp: gfp_t, orig_size: number, caller: string): number {
    let object: number
    if (kmem_cache_debug(s)) {
      object = this.alloc_debug(s, gfp, orig_size, caller)
    } else {
      const c = s.cpu_slab[this.pa.cpu]
      object = c.freelist
      const slab = c.slab
      if (object !== 0 && slab !== null) {
        const i = slab.obj_to_index(object)
        if (i < 0 || slab.state[i] !== 0) {
          // The cpu freelist points at something that is not a free object: cut it.
          this.debug.slab_err(s, slab, `Freepointer corrupt`)
          c.freelist = 0
          this.leak_unreachable(s, slab, 0)
          object = this.___slab_alloc(s, gfp, caller)
        } else {
          c.freelist = get_freepointer(this.mem, s, object)
          c.tid++
          slab.state[i] = 1
        }
      } else {
        object = this.___slab_alloc(s, gfp, caller)
      }
      if (object && this.opts.init_on_free && !freeptr_outside_object(s)) this.mem.memset(object + s.offset, 0, this.env.geo.ptr_size)
    }
    if (object === 0) return 0
    // slab_post_alloc_hook(): zeroing for __GFP_ZERO / init_on_alloc.
    if (this.want_init_on_alloc(s, gfp)) {
      let zero_size = s.object_size
      if (s.flags & (SLAB_STORE_USER | SLAB_RED_ZONE) && s.flags & SLAB_KMALLOC) zero_size = orig_size
      this.mem.memset(object, 0, zero_size)
    }
    return object
  }

  /** Kernel: slab_want_init_on_alloc(). */
  private want_init_on_alloc(s: SlubCache, gfp: gfp_t): boolean {
    if (this.opts.init_on_alloc) return !(s.ctor || s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))
    return (gfp & __GFP_ZERO) !== 0
  }
  /** Kernel: slab_want_init_on_free(). */
  private want_init_on_free(s: SlubCache): boolean {
    return this.opts.init_on_free && !(s.ctor || s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON))
  }

  /** Pop the first object of a freelist that was just loaded into the cpu slab. */
  private load_freelist(s: SlubCache, slab: Slab, freelist: number, caller: string, gfp: gfp_t): number {
    const c = s.cpu_slab[this.pa.cpu]
    const i = slab.obj_to_index(freelist)
    if (i < 0 || slab.state[i] !== 0) {
      this.debug.slab_err(s, slab, 'Freepointer corrupt')
      c.slab = null
      c.freelist = 0
      slab.frozen = false
      this.leak_unreachable(s, slab, 0)
      return this.___slab_alloc(s, gfp, caller)
    }
    c.freelist = get_freepointer(this.mem, s, freelist)
    c.tid++
    slab.state[i] = 1
    return freelist
  }

  /** Kernel: ___slab_alloc() for caches without debugging. */
  private ___slab_alloc(s: SlubCache, gfp: gfp_t, caller: string): number {
    const c = s.cpu_slab[this.pa.cpu]
    let slab = c.slab
    if (slab) {
      // get_freelist(): take the objects remote frees put on the slab's own list.
      const freelist = slab.freelist
      slab.freelist = 0
      slab.inuse = slab.objects
      slab.frozen = freelist !== 0
      if (freelist) return this.load_freelist(s, slab, freelist, caller, gfp)
      c.slab = null
      c.freelist = 0
      c.tid++
    }
    // new_slab: per-cpu partial slabs first.
    while (c.partial) {
      slab = c.partial
      c.partial = slab.next
      slab.next = null
      slab.cpu_partial = -1
      const freelist = this.freeze_slab(slab)
      if (freelist) {
        c.slab = slab
        return this.load_freelist(s, slab, freelist, caller, gfp)
      }
    }
    slab = this.get_partial_node(s)
    if (slab) {
      const freelist = this.freeze_slab(slab)
      c.slab = slab
      return this.load_freelist(s, slab, freelist, caller, gfp)
    }
    slab = this.new_slab(s, gfp)
    if (!slab) {
      this.slab_out_of_memory(s, gfp)
      return 0
    }
    const freelist = slab.freelist
    slab.freelist = 0
    slab.inuse = slab.objects
    slab.frozen = true
    s.node.nr_slabs++
    s.node.total_objects += slab.objects
    c.slab = slab
    return this.load_freelist(s, slab, freelist, caller, gfp)
  }

  /** Kernel: freeze_slab(): take a slab's whole freelist for a cpu. */
  private freeze_slab(slab: Slab): number {
    const freelist = slab.freelist
    slab.freelist = 0
    slab.inuse = slab.objects
    slab.frozen = true
    return freelist
  }

  /** Kernel: get_partial_node(): one slab for the cpu, more onto the per-cpu partial list. */
  private get_partial_node(s: SlubCache): Slab | null {
    const n = s.node
    let partial: Slab | null = null
    let partial_slabs = 0
    for (const slab of n.partial) {
      this.remove_partial(n, slab)
      if (!partial) {
        partial = slab
        if (s.cpu_partial_slabs === 0) break
      } else {
        this.put_cpu_partial(s, slab, false)
        if (++partial_slabs > Math.floor(s.cpu_partial_slabs / 2)) break
      }
    }
    return partial
  }

  /** Kernel: the debug branch of ___slab_alloc(): alloc_single_from_partial() / alloc_single_from_new_slab(). */
  private alloc_debug(s: SlubCache, gfp: gfp_t, orig_size: number, caller: string): number {
    const n = s.node
    for (const slab of n.partial) {
      const object = slab.freelist
      const i = slab.obj_to_index(object)
      slab.freelist = get_freepointer(this.mem, s, object)
      slab.inuse++
      if (!this.debug.alloc_debug_processing(s, slab, object, orig_size, caller) || i < 0 || slab.state[i] !== 0) {
        if (i >= 0 && slab.state[i] === 0) slab.state[i] = 2
        this.remove_partial(n, slab)
        this.leak_unreachable(s, slab, 0)
        continue
      }
      slab.state[i] = 1
      if (slab.inuse === slab.objects) {
        this.remove_partial(n, slab)
        this.add_full(s, n, slab)
      }
      return object
    }
    const slab = this.new_slab(s, gfp)
    if (!slab) {
      this.slab_out_of_memory(s, gfp)
      return 0
    }
    const object = slab.freelist
    slab.freelist = get_freepointer(this.mem, s, object)
    slab.inuse = 1
    n.nr_slabs++
    n.total_objects += slab.objects
    if (!this.debug.alloc_debug_processing(s, slab, object, orig_size, caller)) return 0
    slab.state[0] = 1
    if (slab.inuse === slab.objects) this.add_full(s, n, slab)
    else this.add_partial(n, slab, false)
    return object
  }

  /** Kernel: slab_out_of_memory(). */
  private slab_out_of_memory(s: SlubCache, gfp: gfp_t): void {
    if (gfp & __GFP_NOWARN) return
    const p = this.env.printk
    const n = s.node
    let nr_free = 0
    for (const slab of n.partial) nr_free += slab.objects - slab.inuse
    p.pr_warn(`SLUB: Unable to allocate memory on CPU ${this.pa.cpu} (of node 0) on node -1, gfp=${format_gfp(gfp)}`)
    p.pr_warn(`  cache: ${s.name}, object size: ${s.object_size}, buffer size: ${s.size}, default order: ${s.order}, min order: ${s.min_order}`)
    p.pr_warn(`  node 0: slabs: ${n.nr_slabs}, objs: ${n.total_objects}, free: ${nr_free}`)
  }

  // ------------------------------------------------------------ freeing

  /**
   * Kernel: slab_free(): free object `x` of `slab` (which belongs to s).
   * A pointer that is not a live object is reported, never freed.
   */
  free(s: SlubCache, slab: Slab, x: number, caller: string): void {
    if (kmem_cache_debug(s)) {
      this.free_to_partial_list(s, slab, x, caller)
      return
    }
    const i = slab.obj_to_index(x)
    if (i < 0) {
      this.debug.slab_err(s, slab, `Invalid object pointer ${this.mem.p(x)}`)
      return
    }
    if (slab.state[i] !== 1) {
      this.debug.object_err(s, slab, x, 'Object already free')
      return
    }
    // slab_free_hook(): init_on_free wipes the object and the metadata after it.
    if (this.want_init_on_free(s)) {
      this.mem.memset(x, 0, s.object_size)
      this.mem.memset(x + s.inuse, 0, s.size - s.inuse)
    }
    slab.state[i] = 0
    const c = s.cpu_slab[this.pa.cpu]
    if (slab === c.slab) {
      // do_slab_free() fast path.
      set_freepointer(this.mem, s, x, c.freelist)
      c.freelist = x
      c.tid++
      return
    }
    this.__slab_free(s, slab, x)
  }

  /** Kernel: __slab_free(): free to a slab that is not this cpu's slab. */
  private __slab_free(s: SlubCache, slab: Slab, x: number): void {
    const prior = slab.freelist
    set_freepointer(this.mem, s, x, prior)
    slab.freelist = x
    slab.inuse--
    const was_frozen = slab.frozen
    if (was_frozen) return
    if (!prior) {
      // A full slab got its first free object: onto this cpu's partial list.
      this.put_cpu_partial(s, slab, true)
      return
    }
    if (!slab.node_partial) return // on a per-cpu partial list: leave it there
    const n = s.node
    if (!slab.inuse && n.nr_partial >= s.min_partial) {
      this.remove_partial(n, slab)
      this.discard_slab(s, slab)
    }
  }

  /** Kernel: free_to_partial_list(): the debug free path. */
  private free_to_partial_list(s: SlubCache, slab: Slab, x: number, caller: string): void {
    const n = s.node
    if (!this.debug.free_debug_processing(s, slab, x, caller)) return
    const i = slab.obj_to_index(x)
    if (i < 0) {
      this.debug.slab_err(s, slab, `Invalid object pointer ${this.mem.p(x)}`)
      return
    }
    if (slab.state[i] !== 1) {
      this.debug.object_err(s, slab, x, 'Object already free')
      return
    }
    slab.state[i] = 0
    const prior = slab.freelist
    slab.inuse--
    set_freepointer(this.mem, s, x, prior)
    slab.freelist = x
    let slab_free = false
    if (slab.inuse === 0 && n.nr_partial >= s.min_partial) slab_free = true
    if (!prior) {
      this.remove_full(s, n, slab)
      if (!slab_free) this.add_partial(n, slab, true)
    } else if (slab_free && slab.node_partial) {
      this.remove_partial(n, slab)
    }
    if (slab_free) this.discard_slab(s, slab)
  }

  // ------------------------------------------------------------ shrink / shutdown

  /** Kernel: __kmem_cache_do_shrink(): free empty partial slabs, fullest slabs first. Returns 1 if slabs remain. */
  shrink(s: SlubCache): number {
    this.flush_all(s)
    const n = s.node
    const promote: Slab[][] = Array.from({ length: SHRINK_PROMOTE_MAX }, () => [])
    const discard: Slab[] = []
    for (const slab of n.partial) {
      const free = slab.objects - slab.inuse
      if (free === slab.objects) {
        this.remove_partial(n, slab)
        discard.push(slab)
      } else if (free <= SHRINK_PROMOTE_MAX) {
        this.remove_partial(n, slab)
        promote[free - 1].push(slab)
      }
    }
    for (let i = SHRINK_PROMOTE_MAX - 1; i >= 0; i--) {
      for (let j = promote[i].length - 1; j >= 0; j--) this.add_partial(n, promote[i][j], false)
    }
    for (const slab of discard) this.discard_slab(s, slab)
    return n.nr_slabs ? 1 : 0
  }

  /** Kernel: __kmem_cache_shutdown(): 0 when the cache is empty, 1 when objects remain (listed in the log). */
  shutdown(s: SlubCache): number {
    this.flush_all(s)
    const n = s.node
    for (const slab of n.partial) {
      if (!slab.inuse) {
        this.remove_partial(n, slab)
        this.discard_slab(s, slab)
      } else {
        this.debug.list_slab_objects(s, slab)
      }
    }
    return n.nr_partial || n.nr_slabs ? 1 : 0
  }

  /** Kernel: get_slabinfo() (SLUB): cpu and cpu-partial slabs count as fully active. */
  get_slabinfo(s: SlubCache): SlabInfo {
    const n = s.node
    let nr_free = 0
    for (const slab of n.partial) nr_free += slab.objects - slab.inuse
    return {
      active_objs: n.total_objects - nr_free,
      num_objs: n.total_objects,
      active_slabs: n.nr_slabs,
      num_slabs: n.nr_slabs,
      shared_avail: 0,
      limit: 0,
      batchcount: 0,
      shared: 0,
      objects_per_slab: s.objects,
      cache_order: s.order,
    }
  }
}
