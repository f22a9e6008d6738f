/**
 * Zones, free areas and per-CPU page lists (Kernel: include/linux/mmzone.h).
 *
 * A free list is an intrusive doubly linked list threaded through the
 * struct-page lru links (PageArray.lru_next / lru_prev), with head and tail
 * kept per (order, migratetype): no object per page, no allocation on the
 * hot path. Invariants (checked by mm/debug_vm.ts):
 *  - a block on free_area[o].free_list[mt] is PageBuddy with order o, its
 *    PFN is a multiple of 2^o and it lies inside the zone;
 *  - nr_free[o] is the number of blocks on all lists of order o;
 *  - NR_FREE_PAGES equals the pages in all buddy blocks of the zone.
 */
import type { PageArray, Pfn } from './page.js'
import { MIGRATE_TYPES, MIGRATE_PCPTYPES } from './gfp.js'

export const MAX_PAGE_ORDER = 10
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1
export const PAGE_ALLOC_COSTLY_ORDER = 3
/** Kernel: MAX_RECLAIM_RETRIES (mm/internal.h): direct-reclaim rounds before the allocator gives up. */
export const MAX_RECLAIM_RETRIES = 16
export const pageblock_order = 9
export const pageblock_nr_pages = 1 << pageblock_order
/** Orders a pcp list may hold: 0..PAGE_ALLOC_COSTLY_ORDER (THP's pageblock order is not simulated). */
export const NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1)
export const NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS

export const WMARK_MIN = 0
export const WMARK_LOW = 1
export const WMARK_HIGH = 2
export const WMARK_PROMO = 3
export const NR_WMARK = 4

/** An intrusive list of PFNs (or of 2^order blocks) through the page lru links. */
export class PfnList {
  head: Pfn = -1
  tail: Pfn = -1
  count = 0

  add(p: PageArray, pfn: Pfn): void {
    p.lru_prev[pfn] = -1
    p.lru_next[pfn] = this.head
    if (this.head >= 0) p.lru_prev[this.head] = pfn
    else this.tail = pfn
    this.head = pfn
    this.count++
  }

  add_tail(p: PageArray, pfn: Pfn): void {
    p.lru_next[pfn] = -1
    p.lru_prev[pfn] = this.tail
    if (this.tail >= 0) p.lru_next[this.tail] = pfn
    else this.head = pfn
    this.tail = pfn
    this.count++
  }

  del(p: PageArray, pfn: Pfn): void {
    const n = p.lru_next[pfn]
    const pr = p.lru_prev[pfn]
    if (pr >= 0) p.lru_next[pr] = n
    else this.head = n
    if (n >= 0) p.lru_prev[n] = pr
    else this.tail = pr
    this.count--
  }

  get empty(): boolean {
    return this.head < 0
  }

  /** The PFNs on the list, head first. */
  each(p: PageArray): Pfn[] {
    const out: Pfn[] = []
    for (let pfn = this.head; pfn >= 0; pfn = p.lru_next[pfn]) out.push(pfn)
    return out
  }
}

/**
 * n new empty lists. A loop, not Array.from({ length: n }, ...): the iterator
 * protocol made that ~8x slower, and a boot builds a few hundred lists (every
 * order and migrate type of every zone, every CPU's pcp lists).
 */
function new_lists(n: number): PfnList[] {
  const lists: PfnList[] = [] // push, not new Array(n): a packed array, no hole checks on the hot paths
  for (let i = 0; i < n; i++) lists.push(new PfnList())
  return lists
}

/** Kernel: struct free_area. */
export class FreeArea {
  readonly free_list: PfnList[] = new_lists(MIGRATE_TYPES)
  nr_free = 0
}

/** Kernel: struct per_cpu_pages. */
export class PerCpuPages {
  count = 0
  high = 0
  high_min = 0
  high_max = 0
  batch = 0
  flags = 0
  alloc_factor = 0
  free_count = 0
  readonly lists: PfnList[] = new_lists(NR_PCP_LISTS)
}
export const PCPF_PREV_FREE_HIGH_ORDER = 1
export const PCPF_FREE_HIGH_BATCH = 2

/** Kernel: enum zone_stat_item (6.18, no CMA/bounce): indices into Zone.vm_stat. */
export const NR_FREE_PAGES = 0
export const NR_FREE_PAGES_BLOCKS = 1
export const NR_ZONE_INACTIVE_ANON = 2
export const NR_ZONE_ACTIVE_ANON = 3
export const NR_ZONE_INACTIVE_FILE = 4
export const NR_ZONE_ACTIVE_FILE = 5
export const NR_ZONE_UNEVICTABLE = 6
export const NR_ZONE_WRITE_PENDING = 7
export const NR_MLOCK = 8
export const NR_ZSPAGES = 9
export const NR_FREE_CMA_PAGES = 10
export const NR_VM_ZONE_STAT_ITEMS = 11
export const zone_stat_names = [
  'nr_free_pages',
  'nr_free_pages_blocks',
  'nr_zone_inactive_anon',
  'nr_zone_active_anon',
  'nr_zone_inactive_file',
  'nr_zone_active_file',
  'nr_zone_unevictable',
  'nr_zone_write_pending',
  'nr_mlock',
  'nr_zspages',
  'nr_free_cma',
] as const

/** Kernel: struct zone. */
export class Zone {
  readonly name: string
  /** zone_idx(): position in the node's zone array (enum zone_type). */
  readonly idx: number
  zone_start_pfn = 0
  spanned_pages = 0
  present_pages = 0
  managed_pages = 0
  readonly _watermark = [0, 0, 0, 0]
  watermark_boost = 0
  /** lowmem_reserve[j]: pages this zone keeps back from allocations that could have used zone j. */
  lowmem_reserve: number[] = []
  nr_reserved_highatomic = 0
  nr_free_highatomic = 0
  readonly free_area: FreeArea[] = Zone.new_free_areas()
  readonly vm_stat = new Float64Array(NR_VM_ZONE_STAT_ITEMS)
  per_cpu_pageset: PerCpuPages[] = []
  pageset_batch = 0
  pageset_high_min = 0
  pageset_high_max = 0
  /** ZONE_BELOW_HIGH, ZONE_RECLAIM_ACTIVE, ZONE_BOOSTED_WATERMARK (enum zone_flags) */
  flags = 0
  /** numa_hit etc. (single node: hit == local). */
  numa_hit = 0
  numa_local = 0
  /** pageblock migratetype per pageblock of the zone span. */
  pageblock_mt: Uint8Array = new Uint8Array(0)

  constructor(name: string, idx: number) {
    this.name = name
    this.idx = idx
  }

  /** Kernel: zone_end_pfn(). */
  get zone_end_pfn(): number {
    return this.zone_start_pfn + this.spanned_pages
  }
  /** Kernel: populated_zone(). */
  get populated(): boolean {
    return this.present_pages !== 0
  }
  /** Kernel: zone_spans_pfn(). */
  spans(pfn: Pfn): boolean {
    return pfn >= this.zone_start_pfn && pfn < this.zone_start_pfn + this.spanned_pages
  }
  min_wmark_pages(): number {
    return this._watermark[WMARK_MIN] + this.watermark_boost
  }
  low_wmark_pages(): number {
    return this._watermark[WMARK_LOW] + this.watermark_boost
  }
  high_wmark_pages(): number {
    return this._watermark[WMARK_HIGH] + this.watermark_boost
  }
  wmark_pages(i: number): number {
    return this._watermark[i] + this.watermark_boost
  }
  free_pages(): number {
    return this.vm_stat[NR_FREE_PAGES]
  }

  /** The free_area of every order (a loop: see new_lists()). */
  private static new_free_areas(): FreeArea[] {
    const areas: FreeArea[] = []
    for (let o = 0; o < NR_PAGE_ORDERS; o++) areas.push(new FreeArea())
    return areas
  }
}
export const ZONE_BELOW_HIGH = 1
export const ZONE_RECLAIM_ACTIVE = 2
/** A fragmenting fallback boosted the watermarks: the next allocation from the zone wakes kswapd. */
export const ZONE_BOOSTED_WATERMARK = 4
