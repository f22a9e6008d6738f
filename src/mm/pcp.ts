/**
 * Per-CPU page lists (Kernel: mm/page_alloc.c, rmqueue_pcplist,
 * free_frozen_page_commit, free_pcppages_bulk, nr_pcp_alloc/high/free,
 * drain_all_pages).
 *
 * Orders 0..PAGE_ALLOC_COSTLY_ORDER are taken from and freed to a list of
 * the running CPU first; an empty list is refilled with a batch from the
 * buddy lists (growing with consecutive allocations: alloc_factor), a list
 * above its high mark is drained by a batch (growing with consecutive frees:
 * free_count). high floats between high_min and high_max as 6.x tunes it.
 * Pages on pcp lists are not free in NR_FREE_PAGES, as in Linux.
 *
 * Invariant (mm/debug_vm.ts): pcp->count equals the pages on its lists;
 * every pcp page is in its zone and has refcount 0.
 */
import { MIGRATE_PCPTYPES, migratetype_names } from './gfp.js'
import { FreeAreas } from './buddy.js'
import { PAGE_ALLOC_COSTLY_ORDER, PCPF_FREE_HIGH_BATCH, PCPF_PREV_FREE_HIGH_ORDER, ZONE_BELOW_HIGH, ZONE_RECLAIM_ACTIVE, type PerCpuPages, type Zone } from './mmzone.js'
import type { Pfn } from './page.js'

/** CONFIG_PCP_BATCH_SCALE_MAX default. */
const PCP_BATCH_SCALE_MAX = 5

export function order_to_pindex(migratetype: number, order: number): number {
  return order * MIGRATE_PCPTYPES + migratetype
}
function pindex_to_order(pindex: number): number {
  return Math.floor(pindex / MIGRATE_PCPTYPES)
}
/** Kernel: pcp_allowed_order(). */
export function pcp_allowed_order(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER
}

/** For explanations: how many blocks came from each order's free lists, e.g. "order 0 x30, order 5 x1". */
function xp_orders(from: readonly number[]): string {
  const parts: string[] = []
  from.forEach((n, o) => parts.push(`order ${o} x${n}`))
  return parts.length ? `taken from free blocks of ${parts.join(', ')}` : 'none free'
}

export class PcpLists extends FreeAreas {
  /** The CPU the current kernel code runs on (selects the pcp lists). */
  cpu = 0

  // ------------------------------------------------------------ pcp lists

  protected pcp(zone: Zone): PerCpuPages {
    return zone.per_cpu_pageset[this.cpu]
  }

  /** Kernel: nr_pcp_alloc(): how many blocks to pull from the buddy lists into an empty pcp list. */
  protected nr_pcp_alloc(pcp: PerCpuPages, zone: Zone, order: number): number {
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
  protected rmqueue_bulk(zone: Zone, order: number, count: number, pindex: number, mt: number, alloc_flags: number, pcp: PerCpuPages): number {
    let i = 0
    const from: number[] | null = this.trace.explaining ? [] : null
    for (; i < count; i++) {
      const pfn = this.__rmqueue(zone, order, mt, alloc_flags)
      if (pfn < 0) break
      pcp.lists[pindex].add_tail(this.pages, pfn)
      if (from) from[this.xp_order] = (from[this.xp_order] ?? 0) + 1
    }
    if (from) this.xp_refill = `the list was empty: refilled ${i} of ${count} blocks from the buddy lists (${xp_orders(from)})`
    return i
  }

  /** For explanations: what the last pcp refill did ('' when the list had blocks). */
  protected xp_refill = ''

  /** Kernel: rmqueue_pcplist(). */
  protected rmqueue_pcplist(zone: Zone, order: number, mt: number, alloc_flags: number): Pfn {
    const pcp = this.pcp(zone)
    pcp.free_count >>= 1
    const pindex = order_to_pindex(mt, order)
    const list = pcp.lists[pindex]
    this.xp_refill = ''
    if (list.empty) {
      const batch = this.nr_pcp_alloc(pcp, zone, order)
      pcp.count += this.rmqueue_bulk(zone, order, batch, pindex, mt, alloc_flags, pcp) << order
      if (list.empty) return -1
    }
    const pfn = list.head
    list.del(this.pages, pfn)
    pcp.count -= 1 << order
    if (this.trace.explaining) {
      this.trace.explain('page_alloc', () =>
        `order-${order} ${migratetype_names[mt]} pfn 0x${pfn.toString(16)} from the head of cpu ${this.cpu}'s pcp list of zone ${zone.name} (order <= ${PAGE_ALLOC_COSTLY_ORDER} goes through the per-cpu lists)${this.xp_refill ? `; ${this.xp_refill}` : ''}; ${pcp.count} pages left on cpu ${this.cpu}'s lists`,
      )
    }
    return pfn
  }

  /** Kernel: free_pcppages_bulk(): return `count` pages from the pcp lists to the buddy lists. */
  protected free_pcppages_bulk(zone: Zone, count: number, pcp: PerCpuPages, pindex: number): void {
    count = Math.min(pcp.count, count)
    if (this.trace.explaining) {
      const before = pcp.count
      this.xp_quiet++
      this.xp_merges = 0
      try {
        this.__free_pcppages_bulk(zone, count, pcp, pindex)
      } finally {
        this.xp_quiet--
      }
      const merges = this.xp_merges
      this.trace.explain('page_free', () =>
        `${before - pcp.count} pages went from cpu ${this.cpu}'s pcp lists back to the buddy lists of zone ${zone.name} (${merges} buddy merges); ${pcp.count} left`,
      )
      return
    }
    this.__free_pcppages_bulk(zone, count, pcp, pindex)
  }

  private __free_pcppages_bulk(zone: Zone, count: number, pcp: PerCpuPages, pindex: number): void {
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
  protected nr_pcp_high(pcp: PerCpuPages, zone: Zone, batch: number, free_high: boolean): number {
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
  protected nr_pcp_free(pcp: PerCpuPages, batch: number, high: number, free_high: boolean): number {
    if (free_high) return Math.min(pcp.count, batch << PCP_BATCH_SCALE_MAX)
    if (high < batch) return 1
    return Math.min(Math.max(pcp.free_count, batch), high - batch)
  }

  /** Kernel: free_frozen_page_commit(). */
  protected free_frozen_page_commit(zone: Zone, pcp: PerCpuPages, pfn: Pfn, mt: number, order: number): void {
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
    if (this.trace.explaining) {
      this.trace.explain('page_free', () =>
        `order-${order} pfn 0x${pfn.toString(16)} to the head of cpu ${this.cpu}'s ${migratetype_names[mt]} pcp list of zone ${zone.name} (order <= ${PAGE_ALLOC_COSTLY_ORDER}); count ${pcp.count} ${pcp.count >= high ? `>= high ${high}: draining a batch` : `< high ${high}: kept there`}`,
      )
    }
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

}
