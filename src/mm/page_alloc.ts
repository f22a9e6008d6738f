/**
 * The buddy page allocator (Kernel: mm/page_alloc.c).
 *
 * Free memory of each zone sits on free_area[order].free_list[migratetype]
 * as naturally aligned blocks of 2^order pages; the head page of a free block
 * is PageBuddy with its order recorded. Allocation takes the smallest block
 * that fits and splits it (expand); freeing merges a block with its buddy
 * (pfn ^ (1 << order)) for as long as the buddy is free and of the same order
 * (__free_one_page). Orders 0..PAGE_ALLOC_COSTLY_ORDER go through per-CPU
 * lists first (pcp), which are refilled and drained in batches.
 *
 * Invariants (checked by mm/debug_vm.ts after every operation in tests):
 *  - every frame of a zone is in exactly one state: inside a free buddy
 *    block, on one pcp list, reserved, or inside one allocated block;
 *  - a free block is aligned, on the list of its order and migratetype, and
 *    never has a free buddy of the same order (it would have merged), except
 *    across pageblocks whose migratetypes may not merge;
 *  - NR_FREE_PAGES of a zone equals the pages in its free blocks (pcp pages
 *    are not counted as free, as in Linux).
 */
import type { ArchProfile } from '../arch/profile.js'
import type { PhysMem } from '../hw/physmem.js'
import type { Printk } from '../kernel/printk.js'
import type { Tracer } from '../kernel/trace.js'
import { KernelBug } from '../kernel/bug.js'
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
  __GFP_ZERO,
  format_gfp,
  gfp_migratetype,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  type gfp_t,
} from './gfp.js'
import {
  MAX_PAGE_ORDER,
  NR_FREE_PAGES,
  NR_PAGE_ORDERS,
  PAGE_ALLOC_COSTLY_ORDER,
  PCPF_FREE_HIGH_BATCH,
  PCPF_PREV_FREE_HIGH_ORDER,
  pageblock_nr_pages,
  pageblock_order,
  WMARK_HIGH,
  WMARK_LOW,
  WMARK_MIN,
  ZONE_BELOW_HIGH,
  ZONE_RECLAIM_ACTIVE,
  type PerCpuPages,
  type Zone,
} from './mmzone.js'
import { PG_head, PGTY_buddy, PGTY_none, type PageArray, type Pfn } from './page.js'
import type { VmStat } from './vmstat.js'

// alloc_flags (mm/internal.h)
export const ALLOC_WMARK_MIN = WMARK_MIN
export const ALLOC_WMARK_LOW = WMARK_LOW
export const ALLOC_WMARK_HIGH = WMARK_HIGH
export const ALLOC_NO_WATERMARKS = 0x04
export const ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1
export const ALLOC_OOM = 0x08
export const ALLOC_NON_BLOCK = 0x10
export const ALLOC_MIN_RESERVE = 0x20 // == __GFP_HIGH
export const ALLOC_CPUSET = 0x40
export const ALLOC_NOFRAGMENT = 0x100
export const ALLOC_HIGHATOMIC = 0x200
export const ALLOC_KSWAPD = 0x800 // == __GFP_KSWAPD_RECLAIM
const ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM

/** CONFIG_PCP_BATCH_SCALE_MAX default. */
const PCP_BATCH_SCALE_MAX = 5
/** Marker in lru_prev of a compound tail page; lru_next then holds the head PFN. */
const COMPOUND_TAIL = -2

/** fallbacks[] (mm/page_alloc.c): where each migratetype may steal from, in order. */
const fallbacks: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE], // UNMOVABLE
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE], // MOVABLE
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE], // RECLAIMABLE
]

/** Where a failed allocation may reclaim; installed by vmscan once it exists. */
export type ReclaimHook = (gfp: gfp_t, order: number) => number

export interface PageAllocatorOptions {
  init_on_alloc: boolean
  init_on_free: boolean
  nr_cpus: number
}

function order_to_pindex(migratetype: number, order: number): number {
  return order * MIGRATE_PCPTYPES + migratetype
}
function pindex_to_order(pindex: number): number {
  return Math.floor(pindex / MIGRATE_PCPTYPES)
}
/** Kernel: pcp_allowed_order(). */
function pcp_allowed_order(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER
}
function migratetype_is_mergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES
}

export class PageAllocator {
  /** The CPU the current kernel code runs on (selects the pcp lists). */
  cpu = 0
  /** Name of the current task, for warnings ("swapper/0" at boot). */
  comm = 'swapper/0'
  pid = 0
  /** Lowest PFN above lowmem (max_low_pfn): pages at or above it are HIGHMEM. */
  max_low_pfn: number
  /** Set by highmem once it exists: the kmap address of a HIGHMEM page, or 0. */
  highmem_page_address: ((pfn: Pfn) => number) | null = null
  /** Direct reclaim entry point (mm/vmscan.c); none until reclaim exists. */
  reclaim: ReclaimHook | null = null
  /** Zones indexed by zone_idx (unpopulated ones included). */
  readonly zones: Zone[]
  private readonly page_offset_pfn: number
  private readonly zone_of_block: Int8Array

  constructor(
    readonly arch: ArchProfile,
    readonly pages: PageArray,
    readonly physmem: PhysMem,
    zones: Zone[],
    readonly vmstat: VmStat,
    readonly printk: Printk,
    readonly trace: Tracer,
    readonly opts: PageAllocatorOptions,
  ) {
    this.zones = zones
    this.page_offset_pfn = arch.PAGE_OFFSET / 4096
    this.max_low_pfn = Math.min(pages.nr, arch.max_low_phys / 4096)
    // page_zone() by pageblock: zones are pageblock aligned on x86 (16M, 4G, 896M).
    this.zone_of_block = new Int8Array(Math.ceil(pages.nr / pageblock_nr_pages)).fill(-1)
    for (const z of zones) {
      if (!z.spanned_pages) continue
      const first = Math.floor(z.zone_start_pfn / pageblock_nr_pages)
      const last = Math.floor((z.zone_end_pfn - 1) / pageblock_nr_pages)
      for (let b = first; b <= last; b++) if (this.zone_of_block[b] < 0) this.zone_of_block[b] = z.idx
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Kernel: page_zone(). */
  page_zone(pfn: Pfn): Zone {
    const z = this.zone_of_block[Math.floor(pfn / pageblock_nr_pages)]
    if (z < 0) throw new KernelBug(`page_zone: pfn 0x${pfn.toString(16)} is in no zone`)
    const zone = this.zones[z]
    return zone.spans(pfn) ? zone : this.zones.find((x) => x.spans(pfn)) ?? zone
  }

  /** Kernel: get_pfnblock_migratetype(). */
  get_pfnblock_migratetype(pfn: Pfn): number {
    const z = this.page_zone(pfn)
    return z.pageblock_mt[Math.floor(pfn / pageblock_nr_pages) - Math.floor(z.zone_start_pfn / pageblock_nr_pages)]
  }

  /** Kernel: set_pageblock_migratetype(). */
  set_pageblock_migratetype(pfn: Pfn, mt: number): void {
    const z = this.page_zone(pfn)
    z.pageblock_mt[Math.floor(pfn / pageblock_nr_pages) - Math.floor(z.zone_start_pfn / pageblock_nr_pages)] = mt
  }

  /** Kernel: page_address(): the direct-map address, the kmap address of a HIGHMEM page, or 0. */
  page_address(pfn: Pfn): number {
    if (pfn < this.max_low_pfn) return (this.page_offset_pfn + pfn) * 4096
    return this.highmem_page_address ? this.highmem_page_address(pfn) : 0
  }

  /** Kernel: __pa() / virt_to_pfn() for direct-map addresses; -1 outside the direct map. */
  virt_to_pfn(va: number): Pfn {
    const pfn = Math.floor(va / 4096) - this.page_offset_pfn
    return pfn >= 0 && pfn < this.max_low_pfn ? pfn : -1
  }

  /** Kernel: pfn_to_virt() / __va(). */
  pfn_to_virt(pfn: Pfn): number {
    return (this.page_offset_pfn + pfn) * 4096
  }

  /** Kernel: compound_head(). */
  compound_head(pfn: Pfn): Pfn {
    return this.pages.lru_prev[pfn] === COMPOUND_TAIL ? this.pages.lru_next[pfn] : pfn
  }

  /** Kernel: compound_order() (0 for a non-compound page). */
  compound_order(pfn: Pfn): number {
    return this.pages.test(pfn, PG_head) ? this.pages.order[pfn] : 0
  }

  /** Kernel: nr_free_pages(): free pages in all zones' buddy lists. */
  nr_free_pages(): number {
    let n = 0
    for (const z of this.zones) n += z.vm_stat[NR_FREE_PAGES]
    return n
  }

  /** Kernel: totalram_pages(). */
  totalram_pages(): number {
    let n = 0
    for (const z of this.zones) n += z.managed_pages
    return n
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

  // ------------------------------------------------------------ free lists

  private account_freepages(zone: Zone, nr: number, mt: number): void {
    zone.vm_stat[NR_FREE_PAGES] += nr
    if (mt === MIGRATE_HIGHATOMIC) zone.nr_free_highatomic += nr
  }

  private add_to_free_list(pfn: Pfn, zone: Zone, order: number, mt: number, tail: boolean): void {
    const p = this.pages
    p.page_type[pfn] = PGTY_buddy
    p.order[pfn] = order
    const list = zone.free_area[order].free_list[mt]
    if (tail) list.add_tail(p, pfn)
    else list.add(p, pfn)
    zone.free_area[order].nr_free++
  }

  private del_page_from_free_list(pfn: Pfn, zone: Zone, order: number, mt: number): void {
    const p = this.pages
    zone.free_area[order].free_list[mt].del(p, pfn)
    p.page_type[pfn] = PGTY_none
    p.order[pfn] = 0
    zone.free_area[order].nr_free--
  }

  /** Kernel: page_is_buddy(): is `buddy` a free block of exactly `order` in the same zone? */
  private page_is_buddy(zone: Zone, buddy: Pfn, order: number): boolean {
    if (!zone.spans(buddy)) return false
    return this.pages.page_type[buddy] === PGTY_buddy && this.pages.order[buddy] === order
  }

  /**
   * Kernel: __free_one_page(). Merge the block with free buddies up to
   * MAX_PAGE_ORDER and queue the result, at the tail when a further merge
   * looks likely (buddy_merge_likely) or when asked to (FPI_TO_TAIL).
   */
  __free_one_page(pfn: Pfn, zone: Zone, order: number, migratetype: number, to_tail: boolean): void {
    this.account_freepages(zone, 1 << order, migratetype)
    let buddy_pfn = 0
    while (order < MAX_PAGE_ORDER) {
      buddy_pfn = pfn ^ (1 << order)
      if (!this.page_is_buddy(zone, buddy_pfn, order)) break
      // Free blocks sit on the list of their pageblock's type (6.10+ freelist hygiene).
      const buddy_mt = this.get_pfnblock_migratetype(buddy_pfn)
      if (order >= pageblock_order) {
        // Do not merge a block of an isolated/highatomic type with a normal one.
        if (migratetype !== buddy_mt && (!migratetype_is_mergeable(migratetype) || !migratetype_is_mergeable(buddy_mt))) {
          break
        }
      }
      this.del_page_from_free_list(buddy_pfn, zone, order, buddy_mt)
      if (buddy_mt === MIGRATE_HIGHATOMIC) zone.nr_free_highatomic -= 1 << order
      if (migratetype === MIGRATE_HIGHATOMIC) zone.nr_free_highatomic += 1 << order
      if (buddy_mt !== migratetype) this.set_pageblock_migratetype(buddy_pfn, migratetype)
      pfn = pfn & buddy_pfn
      order++
    }
    if (!to_tail) to_tail = this.buddy_merge_likely(zone, pfn, pfn ^ (1 << order), order)
    this.add_to_free_list(pfn, zone, order, migratetype, to_tail)
  }

  /** Kernel: buddy_merge_likely(): is the buddy of our parent block free? */
  private buddy_merge_likely(zone: Zone, pfn: Pfn, buddy_pfn: Pfn, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false
    const higher = buddy_pfn & pfn
    return this.page_is_buddy(zone, higher ^ (1 << (order + 1)), order + 1)
  }

  /** Kernel: expand(): split a 2^high block down to 2^low, queueing the upper halves. */
  private expand(zone: Zone, pfn: Pfn, low: number, high: number, mt: number): number {
    let size = 1 << high
    let nr_added = 0
    while (high > low) {
      high--
      size >>= 1
      this.add_to_free_list(pfn + size, zone, high, mt, false)
      nr_added += size
    }
    return nr_added
  }

  /** Kernel: page_del_and_expand(). */
  private page_del_and_expand(zone: Zone, pfn: Pfn, low: number, high: number, mt: number): void {
    this.del_page_from_free_list(pfn, zone, high, mt)
    const nr_added = this.expand(zone, pfn, low, high, mt)
    this.account_freepages(zone, -(1 << high) + nr_added, mt)
  }

  /** Kernel: __rmqueue_smallest(). */
  private __rmqueue_smallest(zone: Zone, order: number, mt: number): Pfn {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const pfn = zone.free_area[o].free_list[mt].head
      if (pfn < 0) continue
      this.page_del_and_expand(zone, pfn, order, o, mt)
      return pfn
    }
    return -1
  }

  /** Kernel: find_suitable_fallback(). */
  private find_suitable_fallback(zone: Zone, order: number, mt: number): number {
    const area = zone.free_area[order]
    if (area.nr_free === 0) return -1
    for (const fmt of fallbacks[mt]) if (!area.free_list[fmt].empty) return fmt
    return -1
  }

  /** Kernel: should_try_claim_block(). */
  private should_try_claim_block(order: number, start_mt: number): boolean {
    if (order >= pageblock_order / 2) return true
    return start_mt === MIGRATE_RECLAIMABLE || start_mt === MIGRATE_UNMOVABLE
  }

  /** Move every free block of a pageblock to another migratetype's lists; returns pages moved. */
  private move_freepages_block(zone: Zone, start: Pfn, old_mt: number, new_mt: number): number {
    let moved = 0
    for (let pfn = start; pfn < start + pageblock_nr_pages; ) {
      if (this.pages.page_type[pfn] === PGTY_buddy && zone.spans(pfn)) {
        const order = this.pages.order[pfn]
        this.del_page_from_free_list(pfn, zone, order, old_mt)
        this.account_freepages(zone, -(1 << order), old_mt)
        this.add_to_free_list(pfn, zone, order, new_mt, true)
        this.account_freepages(zone, 1 << order, new_mt)
        moved += 1 << order
        pfn += 1 << order
      } else pfn++
    }
    return moved
  }

  /** Kernel: try_to_claim_block(). */
  private try_to_claim_block(zone: Zone, pfn: Pfn, current_order: number, order: number, start_mt: number, block_mt: number): Pfn {
    if (current_order >= pageblock_order) {
      this.del_page_from_free_list(pfn, zone, current_order, block_mt)
      this.account_freepages(zone, -(1 << current_order), block_mt)
      for (let b = pfn; b < pfn + (1 << current_order); b += pageblock_nr_pages) this.set_pageblock_migratetype(b, start_mt)
      const nr_added = this.expand(zone, pfn, order, current_order, start_mt)
      this.account_freepages(zone, nr_added, start_mt)
      return pfn
    }
    const start = pfn - (pfn % pageblock_nr_pages)
    if (!zone.spans(start) || !zone.spans(start + pageblock_nr_pages - 1)) return -1
    let free_pages = 0
    let movable_pages = 0
    for (let p = start; p < start + pageblock_nr_pages; ) {
      if (this.pages.page_type[p] === PGTY_buddy) {
        free_pages += 1 << this.pages.order[p]
        p += 1 << this.pages.order[p]
        continue
      }
      if (this.pages.test(p, 5 /* PG_lru */)) movable_pages++
      p++
    }
    let alike = 0
    if (start_mt === MIGRATE_MOVABLE) alike = movable_pages
    else if (block_mt === MIGRATE_MOVABLE) alike = pageblock_nr_pages - (free_pages + movable_pages)
    if (free_pages + alike >= 1 << (pageblock_order - 1)) {
      this.move_freepages_block(zone, start, block_mt, start_mt)
      this.set_pageblock_migratetype(start, start_mt)
      return this.__rmqueue_smallest(zone, order, start_mt)
    }
    return -1
  }

  /** Kernel: __rmqueue_claim(): steal a whole pageblock for our type, largest first. */
  private __rmqueue_claim(zone: Zone, order: number, start_mt: number, alloc_flags: number): Pfn {
    let min_order = order
    if (order < pageblock_order && alloc_flags & ALLOC_NOFRAGMENT) min_order = pageblock_order
    for (let o = MAX_PAGE_ORDER; o >= min_order; o--) {
      const fmt = this.find_suitable_fallback(zone, o, start_mt)
      if (fmt === -1) continue
      if (!this.should_try_claim_block(o, start_mt)) break
      const pfn = zone.free_area[o].free_list[fmt].head
      const got = this.try_to_claim_block(zone, pfn, o, order, start_mt, fmt)
      if (got >= 0) return got
    }
    return -1
  }

  /** Kernel: __rmqueue_steal(): take the smallest fallback block without claiming its pageblock. */
  private __rmqueue_steal(zone: Zone, order: number, start_mt: number): Pfn {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const fmt = this.find_suitable_fallback(zone, o, start_mt)
      if (fmt === -1) continue
      const pfn = zone.free_area[o].free_list[fmt].head
      this.page_del_and_expand(zone, pfn, order, o, fmt)
      return pfn
    }
    return -1
  }

  /** Kernel: __rmqueue(). */
  private __rmqueue(zone: Zone, order: number, mt: number, alloc_flags: number): Pfn {
    let pfn = this.__rmqueue_smallest(zone, order, mt)
    if (pfn >= 0) return pfn
    pfn = this.__rmqueue_claim(zone, order, mt, alloc_flags)
    if (pfn >= 0) return pfn
    if (!(alloc_flags & ALLOC_NOFRAGMENT)) return this.__rmqueue_steal(zone, order, mt)
    return -1
  }

  // ------------------------------------------------------------ pcp lists

  private pcp(zone: Zone): PerCpuPages {
    return zone.per_cpu_pageset[this.cpu]
  }

  /** Kernel: nr_pcp_alloc(): how many blocks to pull from the buddy lists into an empty pcp list. */
  private nr_pcp_alloc(pcp: PerCpuPages, zone: Zone, order: number): number {
    const base_batch = pcp.batch
    let high = (pcp.high = Math.min(Math.max(pcp.high, pcp.high_min), pcp.high_max))
    if (high < base_batch) return 1
    let batch = order ? base_batch : base_batch << pcp.alloc_factor
    if (pcp.high_min !== pcp.high_max && !(zone.flags & ZONE_BELOW_HIGH)) high = pcp.high = Math.min(high + batch, pcp.high_max)
    if (!order) {
      const max_nr_alloc = Math.max(high - pcp.count - base_batch, base_batch)
      if (batch <= max_nr_alloc && pcp.alloc_factor < PCP_BATCH_SCALE_MAX) pcp.alloc_factor++
      batch = Math.min(batch, max_nr_alloc)
    }
    if (batch > 1) batch = Math.max(batch >> order, 2)
    return batch
  }

  /** Kernel: rmqueue_bulk(). */
  private rmqueue_bulk(zone: Zone, order: number, count: number, pindex: number, mt: number, alloc_flags: number, pcp: PerCpuPages): number {
    let i = 0
    for (; i < count; i++) {
      const pfn = this.__rmqueue(zone, order, mt, alloc_flags)
      if (pfn < 0) break
      pcp.lists[pindex].add_tail(this.pages, pfn)
    }
    return i
  }

  /** Kernel: rmqueue_pcplist(). */
  private rmqueue_pcplist(zone: Zone, order: number, mt: number, alloc_flags: number): Pfn {
    const pcp = this.pcp(zone)
    pcp.free_count >>= 1
    const pindex = order_to_pindex(mt, order)
    const list = pcp.lists[pindex]
    if (list.empty) {
      const batch = this.nr_pcp_alloc(pcp, zone, order)
      pcp.count += this.rmqueue_bulk(zone, order, batch, pindex, mt, alloc_flags, pcp) << order
      if (list.empty) return -1
    }
    const pfn = list.head
    list.del(this.pages, pfn)
    pcp.count -= 1 << order
    return pfn
  }

  /** Kernel: free_pcppages_bulk(): return `count` pages from the pcp lists to the buddy lists. */
  private free_pcppages_bulk(zone: Zone, count: number, pcp: PerCpuPages, pindex: number): void {
    count = Math.min(pcp.count, count)
    pindex = pindex - 1
    while (count > 0) {
      let list
      do {
        if (++pindex > pcp.lists.length - 1) pindex = 0
        list = pcp.lists[pindex]
      } while (list.empty)
      const order = pindex_to_order(pindex)
      const nr_pages = 1 << order
      do {
        const pfn = list.tail
        const mt = this.get_pfnblock_migratetype(pfn)
        list.del(this.pages, pfn)
        count -= nr_pages
        pcp.count -= nr_pages
        this.__free_one_page(pfn, zone, order, mt, false)
      } while (count > 0 && !list.empty)
    }
  }

  /** Kernel: nr_pcp_high(). */
  private nr_pcp_high(pcp: PerCpuPages, zone: Zone, batch: number, free_high: boolean): number {
    let high = (pcp.high = Math.min(Math.max(pcp.high, pcp.high_min), pcp.high_max))
    if (!high) return 0
    if (free_high) {
      pcp.high = Math.max(high - (batch << PCP_BATCH_SCALE_MAX), pcp.high_min)
      return 0
    }
    if (zone.flags & ZONE_RECLAIM_ACTIVE) {
      pcp.high = Math.max(high - Math.max(pcp.free_count, batch), pcp.high_min)
      return Math.min(batch << 2, pcp.high)
    }
    if (pcp.high_min === pcp.high_max) return high
    if (zone.flags & ZONE_BELOW_HIGH) {
      pcp.high = Math.max(high - Math.max(pcp.free_count, batch), pcp.high_min)
      high = Math.max(pcp.count, pcp.high_min)
    } else if (pcp.count >= high) {
      const need_high = pcp.free_count + batch
      if (pcp.high < need_high) pcp.high = Math.min(Math.max(need_high, pcp.high_min), pcp.high_max)
    }
    return high
  }

  /** Kernel: nr_pcp_free(). */
  private nr_pcp_free(pcp: PerCpuPages, batch: number, high: number, free_high: boolean): number {
    if (free_high) return Math.min(pcp.count, batch << PCP_BATCH_SCALE_MAX)
    if (high < batch) return 1
    return Math.min(Math.max(pcp.free_count, batch), high - batch)
  }

  /** Kernel: free_frozen_page_commit(). */
  private free_frozen_page_commit(zone: Zone, pcp: PerCpuPages, pfn: Pfn, mt: number, order: number): void {
    pcp.alloc_factor >>= 1
    const pindex = order_to_pindex(mt, order)
    pcp.lists[pindex].add(this.pages, pfn)
    pcp.count += 1 << order
    const batch = pcp.batch
    let free_high = false
    if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
      free_high =
        pcp.free_count >= batch + pcp.high_min / 2 &&
        (pcp.flags & PCPF_PREV_FREE_HIGH_ORDER) !== 0 &&
        (!(pcp.flags & PCPF_FREE_HIGH_BATCH) || pcp.count >= batch)
      pcp.flags |= PCPF_PREV_FREE_HIGH_ORDER
    } else if (pcp.flags & PCPF_PREV_FREE_HIGH_ORDER) {
      pcp.flags &= ~PCPF_PREV_FREE_HIGH_ORDER
    }
    if (pcp.free_count < batch << PCP_BATCH_SCALE_MAX) pcp.free_count += 1 << order
    const high = this.nr_pcp_high(pcp, zone, batch, free_high)
    if (pcp.count >= high) {
      this.free_pcppages_bulk(zone, this.nr_pcp_free(pcp, batch, high, free_high), pcp, pindex)
      if (zone.flags & ZONE_BELOW_HIGH && this.zone_watermark_ok(zone, 0, zone.high_wmark_pages(), this.zones.length - 1, 0)) {
        zone.flags &= ~ZONE_BELOW_HIGH
      }
    }
  }

  /** Kernel: drain_all_pages(): empty every CPU's pcp lists back into the buddy lists. */
  drain_all_pages(zone?: Zone): void {
    for (const z of zone ? [zone] : this.zones) {
      for (const pcp of z.per_cpu_pageset) if (pcp.count) this.free_pcppages_bulk(z, pcp.count, pcp, 0)
    }
  }

  // ------------------------------------------------------------ watermarks

  /** Kernel: __zone_watermark_unusable_free(). */
  private unusable_free(zone: Zone, order: number, alloc_flags: number): number {
    let u = (1 << order) - 1
    if (!(alloc_flags & ALLOC_RESERVES)) u += zone.nr_free_highatomic
    return u
  }

  /** Kernel: __zone_watermark_ok(). */
  zone_watermark_ok(z: Zone, order: number, mark: number, highest_zoneidx: number, alloc_flags: number, free_pages = z.vm_stat[NR_FREE_PAGES]): boolean {
    let min = mark
    free_pages -= this.unusable_free(z, order, alloc_flags)
    if (alloc_flags & ALLOC_RESERVES) {
      if (alloc_flags & ALLOC_MIN_RESERVE) {
        min -= Math.floor(min / 2)
        if (alloc_flags & ALLOC_NON_BLOCK) min -= Math.floor(min / 4)
      }
      if (alloc_flags & ALLOC_OOM) min -= Math.floor(min / 2)
    }
    if (free_pages <= min + (z.lowmem_reserve[highest_zoneidx] ?? 0)) return false
    if (!order) return true
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const area = z.free_area[o]
      if (!area.nr_free) continue
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) if (!area.free_list[mt].empty) return true
      if (alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM) && !area.free_list[MIGRATE_HIGHATOMIC].empty) return true
    }
    return false
  }

  /** Kernel: zone_watermark_fast(). */
  private zone_watermark_fast(z: Zone, order: number, mark: number, highest_zoneidx: number, alloc_flags: number): boolean {
    const free_pages = z.vm_stat[NR_FREE_PAGES]
    if (!order) {
      const usable = free_pages - Math.min(free_pages, this.unusable_free(z, 0, alloc_flags))
      if (usable > mark + (z.lowmem_reserve[highest_zoneidx] ?? 0)) return true
    }
    if (this.zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags, free_pages)) return true
    if (!order && alloc_flags & ALLOC_MIN_RESERVE && z.watermark_boost && (alloc_flags & ALLOC_WMARK_MASK) === WMARK_MIN) {
      return this.zone_watermark_ok(z, order, z._watermark[WMARK_MIN], highest_zoneidx, alloc_flags, free_pages)
    }
    return false
  }

  // ------------------------------------------------------------ allocation

  /** Kernel: rmqueue(). */
  private rmqueue(zone: Zone, order: number, alloc_flags: number, mt: number): Pfn {
    if (pcp_allowed_order(order)) {
      const pfn = this.rmqueue_pcplist(zone, order, mt, alloc_flags)
      if (pfn >= 0) return pfn
    }
    // rmqueue_buddy()
    let pfn = -1
    if (order > 0 && alloc_flags & ALLOC_HIGHATOMIC) pfn = this.__rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC)
    if (pfn < 0) {
      pfn = this.__rmqueue(zone, order, mt, alloc_flags)
      // Below the min watermark an atomic request may still use the highatomic reserve.
      if (pfn < 0 && alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)) pfn = this.__rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC)
    }
    return pfn
  }

  /** Kernel: alloc_flags_nofragment(): avoid mixing types in NORMAL while DMA32 has room. */
  private alloc_flags_nofragment(zone: Zone): number {
    const zl = this.arch.zones
    if (zone.idx !== zl.ZONE_NORMAL || zl.ZONE_DMA32 < 0) return 0
    return this.zones[zl.ZONE_DMA32].populated ? ALLOC_NOFRAGMENT : 0
  }

  /** The zonelist for a request: populated zones from highest_zoneidx down (single node). */
  private zonelist(highest_zoneidx: number): Zone[] {
    const out: Zone[] = []
    for (let i = highest_zoneidx; i >= 0; i--) if (this.zones[i].populated) out.push(this.zones[i])
    return out
  }

  /** Kernel: get_page_from_freelist(). */
  private get_page_from_freelist(gfp: gfp_t, order: number, alloc_flags: number, highest_zoneidx: number, mt: number): Pfn {
    const zonelist = this.zonelist(highest_zoneidx)
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

  /**
   * Kernel: reserve_highatomic_pageblock(): after a high-order atomic
   * success, set the pageblock aside for future ones (up to ~1% of the zone).
   */
  private reserve_highatomic_pageblock(pfn: Pfn, order: number, zone: Zone): void {
    if (Math.floor(zone.managed_pages / 100) < pageblock_nr_pages) return
    const max_managed = Math.ceil(Math.floor(zone.managed_pages / 100) / pageblock_nr_pages) * pageblock_nr_pages
    if (zone.nr_reserved_highatomic >= max_managed) return
    const mt = this.get_pfnblock_migratetype(pfn)
    if (!migratetype_is_mergeable(mt)) return
    if (order < pageblock_order) {
      const start = pfn - (pfn % pageblock_nr_pages)
      if (!zone.spans(start) || !zone.spans(start + pageblock_nr_pages - 1)) return
      this.move_freepages_block(zone, start, mt, MIGRATE_HIGHATOMIC)
      this.set_pageblock_migratetype(start, MIGRATE_HIGHATOMIC)
      zone.nr_reserved_highatomic += pageblock_nr_pages
    } else {
      for (let b = pfn; b < pfn + (1 << order); b += pageblock_nr_pages) this.set_pageblock_migratetype(b, MIGRATE_HIGHATOMIC)
      zone.nr_reserved_highatomic += 1 << order
    }
  }

  /**
   * Kernel: unreserve_highatomic_pageblock(): before failing, give the
   * highatomic reserve back to the allocation's migratetype.
   */
  private unreserve_highatomic_pageblock(highest_zoneidx: number, mt: number): boolean {
    for (const zone of this.zonelist(highest_zoneidx)) {
      if (zone.nr_reserved_highatomic <= pageblock_nr_pages) continue
      for (let order = 0; order < NR_PAGE_ORDERS; order++) {
        const pfn = zone.free_area[order].free_list[MIGRATE_HIGHATOMIC].head
        if (pfn < 0) continue
        const start = pfn - (pfn % pageblock_nr_pages)
        zone.nr_reserved_highatomic -= Math.min(pageblock_nr_pages, zone.nr_reserved_highatomic)
        if (order >= pageblock_order) {
          for (let b = pfn; b < pfn + (1 << order); b += pageblock_nr_pages) this.set_pageblock_migratetype(b, mt)
          this.move_freepages_block_whole(zone, pfn, order, MIGRATE_HIGHATOMIC, mt)
        } else {
          this.move_freepages_block(zone, start, MIGRATE_HIGHATOMIC, mt)
          this.set_pageblock_migratetype(start, mt)
        }
        return true
      }
    }
    return false
  }

  /** Move one free block of order >= pageblock_order between migratetype lists. */
  private move_freepages_block_whole(zone: Zone, pfn: Pfn, order: number, old_mt: number, new_mt: number): void {
    this.del_page_from_free_list(pfn, zone, order, old_mt)
    this.account_freepages(zone, -(1 << order), old_mt)
    this.add_to_free_list(pfn, zone, order, new_mt, true)
    this.account_freepages(zone, 1 << order, new_mt)
  }

  /** Kernel: prep_new_page() / post_alloc_hook(). */
  private prep_new_page(pfn: Pfn, order: number, gfp: gfp_t, zone: Zone): void {
    const p = this.pages
    const n = 1 << order
    p._refcount[pfn] = 1
    p.owner_order[pfn] = order + 1
    p.lru_prev[pfn] = -1
    if (gfp & __GFP_ZERO || this.opts.init_on_alloc) for (let i = 0; i < n; i++) this.physmem.fill(pfn + i, 0)
    if (order && gfp & __GFP_COMP) {
      p.set(pfn, PG_head)
      p.order[pfn] = order
      for (let i = 1; i < n; i++) {
        p.lru_prev[pfn + i] = COMPOUND_TAIL
        p.lru_next[pfn + i] = pfn
      }
    }
    this.vmstat.count_vm_events(pgalloc_event(zone.name), n)
    this.trace.emit('mm_page_alloc', () =>
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
    this.printk.pr_warn(`CPU: ${this.cpu} UID: 0 PID: ${this.pid} Comm: ${this.comm} Not tainted 6.18.44-mmsim #1`)
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
    const highest_zoneidx = this.gfp_zone(gfp)
    const mt = gfp_migratetype(gfp)
    // Fast path: the low watermark, no reserves.
    const preferred = this.zonelist(highest_zoneidx)[0]
    const alloc_flags = ALLOC_WMARK_LOW | (preferred ? this.alloc_flags_nofragment(preferred) : 0)
    const pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
    if (pfn >= 0) return pfn
    return this.__alloc_pages_slowpath(gfp, order, highest_zoneidx, mt)
  }

  /** Kernel: __alloc_pages_slowpath(). */
  private __alloc_pages_slowpath(gfp: gfp_t, order: number, highest_zoneidx: number, mt: number): Pfn {
    let alloc_flags = this.gfp_to_alloc_flags(gfp, order)
    const can_direct_reclaim = (gfp & __GFP_DIRECT_RECLAIM) !== 0
    const costly = order > PAGE_ALLOC_COSTLY_ORDER
    // kswapd would be woken here (ALLOC_KSWAPD); background reclaim does not exist yet.
    let pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
    if (pfn >= 0) return pfn
    if (gfp & __GFP_MEMALLOC && !(gfp & __GFP_NOMEMALLOC)) {
      pfn = this.get_page_from_freelist(gfp, order, alloc_flags | ALLOC_NO_WATERMARKS, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
    }
    if (can_direct_reclaim) {
      let drained = false
      for (let retries = 0; retries < 16; retries++) {
        // Kernel: __alloc_pages_direct_reclaim(): reclaim, retry, and on failure give back the
        // highatomic reserve and drain the per-CPU lists once before trying again.
        const progress = this.reclaim ? this.reclaim(gfp, order) : 0
        pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
        if (pfn >= 0) return pfn
        if (!drained) {
          this.unreserve_highatomic_pageblock(highest_zoneidx, mt)
          this.drain_all_pages()
          drained = true
          pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
          if (pfn >= 0) return pfn
        }
        if (!progress || gfp & __GFP_NORETRY) break
        if (costly && !(gfp & __GFP_RETRY_MAYFAIL)) break
      }
    }
    if (gfp & __GFP_NOFAIL) {
      // Linux keeps retrying; with nothing left to reclaim it may dip into reserves.
      alloc_flags = ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC
      pfn = this.get_page_from_freelist(gfp, order, alloc_flags, highest_zoneidx, mt)
      if (pfn >= 0) return pfn
      this.printk.pr_err('Kernel panic - not syncing: System is deadlocked on memory')
      throw new KernelBug(`__alloc_pages_slowpath: __GFP_NOFAIL order ${order} cannot be satisfied: out of memory`)
    }
    this.warn_alloc(gfp, order)
    return -1
  }

  // ------------------------------------------------------------ freeing

  /** Kernel: free_pages_prepare(): clear state, init_on_free. */
  private free_pages_prepare(pfn: Pfn, order: number): void {
    const p = this.pages
    const n = 1 << order
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
    if (this.opts.init_on_free) for (let i = 0; i < n; i++) this.physmem.fill(pfn + i, 0)
    this.vmstat.count_vm_events('pgfree', n)
    this.trace.emit('mm_page_free', () => `page=${this.page_ptr(pfn)} pfn=0x${pfn.toString(16)} order=${order}`)
  }

  /** Kernel: free_frozen_pages() (the page's refcount already dropped to zero). */
  private free_frozen_pages(pfn: Pfn, order: number): void {
    this.free_pages_prepare(pfn, order)
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
    for (let i = 0; i < n; i++) this.pages._refcount[pfn + i] = 0
    zone.managed_pages += n
    this.__free_one_page(pfn, zone, order, this.get_pfnblock_migratetype(pfn), true)
  }
}

/** The pgalloc_<zone> vm event name (built once per zone name: the allocation path is hot). */
const PGALLOC_EVENTS = new Map<string, string>()
function pgalloc_event(zone_name: string): string {
  let e = PGALLOC_EVENTS.get(zone_name)
  if (e === undefined) {
    e = `pgalloc_${zone_name.toLowerCase()}`
    PGALLOC_EVENTS.set(zone_name, e)
  }
  return e
}
