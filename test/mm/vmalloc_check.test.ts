/**
 * The per-call vmalloc check (Vmalloc.check(touched)) is skipped while no
 * area, kernel page-table entry, counter or area page has changed since the
 * last complete check. These tests break vmalloc's state on purpose and run
 * the check themselves, so their machines run with debug_vm off.
 */
import { describe, expect, it } from 'vitest'
import { KernelBug } from '../../src/include/bug.js'
import { boot } from '../helpers.js'

const PG = 4096

function setup() {
  const m = boot({ debug_vm: false })
  const k = m.kernel
  const va = k.vmalloc(4 * PG)
  m.vmalloc.check()
  const pt = m.pgtables
  const ptep = pt.walk(pt.init_mm, va + PG)
  return { m, k, va, pt, ptep, pfn: k.vmalloc_to_pfn(va + PG) }
}

describe('the per-call vmalloc check', () => {
  it('runs again after a call that changed the areas, and finds what it broke', () => {
    const { m, k, pt } = setup()
    const va2 = k.vmalloc(2 * PG)
    const g = m.vmalloc.va.gen
    expect(g).toBeGreaterThan(0)
    // vmalloc's count of its pages, wrong after the call: the skip must not hide it
    m.vmalloc.nr_vmalloc_pages++
    expect(() => m.vmalloc.check([])).toThrow(/nr_vmalloc_pages/)
    m.vmalloc.nr_vmalloc_pages--
    m.vmalloc.check([])
    k.vfree(va2)
    expect(m.vmalloc.va.gen).toBeGreaterThan(g)
    expect(pt.kernel_leaf_gen).toBeGreaterThan(0)
  })

  it('a kernel pte cleared through PgTables is seen by the next per-call check', () => {
    const { m, pt, va, ptep } = setup()
    pt.pte_clear(pt.init_mm, va + PG, ptep)
    expect(() => m.vmalloc.check([])).toThrow(KernelBug)
  })

  it('an area page freed behind vmalloc\'s back is seen through the frames the call touched', () => {
    const { m, pfn } = setup()
    m.pages._refcount[pfn] = 0
    // untouched, the per-call check has no reason to look again ...
    m.vmalloc.check([])
    // ... but a call that freed the frame names it
    expect(() => m.vmalloc.check([pfn])).toThrow(/has no reference/)
  })

  it('a pte written behind PgTables\' back is missed by the per-call check and caught by the complete one', () => {
    const { m, ptep } = setup()
    m.vmalloc.check([])
    // a stray store into the kernel page table's frame, not through PgTables
    m.physmem.write_u32(Math.floor(ptep / PG), ptep % PG, 0)
    m.physmem.write_u32(Math.floor(ptep / PG), (ptep % PG) + 4, 0)
    expect(() => m.vmalloc.check([])).not.toThrow()
    expect(() => m.vmalloc.check()).toThrow(/is not mapped|maps \d+ pages/)
  })
})
