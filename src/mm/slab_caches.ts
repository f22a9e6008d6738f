/**
 * Booting the slab layer and the named caches the rest of the kernel
 * allocates its objects from (Kernel: kmem_cache_init() in mm_core_init(),
 * then the caches created by vmalloc_init(), mm_cache_init(),
 * maple_tree_init(), radix_tree_init(), pid_idr_init(), anon_vma_init(),
 * fork_init(), proc_caches_init(), vfs_caches_init(), shmem_init(),
 * buffer_init(), in that order).
 *
 * Object sizes are sizeof() of the 6.18 x86_64 structures (64-bit
 * profile; the 32-bit profile scales pointer-sized members). /proc/slabinfo
 * only shows the slot size (object + metadata, aligned); for the caches in
 * the reference machine's /proc/slabinfo the slot size, objects per slab and
 * pages per slab computed from these arguments equal the reference.
 */
import type { ArchProfile } from '../arch/profile.js'
import { GFP_KERNEL } from './gfp.js'
import { PG_active, PG_head, PG_locked, PG_reserved, PG_workingset, type PageArray } from './page.js'
import {
  SLAB_ACCOUNT,
  SLAB_HWCACHE_ALIGN,
  SLAB_PANIC,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_TYPESAFE_BY_RCU,
  type KmemCacheArgs,
  type SlabGeometry,
  type slab_flags_t,
} from './slab_h.js'
import { SlabMem } from './slab_mem.js'
import { SlabEnv, SlabRegistry, type PageAllocLike } from './slab_env.js'
import { SlabAllocator, type KmemCache } from './slab_common.js'
import { Slub } from './slub.js'
import type { Slab } from './slub_cache.js'
import { ClassicSlab } from './slab.js'

export interface NamedCache {
  readonly name: string
  /** sizeof() on x86_64 (64-bit pointers). */
  readonly size64: number
  /** sizeof() on i386. */
  readonly size32: number
  /** The align argument (__alignof__ for KMEM_CACHE(), explicit otherwise). */
  readonly align: number
  readonly flags: slab_flags_t
  /** The cache has a constructor (its free pointer then lives after the object). */
  readonly ctor?: boolean
  /** SLAB_TYPESAFE_BY_RCU cache created with kmem_cache_args.freeptr_offset. */
  readonly freeptr_offset?: number
  /** kmem_cache_args.sheaf_capacity (6.18: maple_node and vm_area_struct use per-cpu sheaves). */
  readonly sheaf_capacity?: number
}

/** The named caches in creation order. */
export const named_caches: readonly NamedCache[] = [
  { name: 'vmap_area', size64: 72, size32: 40, align: 8, flags: SLAB_PANIC },
  { name: 'mm_struct', size64: 1576, size32: 888, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'maple_node', size64: 256, size32: 128, align: -1, flags: SLAB_PANIC, sheaf_capacity: 32 },
  { name: 'radix_tree_node', size64: 576, size32: 296, align: 0, flags: SLAB_PANIC | SLAB_RECLAIM_ACCOUNT, ctor: true },
  { name: 'pid', size64: 152, size32: 88, align: 8, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'anon_vma', size64: 96, size32: 52, align: 8, flags: SLAB_TYPESAFE_BY_RCU | SLAB_PANIC | SLAB_ACCOUNT, ctor: true },
  { name: 'anon_vma_chain', size64: 64, size32: 32, align: 8, flags: SLAB_PANIC | SLAB_ACCOUNT },
  // cred_init() runs just before fork_init(): sizeof(struct cred) 184 on x86_64, 128 on i386
  { name: 'cred_jar', size64: 184, size32: 128, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'task_struct', size64: 5808, size32: 3520, align: 64, flags: SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'sighand_cache', size64: 2080, size32: 1296, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_ACCOUNT, ctor: true },
  { name: 'signal_cache', size64: 1136, size32: 640, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'files_cache', size64: 704, size32: 384, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'vm_area_struct', size64: 176, size32: 96, align: 8, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_TYPESAFE_BY_RCU | SLAB_ACCOUNT, freeptr_offset: 64, sheaf_capacity: 32 },
  { name: 'names_cache', size64: 4096, size32: 4096, align: 0, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC },
  { name: 'dentry', size64: 192, size32: 128, align: 8, flags: SLAB_RECLAIM_ACCOUNT | SLAB_PANIC | SLAB_ACCOUNT },
  { name: 'inode_cache', size64: 616, size32: 376, align: 0, flags: SLAB_RECLAIM_ACCOUNT | SLAB_PANIC | SLAB_ACCOUNT, ctor: true },
  { name: 'filp', size64: 184, size32: 112, align: 8, flags: SLAB_HWCACHE_ALIGN | SLAB_PANIC | SLAB_ACCOUNT | SLAB_TYPESAFE_BY_RCU, freeptr_offset: 56 },
  { name: 'shmem_inode_cache', size64: 744, size32: 448, align: 0, flags: SLAB_PANIC | SLAB_ACCOUNT, ctor: true },
  { name: 'buffer_head', size64: 104, size32: 64, align: 8, flags: SLAB_RECLAIM_ACCOUNT | SLAB_PANIC },
]

export interface SlabBootOptions {
  slab: 'slub' | 'slab'
  nr_cpus: number
  init_on_alloc: boolean
  init_on_free: boolean
  /** The slub_debug= boot option ('' = full debugging, undefined = off). */
  slub_debug?: string
  /** CONFIG_SLAB_FREELIST_HARDENED. */
  freelist_hardened?: boolean
  /** The machine's random source for the freelist secrets (default: a fixed generator). */
  random32?: () => number
  /** Create the named kernel caches (default true). */
  named_caches?: boolean
}

/** Machine geometry for a profile. */
export function slab_geometry(arch: ArchProfile, nr_cpus: number): SlabGeometry {
  const ptr_size = arch.bits === 64 ? 8 : 4
  return { ptr_size, cache_line: 64, minalign: 8, nr_cpus, track_size: ptr_size === 8 ? 32 : 20 }
}

const FLAG_NAMES: readonly [number, string][] = [
  [PG_locked, 'locked'],
  [PG_head, 'head'],
  [PG_active, 'active'],
  [PG_workingset, 'workingset'],
  [PG_reserved, 'reserved'],
]

/** %pGp: "0x240(workingset|head)". */
function page_flags_string(pages: PageArray, pfn: number): string {
  const f = pages.flags[pfn]
  const names = FLAG_NAMES.filter(([b]) => f & (1 << b)).map(([, n]) => n)
  return `0x${f.toString(16)}(${names.join('|')})`
}

/** A small deterministic generator (xorshift32) for the freelist secrets. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

/**
 * Boot the slab layer on a page allocator: kmem_cache_init(), the kmalloc
 * caches, then the named caches. Returns the SlabAllocator.
 */
export function slab_boot(pa: PageAllocLike, opts: SlabBootOptions): SlabAllocator {
  const geo = slab_geometry(pa.arch, opts.nr_cpus)
  const mem = new SlabMem(pa.arch, pa.physmem)
  const env = new SlabEnv(
    mem,
    pa.printk,
    geo,
    () => pa.cpu,
    () => ({ pid: pa.pid, comm: pa.comm }),
    (pfn) => page_flags_string(pa.pages, pfn),
  )
  const backend =
    opts.slab === 'slab'
      ? new ClassicSlab(env, pa, new SlabRegistry(), { init_on_alloc: opts.init_on_alloc, init_on_free: opts.init_on_free })
      : new Slub(env, pa, new SlabRegistry<Slab>(), {
          init_on_alloc: opts.init_on_alloc,
          init_on_free: opts.init_on_free,
          freelist_hardened: opts.freelist_hardened ?? false,
          random32: opts.random32 ?? xorshift32(1),
        })
  const sa = new SlabAllocator(env, pa, backend, opts.slub_debug)
  sa.kmem_cache_init()
  if (backend instanceof Slub) {
    // Sheaves and barns are kmalloc objects: caches created from now on may have them.
    backend.kmalloc_hook = (size, gfp, caller) => sa.kmalloc(size, gfp, caller)
    backend.kfree_hook = (x, caller) => sa.kfree(x, caller)
  }
  if (backend instanceof ClassicSlab) {
    // From now on SLAB can keep the freelist of large-object slabs in a kmalloc object (OFF_SLAB).
    backend.kmalloc_freelist = (size) => sa.kmalloc(size, GFP_KERNEL, 'alloc_slabmgmt')
    backend.kfree_freelist = (x) => sa.kfree(x, 'slab_destroy')
  }
  if (opts.named_caches !== false) create_named_caches(sa, pa.arch.bits)
  return sa
}

/** Create the named caches (the kernel's boot-time kmem_cache_create() calls). */
export function create_named_caches(sa: SlabAllocator, bits: 32 | 64): KmemCache[] {
  const out: KmemCache[] = []
  for (const c of named_caches) {
    const size = bits === 64 ? c.size64 : c.size32
    const align = c.align === -1 ? size : c.align
    const args: KmemCacheArgs = c.freeptr_offset !== undefined ? { use_freeptr_offset: true, freeptr_offset: bits === 64 ? c.freeptr_offset : c.freeptr_offset / 2 } : {}
    if (c.sheaf_capacity) args.sheaf_capacity = c.sheaf_capacity
    // The constructors (radix_tree_node_ctor, inode_init_once, anon_vma_ctor, ...) start by zeroing the object.
    const ctor = c.ctor ? (objp: number): void => sa.env.mem.memset(objp, 0, size) : null
    const s = sa.kmem_cache_create(c.name, size, align, c.flags, ctor, args)
    if (s) out.push(s)
  }
  return out
}
