import { describe, expect, it } from 'vitest'

// test/setup.ts compares typed arrays as bytes; its verdicts must be expect's own.
describe('typed-array equality in tests', () => {
  it('equal bytes are equal, one differing byte or length is not', () => {
    const a = new Uint8Array(4096).map((_, i) => i & 0xff)
    expect(a).toEqual(a.slice())
    const b = a.slice()
    b[4095] ^= 1
    expect(a).not.toEqual(b)
    expect(a).not.toEqual(a.subarray(0, 4095))
  })
  it('keeps the generic rules for other kinds: element types differ, -0 is not 0, NaN is NaN', () => {
    expect(new Uint8Array([1, 2])).not.toEqual(new Int8Array([1, 2]))
    expect(new Float64Array([0])).not.toEqual(new Float64Array([-0]))
    expect(new Float64Array([NaN])).toEqual(new Float64Array([NaN]))
    expect(new BigUint64Array([1n])).not.toEqual(new BigUint64Array([2n]))
  })
})
