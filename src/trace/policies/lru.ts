/**
 * LRU: on a miss with every frame full, evict the page referenced least
 * recently. O(1) per reference: the resident pages form a circular doubly
 * linked list threaded through prev/next arrays. Node k + 1 is page id k;
 * node 0 is a sentinel (next[0] the most recent page, prev[0] the least), so
 * unlinking and pushing need no end-of-list branches. prev = -1: not resident.
 */
import { IDENTITY_IDS, type IdSource, grow_i32, type OnlinePolicy } from './policy.js'

export class Lru implements OnlinePolicy {
  readonly name = 'lru'
  misses = 0
  private prev = Int32Array.of(0)
  private next = Int32Array.of(0)
  private count = 0

  constructor(private readonly frames: number) {}

  private grow(need: number): void {
    this.prev = grow_i32(this.prev, need, -1)
    this.next = grow_i32(this.next, need)
  }

  /** Ids that are already dense: the same loop, each id its own. */
  feed(ids: Int32Array, n: number): void {
    this.feed_pages(IDENTITY_IDS, ids, n)
  }

  /** The references' pages, each given its id by `table` in the same loop (one pass over the batch). */
  feed_pages(table: IdSource, pages: ArrayLike<number>, n: number): void {
    const frames = this.frames
    let prev = this.prev, next = this.next, count = this.count, misses = this.misses
    for (let i = 0; i < n; i++) {
      const x = table.id(pages[i]) + 1
      if (x >= prev.length) {
        this.grow(x + 1)
        prev = this.prev
        next = this.next
      }
      const p = prev[x]
      if (p >= 0) {
        const q = next[x]
        next[p] = q
        prev[q] = p
      } else {
        misses++
        if (count === frames) {
          const v = prev[0], pv = prev[v]
          next[pv] = 0
          prev[0] = pv
          prev[v] = -1
        } else {
          count++
        }
      }
      const h = next[0]
      prev[x] = 0
      next[x] = h
      prev[h] = x
      next[0] = x
    }
    this.count = count
    this.misses = misses
  }

  resident_pages(): number[] {
    const out: number[] = []
    for (let x = this.prev[0]; x !== 0; x = this.prev[x]) out.push(x - 1)
    return out
  }
}
