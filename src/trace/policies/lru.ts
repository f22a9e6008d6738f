/**
 * LRU: on a miss with every frame full, evict the page referenced least
 * recently. O(1) per reference. The two most recently referenced pages are
 * held in locals of the loop (`a` the most recent, `b` the one before);
 * the other resident pages form a circular doubly linked list threaded
 * through prev/next arrays, most recent at the head. Node k + 1 is page id
 * k; node 0 is a sentinel (next[0] the head, prev[0] the least recent
 * page), so unlinking and pushing need no end-of-list branches. prev = -1:
 * not in the list (not resident, or `a` or `b`).
 *
 * Why the two locals: memory traces alternate between a few pages (code,
 * stack, data); in the shared python trace 71% of references are to the
 * page referenced two before. A reference to `a` changes nothing and one to
 * `b` swaps the two, found by comparing page numbers before the page is
 * even interned, so those references cost neither a hash probe nor list
 * stores. Any other reference pushes `b` onto the list's head, which keeps
 * the whole order exact.
 */
import { IDENTITY_IDS, type IdSource, grow_i32, type OnlinePolicy } from './policy.js'

export class Lru implements OnlinePolicy {
  readonly name = 'lru'
  misses = 0
  private prev = Int32Array.of(0)
  private next = Int32Array.of(0)
  private count = 0
  /** The most recent page's node and page number (0 and NaN: none yet; NaN equals no page). */
  private a = 0
  private pa = NaN
  /** The page referenced before `a`, likewise. */
  private b = 0
  private pb = NaN

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
    let a = this.a, pa = this.pa, b = this.b, pb = this.pb
    for (let i = 0; i < n; i++) {
      const page = pages[i]
      if (page === pa) continue
      if (page === pb) {
        const t = a
        a = b
        b = t
        pb = pa
        pa = page
        continue
      }
      const x = table.id(page) + 1
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
        prev[x] = -1
      } else {
        misses++
        if (count === frames) {
          // The least recent: the list's tail, or with the list empty (1 or 2 frames) `b`, else `a`.
          const v = prev[0]
          if (v !== 0) {
            const pv = prev[v]
            next[pv] = 0
            prev[0] = pv
            prev[v] = -1
          } else if (b !== 0) {
            b = 0
            pb = NaN
          } else {
            a = 0
            pa = NaN
          }
        } else {
          count++
        }
      }
      if (b !== 0) {
        const h = next[0]
        prev[b] = 0
        next[b] = h
        prev[h] = b
        next[0] = b
      }
      b = a
      pb = pa
      a = x
      pa = page
    }
    this.count = count
    this.misses = misses
    this.a = a
    this.pa = pa
    this.b = b
    this.pb = pb
  }

  resident_pages(): number[] {
    const out: number[] = []
    for (let x = this.prev[0]; x !== 0; x = this.prev[x]) out.push(x - 1)
    if (this.b !== 0) out.push(this.b - 1)
    if (this.a !== 0) out.push(this.a - 1)
    return out
  }
}
