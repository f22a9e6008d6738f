/**
 * The machine's page-table checker (PgtableChecker) reuses its census of
 * the tables while PgTables.table_gen stands still: leaf stores leave the
 * generation alone, every structural change bumps it, and a reused census
 * still catches counter drift and the tables a call made or freed behind
 * the allocator's back. These tests break the state on purpose and run the
 * checkers themselves, so their machines run with debug_vm off.
 */
import { describe, expect, it } from 'vitest'
import { GFP_KERNEL, type Page } from '../../src/index.js'
import { PgtableChecker, check_pgtables } from '../../src/mm/pgtable_debug.js'
import { PGTY_none, PGTY_table } from '../../src/mm/page.js'
import { pte_pfn } from '../../src/arch/pte.js'
import { NODE_STAT } from '../../src/mm/vmstat.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { boot } from '../helpers.js'

const PG = 4096

/** A machine with a process that has touched two pages of one pte table. */
function setup() {
  const m = boot({ debug_vm: false })
  const p = m.spawn({ name: 'app' })
  const a = p.mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
  p.store(a, [1])
  const pt = m.pgtables
  // the pte table mapping `a`: the frame holding its leaf entry
  const pte_table = Math.floor(pt.walk(p.mm.pgd.mm, a) / PG)
  return { m, p, a, pt, pte_table, checker: new PgtableChecker(pt) }
}

describe('PgtableChecker', () => {
  it('leaf stores leave table_gen alone; tables made or freed and pgds added or removed bump it', () => {
    const { m, p, a, pt } = setup()
    const g0 = pt.table_gen
    p.store(a + PG, [2]) // a fault that fills a pte of an existing table
    p.mprotect(a, 2 * PG, PROT_READ) // changes leaf entries only
    expect(pt.table_gen).toBe(g0)
    const q = p.fork()
    expect(pt.table_gen).toBeGreaterThan(g0)
    const g1 = pt.table_gen
    q.exit(0)
    q.wait()
    expect(pt.table_gen).toBeGreaterThan(g1)
    m.check()
  })

  it('a reused census still catches counter drift', () => {
    const { m, p, checker } = setup()
    checker.check([])
    m.vmstat.mod_node_page_state(NODE_STAT.nr_page_table_pages, 1)
    expect(() => checker.check([])).toThrow(/^pgtable check: nr_page_table_pages \d+ but \d+ tables reachable$/)
    m.vmstat.mod_node_page_state(NODE_STAT.nr_page_table_pages, -1)
    p.mm.pgd.mm.pgtables_bytes += PG
    expect(() => checker.check([])).toThrow(/^pgtable check: pgtables_bytes \d+ but \d+ in tables$/)
    p.mm.pgd.mm.pgtables_bytes -= PG
    checker.check([])
    m.check()
  })

  it('a reused census catches a table the call leaked or retyped among the frames it touched', () => {
    const { m, pt, pte_table, checker } = setup()
    checker.check([])
    const stray = m.kernel.alloc_page(GFP_KERNEL) as Page
    m.pages.page_type[stray] = PGTY_table
    expect(() => checker.check([stray])).toThrow(`pgtable check: page table 0x${stray.toString(16)} is unreachable (leaked)`)
    m.pages.page_type[stray] = PGTY_none
    m.kernel.__free_pages(stray, 0)
    m.pages.page_type[pte_table] = PGTY_none
    expect(() => checker.check([pte_table])).toThrow(`pgtable check: table 0x${pte_table.toString(16)} is not PageTable`)
    // What a reused census cannot see: a frame no call touched. The full check walks every table.
    expect(() => checker.check([])).not.toThrow()
    expect(() => check_pgtables(pt)).toThrow(`pgtable check: table 0x${pte_table.toString(16)} is not PageTable`)
    m.pages.page_type[pte_table] = PGTY_table
    m.check()
  })

  it('after a structural change the census is taken again: an entry written behind PgTables\' back is seen then', () => {
    const { m, p, a, pt, checker } = setup()
    checker.check([])
    // Point the pmd entry above the pte table at another frame, behind PgTables' back.
    const pmdp = pt.walk_levels(p.mm.pgd.mm, a).at(-2)!.entryp
    const old = pt.ptep_get(pmdp)
    const other = m.kernel.alloc_page(GFP_KERNEL) as Page
    m.physmem.write_u32(Math.floor(pmdp / PG), pmdp % PG, (old - pte_pfn(old) * PG + other * PG) >>> 0)
    expect(() => checker.check([])).not.toThrow() // the generation stood still: the census is the last one
    // a page 1 GiB below: new pte and pmd tables, so the next check walks again
    const far = p.mmap(a - 2 ** 30, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    expect(far).toBe(a - 2 ** 30)
    p.store(far, [4])
    expect(() => checker.check([])).toThrow(`pgtable check: table 0x${other.toString(16)} is not PageTable`)
    m.physmem.write_u32(Math.floor(pmdp / PG), pmdp % PG, old >>> 0)
    m.kernel.__free_pages(other, 0)
    m.check()
  })
})
