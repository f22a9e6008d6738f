/**
 * src/include/ulong.ts against the obvious BigInt model of C's unsigned
 * long (and loff_t) arithmetic, for 64- and 32-bit longs, with values biased
 * towards the edges that matter (0, 2^53, 2^63, 2^64 and 2^32, +-4 KiB).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  type LongBits, type Ulong, loff, ul_add, ul_err_value, ul_low32, ul_offset_in_page, ul_page_align, ul_page_down, ul_pages, ul_plain, ul_sub, ulong,
} from '../../src/include/ulong.js'

const edges = [0n, 1n, 4095n, 4096n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n]
/** Any bigint in [-2^65, 2^65), often within 5000 of an edge. */
const big = fc.oneof(
  fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n - 1n }),
  fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -5000, max: 5000 }), fc.boolean()).map(([e, d, neg]) => (neg ? -e : e) + BigInt(d)),
)
const bits = fc.constantFrom<LongBits>(64, 32)

/** The model: the register value, canonical (number below 2^53). */
function model(v: bigint, b: LongBits): Ulong {
  const u = BigInt.asUintN(b, v)
  return u < 2n ** 53n ? Number(u) : u
}
/** A caller's argument: a bigint, or the same value as a number when exact. */
function arg(v: bigint, as_number: boolean): number | bigint {
  return as_number && v > -(2n ** 53n) && v < 2n ** 53n ? Number(v) : v
}

describe('unsigned long arguments', () => {
  it('ulong() is the value modulo 2^bits, canonical', () => {
    fc.assert(fc.property(big, bits, fc.boolean(), (v, b, n) => {
      const u = ulong(arg(v, n), b)
      expect(u).toStrictEqual(model(v, b))
      expect(typeof u === 'bigint').toBe(BigInt(u) >= 2n ** 53n)
    }))
  })

  it('ul_plain() holds exactly for the numbers ulong() returns unchanged', () => {
    fc.assert(fc.property(fc.oneof(big.map(Number), fc.double()), bits, (v, b) => {
      let same: boolean
      try {
        same = ulong(v, b) === v
      } catch {
        same = false
      }
      expect(ul_plain(v, b)).toBe(same)
    }))
  })

  it('refuses a value that is not an integer', () => {
    for (const v of [0.5, NaN, Infinity, -Infinity]) expect(() => ulong(v, 64)).toThrow(TypeError)
  })

  it('add, sub, PAGE_ALIGN, offset_in_page, & PAGE_MASK, >> PAGE_SHIFT, IS_ERR_VALUE, low 32 bits', () => {
    fc.assert(fc.property(big, big, bits, (x, y, b) => {
      const a = model(x, b)
      const c = model(y, b)
      const ua = BigInt(a)
      const uc = BigInt(c)
      const top = 2n ** BigInt(b)
      expect(ul_add(a, c, b)).toStrictEqual(model(ua + uc, b))
      expect(ul_sub(a, c, b)).toStrictEqual(model(ua - uc, b))
      expect(ul_page_align(a, b)).toStrictEqual(model((ua + 4095n) & ~4095n, b))
      expect(ul_offset_in_page(a)).toBe(Number(ua & 4095n))
      expect(ul_page_down(a)).toStrictEqual(model(ua & ~4095n, b))
      expect(ul_pages(a)).toBe(Number(ua >> 12n))
      expect(ul_err_value(a, b)).toBe(ua >= top - 4095n ? Number(ua - top) : 0)
      const lo = Number(ua & 0xffffffffn)
      expect(ul_low32(a)).toBe(lo)
      expect(ul_low32(a, true)).toBe(ua >= 2n ** 32n ? lo + 2 ** 32 : lo)
      // Mixed number/bigint comparisons of canonical values are exact.
      expect(a < c).toBe(ua < uc)
      expect(a === c).toBe(ua === uc)
    }))
  })

  it('loff() is the signed 64-bit value, canonical', () => {
    fc.assert(fc.property(big, fc.boolean(), (v, n) => {
      const s = BigInt.asIntN(64, v)
      expect(loff(arg(v, n))).toStrictEqual(s > -(2n ** 53n) && s < 2n ** 53n ? Number(s) : s)
    }))
  })
})
