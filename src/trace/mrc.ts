/**
 * LRU's whole miss-ratio curve in one pass (Mattson et al. 1970): LRU has
 * the stack property, so a reference hits in c frames exactly when its
 * stack distance (the number of distinct pages referenced since the same
 * page's previous reference, itself included) is at most c. The distance
 * is counted with a Fenwick tree over access times holding a 1 at each
 * page's last access: distance = the 1s at or after the page's previous
 * access. O(log) per reference. Times are renumbered (keeping their order)
 * whenever they run out, so the tree holds O(distinct pages), never
 * O(references).
 */
import { grow_i32 } from './policies/policy.js'

/** A miss-ratio curve: misses at 1..max frames. */
export interface Curve {
  policy: 'lru' | 'opt'
  refs: number
  distinct_pages: number
  cold_misses: number
  /** misses[c - 1] = misses with c frames. */
  misses: number[]
}

/** Misses at c = 1..max from a histogram of distances (hist[d], d >= 1) and the references with no finite distance. */
export function curve_from_histogram(hist: Float64Array, infinite: number, max: number): number[] {
  let beyond = infinite
  for (let d = max + 1; d < hist.length; d++) beyond += hist[d]
  const out = new Array<number>(max)
  for (let c = max; c >= 1; c--) {
    out[c - 1] = beyond
    beyond += c < hist.length ? hist[c] : 0
  }
  return out
}

export class LruStackDistances {
  /** Fenwick tree over time slots (1-based inside). */
  private bit = new Int32Array(1 << 16)
  /** The page whose last access is at a slot, or -1. */
  private owner = new Int32Array(1 << 16).fill(-1)
  /** A page's last access slot, or -1. */
  private last = new Int32Array(0)
  private t = 0
  private live = 0
  /** hist[d]: references at stack distance d. */
  hist = new Float64Array(1 << 10)
  cold = 0
  refs = 0

  private add(i: number, v: number): void {
    const bit = this.bit, n = bit.length
    for (i++; i < n; i += i & -i) bit[i] += v
  }

  /** The 1s in slots 0..i-1. */
  private before(i: number): number {
    const bit = this.bit
    let s = 0
    for (; i > 0; i -= i & -i) s += bit[i]
    return s
  }

  /** Renumbers the live slots 0..live-1 in order, in a tree at least 4x their number. */
  private compact(): void {
    const size = Math.max(1 << 16, 2 ** Math.ceil(Math.log2(this.live * 4 + 2)))
    const owner = new Int32Array(size).fill(-1)
    let k = 0
    for (let s = 0; s < this.t; s++) {
      const id = this.owner[s]
      if (id < 0) continue
      owner[k] = id
      this.last[id] = k++
    }
    // a tree of k ones, built in O(size)
    const bit = new Int32Array(size)
    for (let i = 1; i < size; i++) {
      bit[i] += i <= k ? 1 : 0
      const j = i + (i & -i)
      if (j < size) bit[j] += bit[i]
    }
    this.bit = bit
    this.owner = owner
    this.t = k
  }

  feed(ids: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id >= this.last.length) this.last = grow_i32(this.last, id + 1, -1)
      if (this.t + 1 >= this.bit.length) this.compact()
      const p = this.last[id]
      if (p < 0) {
        this.cold++
        this.live++
      } else {
        const d = this.live - this.before(p)
        if (d >= this.hist.length) {
          const h = new Float64Array(Math.max(d + 1, this.hist.length * 2))
          h.set(this.hist)
          this.hist = h
        }
        this.hist[d]++
        this.add(p, -1)
        this.owner[p] = -1
      }
      this.add(this.t, 1)
      this.owner[this.t] = id
      this.last[id] = this.t++
    }
    this.refs += n
  }

  curve(max: number): Curve {
    return { policy: 'lru', refs: this.refs, distinct_pages: this.cold, cold_misses: this.cold, misses: curve_from_histogram(this.hist, this.cold, max) }
  }
}
