/**
 * MMU and TLB: hits and misses, Accessed/Dirty set by the walk, flushes
 * where Linux flushes (munmap, mprotect, COW after fork, madvise), shootdowns
 * for an mm that ran on several CPUs, and a property test that no TLB entry
 * ever disagrees with its PTE (a stale entry would be a missed flush).
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { make_machine_env, check_mm } from './env.js'
import { mm_alloc, dup_mm } from '../../src/kernel/fork.js'
import { mmput } from '../../src/kernel/exit.js'
import type { MmStruct } from '../../src/mm/mm_types.js'
import { vm_mmap_pgoff, do_munmap } from '../../src/mm/mmap.js'
import { do_mprotect_pkey } from '../../src/mm/mprotect.js'
import { do_madvise } from '../../src/mm/madvise.js'
import { do_mremap } from '../../src/mm/mremap.js'
import { access_user } from '../../src/mm/uaccess.js'
import { attach_mmu, switch_mm } from '../../src/mm/tlbflush.js'
import { MmuSet } from '../../src/hw/mmu.js'
import { Tlb } from '../../src/hw/tlb.js'
import { pte_dirty, pte_young, pte_pfn, pte_write, pte_hw_present } from '../../src/mm/memory.js'
import * as M from '../../src/mm/mman.js'

const P = 4096
const BASE = 0x7e0000000000
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS | M.MAP_FIXED
const RW = M.PROT_READ | M.PROT_WRITE

function setup(cpus = 2, entries = 16) {
  const env = make_machine_env('64M')
  const mmus = attach_mmu(env, new MmuSet(cpus, entries))
  const mk = (): MmStruct => {
    const mm = mm_alloc(env, 0x7ffffffff000)
    if (!mm) throw new Error('mm_alloc')
    mm.mmap_base = 0x7f0000000000
    return mm
  }
  return { env, mmus, mk }
}

/** Every cached translation must still be what the page tables say. */
function tlb_consistent(mmus: MmuSet, mms: MmStruct[]): void {
  for (const cpu of mmus.cpus) {
    for (const [asid, vpn, e] of cpu.tlb.entries()) {
      const mm = mms.find((m) => m.id === asid)
      if (!mm) continue
      const pte = mm.pgd.get(vpn)
      expect(pte_hw_present(pte)).toBe(true)
      expect(pte_pfn(pte)).toBe(e.pfn)
      if (e.writable) expect(pte_write(pte)).toBe(true)
    }
  }
}

describe('TLB', () => {
  it('LRU replacement and counters', () => {
    const t = new Tlb(2)
    t.insert(1, 10, { pfn: 5, writable: true, dirty: true })
    t.insert(1, 11, { pfn: 6, writable: true, dirty: true })
    expect(t.lookup(1, 10)?.pfn).toBe(5)
    t.insert(1, 12, { pfn: 7, writable: true, dirty: true })
    expect(t.lookup(1, 11)).toBeUndefined()
    expect(t.lookup(1, 12)?.pfn).toBe(7)
    expect(t.lookup(2, 12)).toBeUndefined()
    expect([t.hits, t.misses, t.size()]).toEqual([2, 2, 2])
    t.flush_range(1, 0, 100)
    expect(t.size()).toBe(0)
  })
})

describe('MMU', () => {
  it('the walk sets Accessed, a store sets Dirty; repeated accesses hit the TLB', () => {
    const { mmus, mk } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE, 4 * P, RW, ANON, 0)
    access_user(mm, BASE, 1, false)
    const ro = mm.pgd.get(BASE / P)
    expect(pte_young(ro)).toBe(true)
    const before = mmus.stats()
    for (let i = 0; i < 10; i++) access_user(mm, BASE, 1, false)
    const after = mmus.stats()
    expect(after.hits - before.hits).toBe(10)
    access_user(mm, BASE + P, 1, true, 1)
    expect(pte_dirty(mm.pgd.get(BASE / P + 1))).toBe(true)
    mmput(mm)
  })

  it('munmap, mprotect and COW flush; an mm that ran on two CPUs costs a shootdown', () => {
    const { mmus, mk } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE, 4 * P, RW, ANON, 0)
    access_user(mm, BASE, 4 * P, true, 1)
    switch_mm(mmus, 1, mm)
    access_user(mm, BASE, 4 * P, false)
    switch_mm(mmus, 0, mm)
    const s0 = mmus.stats().shootdowns
    expect(do_mprotect_pkey(mm, BASE, 2 * P, M.PROT_READ)).toBe(0)
    expect(mmus.stats().shootdowns).toBe(s0 + 1)
    expect(access_user(mm, BASE, 1, true, 2).fault?.si_code).toBe('SEGV_ACCERR')
    const c = dup_mm(mm)
    if (!c) throw new Error('dup_mm')
    // the parent's TLB must not keep a writable entry for a now-COW page
    access_user(mm, BASE + 3 * P, 1, true, 3)
    expect(access_user(c, BASE + 3 * P, 1, false).data[0]).toBe(1)
    expect(do_munmap(mm, BASE, 4 * P)).toBe(0)
    expect(access_user(mm, BASE + 3 * P, 1, false).fault?.si_code).toBe('SEGV_MAPERR')
    tlb_consistent(mmus, [mm, c])
    mmput(c)
    mmput(mm)
  })

  it('property: TLB entries always agree with the page tables', () => {
    const { env, mmus, mk } = setup(2, 8)
    const op = fc.record({
      k: fc.constantFrom('r', 'w', 'prot', 'unmap', 'map', 'dontneed', 'fork', 'cpu', 'mremap', 'free'),
      page: fc.nat(7),
      n: fc.integer({ min: 1, max: 4 }),
      prot: fc.nat(3),
    })
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const mm = mk()
        const mms = [mm]
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
          else if (o.k === 'mremap') do_mremap(who, a, len, len, M.MREMAP_MAYMOVE | M.MREMAP_FIXED, BASE + 16 * P)
          else if (o.k === 'cpu') switch_mm(mmus, o.n % 2, who)
          else if (mms.length < 3) {
            const c = dup_mm(who)
            if (c) mms.push(c)
          }
          for (const m of mms) check_mm(m)
          tlb_consistent(mmus, mms)
        }
        for (const m of mms) mmput(m)
      }),
      { numRuns: 80, seed: 3 },
    )
    env.machine.check()
  })
})
