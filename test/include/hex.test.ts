import { expect, it } from 'vitest'
import fc from 'fast-check'
import { hex } from '../../src/include/hex.js'

it('hex(n) is n.toString(16) for any number', () => {
  const edges = [0, 1, -1, 0xffffff, 0x1000000, 0x1000001, 2 ** 31, 2 ** 32 - 1, 2 ** 47 - 4096, 2 ** 48, 2 ** 53 - 1, 2 ** 53, 2 ** 64, -(2 ** 47), 0.5, 1e300, NaN, Infinity, -Infinity]
  for (const n of edges) expect(hex(n)).toBe(n.toString(16))
  fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.maxSafeInteger(), fc.double()), (n) => hex(n) === n.toString(16)), { numRuns: 2000 })
})
