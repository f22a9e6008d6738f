/**
 * Runs the page-id table and a policy's loop over a small made-up trace
 * before a real one, the results thrown away.
 *
 * Why: `mmsim trace` is one cold run. V8 compiles a hot loop while it runs
 * (on-stack replacement) from the paths that have run so far; the first
 * eviction, hash collision or table growth after that is a path it has
 * never seen, so it throws the compiled loop away, runs on in the
 * interpreter and compiles it again, milliseconds of compiler time each
 * (a 4M-reference run saw five or six of these per loop). Run once
 * through every path first (misses into free frames, hits of every kind,
 * evictions with 1 to 4 frames, OPT's ties and stale pages; collisions
 * and 64-bit page numbers in the table), each loop is compiled once. It
 * costs about a millisecond of CPU.
 */
import { PageIds } from './intern.js'
import { make_online_policy, make_policy } from './policies/make.js'
import type { PolicyName } from './policies/policy.js'
import { xorshift32 } from './policies/random.js'

/**
 * Distinct pages enough for hash collisions in the table's first 4096
 * slots, some of them from 2^32 up. Not enough to grow it: a growth, a
 * trace's only one below 2^12 distinct pages, compiled in here would cost
 * five times the rest.
 */
const TABLE_PAGES = 300
/** References to 8 pages, half of them to the page two back (hits on the most recent pages), the rest at random. */
const REFS = 200

export function warm_up(policy: PolicyName): void {
  const rand = xorshift32(12345)
  const many = Float64Array.from({ length: TABLE_PAGES }, (_, i) => (i % 7 === 0 ? 2 ** 40 : 0) + rand())
  const t = new PageIds()
  t.ids(many, TABLE_PAGES, new Int32Array(TABLE_PAGES))
  for (let i = 0; i < TABLE_PAGES; i++) t.id(many[i])

  const pages = new Float64Array(REFS)
  for (let i = 0; i < REFS; i++) pages[i] = i >= 2 && rand() % 2 ? pages[i - 2] : 4096 + 3 * (rand() % 8)
  for (let frames = 1; frames <= 4; frames++) {
    if (policy !== 'opt') {
      make_online_policy(policy, frames).feed_pages(new PageIds(), pages, REFS)
      continue
    }
    const ids = new Int32Array(REFS)
    const table = new PageIds()
    table.ids(pages, REFS, ids)
    const next = new Float64Array(REFS)
    const last = new Float64Array(table.size).fill(Infinity)
    for (let i = REFS - 1; i >= 0; i--) {
      next[i] = last[ids[i]]
      last[ids[i]] = i
    }
    make_policy('opt', frames).feed(ids, REFS, next)
  }
}
