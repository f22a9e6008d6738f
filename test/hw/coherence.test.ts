/**
 * TLB coherence at the mm layer (ported from the addrspace branch's
 * test/mm/mmu.test.ts onto src/hw/mmu.ts): the walk sets Accessed/Dirty,
 * repeated accesses hit, munmap/mprotect/COW flush, an mm loaded on two CPUs
 * costs a shootdown, and a property test that no CPU ever caches a
 * translation the page tables no longer give (Mmu.check(): a stale entry is
 * a missing flush), over random mmap/munmap/mprotect/madvise/mremap/fork and
 * CPU switches.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { make_machine_env, check_mm } from '../mm/env.js'
import { mm_alloc, dup_mm } from '../../src/kernel/sched_mm.js'
import { mmput } from '../../src/kernel/sched_mm.js'
import type { MmStruct } from '../../src/mm/mm_types.js'
import { vm_mmap_pgoff, do_munmap } from '../../src/mm/mmap.js'
import { do_mprotect_pkey } from '../../src/mm/mprotect.js'
import { do_madvise } from '../../src/mm/madvise.js'
import { do_mremap } from '../../src/mm/mremap.js'
import { access_user } from '../../src/mm/uaccess.js'
import { mm_pgd_pfn } from '../../src/kernel/mmu_context.js'
import { pte_dirty, pte_young } from '../../src/mm/memory.js'
import * as M from '../../src/mm/mman.js'

const P = 4096
const BASE = 0x7e0000000000
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS | M.MAP_FIXED
const RW = M.PROT_READ | M.PROT_WRITE

function setup() {
  const t = make_machine_env('64M')
  const env = t.env
  const m = t.machine
  const mmu = m.mmu
  const tlb = m.tlb
  const mk = (): MmStruct => {
    const mm = mm_alloc(env, 0x7ffffffff000)
    if (!mm) throw new Error('mm_alloc')
    mm.mmap_base = 0x7f0000000000
    return mm
  }
  /** Run `mm` on `cpu` (the scheduler's switch_mm) and make that CPU the executing one. */
  const run = (cpu: number, mm: MmStruct): void => {
    tlb.switch_mm(cpu, mm, mm_pgd_pfn(mm))
    mmu.this_cpu = cpu
  }
  return { env, t, mmu, tlb, mk, run }
}

describe('MMU coherence (mm layer)', () => {
  it('the walk sets Accessed, a store sets Dirty; repeated accesses hit the TLB', () => {
    const { mmu, tlb, mk, run } = setup()
    const mm = mk()
    run(0, mm)
    vm_mmap_pgoff(mm, null, BASE, 4 * P, RW, ANON, 0)
    access_user(mm, BASE, 1, false)
    expect(pte_young(mm.pgd.get(BASE / P))).toBe(true)
    const h = mmu.cpus[0].tlb.hits
    for (let i = 0; i < 10; i++) access_user(mm, BASE, 1, false)
    expect(mmu.cpus[0].tlb.hits - h).toBe(10)
    access_user(mm, BASE + P, 1, true, 1)
    expect(pte_dirty(mm.pgd.get(BASE / P + 1))).toBe(true)
    tlb.check()
    run(0, mk()) // switch away before the mm goes
    mmput(mm)
    tlb.check()
  })

  it('munmap, mprotect and COW flush; an mm loaded on two CPUs costs a shootdown', () => {
    const { tlb, mk, run } = setup()
    const mm = mk()
    run(0, mm)
    vm_mmap_pgoff(mm, null, BASE, 4 * P, RW, ANON, 0)
    access_user(mm, BASE, 4 * P, true, 1)
    run(1, mm)
    access_user(mm, BASE, 4 * P, false)
    run(0, mm)
    const s0 = tlb.events.nr_tlb_remote_flush
    expect(do_mprotect_pkey(mm, BASE, 2 * P, M.PROT_READ)).toBe(0)
    expect(tlb.events.nr_tlb_remote_flush).toBe(s0 + 1)
    expect(access_user(mm, BASE, 1, true, 2).fault?.si_code).toBe('SEGV_ACCERR')
    const c = dup_mm(mm)
    if (!c) throw new Error('dup_mm')
    // the parent's TLB must not keep a writable entry for a now-COW page
    access_user(mm, BASE + 3 * P, 1, true, 3)
    expect(access_user(c, BASE + 3 * P, 1, false).data[0]).toBe(1)
    expect(do_munmap(mm, BASE, 4 * P)).toBe(0)
    expect(access_user(mm, BASE + 3 * P, 1, false).fault?.si_code).toBe('SEGV_MAPERR')
    tlb.check()
    mmput(c)
    run(0, mk())
    run(1, mk())
    mmput(mm)
    tlb.check()
  })

  it('property: no CPU caches a translation the page tables no longer give', () => {
    const { t, tlb, mk, run } = setup()
    const op = fc.record({
      k: fc.constantFrom('r', 'w', 'prot', 'unmap', 'map', 'dontneed', 'fork', 'cpu', 'mremap', 'free', 'cold'),
      page: fc.nat(7),
      n: fc.integer({ min: 1, max: 4 }),
      prot: fc.nat(3),
    })
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 40 }), (ops) => {
        const mm = mk()
        const mms = [mm]
        run(0, mm)
        vm_mmap_pgoff(mm, null, BASE, 8 * P, RW, ANON, 0)
        for (const o of ops) {
          const a = BASE + o.page * P
          const len = Math.min(o.n, 8 - o.page) * P
          const who = mms[o.n % mms.length]
          if (o.k === 'r') access_user(who, a, 1, false)
          else if (o.k === 'w') access_user(who, a, 1, true, o.page)
          else if (o.k === 'prot') do_mprotect_pkey(who, a, len, o.prot)
          else if (o.k === 'unmap') do_munmap(who, a, len)
          else if (o.k === 'map') vm_mmap_pgoff(who, null, a, len, RW, ANON, 0)
          else if (o.k === 'dontneed') do_madvise(who, a, len, M.MADV_DONTNEED)
          else if (o.k === 'free') do_madvise(who, a, len, M.MADV_FREE)
          else if (o.k === 'cold') do_madvise(who, a, len, M.MADV_COLD)
          else if (o.k === 'mremap') do_mremap(who, a, len, len, M.MREMAP_MAYMOVE | M.MREMAP_FIXED, BASE + 16 * P)
          else if (o.k === 'cpu') run(o.prot % 2, who)
          else if (mms.length < 3) {
            const c = dup_mm(who)
            if (c) mms.push(c)
          }
          for (const m of mms) check_mm(m)
          tlb.check()
        }
        // idle the CPUs on a fresh mm before tearing these down
        const idle = mk()
        run(0, idle)
        run(1, idle)
        for (const m of mms) mmput(m)
        mmput(idle)
        tlb.check()
      }),
      { numRuns: 200, seed: 3 },
    )
    t.machine.check()
  })
})
