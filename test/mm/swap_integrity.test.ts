/**
 * Data integrity through swap: several processes write random bytes into
 * private anonymous memory, page it out (MADV_PAGEOUT), fork, write again
 * (COW of swapped and shared pages), drop ranges, exit, and switch swap off
 * and on; every byte reads back as a naive model of the processes' memory
 * says, and the whole-machine recount (swap map, swap cache, rss) holds
 * after every step. Areas: zram alone (VMA readahead, the zram swap-cache
 * bypass), and zram with a disk beside it at lower priority (offset-based
 * readahead, a write that keeps the page in the swap cache).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { boot } from '../helpers.js'
import { MADV_DONTNEED, MADV_PAGEOUT, MADV_WILLNEED, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SWAP_FLAG_PREFER } from '../../src/index.js'
import type { Machine, MachineOptions, Process } from '../../src/index.js'

const PG = 4096
const NPAGES = 48
const SPOT = 8

type Op =
  | { k: 'write'; p: number; page: number; bytes: number[] }
  | { k: 'pageout'; p: number; from: number; n: number }
  | { k: 'fork'; p: number }
  | { k: 'exit'; p: number }
  | { k: 'dontneed'; p: number; page: number }
  | { k: 'willneed'; p: number }
  | { k: 'read'; p: number; page: number }
  | { k: 'swapcycle' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('write' as const), p: fc.nat(7), page: fc.nat(NPAGES - 1), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: SPOT, maxLength: SPOT }) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('pageout' as const), p: fc.nat(7), from: fc.nat(NPAGES - 1), n: fc.integer({ min: 1, max: NPAGES }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('fork' as const), p: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('exit' as const), p: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('dontneed' as const), p: fc.nat(7), page: fc.nat(NPAGES - 1) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('willneed' as const), p: fc.nat(7) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('read' as const), p: fc.nat(7), page: fc.nat(NPAGES - 1) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('swapcycle' as const) }), weight: 1 },
)

interface Proc {
  p: Process
  a: number
  model: Uint8Array[] // the SPOT bytes of each page at offset spot(page)
}
const spot = (page: number): number => (page * 37) % (PG - SPOT)

function run(opts: MachineOptions, ops: Op[]): void {
  const m: Machine = boot({ ram: '64M', ...opts })
  const root = m.spawn()
  const areas = m.proc('/proc/swaps').split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0])
  const procs: Proc[] = []
  for (let i = 0; i < 2; i++) {
    const p = m.spawn()
    const a = p.mmap(0, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    procs.push({ p, a, model: Array.from({ length: NPAGES }, () => new Uint8Array(SPOT)) })
  }
  // expect() only on a difference: this runs for thousands of pages, and an expect() cost more than the load.
  const check = (q: Proc, page: number): void => {
    const got = q.p.load(q.a + page * PG + spot(page), SPOT)
    const want = q.model[page]
    if (got.length !== want.length || got.some((b, i) => b !== want[i])) expect([...got]).toEqual([...want])
  }
  for (const o of ops) {
    if (o.k === 'swapcycle') {
      for (const dev of areas) root.swapoff(dev)
      // Everything is back in memory: no swap PTE is left anywhere.
      for (const q of procs) expect(m.proc(`/proc/${q.p.pid}/status`)).toMatch(/VmSwap:\s+0 kB/)
      areas.forEach((dev, i) => root.swapon(dev, SWAP_FLAG_PREFER | (areas.length - i)))
      m.check()
      continue
    }
    if (procs.length === 0) break
    const q = procs[o.p % procs.length]
    switch (o.k) {
      case 'write':
        q.p.store(q.a + o.page * PG + spot(o.page), o.bytes)
        q.model[o.page].set(o.bytes)
        break
      case 'pageout': {
        const n = Math.min(o.n, NPAGES - o.from)
        q.p.madvise(q.a + o.from * PG, n * PG, MADV_PAGEOUT)
        break
      }
      case 'fork':
        if (procs.length < 6) procs.push({ p: q.p.fork(), a: q.a, model: q.model.map((b) => b.slice()) })
        break
      case 'exit':
        q.p.exit(0)
        procs.splice(procs.indexOf(q), 1)
        break
      case 'dontneed':
        q.p.madvise(q.a + o.page * PG, PG, MADV_DONTNEED)
        q.model[o.page].fill(0)
        break
      case 'willneed':
        q.p.madvise(q.a, NPAGES * PG, MADV_WILLNEED)
        break
      case 'read':
        check(q, o.page)
        break
    }
    m.check()
  }
  for (const q of procs) for (let page = 0; page < NPAGES; page++) check(q, page)
  for (const q of procs) q.p.exit(0)
  m.check()
  // Every slot came back when the processes went away.
  for (const l of m.proc('/proc/swaps').split('\n').slice(1, -1)) expect(l.split(/\s+/)[3]).toBe('0')
}

describe('bytes survive swap-out, swap-in, fork, COW and swapoff', () => {
  it('on zram', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 5, maxLength: 40 }), (ops) => run({ swap: '8M' }, ops)), { numRuns: 25 })
  })
  it('on zram with a disk area beside it', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 5, maxLength: 40 }), (ops) => run({ swap: [{ size: '256K', kind: 'zram', priority: 2 }, { size: '8M', kind: 'disk', priority: 1 }] }, ops)),
      { numRuns: 25 },
    )
  })
})
