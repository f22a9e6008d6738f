/**
 * The per-CPU TLB on its own: set-associative lookup with PCID tags, the
 * round-robin replacement policy, INVLPG / PCID / global flushes, counters.
 * A property test compares it with a naive model (a list of entries per set
 * with the same FIFO rule).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Tlb, TLB_D, TLB_G, TLB_U, TLB_W } from '../../src/hw/tlb.js'

describe('Tlb', () => {
  it('counts hits and misses and caches the walk result', () => {
    const t = new Tlb({ entries: 64, ways: 4 })
    expect(t.sets).toBe(16)
    expect(t.lookup(1, 0x1234)).toBe(-1)
    const slot = t.insert(1, 0x1234, 0x777, TLB_U | TLB_W | TLB_D)
    expect(t.lookup(1, 0x1234)).toBe(slot)
    expect(t.pfn[slot]).toBe(0x777)
    expect(t.lookup(2, 0x1234)).toBe(-1) // another PCID does not see it
    expect([t.hits, t.misses]).toEqual([1, 2])
  })

  it('replaces the ways of a set round robin', () => {
    const t = new Tlb({ entries: 8, ways: 2 }) // 4 sets
    // vpns 0, 4, 8 all map to set 0
    t.insert(0, 0, 10, TLB_U)
    t.insert(0, 4, 14, TLB_U)
    t.insert(0, 8, 18, TLB_U) // evicts vpn 0 (first in)
    expect(t.probe(0, 0)).toBe(-1)
    expect(t.probe(0, 4)).toBeGreaterThanOrEqual(0)
    t.insert(0, 12, 22, TLB_U) // evicts vpn 4
    expect(t.probe(0, 4)).toBe(-1)
    expect(t.probe(0, 8)).toBeGreaterThanOrEqual(0)
    expect(t.probe(0, 12)).toBeGreaterThanOrEqual(0)
    // re-inserting an existing translation updates it in place
    t.insert(0, 12, 99, TLB_U)
    expect(t.pfn[t.probe(0, 12)]).toBe(99)
    expect(t.nr_valid).toBe(2)
  })

  it('flushes one page, one PCID, or everything; global entries survive PCID flushes', () => {
    const t = new Tlb()
    t.insert(1, 5, 50, TLB_U)
    t.insert(1, 6, 60, TLB_U)
    t.insert(2, 5, 51, TLB_U)
    t.insert(1, 7, 70, TLB_G)
    t.flush_one(1, 5)
    expect(t.probe(1, 5)).toBe(-1)
    expect(t.probe(2, 5)).toBeGreaterThanOrEqual(0)
    t.flush_pcid(1)
    expect(t.probe(1, 6)).toBe(-1)
    expect(t.probe(3, 7)).toBeGreaterThanOrEqual(0) // global: every PCID
    t.flush_global_one(7)
    expect(t.probe(1, 7)).toBe(-1)
    t.flush_all()
    expect(t.nr_valid).toBe(0)
  })

  it('rejects geometries without a power-of-two number of sets', () => {
    expect(() => new Tlb({ entries: 48, ways: 4 })).toThrow(RangeError)
  })

  it('agrees with a naive FIFO-per-set model', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('ins', 'look', 'inv', 'flush'), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 })), { maxLength: 200 }),
        (ops) => {
          const ways = 2
          const sets = 4
          const t = new Tlb({ entries: ways * sets, ways })
          // model: per set, ways slots [vpn, pcid] and a victim pointer
          const model = Array.from({ length: sets }, () => ({ slots: Array.from({ length: ways }, () => null as null | [number, number, number]), victim: 0 }))
          let n = 0
          for (const [op, vpn, pcid] of ops) {
            const set = model[vpn % sets]
            const find = (): number => set.slots.findIndex((e) => e !== null && e[0] === vpn && e[1] === pcid)
            if (op === 'ins') {
              let i = find()
              if (i < 0) i = set.slots.findIndex((e) => e === null)
              if (i < 0) {
                i = set.victim
                set.victim = (set.victim + 1) % ways
              }
              set.slots[i] = [vpn, pcid, ++n]
              t.insert(pcid, vpn, n, TLB_U)
            } else if (op === 'look') {
              const i = find()
              const s = t.lookup(pcid, vpn)
              expect(s >= 0).toBe(i >= 0)
              if (i >= 0) expect(t.pfn[s]).toBe((set.slots[i] as [number, number, number])[2])
            } else if (op === 'inv') {
              const i = find()
              if (i >= 0) set.slots[i] = null
              t.flush_one(pcid, vpn)
            } else {
              for (const s of model) s.slots = s.slots.map((e) => (e && e[1] === pcid ? null : e))
              t.flush_pcid(pcid)
            }
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
