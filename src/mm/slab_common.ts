/**
 * The allocator-independent slab layer (Kernel: mm/slab_common.c, the
 * kmalloc part of mm/slub.c): kmem_cache_create/destroy/shrink, the kmalloc
 * caches and their selection by size and GFP type, large kmalloc straight
 * from the page allocator, kfree/ksize/krealloc, and the list of caches
 * /proc/slabinfo walks. The per-object work is done by a backend: SLUB
 * (slub.ts, the default) or the classic SLAB (slab.ts).
 *
 * Invariants:
 *  - slab_caches holds every live cache, newest first as list_add() leaves it;
 *  - every large kmalloc block is a compound page of PGTY_large_kmalloc
 *    accounted in NR_SLAB_UNRECLAIMABLE_B, and is in `large_kmalloc`;
 *  - NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B equals the bytes of all
 *    slab pages plus large kmalloc pages.
 */
import { EINVAL, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { __GFP_COMP, __GFP_ZERO, GFP_KERNEL, GFP_NOWAIT, gfp_names, type gfp_t } from './gfp.js'
import { PGTY_large_kmalloc, PGTY_none, PGTY_slab } from './page.js'
import { NR_SLAB_UNRECLAIMABLE_B } from './vmstat.js'
import { calculate_alignment, DEBUG_DEFAULT_FLAGS, get_order, gfp_slab_bug, GFP_SLAB_BUG_MASK, KMALLOC_CGROUP, kmalloc_index, kmalloc_info, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, KMALLOC_NORMAL, KMALLOC_RECLAIM, KMALLOC_DMA, KMALLOC_SHIFT_HIGH, KMALLOC_SHIFT_LOW, kmalloc_type, NR_KMALLOC_TYPES, SLAB_ACCOUNT, SLAB_CACHE_DMA, SLAB_CONSISTENCY_CHECKS, SLAB_FAILSLAB, SLAB_HWCACHE_ALIGN, SLAB_KMALLOC, SLAB_NO_MERGE, SLAB_NO_OBJ_EXT, SLAB_NO_USER_FLAGS, SLAB_NOLEAKTRACE, SLAB_PANIC, SLAB_POISON, SLAB_RECLAIM_ACCOUNT, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE, ZERO_OR_NULL_PTR, ZERO_SIZE_PTR, type KmemCacheArgs, type KmemCacheCommon, type SlabInfo, type slab_flags_t } from './slab_h.js'
import type { SlabEnv, PageAllocLike } from './slab_env.js'
import { KernelBug } from '../include/bug.js'
import { FailSlab } from './failslab.js'
import { TAINT_BAD_PAGE } from './slab_env.js'
import { kmalloc_cache_text, slab_source_text } from './slab_explain.js'

/** The operations a slab allocator backend provides. */
export interface SlabBackend {
  readonly kind: 'slub' | 'slab'
  create(name: string, size: number, args: KmemCacheArgs, flags: slab_flags_t): KmemCacheCommon | null
  alloc(s: KmemCacheCommon, gfp: gfp_t, orig_size: number, caller: string): number
  free(s: KmemCacheCommon, slab: SlabHandle, x: number, caller: string): void
  shrink(s: KmemCacheCommon): number
  shutdown(s: KmemCacheCommon): number
  get_slabinfo(s: KmemCacheCommon): SlabInfo
  ksize(s: KmemCacheCommon): number
  /** The slab whose head page carries id + 1 in page->private. */
  slab_by_id(id: number): SlabHandle | undefined
  /** Called after a cache is created (e.g. to size per-cpu arrays). */
  setup_cache?(s: KmemCacheCommon): void
  /** Free what the backend allocated for a cache that is going away. */
  release?(s: KmemCacheCommon): void
  /** For explanations: where the last object came from (slab_explain.ts; cleared by the caller). */
  alloc_src?: string
}

/** What the common layer needs to know about a slab. */
export interface SlabHandle {
  readonly cache: KmemCacheCommon
  readonly pfn: number
}

export type KmemCache = KmemCacheCommon

/** A cache's own struct kmem_cache object and its kmem_cache_node object (0 when static at boot). */
interface KmemCacheSparse {
  kmem_cache_obj: number
  node_obj: number
}

export class SlabAllocator {
  /** Kernel: slab_caches (newest first when printed). */
  readonly slab_caches: KmemCache[] = []
  /** Kernel: kmalloc_caches[type][index]. */
  readonly kmalloc_caches: (KmemCache | null)[][] = Array.from({ length: NR_KMALLOC_TYPES }, () => new Array(KMALLOC_SHIFT_HIGH + 1).fill(null))
  /** Head pfn -> order of every live large kmalloc. */
  readonly large_kmalloc = new Map<number, number>()
  /** Kernel: slub_debug flags for every cache, and per-cache blocks ("slub_debug=FZ,kmalloc-64"). */
  private slub_debug: slab_flags_t = 0
  private slub_debug_blocks: { flags: slab_flags_t; names: string[] }[] = []
  kmem_cache: KmemCache | null = null
  kmem_cache_node: KmemCache | null = null
  /** Per cache: its struct kmem_cache object and kmem_cache_node object (allocated from the two boot caches). */
  private readonly meta = new Map<KmemCache, KmemCacheSparse>()
  /** Fault injection: /sys/kernel/debug/failslab (off until its probability is set). */
  readonly failslab: FailSlab
  /**
   * DEBUG_VM: the caches the backend was called on since the checker last
   * looked (null when no checker runs). Every backend call goes through this
   * class, so the per-call check (check_slab with `dirty`) recounts only these.
   */
  debug_dirty: Set<KmemCache> | null = null

  constructor(
    readonly env: SlabEnv,
    readonly pa: PageAllocLike,
    readonly backend: SlabBackend,
    slub_debug?: string,
  ) {
    if (slub_debug !== undefined) this.setup_slub_debug(slub_debug)
    this.failslab = new FailSlab(0, env.printk)
  }

  /** `s`, noted as changed for the DEBUG_VM recount (debug_dirty) before a backend call on it. */
  private dirty(s: KmemCache): KmemCache {
    this.debug_dirty?.add(s)
    return s
  }

  /** Kernel: slab_pre_alloc_hook()'s should_failslab(): an injected failure of an allocation from `s`. */
  private should_failslab(s: KmemCache, gfp: gfp_t): boolean {
    return this.failslab.probability !== 0 &&
      this.failslab.should_failslab(s.object_size, gfp, s === this.kmem_cache, (s.flags & SLAB_FAILSLAB) !== 0)
  }

  // ------------------------------------------------------------ boot

  /** Kernel: setup_slub_debug() / parse_slub_debug_flags(): the `slub_debug=` boot option. */
  private setup_slub_debug(str: string): void {
    if (str === '') {
      this.slub_debug = DEBUG_DEFAULT_FLAGS
      return
    }
    let global = DEBUG_DEFAULT_FLAGS
    for (const block of str.split(';').filter((b) => b.length)) {
      const comma = block.indexOf(',')
      const opts = comma < 0 ? block : block.slice(0, comma)
      let flags = comma === 0 ? DEBUG_DEFAULT_FLAGS : 0
      for (const ch of opts.toLowerCase()) {
        if (ch === '-') flags = 0
        else if (ch === 'f') flags |= SLAB_CONSISTENCY_CHECKS
        else if (ch === 'z') flags |= SLAB_RED_ZONE
        else if (ch === 'p') flags |= SLAB_POISON
        else if (ch === 'u') flags |= SLAB_STORE_USER
        else if (ch === 't') flags |= SLAB_TRACE
        else if (ch === 'a') flags |= SLAB_FAILSLAB
        else if (ch !== 'o') this.env.printk.pr_err(`slab_debug option '${ch}' unknown. skipped`)
      }
      if (comma < 0) global = flags
      else this.slub_debug_blocks.push({ flags, names: block.slice(comma + 1).split(',').filter((n) => n.length) })
    }
    this.slub_debug = this.slub_debug_blocks.length && !str.split(';').some((b) => b.length && !b.includes(',')) ? 0 : global
  }

  /** Kernel: kmem_cache_flags(): the debug flags a cache of this name gets. */
  private kmem_cache_flags(flags: slab_flags_t, name: string): slab_flags_t {
    if (flags & SLAB_NO_USER_FLAGS) return flags
    let local = this.slub_debug
    if (flags & SLAB_NOLEAKTRACE) local &= ~SLAB_STORE_USER
    for (const b of this.slub_debug_blocks) {
      for (const n of b.names) {
        const glob = n.indexOf('*')
        if (glob >= 0 ? name.startsWith(n.slice(0, glob)) : name === n) return flags | b.flags
      }
    }
    return flags | local
  }

  /**
   * Kernel: kmem_cache_init() + create_kmalloc_caches(): the two boot
   * caches, then every kmalloc cache in the kernel's creation order, then
   * kmalloc_buckets (CONFIG_SLAB_BUCKETS).
   */
  kmem_cache_init(): void {
    const g = this.env.geo
    // sizeof(struct kmem_cache_node): list_lock, nr_partial, partial, nr_slabs, total_objects, full, barn.
    const sizeof_kmem_cache_node = 8 + 8 + 2 * g.ptr_size + 8 + 8 + 2 * g.ptr_size + g.ptr_size
    this.kmem_cache_node = this.create_boot_cache('kmem_cache_node', sizeof_kmem_cache_node, SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT)
    // offsetof(struct kmem_cache, node) + nr_node_ids * sizeof(struct kmem_cache_node *).
    const offsetof_node = 28 * g.ptr_size
    this.kmem_cache = this.create_boot_cache('kmem_cache', offsetof_node + 1 * g.ptr_size, SLAB_HWCACHE_ALIGN | SLAB_NO_OBJ_EXT)
    // bootstrap(): the boot caches move into objects of kmem_cache, kmem_cache first.
    this.bootstrap(this.kmem_cache)
    this.bootstrap(this.kmem_cache_node)
    for (let type = KMALLOC_NORMAL; type < NR_KMALLOC_TYPES; type++) {
      this.new_kmalloc_cache(1, type)
      this.new_kmalloc_cache(2, type)
      for (let i = KMALLOC_SHIFT_LOW; i <= KMALLOC_SHIFT_HIGH; i++) this.new_kmalloc_cache(i, type)
    }
    // kmem_buckets: one cache pointer per kmalloc index.
    this.kmem_cache_create('kmalloc_buckets', (KMALLOC_SHIFT_HIGH + 1) * g.ptr_size, 0, SLAB_NO_MERGE, null)
    this.env.printk.pr_info(
      this.backend.kind === 'slub'
        ? `SLUB: HWalign=${g.cache_line}, Order=0-3, MinObjects=0, CPUs=${g.nr_cpus}, Nodes=1`
        : `SLAB: HWalign=${g.cache_line}, CPUs=${g.nr_cpus}, Nodes=1`,
    )
  }

  /** Kernel: create_boot_cache(). */
  private create_boot_cache(name: string, size: number, flags: slab_flags_t, useroffset = 0, usersize = 0): KmemCache {
    let align = 8
    if (flags & SLAB_KMALLOC) align = Math.max(align, size & -size)
    align = calculate_alignment(this.env.geo, flags, align, size)
    const s = this.backend.create(name, size, { align, useroffset, usersize }, this.kmem_cache_flags(flags, name))
    if (!s) throw new KernelBug(`create_boot_cache: Error creating slab ${name} size=${size}`)
    s.refcount = -1
    this.backend.setup_cache?.(this.dirty(s))
    // early_kmem_cache_node_alloc(): the node structure of a boot cache.
    if (this.kmem_cache_node) this.meta_alloc(s, false)
    else this.meta.set(s, { kmem_cache_obj: 0, node_obj: this.backend.alloc(this.dirty(s), GFP_NOWAIT, s.object_size, 'early_kmem_cache_node_alloc') })
    return s
  }

  /** Kernel: bootstrap(): the static boot cache now lives in a kmem_cache object. */
  private bootstrap(s: KmemCache): void {
    const m = this.meta.get(s) as KmemCacheSparse
    m.kmem_cache_obj = this.backend.alloc(this.dirty(this.kmem_cache as KmemCache), GFP_NOWAIT | __GFP_ZERO, (this.kmem_cache as KmemCache).object_size, 'bootstrap')
    this.slab_caches.unshift(s)
  }

  /** Allocate the struct kmem_cache (unless boot) and kmem_cache_node objects of a new cache. */
  private meta_alloc(s: KmemCache, with_cache_obj: boolean): boolean {
    const kc = this.kmem_cache
    const kn = this.kmem_cache_node as KmemCache
    const cache_obj = with_cache_obj && kc ? this.backend.alloc(this.dirty(kc), GFP_KERNEL | __GFP_ZERO, kc.object_size, '__kmem_cache_create_args') : 0
    if (with_cache_obj && kc && !cache_obj) return false
    const node_obj = this.backend.alloc(this.dirty(kn), GFP_KERNEL, kn.object_size, 'init_kmem_cache_nodes')
    if (!node_obj) return false
    this.meta.set(s, { kmem_cache_obj: cache_obj, node_obj })
    return true
  }

  /** Kernel: new_kmalloc_cache(). */
  private new_kmalloc_cache(idx: number, type: number): void {
    let flags: slab_flags_t = 0
    if (type === KMALLOC_RECLAIM) flags |= SLAB_RECLAIM_ACCOUNT
    else if (type === KMALLOC_CGROUP) flags |= SLAB_ACCOUNT
    else if (type === KMALLOC_DMA) flags |= SLAB_CACHE_DMA
    if (type === KMALLOC_NORMAL) flags |= SLAB_NO_MERGE
    if (this.kmalloc_caches[type][idx]) return
    const info = kmalloc_info[idx]
    const s = this.create_boot_cache(info.name[type], info.size, flags | SLAB_KMALLOC, 0, info.size)
    // create_kmalloc_cache(): the struct kmem_cache itself comes from kmem_cache.
    const m = this.meta.get(s) as KmemCacheSparse
    const kc = this.kmem_cache as KmemCache
    m.kmem_cache_obj = this.backend.alloc(this.dirty(kc), GFP_NOWAIT | __GFP_ZERO, kc.object_size, 'create_kmalloc_cache')
    s.refcount = 1
    this.slab_caches.unshift(s)
    this.kmalloc_caches[type][idx] = s
  }

  // ------------------------------------------------------------ caches

  /**
   * Kernel: kmem_cache_create(). Returns the new cache, or null (after
   * Linux's warning) when the arguments are invalid or memory is short.
   */
  kmem_cache_create(name: string, size: number, align: number, flags: slab_flags_t, ctor: ((objp: number) => void) | null, args: KmemCacheArgs = {}): KmemCache | null {
    let err = 0
    if (!name || !Number.isInteger(size) || size <= 0 || size > KMALLOC_MAX_SIZE || !Number.isInteger(align) || align < 0) err = -EINVAL
    let s: KmemCache | null = null
    if (!err) {
      const a: KmemCacheArgs = { ...args, ctor, align: calculate_alignment(this.env.geo, flags, align, size) }
      if (!a.usersize || (a.useroffset ?? 0) + a.usersize > size) a.usersize = a.useroffset = 0
      s = this.backend.create(name, size, a, this.kmem_cache_flags(flags, name))
      if (!s) err = -EINVAL
      else {
        this.backend.setup_cache?.(this.dirty(s))
        if (!this.meta_alloc(s, true)) {
          err = -ENOMEM
          s = null
        }
      }
    }
    if (err || !s) {
      if (flags & SLAB_PANIC) throw new KernelBug(`__kmem_cache_create_args: Failed to create slab '${name}'. Error ${err}`)
      this.env.printk.pr_warn(`__kmem_cache_create_args(${name}) failed with error ${err}`)
      return null
    }
    this.slab_caches.unshift(s)
    return s
  }

  /** Look up a live cache by name (like `grep name /proc/slabinfo`), or null. */
  find_cache(name: string): KmemCache | null {
    return this.slab_caches.find((c) => c.name === name) ?? null
  }

  /**
   * Caches kmem_cache_destroy() released, with the address their struct kmem_cache had: a
   * later use is a use-after-free of that object. Linux finds it with KASAN
   * (kmem_cache_destroy() starts with kasan_check_byte(s) and returns when it fails); here it
   * is always caught, reported in KASAN's words, and the call does nothing.
   */
  private readonly destroyed = new WeakMap<KmemCache, number>()
  private nr_destroyed = 0

  /** True (after the report) when `s` was destroyed: the caller must not touch it. */
  private use_after_destroy(s: KmemCache, func: string): boolean {
    // Every allocation and free asks: no WeakMap lookup while no cache was ever destroyed.
    if (this.nr_destroyed === 0) return false
    const addr = this.destroyed.get(s)
    if (addr === undefined) return false
    const p = this.env.printk
    const { pid, comm } = this.env.task()
    p.printk(3, '==================================================================')
    p.printk(3, `BUG: KASAN: slab-use-after-free in ${func}`)
    p.printk(3, `Read of size 4 at addr ${this.env.mem.px(addr)} by task ${comm}/${pid}`)
    p.printk(3, '')
    p.printk(3, `The buggy address belongs to the object at ${this.env.mem.px(addr)}`)
    p.printk(3, ` which belongs to the cache kmem_cache of size ${(this.kmem_cache as KmemCache).object_size}`)
    p.printk(3, '==================================================================')
    this.env.add_taint(TAINT_BAD_PAGE)
    return true
  }

  /** Kernel: kmem_cache_destroy(): complains (and keeps the cache) if objects remain. */
  kmem_cache_destroy(s: KmemCache | null, caller = 'kmem_cache_destroy'): void {
    if (!s) return
    if (this.use_after_destroy(s, 'kmem_cache_destroy')) return
    if (s.refcount < 0) return
    s.refcount--
    if (s.refcount > 0) return
    const err = this.backend.shutdown(this.dirty(s))
    if (err) {
      this.env.warn('mm/slab_common.c', 'kmem_cache_destroy', `kmem_cache_destroy ${s.name}: Slab cache still has objects when called from ${caller}`)
      return
    }
    this.slab_caches.splice(this.slab_caches.indexOf(s), 1)
    this.backend.release?.(s)
    const m = this.meta.get(s)
    this.destroyed.set(s, m?.kmem_cache_obj ?? 0)
    this.nr_destroyed++
    if (m) {
      if (m.node_obj) this.free_obj(this.kmem_cache_node as KmemCache, m.node_obj, 'kmem_cache_release')
      if (m.kmem_cache_obj) this.free_obj(this.kmem_cache as KmemCache, m.kmem_cache_obj, 'kmem_cache_release')
      this.meta.delete(s)
    }
  }

  /** Kernel: kmem_cache_shrink(): give empty slabs back to the page allocator. Returns 1 if slabs remain. */
  kmem_cache_shrink(s: KmemCache): number {
    if (this.use_after_destroy(s, 'kmem_cache_shrink')) return 0
    return this.backend.shrink(this.dirty(s))
  }

  /** Kernel: kmem_cache_alloc(). Returns the object address, or 0. */
  kmem_cache_alloc(s: KmemCache, gfp: gfp_t, caller = 'kmem_cache_alloc'): number {
    if (this.use_after_destroy(s, 'kmem_cache_alloc_noprof')) return 0
    if (gfp_slab_bug(gfp)) gfp = this.kmalloc_fix_flags(gfp)
    const tr = this.pa.trace
    if (tr.explaining && this.backend.alloc_src !== undefined) this.backend.alloc_src = ''
    const ret = this.should_failslab(s, gfp) ? 0 : this.backend.alloc(this.dirty(s), gfp, s.object_size, caller)
    if (tr.explaining) this.explain_object(s, ret, `kmem_cache_alloc(${s.name})`)
    if (tr.enabled) {
      tr.emit('kmem_cache_alloc', () =>
        `call_site=${caller} ptr=${this.env.mem.px(ret)} bytes_req=${s.object_size} bytes_alloc=${s.size} gfp_flags=${gfp_names(gfp)} node=-1 accounted=${(gfp & 0x400000) !== 0 || (s.flags & SLAB_ACCOUNT) !== 0 ? 'true' : 'false'}`,
      )
    }
    return ret
  }

  /** Kernel: kmem_cache_zalloc(). */
  kmem_cache_zalloc(s: KmemCache, gfp: gfp_t, caller = 'kmem_cache_zalloc'): number {
    return this.kmem_cache_alloc(s, gfp | __GFP_ZERO, caller)
  }

  /** Kernel: kmem_cache_free(). */
  kmem_cache_free(s: KmemCache, x: number, caller = 'kmem_cache_free'): void {
    if (this.use_after_destroy(s, 'kmem_cache_free')) return
    const slab = this.virt_to_slab(x)
    if (!slab) {
      this.env.warn('mm/slab.h', 'virt_to_cache', 'virt_to_cache: Object is not a Slab page!')
      return
    }
    if (slab.cache !== s) {
      this.env.warn('mm/slab.h', 'cache_from_obj', `cache_from_obj: Wrong slab cache. ${s.name} but object is from ${slab.cache.name}`)
      s = slab.cache
    }
    if (this.pa.trace.enabled) this.pa.trace.emit('kmem_cache_free', () => `call_site=${caller} ptr=${this.env.mem.px(x)} name=${s.name}`)
    this.backend.free(this.dirty(s), slab, x, caller)
  }

  private free_obj(s: KmemCache, x: number, caller: string): void {
    const slab = this.virt_to_slab(x)
    if (slab) this.backend.free(this.dirty(s), slab, x, caller)
  }

  /** Kernel: virt_to_slab(): the slab holding a direct-map address, or null. */
  virt_to_slab(x: number): SlabHandle | null {
    const pfn = this.pa.virt_to_pfn(x)
    if (pfn < 0) return null
    const head = this.pa.compound_head(pfn)
    const pages = this.pa.pages
    if (pages.page_type[head] !== PGTY_slab) return null
    return this.backend.slab_by_id(pages.private[head] - 1) ?? null
  }

  // ------------------------------------------------------------ kmalloc

  /** Kernel: kmalloc_fix_flags(). */
  private kmalloc_fix_flags(flags: gfp_t): gfp_t {
    const invalid = flags & GFP_SLAB_BUG_MASK
    const fixed = flags & ~GFP_SLAB_BUG_MASK
    this.env.printk.pr_warn(`Unexpected gfp: 0x${invalid.toString(16)} (${gfp_names(invalid)}). Fixing up to gfp: 0x${fixed.toString(16)} (${gfp_names(fixed)}). Fix your code!`)
    return fixed
  }

  /** Kernel: kmalloc_slab(): the cache kmalloc(size, flags) uses. */
  kmalloc_slab(size: number, flags: gfp_t): KmemCache {
    return this.kmalloc_caches[kmalloc_type(flags)][kmalloc_index(size)] as KmemCache
  }

  /** Kernel: __kmalloc_large_node(): compound pages straight from the buddy allocator. */
  private kmalloc_large(size: number, flags: gfp_t): number {
    if (gfp_slab_bug(flags)) flags = this.kmalloc_fix_flags(flags)
    const order = get_order(size)
    const pfn = this.pa.alloc_pages(flags | __GFP_COMP, order)
    if (pfn < 0) return 0
    this.pa.pages.page_type[pfn] = PGTY_large_kmalloc
    this.large_kmalloc.set(pfn, order)
    this.pa.vmstat.mod_node_page_state(NR_SLAB_UNRECLAIMABLE_B, PAGE_SIZE * 2 ** order)
    return this.pa.page_address(pfn)
  }

  /** Kernel: free_large_kmalloc(). */
  private free_large_kmalloc(head: number): void {
    const pages = this.pa.pages
    const order = this.large_kmalloc.get(head)
    if (pages.page_type[head] !== PGTY_large_kmalloc || order === undefined) {
      this.env.warn('mm/slub.c', 'free_large_kmalloc')
      this.env.printk.pr_warn(
        `page: refcount:${pages._refcount[head]} mapcount:${pages._mapcount[head]} mapping:${'0'.repeat(this.env.geo.ptr_size * 2)} index:0x${pages.index[head].toString(16)} pfn:0x${head.toString(16)}`,
      )
      this.env.printk.pr_warn('page dumped because: Not a kmalloc allocation')
      return
    }
    this.pa.vmstat.mod_node_page_state(NR_SLAB_UNRECLAIMABLE_B, -PAGE_SIZE * 2 ** order)
    pages.page_type[head] = PGTY_none
    this.large_kmalloc.delete(head)
    this.pa.__free_pages(head, order)
  }

  /** Kernel: kmalloc(). Returns the object address, ZERO_SIZE_PTR for size 0, or 0 on failure. */
  kmalloc(size: number, flags: gfp_t, caller = 'kmalloc'): number {
    if (!Number.isInteger(size) || size < 0) return 0
    let ret: number
    let bytes_alloc: number
    if (size > KMALLOC_MAX_CACHE_SIZE) {
      ret = this.kmalloc_large(size, flags)
      bytes_alloc = PAGE_SIZE * 2 ** get_order(size)
      if (this.pa.trace.explaining) {
        this.pa.trace.explain('slab', () => `kmalloc(${size}): larger than the largest kmalloc cache (${KMALLOC_MAX_CACHE_SIZE} bytes): kmalloc_large takes an order-${get_order(size)} compound page from the page allocator${ret ? `, object 0x${this.env.mem.px(ret)}` : ', failed'}`)
      }
    } else if (size === 0) {
      return ZERO_SIZE_PTR
    } else {
      if (gfp_slab_bug(flags)) flags = this.kmalloc_fix_flags(flags)
      const s = this.kmalloc_slab(size, flags)
      const explaining = this.pa.trace.explaining
      if (explaining && this.backend.alloc_src !== undefined) this.backend.alloc_src = ''
      ret = this.should_failslab(s, flags) ? 0 : this.backend.alloc(this.dirty(s), flags, size, caller)
      bytes_alloc = s.size
      if (explaining) this.explain_object(s, ret, `kmalloc(${size}): ${kmalloc_cache_text(size, flags)}`)
    }
    const tr = this.pa.trace
    if (tr.enabled) {
      tr.emit('kmalloc', () =>
        `call_site=${caller} ptr=${this.env.mem.px(ret)} bytes_req=${size} bytes_alloc=${bytes_alloc} gfp_flags=${gfp_names(flags)} node=-1 accounted=${flags & 0x400000 ? 'true' : 'false'}`,
      )
    }
    return ret
  }

  /** One explanation line: the cache's choice (`why`), then where the object came from. */
  private explain_object(s: KmemCache, ret: number, why: string): void {
    const src = this.backend.alloc_src
    this.pa.trace.explain('slab', () => {
      if (!ret) return `${why}; failed: no object`
      const slab = this.virt_to_slab(ret)
      return `${why}; object 0x${this.env.mem.px(ret)} of ${s.name} (${s.size} bytes each) from ${slab_source_text(src)}${slab ? `, slab at pfn 0x${slab.pfn.toString(16)}` : ''}`
    })
  }

  /** Kernel: kzalloc(). */
  kzalloc(size: number, flags: gfp_t, caller = 'kzalloc'): number {
    return this.kmalloc(size, flags | __GFP_ZERO, caller)
  }

  /** Kernel: kmalloc_array(): 0 when n * size overflows. */
  kmalloc_array(n: number, size: number, flags: gfp_t, caller = 'kmalloc_array'): number {
    const bytes = n * size
    if (!Number.isSafeInteger(bytes) || bytes > 2 ** (this.env.geo.ptr_size * 8) - 1) return 0
    return this.kmalloc(bytes, flags, caller)
  }

  /** Kernel: kcalloc(). */
  kcalloc(n: number, size: number, flags: gfp_t, caller = 'kcalloc'): number {
    return this.kmalloc_array(n, size, flags | __GFP_ZERO, caller)
  }

  /** Kernel: kfree(). NULL and ZERO_SIZE_PTR are ignored. */
  kfree(x: number, caller = 'kfree'): void {
    if (this.pa.trace.enabled) this.pa.trace.emit('kfree', () => `call_site=${caller} ptr=${this.env.mem.px(x)}`)
    if (ZERO_OR_NULL_PTR(x)) return
    const pfn = this.pa.virt_to_pfn(x)
    if (pfn < 0) {
      this.env.warn('mm/slub.c', 'kfree', `kfree: ${this.env.mem.p(x)} is not a direct-map address`)
      return
    }
    const head = this.pa.compound_head(pfn)
    if (this.pa.pages.page_type[head] !== PGTY_slab) {
      this.free_large_kmalloc(head)
      return
    }
    const slab = this.backend.slab_by_id(this.pa.pages.private[head] - 1)
    if (!slab) throw new KernelBug(`kfree: slab page 0x${head.toString(16)} has no slab`)
    this.backend.free(this.dirty(slab.cache), slab, x, caller)
  }

  /** Kernel: __ksize() / ksize(): usable bytes of an allocation (0 for NULL or a bad pointer). */
  ksize(x: number): number {
    if (ZERO_OR_NULL_PTR(x)) return 0
    const pfn = this.pa.virt_to_pfn(x)
    if (pfn < 0) return 0
    const head = this.pa.compound_head(pfn)
    const pages = this.pa.pages
    if (pages.page_type[head] !== PGTY_slab) {
      const order = this.large_kmalloc.get(head)
      if (order === undefined || x !== this.pa.page_address(head)) {
        this.env.warn('mm/slub.c', '__ksize')
        return 0
      }
      return PAGE_SIZE * 2 ** order
    }
    const slab = this.backend.slab_by_id(pages.private[head] - 1) as SlabHandle
    return this.backend.ksize(slab.cache)
  }

  /** Kernel: kmalloc_size_roundup(). */
  kmalloc_size_roundup(size: number): number {
    if (size && size <= KMALLOC_MAX_CACHE_SIZE) return this.kmalloc_slab(size, GFP_KERNEL).object_size
    if (size && size <= KMALLOC_MAX_SIZE) return PAGE_SIZE * 2 ** get_order(size)
    return size
  }

  /**
   * Kernel: krealloc(): grow or shrink an allocation, keeping its contents.
   * Size 0 frees and returns ZERO_SIZE_PTR; failure returns 0 and keeps p.
   */
  krealloc(p: number, new_size: number, flags: gfp_t, caller = 'krealloc'): number {
    if (new_size === 0) {
      this.kfree(p, caller)
      return ZERO_SIZE_PTR
    }
    let ks = 0
    if (!ZERO_OR_NULL_PTR(p)) {
      const slab = this.virt_to_slab(p)
      if (slab) ks = slab.cache.object_size
      else ks = this.ksize(p)
      if (new_size <= ks) {
        if (flags & __GFP_ZERO) this.env.mem.memset(p + new_size, 0, ks - new_size)
        return p
      }
    }
    const ret = this.kmalloc(new_size, flags, caller)
    if (ret && !ZERO_OR_NULL_PTR(p)) {
      this.env.mem.memcpy(ret, p, ks)
      this.kfree(p, caller)
    }
    return ret
  }

  // ------------------------------------------------------------ info

  /** Kernel: get_slabinfo() for every cache, in /proc/slabinfo order. */
  slabinfo(): { cache: KmemCache; info: SlabInfo }[] {
    return this.slab_caches.map((cache) => ({ cache, info: this.backend.get_slabinfo(cache) }))
  }

  /** All kmalloc caches (for tests and the demo). */
  kmalloc_cache(type: number, idx: number): KmemCache | null {
    return this.kmalloc_caches[type][idx]
  }

  /** Meta objects owned by the slab layer itself (for the invariant checker). */
  meta_objects(): number[] {
    const out: number[] = []
    for (const m of this.meta.values()) {
      if (m.kmem_cache_obj) out.push(m.kmem_cache_obj)
      if (m.node_obj) out.push(m.node_obj)
    }
    return out
  }
}

