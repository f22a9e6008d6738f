/**
 * Slab definitions shared by SLUB and the classic SLAB (Kernel:
 * include/linux/slab.h, mm/slab.h): cache flags, the kmalloc size classes
 * and types, alignment rules, and the fields every `struct kmem_cache` has.
 *
 * Invariants:
 *  - kmalloc_index(size) is the index of the smallest kmalloc cache whose
 *    object_size >= size (indices 1 and 2 are the 96 and 192 byte caches);
 *  - a cache's size (the slot stride) is a multiple of its align, and align
 *    is a multiple of sizeof(void *).
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../include/page_types.js'
import {
  __GFP_ACCOUNT,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_RECLAIMABLE,
  __GFP_BITS_MASK,
  type gfp_t,
} from './gfp.js'

export type slab_flags_t = number

// enum _slab_flag_bits (include/linux/slab.h, 6.18 order).
export const SLAB_CONSISTENCY_CHECKS = 1 << 0
export const SLAB_RED_ZONE = 1 << 1
export const SLAB_POISON = 1 << 2
export const SLAB_KMALLOC = 1 << 3
export const SLAB_HWCACHE_ALIGN = 1 << 4
export const SLAB_CACHE_DMA = 1 << 5
export const SLAB_CACHE_DMA32 = 1 << 6
export const SLAB_STORE_USER = 1 << 7
export const SLAB_PANIC = 1 << 8
export const SLAB_TYPESAFE_BY_RCU = 1 << 9
export const SLAB_TRACE = 1 << 10
export const SLAB_NOLEAKTRACE = 1 << 11
export const SLAB_NO_MERGE = 1 << 12
export const SLAB_FAILSLAB = 1 << 13
export const SLAB_ACCOUNT = 1 << 14
export const SLAB_NO_USER_FLAGS = 1 << 15
export const SLAB_RECLAIM_ACCOUNT = 1 << 16
export const __OBJECT_POISON = 1 << 17
export const SLAB_NO_OBJ_EXT = 1 << 18
export const SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT
/** Kernel: SLAB_DEBUG_FLAGS (mm/slab.h). */
export const SLAB_DEBUG_FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS
/** Kernel: DEBUG_DEFAULT_FLAGS (mm/slub.c): what a bare `slub_debug` turns on. */
export const DEBUG_DEFAULT_FLAGS = SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER

// Poison values (include/linux/poison.h).
export const POISON_INUSE = 0x5a
export const POISON_FREE = 0x6b
export const POISON_END = 0xa5
export const SLUB_RED_INACTIVE = 0xbb
export const SLUB_RED_ACTIVE = 0xcc
/** Classic SLAB red zone words (mm/slab.c, RED_INACTIVE / RED_ACTIVE). */
export const SLAB_RED_INACTIVE_WORD = 0x09f911029d74e35bn
export const SLAB_RED_ACTIVE_WORD = 0xd84156c5635688c0n

// States of a slab's objects in its `state` array (SLUB Slab and classic SLAB
// ClassicSlabPage). No kernel counterpart: the kernel only has its freelists;
// the simulator keeps these so check_slab() can prove each object is in
// exactly one place.
/** On a freelist (slab, cpu, or an array cache of the classic SLAB). */
export const OBJ_FREE = 0
/** Handed out by kmem_cache_alloc() and not freed yet. */
export const OBJ_ALLOCATED = 1
/** Unreachable after a freelist corruption: SLUB debug gives such objects up, as the kernel leaks them. */
export const OBJ_LEAKED = 2
/** Counted allocated by its slab but parked in a per-CPU or barn sheaf (slub_sheaf.ts). */
export const OBJ_IN_SHEAF = 3

/** Kernel: KMALLOC_SHIFT_LOW / KMALLOC_SHIFT_HIGH / KMALLOC_MAX_CACHE_SIZE with 4 KiB pages. */
export const KMALLOC_SHIFT_LOW = 3
export const KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1
export const KMALLOC_MIN_SIZE = 1 << KMALLOC_SHIFT_LOW
export const KMALLOC_MAX_CACHE_SIZE = 1 << KMALLOC_SHIFT_HIGH
/** Kernel: KMALLOC_MAX_SIZE = 1 << (MAX_PAGE_ORDER + PAGE_SHIFT). */
export const KMALLOC_MAX_SIZE = 1 << (10 + PAGE_SHIFT)
/** Kernel: ZERO_SIZE_PTR, what kmalloc(0) returns. */
export const ZERO_SIZE_PTR = 16
/** Kernel: ZERO_OR_NULL_PTR(). */
export function ZERO_OR_NULL_PTR(p: number): boolean {
  return p >= 0 && p <= ZERO_SIZE_PTR
}

// enum kmalloc_cache_type with CONFIG_ZONE_DMA, CONFIG_MEMCG, no random caches.
export const KMALLOC_NORMAL = 0
export const KMALLOC_RECLAIM = 1
export const KMALLOC_DMA = 2
export const KMALLOC_CGROUP = 3
export const NR_KMALLOC_TYPES = 4
/** Kernel: KMALLOC_NOT_NORMAL_BITS. */
export const KMALLOC_NOT_NORMAL_BITS = __GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT
/** Kernel: GFP_SLAB_BUG_MASK. */
export const GFP_SLAB_BUG_MASK = __GFP_DMA32 | __GFP_HIGHMEM

/** Kernel: kmalloc_info[] (mm/slab_common.c): size and per-type name of each kmalloc index. */
export const kmalloc_info: readonly { readonly size: number; readonly name: readonly string[] }[] = (() => {
  const sz = (n: number): string => (n >= 1024 ? `${n / 1024}k` : `${n}`)
  const names = (n: number): string[] => [`kmalloc-${sz(n)}`, `kmalloc-rcl-${sz(n)}`, `dma-kmalloc-${sz(n)}`, `kmalloc-cg-${sz(n)}`]
  const out: { size: number; name: string[] }[] = [{ size: 0, name: [] }, { size: 96, name: names(96) }, { size: 192, name: names(192) }]
  for (let i = 3; i <= KMALLOC_SHIFT_HIGH; i++) out.push({ size: 1 << i, name: names(1 << i) })
  return out
})()

/** Kernel: fls(): index of the most significant set bit, 1-based; 0 for 0. */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x)
}
/** Kernel: ilog2(). */
export function ilog2(x: number): number {
  return fls(x) - 1
}
/** Kernel: get_order(): smallest order with PAGE_SIZE << order >= size. */
export function get_order(size: number): number {
  const pages = Math.ceil(size / PAGE_SIZE)
  let order = 0
  while (2 ** order < pages) order++
  return order
}
/** Kernel: ALIGN(). */
export function ALIGN(x: number, a: number): number {
  return Math.ceil(x / a) * a
}
/** Kernel: ALIGN_DOWN(). */
export function ALIGN_DOWN(x: number, a: number): number {
  return Math.floor(x / a) * a
}

/**
 * Kernel: __kmalloc_index(). Index of the kmalloc cache serving `size`
 * (0 for size 0, -1 above KMALLOC_MAX_CACHE_SIZE).
 */
export function kmalloc_index(size: number): number {
  if (size === 0) return 0
  if (size <= KMALLOC_MIN_SIZE) return KMALLOC_SHIFT_LOW
  if (size > 64 && size <= 96) return 1
  if (size > 128 && size <= 192) return 2
  if (size > KMALLOC_MAX_CACHE_SIZE) return -1
  return fls(size - 1)
}

/** Kernel: kmalloc_type(): which kmalloc cache family a GFP mask selects. */
export function kmalloc_type(flags: gfp_t): number {
  if ((flags & KMALLOC_NOT_NORMAL_BITS) === 0) return KMALLOC_NORMAL
  if (flags & __GFP_DMA) return KMALLOC_DMA
  if (flags & __GFP_RECLAIMABLE) return KMALLOC_RECLAIM
  return KMALLOC_CGROUP
}

/** True when the mask carries bits slab must not pass on (GFP_SLAB_BUG_MASK or bits above __GFP_BITS_MASK). */
export function gfp_slab_bug(flags: gfp_t): boolean {
  return (flags & GFP_SLAB_BUG_MASK) !== 0 || flags > __GFP_BITS_MASK || flags < 0
}

/** Machine geometry the layout rules depend on. */
export interface SlabGeometry {
  /** sizeof(void *): 8 on x86_64, 4 on i386. */
  readonly ptr_size: number
  /** cache_line_size(): L1_CACHE_BYTES = 64 on x86. */
  readonly cache_line: number
  /** arch_slab_minalign(): __alignof__(unsigned long long) = 8. */
  readonly minalign: number
  /** nr_cpu_ids (and num_present_cpus). */
  readonly nr_cpus: number
  /** sizeof(struct track): 32 on x86_64 with STACKDEPOT, 20 on i386. */
  readonly track_size: number
}

/**
 * Kernel: calculate_alignment() (mm/slab_common.c). With SLAB_HWCACHE_ALIGN
 * an object gets the cache line, halved while the object fits twice in it.
 */
export function calculate_alignment(g: SlabGeometry, flags: slab_flags_t, align: number, size: number): number {
  if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = g.cache_line
    while (size <= ralign / 2) ralign /= 2
    align = Math.max(align, ralign)
  }
  align = Math.max(align, g.minalign)
  return ALIGN(align, g.ptr_size)
}

/** Kernel: struct kmem_cache_args (include/linux/slab.h). */
export interface KmemCacheArgs {
  align?: number
  useroffset?: number
  usersize?: number
  freeptr_offset?: number
  use_freeptr_offset?: boolean
  ctor?: ((objp: number) => void) | null
  /** SLUB: give the cache per-cpu sheaves of this many objects (6.18 opt-in). */
  sheaf_capacity?: number
}

/** Kernel: struct slabinfo (mm/slab.h): what /proc/slabinfo prints for a cache. */
export interface SlabInfo {
  active_objs: number
  num_objs: number
  active_slabs: number
  num_slabs: number
  shared_avail: number
  limit: number
  batchcount: number
  shared: number
  objects_per_slab: number
  cache_order: number
}

/** The fields of struct kmem_cache both allocators share. */
export interface KmemCacheCommon {
  readonly name: string
  /** The object size the creator asked for. */
  readonly object_size: number
  /** Slot stride: object plus metadata, aligned (what /proc/slabinfo prints as objsize). */
  size: number
  align: number
  flags: slab_flags_t
  readonly ctor: ((objp: number) => void) | null
  refcount: number
  useroffset: number
  usersize: number
  /** Objects per slab and the slab order (kmem_cache_order_objects). */
  objects: number
  order: number
}
