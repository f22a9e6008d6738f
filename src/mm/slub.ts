/**
 * SLUB, the default slab allocator (Kernel: mm/slub.c, 6.18 with
 * CONFIG_SLUB_CPU_PARTIAL=y, CONFIG_SLUB_DEBUG=y; per-cpu sheaves for the
 * caches that ask for them, see slub_sheaf.ts).
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
 *    slab freelist, allocated (OBJ_ALLOCATED; OBJ_IN_SHEAF when parked in a
 *    sheaf), or leaked after a corruption (OBJ_LEAKED);
 *  - a cpu slab is frozen with inuse == objects - (objects freed to it
 *    from other cpus, on the slab freelist); any other slab has
 *    inuse == objects - (objects on its freelist);
 *  - a slab is on at most one of: a cpu slab, a per-cpu partial list, the
 *    node partial list, the node full list; slabs on partial lists have
 *    free objects;
 *  - node nr_slabs / total_objects count all slabs of the cache.
 */
import { __GFP_ZERO, GFP_KERNEL, type gfp_t } from './gfp.js'
import { SLAB_KMALLOC, SLAB_RED_ZONE, SLAB_STORE_USER, type KmemCacheArgs, type SlabGeometry, type SlabInfo, type slab_flags_t, OBJ_ALLOCATED, OBJ_FREE, OBJ_IN_SHEAF, OBJ_LEAKED } from './slab_h.js'
import { alloc_from_pcs, barn_shrink, free_to_pcs, init_sheaves, pcs_flush_all, release_sheaves } from './slub_sheaf.js'
import { freeptr_outside_object, get_freepointer, kmem_cache_debug, set_freepointer, type Slab, type SlubCache } from './slub_cache.js'
import { SlubSlabs } from './slub_slab.js'

export type { SlubOptions } from './slub_slab.js'

const SHRINK_PROMOTE_MAX = 32

export class Slub extends SlubSlabs {
  readonly kind = 'slub' as const
  /** kmalloc()/kfree() for sheaves and barns, installed once the kmalloc caches exist. */
  kmalloc_hook: ((size: number, gfp: gfp_t, caller: string) => number) | null = null
  kfree_hook: ((x: number, caller: string) => void) | null = null

  /** Kernel: do_kmem_cache_create(), with per-cpu sheaves when the args ask for them (and the cache does not debug). */
  override create(name: string, size: number, args: KmemCacheArgs, flags: slab_flags_t): SlubCache | null {
    const s = super.create(name, size, args, flags)
    if (s && args.sheaf_capacity && !kmem_cache_debug(s) && this.kmalloc_hook && !init_sheaves(this, s, args.sheaf_capacity)) {
      this.release(s)
      return null
    }
    return s
  }

  // ------------------------------------------------------------ lists

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
    pcs_flush_all(this, s)
    for (let cpu = 0; cpu < s.cpu_slab.length; cpu++) this.flush_cpu_slab(s, cpu)
  }

  // ------------------------------------------------------------ allocation

  /**
   * Kernel: slab_alloc_node(): fast path from the cpu freelist, slow path
   * otherwise. Returns the object address, or 0 when no memory is left.
   */
  alloc(s: SlubCache, gfp: gfp_t, orig_size: number, caller: string): number {
    let object = 0
    if (kmem_cache_debug(s)) {
      object = this.alloc_debug(s, gfp, orig_size, caller)
    } else {
      if (s.cpu_sheaves) {
        object = alloc_from_pcs(this, s, gfp, caller)
        if (object) this.alloc_src = 'sheaf'
      }
      if (!object) object = this.__slab_alloc_node(s, gfp, caller)
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

  /** The cpu-slab part of slab_alloc_node(): an object marked OBJ_ALLOCATED, or 0. */
  __slab_alloc_node(s: SlubCache, gfp: gfp_t, caller: string): number {
    const c = s.cpu_slab[this.pa.cpu]
    const object = c.freelist
    const slab = c.slab
    if (object === 0 || slab === null) return this.___slab_alloc(s, gfp, caller)
    const i = slab.obj_to_index(object)
    if (i < 0 || slab.state[i] !== OBJ_FREE) {
      // The cpu freelist points at something that is not a free object: cut it.
      this.debug.slab_err(s, slab, `Freepointer corrupt`)
      c.freelist = 0
      this.leak_unreachable(s, slab, 0)
      return this.___slab_alloc(s, gfp, caller)
    }
    c.freelist = get_freepointer(this.mem, s, object)
    c.tid++
    slab.state[i] = OBJ_ALLOCATED
    return object
  }

  // ------------------------------------------------------------ sheaves (slub_sheaf.ts)

  /** kzalloc() for sheaves and barns (0 before kmalloc is up). */
  kzalloc(size: number, caller: string): number {
    return this.kmalloc_hook ? this.kmalloc_hook(size, GFP_KERNEL | __GFP_ZERO, caller) : 0
  }
  kfree(x: number, caller: string): void {
    this.kfree_hook?.(x, caller)
  }
  get geo(): SlabGeometry {
    return this.env.geo
  }
  cpu(): number {
    return this.pa.cpu
  }
  slab_alloc(s: SlubCache, gfp: gfp_t, caller: string): number {
    return this.__slab_alloc_node(s, gfp, caller)
  }
  slab_free(s: SlubCache, slab: Slab, x: number): void {
    this.do_slab_free(s, slab, x)
  }

  /** Set an object's simulator state (OBJ_IN_SHEAF: parked in a sheaf); returns its slab. */
  set_state(s: SlubCache, x: number, state: number): Slab {
    const head = this.pa.compound_head(this.mem.pfn_of(x))
    const slab = this.registry.items[this.pa.pages.private[head] - 1] as Slab
    slab.state[slab.obj_to_index(x)] = state
    return slab
  }

  /** Kernel: __kmem_cache_release(): the main sheaves and the barn go back to kmalloc. */
  release(s: SlubCache): void {
    release_sheaves(this, s)
  }

  /** Pop the first object of a freelist that was just loaded into the cpu slab. */
  private load_freelist(s: SlubCache, slab: Slab, freelist: number, caller: string, gfp: gfp_t): number {
    const c = s.cpu_slab[this.pa.cpu]
    const i = slab.obj_to_index(freelist)
    if (i < 0 || slab.state[i] !== OBJ_FREE) {
      this.debug.slab_err(s, slab, 'Freepointer corrupt')
      c.slab = null
      c.freelist = 0
      slab.frozen = false
      this.leak_unreachable(s, slab, 0)
      return this.___slab_alloc(s, gfp, caller)
    }
    c.freelist = get_freepointer(this.mem, s, freelist)
    c.tid++
    slab.state[i] = OBJ_ALLOCATED
    return freelist
  }

  /**
   * For explanations: where the last slow-path allocation found its object
   * ('' after the fast path: the cpu slab's freelist), and the slab. Set on
   * the slow path only, so the fast path pays nothing; the caller clears it.
   */
  alloc_src: '' | 'sheaf' | 'remote' | 'cpu_partial' | 'node_partial' | 'new_slab' | 'debug_partial' | 'debug_new' = ''

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
      this.alloc_src = 'remote'
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
        this.alloc_src = 'cpu_partial'
        return this.load_freelist(s, slab, freelist, caller, gfp)
      }
    }
    slab = this.get_partial_node(s)
    if (slab) {
      const freelist = this.freeze_slab(slab)
      c.slab = slab
      this.alloc_src = 'node_partial'
      return this.load_freelist(s, slab, freelist, caller, gfp)
    }
    slab = this.new_slab(s, gfp)
    if (!slab) {
      this.slab_out_of_memory(s, gfp)
      return 0
    }
    this.alloc_src = 'new_slab'
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
      if (!this.debug.alloc_debug_processing(s, slab, object, orig_size, caller) || i < 0 || slab.state[i] !== OBJ_FREE) {
        if (i >= 0 && slab.state[i] === OBJ_FREE) slab.state[i] = OBJ_LEAKED
        this.remove_partial(n, slab)
        this.leak_unreachable(s, slab, 0)
        continue
      }
      slab.state[i] = OBJ_ALLOCATED
      if (slab.inuse === slab.objects) {
        this.remove_partial(n, slab)
        this.add_full(s, n, slab)
      }
      this.alloc_src = 'debug_partial'
      return object
    }
    const slab = this.new_slab(s, gfp)
    if (!slab) {
      this.slab_out_of_memory(s, gfp)
      return 0
    }
    this.alloc_src = 'debug_new'
    const object = slab.freelist
    slab.freelist = get_freepointer(this.mem, s, object)
    slab.inuse = 1
    n.nr_slabs++
    n.total_objects += slab.objects
    if (!this.debug.alloc_debug_processing(s, slab, object, orig_size, caller)) return 0
    slab.state[0] = OBJ_ALLOCATED
    if (slab.inuse === slab.objects) this.add_full(s, n, slab)
    else this.add_partial(n, slab, false)
    return object
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
    const i = this.live_object_index(s, slab, x)
    if (i < 0) return
    // slab_free_hook(): init_on_free wipes the object and the metadata after it.
    if (this.want_init_on_free(s)) {
      this.mem.memset(x, 0, s.object_size)
      this.mem.memset(x + s.inuse, 0, s.size - s.inuse)
    }
    if (s.cpu_sheaves) {
      slab.state[i] = OBJ_IN_SHEAF
      if (free_to_pcs(this, s, x)) return
      slab.state[i] = OBJ_ALLOCATED
    }
    this.do_slab_free(s, slab, x)
  }

  /** Kernel: do_slab_free(): to the cpu freelist if the object is in the cpu slab, else __slab_free(). */
  do_slab_free(s: SlubCache, slab: Slab, x: number): void {
    slab.state[slab.obj_to_index(x)] = OBJ_FREE
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

  /**
   * The index of live object `x` in `slab`, or -1 after reporting a pointer
   * that is not one (inside the slab but not an object start, or already free).
   */
  private live_object_index(s: SlubCache, slab: Slab, x: number): number {
    const i = slab.obj_to_index(x)
    if (i < 0) {
      this.debug.slab_err(s, slab, `Invalid object pointer ${this.mem.p(x)}`)
      return -1
    }
    if (slab.state[i] !== OBJ_ALLOCATED) {
      this.debug.object_err(s, slab, x, 'Object already free')
      return -1
    }
    return i
  }

  /** Kernel: free_to_partial_list(): the debug free path. */
  private free_to_partial_list(s: SlubCache, slab: Slab, x: number, caller: string): void {
    const n = s.node
    if (!this.debug.free_debug_processing(s, slab, x, caller)) return
    const i = this.live_object_index(s, slab, x)
    if (i < 0) return
    slab.state[i] = OBJ_FREE
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
    barn_shrink(this, s)
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
    barn_shrink(this, s)
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
