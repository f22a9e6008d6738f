/**
 * OPT (Belady's MIN): on a miss with every frame full, evict the resident
 * page whose next reference is farthest in the future. It needs each
 * reference's next-use position (spool.ts computes them). The resident
 * pages sit in a binary max-heap, with each page's heap position kept.
 *
 * The heap is brought up to date only when a victim is chosen: a hit
 * stores the page's new next use in `key` and, the first time since the
 * last eviction, lists the page as stale; an eviction first moves each
 * stale page up to its new key (keys only rise: the next use after this
 * reference is later than this one), then takes the root. The heap orders
 * by `heap_key`, the key each page had when it was last placed, so it is a
 * valid heap at every step of that catch-up. A page hit a thousand times
 * between two misses (most hits, at a few misses in ten thousand) is moved
 * once, not a thousand times: O(1) per hit, O(log frames) per page moved.
 *
 * Ties: two resident pages can only tie when neither is referenced again
 * (each future position belongs to one page); among those, the page first
 * referenced earliest in the trace (the smaller id) is evicted. Which of
 * them goes never changes the miss count.
 */
import { grow_f64, grow_i32, type Policy } from './policy.js'

/** Moves page id, whose heap key rose, up from heap index h past the pages it should now be evicted before. */
function sift_up(heap: Int32Array, at: Int32Array, hk: Float64Array, h: number, id: number): void {
  const k = hk[id]
  while (h > 0) {
    const p = (h - 1) >> 1
    const q = heap[p], kq = hk[q]
    if (k < kq || (k === kq && id > q)) break
    heap[h] = q
    at[q] = h
    h = p
  }
  heap[h] = id
  at[id] = h
}

/** Places page id at heap index h (the root after an eviction) and moves it down below the pages to be evicted before it. */
function sift_down(heap: Int32Array, at: Int32Array, hk: Float64Array, size: number, h: number, id: number): void {
  const k = hk[id]
  for (;;) {
    let c = 2 * h + 1
    if (c >= size) break
    let x = heap[c], kx = hk[x]
    if (c + 1 < size) {
      const y = heap[c + 1], ky = hk[y]
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
  /** The key the heap orders a resident page by: its next use when it was last placed (key[id] > heap_key[id]: stale). */
  private heap_key = new Float64Array(0)
  /** A page's index in the heap, or -1. */
  private at = new Int32Array(0)
  /** The stale pages (each once): hit since the last eviction. */
  private readonly stale: Int32Array
  private stale_n = 0

  constructor(private readonly frames: number) {
    this.heap = new Int32Array(frames)
    this.stale = new Int32Array(frames)
  }

  private grow(need: number): void {
    this.at = grow_i32(this.at, need, -1)
    this.key = grow_f64(this.key, this.at.length)
    this.heap_key = grow_f64(this.heap_key, this.at.length)
  }

  feed(ids: Int32Array, n: number, next?: Float64Array): void {
    if (!next) throw new Error('OPT needs the next-use positions')
    const heap = this.heap, frames = this.frames, stale = this.stale
    let key = this.key, hk = this.heap_key, at = this.at, size = this.size, misses = this.misses, stale_n = this.stale_n
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (id >= at.length) {
        this.grow(id + 1)
        key = this.key
        hk = this.heap_key
        at = this.at
      }
      if (at[id] >= 0) {
        if (key[id] === hk[id]) stale[stale_n++] = id
        key[id] = next[i]
        continue
      }
      misses++
      key[id] = hk[id] = next[i]
      if (size < frames) {
        sift_up(heap, at, hk, size++, id)
        continue
      }
      this.stale_n = stale_n
      this.evict(id, size)
      stale_n = 0
    }
    this.size = size
    this.misses = misses
    this.stale_n = stale_n
  }

  /** Moves the stale pages up to their keys, then puts page id in the place of the root (the victim). */
  private evict(id: number, size: number): void {
    const heap = this.heap, at = this.at, key = this.key, hk = this.heap_key, stale = this.stale
    for (let j = 0; j < this.stale_n; j++) {
      const s = stale[j]
      hk[s] = key[s]
      sift_up(heap, at, hk, at[s], s)
    }
    this.stale_n = 0
    at[heap[0]] = -1
    sift_down(heap, at, hk, size, 0, id)
  }

  resident_pages(): number[] {
    return Array.from(this.heap.subarray(0, this.size)).sort((a, b) => a - b)
  }
}
