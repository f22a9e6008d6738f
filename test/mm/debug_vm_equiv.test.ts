/**
 * The fast page-allocator checker (src/mm/debug_vm.ts) against the
 * reference one it replaced (debug_vm_reference.ts): on machines after
 * random allocations and frees, then with random corruptions of the
 * struct-page arrays, the lists and the counters, both give the same
 * verdict, and the same KernelBug message when they fail. These tests
 * break the allocator's state on purpose and run the checkers themselves,
 * so their machines run with debug_vm off.
 */
import { expect, it } from 'vitest'
import fc from 'fast-check'
import { GFP_ATOMIC, GFP_DMA, GFP_HIGHUSER, GFP_KERNEL, __GFP_NOWARN, type Machine, type Page } from '../../src/index.js'
import { check_page_alloc } from '../../src/mm/debug_vm.js'
import { check_pgtables } from '../../src/mm/pgtable_debug.js'
import { NR_FREE_PAGES } from '../../src/mm/mmzone.js'
import { PG_head, PG_reserved, PGTY_buddy, PGTY_table } from '../../src/mm/page.js'
import { pte_pfn } from '../../src/arch/pte.js'
import { boot } from '../helpers.js'
import { check_page_alloc_reference } from './debug_vm_reference.js'

function outcome(f: () => void): string {
  try {
    f()
    return 'ok'
  } catch (e) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }
}

/** Frames worth corrupting: list heads and their buddies, pcp pages, allocated heads, zone edges. */
function candidates(m: Machine, live: { p: Page; order: number }[]): number[] {
  const pa = m.page_alloc
  const out: number[] = []
  for (const z of pa.zones) {
    if (!z.spanned_pages) continue
    out.push(z.zone_start_pfn, z.zone_start_pfn + z.spanned_pages - 1)
    z.free_area.forEach((area, order) => {
      for (const l of area.free_list) if (l.head >= 0) out.push(l.head, l.head ^ (1 << order), l.tail)
    })
    for (const pcp of z.per_cpu_pageset) for (const l of pcp.lists) for (let pfn = l.head, n = 0; pfn >= 0 && n < 4; pfn = m.pages.lru_next[pfn], n++) out.push(pfn, pfn + 1)
  }
  for (const x of live) out.push(x.p, x.p + 1, x.p + (1 << x.order))
  return out.filter((pfn) => pfn >= 0 && pfn < m.pages.nr)
}

const corruption = fc.record({
  kind: fc.oneof(fc.nat({ max: 13 }), fc.constantFrom(0, 4, 7)), // PG_reserved, _refcount, owner_order: the allocated-block scan
  pick: fc.nat(),
  value: fc.integer({ min: -2, max: 12 }),
})

const op = fc.record({ alloc: fc.boolean(), order: fc.integer({ min: 0, max: 4 }), gfp: fc.constantFrom(GFP_KERNEL, GFP_ATOMIC, GFP_DMA, GFP_HIGHUSER), pick: fc.nat() })

it('the fast check_page_alloc agrees with the reference checker on random and corrupted states', () => {
  // One machine per profile; each run allocates and frees, corrupts, compares, then undoes the corruption and frees all.
  const machines = new Map<string, Machine>()
  const seen = new Map<string, number>()
  let runs = 0
  fc.assert(
    fc.property(
      fc.oneof({ weight: 3, arbitrary: fc.constant(['x86_64', '64M'] as const) }, { weight: 1, arbitrary: fc.constant(['i386', '1G'] as const) }),
      fc.array(op, { maxLength: 60 }),
      fc.array(corruption, { minLength: 1, maxLength: 2 }),
      ([arch, ram], ops, corruptions) => {
        let m = machines.get(arch)
        if (!m) machines.set(arch, (m = boot({ arch, ram, debug_vm: false, cpus: 2 })))
        const k = m.kernel
        const live: { p: Page; order: number }[] = []
        for (const o of ops) {
          m.page_alloc.cpu = o.pick % 2
          if (o.alloc || !live.length) {
            const p = k.alloc_pages(o.gfp | __GFP_NOWARN, o.order)
            if (p !== null) live.push({ p, order: o.order })
          } else {
            const [x] = live.splice(o.pick % live.length, 1)
            k.__free_pages(x.p, x.order)
          }
        }
        const pa = m.page_alloc
        const pg = m.pages
        const present = (pfn: number): boolean => (m as Machine).pfn_present(pfn)
        expect(outcome(() => check_page_alloc(pa, present))).toBe('ok')
        const undo: (() => void)[] = []
        const poke = <T extends { [i: number]: number }>(arr: T, i: number, v: number): void => {
          const old = arr[i]
          undo.push(() => (arr[i] = old))
          arr[i] = v
        }
        const bump = <K extends string>(o: Record<K, number>, key: K, d: number): void => {
          const old = o[key]
          undo.push(() => (o[key] = old))
          o[key] = old + d
        }
        for (const c of corruptions) {
          const cand = candidates(m, live)
          const pfn = c.pick % 3 === 0 ? c.pick % pg.nr : cand[c.pick % cand.length]
          const zones = pa.zones.filter((z) => z.spanned_pages)
          const z = zones[c.pick % zones.length]
          const area = z.free_area[c.pick % z.free_area.length]
          const list = area.free_list[c.pick % area.free_list.length]
          const pcp = z.per_cpu_pageset[c.pick % z.per_cpu_pageset.length]
          const other = c.value < 0 ? -1 : cand[(c.pick + c.value) % cand.length]
          const d = c.value < 0 ? -1 : 1
          switch (c.kind) {
            case 0: poke(pg.flags, pfn, pg.flags[pfn] ^ (1 << PG_reserved)); break
            case 1: poke(pg.flags, pfn, pg.flags[pfn] ^ (1 << PG_head)); break
            case 2: poke(pg.page_type, pfn, [0, PGTY_buddy, PGTY_table][Math.abs(c.value) % 3]); break
            case 3: poke(pg.order, pfn, Math.max(0, c.value)); break
            case 4: poke(pg._refcount, pfn, c.value); break
            case 5: poke(pg.lru_next, pfn, other); break
            case 6: poke(pg.lru_prev, pfn, other); break
            case 7: poke(pg.owner_order, pfn, Math.max(0, c.value)); break
            case 8: bump(list, 'count', d); break
            case 9: bump(area, 'nr_free', d); break
            case 10: poke(z.vm_stat, NR_FREE_PAGES, z.vm_stat[NR_FREE_PAGES] + d); break
            case 11: bump(pcp, 'count', d); break
            case 12: bump(list, 'tail', other - list.tail); break
            default: poke(z.pageblock_mt, c.pick % z.pageblock_mt.length, Math.abs(c.value) % 4)
          }
        }
        const want = outcome(() => check_page_alloc_reference(pa, present))
        expect(outcome(() => check_page_alloc(pa, present))).toBe(want)
        runs++
        const what = want.replace(/0x[0-9a-f]+|\d+/g, 'N')
        seen.set(what, (seen.get(what) ?? 0) + 1)
        for (const u of undo.reverse()) u() // the next run's first check says the state is whole again
        for (const x of live) k.__free_pages(x.p, x.order)
      },
    ),
    { numRuns: 120 },
  )
  // the corruptions break the allocator's invariants in many different ways (the messages compared)
  expect(runs - (seen.get('ok') ?? 0)).toBeGreaterThan(runs / 4)
  expect(seen.size).toBeGreaterThan(12)
})

it('the page-table checker reports a PageTable frame no pgd reaches, the lowest first', () => {
  const m = boot({ debug_vm: false })
  const a = m.kernel.alloc_page(GFP_KERNEL) as Page
  const b = m.kernel.alloc_page(GFP_KERNEL) as Page
  const [lo, hi] = a < b ? [a, b] : [b, a]
  m.pages.page_type[hi] = PGTY_table
  expect(() => check_pgtables(m.pgtables)).toThrow(`pgtable check: page table 0x${hi.toString(16)} is unreachable (leaked)`)
  m.pages.page_type[lo] = PGTY_table
  expect(() => check_pgtables(m.pgtables)).toThrow(`pgtable check: page table 0x${lo.toString(16)} is unreachable (leaked)`)
  // The per-call check searches only the frames the call touched.
  expect(() => check_pgtables(m.pgtables, [hi])).toThrow(`pgtable check: page table 0x${hi.toString(16)} is unreachable (leaked)`)
  expect(() => check_pgtables(m.pgtables, [])).not.toThrow()
  m.pages.page_type[lo] = m.pages.page_type[hi] = 0
  m.check()
})

it('freeing a page table with a live entry names the first live entry (any byte of it)', () => {
  const m = boot({ debug_vm: false })
  const pt = m.pgtables as unknown as { assert_table_empty(pfn: number, what: string): void }
  const p = m.kernel.alloc_page(GFP_KERNEL) as Page
  m.physmem.frame(p).fill(0)
  expect(() => pt.assert_table_empty(p, 'free_pte_range')).not.toThrow()
  for (const [byte, entry] of [[4095, 511], [9, 1], [3, 0]]) {
    m.physmem.frame(p)[byte] = 0x80
    expect(() => pt.assert_table_empty(p, 'free_pte_range')).toThrow(`free_pte_range: freeing page table 0x${p.toString(16)} with live entry at index ${entry}`)
  }
})

it("the page-table checker names the first kernel entry of a pgd that differs from init_mm's", () => {
  for (const arch of ['x86_64', 'i386', 'i386-pae'] as const) {
    const m = boot({ arch, debug_vm: false })
    m.spawn({ name: 'app' })
    const pt = m.pgtables
    const mm = [...pt.pgd_list][0]
    // On PAE the kernel half is the mm's own copy of the kernel pmd, else the top of the pgd.
    const table = pt.pae ? pte_pfn(pt.ptep_get(mm.pgd * 4096 + 3 * pt.size)) : mm.pgd
    const from = pt.pae ? 0 : pt.KERNEL_PGD_BOUNDARY
    const to = 4096 / pt.size
    const entry = (k: number): number => pt.ptep_get(table * 4096 + k * pt.size)
    const ks = Array.from({ length: to - from }, (_, i) => from + i)
    // a byte of a non-present entry (the walk ignores it), then the Accessed bit of an earlier present one
    const none = ks.filter((k) => entry(k) === 0).at(-1) as number
    const present = ks.find((k) => k < none && entry(k) % 2 === 1)
    const f = m.physmem.frame(table)
    const msg = (k: number): string => `pgtable check: kernel mappings of pgd 0x${mm.pgd.toString(16)} differ from init_mm's at table 0x${table.toString(16)} entry ${k}`
    f[none * pt.size + pt.size - 2] = 0x10
    expect(() => check_pgtables(pt)).toThrow(msg(none))
    expect(present, arch).toBeDefined()
    if (present !== undefined) {
      f[present * pt.size] ^= 0x20
      expect(() => check_pgtables(pt)).toThrow(msg(present))
      f[present * pt.size] ^= 0x20
    }
    f[none * pt.size + pt.size - 2] = 0
    m.check()
  }
})
