/**
 * Page-table introspection (Kernel: mm/ptdump.c, mm/debug_vm_pgtable.c and
 * the VM_BUG_ON checks): the teaching dump of a walk, table counting, and
 * the DEBUG_VM checker of src/mm/pgtable.ts's invariants.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { _PAGE_PRESENT, pte_format, pte_pfn, read_entry } from '../arch/pte.js'
import { KernelBug } from '../include/bug.js'
import { offset_in_page } from '../include/wide.js'
import { PGTY_table, type Pfn } from './page.js'
import type { PgTables, PgtableMm } from './pgtable.js'
import { NODE_STAT } from './vmstat.js'


/**
 * A walk as text, for teaching: the address split into its indices, then
 * each level's entry, e.g.
 *   0x00007ffd12345678: pgd 255, pud 500, pmd 145, pte 325, offset 0x678
 *   pgd[255] in pfn 0x1a2b: 0x0000000001a2c067 (P RW US A D pfn=0x1a2c)
 */
export function walk_text(pt: PgTables, mm: PgtableMm, addr: number): string {
  const names = pt.arch.level_names
  const bits = pt.arch.bits
  const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0')
  const l = pt.lin(addr)
  const ua = pt.x64 && addr < 0 ? BigInt(addr) + (1n << 64n) : BigInt(addr)
  const idx = names.map((n, lv) => `${n} ${pt.index_of(lv, addr)}`)
  let out = `0x${ua.toString(16).padStart(bits / 4, '0')}: ${idx.join(', ')}, offset 0x${hex(offset_in_page(l), 3)}\n`
  for (const st of pt.walk_levels(mm, addr)) {
    const leaf = st.level === names[names.length - 1]
    out += `${st.level}[${st.index}] in pfn 0x${st.table_pfn.toString(16)}: ${pte_format(st.val, pt.layout, leaf)}\n`
  }
  return out
}

/** What one walk of every live page table found (pgtable_tables()). */
interface TableCensus {
  /** Every table frame reachable from init_mm and from each pgd on pgd_list, pgds included. */
  reach: Set<Pfn>
  /**
   * Per root: the table frames below its pgd that are not boot tables (PG_reserved), what
   * its pgtables_bytes counts: for init_mm the whole tree, for a user mm its user half (the
   * kernel tables are init_mm's). A table reached twice counts twice.
   */
  below: Map<PgtableMm, number>
}

/**
 * One walk of every table from init_mm and from each pgd on pgd_list. `user_half_only`
 * names pgds whose kernel half is byte-identical to init_mm's: what it reaches is what
 * init_mm's walk (the first) has already reached, so only their user half is walked.
 */
function pgtable_tables(pt: PgTables, user_half_only: ReadonlySet<Pfn> | null): TableCensus {
  const reach = new Set<Pfn>()
  const below = new Map<PgtableMm, number>()
  // Tables below a frame already walked (reached again: a shared or looping table).
  const subtree = new Map<Pfn, number>()
  const pm = pt.deps.physmem
  const pages = pt.deps.pages
  const { size, layout, levels, nents } = pt
  // The counted tables below `table`, counting only under its entries [0, count_lim).
  const rec = (table: Pfn, lv: number, lim: number, count_lim: number): number => {
    reach.add(table)
    if (lv === levels - 1 || !pm.is_backed(table)) return 0
    const buf = pm.peek_buf(table)
    const at = pm.peek_off(table)
    let n = 0
    // Only the frame's non-zero extent can hold present entries.
    const hi = Math.min(lim, Math.ceil(pm.nonzero_end(table) / size))
    for (let i = Math.floor(pm.nonzero_start(table) / size); i < hi; i++) {
      if ((buf[at + i * size] & _PAGE_PRESENT) === 0) continue
      const e = read_entry(buf, at + i * size, layout)
      if (pt.leaf_huge(lv, e)) continue
      const child = pte_pfn(e)
      const mine = reach.has(child) ? (subtree.get(child) ?? 0) : rec(child, lv + 1, nents[lv + 1], nents[lv + 1])
      if (i < count_lim) n += mine + (pages.PageReserved(child) ? 0 : 1)
    }
    subtree.set(table, n)
    return n
  }
  below.set(pt.init_mm, rec(pt.init_mm.pgd, 0, nents[0], nents[0]))
  for (const mm of pt.pgd_list) {
    const lim = user_half_only?.has(mm.pgd) ? pt.KERNEL_PGD_BOUNDARY : nents[0]
    below.set(mm, rec(mm.pgd, 0, lim, pt.KERNEL_PGD_BOUNDARY))
  }
  return { reach, below }
}

/**
 * The first byte index in [from, to) where two frames differ, or -1. Compares
 * 32 bits at a time when the range and the views allow it (frames are
 * 4-byte aligned views; the kernel half of a pgd starts at a multiple of 4).
 */
function first_difference(a: Uint8Array, b: Uint8Array, from: number, to: number): number {
  let i = from
  if (from % 4 === 0 && to % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset + from, (to - from) / 4)
    const wb = new Uint32Array(b.buffer, b.byteOffset + from, (to - from) / 4)
    let w = 0
    while (w < wa.length && wa[w] === wb[w]) w++
    i = from + w * 4
  }
  for (; i < to; i++) if (a[i] !== b[i]) return i
  return -1
}

/**
 * A census of every live table and what the checks below compare with it.
 * It is a function of the tables alone: while PgTables.table_gen stands
 * still, no table was made, freed or re-linked, and it still holds.
 */
interface Census {
  gen: number
  reach: Set<Pfn>
  /** The reachable tables that are not boot tables: what NR_PAGETABLE counts. */
  counted: number
  /** Per pgd on pgd_list: the tables its pgtables_bytes counts. */
  tables: Map<PgtableMm, number>
  /** init_mm's tables below swapper_pg_dir. */
  kernel_tables: number
  /** Per pgd whose kernel half is not init_mm's: the table and the byte where it first differs. */
  kernel_diff: Map<PgtableMm, [Pfn, number]>
}

function take_census(pt: PgTables): Census {
  const d = pt.deps
  const kfrom = pt.KERNEL_PGD_BOUNDARY * pt.size
  const kto = pt.nents[0] * pt.size
  // Where each pgd's kernel half first differs from init_mm's; the identical ones need no walk
  // of their kernel half. PAE: the kernel half is the pgd's own copies of the kernel pmds.
  const kernel_diff = new Map<PgtableMm, [Pfn, number]>()
  let same: Set<Pfn> | null = null
  if (!pt.pae) {
    const ref = d.physmem.peek(pt.init_mm.pgd)
    for (const mm of pt.pgd_list) {
      const i = first_difference(d.physmem.peek(mm.pgd), ref, kfrom, kto)
      if (i < 0) (same ??= new Set<Pfn>()).add(mm.pgd)
      else kernel_diff.set(mm, [mm.pgd, i])
    }
  } else {
    for (const mm of pt.pgd_list) {
      for (let i = pt.KERNEL_PGD_BOUNDARY; i < pt.nents[0] && !kernel_diff.has(mm); i++) {
        const mine = pte_pfn(pt.ptep_get(mm.pgd * PAGE_SIZE + i * pt.size))
        const ref = pte_pfn(pt.ptep_get(pt.init_mm.pgd * PAGE_SIZE + i * pt.size))
        const at = first_difference(d.physmem.peek(mine), d.physmem.peek(ref), 0, PAGE_SIZE)
        if (at >= 0) kernel_diff.set(mm, [mine, at])
      }
    }
  }
  const { reach, below } = pgtable_tables(pt, same)
  let counted = 0
  for (const pfn of reach) if (!d.pages.PageReserved(pfn)) counted++
  const tables = new Map<PgtableMm, number>()
  for (const mm of pt.pgd_list) {
    let n = below.get(mm) as number
    // PAE: the mm's own copies of the kernel pmd count (mm_inc_nr_pmds), not the kernel ptes below
    if (pt.pae) for (let i = pt.KERNEL_PGD_BOUNDARY; i < pt.nents[0]; i++) if (pt.ptep_get(mm.pgd * PAGE_SIZE + i * pt.size) !== 0) n++
    tables.set(mm, n)
  }
  return { gen: pt.table_gen, reach, counted, tables, kernel_tables: below.get(pt.init_mm) as number, kernel_diff }
}

function not_table(pfn: number): KernelBug {
  return new KernelBug(`pgtable check: table 0x${pfn.toString(16)} is not PageTable`)
}

function leaked(pfn: number): KernelBug {
  return new KernelBug(`pgtable check: page table 0x${pfn.toString(16)} is unreachable (leaked)`)
}

/** The invariants at the top of the file, against a census of the tables as they are. */
function check_census(pt: PgTables, c: Census, touched: readonly number[] | null, fresh: boolean): void {
  const d = pt.deps
  const types = d.pages.page_type
  if (fresh) {
    for (const pfn of c.reach) if (types[pfn] !== PGTY_table) throw not_table(pfn)
  } else if (touched) {
    // A reused census: only the frames this call allocated or freed can have changed type.
    for (let i = 0; i < touched.length; i++) if (c.reach.has(touched[i]) && types[touched[i]] !== PGTY_table) throw not_table(touched[i])
  }
  if (touched) {
    for (let i = 0; i < touched.length; i++) if (types[touched[i]] === PGTY_table && !c.reach.has(touched[i])) throw leaked(touched[i])
  } else {
    // Every PageTable frame, in PFN order: indexOf() scans the type bytes natively (a JS loop over
    // every frame cost ~4 ns each, 8 ms per check on an 8 GiB machine).
    for (let pfn = types.indexOf(PGTY_table); pfn >= 0; pfn = types.indexOf(PGTY_table, pfn + 1)) {
      if (!c.reach.has(pfn)) throw leaked(pfn)
    }
  }
  const stat = d.vmstat.node_page_state(NODE_STAT.nr_page_table_pages)
  if (c.counted !== stat) throw new KernelBug(`pgtable check: nr_page_table_pages ${stat} but ${c.counted} tables reachable`)
  for (const mm of pt.pgd_list) {
    const diff = c.kernel_diff.get(mm)
    if (diff) throw new KernelBug(`pgtable check: kernel mappings of pgd 0x${mm.pgd.toString(16)} differ from init_mm's at table 0x${diff[0].toString(16)} entry ${Math.floor(diff[1] / pt.size)}`)
    const bytes = (c.tables.get(mm) as number) * PAGE_SIZE
    if (bytes !== mm.pgtables_bytes) throw new KernelBug(`pgtable check: pgtables_bytes ${mm.pgtables_bytes} but ${bytes} in tables`)
  }
  const kbytes = c.kernel_tables * PAGE_SIZE
  if (kbytes !== pt.init_mm.pgtables_bytes) throw new KernelBug(`pgtable check: init_mm pgtables_bytes ${pt.init_mm.pgtables_bytes} but ${kbytes}`)
}

/**
 * DEBUG_VM check of the invariants at the top of the file: reachable tables
 * are PageTable, NR_PAGETABLE matches them, kernel halves agree, and each
 * mm's pgtables_bytes matches a recount. Throws KernelBug. A leaked table
 * (PageTable but unreachable) is searched for among `touched` frames when
 * given (the per-call check), else among all frames (O(RAM)).
 */
export function check_pgtables(pt: PgTables, touched: readonly number[] | null = null): void {
  check_census(pt, take_census(pt), touched, true)
}

/**
 * The machine's page-table checker: check_pgtables(), except that the check
 * after each call walks the tables only when they changed since its last
 * census (PgTables.table_gen). A call that maps, faults or reads changes
 * leaf entries only, and a machine with many processes (a fork spray) paid a
 * walk of every process's tables for each of them. The counters, the frames
 * the call touched and the recount of the full check are checked as before;
 * what a reused census cannot see is a table frame written behind
 * PgTables' back, which the full check at the end still walks.
 */
export class PgtableChecker {
  private census: Census | null = null

  constructor(private readonly pt: PgTables) {}

  check(touched: readonly number[] | null): void {
    const c = this.census
    if (touched !== null && c !== null && c.gen === this.pt.table_gen) return check_census(this.pt, c, touched, false)
    this.census = take_census(this.pt)
    check_census(this.pt, this.census, touched, true)
  }
}
