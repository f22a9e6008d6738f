/**
 * Hierarchical page counters (Kernel: mm/page_counter.c): a charge is
 * added to the counter and every ancestor, and refused (rolled back) when
 * any of them would go over its max. usage is in pages.
 */

/** PAGE_COUNTER_MAX: "unlimited" (LONG_MAX / PAGE_SIZE on 64-bit). */
export const PAGE_COUNTER_MAX = Math.floor(2 ** 63 / 4096)

export class PageCounter {
  usage = 0
  max = PAGE_COUNTER_MAX
  /** The highest usage seen (memory.max_usage_in_bytes). */
  watermark = 0
  /** Charges refused at this counter (memory.failcnt). */
  failcnt = 0
  constructor(readonly parent: PageCounter | null) {}

  /** Kernel: page_counter_try_charge(): null on success, else the counter that refused. */
  try_charge(nr_pages: number): PageCounter | null {
    return page_counter_try_charge(this, nr_pages)
  }

  /** Kernel: page_counter_charge(): unconditional (may exceed max). */
  charge(nr_pages: number): void {
    page_counter_charge(this, nr_pages)
  }

  /** Kernel: page_counter_uncharge(). */
  uncharge(nr_pages: number): void {
    this.usage -= nr_pages
    for (let c = this.parent; c; c = c.parent) c.usage -= nr_pages
  }

  /** Kernel: page_counter_set_max(): false (-EBUSY) when usage is already above the new max. */
  set_max(nr_pages: number): boolean {
    if (this.usage > nr_pages) return false
    this.max = nr_pages
    return true
  }
}

function page_counter_try_charge(counter: PageCounter, nr_pages: number): PageCounter | null {
  for (let c: PageCounter | null = counter; c; c = c.parent) {
    if (c.usage + nr_pages > c.max) {
      c.failcnt++
      for (let u: PageCounter | null = counter; u && u !== c; u = u.parent) u.usage -= nr_pages
      return c
    }
    c.usage += nr_pages
    if (c.usage > c.watermark) c.watermark = c.usage
  }
  return null
}

function page_counter_charge(counter: PageCounter, nr_pages: number): void {
  for (let c: PageCounter | null = counter; c; c = c.parent) {
    c.usage += nr_pages
    if (c.usage > c.watermark) c.watermark = c.usage
  }
}
