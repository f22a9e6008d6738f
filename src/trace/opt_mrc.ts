/**
 * OPT's miss-ratio curve for 1..M frames in one pass: Mattson's stack
 * algorithm with Belady's priority (sooner next use first). OPT has the
 * inclusion property, so one stack holds every cache size's contents (the
 * top c entries are what c frames hold). On a reference to x at position p
 * (0-based), x moves to the top and the old top is carried down: at each
 * position j < p, the one of {carried, S[j]} used sooner stays, the other
 * (the page c = j frames would evict) is carried on, and lands in x's old
 * place. A page not in the top M (first reference, or evicted from all
 * sizes up to M) is a miss at every size; the carried page then falls off.
 *
 * Cost: O(p) per reference, so O(references x M) at worst (it is cheap when
 * stack positions are small, as in most real traces). Memory: the stack and
 * one next-use per page. Which of two never-again pages a step keeps never
 * changes a count.
 */
import { curve_from_histogram, type Curve } from './mrc.js'
import { grow_f64, grow_i32 } from './policies/policy.js'

export class OptStack {
  private readonly stack: Int32Array
  private len = 0
  /** A page's place in the stack, or -1. */
  private at = new Int32Array(0)
  private key = new Float64Array(0)
  private readonly hist: Float64Array
  private outside = 0
  cold = 0
  refs = 0

  constructor(private readonly max: number) {
    this.stack = new Int32Array(max)
    this.hist = new Float64Array(max + 1)
  }

  feed(ids: Int32Array, n: number, next: Float64Array): void {
    const stack = this.stack
    for (let i = 0; i < n; i++) {
      const x = ids[i]
      if (x >= this.at.length) {
        this.at = grow_i32(this.at, x + 1, -1)
        this.key = grow_f64(this.key, this.at.length)
      }
      // ids are dense in order of first reference: a new one is the next number
      if (x === this.cold) this.cold++
      const at = this.at, keys = this.key
      const p = at[x]
      let end: number
      if (p >= 0) {
        this.hist[p + 1]++
        end = p
      } else {
        this.outside++
        end = this.len < this.max ? this.len++ : this.max
      }
      keys[x] = next[i]
      if (end === 0) {
        stack[0] = x
        at[x] = 0
        continue
      }
      let carried = stack[0]
      stack[0] = x
      at[x] = 0
      for (let j = 1; j < end; j++) {
        const s = stack[j]
        if (keys[carried] < keys[s]) {
          stack[j] = carried
          at[carried] = j
          carried = s
        }
      }
      if (end < this.max) {
        stack[end] = carried
        at[carried] = end
      } else {
        at[carried] = -1
      }
    }
    this.refs += n
  }

  curve(): Curve {
    return { policy: 'opt', refs: this.refs, distinct_pages: this.cold, cold_misses: this.cold, misses: curve_from_histogram(this.hist, this.outside, this.max) }
  }
}
