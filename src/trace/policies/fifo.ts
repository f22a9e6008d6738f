/**
 * FIFO: on a miss with every frame full, evict the page loaded longest ago;
 * hits change nothing. The frames are a ring in load order.
 *
 * The last two pages referenced are kept by page number (`ra`, `rb`) while
 * both are resident: a reference to either is a hit that changes nothing,
 * known without interning the page (memory traces alternate between a few
 * pages: see lru.ts). An eviction forgets them, as the victim may be one.
 */
import { IDENTITY_IDS, type IdSource, grow_i32, type OnlinePolicy } from './policy.js'

export class Fifo implements OnlinePolicy {
  readonly name = 'fifo'
  misses = 0
  private readonly ring: Int32Array
  private resident = new Int32Array(0)
  /** The oldest page's slot once the ring is full. */
  private hand = 0
  private count = 0
  /** The last two pages referenced, resident (NaN: none; NaN equals no page). */
  private ra = NaN
  private rb = NaN

  constructor(private readonly frames: number) {
    this.ring = new Int32Array(frames)
  }

  /** Ids that are already dense: the same loop, each id its own. */
  feed(ids: Int32Array, n: number): void {
    this.feed_pages(IDENTITY_IDS, ids, n)
  }

  /** The references' pages, each given its id by `table` in the same loop (one pass over the batch). */
  feed_pages(table: IdSource, pages: ArrayLike<number>, n: number): void {
    const ring = this.ring, frames = this.frames
    let resident = this.resident, hand = this.hand, count = this.count, misses = this.misses
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
      if (id >= resident.length) resident = this.resident = grow_i32(resident, id + 1)
      if (!resident[id]) {
        misses++
        if (count < frames) {
          ring[count++] = id
        } else {
          resident[ring[hand]] = 0
          ring[hand] = id
          if (++hand === frames) hand = 0
          ra = NaN
        }
        resident[id] = 1
      }
      rb = ra
      ra = page
    }
    this.hand = hand
    this.count = count
    this.misses = misses
    this.ra = ra
    this.rb = rb
  }

  resident_pages(): number[] {
    const out: number[] = []
    // Until the ring is full the hand is 0 and slot 0 is the oldest.
    for (let i = 0; i < this.count; i++) out.push(this.ring[(this.hand + i) % this.frames])
    return out
  }
}
