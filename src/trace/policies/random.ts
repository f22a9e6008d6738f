/**
 * RANDOM: on a miss with every frame full, evict the page in a frame drawn
 * uniformly by a seeded generator (xorshift32; frame = draw mod frames, the
 * bias of which is below frames / 2^32), so a seed gives one answer. Frames
 * fill in order 0, 1, ... while free; the new page takes the victim's frame.
 */
import { IDENTITY_IDS, type IdSource, grow_i32, type OnlinePolicy } from './policy.js'

/** The generator the reference simulator in test/ shares: the same seed, the same victims. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
}

export class RandomPolicy implements OnlinePolicy {
  readonly name = 'random'
  misses = 0
  private readonly frame: Int32Array
  private slot = new Int32Array(0)
  private count = 0
  private readonly rand: () => number

  constructor(private readonly frames: number, seed: number) {
    this.frame = new Int32Array(frames)
    this.rand = xorshift32(seed)
  }

  /** Ids that are already dense: the same loop, each id its own. */
  feed(ids: Int32Array, n: number): void {
    this.feed_pages(IDENTITY_IDS, ids, n)
  }

  /** The references' pages, each given its id by `table` in the same loop (one pass over the batch). */
  feed_pages(table: IdSource, pages: ArrayLike<number>, n: number): void {
    const frame = this.frame, frames = this.frames
    let slot = this.slot, misses = this.misses
    for (let i = 0; i < n; i++) {
      const id = table.id(pages[i])
      if (id >= slot.length) slot = this.slot = grow_i32(slot, id + 1, -1)
      if (slot[id] >= 0) continue
      misses++
      let s: number
      if (this.count < frames) {
        s = this.count++
      } else {
        s = this.rand() % frames
        slot[frame[s]] = -1
      }
      frame[s] = id
      slot[id] = s
    }
    this.misses = misses
  }

  resident_pages(): number[] {
    return Array.from(this.frame.subarray(0, this.count))
  }
}
