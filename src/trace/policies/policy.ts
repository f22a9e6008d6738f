/**
 * What the page-replacement policies share.
 *
 * A reference is a *hit* when its page is resident in one of the `frames`
 * frames just before the reference, and a *miss* otherwise; after a miss
 * the page is resident (evicting one page when all frames are full). A
 * *cold* miss is a page's first reference in the trace; every policy takes
 * it, and it is counted in `misses` as well as on its own. Pages are dense
 * ids from PageIds (0, 1, ... in order of first reference); a policy is fed
 * batches of them and keeps per-id state in typed arrays grown as new ids
 * appear, so the inner loop allocates nothing.
 */

export const POLICIES = ['lru', 'fifo', 'clock', 'random', 'opt'] as const
export type PolicyName = (typeof POLICIES)[number]

export interface Policy {
  readonly name: PolicyName
  /** Misses so far (cold ones included). */
  misses: number
  /**
   * Takes n references. `next` (OPT only) holds, for each, the position in
   * the whole trace of the same page's next reference, or Infinity.
   */
  feed(ids: Int32Array, n: number, next?: Float64Array): void
  /**
   * The resident page ids, for teaching output (`mmsim exercise`), in the
   * policy's own order: FIFO and LRU next victim first, CLOCK and RANDOM by
   * frame, OPT by id. O(frames).
   */
  resident_pages(): number[]
}

/** Where feed_pages() gets each page's id: a PageIds table, or IDENTITY_IDS for pages that are ids already. */
export interface IdSource {
  id(page: number): number
}

/** Pages that are already dense ids: feed() is feed_pages() through this. */
export const IDENTITY_IDS: IdSource = { id: (page) => page }

/**
 * A policy that needs no future (all but OPT): it can take page numbers
 * and intern them in its own loop, one pass per batch instead of an
 * interning pass and a policy pass (`mmsim trace`'s hot path, where the
 * source is always a PageIds table). Its feed(ids) is feed_pages(IDENTITY_IDS, ids).
 */
export interface OnlinePolicy extends Policy {
  /** The same as feed() on `table`'s ids of the n pages (new pages get new ids). */
  feed_pages(table: IdSource, pages: ArrayLike<number>, n: number): void
}

/** A per-id array at least `need` long, keeping its contents (filled with `fill` past them). */
function grow<A extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(a: A, need: number, fill: number, make: (n: number) => A): A {
  if (need <= a.length) return a
  const b = make(Math.max(need, a.length * 2))
  b.set(a)
  if (fill !== 0) b.fill(fill, a.length)
  return b
}

/** grow() of a per-id Int32Array. */
export function grow_i32(a: Int32Array<ArrayBuffer>, need: number, fill = 0): Int32Array<ArrayBuffer> {
  return grow(a, need, fill, (n) => new Int32Array(n))
}

/** grow() of a per-id Float64Array. */
export function grow_f64(a: Float64Array<ArrayBuffer>, need: number, fill = 0): Float64Array<ArrayBuffer> {
  return grow(a, need, fill, (n) => new Float64Array(n))
}
