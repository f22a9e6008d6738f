import { flags_union } from '../../src/include/wide.js'
import fc from 'fast-check'
import { walk_text } from '../../src/mm/pgtable_debug.js'
import { describe, expect, it } from 'vitest'
import { canonical, type ArchName } from '../../src/arch/profile.js'
import { _KERNPG_TABLE, _PAGE_PRESENT, _PAGE_TABLE, PAGE_KERNEL, PAGE_SHARED, pfn_pte, pte_format, pte_pfn, vm_get_page_prot, VM_READ, VM_SHARED, VM_WRITE } from '../../src/arch/pte.js'
import { PgTables, type PgtableMm } from '../../src/mm/pgtable.js'
import { NODE_STAT } from '../../src/mm/vmstat.js'
import { Machine } from '../../src/machine.js'

/** A machine, its page tables, and a view of its allocator with the counters the tests use. */
function boot(arch: ArchName) {
  const m = new Machine({ arch, ram: '64M', debug_vm: true })
  const pt: PgTables = m.pgtables
  const fa = {
    arch: m.arch,
    vmstat: m.vmstat,
    /** Free pages once the per-CPU lists are drained. */
    get nr_free(): number {
      m.page_alloc.drain_all_pages()
      return m.page_alloc.nr_free_pages()
    },
    /** Make the next allocations after `n` fail (ENOMEM paths). */
    set fail_after(n: number) {
      const real = Object.getPrototypeOf(m.page_alloc).alloc_pages as (gfp: number, order: number) => number
      let left = n
      m.page_alloc.alloc_pages = (gfp: number, order: number) => (left-- > 0 ? real.call(m.page_alloc, gfp, order) : -1)
      if (n === Infinity) m.page_alloc.alloc_pages = real
    },
  }
  return { m, fa, pt }
}
const nr_pt = (fa: { vmstat: Machine['vmstat'] }) => fa.vmstat.node_page_state(NODE_STAT.nr_page_table_pages)

describe('page-table geometry', () => {
  it('splits a 48-bit address into exact indices (x86_64)', () => {
    const { m, pt } = boot('x86_64')
    m.check()
    const a = 0x7ffd_1234_5678
    expect([0, 1, 2, 3].map((l) => pt.index_of(l, a))).toEqual([255, 0x1f4, 0x91, 0x145])
    const k = canonical('0xffffc90000001000')
    expect(pt.pgd_index(k)).toBe(402)
    expect(pt.index_of(3, k)).toBe(1)
    expect(pt.KERNEL_PGD_BOUNDARY).toBe(273)
  })
  it('i386 and PAE boundaries', () => {
    const a = boot('i386'), b = boot('i386-pae')
    expect(a.pt.KERNEL_PGD_BOUNDARY).toBe(768)
    expect(b.pt.KERNEL_PGD_BOUNDARY).toBe(3)
    a.m.check()
    b.m.check()
  })
})

describe('pgd_alloc / walk / free', () => {
  for (const arch of ['x86_64', 'i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: maps, walks and frees with exact accounting`, () => {
      const { m, fa, pt } = boot(arch)
      const free0 = fa.nr_free
      const pt0 = nr_pt(fa)
      const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
      expect(pt.pgd_alloc(mm)).toBe(0)
      const pae_pmds = arch === 'i386-pae' ? 4 : 0
      expect(mm.pgtables_bytes).toBe(pae_pmds * 4096)
      expect(nr_pt(fa)).toBe(pt0 + 1 + pae_pmds)
      m.check()
      const addr = 0x40_1000
      expect(pt.walk(mm, addr)).toBe(0)
      const ptep = pt.get_locked_pte(mm, addr)
      expect(ptep).not.toBe(0)
      expect(pt.walk(mm, addr)).toBe(ptep)
      pt.set_pte_at(mm, addr, ptep, pfn_pte(0x123, vm_get_page_prot(fa.arch, flags_union(VM_READ, VM_WRITE, VM_SHARED))))
      expect(pte_pfn(pt.ptep_get(ptep))).toBe(0x123)
      const steps = pt.walk_levels(mm, addr)
      expect(steps.map((s) => s.level)).toEqual(fa.arch.level_names)
      expect(steps[steps.length - 1].val).toBe(pt.ptep_get(ptep))
      if (arch !== 'i386-pae') expect(steps[0].val % 4096).toBe(_PAGE_TABLE)
      else expect(steps[0].val % 4096).toBe(_PAGE_PRESENT)
      m.check()
      expect(mm.pgtables_bytes).toBe({ x86_64: 3, i386: 1, 'i386-pae': 5 }[arch] * 4096)
      // a table with a live entry may not be freed
      expect(() => pt.free_pgd_range(mm, addr, addr + 4096, 0, 0)).toThrow(/live entry/)
      pt.ptep_get_and_clear(mm, addr, ptep)
      pt.free_pgd_range(mm, addr, addr + 4096, 0, 0)
      expect(pt.walk(mm, addr)).toBe(0)
      // PAE: the pmd under pgd entry 0 goes too (nothing else below 1 GiB); the other three stay
      expect(mm.pgtables_bytes).toBe(arch === 'i386-pae' ? 3 * 4096 : 0)
      m.check()
      pt.pgd_free(mm)
      expect(fa.nr_free).toBe(free0)
      expect(nr_pt(fa)).toBe(pt0)
      m.check()
    })
  }

  it('free_pgd_range keeps tables shared with a neighbour outside [floor, ceiling)', () => {
    const { m, fa, pt } = boot('x86_64')
    const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
    pt.pgd_alloc(mm)
    const a = 0x1000_0000, b = a + 0x20_0000 // next pte table, same pmd table
    const pa = pt.get_locked_pte(mm, a), pb = pt.get_locked_pte(mm, b)
    pt.set_pte_at(mm, b, pb, pfn_pte(7, PAGE_SHARED))
    expect(mm.pgtables_bytes).toBe(4 * 4096) // pud, pmd, 2 ptes
    expect(pa).not.toBe(0)
    // unmap [a, a+4K) with the next vma starting at b: the pmd table must stay
    pt.free_pgd_range(mm, a, a + 4096, 0, b)
    expect(mm.pgtables_bytes).toBe(3 * 4096)
    expect(pt.walk(mm, b)).toBe(pb)
    m.check()
    pt.ptep_get_and_clear(mm, b, pb)
    pt.free_pgd_range(mm, b, b + 4096, 0, 0)
    expect(mm.pgtables_bytes).toBe(0)
    pt.pgd_free(mm)
    m.check()
    expect(nr_pt(fa)).toBe(64) // only the preallocated vmalloc puds remain counted (swapper_pg_dir is a boot table)
  })

  for (const arch of ['i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: kernel entries are copied into new pgds and synced later`, () => {
      const { m, pt } = boot(arch)
      const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
      pt.pgd_alloc(mm)
      const va = 0xf880_0000
      const ptep = pt.get_locked_pte(pt.init_mm, va)
      pt.set_pte_at(pt.init_mm, va, ptep, pfn_pte(0x99, PAGE_KERNEL))
      expect(pt.walk(mm, va)).toBe(ptep) // synced into the existing pgd
      const steps = pt.walk_levels(mm, va)
      expect(steps[steps.length - 2].val % 4096).toBe(_KERNPG_TABLE)
      m.check()
      const mm2: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
      pt.pgd_alloc(mm2)
      expect(pt.walk(mm2, va)).toBe(ptep) // copied at pgd_alloc
      m.check()
      pt.pgd_free(mm)
      pt.pgd_free(mm2)
      m.check()
    })
  }

  it('returns 0 (ENOMEM) when a table cannot be allocated and leaks nothing', () => {
    const { m, fa, pt } = boot('x86_64')
    const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
    pt.pgd_alloc(mm)
    fa.fail_after = 1
    expect(pt.get_locked_pte(mm, 0x1234_5000)).toBe(0)
    m.check()
    fa.fail_after = Infinity
    pt.free_pgd_range(mm, 0x1234_5000, 0x1234_6000, 0, 0)
    pt.pgd_free(mm)
    m.check()
  })

  it('pte_format shows a walk for teaching', () => {
    const { m, pt } = boot('x86_64')
    const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
    pt.pgd_alloc(mm)
    const ptep = pt.get_locked_pte(mm, 0x400000)
    pt.set_pte_at(mm, 0x400000, ptep, pfn_pte(0x1234, PAGE_SHARED))
    expect(pte_format(pt.ptep_get(ptep), 8)).toBe('0x8000000001234027 (P RW US A NX pfn=0x1234)')
    m.check()
  })
})

describe('named allocators and the teaching dump', () => {
  it('x86_64: walk_text splits the address and shows each entry', () => {
    const { m, pt } = boot('x86_64')
    const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
    pt.pgd_alloc(mm)
    const a = 0x7ffd_1234_5678
    const ptep = pt.get_locked_pte(mm, a)
    pt.set_pte_at(mm, a, ptep, pfn_pte(0x4321, PAGE_SHARED) + 0x40)
    const lines = walk_text(pt, mm, a).trimEnd().split('\n')
    expect(lines[0]).toBe('0x00007ffd12345678: pgd 255, pud 500, pmd 145, pte 325, offset 0x678')
    expect(lines).toHaveLength(5)
    expect(lines[1]).toMatch(/^pgd\[255\] in pfn 0x[0-9a-f]+: 0x000000000[0-9a-f]{4}067 \(P RW US A D pfn=0x[0-9a-f]+\)$/)
    expect(lines[4]).toMatch(/^pte\[325\] in pfn 0x[0-9a-f]+: 0x8000000004321067 \(P RW US A D NX pfn=0x4321\)$/)
    pt.ptep_get_and_clear(mm, a, ptep)
    pt.free_pgd_range(mm, a, a + 4096, 0, 0)
    pt.pgd_free(mm)
    m.check()
  })

  it('pud_alloc/pmd_alloc return the folded entry where a level does not exist', () => {
    for (const arch of ['x86_64', 'i386', 'i386-pae'] as ArchName[]) {
      const { m, pt } = boot(arch)
      const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
      pt.pgd_alloc(mm)
      const a = 0x1234_5000
      const pud = pt.pud_alloc(mm, a)
      const pmd = pt.pmd_alloc(mm, a)
      expect(pud).toBe(pt.pgd_offset(mm, a) + (arch === 'x86_64' ? pt.ptep_table(pud) * 4096 - mm.pgd * 4096 - pt.pgd_index(a) * 8 + pt.index_of(1, a) * 8 : 0))
      if (arch === 'i386') expect(pmd).toBe(pt.pgd_offset(mm, a))
      else expect(pt.ptep_index(pmd)).toBe(pt.index_of(arch === 'x86_64' ? 2 : 1, a))
      expect(pt.__pte_alloc(mm, a)).toBe(0)
      expect(pt.walk(mm, a)).not.toBe(0)
      pt.free_pgd_range(mm, 0, 0xc000_0000, 0, 0)
      pt.pgd_free(mm)
      m.check()
    }
  })
})

describe('property: random map/unmap against a Map model', () => {
  for (const arch of ['x86_64', 'i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: walks agree with the model; unmapping everything and freeing returns every table frame`, () => {
      const span = arch === 'x86_64' ? 2 ** 47 : 0xc000_0000
      const page = fc.integer({ min: 0, max: span / 4096 - 1 })
      // cluster pages so that tables are shared
      const addrs = fc.array(fc.tuple(page, fc.integer({ min: 0, max: 40 }), fc.boolean()), { minLength: 1, maxLength: 60 })
      const { m, fa, pt } = boot(arch)
      fc.assert(
        fc.property(addrs, (ops) => {
          const free0 = fa.nr_free
          const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
          pt.pgd_alloc(mm)
          const model = new Map<number, number>()
          let n = 0
          for (const [p, d, unmap] of ops) {
            const pg = Math.min(p + d, span / 4096 - 1)
            const addr = pg * 4096
            if (unmap) {
              const ptep = pt.walk(mm, addr)
              if (ptep !== 0) pt.ptep_get_and_clear(mm, addr, ptep)
              model.delete(addr)
            } else {
              const ptep = pt.get_locked_pte(mm, addr)
              const v = pfn_pte(++n, vm_get_page_prot(fa.arch, flags_union(VM_READ, VM_WRITE, VM_SHARED)))
              pt.set_pte_at(mm, addr, ptep, v)
              model.set(addr, v)
            }
          }
          const seen = new Map<number, number>()
          pt.for_each_pte(mm, 0, span, (a, ptep, v) => {
            expect(pt.ptep_get(ptep)).toBe(v)
            seen.set(a, v)
          })
          expect(seen).toEqual(model)
          const sorted = [...seen.keys()]
          expect(sorted).toEqual([...sorted].sort((x, y) => x - y))
          for (const [a, v] of model) expect(pt.ptep_get(pt.walk(mm, a))).toBe(v)
          m.check()
          pt.for_each_pte(mm, 0, span, (a, ptep) => void pt.ptep_get_and_clear(mm, a, ptep))
          pt.free_pgd_range(mm, 0, span, 0, 0)
          expect(mm.pgtables_bytes).toBe(arch === 'i386-pae' ? 4096 : 0) // the kernel pmd copy stays until pgd_free
          pt.pgd_free(mm)
          m.check()
          expect(fa.nr_free).toBe(free0)
        }),
        { numRuns: 40 },
      )
    })
  }
})
