/**
 * The classic SLAB allocator of the textbooks (Kernel: mm/slab.c as of
 * 6.7, removed in 6.8; CONFIG_DEBUG_SLAB off).
 *
 * A cache keeps three slab lists per node: slabs_full, slabs_partial and
 * slabs_free. Each slab starts at a colour offset (colour_next * colour_off,
 * cycling through `colour` values) so objects of different slabs land on
 * different cache lines. Free objects of a slab are tracked by a freelist
 * array of object indices (freelist_idx_t, 2 bytes): entries [active, num)
 * are the free objects. The array lives at the end of the slab (on-slab),
 * in a kmalloc object (off-slab, for large objects), or inside the free
 * object that will be allocated last (OBJFREELIST). Each CPU has an
 * array_cache of `limit` object pointers refilled/flushed `batchcount` at a
 * time, and the node has a shared array of `shared * batchcount` entries;
 * /proc/slabinfo shows these tunables.
 *
 * Invariants (checked by check_slab()):
 *  - a slab's `active` counts its objects not on its freelist; objects in
 *    array caches count as active, and node free_objects counts only the
 *    free objects in slabs;
 *  - a slab is on slabs_full iff active == num, slabs_free iff active == 0;
 *  - total_slabs / free_slabs match the lists.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import {
  __GFP_FS,
  __GFP_HARDWALL,
  __GFP_IO,
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
import { PGTY_none, PGTY_slab } from './page.js'
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './vmstat.js'
import { ALIGN, get_order, KMALLOC_MAX_CACHE_SIZE, kmalloc_index, SLAB_CACHE_DMA, SLAB_CACHE_DMA32, SLAB_NOLEAKTRACE, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU, type KmemCacheArgs, type KmemCacheCommon, type SlabInfo, type slab_flags_t, OBJ_ALLOCATED, OBJ_FREE } from './slab_h.js'
import { __GFP_COMP, __GFP_DMA, __GFP_DMA32, __GFP_RECLAIMABLE } from './gfp.js'
import type { PageAllocLike, SlabEnv, SlabRegistry } from './slab_env.js'

/** Kernel: GFP_CONSTRAINT_MASK | GFP_RECLAIM_MASK, what cache_grow_begin() passes on. */
const GFP_GROW_MASK =
  __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_NOWARN | __GFP_RETRY_MAYFAIL | __GFP_NOFAIL | __GFP_NORETRY | __GFP_MEMALLOC | __GFP_NOMEMALLOC | __GFP_HARDWALL | __GFP_THISNODE
/** sizeof(freelist_idx_t): unsigned short with 4 KiB pages. */
const FREELIST_IDX_SIZE = 2
const SLAB_OBJ_MAX_NUM = 1 << (FREELIST_IDX_SIZE * 8)
const BATCHREFILL_LIMIT = 16
/** Kernel: KMALLOC_MAX_ORDER for SLAB (KMALLOC_SHIFT_MAX - PAGE_SHIFT). */
const KMALLOC_MAX_ORDER = 10
const CFLGS_OBJFREELIST_SLAB = 1 << 29
const CFLGS_OFF_SLAB = 1 << 30

/** Kernel: struct array_cache. */
export class ArrayCache {
  avail = 0
  touched = false
  readonly entry: number[] = []
  constructor(
    public limit: number,
    public batchcount: number,
  ) {}
}

/** Kernel: struct slab (SLAB view). */
export class ClassicSlabPage {
  readonly state: Uint8Array
  /** slab->active: objects handed out of this slab (allocated or in array caches). */
  active = 0
  /** slab->s_mem: address of object 0 (base + colour offset). */
  readonly s_mem: number
  /** Address of the freelist index array (0 for an OBJFREELIST slab that is full). */
  freelist = 0
  list: 'full' | 'partial' | 'free' = 'free'

  constructor(
    readonly id: number,
    readonly cache: SlabCacheClassic,
    readonly pfn: number,
    readonly order: number,
    readonly base: number,
    readonly colour_off: number,
  ) {
    this.s_mem = base + colour_off
    this.state = new Uint8Array(cache.num)
  }
  get objects(): number {
    return this.cache.num
  }
  /** Kernel: obj_to_index(); -1 when x is not an object start. */
  obj_to_index(x: number): number {
    const d = x - this.s_mem
    if (d < 0 || d % this.cache.size !== 0) return -1
    const i = d / this.cache.size
    return i < this.cache.num ? i : -1
  }
  /** Kernel: index_to_obj(). */
  obj(i: number): number {
    return this.s_mem + i * this.cache.size
  }
}

/** Kernel: struct kmem_cache_node (SLAB). */
export class SlabNode {
  readonly slabs_full = new Set<ClassicSlabPage>()
  /** Ordered lists: arrays, head first. */
  slabs_partial: ClassicSlabPage[] = []
  slabs_free: ClassicSlabPage[] = []
  total_slabs = 0
  free_slabs = 0
  free_objects = 0
  free_limit = 0
  colour_next = 0
  free_touched = false
  shared: ArrayCache | null = null
}

/** Kernel: struct kmem_cache (SLAB). */
export class SlabCacheClassic implements KmemCacheCommon {
  size: number
  align: number
  flags: slab_flags_t
  refcount = 1
  useroffset: number
  usersize: number
  objects = 0
  order = 0
  /** objects per slab (cachep->num) and slab order (gfporder). */
  num = 0
  gfporder = 0
  colour = 0
  colour_off = 0
  freelist_size = 0
  allocflags: gfp_t = 0
  limit = 0
  batchcount = 0
  shared = 0
  readonly cpu_cache: ArrayCache[] = []
  readonly node = new SlabNode()
  readonly ctor: ((objp: number) => void) | null
  constructor(
    readonly name: string,
    readonly object_size: number,
    args: KmemCacheArgs,
    flags: slab_flags_t,
  ) {
    this.size = object_size
    this.align = args.align ?? 0
    this.flags = flags
    this.ctor = args.ctor ?? null
    this.useroffset = args.useroffset ?? 0
    this.usersize = args.usersize ?? 0
  }
}

export interface ClassicSlabOptions {
  init_on_alloc: boolean
  init_on_free: boolean
}

export class ClassicSlab {
  readonly kind = 'slab' as const
  /** slab_max_order: SLAB_MAX_ORDER_HI (1) above 32 MiB of RAM, else 0. */
  readonly slab_max_order: number
  /** Off-slab freelists are kmalloc objects; set once kmalloc caches exist. */
  kmalloc_freelist: ((size: number) => number) | null = null
  kfree_freelist: ((x: number) => void) | null = null

  constructor(
    readonly env: SlabEnv,
    readonly pa: PageAllocLike,
    readonly registry: SlabRegistry<ClassicSlabPage>,
    readonly opts: ClassicSlabOptions,
  ) {
    this.slab_max_order = pa.pages.nr > (32 << 20) / PAGE_SIZE ? 1 : 0
  }

  slab_by_id(id: number): ClassicSlabPage | undefined {
    return this.registry.items[id]
  }

  // ------------------------------------------------------------ cache setup

  /** Kernel: cache_estimate(). */
  private cache_estimate(order: number, size: number, flags: slab_flags_t): [number, number] {
    const slab_size = PAGE_SIZE * 2 ** order
    if (flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)) return [Math.floor(slab_size / size), slab_size % size]
    return [Math.floor(slab_size / (size + FREELIST_IDX_SIZE)), slab_size % (size + FREELIST_IDX_SIZE)]
  }

  /** Kernel: calculate_slab_order(): returns the left-over bytes; sets num and gfporder. */
  private calculate_slab_order(c: SlabCacheClassic, size: number, flags: slab_flags_t): number {
    let left_over = 0
    for (let order = 0; order <= KMALLOC_MAX_ORDER; order++) {
      const [num, remainder] = this.cache_estimate(order, size, flags)
      if (!num) continue
      if (num > SLAB_OBJ_MAX_NUM) break
      if (flags & CFLGS_OFF_SLAB) {
        const freelist_size = num * FREELIST_IDX_SIZE
        const fl_cache_size = freelist_size > KMALLOC_MAX_CACHE_SIZE ? PAGE_SIZE * 2 ** get_order(freelist_size) : kmalloc_slot_size(freelist_size)
        if (fl_cache_size > c.size / 2) continue
      }
      c.num = num
      c.gfporder = order
      left_over = remainder
      if (flags & SLAB_RECLAIM_ACCOUNT) break
      if (order >= this.slab_max_order) break
      if (left_over * 8 <= PAGE_SIZE * 2 ** order) break
    }
    return left_over
  }

  /** Kernel: __kmem_cache_create() (SLAB). */
  create(name: string, size: number, args: KmemCacheArgs, flags: slab_flags_t): SlabCacheClassic | null {
    const g = this.env.geo
    const c = new SlabCacheClassic(name, size, args, flags)
    let ralign = g.ptr_size
    let sz = ALIGN(size, g.ptr_size)
    if (ralign < c.align) ralign = c.align
    c.align = ralign
    c.colour_off = Math.max(g.cache_line, c.align)
    sz = ALIGN(sz, c.align)
    const init_on_free = this.opts.init_on_free && !(c.ctor || flags & SLAB_TYPESAFE_BY_RCU)
    let left: number
    const try_layout = (f: slab_flags_t): boolean => {
      c.num = 0
      left = this.calculate_slab_order(c, sz, f)
      return c.num > 0
    }
    left = 0
    if (!init_on_free && !c.ctor && !(flags & SLAB_TYPESAFE_BY_RCU) && try_layout(flags | CFLGS_OBJFREELIST_SLAB) && c.num * FREELIST_IDX_SIZE <= size) {
      flags |= CFLGS_OBJFREELIST_SLAB
    } else if (!(flags & SLAB_NOLEAKTRACE) && this.kmalloc_freelist && try_layout(flags | CFLGS_OFF_SLAB) && left < c.num * FREELIST_IDX_SIZE) {
      flags |= CFLGS_OFF_SLAB
    } else if (try_layout(flags)) {
      // on-slab: the freelist sits at the end of the slab
    } else {
      return null
    }
    c.colour = Math.floor(left / c.colour_off)
    c.freelist_size = c.num * FREELIST_IDX_SIZE
    c.flags = flags
    c.allocflags = __GFP_COMP
    if (flags & SLAB_CACHE_DMA) c.allocflags |= __GFP_DMA
    if (flags & SLAB_CACHE_DMA32) c.allocflags |= __GFP_DMA32
    if (flags & SLAB_RECLAIM_ACCOUNT) c.allocflags |= __GFP_RECLAIMABLE
    c.size = sz
    c.objects = c.num
    c.order = c.gfporder
    this.enable_cpucache(c)
    return c
  }

  /** Kernel: enable_cpucache(): the default tunables. */
  private enable_cpucache(c: SlabCacheClassic): void {
    let limit: number
    if (c.size > 131072) limit = 1
    else if (c.size > PAGE_SIZE) limit = 8
    else if (c.size > 1024) limit = 24
    else if (c.size > 256) limit = 54
    else limit = 120
    const shared = c.size <= PAGE_SIZE && this.env.geo.nr_cpus > 1 ? 8 : 0
    const batchcount = Math.floor((limit + 1) / 2)
    this.do_tune_cpucache(c, limit, batchcount, shared)
  }

  /** Kernel: do_tune_cpucache(): new array caches (the old ones are drained first). */
  do_tune_cpucache(c: SlabCacheClassic, limit: number, batchcount: number, shared: number): void {
    for (let cpu = 0; cpu < c.cpu_cache.length; cpu++) this.drain_array(c, c.cpu_cache[cpu], c.cpu_cache[cpu].avail)
    if (c.node.shared) this.drain_array(c, c.node.shared, c.node.shared.avail)
    c.limit = limit
    c.batchcount = batchcount
    c.shared = shared
    c.cpu_cache.length = 0
    for (let cpu = 0; cpu < this.env.geo.nr_cpus; cpu++) c.cpu_cache.push(new ArrayCache(limit, batchcount))
    c.node.shared = shared ? new ArrayCache(shared * batchcount, 0xbaadf00d) : null
    c.node.free_limit = (1 + this.env.geo.nr_cpus) * batchcount + c.num
  }

  /** Kernel: ksize() for SLAB: the whole slot. */
  ksize(c: SlabCacheClassic): number {
    return c.size
  }

  // ------------------------------------------------------------ slab pages

  /** Kernel: cache_grow_begin(): a new coloured slab with all objects free. */
  private cache_grow_begin(c: SlabCacheClassic, gfp: gfp_t): ClassicSlabPage | null {
    const n = c.node
    let offset = n.colour_next
    n.colour_next++
    if (n.colour_next >= c.colour) n.colour_next = 0
    offset *= c.colour_off
    const pfn = this.pa.alloc_pages((gfp & GFP_GROW_MASK) | c.allocflags, c.gfporder)
    if (pfn < 0) return null
    let freelist = 0
    if (c.flags & CFLGS_OFF_SLAB) {
      freelist = this.kmalloc_freelist ? this.kmalloc_freelist(c.freelist_size) : 0
      if (!freelist) {
        this.pa.__free_pages(pfn, c.gfporder)
        return null
      }
    }
    const id = this.registry.alloc_id()
    const slab = new ClassicSlabPage(id, c, pfn, c.gfporder, this.pa.page_address(pfn), offset)
    this.registry.set(id, slab)
    this.pa.pages.page_type[pfn] = PGTY_slab
    this.pa.pages.private[pfn] = id + 1
    this.pa.vmstat.mod_node_page_state(c.flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B, PAGE_SIZE * 2 ** c.gfporder)
    if (c.flags & CFLGS_OBJFREELIST_SLAB) freelist = slab.obj(c.num - 1)
    else if (!(c.flags & CFLGS_OFF_SLAB)) freelist = slab.base + PAGE_SIZE * 2 ** c.gfporder - c.freelist_size
    slab.freelist = freelist
    // cache_init_objs(): constructors, then the identity freelist.
    for (let i = 0; i < c.num; i++) if (c.ctor) c.ctor(slab.obj(i))
    for (let i = 0; i < c.num; i++) this.set_free_obj(slab, i, i)
    return slab
  }

  /** Kernel: cache_grow_end(). */
  private cache_grow_end(c: SlabCacheClassic, slab: ClassicSlabPage): void {
    const n = c.node
    n.total_slabs++
    if (!slab.active) {
      n.slabs_free.push(slab)
      slab.list = 'free'
      n.free_slabs++
    } else {
      this.fixup_slab_list(c, slab)
    }
    n.free_objects += c.num - slab.active
  }

  private get_free_obj(slab: ClassicSlabPage, idx: number): number {
    const a = slab.freelist + idx * FREELIST_IDX_SIZE
    const w = Math.floor(a / 4) * 4
    return (this.env.mem.read_u32(w) >>> ((a - w) * 8)) & 0xffff
  }
  private set_free_obj(slab: ClassicSlabPage, idx: number, val: number): void {
    const a = slab.freelist + idx * FREELIST_IDX_SIZE
    const w = Math.floor(a / 4) * 4
    const shift = (a - w) * 8
    const old = this.env.mem.read_u32(w)
    this.env.mem.write_u32(w, ((old & ~(0xffff << shift)) | (val << shift)) >>> 0)
  }

  /** Kernel: slab_get_obj(). */
  private slab_get_obj(c: SlabCacheClassic, slab: ClassicSlabPage): number {
    const idx = this.get_free_obj(slab, slab.active)
    slab.active++
    return slab.obj(idx)
  }

  /** Kernel: slab_put_obj(). */
  private slab_put_obj(c: SlabCacheClassic, slab: ClassicSlabPage, objp: number): void {
    const objnr = slab.obj_to_index(objp)
    slab.active--
    if (!slab.freelist) slab.freelist = objp
    this.set_free_obj(slab, slab.active, objnr)
  }

  private unlink(c: SlabCacheClassic, slab: ClassicSlabPage): void {
    const n = c.node
    if (slab.list === 'full') n.slabs_full.delete(slab)
    else if (slab.list === 'partial') n.slabs_partial.splice(n.slabs_partial.indexOf(slab), 1)
    else n.slabs_free.splice(n.slabs_free.indexOf(slab), 1)
  }

  /** Kernel: fixup_slab_list(). */
  private fixup_slab_list(c: SlabCacheClassic, slab: ClassicSlabPage): void {
    const n = c.node
    if (slab.active === c.num) {
      n.slabs_full.add(slab)
      slab.list = 'full'
      if (c.flags & CFLGS_OBJFREELIST_SLAB) slab.freelist = 0
    } else {
      n.slabs_partial.unshift(slab)
      slab.list = 'partial'
    }
  }

  /** Kernel: slab_destroy(). */
  private slab_destroy(c: SlabCacheClassic, slab: ClassicSlabPage): void {
    const freelist = slab.freelist
    this.pa.pages.page_type[slab.pfn] = PGTY_none
    this.pa.pages.private[slab.pfn] = 0
    this.pa.vmstat.mod_node_page_state(c.flags & SLAB_RECLAIM_ACCOUNT ? NR_SLAB_RECLAIMABLE_B : NR_SLAB_UNRECLAIMABLE_B, -PAGE_SIZE * 2 ** slab.order)
    this.registry.remove(slab.id)
    this.pa.__free_pages(slab.pfn, slab.order)
    if (c.flags & CFLGS_OFF_SLAB && freelist && this.kfree_freelist) this.kfree_freelist(freelist)
  }

  // ------------------------------------------------------------ allocation

  /** Kernel: slab_alloc() / ____cache_alloc(). Returns the object or 0. */
  alloc(c: SlabCacheClassic, gfp: gfp_t, _orig_size: number, _caller: string): number {
    const ac = c.cpu_cache[this.pa.cpu]
    let objp: number
    if (ac.avail) {
      ac.touched = true
      objp = ac.entry[--ac.avail]
    } else {
      objp = this.cache_alloc_refill(c, gfp)
    }
    if (!objp) return 0
    const slab = this.registry.items[this.pa.pages.private[this.pa.compound_head(this.env.mem.pfn_of(objp))] - 1] as ClassicSlabPage
    slab.state[slab.obj_to_index(objp)] = OBJ_ALLOCATED
    const init = this.opts.init_on_alloc ? !(c.ctor || c.flags & SLAB_TYPESAFE_BY_RCU) : (gfp & __GFP_ZERO) !== 0
    if (init) this.env.mem.memset(objp, 0, c.object_size)
    return objp
  }

  /** Kernel: transfer_objects(). */
  private transfer_objects(to: ArrayCache, from: ArrayCache, max: number): number {
    const nr = Math.min(from.avail, max, to.limit - to.avail)
    if (!nr) return 0
    for (let i = 0; i < nr; i++) to.entry[to.avail + i] = from.entry[from.avail - nr + i]
    from.avail -= nr
    to.avail += nr
    return nr
  }

  /** Kernel: cache_alloc_refill(). */
  private cache_alloc_refill(c: SlabCacheClassic, gfp: gfp_t): number {
    const ac = c.cpu_cache[this.pa.cpu]
    const n = c.node
    let batchcount = ac.batchcount
    if (!ac.touched && batchcount > BATCHREFILL_LIMIT) batchcount = BATCHREFILL_LIMIT
    const shared = n.shared
    if (n.free_objects || (shared && shared.avail)) {
      if (shared && this.transfer_objects(ac, shared, batchcount)) {
        shared.touched = true
      } else {
        while (batchcount > 0) {
          let slab = n.slabs_partial[0] ?? null
          if (!slab) {
            n.free_touched = true
            slab = n.slabs_free[0] ?? null
            if (slab) n.free_slabs--
          }
          if (!slab) break
          while (slab.active < c.num && batchcount--) ac.entry[ac.avail++] = this.slab_get_obj(c, slab)
          this.unlink(c, slab)
          this.fixup_slab_list(c, slab)
        }
        n.free_objects -= ac.avail
      }
    }
    if (!ac.avail) {
      const slab = this.cache_grow_begin(c, gfp)
      if (slab) {
        while (slab.active < c.num && batchcount--) ac.entry[ac.avail++] = this.slab_get_obj(c, slab)
        this.cache_grow_end(c, slab)
      }
      if (!ac.avail) {
        if (!(gfp & __GFP_NOWARN)) {
          this.env.printk.pr_warn(`SLAB: Unable to allocate memory on node 0, gfp=${format_gfp(gfp)}`)
          this.env.printk.pr_warn(`  cache: ${c.name}, object size: ${c.size}, order: ${c.gfporder}`)
        }
        return 0
      }
    }
    ac.touched = true
    return ac.entry[--ac.avail]
  }

  // ------------------------------------------------------------ freeing

  /** Kernel: __cache_free() / ___cache_free(). Invalid pointers and double frees are reported, not freed. */
  free(c: SlabCacheClassic, slab: ClassicSlabPage, objp: number, caller: string): void {
    const i = slab.obj_to_index(objp)
    if (i < 0 || slab.state[i] !== OBJ_ALLOCATED) {
      this.env.printk.pr_err(`kernel BUG at mm/slab.c: ${i < 0 ? 'invalid object pointer' : 'double free'} ${this.env.mem.p(objp)} in cache ${c.name} (from ${caller})`)
      this.env.warn('mm/slab.c', 'cache_free_debugcheck')
      return
    }
    slab.state[i] = OBJ_FREE
    if (this.opts.init_on_free && !(c.ctor || c.flags & SLAB_TYPESAFE_BY_RCU)) this.env.mem.memset(objp, 0, c.object_size)
    const ac = c.cpu_cache[this.pa.cpu]
    if (ac.avail >= ac.limit) this.cache_flusharray(c, ac)
    ac.entry[ac.avail++] = objp
  }

  /** Kernel: cache_flusharray(): batchcount objects to the shared array or back to their slabs. */
  private cache_flusharray(c: SlabCacheClassic, ac: ArrayCache): void {
    let batchcount = ac.batchcount
    const shared = c.node.shared
    if (shared && shared.limit - shared.avail > 0) {
      batchcount = Math.min(batchcount, shared.limit - shared.avail)
      for (let i = 0; i < batchcount; i++) shared.entry[shared.avail++] = ac.entry[i]
    } else {
      this.free_block(c, ac.entry.slice(0, batchcount))
    }
    ac.entry.splice(0, batchcount)
    ac.avail -= batchcount
  }

  /** Kernel: free_block(): objects back into their slabs; surplus free slabs are destroyed. */
  private free_block(c: SlabCacheClassic, objs: number[]): void {
    const n = c.node
    n.free_objects += objs.length
    for (const objp of objs) {
      const head = this.pa.compound_head(this.env.mem.pfn_of(objp))
      const slab = this.registry.items[this.pa.pages.private[head] - 1] as ClassicSlabPage
      this.unlink(c, slab)
      this.slab_put_obj(c, slab, objp)
      if (slab.active === 0) {
        n.slabs_free.unshift(slab)
        slab.list = 'free'
        n.free_slabs++
      } else {
        n.slabs_partial.push(slab)
        slab.list = 'partial'
      }
    }
    const destroy: ClassicSlabPage[] = []
    while (n.free_objects > n.free_limit && n.slabs_free.length) {
      n.free_objects -= c.num
      destroy.push(n.slabs_free.pop() as ClassicSlabPage)
      n.free_slabs--
      n.total_slabs--
    }
    for (const slab of destroy) this.slab_destroy(c, slab)
  }

  /** Kernel: drain_array_locked(): up to `count` objects of an array cache back to the slabs. */
  private drain_array(c: SlabCacheClassic, ac: ArrayCache, count: number): void {
    const nr = Math.min(count, ac.avail)
    if (!nr) return
    const objs = ac.entry.splice(0, nr)
    ac.avail -= nr
    this.free_block(c, objs)
  }

  /** Kernel: drain_cpu_caches(). */
  private drain_cpu_caches(c: SlabCacheClassic): void {
    for (const ac of c.cpu_cache) this.drain_array(c, ac, ac.avail)
    if (c.node.shared) this.drain_array(c, c.node.shared, c.node.shared.avail)
  }

  /** Kernel: drain_freelist(): destroy every free slab. */
  private drain_freelist(c: SlabCacheClassic): void {
    const n = c.node
    while (n.slabs_free.length) {
      const slab = n.slabs_free.pop() as ClassicSlabPage
      n.free_objects -= c.num
      n.free_slabs--
      n.total_slabs--
      this.slab_destroy(c, slab)
    }
  }

  /** Kernel: __kmem_cache_shrink(): 1 if slabs remain. */
  shrink(c: SlabCacheClassic): number {
    this.drain_cpu_caches(c)
    this.drain_freelist(c)
    return c.node.slabs_full.size || c.node.slabs_partial.length ? 1 : 0
  }

  /** Kernel: __kmem_cache_shutdown(). */
  shutdown(c: SlabCacheClassic): number {
    return this.shrink(c)
  }

  /** Kernel: get_slabinfo() (SLAB). */
  get_slabinfo(c: SlabCacheClassic): SlabInfo {
    const n = c.node
    const num_objs = n.total_slabs * c.num
    return {
      active_objs: num_objs - n.free_objects,
      num_objs,
      active_slabs: n.total_slabs - n.free_slabs,
      num_slabs: n.total_slabs,
      shared_avail: n.shared ? n.shared.avail : 0,
      limit: c.limit,
      batchcount: c.batchcount,
      shared: c.shared,
      objects_per_slab: c.num,
      cache_order: c.gfporder,
    }
  }

  /** Objects held in array caches (for the checker). */
  cached_objects(c: SlabCacheClassic): number[] {
    const out: number[] = []
    for (const ac of c.cpu_cache) out.push(...ac.entry.slice(0, ac.avail))
    if (c.node.shared) out.push(...c.node.shared.entry.slice(0, c.node.shared.avail))
    return out
  }

  /** The free object indices recorded in a slab's freelist array. */
  freelist_indices(slab: ClassicSlabPage): number[] {
    const out: number[] = []
    if (!slab.freelist) return out
    for (let i = slab.active; i < slab.cache.num; i++) out.push(this.get_free_obj(slab, i))
    return out
  }
}

/** The slot size of the kmalloc cache serving `size` (kmalloc caches are natural sizes). */
function kmalloc_slot_size(size: number): number {
  const idx = kmalloc_index(size)
  return idx === 1 ? 96 : idx === 2 ? 192 : 1 << idx
}

export { CFLGS_OBJFREELIST_SLAB, CFLGS_OFF_SLAB }
