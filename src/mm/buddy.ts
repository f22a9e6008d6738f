/**
 * The buddy system's free lists (Kernel: mm/page_alloc.c, the zone->lock
 * half: __free_one_page, expand, __rmqueue and its fallbacks, pageblock
 * migratetypes, the highatomic reserve, the watermark checks).
 *
 * Free memory of each zone sits on free_area[order].free_list[migratetype]
 * as naturally aligned blocks of 2^order pages; the head page of a free block
 * is PageBuddy with its order recorded. Allocation takes the smallest block
 * that fits and splits it (expand); freeing merges a block with its buddy
 * (pfn ^ (1 << order)) for as long as the buddy is free and of the same order
 * (__free_one_page). A free block sits on the list of its pageblock's
 * migratetype (6.10+ freelist hygiene); a request that finds none of its own
 * type claims a whole pageblock of another type, or steals a block from it.
 *
 * Invariants (checked by mm/debug_vm.ts after every operation in tests):
 *  - a free block is aligned, on the list of its order and of its
 *    pageblock's migratetype, and never has a free buddy of the same order
 *    (it would have merged), except across pageblocks whose migratetypes
 *    may not merge;
 *  - NR_FREE_PAGES of a zone equals the pages in its free blocks.
 */
import type { ArchProfile } from '../arch/profile.js'
import type { PhysMem } from '../hw/physmem.js'
import type { Printk } from '../include/printk.js'
import type { Tracer } from '../include/trace.js'
import { KernelBug } from '../include/bug.js'
import { MIGRATE_HIGHATOMIC, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, migratetype_names } from './gfp.js'
import { MAX_PAGE_ORDER, NR_FREE_PAGES, NR_PAGE_ORDERS, WMARK_HIGH, WMARK_LOW, WMARK_MIN, ZONE_BOOSTED_WATERMARK, pageblock_nr_pages, pageblock_order, type Zone } from './mmzone.js'
import { PG_lru, PGTY_buddy, PGTY_none, type PageArray, type Pfn } from './page.js'
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

/** fallbacks[] (mm/page_alloc.c): where each migratetype may steal from, in order. */
const fallbacks: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE], // UNMOVABLE
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE], // MOVABLE
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE], // RECLAIMABLE
]

export interface PageAllocatorOptions {
  init_on_alloc: boolean
  init_on_free: boolean
  nr_cpus: number
}

export function migratetype_is_mergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES
}

/** The zones' free areas; PcpLists and PageAllocator build on it. */
export class FreeAreas {
  /** Zones indexed by zone_idx (unpopulated ones included). */
  readonly zones: Zone[]
  /** page_zone() by pageblock: the zone index of each pageblock (-1: none). */
  readonly zone_of_block: Int8Array
  /**
   * DEBUG_VM's log of the block heads that changed state since the last
   * check (debug_vm_touched.ts); null when the per-operation checker is off.
   */
  debug_touched: number[] | null = null
  /**
   * Explanations (only written while trace.explaining): the free list the
   * last __rmqueue took its block from, and how; xp_quiet > 0 folds the
   * per-block lines of a pcp refill or drain into the caller's summary,
   * which counts the merges in xp_merges.
   */
  protected xp_order = -1
  protected xp_mt = -1
  protected xp_how = ''
  protected xp_quiet = 0
  protected xp_merges = 0

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
    // page_zone() by pageblock: zones are pageblock aligned on x86 (16M, 4G, MAXMEM).
    this.zone_of_block = new Int8Array(Math.ceil(pages.nr / pageblock_nr_pages)).fill(-1)
    for (const z of zones) {
      if (!z.spanned_pages) continue
      const first = Math.floor(z.zone_start_pfn / pageblock_nr_pages)
      const last = Math.floor((z.zone_end_pfn - 1) / pageblock_nr_pages)
      for (let b = first; b <= last; b++) if (this.zone_of_block[b] < 0) this.zone_of_block[b] = z.idx
    }
  }

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

  // ------------------------------------------------------------ free lists

  protected account_freepages(zone: Zone, nr: number, mt: number): void {
    zone.vm_stat[NR_FREE_PAGES] += nr
    if (mt === MIGRATE_HIGHATOMIC) zone.nr_free_highatomic += nr
  }

  protected add_to_free_list(pfn: Pfn, zone: Zone, order: number, mt: number, tail: boolean): void {
    const p = this.pages
    p.page_type[pfn] = PGTY_buddy
    p.order[pfn] = order
    const list = zone.free_area[order].free_list[mt]
    if (tail) list.add_tail(p, pfn)
    else list.add(p, pfn)
    zone.free_area[order].nr_free++
    this.debug_touched?.push(pfn)
  }

  protected del_page_from_free_list(pfn: Pfn, zone: Zone, order: number, mt: number): void {
    const p = this.pages
    zone.free_area[order].free_list[mt].del(p, pfn)
    p.page_type[pfn] = PGTY_none
    p.order[pfn] = 0
    zone.free_area[order].nr_free--
    this.debug_touched?.push(pfn)
  }

  /** Kernel: page_is_buddy(): is `buddy` a free block of exactly `order` in the same zone? */
  protected page_is_buddy(zone: Zone, buddy: Pfn, order: number): boolean {
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
    const explaining = this.trace.explaining
    const xp = explaining && !this.xp_quiet ? [`pfn 0x${pfn.toString(16)} order ${order}`] : null
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
      if (explaining) {
        if (xp) xp.push(`merged with free buddy 0x${buddy_pfn.toString(16)} -> order ${order + 1}`)
        else this.xp_merges++
      }
      pfn = pfn & buddy_pfn
      order++
    }
    if (!to_tail) to_tail = this.buddy_merge_likely(zone, pfn, pfn ^ (1 << order), order)
    this.add_to_free_list(pfn, zone, order, migratetype, to_tail)
    if (xp) {
      const b = `0x${(pfn ^ (1 << order)).toString(16)}`
      const why =
        order === MAX_PAGE_ORDER ? `order ${order} is the largest`
        : this.page_is_buddy(zone, pfn ^ (1 << order), order) ? `buddy ${b} is free but its migratetype may not merge`
        : `buddy ${b} is not a free order-${order} block`
      this.trace.explain('page_free', () =>
        `${xp.join(', ')}; ${why}; queued pfn 0x${pfn.toString(16)} at the ${to_tail ? 'tail' : 'head'} of the order-${order} ${migratetype_names[migratetype]} list of zone ${zone.name}`,
      )
    }
  }

  /** Kernel: buddy_merge_likely(): is the buddy of our parent block free? */
  protected buddy_merge_likely(zone: Zone, pfn: Pfn, buddy_pfn: Pfn, order: number): boolean {
    if (order >= MAX_PAGE_ORDER - 1) return false
    const higher = buddy_pfn & pfn
    return this.page_is_buddy(zone, higher ^ (1 << (order + 1)), order + 1)
  }

  /** Kernel: expand(): split a 2^high block down to 2^low, queueing the upper halves. */
  protected expand(zone: Zone, pfn: Pfn, low: number, high: number, mt: number): number {
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
  protected page_del_and_expand(zone: Zone, pfn: Pfn, low: number, high: number, mt: number): void {
    this.del_page_from_free_list(pfn, zone, high, mt)
    const nr_added = this.expand(zone, pfn, low, high, mt)
    this.account_freepages(zone, -(1 << high) + nr_added, mt)
  }

  /** Kernel: __rmqueue_smallest(). */
  protected __rmqueue_smallest(zone: Zone, order: number, mt: number): Pfn {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const pfn = zone.free_area[o].free_list[mt].head
      if (pfn < 0) continue
      this.page_del_and_expand(zone, pfn, order, o, mt)
      if (this.trace.explaining) this.xp_note(o, mt, 'own')
      return pfn
    }
    return -1
  }

  /** For explanations: where the last block came from (see xp_order). */
  protected xp_note(order: number, mt: number, how: string): void {
    this.xp_order = order
    this.xp_mt = mt
    this.xp_how = how
  }

  /** For explanations: the block pfn of `order` taken from a free block of `from`: its split steps. */
  protected xp_split(pfn: Pfn, order: number, from: number): string {
    if (from === order) return 'no split'
    const halves: string[] = []
    for (let k = from - 1; k >= order; k--) halves.push(`0x${(pfn + (1 << k)).toString(16)} (order ${k})`)
    return `split order ${from} -> ${order}, the upper halves ${halves.join(', ')} went back to the free lists`
  }

  /** Kernel: find_suitable_fallback(). */
  protected find_suitable_fallback(zone: Zone, order: number, mt: number): number {
    const area = zone.free_area[order]
    if (area.nr_free === 0) return -1
    for (const fmt of fallbacks[mt]) if (!area.free_list[fmt].empty) return fmt
    return -1
  }

  /** Kernel: should_try_claim_block(). */
  protected should_try_claim_block(order: number, start_mt: number): boolean {
    if (order >= pageblock_order / 2) return true
    return start_mt === MIGRATE_RECLAIMABLE || start_mt === MIGRATE_UNMOVABLE
  }

  /** Move every free block of a pageblock to another migratetype's lists; returns pages moved. */
  protected move_freepages_block(zone: Zone, start: Pfn, old_mt: number, new_mt: number): number {
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

  /** sysctl vm.watermark_boost_factor: the most a boost may add, in 1/10000 of the high watermark. */
  watermark_boost_factor = 15000

  /**
   * Kernel: boost_watermark(): a fallback that mixes migratetypes in a
   * pageblock raises the zone's watermarks by a pageblock (up to
   * watermark_boost_factor of the high one), so kswapd frees memory before
   * the next fallback has to. Not in zones too small to gain from it.
   */
  protected boost_watermark(zone: Zone): boolean {
    if (!this.watermark_boost_factor) return false
    if (pageblock_nr_pages * 4 > zone.managed_pages) return false
    const max_boost = Math.max(pageblock_nr_pages, Math.floor((zone._watermark[WMARK_HIGH] * this.watermark_boost_factor) / 10000))
    zone.watermark_boost = Math.min(zone.watermark_boost + pageblock_nr_pages, max_boost)
    return true
  }

  /** Kernel: try_to_claim_block(). */
  protected try_to_claim_block(zone: Zone, pfn: Pfn, current_order: number, order: number, start_mt: number, block_mt: number, alloc_flags: number): Pfn {
    if (current_order >= pageblock_order) {
      this.del_page_from_free_list(pfn, zone, current_order, block_mt)
      this.account_freepages(zone, -(1 << current_order), block_mt)
      for (let b = pfn; b < pfn + (1 << current_order); b += pageblock_nr_pages) this.set_pageblock_migratetype(b, start_mt)
      const nr_added = this.expand(zone, pfn, order, current_order, start_mt)
      this.account_freepages(zone, nr_added, start_mt)
      if (this.trace.explaining) this.xp_note(current_order, block_mt, '')
      return pfn
    }
    // The rest of the pageblock stays the other type: boost, and have the next allocation wake kswapd.
    if (this.boost_watermark(zone) && alloc_flags & ALLOC_KSWAPD) zone.flags |= ZONE_BOOSTED_WATERMARK
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
      if (this.pages.test(p, PG_lru)) movable_pages++
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
  protected __rmqueue_claim(zone: Zone, order: number, start_mt: number, alloc_flags: number): Pfn {
    let min_order = order
    if (order < pageblock_order && alloc_flags & ALLOC_NOFRAGMENT) min_order = pageblock_order
    for (let o = MAX_PAGE_ORDER; o >= min_order; o--) {
      const fmt = this.find_suitable_fallback(zone, o, start_mt)
      if (fmt === -1) continue
      if (!this.should_try_claim_block(o, start_mt)) break
      const pfn = zone.free_area[o].free_list[fmt].head
      const got = this.try_to_claim_block(zone, pfn, o, order, start_mt, fmt, alloc_flags)
      if (got >= 0) {
        // The block came from the claimed pageblock (xp_order and xp_mt say which list).
        if (this.trace.explaining) this.xp_how = `a ${migratetype_names[fmt]} pageblock claimed for ${migratetype_names[start_mt]}`
        return got
      }
    }
    return -1
  }

  /** Kernel: __rmqueue_steal(): take the smallest fallback block without claiming its pageblock. */
  protected __rmqueue_steal(zone: Zone, order: number, start_mt: number): Pfn {
    for (let o = order; o < NR_PAGE_ORDERS; o++) {
      const fmt = this.find_suitable_fallback(zone, o, start_mt)
      if (fmt === -1) continue
      const pfn = zone.free_area[o].free_list[fmt].head
      this.page_del_and_expand(zone, pfn, order, o, fmt)
      if (this.trace.explaining) this.xp_note(o, fmt, `stolen for ${migratetype_names[start_mt]}`)
      return pfn
    }
    return -1
  }

  /** Kernel: __rmqueue(). */
  protected __rmqueue(zone: Zone, order: number, mt: number, alloc_flags: number): Pfn {
    let pfn = this.__rmqueue_smallest(zone, order, mt)
    if (pfn >= 0) return pfn
    pfn = this.__rmqueue_claim(zone, order, mt, alloc_flags)
    if (pfn >= 0) return pfn
    if (!(alloc_flags & ALLOC_NOFRAGMENT)) return this.__rmqueue_steal(zone, order, mt)
    return -1
  }

  // ------------------------------------------------------------ watermarks

  /** Kernel: __zone_watermark_unusable_free(). */
  protected unusable_free(zone: Zone, order: number, alloc_flags: number): number {
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
  protected zone_watermark_fast(z: Zone, order: number, mark: number, highest_zoneidx: number, alloc_flags: number): boolean {
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

  // ------------------------------------------------------------ highatomic reserve

  /** The zonelist for a request: populated zones from highest_zoneidx down (single node). */
  protected zonelist(highest_zoneidx: number): readonly Zone[] {
    // Cached per highest_zoneidx, rebuilt whenever the set of populated zones changed.
    let mask = 0
    for (let i = highest_zoneidx; i >= 0; i--) if (this.zones[i].populated) mask |= 1 << i
    const c = this.zonelist_cache[highest_zoneidx]
    if (c !== undefined && this.zonelist_mask[highest_zoneidx] === mask) return c
    const out: Zone[] = []
    for (let i = highest_zoneidx; i >= 0; i--) if (this.zones[i].populated) out.push(this.zones[i])
    this.zonelist_cache[highest_zoneidx] = out
    this.zonelist_mask[highest_zoneidx] = mask
    return out
  }
  private readonly zonelist_cache: (Zone[] | undefined)[] = []
  private readonly zonelist_mask: number[] = []
  /**
   * Kernel: reserve_highatomic_pageblock(): after a high-order atomic
   * success, set the pageblock aside for future ones (up to ~1% of the zone).
   */
  protected reserve_highatomic_pageblock(pfn: Pfn, order: number, zone: Zone): void {
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
  protected unreserve_highatomic_pageblock(highest_zoneidx: number, mt: number): boolean {
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
  protected move_freepages_block_whole(zone: Zone, pfn: Pfn, order: number, old_mt: number, new_mt: number): void {
    this.del_page_from_free_list(pfn, zone, order, old_mt)
    this.account_freepages(zone, -(1 << order), old_mt)
    this.add_to_free_list(pfn, zone, order, new_mt, true)
    this.account_freepages(zone, 1 << order, new_mt)
  }

}
