/**
 * CLOCK (second chance). The frames form a circle with one reference bit
 * each and a hand:
 *
 * - hit: the page's bit is set to 1; the hand does not move;
 * - miss while a frame is free: the page goes into the next free frame
 *   (frames fill in order 0, 1, ...), bit 0; the hand stays at frame 0;
 * - miss with every frame full: while the frame under the hand has bit 1,
 *   clear it and advance; the page under the hand (bit 0) is evicted, the
 *   new page takes its frame with bit 0, and the hand advances one past it.
 *
 * A new page starts with bit 0 (libCacheSim's Clock does the same), so a
 * page must be referenced again after loading to earn its second chance.
 * This is FIFO where a referenced page is moved to the back once instead of
 * being evicted.
 *
 * The last two pages referenced are kept by page number (`ra`, `rb`) while
 * both are resident with bit 1: a reference to either is a hit that changes
 * nothing, known without interning the page (memory traces alternate
 * between a few pages: see lru.ts). Only a hit can put a page there (a
 * loaded page has bit 0), and a miss forgets them (the hand may clear bits
 * or evict).
 */
import { IDENTITY_IDS, type IdSource, grow_i32, type OnlinePolicy } from './policy.js'

export class Clock implements OnlinePolicy {
  readonly name = 'clock'
  misses = 0
  private readonly frame: Int32Array
  private readonly ref: Uint8Array
  /** The frame holding a page, or -1. */
  private slot = new Int32Array(0)
  private hand = 0
  private count = 0
  /** The last two pages referenced, resident with bit 1 (NaN: none; NaN equals no page). */
  private ra = NaN
  private rb = NaN

  constructor(private readonly frames: number) {
    this.frame = new Int32Array(frames)
    this.ref = new Uint8Array(frames)
  }

  /** Ids that are already dense: the same loop, each id its own. */
  feed(ids: Int32Array, n: number): void {
    this.feed_pages(IDENTITY_IDS, ids, n)
  }

  /** The references' pages, each given its id by `table` in the same loop (one pass over the batch). */
  feed_pages(table: IdSource, pages: ArrayLike<number>, n: number): void {
    const frame = this.frame, ref = this.ref, frames = this.frames
    let slot = this.slot, hand = this.hand, count = this.count, misses = this.misses
    let ra = this.ra, rb = this.rb
    for (let i = 0; i < n; i++) {
      const page = pages[i]
      if (page === ra) continue
      if (page === rb) {
        rb = ra
        ra = page
        continue
      }
      const id = table.id(page)
      if (id >= slot.length) slot = this.slot = grow_i32(slot, id + 1, -1)
      const s = slot[id]
      if (s >= 0) {
        ref[s] = 1
        rb = ra
        ra = page
        continue
      }
      misses++
      ra = rb = NaN
      if (count < frames) {
        frame[count] = id
        ref[count] = 0
        slot[id] = count++
        continue
      }
      while (ref[hand]) {
        ref[hand] = 0
        if (++hand === frames) hand = 0
      }
      slot[frame[hand]] = -1
      frame[hand] = id
      slot[id] = hand
      if (++hand === frames) hand = 0
    }
    this.hand = hand
    this.count = count
    this.misses = misses
    this.ra = ra
    this.rb = rb
  }

  resident_pages(): number[] {
    return Array.from(this.frame.subarray(0, this.count))
  }
}
