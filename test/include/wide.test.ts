/**
 * src/include/wide.ts against the obvious definitions: BigInt for the bit
 * operations and floor division / `%` on exact values for the arithmetic,
 * over the whole domain each helper promises (wide and negative canonical
 * addresses, flag words up to 2^53).
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { PAGE_SIZE } from '../../src/include/page_types.js'
import {
  flags_and,
  flags_andnot,
  flags_bit,
  flags_or,
  flags_shr,
  flags_test,
  flags_union,
  flags_xor,
  mod_pow2,
  offset_in_page,
  page_chunk,
  pt_index,
} from '../../src/include/wide.js'

/**
 * expect(got).toBe(want), without vitest's expect() machinery when they agree: the properties
 * below check ~100,000 values, and building an assertion object for each was most of the file's time.
 */
function same(got: unknown, want: unknown): void {
  if (!Object.is(got, want)) expect(got).toBe(want)
}

const MAX = Number.MAX_SAFE_INTEGER
/** Integers spread over every magnitude (small ones, around 2^31 and 2^32, up to 2^53). */
const wide_int = (min: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: Math.max(min, -5000), max: 5000 }),
    fc.integer({ min: Math.max(min, -(2 ** 33)), max: 2 ** 33 }),
    fc.double({ min: Math.max(min, -MAX), max: MAX, noNaN: true }).map((x) => Math.trunc(x) + 0), // + 0: no -0
    fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 47, 2 ** 48 - 1, MAX).filter((v) => v >= min),
  )
const pow2 = (lo: number, hi: number): fc.Arbitrary<number> => fc.integer({ min: lo, max: hi }).map((e) => 2 ** e)
const floor_mod = (a: number, n: number): number => ((a % n) + n) % n
const flag_word = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
  fc.constantFrom(0n, 1n, 2n ** 31n, 2n ** 32n, 2n ** 42n, 2n ** 53n - 1n),
)

describe('mod_pow2 / offset_in_page', () => {
  it('is the floor modulo for every exact integer and power of two', () => {
    fc.assert(
      fc.property(wide_int(-MAX), pow2(0, 30), (a, n) => {
        same(mod_pow2(a, n), floor_mod(a, n))
      }),
      { numRuns: 3000 },
    )
  })
  it('offset_in_page is in [0, PAGE_SIZE) and rebuilds the address, negative canonical ones included', () => {
    fc.assert(
      fc.property(wide_int(-MAX), (a) => {
        const off = offset_in_page(a)
        same(off, floor_mod(a, PAGE_SIZE))
        same(Math.floor(a / PAGE_SIZE) * PAGE_SIZE + off, a)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('pt_index', () => {
  it('is floor(l / span) % nents for every linear address, span and table size', () => {
    fc.assert(
      fc.property(wide_int(0), pow2(0, 39), pow2(0, 20), (l, span, nents) => {
        same(pt_index(l, span, nents), Math.floor(l / span) % nents)
      }),
      { numRuns: 5000 },
    )
  })
  it('gives the x86-64 4-level split of a canonical user address', () => {
    const l = 0x7ffd12345678
    const split = [39, 30, 21, 12].map((s) => pt_index(l, 2 ** s, 512))
    expect(split).toEqual([255, 500, 145, 325])
  })
})

describe('page_chunk', () => {
  it('walks [start, start+len) in maximal chunks that never cross a page', () => {
    fc.assert(
      fc.property(wide_int(-(2 ** 52)).filter((a) => a < 2 ** 52), fc.integer({ min: 0, max: 5 * PAGE_SIZE }), (start, len) => {
        const seen: number[] = []
        for (let done = 0, n = 0; done < len; done += n) {
          const a = start + done
          n = page_chunk(a, len - done)
          // the obvious version: up to the next page boundary, or to the end of the range
          same(n, Math.min(PAGE_SIZE - floor_mod(a, PAGE_SIZE), len - done))
          same(Math.floor((a + n - 1) / PAGE_SIZE), Math.floor(a / PAGE_SIZE))
          seen.push(n)
        }
        same(seen.reduce((x, y) => x + y, 0), len)
        same(seen.length, len === 0 ? 0 : Math.floor((start + len - 1) / PAGE_SIZE) - Math.floor(start / PAGE_SIZE) + 1)
      }),
      { numRuns: 2000 },
    )
  })
  it('resumes inside the same page after a short copy', () => {
    expect(page_chunk(PAGE_SIZE - 10, 30)).toBe(10)
    expect(page_chunk(PAGE_SIZE - 6, 26)).toBe(6)
    expect(page_chunk(PAGE_SIZE, 20)).toBe(20)
    expect(page_chunk(-1, 20)).toBe(1)
  })
})

describe('64-bit flag words', () => {
  const N = (b: bigint): number => Number(b)
  it('or / and / andnot / xor / test agree with BigInt', () => {
    fc.assert(
      fc.property(flag_word, flag_word, (a, b) => {
        same(flags_or(N(a), N(b)), N(a | b))
        same(flags_and(N(a), N(b)), N(a & b))
        same(flags_andnot(N(a), N(b)), N(a & ~b))
        same(flags_xor(N(a), N(b)), N(a ^ b))
        same(flags_test(N(a), N(b)), (a & b) !== 0n)
        same(flags_union(N(a), N(b), N(a ^ b)), N(a | b))
      }),
      { numRuns: 5000 },
    )
  })
  it('flags_shr agrees with BigInt >>', () => {
    fc.assert(
      fc.property(flag_word, fc.integer({ min: 0, max: 53 }), (a, n) => {
        same(flags_shr(N(a), n), N(a >> BigInt(n)))
      }),
      { numRuns: 2000 },
    )
  })
  it('flags_bit agrees with BigInt on the domain and with floor(a / 2^bit) odd outside it', () => {
    fc.assert(
      fc.property(flag_word, fc.integer({ min: 0, max: 52 }), (a, bit) => {
        same(flags_bit(N(a), bit), ((a >> BigInt(bit)) & 1n) === 1n)
      }),
      { numRuns: 3000 },
    )
    const naive = (a: number, bit: number): boolean => Math.floor(a / 2 ** bit) % 2 === 1
    for (const [a, bit] of [
      [5, 0.5],
      [-1, 3],
      [2 ** 60, 60],
      [7, 64],
    ]) {
      expect(flags_bit(a, bit)).toBe(naive(a, bit))
    }
  })
})
