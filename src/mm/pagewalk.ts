/**
 * A generic walk of a process's page tables over an address range (Kernel:
 * mm/pagewalk.c walk_page_range(), walk_page_vma(), struct mm_walk_ops).
 *
 * The walk descends pgd -> (p4d) -> pud -> pmd once for the range: an
 * upper-level entry that is none (or maps a huge page, which the simulator's
 * user mappings never do) is stepped over with everything it spans, and each
 * pte table met is handed whole to `ops.pmd_entry`, which iterates the table's
 * slots itself (as the kernel's smaps_pte_range does). A per-page
 * lookup (FramePageTables.get) re-descends for every address of a table; a
 * pte visitor (PgTables.for_each_pte) pays a closure call per entry; this
 * pays one call per table.
 *
 * The table comes as a DataView of the frame's bytes (PhysMem.peek_view):
 * the pte for `addr` starts at byte `off`, the following ones
 * `walk.entry_size` apart up to `next`. An entry is its little-endian 32-bit
 * halves, lo = getUint32(o, true) and hi = getUint32(o + 4, true) (0 for
 * 4-byte entries); pte_from_hw(lo, hi, walk.layout) is its PteVal, and for a
 * present entry the flags can be tested on lo and pte_hw_pfn(lo, hi) is its
 * PFN. The view spans more than the table (a 1 MiB group of frames):
 * stay within [off, off + (next - addr) / PAGE_SIZE * entry_size).
 * Geometry follows the profile (x86_64 4 levels, i386-pae 3, i386 2: the
 * pgd entry points at the pte table there).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { mod_pow2 } from '../include/wide.js'
import { _PAGE_PRESENT, pte_hw_pfn, type PteLayout } from '../arch/pte.js'
import type { PgTables } from './pgtable.js'
import type { MmStruct, VmArea } from './mm_types.js'
import type { Pfn } from './page.js'

/** Kernel: struct mm_walk_ops (the callbacks the simulator's walkers use). */
export interface MmWalkOps<T> {
  /**
   * Kernel: .pmd_entry: a pte table covering [addr, next) (next - addr is a
   * whole number of pages, within one table). Returning nonzero stops the
   * walk and becomes walk_page_range()'s result.
   */
  pmd_entry(walk: MmWalk<T>, ptes: DataView, off: number, addr: number, next: number): number
}

/** Kernel: struct mm_walk. */
export interface MmWalk<T> {
  readonly ops: MmWalkOps<T>
  readonly mm: MmStruct
  /** The VMA being walked (walk_page_vma()), or null. */
  readonly vma: VmArea | null
  /** Kernel: walk->private: what the callbacks accumulate into. */
  readonly private: T
  /** The in-memory format of an entry and its size in bytes (4 on i386, 8 otherwise). */
  readonly layout: PteLayout
  readonly entry_size: number
}

/**
 * Kernel: walk_page_range(): walk [start, end) of mm's page tables, calling
 * ops.pmd_entry for each part of a present pte table in the range, in
 * ascending address order. Returns 0, or the first nonzero callback result.
 */
export function walk_page_range<T>(mm: MmStruct, start: number, end: number, ops: MmWalkOps<T>, priv: T, vma: VmArea | null = null): number {
  const pt = mm.pgd.pgtables
  const walk: MmWalk<T> = { ops, mm, vma, private: priv, layout: pt.layout, entry_size: pt.size }
  const l = pt.lin(start)
  const le = pt.lin(end)
  if (le <= l) return 0
  return walk_pgt_range(walk, pt, mm.pgd.mm.pgd, 0, l, le)
}

/** Kernel: walk_page_vma(): walk_page_range() over one VMA, with walk.vma set. */
export function walk_page_vma<T>(vma: VmArea, ops: MmWalkOps<T>, priv: T): number {
  return walk_page_range(vma.vm_mm, vma.vm_start, vma.vm_end, ops, priv, vma)
}

/**
 * Kernel: walk_pgd_range() / walk_p4d_range() / walk_pud_range() /
 * walk_pmd_range(): the entries of one table at present level `lv` that
 * cover the linear range [l, end), descending into present tables; at the
 * level above the ptes, each present entry's table goes to pmd_entry.
 */
function walk_pgt_range<T>(walk: MmWalk<T>, pt: PgTables, table: Pfn, lv: number, l: number, end: number): number {
  const pm = pt.deps.physmem
  const size = pt.size
  const span = pt.divs[lv]
  const view = pm.peek_view(table)
  // q: the number of `span`s below l. Upper entries span 2 MiB or more, so q < 2^27 (l < 2^48): int32 arithmetic.
  let q = Math.floor(l / span)
  let o = pm.peek_off(table) + (q & (pt.nents[lv] - 1)) * size
  const last_upper = lv === pt.levels - 2
  while (l < end) {
    const boundary = ++q * span
    const next = boundary < end ? boundary : end
    // An upper entry is a table when present and not a huge leaf (PSE): both bits are in the low half.
    const lo = view.getUint32(o, true)
    if ((lo & _PAGE_PRESENT) !== 0 && !pt.leaf_huge(lv, lo)) {
      const child = pte_hw_pfn(lo, size === 8 ? view.getUint32(o + 4, true) : 0)
      let r: number
      if (last_upper) {
        const poff = pm.peek_off(child) + mod_pow2(Math.floor(l / PAGE_SIZE), pt.PTRS_PER_PTE) * size
        r = walk.ops.pmd_entry(walk, pm.peek_view(child), poff, pt.unlin(l), pt.unlin(next))
      } else {
        r = walk_pgt_range(walk, pt, child, lv + 1, l, next)
      }
      if (r !== 0) return r
    }
    l = next
    o += size
  }
  return 0
}
