/**
 * A process page-table store for the mm layer until the frame-backed
 * page tables (src/mm/pgtable.ts) are wired in: entries are kept per
 * virtual page number in the x86 PTE word layout, and the table pages a real
 * walk would need are counted per level (pte, pmd, pud tables and the pgd)
 * so VmPTE / PageTables can be reported. Tables are freed by
 * free_pgtables() like Linux: only tables whose whole span lies inside the
 * freed range and that map nothing.
 *
 * Invariant: a table is counted while some entry below it exists or until
 * free_pgtables() covers its span (Linux frees tables only at munmap/exit).
 */
import type { MmPageTables } from './mm_types.js'

/** Entries per table and shifts (in pages) of each level above the PTEs: x86-64 4-level. */
const LEVEL_SHIFTS = [9, 18, 27] // pte table, pmd table, pud table spans in pages (log2)

export class SoftPageTables implements MmPageTables {
  private readonly ptes = new Map<number, number>()
  /** Live tables per level: key = vpn >> shift. */
  private readonly tables: Set<number>[] = [new Set(), new Set(), new Set()]
  private readonly sorted_dirty = { v: true }
  private sorted: number[] = []

  constructor(private readonly on_table_change?: (delta: number) => void) {
    on_table_change?.(1) // the pgd
  }

  get nr_ptes(): number {
    return 1 + this.tables[0].size + this.tables[1].size + this.tables[2].size
  }

  pte_table_present(vpn: number): boolean {
    return this.tables[0].has(Math.floor(vpn / 512))
  }

  get(vpn: number): number {
    return this.ptes.get(vpn) ?? 0
  }

  set(vpn: number, pte: number): boolean {
    if (pte === 0) {
      if (this.ptes.delete(vpn)) this.sorted_dirty.v = true
      return true
    }
    if (!this.ptes.has(vpn)) {
      this.sorted_dirty.v = true
      for (let l = 0; l < 3; l++) {
        const key = Math.floor(vpn / 2 ** LEVEL_SHIFTS[l])
        if (!this.tables[l].has(key)) {
          this.tables[l].add(key)
          this.on_table_change?.(1)
        }
      }
    }
    this.ptes.set(vpn, pte)
    return true
  }

  each(start_vpn: number, end_vpn: number, fn: (vpn: number, pte: number) => void): void {
    if (end_vpn - start_vpn <= 4096 || end_vpn - start_vpn <= 4 * this.ptes.size) {
      for (let v = start_vpn; v < end_vpn; v++) {
        const p = this.ptes.get(v)
        if (p !== undefined) fn(v, p)
      }
      return
    }
    if (this.sorted_dirty.v) {
      this.sorted = [...this.ptes.keys()].sort((a, b) => a - b)
      this.sorted_dirty.v = false
    }
    const keys = this.sorted
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid] < start_vpn) lo = mid + 1
      else hi = mid
    }
    const todo: number[] = []
    for (let i = lo; i < keys.length && keys[i] < end_vpn; i++) todo.push(keys[i])
    for (const v of todo) {
      const p = this.ptes.get(v)
      if (p !== undefined) fn(v, p)
    }
  }

  free_pgtables(floor_vpn: number, ceiling_vpn: number): void {
    if (ceiling_vpn === 0) ceiling_vpn = Infinity // USER_PGTABLES_CEILING: no VMA above
    for (let l = 0; l < 3; l++) {
      const span = 2 ** LEVEL_SHIFTS[l]
      for (const key of [...this.tables[l]]) {
        const s = key * span
        if (s < floor_vpn || s + span > ceiling_vpn) continue
        let used = false
        this.each(s, s + span, () => {
          used = true
        })
        if (!used) {
          this.tables[l].delete(key)
          this.on_table_change?.(-1)
        }
      }
    }
  }

  destroy(): void {
    const n = this.nr_ptes
    this.ptes.clear()
    for (const t of this.tables) t.clear()
    this.on_table_change?.(-n)
  }
}
