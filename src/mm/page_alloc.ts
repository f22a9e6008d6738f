/**
 * The page allocator's entry points (Kernel: mm/page_alloc.c):
 * __alloc_pages() with its fast path (the low watermark) and slow path
 * (min watermark, reserves by GFP, direct reclaim hook, the failure warning),
 * prep_new_page, __free_pages and boot-time __free_pages_core, zonelists and
 * gfp_zone(). The free lists live in mm/buddy.ts, the per-CPU lists in
 * mm/pcp.ts.
 *
 * Invariants (checked by mm/debug_vm.ts after every operation in tests):
 *  - every frame of a zone is in exactly one state: inside a free buddy
 *    block, on one pcp list, reserved, or inside one allocated block;
 *  - an allocated block's head has a reference and its page_owner order.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { ArchProfile } from '../arch/profile.js'
import type { PhysMem } from '../hw/physmem.js'
import type { Printk } from '../include/printk.js'
import type { Tracer } from '../include/trace.js'
import { KernelBug } from '../include/bug.js'
import { UTS_RELEASE } from '../include/version.js'
import { COST_NS, type Clock } from '../hw/clock.js'
import { try_to_free_pages, type TryToFreePages } from './vmscan_direct.js'
import { oom_control, type OomKiller } from './oom_kill.js'
import {
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGH,
  __GFP_HIGHMEM,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_MOVABLE,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  __GFP_ZERO,
  format_gfp,
  gfp_migratetype,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE,
  type gfp_t,
} from './gfp.js'
import {
  MAX_PAGE_ORDER,
  NR_PAGE_ORDERS,
  MAX_RECLAIM_RETRIES,
  PAGE_ALLOC_COSTLY_ORDER,
  ZONE_BELOW_HIGH,
  ZONE_BOOSTED_WATERMARK,
  NR_FREE_PAGES,
  NR_ZONE_ACTIVE_ANON,
  NR_ZONE_ACTIVE_FILE,
  NR_ZONE_INACTIVE_ANON,
  NR_ZONE_INACTIVE_FILE,
  type Zone,
} from './mmzone.js'
import { PG_head, PGTY_none, type PageArray, type Pfn } from './page.js'
import type { VmStat } from './vmstat.js'
import { PGALLOC_DMA, PGFREE } from './vm_event_item.js'
import { PcpLists, pcp_allowed_order } from './pcp.js'
import { FailPageAlloc } from './fail_page_alloc.js'
import { free_pages_check_bad } from './bad_page.js'
import {
  ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE, ALLOC_NO_WATERMARKS, ALLOC_NOFRAGMENT, ALLOC_NON_BLOCK,
  ALLOC_OOM, ALLOC_WMARK_HIGH, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, type PageAllocatorOptions,
} from './buddy.js'

export {
  ALLOC_CPUSET, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE, ALLOC_NO_WATERMARKS, ALLOC_NOFRAGMENT, ALLOC_NON_BLOCK,
  ALLOC_OOM, ALLOC_WMARK_HIGH, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK, ALLOC_WMARK_MIN, type PageAllocatorOptions,
} from './buddy.js'

/** Marker in lru_prev of a compound tail page; lru_next then holds the head PFN. */
const COMPOUND_TAIL = -2


export class PageAllocator extends PcpLists {
  /** Name of the current task, for warnings ("swapper/0" at boot). */
  comm = 'swapper/0'
  pid = 0
  /** Lowest PFN above lowmem (max_low_pfn): pages at or above it are HIGHMEM. */
  max_low_pfn: number
  /** Set by highmem once it exists: the kmap address of a HIGHMEM page, or 0. */
  highmem_page_address: ((pfn: Pfn) => number) | null = null
  /** Direct reclaim (Kernel: try_to_free_pages(), mm/vmscan_direct.ts until the LRU branch replaces it). */
  try_to_free_pages: TryToFreePages = try_to_free_pages
  /** Kernel: wakeup_kswapd() (mm/kswapd.ts; the machine wires it; an allocator built alone has no kswapd). */
  wakeup_kswapd: (zone: Zone, gfp: gfp_t, order: number, highest_zoneidx: number) => void = () => {}
  /** Kernel: get_nr_swap_pages() (free swap slots; the machine wires it): anon pages count as reclaimable only with swap. */
  nr_swap_pages: () => number = () => 0
  /** The machine's clock: page zeroing and boot-time page init are charged to it. */
  clock: Clock | null = null
  /** The OOM killer (mm/oom_kill.ts); the machine installs it once tasks exist. */
  oom: OomKiller | null = null
  /** Whether current is an OOM victim (tsk_is_oom_victim(current)); the machine installs the test. */
  oom_current_is_victim: () => boolean = () => false
  /** Fault injection: /sys/kernel/debug/fail_page_alloc (off until its probability is set). */
  readonly fail_page_alloc: FailPageAlloc
  private readonly page_offset_pfn: number

  constructor(
    arch: ArchProfile,
    pages: PageArray,
    physmem: PhysMem,
    zones: Zone[],
    vmstat: VmStat,
    printk: Printk,
    trace: Tracer,
    opts: PageAllocatorOptions,
  ) {
    super(arch, pages, physmem, zones, vmstat, printk, trace, opts)
    this.page_offset_pfn = arch.PAGE_OFFSET / PAGE_SIZE
    this.fail_page_alloc = new FailPageAlloc(0, printk)
    this.max_low_pfn = Math.min(pages.nr, arch.max_low_phys / PAGE_SIZE)
  }

  /** Kernel: page_address(): the direct-map address, the kmap address of a HIGHMEM page, or 0. */
  page_address(pfn: Pfn): number {
    if (pfn < this.max_low_pfn) return (this.page_offset_pfn + pfn) * PAGE_SIZE
    return this.highmem_page_address ? this.highmem_page_address(pfn) : 0
  }

  /** Kernel: __pa() / virt_to_pfn() for direct-map addresses; -1 outside the direct map. */
  virt_to_pfn(va: number): Pfn {
    const pfn = Math.floor(va / PAGE_SIZE) - this.page_offset_pfn
    return pfn >= 0 && pfn < this.max_low_pfn ? pfn : -1
  }

  /** Kernel: pfn_to_virt() / __va(). */
  pfn_to_virt(pfn: Pfn): number {
    return (this.page_offset_pfn + pfn) * PAGE_SIZE
  }

  /** Kernel: compound_head(). */
  compound_head(pfn: Pfn): Pfn {
    return this.pages.lru_prev[pfn] === COMPOUND_TAIL ? this.pages.lru_next[pfn] : pfn
  }

  /** Kernel: compound_order() (0 for a non-compound page). */
  compound_order(pfn: Pfn): number {
    return this.pages.test(pfn, PG_head) ? this.pages.order[pfn] : 0
  }

  /** Kernel: gfp_zone(): the highest zone an allocation may use. */
  gfp_zone(gfp: gfp_t): number {
    const zl = this.arch.zones
    const dma = (gfp & __GFP_DMA) !== 0
    const dma32 = (gfp & __GFP_DMA32) !== 0
    const high = (gfp & __GFP_HIGHMEM) !== 0
    const movable = (gfp & __GFP_MOVABLE) !== 0
    if (Number(dma) + Number(dma32) + Number(high) > 1) {
      throw new KernelBug(`gfp_zone: invalid zone modifiers in ${format_gfp(gfp)}`)
    }
    if (dma) return zl.ZONE_DMA
    if (dma32) return zl.ZONE_DMA32 >= 0 ? zl.ZONE_DMA32 : zl.ZONE_NORMAL
    if (high && movable) return zl.ZONE_MOVABLE
    if (high) return zl.ZONE_HIGHMEM >= 0 ? zl.ZONE_HIGHMEM : zl.ZONE_NORMAL
    return zl.ZONE_NORMAL
  }

  // ------------------------------------------------------------ allocation

  /** Kernel: rmqueue(). */
  private rmqueue(zone: Zone, order: number, alloc_flags: number, mt: number): Pfn {
    if (pcp_allowed_order(order)) {
      const pfn = this.rmqueue_pcplist(zone, order, mt, alloc_flags)
      if (pfn >= 0) return this.rmqueue_boosted(zone, alloc_flags, pfn)
    }
    // rmqueue_buddy()
    let pfn = -1
    if (order > 0 && alloc_flags & ALLOC_HIGHATOMIC) pfn = this.__rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC)
    if (pfn < 0) {
      pfn = this.__rmqueue(zone, order, mt, alloc_flags)
      // Below the min watermark an atomic request may still use the highatomic reserve.
      if (pfn < 0 && alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)) pfn = this.__rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC)
    }
    return pfn < 0 ? pfn : this.rmqueue_boosted(zone, alloc_flags, pfn)
  }

  /** rmqueue()'s end: a zone whose watermarks a fallback boosted wakes kswapd to pay the boost off. */
  private rmqueue_boosted(zone: Zone, alloc_flags: number, pfn: Pfn): Pfn {
    if (alloc_flags & ALLOC_KSWAPD && zone.flags & ZONE_BOOSTED_WATERMARK) {
      zone.flags &= ~ZONE_BOOSTED_WATERMARK
      this.wakeup_kswapd(zone, 0, 0, zone.idx)
    }
    return pfn
  }

  /** Kernel: wake_all_kswapds(): the node's kswapd, for the zonelist's first zone (single node). */
  private wake_all_kswapds(order: number, gfp: gfp_t, highest_zoneidx: number): void {
    const zone = this.zonelist(highest_zoneidx)[0]
    if (zone) this.wakeup_kswapd(zone, gfp, order, highest_zoneidx)
  }

  /** Kernel: alloc_flags_nofragment(): avoid mixing types in NORMAL while DMA32 has room. */
  private alloc_flags_nofragment(zone: Zone, gfp: gfp_t): number {
    // ALLOC_KSWAPD from the gfp: a fragmenting fallback of this allocation may wake kswapd.
    const alloc_flags = gfp & __GFP_KSWAPD_RECLAIM ? ALLOC_KSWAPD : 0
    const zl = this.arch.zones
    if (zone.idx !== zl.ZONE_NORMAL || zl.ZONE_DMA32 < 0) return alloc_flags
    return this.zones[zl.ZONE_DMA32].populated ? alloc_flags | ALLOC_NOFRAGMENT : alloc_flags
  }

  /** Kernel: get_page_from_freelist(). */
  private get_page_from_freelist(
    gfp: gfp_t,
    order: number,
    alloc_flags: number,
    highest_zoneidx: number,
    mt: number,
    zonelist: readonly Zone[] = this.zonelist(highest_zoneidx),
  ): Pfn {
    if (!zonelist.length) return -1
    for (;;) {
      const no_fallback = (alloc_flags & ALLOC_NOFRAGMENT) !== 0
      for (const zone of zonelist) {
        if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
          let ok = false
          if (!(zone.flags & ZONE_BELOW_HIGH)) {
            if (this.zone_watermark_fast(zone, order, zone.high_wmark_pages(), highest_zoneidx, alloc_flags)) ok = true
            else zone.flags |= ZONE_BELOW_HIGH
          }
          if (!ok && !this.zone_watermark_fast(zone, order, zone.wmark_pages(alloc_flags & ALLOC_WMARK_MASK), highest_zoneidx, alloc_flags)) {
            continue
          }
        }
        const pfn = this.rmqueue(zone, order, alloc_flags, mt)
        if (pfn >= 0) {
          zone.numa_hit++
          zone.numa_local++
          this.prep_new_page(pfn, order, gfp, zone)
          if (alloc_flags & ALLOC_HIGHATOMIC) this.reserve_highatomic_pageblock(pfn, order, zone)
          return pfn
        }
      }
      if (!no_fallback) return -1
      alloc_flags &= ~ALLOC_NOFRAGMENT
    }
  }

  /** Kernel: gfp_to_alloc_flags(). */
  private gfp_to_alloc_flags(gfp: gfp_t, order: number): number {
    let alloc_flags = ALLOC_WMARK_MIN | ALLOC_CPUSET
    if (gfp & __GFP_HIGH) alloc_flags |= ALLOC_MIN_RESERVE
    if (gfp & __GFP_KSWAPD_RECLAIM) alloc_flags |= ALLOC_KSWAPD
    if (!(gfp & __GFP_DIRECT_RECLAIM)) {
      // Atomic: may dip below min; high-order atomic requests may use (and grow) the highatomic reserve.
      if (!(gfp & __GFP_NOMEMALLOC)) {
        alloc_flags |= ALLOC_NON_BLOCK
        if (order > 0) alloc_flags |= ALLOC_HIGHATOMIC
      }
      alloc_flags &= ~ALLOC_CPUSET
    }
    return alloc_flags
  }

  /** Kernel: prep_new_page() / post_alloc_hook(). */
  private prep_new_page(pfn: Pfn, order: number, gfp: gfp_t, zone: Zone): void {
    const p = this.pages
    const n = 1 << order
    p._refcount[pfn] = 1
    p.owner_order[pfn] = order + 1
    p.lru_prev[pfn] = -1
    this.debug_touched?.push(pfn)
    if (gfp & __GFP_ZERO || this.opts.init_on_alloc) {
      for (let i = 0; i < n; i++) this.physmem.fill(pfn + i, 0)
      this.clock?.advance(COST_NS.clear_page * n)
    }
    if (order && gfp & __GFP_COMP) {
      p.set(pfn, PG_head)
      p.order[pfn] = order
      for (let i = 1; i < n; i++) {
        p.lru_prev[pfn + i] = COMPOUND_TAIL
        p.lru_next[pfn + i] = pfn
      }
    }
    this.vmstat.__count_zid_vm_events(PGALLOC_DMA, zone.idx, n)
    if (this.trace.enabled) this.trace.emit('mm_page_alloc', () =>
      `page=${this.page_ptr(pfn)} pfn=0x${pfn.toString(16)} order=${order} migratetype=${gfp_migratetype(gfp)} gfp_flags=${format_gfp(gfp).replace(/^0x[0-9a-f]+\((.*)\)$/, '$1')}`,
    )
  }

  /** The struct page pointer as the kernel would print it (vmemmap + pfn * sizeof(struct page)). */
  page_ptr(pfn: Pfn): string {
    if (this.arch.bits === 64) return '0x' + (0xffffea0000000000n + BigInt(pfn) * 64n).toString(16)
    return '0x' + (0xf6000000 + pfn * 32).toString(16)
  }

  /** Logs Linux's allocation-failure warning (Kernel: warn_alloc()). */
  private warn_alloc(gfp: gfp_t, order: number): void {
    if (gfp & __GFP_NOWARN) return
    this.printk.pr_warn(`${this.comm}: page allocation failure: order:${order}, mode:${format_gfp(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0`)
    this.printk.pr_warn(`CPU: ${this.cpu} UID: 0 PID: ${this.pid} Comm: ${this.comm} Not tainted ${UTS_RELEASE} #1`)
    this.printk.pr_warn('Mem-Info:')
    for (const z of this.zones) {
      if (!z.populated) continue
      let line = `Node 0 ${z.name}: `
      let total = 0
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const nr = z.free_area[o].nr_free
        line += `${nr}*${4 << o}kB `
        total += nr * (4 << o)
      }
      this.printk.pr_warn(`${line}= ${total}kB`)
    }
  }

  /**
   * Kernel: __alloc_pages(). Returns the first PFN of 2^order contiguous
   * frames, or -1 (after the failure warning unless __GFP_NOWARN).
   */
  alloc_pages(gfp: gfp_t, order: number): Pfn {
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
      if (!(gfp & __GFP_NOWARN)) {
        this.printk.pr_warn(`WARNING: CPU: ${this.cpu} PID: ${this.pid} at mm/page_alloc.c:4992 __alloc_pages_noprof+0x2f2/0x350`)
      }
      return -1
    }
    // prepare_alloc_pages(): an injected failure returns NULL without warn_alloc().
    if (this.fail_page_alloc.probability && this.fail_page_alloc.should_fail_alloc_page(gfp, order)) return -1
    const highest_zoneidx = this.gfp_zone(gfp)
    const mt = gfp_migratetype(gfp)
    // Fast path: the low watermark, no reserves.
    const zonelist = this.zonelist(highest_zoneidx)
    const preferred = zonelist[0]
    const alloc_flags = ALLOC_WMARK_LOW | (preferred ? this.alloc_flags_nofragment(preferred, gfp) : 0)
    const pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt, zonelist)
    if (pfn >= 0) return pfn
    return this.__alloc_pages_slowpath(gfp, order, highest_zoneidx, mt)
  }

  /**
   * Kernel: __alloc_pages_direct_reclaim(): reclaim, then try again; after
   * progress that still leaves the request unmet, give back the highatomic
   * reserve and drain the per-CPU lists once. Returns [pfn, progress].
   */
  private __alloc_pages_direct_reclaim(gfp: gfp_t, order: number, alloc_flags: number, highest_zoneidx: number, mt: number): [Pfn, number] {
    const progress = this.try_to_free_pages(gfp, order)
    if (!progress) return [-1, 0]
    let pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
    if (pfn < 0) {
      this.unreserve_highatomic_pageblock(highest_zoneidx, mt)
      this.drain_all_pages()
      pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
    }
    return [pfn, progress]
  }

  /**
   * Kernel: should_reclaim_retry(): retry while a zone could meet the min
   * watermark with what reclaim might still free, for at most
   * MAX_RECLAIM_RETRIES rounds without progress.
   */
  private should_reclaim_retry(order: number, highest_zoneidx: number, alloc_flags: number, no_progress_loops: number, mt: number): boolean {
    if (no_progress_loops > MAX_RECLAIM_RETRIES) return this.unreserve_highatomic_pageblock(highest_zoneidx, mt)
    for (const zone of this.zonelist(highest_zoneidx)) {
      const available = this.zone_reclaimable_pages(zone) + zone.vm_stat[NR_FREE_PAGES]
      if (this.zone_watermark_ok(zone, order, zone.min_wmark_pages(), highest_zoneidx, alloc_flags, available)) return true
    }
    return false
  }

  /** Kernel: zone_reclaimable_pages(): the zone's file LRU pages, and its anonymous ones when there is swap. */
  zone_reclaimable_pages(zone: Zone): number {
    const v = zone.vm_stat
    let nr = v[NR_ZONE_INACTIVE_FILE] + v[NR_ZONE_ACTIVE_FILE]
    if (this.nr_swap_pages() > 0) nr += v[NR_ZONE_INACTIVE_ANON] + v[NR_ZONE_ACTIVE_ANON]
    return nr
  }

  /**
   * Kernel: __alloc_pages_may_oom(): one more try at the high watermark (a
   * parallel kill may have freed memory), then the OOM killer unless the
   * request is one it cannot help: a costly order, __GFP_RETRY_MAYFAIL or
   * __GFP_THISNODE, or a zone below NORMAL. Returns [pfn, progress].
   */
  private __alloc_pages_may_oom(gfp: gfp_t, order: number, highest_zoneidx: number, mt: number): [Pfn, number] {
    const pfn = this.get_page_from_freelist(gfp & ~__GFP_DIRECT_RECLAIM, order, ALLOC_WMARK_HIGH | ALLOC_CPUSET, highest_zoneidx, mt)
    if (pfn >= 0) return [pfn, 0]
    if (order > PAGE_ALLOC_COSTLY_ORDER) return [-1, 0]
    if (gfp & (__GFP_RETRY_MAYFAIL | __GFP_THISNODE)) return [-1, 0]
    if (highest_zoneidx < this.arch.zones.ZONE_NORMAL) return [-1, 0]
    if (!this.oom) return [-1, 0]
    const oc = oom_control(gfp, order, highest_zoneidx)
    if (this.oom.out_of_memory(oc) || gfp & __GFP_NOFAIL) {
      // A non-failing allocation is helped with the reserves.
      if (gfp & __GFP_NOFAIL) return [this.get_page_from_freelist(gfp, order, ALLOC_NO_WATERMARKS, highest_zoneidx, mt), 1]
      return [-1, 1]
    }
    return [-1, 0]
  }

  /** Kernel: __gfp_pfmemalloc_flags(): an OOM victim may use part of the reserves to exit with. */
  private __gfp_pfmemalloc_flags(gfp: gfp_t): number {
    if (gfp & __GFP_NOMEMALLOC) return 0
    if (gfp & __GFP_MEMALLOC) return ALLOC_NO_WATERMARKS
    return this.oom_current_is_victim() ? ALLOC_OOM : 0
  }

  /** Kernel: __alloc_pages_slowpath(). */
  private __alloc_pages_slowpath(gfp: gfp_t, order: number, highest_zoneidx: number, mt: number): Pfn {
    let alloc_flags = this.gfp_to_alloc_flags(gfp, order)
    const can_direct_reclaim = (gfp & __GFP_DIRECT_RECLAIM) !== 0
    const costly = order > PAGE_ALLOC_COSTLY_ORDER
    let no_progress_loops = 0
    // Without reclaim, "the OOM killer made progress" can repeat with nothing freed (GFP_NOFS, a
    // victim that cannot exit): Linux would wait for another task; mmsim has none running, so it
    // stops after this many rounds in a row and fails the allocation (a simulator limit).
    let oom_rounds = 0
    for (;;) {
      // The zones are below their low watermark: kswapd reclaims beside us (and again on each retry).
      if (alloc_flags & ALLOC_KSWAPD) this.wake_all_kswapds(order, gfp, highest_zoneidx)
      const reserve_flags = this.__gfp_pfmemalloc_flags(gfp)
      if (reserve_flags) alloc_flags = reserve_flags | (alloc_flags & ALLOC_KSWAPD)
      let pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
      if (!can_direct_reclaim) break
      let progress: number
      ;[pfn, progress] = this.__alloc_pages_direct_reclaim(gfp, order, alloc_flags, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
      if (gfp & __GFP_NORETRY) break
      if (costly && (!(gfp & __GFP_RETRY_MAYFAIL) || progress > 0)) break
      no_progress_loops = progress ? 0 : no_progress_loops + 1
      if (this.should_reclaim_retry(order, highest_zoneidx, alloc_flags, no_progress_loops, mt)) {
        if (no_progress_loops <= MAX_RECLAIM_RETRIES) continue
      }
      ;[pfn, progress] = this.__alloc_pages_may_oom(gfp, order, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
      // A dying task that already dipped into the reserves must not loop on them.
      if (this.oom_current_is_victim() && (alloc_flags & ALLOC_OOM || gfp & __GFP_NOMEMALLOC)) break
      if (!progress || ++oom_rounds > MAX_RECLAIM_RETRIES) break
      no_progress_loops = 0
    }
    if (gfp & __GFP_NOFAIL) {
      // Linux keeps retrying; with nothing left to reclaim or kill it may dip into reserves.
      alloc_flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC
      const pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
      this.printk.pr_err('Kernel panic - not syncing: System is deadlocked on memory')
      throw new KernelBug(`__alloc_pages_slowpath: __GFP_NOFAIL order ${order} cannot be satisfied: out of memory`)
    }
    this.warn_alloc(gfp, order)
    return -1
  }

  // ------------------------------------------------------------ freeing

  /**
   * Blocks free_pages_prepare() refused after "BUG: Bad page state" (head pfn -> order): Linux
   * leaks them; the checker accepts their head without a reference.
   */
  readonly bad_page_leaks = new Map<Pfn, number>()

  /**
   * Kernel: free_pages_prepare(): the bad-page check of every page (CONFIG_DEBUG_VM), then
   * clear state, init_on_free. False when the block is bad and must not be freed.
   */
  private free_pages_prepare(pfn: Pfn, order: number): boolean {
    const p = this.pages
    const n = 1 << order
    // An anonymous page's mapping (its anon_vma, negative here) is cleared before the check.
    for (let i = 0; i < n; i++) if (p.mapping[pfn + i] < 0) p.mapping[pfn + i] = 0
    // A compound page's tails carry their head link, not state: only the head is checked for them.
    if (free_pages_check_bad(this, p, pfn, p.test(pfn, PG_head) ? 0 : order)) {
      this.bad_page_leaks.set(pfn, order)
      this.debug_touched?.push(pfn)
      return false
    }
    if (p.test(pfn, PG_head)) {
      p.clear(pfn, PG_head)
      for (let i = 1; i < n; i++) p.lru_prev[pfn + i] = -1
    }
    for (let i = 0; i < n; i++) {
      p.flags[pfn + i] = 0
      p.mapping[pfn + i] = 0
      p._mapcount[pfn + i] = 0
      p.page_type[pfn + i] = PGTY_none
    }
    p.owner_order[pfn] = 0
    p.order[pfn] = 0
    this.debug_touched?.push(pfn)
    if (this.opts.init_on_free) for (let i = 0; i < n; i++) this.physmem.fill(pfn + i, 0)
    this.vmstat.count_vm_events(PGFREE, n)
    if (this.trace.enabled) this.trace.emit('mm_page_free', () => `page=${this.page_ptr(pfn)} pfn=0x${pfn.toString(16)} order=${order}`)
    return true
  }

  /** Kernel: free_frozen_pages() (the page's refcount already dropped to zero). */
  private free_frozen_pages(pfn: Pfn, order: number): void {
    if (!this.free_pages_prepare(pfn, order)) return
    const zone = this.page_zone(pfn)
    let mt = this.get_pfnblock_migratetype(pfn)
    if (!pcp_allowed_order(order) || mt === MIGRATE_ISOLATE) {
      this.__free_one_page(pfn, zone, order, mt, false)
      return
    }
    if (mt > MIGRATE_RECLAIMABLE) mt = MIGRATE_MOVABLE
    this.free_frozen_page_commit(zone, zone.per_cpu_pageset[this.cpu], pfn, mt, order)
  }

  /**
   * Kernel: __free_pages(). Drop a reference; free the block when it was the
   * last one. If others still hold the head of a non-compound block, the
   * rest of the block (the tail parts) is freed now, as Linux does.
   */
  __free_pages(pfn: Pfn, order: number): void {
    const p = this.pages
    if (p._refcount[pfn] <= 0) throw new KernelBug(`__free_pages: pfn 0x${pfn.toString(16)} has refcount ${p._refcount[pfn]}`)
    const head = p.test(pfn, PG_head)
    if (head && p.order[pfn] !== order) {
      throw new KernelBug(`__free_pages: compound page 0x${pfn.toString(16)} of order ${p.order[pfn]} freed as order ${order}`)
    }
    if (p.put_page_testzero(pfn)) {
      this.free_frozen_pages(pfn, order)
    } else if (!head) {
      p.owner_order[pfn] = 1
      while (order-- > 0) {
        p.owner_order[pfn + (1 << order)] = order + 1
        this.free_frozen_pages(pfn + (1 << order), order)
      }
    }
  }

  /** Boot-time release of memblock memory (Kernel: __free_pages_core(), FPI_TO_TAIL). */
  __free_pages_core(pfn: Pfn, order: number): void {
    const zone = this.page_zone(pfn)
    const n = 1 << order
    this.pages._refcount.fill(0, pfn, pfn + n)
    zone.managed_pages += n
    this.clock?.advance(COST_NS.boot_page_init * n)
    this.__free_one_page(pfn, zone, order, this.get_pfnblock_migratetype(pfn), true)
  }
}
