/** cap_raised() (bit tests on a 41-bit capability set kept in a double) against the arithmetic definition. */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { cap_raised, CAP_FULL_SET, CAP_LAST_CAP, CAP_SYS_ADMIN, CAP_CHECKPOINT_RESTORE, type kernel_cap_t } from '../../src/include/cred.js'

const naive = (caps: number, cap: number): boolean => Math.floor(caps / 2 ** cap) % 2 === 1

describe('cap_raised', () => {
  it('agrees with floor(caps / 2^cap) odd for every set and capability', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: CAP_FULL_SET }), fc.integer({ min: 0, max: 63 }), (caps, cap) => {
        expect(cap_raised(caps as kernel_cap_t, cap)).toBe(naive(caps, cap))
      }),
      { numRuns: 2000 },
    )
  })
  it('sees the high capabilities above bit 31', () => {
    expect(cap_raised((2 ** CAP_CHECKPOINT_RESTORE) as kernel_cap_t, CAP_CHECKPOINT_RESTORE)).toBe(true)
    expect(cap_raised((CAP_FULL_SET - 2 ** CAP_SYS_ADMIN) as kernel_cap_t, CAP_SYS_ADMIN)).toBe(false)
    for (let c = 0; c <= CAP_LAST_CAP; c++) expect(cap_raised(CAP_FULL_SET, c)).toBe(true)
    expect(cap_raised(CAP_FULL_SET, CAP_LAST_CAP + 1)).toBe(false)
  })
})
