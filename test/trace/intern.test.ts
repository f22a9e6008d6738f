/** PageIds (the trace tools' one hash table) against a naive Map model, through several table growths. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PageIds } from '../../src/trace/intern.js'

/** The model: ids 0, 1, 2... in order of first reference. */
function model_ids(pages: readonly number[]): number[] {
  const m = new Map<number, number>()
  return pages.map((p) => {
    let id = m.get(p)
    if (id === undefined) m.set(p, (id = m.size))
    return id
  })
}

describe('PageIds', () => {
  it('gives the ids a Map gives, page by page and in batches, for small, sequential and 64-bit page numbers across growths', () => {
    const page = fc.oneof(
      fc.nat(50),
      fc.integer({ min: 0, max: 2 ** 32 + 10 }),
      fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 7, 2 ** 53 - 1),
      fc.integer({ min: 0, max: 2 ** 53 - 1 }),
    )
    fc.assert(
      fc.property(
        fc.array(page, { maxLength: 300 }),
        // a run of consecutive pages: thousands of new ones force the table to grow (it starts at 4096 slots, half full)
        fc.nat(2 ** 40),
        fc.integer({ min: 0, max: 9000 }),
        fc.array(fc.nat(9300), { maxLength: 5 }),
        (mixed, base, run, repeats) => {
          const pages = [...mixed, ...Array.from({ length: run }, (_, i) => base + i), ...repeats.map((r) => (r < run ? base + r : r)), ...mixed]
          // As Int32Arrays: test/setup.ts compares typed arrays in one loop (a generic deep equality of
          // ~10,000 numbers took longer than the tables it checks).
          const want = Int32Array.from(model_ids(pages))
          const one = new PageIds()
          expect(Int32Array.from(pages, (p) => one.id(p))).toEqual(want)
          expect(one.size).toBe(new Set(pages).size)
          const batched = new PageIds()
          const out = new Int32Array(pages.length)
          batched.ids(Float64Array.from(pages), pages.length, out)
          expect(out).toEqual(want)
        },
      ),
      { numRuns: 60 },
    )
  })
})
