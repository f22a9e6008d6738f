/** warm_up(): the made-up trace runs every policy's loop through and leaves nothing behind. */
import { describe, expect, it } from 'vitest'
import { POLICIES } from '../../src/trace/policies/policy.js'
import { warm_up } from '../../src/trace/warm_up.js'
import { fast_misses, fused_misses } from './helpers.js'
import { naive_misses } from './reference.js'

describe('warm_up', () => {
  it('runs for every policy, and runs after it (fresh or fused) still equal the naive simulators', () => {
    const refs = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]
    for (const p of POLICIES) {
      warm_up(p)
      warm_up(p)
      expect(fast_misses(p, refs, 3, 5)).toBe(naive_misses(p, refs, 3, 5))
      if (p !== 'opt') expect(fused_misses(p, refs, 3, 5)).toBe(naive_misses(p, refs, 3, 5))
    }
  })
})
