/**
 * The range tree behind mm->mm_mt against a sorted array: random inserts,
 * erases and in-place boundary moves, then every query (find, find_before,
 * iteration both ways, the two gap searches) must answer as a linear scan of
 * the array does, and check() must pass. check() must also catch a boundary
 * moved without update().
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { MapleTree, type MtRange } from '../../src/mm/maple_tree.js'
import { KernelBug } from '../../src/include/bug.js'

interface R extends MtRange {
  id: number
}

/** The reference: first entry with vm_end > addr. */
function ref_find(a: R[], addr: number): R | null {
  return a.find((r) => r.vm_end > addr) ?? null
}

/** The reference of gap_rev: [next entry or null, clipped start, clipped end] or undefined. */
function ref_gap(a: R[], len: number, low: number, high: number, rev: boolean): [R | null, number, number] | undefined {
  const gaps: [R | null, number, number][] = []
  for (let i = 0; i <= a.length; i++) {
    const gs = i > 0 ? a[i - 1].vm_end : 0
    const ge = i < a.length ? a[i].vm_start : Infinity
    const s = Math.max(gs, low)
    const e = Math.min(ge, high)
    if (e > s && e - s >= len) gaps.push([i < a.length ? a[i] : null, s, e])
  }
  return rev ? gaps[gaps.length - 1] : gaps[0]
}

const op = fc.oneof(
  fc.record({ k: fc.constant('ins' as const), at: fc.nat(4000), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('del' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('move' as const), i: fc.nat(), ds: fc.integer({ min: -5, max: 5 }), de: fc.integer({ min: -5, max: 5 }) }),
)

describe('MapleTree', () => {
  it('answers every query as a sorted array does', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.array(fc.tuple(fc.nat(4100), fc.integer({ min: 1, max: 60 }), fc.nat(4100)), { maxLength: 20 }), (ops, queries) => {
        const t = new MapleTree<R>()
        const a: R[] = []
        let id = 0
        for (const o of ops) {
          if (o.k === 'ins') {
            const r = { vm_start: o.at, vm_end: o.at + o.len, id: id++ }
            if (a.some((x) => x.vm_start < r.vm_end && r.vm_start < x.vm_end)) {
              expect(() => t.insert(r)).toThrow(KernelBug)
              continue
            }
            t.insert(r)
            a.push(r)
            a.sort((x, y) => x.vm_start - y.vm_start)
          } else if (a.length) {
            const i = ('i' in o ? o.i : 0) % a.length
            const r = a[i]
            if (o.k === 'del') {
              t.erase(r)
              a.splice(i, 1)
            } else {
              // Move the boundaries within the neighbouring gaps, keeping the range non-empty.
              const lo = i > 0 ? a[i - 1].vm_end : 0
              const hi = i + 1 < a.length ? a[i + 1].vm_start : 1e9
              const s = Math.max(lo, r.vm_start + o.ds)
              const e = Math.min(hi, r.vm_end + o.de)
              if (s >= e) continue
              r.vm_start = s
              r.vm_end = e
              t.update(r)
            }
          }
        }
        t.check()
        expect(t.size).toBe(a.length)
        expect([...t]).toEqual(a)
        // Every query's answers against the reference's: the same entries (identity, as toBe), the same
        // gap bounds; the differences are compared once per run, not with an expect() per answer.
        const differ: string[] = []
        const name = (r: unknown): string => (r && typeof r === 'object' ? `[${(r as R).vm_start}, ${(r as R).vm_end})` : String(r))
        const same = (what: string, got: unknown, want: unknown): void => {
          if (!Object.is(got, want)) differ.push(`${what}: ${name(got)}, reference ${name(want)}`)
        }
        for (const [addr, len, span] of queries) {
          same(`find(${addr})`, t.find(addr), ref_find(a, addr))
          same(`find_before(${addr})`, t.find_before(addr), [...a].reverse().find((r) => r.vm_start < addr) ?? null)
          for (const rev of [true, false]) {
            const low = Math.min(addr, span)
            const high = Math.max(addr, span) + 1
            const want = ref_gap(a, len, low, high, rev)
            const got = rev ? t.gap_rev(len, low, high) : t.gap_fwd(len, low, high)
            const q = `gap_${rev ? 'rev' : 'fwd'}(${len}, ${low}, ${high})`
            same(q, got, want ? want[0] : undefined)
            if (want) {
              same(`${q} gap_start`, t.gap_start, want[1])
              same(`${q} gap_end`, t.gap_end, want[2])
            }
          }
        }
        expect(differ).toEqual([])
        // Cursors walk the same order both ways.
        const cur = t.seek(0, { node: null, offset: 0 })
        const fwd: R[] = []
        for (let e = t.at(cur); e; e = t.step(cur)) fwd.push(e)
        expect(fwd).toEqual(a)
        if (a.length) {
          const back = t.seek(a[a.length - 1].vm_start, { node: null, offset: 0 })
          const rev: R[] = []
          for (let e = t.at(back); e; e = t.step_back(back)) rev.push(e)
          expect(rev).toEqual([...a].reverse())
        }
      }),
      { numRuns: 150 },
    )
  })

  it('stays balanced through 20,000 entries inserted and erased in order and out of order', () => {
    const t = new MapleTree<R>()
    const rs: R[] = []
    for (let i = 0; i < 20000; i++) rs.push({ vm_start: i * 3, vm_end: i * 3 + 2, id: i })
    for (let i = 0; i < rs.length; i += 2) t.insert(rs[i])
    for (let i = rs.length - 1; i > 0; i -= 2) t.insert(rs[i])
    t.check()
    expect(t.size).toBe(20000)
    expect(t.find(3 * 12345 + 1)).toBe(rs[12345])
    for (let i = 0; i < rs.length; i += 3) t.erase(rs[i])
    t.check()
    for (const r of rs) if (r.id % 3) t.erase(r)
    t.check()
    expect(t.size).toBe(0)
    expect(t.first()).toBeNull()
  })

  it('check() catches a boundary moved without update()', () => {
    const t = new MapleTree<R>()
    const rs = Array.from({ length: 100 }, (_, i) => ({ vm_start: i * 10, vm_end: i * 10 + 5, id: i }))
    for (const r of rs) t.insert(r)
    t.check()
    // The widest gap grows from 5 to 9 behind the tree's back.
    rs[51].vm_start += 4
    expect(() => t.check()).toThrow(/stale/)
  })

  it('refuses an overlapping insert and an erase of an absent entry', () => {
    const t = new MapleTree<R>()
    t.insert({ vm_start: 10, vm_end: 20, id: 0 })
    expect(() => t.insert({ vm_start: 15, vm_end: 25, id: 1 })).toThrow(KernelBug)
    expect(() => t.insert({ vm_start: 5, vm_end: 11, id: 2 })).toThrow(KernelBug)
    expect(() => t.erase({ vm_start: 10, vm_end: 20, id: 3 })).toThrow(KernelBug)
    t.check()
  })
})
