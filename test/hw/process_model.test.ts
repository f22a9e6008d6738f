/**
 * Model-based test of user memory through the MMU and TLBs, end to end:
 * random loads, stores, mprotect, munmap/mmap, MADV_DONTNEED/COLD, fork,
 * exit, migrations between two CPUs and kernel threads borrowing mms, on
 * every profile. The naive model is one private byte array per process
 * (fork copies it) plus the protection of each page; every load must return
 * the model's bytes and every access must fault exactly when the protection
 * forbids it. A missing TLB flush shows up as a stale byte or a missing
 * fault; the invariant checker (stale entries included) runs after each step.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { Machine } from '../../src/index.js'
import { PROT_NONE, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MADV_DONTNEED, MADV_COLD } from '../../src/include/uapi/mman.js'
import { SignalError } from '../../src/user/errors.js'
import type { Process } from '../../src/user/process.js'
import { SIGSEGV } from '../../src/include/uapi/signal.js'

const PAGES = 6
const P = 4096

interface Proc {
  p: Process
  mem: number[] // one tracked byte per page (offset 0)
  prot: number[]
}

const op = fc.record({
  k: fc.constantFrom('load', 'store', 'store', 'load', 'prot', 'remap', 'dontneed', 'cold', 'fork', 'exit', 'cpu', 'kthread'),
  who: fc.nat(7),
  page: fc.nat(PAGES - 1),
  n: fc.integer({ min: 1, max: 3 }),
  v: fc.integer({ min: 1, max: 255 }),
  prot: fc.constantFrom(PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE),
  cpu: fc.nat(1),
})

function faults(f: () => void): boolean {
  try {
    f()
    return false
  } catch (e) {
    if (e instanceof SignalError) return true
    throw e
  }
}

describe.each(['x86_64', 'i386', 'i386-pae'] as const)('%s: user memory through the TLBs agrees with a naive model', (arch) => {
  it('random loads, stores, mprotect, munmap, madvise, fork, exit, migrations', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 50 }), (ops) => {
        const m = new Machine({ arch, ram: '64M', seed: 1, tlb_entries: 8, tlb_ways: 2 })
        const first = m.spawn({ name: 'app' })
        first.sigaction(SIGSEGV, () => undefined)
        const base = first.mmap(0, PAGES * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
        const procs: Proc[] = [{ p: first, mem: new Array<number>(PAGES).fill(0), prot: new Array<number>(PAGES).fill(PROT_READ | PROT_WRITE) }]
        for (const o of ops) {
          const pr = procs[o.who % procs.length]
          const a = base + o.page * P
          const n = Math.min(o.n, PAGES - o.page)
          if (o.k === 'load') {
            let got = -1
            const f = faults(() => (got = pr.p.load(a, 1)[0]))
            expect(f).toBe(pr.prot[o.page] === PROT_NONE)
            if (!f) expect(got).toBe(pr.mem[o.page])
          } else if (o.k === 'store') {
            const f = faults(() => pr.p.store(a, [o.v]))
            expect(f).toBe(!(pr.prot[o.page] & PROT_WRITE))
            if (!f) pr.mem[o.page] = o.v
          } else if (o.k === 'prot') {
            pr.p.mprotect(a, n * P, o.prot)
            for (let i = 0; i < n; i++) pr.prot[o.page + i] = o.prot
          } else if (o.k === 'remap') {
            pr.p.munmap(a, n * P)
            pr.p.mmap(a, n * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            for (let i = 0; i < n; i++) {
              pr.mem[o.page + i] = 0
              pr.prot[o.page + i] = PROT_READ | PROT_WRITE
            }
          } else if (o.k === 'dontneed') {
            pr.p.madvise(a, n * P, MADV_DONTNEED)
            for (let i = 0; i < n; i++) pr.mem[o.page + i] = 0
          } else if (o.k === 'cold') {
            pr.p.madvise(a, n * P, MADV_COLD)
          } else if (o.k === 'fork') {
            if (procs.length < 4) procs.push({ p: pr.p.fork(), mem: [...pr.mem], prot: [...pr.prot] })
          } else if (o.k === 'exit') {
            if (procs.length > 1) {
              pr.p.exit(0)
              procs.splice(procs.indexOf(pr), 1)
            }
          } else if (o.k === 'cpu') {
            pr.p.run_on(o.cpu)
          } else {
            m.syscalls.sched.switch_to(o.cpu, m.syscalls.kthread_create('kworker')!)
          }
          m.check()
        }
      }),
      { numRuns: 25, seed: 7 },
    )
  })
})
