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

/** Moves page id, whose key rose, up from heap index h past the pages it should now be evicted before. */
function sift_up(heap: Int32Array, at: Int32Array, key: Float64Array, h: number, id: number): void {
  const k = key[id]
  while (h > 0) {
    const p = (h - 1) >> 1
    const q = heap[p], kq = key[q]
    if (k < kq || (k === kq && id > q)) break
    heap[h] = q
    at[q] = h
    h = p
  }
  heap[h] = id
  at[id] = h
}

/** Places page id at heap index h (the root after an eviction) and moves it down below the pages to be evicted before it. */
function sift_down(heap: Int32Array, at: Int32Array, key: Float64Array, size: number, h: number, id: number): void {
  const k = key[id]
  for (;;) {
    let c = 2 * h + 1
    if (c >= size) break
    let x = heap[c], kx = key[x]
    if (c + 1 < size) {
      const y = heap[c + 1], ky = key[y]
      if (ky > kx || (ky === kx && y < x)) {
        c++
        x = y
        kx = ky
      }
    }
    if (k > kx || (k === kx && id < x)) break
    heap[h] = x
    at[x] = h
    h = c
  }
  heap[h] = id
  at[id] = h
}

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

  private grow(need: number): void {
    this.at = grow_i32(this.at, need, -1)
    const k = new Float64Array(this.at.length)
    k.set(this.key)
    this.key = k
  }

  feed(ids: Int32Array, n: number, next?: Float64Array): void {
    if (!next) throw new Error('OPT needs the next-use positions')
    const heap = this.heap, frames = this.frames
    let key = this.key, at = this.at, size = this.size, misses = this.misses
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id >= at.length) {
        this.grow(id + 1)
        key = this.key
        at = this.at
      }
      const h = at[id]
      key[id] = next[i]
      if (h >= 0) {
        // Its key was this position; the next use is later: it can only rise.
        sift_up(heap, at, key, h, id)
        continue
      }
      misses++
      if (size < frames) {
        sift_up(heap, at, key, size++, id)
      } else {
        at[heap[0]] = -1
        sift_down(heap, at, key, size, 0, id)
      }
    }
    this.size = size
    this.misses = misses
  }

  resident_pages(): number[] {
    return Array.from(this.heap.subarray(0, this.size)).sort((a, b) => a - b)
  }
}
