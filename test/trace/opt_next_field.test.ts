/**
 * OPT on an oracleGeneral trace's own next-access fields (simulate.ts,
 * opt_by_next_field): taken only when every field is its page's next
 * position plus one constant, or "never" (-1, INT64_MAX) exactly where the
 * page is not referenced again; any other trace (fields absent, shifted for
 * one page, pointing at another page's reference, a last reference that
 * promises one more) is simulated from the next uses OPT computes itself.
 * Either way the misses are the naive simulator's.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { simulate, type NextUseStore } from '../../src/trace/simulate.js'
import type { TraceInput } from '../../src/trace/read.js'
import { naive_misses } from './reference.js'

const NEVER_M1 = -1n
const INT64_MAX = (1n << 63n) - 1n

/** Records as libCacheSim writes them: next access = the next reference's position + `base` (1 in its own traces), else `never`. */
function oracle_general(pages: readonly number[], base: number, never: bigint, edit?: (i: number, next: bigint) => bigint): Uint8Array {
  const b = new Uint8Array(pages.length * 24)
  const v = new DataView(b.buffer)
  const seen = new Map<number, number>()
  for (let i = pages.length - 1; i >= 0; i--) {
    const n = seen.get(pages[i])
    let next = n === undefined ? never : BigInt(n + base)
    if (edit) next = edit(i, next)
    v.setUint32(i * 24, i + 1, true)
    v.setBigUint64(i * 24 + 4, BigInt(pages[i]), true)
    v.setUint32(i * 24 + 12, 4096, true)
    v.setBigInt64(i * 24 + 16, next, true)
    seen.set(pages[i], i)
  }
  return b
}

/** The bytes as a trace input, cut into chunks of `chunk` bytes (records straddle chunks). */
function input(bytes: Uint8Array, chunk = 4096): TraceInput {
  return {
    name: 't.oracleGeneral',
    compression: 'none',
    *bytes() {
      for (let o = 0; o < bytes.length; o += chunk) yield bytes.subarray(o, o + chunk)
    },
  }
}

/** OPT through simulate(), and whether it had to compute next uses (its store was opened). */
async function opt(bytes: Uint8Array, frames: number, chunk?: number): Promise<{ misses: number; computed: boolean }> {
  let computed = false
  const store = (): NextUseStore => {
    computed = true
    const ids: number[] = []
    let next = new Float64Array(0)
    return {
      write: (b, n) => ids.push(...b.subarray(0, n)),
      next_uses: (distinct) => {
        const last = new Float64Array(distinct).fill(Infinity)
        next = new Float64Array(ids.length)
        for (let i = ids.length - 1; i >= 0; i--) {
          next[i] = last[ids[i]]
          last[ids[i]] = i
        }
      },
      batches: () => [{ ids: Int32Array.from(ids), next, n: ids.length }],
      close: () => {},
    }
  }
  const r = await simulate(input(bytes, chunk), { policy: 'opt', frames, store })
  return { misses: r.misses, computed }
}

/**
 * Whether the edited fields are still every page's next position plus one
 * constant (never where there is none): then they order the future as the
 * true ones do, and OPT may take them.
 */
function shifted_truth(pages: readonly number[], edit: (i: number, next: bigint) => bigint): boolean {
  const offsets = new Set<bigint>()
  for (let i = 0; i < pages.length; i++) {
    const j = pages.indexOf(pages[i], i + 1)
    const f = edit(i, j < 0 ? NEVER_M1 : BigInt(j + 1))
    if (j < 0 ? f !== NEVER_M1 && f !== INT64_MAX : f < 0n) return false
    if (j >= 0) offsets.add(f - BigInt(j))
  }
  return offsets.size <= 1
}

const refs = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 400 })

describe('OPT and the next-access field', () => {
  it('takes fields that are next positions plus a constant, or never; the misses are the naive OPT', async () => {
    await fc.assert(
      fc.asyncProperty(refs, fc.integer({ min: 1, max: 12 }), fc.constantFrom(0, 1, 5000), fc.constantFrom(NEVER_M1, INT64_MAX), fc.integer({ min: 24, max: 5000 }), async (pages, frames, base, never, chunk) => {
        const r = await opt(oracle_general(pages, base, never), frames, chunk)
        expect(r).toEqual({ misses: naive_misses('opt', pages, frames), computed: false })
      }),
      { numRuns: 150 },
    )
  })

  it('computes next uses itself when one field is wrong; the misses are the same', async () => {
    const outcomes = { taken: 0, computed: 0 }
    await fc.assert(
      fc.asyncProperty(refs, fc.integer({ min: 1, max: 12 }), fc.nat(), fc.constantFrom('shift', 'never', 'promise', 'other'), async (pages, frames, pick, how) => {
        const at = pick % pages.length
        const other = pages.findIndex((p, i) => i > at && p !== pages[at])
        const wrong = (i: number, next: bigint): bigint => {
          if (i !== at) return next
          if (how === 'shift') return next === NEVER_M1 ? BigInt(pages.length + 7) : next + 1n // off by one, or a promise never kept
          if (how === 'never') return NEVER_M1 // says never, but the page may come back
          if (how === 'promise') return BigInt(pages.length + 1) // one past the last position (1-based): a reference that never comes
          return other >= 0 ? BigInt(other + 1) : BigInt(pages.length + 3) // another page's reference
        }
        const r = await opt(oracle_general(pages, 1, NEVER_M1, wrong), frames)
        expect(r).toEqual({ misses: naive_misses('opt', pages, frames), computed: !shifted_truth(pages, wrong) })
        outcomes[r.computed ? 'computed' : 'taken']++
      }),
      { numRuns: 200 },
    )
    // most edits break the fields; a few leave a consistent shift (one re-reference, a never kept as never)
    expect(outcomes.computed).toBeGreaterThan(100)
    expect(outcomes.taken).toBeGreaterThan(5)
  })

  it('a trace without the field (text formats) is simulated from computed next uses', async () => {
    const pages = [1, 2, 3, 1, 4, 1, 2, 5, 3, 1]
    const text = new TextEncoder().encode(pages.join('\n') + '\n')
    expect(await opt(text, 3)).toEqual({ misses: naive_misses('opt', pages, 3), computed: true })
  })
})
