import { flags_or } from '../../src/include/wide.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ArchName } from '../../src/arch/profile.js'
import { pfn_pte, vm_get_page_prot, VM_READ, VM_WRITE } from '../../src/arch/pte.js'
import { Machine } from '../../src/machine.js'
import { FramePageTables } from '../../src/mm/pgtable_mm.js'
import { NODE_STAT } from '../../src/mm/vmstat.js'

const free_now = (m: Machine): number => {
  m.page_alloc.drain_all_pages()
  return m.page_alloc.nr_free_pages()
}

describe('FramePageTables (the MmPageTables shape over frames)', () => {
  it('x86_64: nr_ptes counts the pgd and every table; PageTables follows', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const pt0 = m.vmstat.node_page_state(NODE_STAT.nr_page_table_pages)
    let mirrored = 0
    const t = FramePageTables.create(m.pgtables, (d) => (mirrored += d))
    expect(t).not.toBeNull()
    if (t === null) return
    expect(t.nr_ptes).toBe(1)
    const prot = vm_get_page_prot(m.arch, flags_or(VM_READ, VM_WRITE))
    expect(t.set(0x400, pfn_pte(0x1234, prot))).toBe(true) // 0x400000
    expect(t.set(0x7fffffffe, pfn_pte(0x1235, prot))).toBe(true) // top user page (TASK_SIZE - 4096)
    expect(t.nr_ptes).toBe(1 + 3 + 3)
    expect(mirrored).toBe(7)
    expect(m.vmstat.node_page_state(NODE_STAT.nr_page_table_pages) - pt0).toBe(7)
    expect(t.get(0x400)).toBe(pfn_pte(0x1234, prot))
    expect(t.get(0x401)).toBe(0)
    const seen: number[] = []
    t.each(0, 2 ** 35, (vpn) => seen.push(vpn))
    expect(seen).toEqual([0x400, 0x7fffffffe])
    m.check()
    // munmap of the low page with the stack VMA above: only the low tables go
    t.set(0x400, 0)
    t.free_pgtables(0, 0x7ffff0000)
    expect(t.nr_ptes).toBe(4)
    m.check()
    t.destroy()
    expect(t.nr_ptes).toBe(0)
    expect(mirrored).toBe(0)
    expect(m.vmstat.node_page_state(NODE_STAT.nr_page_table_pages)).toBe(pt0)
    m.check()
  })

  for (const arch of ['x86_64', 'i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: property against a Map model; destroy returns every frame`, () => {
      const m = new Machine({ arch, ram: '64M', debug_vm: true })
      const user_pages = m.arch.TASK_SIZE / 4096
      const prot = vm_get_page_prot(m.arch, VM_READ)
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: user_pages - 1 }), fc.integer({ min: 0, max: 3000 }), fc.boolean()), { maxLength: 80 }), (ops) => {
          const free0 = free_now(m)
          const t = FramePageTables.create(m.pgtables)
          if (t === null) throw new Error('ENOMEM')
          const model = new Map<number, number>()
          for (const [base, d, clear] of ops) {
            const vpn = Math.min(base + d, user_pages - 1)
            if (clear) {
              t.set(vpn, 0)
              model.delete(vpn)
            } else {
              const v = pfn_pte(vpn % 100000, prot)
              expect(t.set(vpn, v)).toBe(true)
              model.set(vpn, v)
            }
          }
          const got = new Map<number, number>()
          t.each(0, user_pages, (vpn, pte) => got.set(vpn, pte))
          expect(got).toEqual(model)
          for (const [vpn, v] of model) expect(t.get(vpn)).toBe(v)
          m.check()
          t.destroy()
          expect(free_now(m)).toBe(free0)
          m.check()
        }),
        { numRuns: 25 },
      )
    })
  }
})
