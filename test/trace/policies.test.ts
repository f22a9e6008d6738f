/** The policies against textbook answers and against the naive simulators of reference.ts. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { POLICIES } from '../../src/trace/policies/policy.js'
import { PageIds } from '../../src/trace/intern.js'
import { Lru } from '../../src/trace/policies/lru.js'
import { simulate_file as simulate } from '../../src/cli/trace.js'
import { naive_misses } from './reference.js'
import { FIXTURE, fast_misses, fixture_pages, fused_misses } from './helpers.js'

const CLASSIC = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]
const BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]

describe('textbook reference strings', () => {
  it('Silberschatz 7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1 with 3 frames: FIFO 15, LRU 12, OPT 9 faults', () => {
    expect(fast_misses('fifo', CLASSIC, 3)).toBe(15)
    expect(fast_misses('lru', CLASSIC, 3)).toBe(12)
    expect(fast_misses('opt', CLASSIC, 3)).toBe(9)
    for (const p of ['fifo', 'lru', 'opt'] as const) expect(naive_misses(p, CLASSIC, 3)).toBe(fast_misses(p, CLASSIC, 3))
  })

  it("Belady's anomaly: FIFO takes 9 faults with 3 frames and 10 with 4; LRU and OPT never get worse with more frames", () => {
    expect(fast_misses('fifo', BELADY, 3)).toBe(9)
    expect(fast_misses('fifo', BELADY, 4)).toBe(10)
    expect(fast_misses('lru', BELADY, 3)).toBe(10)
    expect(fast_misses('lru', BELADY, 4)).toBe(8)
    expect(fast_misses('opt', BELADY, 3)).toBe(7)
    expect(fast_misses('opt', BELADY, 4)).toBe(6)
  })

  it('clock gives a second chance: with 3 frames, 1 2 3 1 4 evicts 2 (1 was referenced), so 1 then hits and 2 misses', () => {
    // 1 2 3 fill; the hit on 1 sets its bit; 4 clears 1's bit, evicts 2; 1 hits; 2 misses (evicts 3)
    expect(fast_misses('clock', [1, 2, 3, 1, 4, 1], 3)).toBe(4)
    expect(fast_misses('clock', [1, 2, 3, 1, 4, 1, 2], 3)).toBe(5)
    expect(fast_misses('fifo', [1, 2, 3, 1, 4, 1], 3)).toBe(5)
  })

  it('every policy misses exactly once per distinct page when the frames hold them all', () => {
    for (const p of POLICIES) expect(fast_misses(p, CLASSIC, 6)).toBe(6)
  })
})

/** Every policy's fast (and, but OPT, fused) misses against its naive simulator's, in one comparison. */
function expect_same_misses(refs: number[], frames: number, seed: number, cuts: number[]): void {
  const got: Record<string, number[]> = {}
  const want: Record<string, number[]> = {}
  for (const p of POLICIES) {
    const n = naive_misses(p, refs, frames, seed)
    got[p] = p === 'opt' ? [fast_misses(p, refs, frames, seed, cuts)] : [fast_misses(p, refs, frames, seed, cuts), fused_misses(p, refs, frames, seed, cuts)]
    want[p] = p === 'opt' ? [n] : [n, n]
  }
  expect(got).toEqual(want)
}

describe('the fast policies equal the naive simulators', () => {
  it('on random traces, capacities and batch boundaries (all five policies, random with its seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((k) => fc.array(fc.integer({ min: 0, max: k }), { maxLength: 400, size: 'max' })),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.nat(400), { maxLength: 4 }),
        (refs, frames, seed, cuts) => expect_same_misses(refs, frames, seed, cuts),
      ),
      { numRuns: 300 },
    )
  })

  it("LRU on long traces (thousands of evictions and re-references) misses as the textbook's list does, and its resident pages come out least recent first", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }).chain((k) => fc.array(fc.integer({ min: 0, max: k }), { minLength: 4500, maxLength: 12_000 })),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.nat(12_000), { maxLength: 6 }),
        (refs, frames, cuts) => {
          expect(fast_misses('lru', refs, frames, 1, cuts)).toBe(naive_misses('lru', refs, frames))
          expect(fused_misses('lru', refs, frames, 1, cuts)).toBe(naive_misses('lru', refs, frames))
          // The textbook list, most recent last; the policy's resident pages (as dense ids) in the same order.
          const list: number[] = []
          for (const r of refs) {
            const i = list.indexOf(r)
            if (i >= 0) list.splice(i, 1)
            else if (list.length === frames) list.shift()
            list.push(r)
          }
          const lru = new Lru(frames)
          const dense = new Map<number, number>()
          const ids = Int32Array.from(refs, (r) => (dense.has(r) ? (dense.get(r) as number) : (dense.set(r, dense.size), dense.size - 1)))
          lru.feed(ids, ids.length)
          expect(lru.resident_pages()).toEqual(list.map((r) => dense.get(r)))
          // The fused path (page numbers, interned in the loop) leaves the same list.
          const fused = new Lru(frames)
          const table = new PageIds()
          fused.feed_pages(table, Float64Array.from(refs), refs.length)
          expect(fused.resident_pages()).toEqual(list.map((r) => table.id(r)))
        },
      ),
      { numRuns: 40 },
    )
  })

  it('on traces that alternate between a few pages (the last-two-pages shortcuts of lru, fifo and clock, with evictions between), whole and in batches', () => {
    // Runs of A B A B ... over random pairs: references to the page one or two back, broken by misses.
    const run = fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 9 }))
    fc.assert(
      fc.property(
        fc.array(run, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(fc.nat(700), { maxLength: 4 }),
        (runs, frames, seed, cuts) => {
          const refs = runs.flatMap(([a, b, k]) => Array.from({ length: k }, (_, i) => (i % 2 ? b : a)))
          expect_same_misses(refs, frames, seed, cuts)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('OPT on long traces (pages hit many times between evictions, so many stale heap keys caught up at each) misses as the naive simulator does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }).chain((k) => fc.array(fc.integer({ min: 0, max: k }), { minLength: 3000, maxLength: 8000 })),
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.nat(8000), { maxLength: 6 }),
        (refs, frames, cuts) => {
          expect(fast_misses('opt', refs, frames, 1, cuts)).toBe(naive_misses('opt', refs, frames))
        },
      ),
      { numRuns: 30 },
    )
  })

  it('on huge page numbers (lackey addresses, 64-bit object ids) as on small ones', () => {
    const big = CLASSIC.map((p) => 2 ** 40 + p * 2 ** 33)
    for (const p of POLICIES) expect(fast_misses(p, big, 3)).toBe(fast_misses(p, CLASSIC, 3))
    for (const p of ['lru', 'fifo', 'clock', 'random'] as const) expect(fused_misses(p, big, 3)).toBe(fast_misses(p, CLASSIC, 3))
  })
})

describe('the real trace slice (test/fixtures/traces)', () => {
  it('streams through zstd and every policy agrees with its naive simulator at every tested size', async () => {
    const pages = await fixture_pages()
    expect(pages).toHaveLength(5000)
    for (const frames of [1, 2, 3, 8, 16, 32, 64, 100, 136, 137, 500]) {
      for (const policy of POLICIES) {
        const r = await simulate(FIXTURE, { policy, frames, seed: 7 })
        expect(r.refs).toBe(5000)
        expect(r.cold_misses).toBe(137)
        expect(r.format).toBe('csv')
        expect(r.compression).toBe('zstd')
        expect(r.misses, `${policy} ${frames}`).toBe(naive_misses(policy, pages, frames, 7))
        expect(r.hits + r.misses).toBe(r.refs)
      }
    }
  })
})
