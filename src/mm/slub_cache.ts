/**
 * SLUB's data structures and object layout (Kernel: mm/slub.c struct
 * kmem_cache_cpu, struct kmem_cache_node, struct slab in mm/slab.h;
 * calculate_sizes(), calculate_order(), calc_slab_order()).
 *
 * Object layout inside a slot of s->size bytes (as in mm/slub.c):
 *   [left red zone: red_left_pad]  (SLAB_RED_ZONE)
 *   [object: object_size]          the free pointer lives at `offset`, in
 *                                  the middle of the object unless the
 *                                  object may not be overwritten on free
 *   [right red zone up to inuse]   (SLAB_RED_ZONE)
 *   [free pointer]                 (if it does not fit inside the object)
 *   [alloc track][free track]      (SLAB_STORE_USER) [orig_size] (kmalloc)
 *   [padding word]                 (SLAB_RED_ZONE)
 *   [alignment padding to size]
 *
 * Invariants: size is a multiple of align; objects * size <= PAGE_SIZE << order;
 * objects per slab and order are what Linux computes for the same
 * (object size, align, flags, ctor, nr_cpu_ids).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { freelist_key, type SlabMem } from './slab_mem.js'
import type { NodeBarn, SlubPercpuSheaves } from './slub_sheaf.js'
import { __GFP_COMP, __GFP_DMA, __GFP_DMA32, __GFP_RECLAIMABLE, type gfp_t } from './gfp.js'
import { ALIGN, ALIGN_DOWN, fls, get_order, ilog2, SLAB_CACHE_DMA, SLAB_CACHE_DMA32, SLAB_KMALLOC, SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TYPESAFE_BY_RCU, SLAB_DEBUG_FLAGS, __OBJECT_POISON, type KmemCacheArgs, type KmemCacheCommon, type SlabGeometry, type slab_flags_t } from './slab_h.js'

export const MIN_PARTIAL = 5
export const MAX_PARTIAL = 10
export const MAX_OBJS_PER_PAGE = 32767
/** slub_max_order = PAGE_ALLOC_COSTLY_ORDER, slub_min_order = 0, slub_min_objects = 0 (boot defaults). */
export const SLUB_MAX_ORDER = 3
export const SLUB_MIN_ORDER = 0
const MAX_PAGE_ORDER = 10

/** Kernel: struct slab (the SLUB view of a slab's head page). */
export class Slab {
  /** Objects' allocation state as the simulator sees it: OBJ_FREE, OBJ_ALLOCATED, OBJ_LEAKED, OBJ_IN_SHEAF (slab_h.ts). */
  readonly state: Uint8Array
  freelist = 0
  inuse = 0
  frozen = false
  /** SL_partial: on the node partial list. */
  node_partial = false
  /** On the node full list (debug caches with SLAB_STORE_USER). */
  on_full = false
  /** CPU whose per-cpu partial list holds this slab, or -1. */
  cpu_partial = -1
  /** Next slab on a per-cpu partial list, and the chain length from here (slab->slabs). */
  next: Slab | null = null
  slabs = 0
  list_prev: Slab | null = null
  list_next: Slab | null = null

  constructor(
    readonly id: number,
    readonly cache: SlubCache,
    readonly pfn: number,
    readonly order: number,
    /** slab_address(): direct-map address of the first byte. */
    readonly base: number,
    readonly objects: number,
  ) {
    this.state = new Uint8Array(objects)
  }

  /** Kernel: __obj_to_index(); -1 when `x` is not the start of an object of this slab. */
  obj_to_index(x: number): number {
    const s = this.cache
    const size = s.size
    const d = x - this.base - s.red_left_pad
    // Bounds first, so the offset fits an int32 and % is an integer remainder, not fmod on doubles.
    if (d < 0 || d >= this.objects * size) return -1
    const di = d | 0
    if (di !== d || di % size !== 0) return -1
    return di / size
  }
  /** Address of object `i`. */
  obj(i: number): number {
    return this.base + this.cache.red_left_pad + i * this.cache.size
  }
}

/** An intrusive doubly linked list of slabs (struct list_head partial / full). */
export class SlabList {
  head: Slab | null = null
  tail: Slab | null = null
  count = 0

  add_head(s: Slab): void {
    s.list_prev = null
    s.list_next = this.head
    if (this.head) this.head.list_prev = s
    else this.tail = s
    this.head = s
    this.count++
  }
  add_tail(s: Slab): void {
    s.list_next = null
    s.list_prev = this.tail
    if (this.tail) this.tail.list_next = s
    else this.head = s
    this.tail = s
    this.count++
  }
  del(s: Slab): void {
    if (s.list_prev) s.list_prev.list_next = s.list_next
    else this.head = s.list_next
    if (s.list_next) s.list_next.list_prev = s.list_prev
    else this.tail = s.list_prev
    s.list_prev = s.list_next = null
    this.count--
  }
  *[Symbol.iterator](): IterableIterator<Slab> {
    for (let s = this.head; s; ) {
      const n = s.list_next
      yield s
      s = n
    }
  }
}

/** Kernel: struct kmem_cache_cpu. */
export class KmemCacheCpu {
  /** Lockless freelist of the cpu slab (an object address, 0 for NULL). */
  freelist = 0
  tid = 0
  slab: Slab | null = null
  /** Per-cpu partial slabs (CONFIG_SLUB_CPU_PARTIAL). */
  partial: Slab | null = null
}

/** Kernel: struct kmem_cache_node. */
export class KmemCacheNode {
  readonly partial = new SlabList()
  readonly full = new SlabList()
  nr_slabs = 0
  total_objects = 0
  get nr_partial(): number {
    return this.partial.count
  }
}

/** Kernel: struct kmem_cache (SLUB). */
export class SlubCache implements KmemCacheCommon {
  size: number
  align: number
  flags: slab_flags_t
  refcount = 1
  useroffset: number
  usersize: number
  objects = 0
  order = 0
  /** Free pointer offset inside the slot (from the object start). */
  offset = 0
  /** Offset of the metadata: object + right red zone. */
  inuse = 0
  red_left_pad = 0
  /** s->min: the fallback order and its objects. */
  min_order = 0
  min_objects = 0
  min_partial = MIN_PARTIAL
  cpu_partial = 0
  cpu_partial_slabs = 0
  allocflags: gfp_t = 0
  /** CONFIG_SLAB_FREELIST_HARDENED secret, 32-bit halves (0 when hardening is off). */
  random_lo = 0
  random_hi = 0
  readonly cpu_slab: KmemCacheCpu[]
  readonly node: KmemCacheNode = new KmemCacheNode()
  /** Per-cpu sheaves (caches created with a sheaf_capacity), and the node barn. */
  sheaf_capacity = 0
  cpu_sheaves: SlubPercpuSheaves[] | null = null
  barn: NodeBarn | null = null
  /** Index into the allocator's cache list (creation order). */
  id = 0

  constructor(
    readonly name: string,
    readonly object_size: number,
    args: KmemCacheArgs,
    flags: slab_flags_t,
    nr_cpus: number,
  ) {
    this.size = object_size
    this.align = args.align ?? 0
    this.flags = flags
    this.ctor = args.ctor ?? null
    this.useroffset = args.useroffset ?? 0
    this.usersize = args.usersize ?? 0
    // A loop, not Array.from({ length }, ...) (~8x slower): a boot creates ~100 caches.
    const cpu_slab: KmemCacheCpu[] = []
    for (let c = 0; c < nr_cpus; c++) cpu_slab.push(new KmemCacheCpu())
    this.cpu_slab = cpu_slab
  }
  readonly ctor: ((objp: number) => void) | null
}

/** Kernel: kmem_cache_debug(). */
export function kmem_cache_debug(s: SlubCache): boolean {
  return (s.flags & SLAB_DEBUG_FLAGS) !== 0
}
/** Kernel: slub_debug_orig_size(): kmalloc caches with SLAB_STORE_USER keep the requested size. */
export function slub_debug_orig_size(s: SlubCache): boolean {
  return (s.flags & SLAB_STORE_USER) !== 0 && (s.flags & SLAB_KMALLOC) !== 0
}
/** Kernel: freeptr_outside_object(). */
export function freeptr_outside_object(s: SlubCache): boolean {
  return s.offset >= s.inuse
}
/** Kernel: get_info_end(). */
export function get_info_end(s: SlubCache, ptr_size: number): number {
  return freeptr_outside_object(s) ? s.inuse + ptr_size : s.inuse
}
/** Kernel: size_from_object(). */
export function size_from_object(s: SlubCache): number {
  return s.flags & SLAB_RED_ZONE ? s.size - s.red_left_pad : s.size
}
/** Size of the saved kmalloc request (unsigned int in 6.18). */
export const ORIG_SIZE_BYTES = 4

/** Kernel: order_objects(). */
export function order_objects(order: number, size: number): number {
  return Math.floor((PAGE_SIZE * 2 ** order) / size)
}

/** Kernel: calc_slab_order(): smallest order in [min_order, max_order] wasting at most 1/fract_leftover. */
export function calc_slab_order(size: number, min_order: number, max_order: number, fract_leftover: number): number {
  let order: number
  for (order = min_order; order <= max_order; order++) {
    const slab_size = PAGE_SIZE * 2 ** order
    const rem = slab_size % size
    if (rem <= Math.floor(slab_size / fract_leftover)) break
  }
  return order
}

/** Kernel: calculate_order(); -1 (ENOSYS) when no order up to MAX_PAGE_ORDER holds one object. */
export function calculate_order(size: number, nr_cpus: number): number {
  // min_objects = 4 * (fls(nr_cpus) + 1) with num_present_cpus() == nr_cpu_ids here.
  let min_objects = 4 * (fls(nr_cpus) + 1)
  const max_objects = Math.max(order_objects(SLUB_MAX_ORDER, size), 1)
  min_objects = Math.min(min_objects, max_objects)
  const min_order = Math.max(SLUB_MIN_ORDER, get_order(min_objects * size))
  if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE) return get_order(size * MAX_OBJS_PER_PAGE) - 1
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calc_slab_order(size, min_order, SLUB_MAX_ORDER, fraction)
    if (order <= SLUB_MAX_ORDER) return order
  }
  const order = get_order(size)
  return order <= MAX_PAGE_ORDER ? order : -1
}

/**
 * Kernel: calculate_sizes(): free pointer placement, debug metadata, slot
 * size, slab order and objects per slab. Returns false when no slab can
 * hold an object (kmem_cache_create fails).
 */
export function calculate_sizes(g: SlabGeometry, args: KmemCacheArgs, s: SlubCache): boolean {
  const flags = s.flags
  const P = g.ptr_size
  let size = ALIGN(s.object_size, P)
  if (flags & SLAB_POISON && !(flags & SLAB_TYPESAFE_BY_RCU) && !s.ctor) s.flags |= __OBJECT_POISON
  else s.flags &= ~__OBJECT_POISON
  if (flags & SLAB_RED_ZONE && size === s.object_size) size += P
  s.inuse = size
  const use_fpo = args.use_freeptr_offset === true
  if (
    (flags & SLAB_TYPESAFE_BY_RCU && !use_fpo) ||
    flags & SLAB_POISON ||
    (s.ctor && !use_fpo) ||
    (flags & SLAB_RED_ZONE && (s.object_size < P || slub_debug_orig_size(s)))
  ) {
    s.offset = size
    size += P
  } else if ((flags & SLAB_TYPESAFE_BY_RCU || s.ctor) && use_fpo) {
    s.offset = args.freeptr_offset ?? 0
  } else {
    s.offset = ALIGN_DOWN(Math.floor(s.object_size / 2), P)
  }
  if (flags & SLAB_STORE_USER) {
    size += 2 * g.track_size
    if (flags & SLAB_KMALLOC) size += ORIG_SIZE_BYTES
  }
  if (flags & SLAB_RED_ZONE) {
    size += P
    s.red_left_pad = ALIGN(P, s.align)
    size += s.red_left_pad
  } else {
    s.red_left_pad = 0
  }
  size = ALIGN(size, s.align)
  s.size = size
  const order = calculate_order(size, g.nr_cpus)
  if (order < 0) return false
  s.allocflags = __GFP_COMP
  if (s.flags & SLAB_CACHE_DMA) s.allocflags |= __GFP_DMA
  if (s.flags & SLAB_CACHE_DMA32) s.allocflags |= __GFP_DMA32
  if (s.flags & SLAB_RECLAIM_ACCOUNT) s.allocflags |= __GFP_RECLAIMABLE
  s.order = order
  s.objects = Math.min(order_objects(order, size), MAX_OBJS_PER_PAGE)
  s.min_order = get_order(size)
  s.min_objects = order_objects(s.min_order, size)
  return s.objects > 0
}

/** Kernel: the min_partial rule of do_kmem_cache_create(). */
export function set_min_partial(s: SlubCache): void {
  s.min_partial = Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, Math.floor(ilog2(s.size) / 2)))
}

/** Kernel: set_cpu_partial() / slub_set_cpu_partial() (CONFIG_SLUB_CPU_PARTIAL). */
export function set_cpu_partial(s: SlubCache): void {
  let nr_objects: number
  if (kmem_cache_debug(s)) nr_objects = 0
  else if (s.size >= PAGE_SIZE) nr_objects = 6
  else if (s.size >= 1024) nr_objects = 24
  else if (s.size >= 256) nr_objects = 52
  else nr_objects = 120
  s.cpu_partial = nr_objects
  s.cpu_partial_slabs = nr_objects ? Math.ceil((nr_objects * 2) / s.objects) : 0
}

/** Kernel: get_freepointer(): the next free object recorded inside `object` (0 for NULL). */
export function get_freepointer(mem: SlabMem, s: SlubCache, object: number): number {
  const addr = object + s.offset
  if (s.random_lo === 0 && s.random_hi === 0) return mem.read_ptr(addr)
  const [klo, khi] = freelist_key(mem.ptr_size, s.random_lo, s.random_hi, addr)
  return mem.read_ptr_xor(addr, klo, khi)
}

/** Kernel: set_freepointer(). */
export function set_freepointer(mem: SlabMem, s: SlubCache, object: number, fp: number): void {
  const addr = object + s.offset
  if (s.random_lo === 0 && s.random_hi === 0) {
    mem.write_ptr(addr, fp)
    return
  }
  const [klo, khi] = freelist_key(mem.ptr_size, s.random_lo, s.random_hi, addr)
  mem.write_ptr_xor(addr, fp, klo, khi)
}
