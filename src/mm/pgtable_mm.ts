/**
 * A process's page tables as the address-space code uses them (mm->pgd:
 * get/set/each by virtual page number, free_pgtables, nr_ptes, destroy),
 * backed by real page-table frames through PgTables (src/mm/pgtable.ts):
 * the MMU walks the same frames (`pgtables.walk(this.mm, addr)`),
 * /proc/meminfo PageTables and the mm's VmPTE come from the frames
 * actually allocated.
 *
 * Accounting: PgTables itself keeps NODE_STAT.nr_page_table_pages (every
 * table frame, pgd included) and mm.pgtables_bytes (pud/pmd/pte tables);
 * callers must not count tables again. `on_table_change` only reports the
 * change of nr_ptes for callers that mirror it (e.g. a per-mm counter).
 *
 * Speed: the last pte table found is remembered (`pte_base`, like a
 * paging-structure cache keyed by the pmd slot), so runs of get/set on
 * neighbouring pages walk once per table; it is forgotten whenever tables
 * may be freed (free_pgtables, destroy). Tables are only freed here.
 *
 * Kernel counterparts: pgd_alloc()/pgd_free() (mm_alloc_pgd/mm_free_pgd),
 * set_pte_at() through get_locked_pte(), free_pgtables() -> free_pgd_range().
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { PteVal } from '../arch/pte.js'
import type { PgTables, PgtableMm } from './pgtable.js'


export class FramePageTables {
  /** The mm_struct fields the page-table code keeps (pgd pfn, pgtables_bytes). */
  readonly mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
  private last_nr = 0
  /** vpn / PTRS_PER_PTE of the remembered pte table (-1: none). */
  private pte_key = -1
  /** Physical address of entry 0 of the remembered pte table. */
  private pte_base = 0
  private readonly ptrs: number
  private readonly esize: number

  private constructor(
    readonly pgtables: PgTables,
    private readonly on_table_change?: (delta: number) => void,
  ) {
    this.ptrs = pgtables.PTRS_PER_PTE
    this.esize = pgtables.size
  }

  /** The pte slot of vpn (0 when no table covers it), through the remembered table. */
  private slot(vpn: number, alloc: boolean): number {
    const key = Math.floor(vpn / this.ptrs)
    const idx = vpn - key * this.ptrs
    if (key === this.pte_key) return this.pte_base + idx * this.esize
    const addr = vpn * PAGE_SIZE
    const ptep = alloc ? this.pgtables.get_locked_pte(this.mm, addr) : this.pgtables.walk(this.mm, addr)
    if (ptep !== 0) {
      this.pte_key = key
      this.pte_base = ptep - idx * this.esize
    }
    return ptep
  }

  /** Kernel: mm_alloc_pgd(): a new set of tables, or null on -ENOMEM. */
  static create(pgtables: PgTables, on_table_change?: (delta: number) => void): FramePageTables | null {
    const t = new FramePageTables(pgtables, on_table_change)
    if (pgtables.pgd_alloc(t.mm) < 0) return null
    t.report()
    return t
  }

  private report(): void {
    const n = this.nr_ptes
    if (n !== this.last_nr) {
      this.on_table_change?.(n - this.last_nr)
      this.last_nr = n
    }
  }

  /** Page-table pages of this mm, the pgd included (VmPTE is nr_ptes * 4 kB). */
  get nr_ptes(): number {
    return this.mm.pgd === 0 ? 0 : 1 + this.mm.pgtables_bytes / PAGE_SIZE
  }

  /** The entry for vpn (0 when none or when no table covers it). */
  get(vpn: number): PteVal {
    const ptep = this.slot(vpn, false)
    return ptep === 0 ? 0 : this.pgtables.ptep_get(ptep)
  }

  /** Set the entry (0 clears it); allocates missing tables. false on -ENOMEM. */
  set(vpn: number, pte: PteVal): boolean {
    const addr = vpn * PAGE_SIZE
    const pt = this.pgtables
    if (pte === 0) {
      const ptep = this.slot(vpn, false)
      if (ptep !== 0) pt.pte_clear(this.mm, addr, ptep)
      return true
    }
    const hit = Math.floor(vpn / this.ptrs) === this.pte_key
    const ptep = this.slot(vpn, true)
    if (ptep === 0) {
      this.report()
      return false
    }
    pt.set_pte_at(this.mm, addr, ptep, pte)
    if (!hit) this.report()
    return true
  }

  /** Visit every non-none entry in [start_vpn, end_vpn) in ascending order. */
  each(start_vpn: number, end_vpn: number, fn: (vpn: number, pte: PteVal) => void): void {
    if (end_vpn <= start_vpn) return
    const key = Math.floor(start_vpn / this.ptrs)
    if (end_vpn <= (key + 1) * this.ptrs) {
      // One pte table covers the range (an munmap of a few pages): its slots directly, through
      // the remembered table, not a walk down from the pgd. Each entry is read just before
      // `fn` sees it, as for_each_pte() does.
      const base = this.slot(start_vpn, false)
      if (base === 0) return
      const pt = this.pgtables
      for (let vpn = start_vpn, p = base; vpn < end_vpn; vpn++, p += this.esize) {
        const pte = pt.ptep_get(p)
        if (pte !== 0) fn(vpn, pte)
      }
      return
    }
    this.pgtables.for_each_pte(this.mm, start_vpn * PAGE_SIZE, end_vpn * PAGE_SIZE, (addr, _ptep, pte) => {
      fn(addr / PAGE_SIZE, pte)
    })
  }

  /**
   * Kernel: free_pgtables() for the gap [floor, ceiling) left by unmapped
   * VMAs (floor: the previous VMA's end or 0, ceiling: the next VMA's start
   * or 0 for "none"): free_pgd_range() frees the tables wholly inside it.
   * Entries in that range must already be cleared.
   */
  free_pgtables(floor_vpn: number, ceiling_vpn: number, start_vpn = floor_vpn, end_vpn = ceiling_vpn): void {
    const floor = floor_vpn * PAGE_SIZE
    const ceiling = ceiling_vpn * PAGE_SIZE
    const start = start_vpn * PAGE_SIZE
    const end = end_vpn === 0 ? this.pgtables.arch.TASK_SIZE : end_vpn * PAGE_SIZE
    this.pte_key = -1
    if (end > start) this.pgtables.free_pgd_range(this.mm, start, end, floor, ceiling)
    this.report()
  }

  /**
   * Kernel: the p4d/pud/pmd allocations of __handle_mm_fault() and pte_alloc(): make sure a
   * PTE table covers vpn, allocating the missing levels. false on -ENOMEM (the fault handler
   * returns VM_FAULT_OOM before taking anything for the page).
   */
  pte_alloc(vpn: number): boolean {
    const ok = this.slot(vpn, true) !== 0
    this.report()
    return ok
  }

  /** Whether a PTE table covers vpn (a walk reaches a pte slot). */
  pte_table_present(vpn: number): boolean {
    return this.slot(vpn, false) !== 0
  }

  /**
   * Kernel: try_to_free_pte() (mm/pt_reclaim.c): free the PTE table that
   * covers vpn when every one of its entries is none, whichever VMAs it
   * spans. `ptrs` is PTRS_PER_PTE. true when a table was freed.
   */
  reclaim_pte_table(vpn: number, ptrs: number): boolean {
    if (!this.pte_table_present(vpn)) return false
    const base = vpn - (vpn % ptrs)
    let empty = true
    this.each(base, base + ptrs, () => {
      empty = false
    })
    if (!empty) return false
    this.free_pgtables(base, base + ptrs)
    return true
  }

  /** Exit: clear what is left, free every table and the pgd. */
  destroy(): void {
    if (this.mm.pgd === 0) return
    this.pte_key = -1
    const pt = this.pgtables
    // everything below the kernel pgd entries (TASK_SIZE rounded up to them)
    const top = pt.unlin(pt.KERNEL_PGD_BOUNDARY * 2 ** pt.arch.level_shifts[0])
    pt.for_each_pte(this.mm, 0, top, (addr, ptep) => void pt.pte_clear(this.mm, addr, ptep))
    pt.free_pgd_range(this.mm, 0, top, 0, 0)
    pt.pgd_free(this.mm)
    this.report()
  }
}
