/**
 * Page numbers -> dense ids 0, 1, 2... in order of first reference: the one
 * hash map of the trace tools. The policies index typed arrays by id, so
 * they need no map of their own (the online policies call id() inside their
 * own loop: one probe per reference). Open addressing with linear probing in
 * typed arrays (a JS Map would box page numbers above 2^31); grows at half
 * full, so memory is O(distinct pages), never O(references).
 */
export class PageIds {
  /** NaN marks an empty slot (no page number is NaN; NaN equals nothing). */
  private keys = new Float64Array(1 << 12).fill(NaN)
  private vals = new Int32Array(1 << 12)
  private mask = (1 << 12) - 1
  private shift = 32 - 12
  /** The number of distinct pages seen: each new one is a cold miss. */
  size = 0

  /** Fibonacci hashing: the top bits of k x 2^32/phi (the high word folded in first for pages from 2^32 up). */
  private hash(k: number): number {
    const lo = k < 4294967296 ? k : (k >>> 0) ^ Math.imul((k / 4294967296) >>> 0, 0x85ebca6b)
    return Math.imul(lo, 0x9e3779b1) >>> this.shift
  }

  /** The id of a page, a new one (= size - 1 afterwards) on its first reference. */
  id(page: number): number {
    const keys = this.keys, mask = this.mask
    let i = this.hash(page)
    for (;;) {
      const k = keys[i]
      if (k === page) return this.vals[i]
      if (k !== k) break
      i = (i + 1) & mask
    }
    keys[i] = page
    this.vals[i] = this.size
    if (++this.size * 2 > mask) this.grow()
    return this.size - 1
  }

  /** Interns a batch: ids[i] = id(pages[i]). */
  ids(pages: Float64Array, n: number, ids: Int32Array): void {
    for (let i = 0; i < n; i++) ids[i] = this.id(pages[i])
  }

  private grow(): void {
    const keys = this.keys, vals = this.vals
    const cap = keys.length * 2
    this.keys = new Float64Array(cap).fill(NaN)
    this.vals = new Int32Array(cap)
    this.mask = cap - 1
    this.shift--
    for (let j = 0; j < keys.length; j++) {
      if (keys[j] !== keys[j]) continue
      let i = this.hash(keys[j])
      while (this.keys[i] === this.keys[i]) i = (i + 1) & this.mask
      this.keys[i] = keys[j]
      this.vals[i] = vals[j]
    }
  }
}
