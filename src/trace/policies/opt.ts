/**
 * OPT (Belady's MIN): on a miss with every frame full, evict the resident
 * page whose next reference is farthest in the future. It needs each
 * reference's next-use position (spool.ts computes them). The resident
 * pages sit in a binary max-heap keyed by next use, with each page's heap
 * position kept so a hit can move it: O(log frames) per reference.
 *
 * Ties: two resident pages can only tie when neither is referenced again
 * (each future position belongs to one page); among those, the page first
 * referenced earliest in the trace (the smaller id) is evicted. Which of
 * them goes never changes the miss count.
 */
import { grow_i32, type Policy } from './policy.js'

export class Opt implements Policy {
  readonly name = 'opt'
  misses = 0
  private readonly heap: Int32Array
  private size = 0
  /** A resident page's next use; Infinity when never. */
  private key = new Float64Array(0)
  /** A page's index in the heap, or -1. */
  private at = new Int32Array(0)

  constructor(private readonly frames: number) {
    this.heap = new Int32Array(frames)
  }

  /** Whether page a should be evicted before page b. */
  private above(a: number, b: number): boolean {
    const ka = this.key[a], kb = this.key[b]
    return ka > kb || (ka === kb && a < b)
  }

  private up(i: number): void {
    const heap = this.heap, at = this.at
    const id = heap[i]
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.above(id, heap[p])) break
      heap[i] = heap[p]
      at[heap[i]] = i
      i = p
    }
    heap[i] = id
    at[id] = i
  }

  private down(i: number): void {
    const heap = this.heap, at = this.at, size = this.size
    const id = heap[i]
    for (;;) {
      let c = 2 * i + 1
      if (c >= size) break
      if (c + 1 < size && this.above(heap[c + 1], heap[c])) c++
      if (!this.above(heap[c], id)) break
      heap[i] = heap[c]
      at[heap[i]] = i
      i = c
    }
    heap[i] = id
    at[id] = i
  }

  feed(ids: Int32Array, n: number, next?: Float64Array): void {
    if (!next) throw new Error('OPT needs the next-use positions')
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id >= this.at.length) {
        this.at = grow_i32(this.at, id + 1, -1)
        const k = new Float64Array(this.at.length)
        k.set(this.key)
        this.key = k
      }
      const h = this.at[id]
      if (h >= 0) {
        // Its key was this position; the next use is later: it can only rise.
        this.key[id] = next[i]
        this.up(h)
        continue
      }
      this.misses++
      this.key[id] = next[i]
      if (this.size < this.frames) {
        this.heap[this.size] = id
        this.up(this.size++)
      } else {
        this.at[this.heap[0]] = -1
        this.heap[0] = id
        this.down(0)
      }
    }
  }

  resident_pages(): number[] {
    return Array.from(this.heap.subarray(0, this.size)).sort((a, b) => a - b)
  }
}
