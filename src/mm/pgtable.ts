/**
 * Page tables in simulated frames (Kernel: mm/memory.c free_pgd_range(),
 * __pte_alloc(), __pmd_alloc(), __pud_alloc(); include/linux/pgtable.h;
 * arch/x86/mm/pgtable.c pgd_alloc()/pgd_ctor(); arch/x86/mm/init_64.c
 * preallocate_vmalloc_pages(); arch/x86/mm/fault.c arch_sync_kernel_mappings()).
 *
 * Geometry comes from the profile: x86_64 has pgd/pud/pmd/pte (p4d folded
 * into the pgd, as 4-level paging does), i386 pgd/pte (pud and pmd folded),
 * i386-pae pgd(4 entries)/pmd/pte. Only present levels exist as frames.
 *
 * Invariants (checked by `check()`):
 *  - every table frame reachable from a registered pgd (pgd_list) is
 *    PageTable (page_type PGTY_table); frames with PGTY_table that are not
 *    PG_reserved are counted exactly once in NODE_STAT.nr_page_table_pages
 *    (boot-time tables taken the way memblock would are PG_reserved and not
 *    counted, as Linux leaves its early tables out of PageTables);
 *  - mm.pgtables_bytes is 4096 per pud/pmd/pte table of that mm (VmPTE);
 *  - every pgd's kernel half equals init_mm's: x86_64 and i386 copy the
 *    kernel pgd entries (from pgd_index(PAGE_OFFSET)) at pgd_alloc(); x86_64
 *    never changes them afterwards (the vmalloc puds are preallocated), i386
 *    syncs later changes with arch_sync_kernel_mappings(). i386-pae (Linux
 *    6.16+, no SHARED_KERNEL_PMD) preallocates all four pmds per pgd, copies
 *    the kernel pmd's entries, and syncs pmd-level changes the same way.
 *
 * Representation: a pointer to an entry ("ptep", "pmdp", ...) is the entry's
 * *physical* address (table pfn * 4096 + index * entry size); 0 is NULL
 * (pfn 0 is reserved and never a table). Addresses given to the walker are
 * the profile's addresses (x86_64 kernel addresses signed canonical); inside,
 * arithmetic runs on "linear" addresses in [0, 2^48) (x86_64) or [0, 2^32),
 * with division, never 32-bit bitwise ops.
 *
 * API (stable):
 *   interface PgtableMm { pgd: Pfn; pgtables_bytes: number }  (mm_struct fields)
 *   interface PgtableDeps (what PageAllocator provides), WalkStep, PteVisitor
 *   GFP_PGTABLE_KERNEL, GFP_PGTABLE_USER
 *   class PgTables(deps):
 *     arch, init_mm (swapper_pg_dir), pgd_list, KERNEL_PGD_BOUNDARY, PTRS_PER_PTE,
 *     lin(addr)/unlin(l), index_of(level, addr), pgd_index(addr), pgd_offset(mm, addr) -> pgdp,
 *     level_names, leaf_huge(level, entry)
 *     pgd_alloc(mm) -> 0 | -ENOMEM (sets mm.pgd, joins pgd_list), pgd_free(mm),
 *     walk(mm, addr) -> ptep | 0 (no allocation),
 *     get_locked_pte(mm, addr) -> ptep | 0 (allocates missing tables; 0 = -ENOMEM),
 *     pte_alloc / __pte_alloc(mm, addr) -> 0 | -ENOMEM, pud_alloc / pmd_alloc(mm, addr) -> entry | 0
 *       (folded levels give the entry above, as pud_offset()/pmd_offset() do),
 *     early_pte_alloc(addr), early_entry_alloc(addr, level) (boot tables of init_mm),
 *     ptep_get(ptep), set_entry(entryp, val), set_pte_at(mm, addr, ptep, pte),
 *     pte_clear(mm, addr, ptep), ptep_get_and_clear(mm, addr, ptep),
 *     ptep_set_wrprotect(mm, addr, ptep), ptep_test_and_clear_young(ptep),
 *     ptep_table(ptep) -> table pfn, ptep_index(ptep) -> index,
 *     for_each_pte(mm, start, end, fn(addr, ptep, pte) => true to stop) (non-none, ascending,
 *       absent tables skipped whole),
 *     free_pgd_range(mm, addr, end, floor, ceiling) (ceiling 0 = none),
 *     walk_levels(mm, addr) -> WalkStep[], walk_text() in pgtable_debug.ts (teaching),
 *     flush_tlb_kernel_range (hook, set by the TLB layer), flush_kernel(start, end),
 *     nr_kernel_tlb_flushes, count_tables(mm), reachable_tables(), check(), debug_vm.
 *   Per-process use through FramePageTables (src/mm/pgtable_mm.ts).
 */
import type { MemcgSubsys } from './memcontrol.js'
import { ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { offset_in_page, pt_index } from '../include/wide.js'
import type { ArchProfile } from '../arch/profile.js'
import { _KERNPG_TABLE, _PAGE_NX, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_TABLE, pte_huge, pte_pfn, read_entry, entry_from_halves, pte_to_hw, type PteVal, pfn_pte, _PAGE_RW, _PAGE_ACCESSED, pte_layout, type PteLayout } from '../arch/pte.js'
import type { PhysMem } from '../hw/physmem.js'
import { KernelBug } from '../include/bug.js'
import { GFP_KERNEL, __GFP_ACCOUNT, __GFP_ZERO } from './gfp.js'
import { PG_reserved, PGTY_none, PGTY_table, type PageArray, type Pfn } from './page.js'
import { NODE_STAT, type VmStat } from './vmstat.js'


/** Kernel: GFP_PGTABLE_KERNEL. */
export const GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO
/** Kernel: GFP_PGTABLE_USER. */
export const GFP_PGTABLE_USER = GFP_PGTABLE_KERNEL | __GFP_ACCOUNT

/** The mm_struct fields the page-table code uses (MmStruct implements it). */
export interface PgtableMm {
  /** The pgd frame (mm->pgd as a pfn); 0 before pgd_alloc(). */
  pgd: Pfn
  /** Kernel: mm->pgtables_bytes (VmPTE); pud, pmd and pte tables of this mm. */
  pgtables_bytes: number
}

/** What the page-table code needs from the page allocator (PageAllocator provides it). */
export interface PgtableDeps {
  readonly arch: ArchProfile
  readonly pages: PageArray
  readonly physmem: PhysMem
  readonly vmstat: VmStat
  /** Returns the first pfn, or -1 on failure. */
  alloc_pages(gfp: number, order: number): Pfn
  __free_pages(pfn: Pfn, order: number): void
}

/** One step of a walk, for teaching output (`walk_levels`). */
export interface WalkStep {
  /** 'pgd' | 'pud' | 'pmd' | 'pte' as present on the profile. */
  readonly level: string
  readonly index: number
  readonly table_pfn: Pfn
  /** Physical address of the entry. */
  readonly entryp: number
  readonly val: PteVal
}

/** Callback of for_each_pte; return true to stop the walk. */
export type PteVisitor = (addr: number, ptep: number, pte: PteVal) => boolean | void

export class PgTables {
  readonly arch: ArchProfile
  readonly init_mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
  /** Kernel: pgd_list: every pgd but init_mm's, for kernel-mapping sync. */
  readonly pgd_list = new Set<PgtableMm>()
  /** Kernel: KERNEL_PGD_BOUNDARY = pgd_index(PAGE_OFFSET). */
  readonly KERNEL_PGD_BOUNDARY: number
  readonly PTRS_PER_PTE: number
  /** Whether freeing a table verifies it is empty (DEBUG_VM). */
  debug_vm = true
  /**
   * Bumped at every change the DEBUG_VM census of the tables can see
   * (pgtable_debug.ts): a table made or freed, a pgd added to or removed
   * from pgd_list, an entry stored by set_entry() (the upper levels' and
   * boot's store). The leaf stores, set_pte_at() and its kin, leave it: the
   * census never reads a pte table. While it stands still the per-call
   * check reuses its last census instead of walking every table again.
   */
  table_gen = 0
  /**
   * Bumped by every leaf store into init_mm's tables (vmap, vunmap, kmap):
   * with table_gen, what tells the per-call vmalloc check that no kernel
   * mapping changed since it last looked.
   */
  kernel_leaf_gen = 0
  /**
   * Kernel: flush_tlb_kernel_range(): called where Linux flushes kernel
   * translations (vmalloc purge, pkmap wrap, kunmap_local). The MMU/TLB layer
   * installs its shootdown here; `count` counts the calls.
   */
  flush_tlb_kernel_range: (start: number, end: number) => void = () => undefined
  nr_kernel_tlb_flushes = 0

  /** Kernel: flush_tlb_kernel_range() through the installed hook. */
  flush_kernel(start: number, end: number): void {
    this.nr_kernel_tlb_flushes++
    this.flush_tlb_kernel_range(start, end)
  }

  readonly deps: PgtableDeps
  readonly levels: number
  readonly divs: readonly number[]
  readonly nents: readonly number[]
  readonly size: 4 | 8
  /** The entries' in-memory format (pte_layout(arch)). */
  readonly layout: PteLayout
  readonly x64: boolean
  readonly pae: boolean
  /** Level whose kernel entries arch_sync_kernel_mappings() copies: the pgd (x86_64, i386) or the pmd (PAE). */
  private readonly sync_level: number

  constructor(
    deps: PgtableDeps,
    /** User page tables are kernel memory charged to the running task's memory cgroup. */
    private readonly memcg: MemcgSubsys,
  ) {
    this.deps = deps
    const a = deps.arch
    this.arch = a
    this.levels = a.levels
    this.divs = a.level_shifts.map((s) => 2 ** s)
    this.nents = a.level_entries
    this.size = a.pte_size
    this.layout = pte_layout(a)
    this.x64 = a.bits === 64
    this.pae = a.name === 'i386-pae'
    this.sync_level = this.pae ? 1 : 0
    this.PTRS_PER_PTE = a.level_entries[a.levels - 1]
    this.KERNEL_PGD_BOUNDARY = this.pgd_index(a.PAGE_OFFSET)
    this.paging_init()
  }

  // ---------------------------------------------------------------- geometry

  /** Profile address -> linear address in [0, 2^48) or [0, 2^32). */
  lin(addr: number): number {
    return this.x64 && addr < 0 ? addr + 2 ** 48 : addr
  }
  /** Linear address -> profile address (signed canonical on x86_64). */
  unlin(l: number): number {
    return this.x64 && l >= 2 ** 47 ? l - 2 ** 48 : l
  }
  /**
   * A present entry at non-leaf level lv that maps a large page (PSE) instead
   * of pointing at a table: pud (1 GiB) and pmd (2 MiB) on x86_64, the pmd on
   * PAE, the pgd itself on 2-level i386 (4 MiB). PML4 and PDPT entries never do.
   */
  leaf_huge(lv: number, e: PteVal): boolean {
    return pte_huge(e) && lv < this.levels - 1 && (lv > 0 || this.levels === 2)
  }

  /** Index of `addr` in a table at present level `level` (0 = pgd). */
  index_of(level: number, addr: number): number {
    return pt_index(this.lin(addr), this.divs[level], this.nents[level])
  }
  /** Kernel: pgd_index(). */
  pgd_index(addr: number): number {
    return pt_index(this.lin(addr), this.divs[0], this.nents[0])
  }
  /** Kernel: pgd_offset(mm, addr): the pgd entry's physical address. */
  pgd_offset(mm: PgtableMm, addr: number): number {
    return mm.pgd * PAGE_SIZE + this.pgd_index(addr) * this.size
  }
  /** Kernel names of the present levels, top down. */
  get level_names(): readonly string[] {
    return this.arch.level_names
  }

  // ---------------------------------------------------------------- entries

  /** Kernel: ptep_get() (also pmdp_get/pudp_get/pgdp_get): read the entry at a physical address. */
  ptep_get(ptep: number): PteVal {
    const pfn = Math.floor(ptep / PAGE_SIZE)
    const off = ptep - pfn * PAGE_SIZE
    const pm = this.deps.physmem
    // As 32-bit words (one load each, not four byte loads).
    const lo = pm.read_u32(pfn, off)
    return entry_from_halves(lo, this.size === 4 ? 0 : pm.read_u32(pfn, off + 4), this.layout)
  }
  /** Store of an entry at any level (set_pmd/set_pud/set_pgd, boot's set_pte). */
  set_entry(entryp: number, val: PteVal): void {
    this.table_gen++
    this.store_entry(entryp, val)
  }
  /** The raw store: a pte (the leaf stores below), or through set_entry(). */
  private store_entry(entryp: number, val: PteVal): void {
    if (this.size === 4 && (val & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 && val % _PAGE_NX >= 2 ** 32) {
      throw new KernelBug(`set_pte: 0x${val.toString(16)} does not fit a 32-bit entry`)
    }
    const pfn = Math.floor(entryp / PAGE_SIZE)
    const pm = this.deps.physmem
    const off = entryp - pfn * PAGE_SIZE
    let lo: number
    let hi: number
    if (val === 0 || (val & _PAGE_PRESENT) !== 0) {
      // Present (or none), the common case: the PFN as is, NX at bit 63 (write_entry()'s fast path, as words).
      const nx = val >= _PAGE_NX
      const v = nx ? val - _PAGE_NX : val
      lo = v >>> 0 // v mod 2^32, exact for an integer below 2^53 (no fmod)
      hi = Math.floor(v / 2 ** 32) + (nx ? 0x80000000 : 0)
    } else {
      ;[lo, hi] = pte_to_hw(val, this.layout)
    }
    if (this.size === 4) pm.write_u32(pfn, off, lo)
    else pm.write_u64(pfn, off, lo, hi)
  }
  /** Kernel: set_pte_at(). */
  set_pte_at(mm: PgtableMm, _addr: number, ptep: number, pte: PteVal): void {
    if (mm === this.init_mm) this.kernel_leaf_gen++
    this.store_entry(ptep, pte)
  }
  /** Kernel: pte_clear(). */
  pte_clear(mm: PgtableMm, _addr: number, ptep: number): void {
    if (mm === this.init_mm) this.kernel_leaf_gen++
    this.store_entry(ptep, 0)
  }
  /** Kernel: ptep_get_and_clear(): returns the old entry. */
  ptep_get_and_clear(mm: PgtableMm, _addr: number, ptep: number): PteVal {
    if (mm === this.init_mm) this.kernel_leaf_gen++
    const old = this.ptep_get(ptep)
    if (old !== 0) this.store_entry(ptep, 0)
    return old
  }
  /** Kernel: ptep_set_wrprotect(). */
  ptep_set_wrprotect(mm: PgtableMm, _addr: number, ptep: number): void {
    if (mm === this.init_mm) this.kernel_leaf_gen++
    const v = this.ptep_get(ptep)
    if (v & _PAGE_RW) this.store_entry(ptep, v - _PAGE_RW)
  }
  /** Kernel: ptep_test_and_clear_young(): clears A, returns whether it was set. */
  ptep_test_and_clear_young(ptep: number): boolean {
    const v = this.ptep_get(ptep)
    if ((v & _PAGE_ACCESSED) === 0) return false
    this.store_entry(ptep, v - _PAGE_ACCESSED)
    return true
  }
  /** The table frame holding an entry pointer. */
  ptep_table(ptep: number): Pfn {
    return Math.floor(ptep / PAGE_SIZE)
  }
  /** The index of an entry pointer inside its table. */
  ptep_index(ptep: number): number {
    return offset_in_page(ptep) / this.size
  }

  // ---------------------------------------------------------------- table frames

  /**
   * Kernel: pagetable_alloc() + pagetable_*_ctor(): a zeroed frame typed
   * PGTY_table and counted in NR_PAGETABLE. Returns -1 when out of memory.
   * `boot` tables stand for memblock-allocated early tables: PG_reserved, not counted.
   */
  private table_alloc(user: boolean, boot = false): Pfn {
    const d = this.deps
    const pfn = d.alloc_pages(user ? GFP_PGTABLE_USER : GFP_PGTABLE_KERNEL, 0)
    if (pfn < 0) return -1
    // __GFP_ACCOUNT: __memcg_kmem_charge_page(); a table the group cannot pay for is not made.
    if (user && this.memcg.charge_kmem_page(pfn, GFP_PGTABLE_USER) < 0) {
      d.__free_pages(pfn, 0)
      return -1
    }
    d.physmem.fill(pfn, 0)
    this.table_gen++
    d.pages.page_type[pfn] = PGTY_table
    if (boot) d.pages.set(pfn, PG_reserved)
    else d.vmstat.mod_node_page_state(NODE_STAT.nr_page_table_pages, 1)
    return pfn
  }

  /** Kernel: pagetable_dtor() + pagetable_free(). */
  private table_free(pfn: Pfn, what: string): void {
    const d = this.deps
    if (d.pages.page_type[pfn] !== PGTY_table) throw new KernelBug(`${what}: pfn 0x${pfn.toString(16)} is not a page table`)
    if (d.pages.PageReserved(pfn)) throw new KernelBug(`${what}: freeing a boot page table`)
    if (this.debug_vm) this.assert_table_empty(pfn, what)
    this.table_gen++
    d.pages.page_type[pfn] = PGTY_none
    d.vmstat.mod_node_page_state(NODE_STAT.nr_page_table_pages, -1)
    this.memcg.uncharge_kmem_page(pfn)
    d.__free_pages(pfn, 0)
  }

  private assert_table_empty(pfn: Pfn, what: string): void {
    const pm = this.deps.physmem
    const buf = pm.peek_buf(pfn)
    const at = pm.peek_off(pfn)
    // 32 bits at a time (frames are page-aligned in their buffer), only over the frame's non-zero
    // extent (zero outside); the byte loop only names the first live byte.
    const words = new Uint32Array(buf.buffer, buf.byteOffset + at, PAGE_SIZE / 4)
    const end = Math.ceil(pm.nonzero_end(pfn) / 4)
    for (let w = Math.floor(pm.nonzero_start(pfn) / 4); w < end; w++) {
      if (words[w] === 0) continue
      for (let i = w * 4; ; i++) {
        if (buf[at + i] !== 0) {
          throw new KernelBug(`${what}: freeing page table 0x${pfn.toString(16)} with live entry at index ${Math.floor(i / this.size)}`)
        }
      }
    }
  }

  /** Entry value installed in a parent to point at a child table. */
  private table_entry(mm: PgtableMm, parent_level: number, child: Pfn): PteVal {
    if (this.pae && parent_level === 0) return pfn_pte(child, _PAGE_PRESENT)
    // Kernel: pmd_populate_kernel() uses _KERNPG_TABLE for kernel pte tables; every other populate uses _PAGE_TABLE.
    if (mm === this.init_mm && parent_level === this.levels - 2) return pfn_pte(child, _KERNPG_TABLE)
    return pfn_pte(child, _PAGE_TABLE)
  }

  // ---------------------------------------------------------------- boot and pgds

  /**
   * Build swapper_pg_dir (init_mm.pgd) and the tables every pgd shares:
   * x86_64 preallocates the pud tables of the vmalloc area
   * (preallocate_vmalloc_pages()); i386-pae has swapper_pg_dir's kernel pmd
   * (static in the kernel image, hence a boot table).
   */
  private paging_init(): void {
    const pgd = this.table_alloc(false, true)
    if (pgd < 0) throw new KernelBug('paging_init: no memory for swapper_pg_dir')
    this.init_mm.pgd = pgd
    const a = this.arch
    if (this.x64) {
      const start = this.lin(a.VMALLOC_START_FIXED)
      const end = start + a.VMALLOC_SIZE // VMEMORY_END + 1
      for (let l = start; l < end; l = (Math.floor(l / this.divs[0]) + 1) * this.divs[0]) {
        const pgdp = this.pgd_offset(this.init_mm, this.unlin(l))
        if (this.ptep_get(pgdp) !== 0) continue
        const pud = this.table_alloc(false)
        if (pud < 0) throw new KernelBug('preallocate_vmalloc_pages: Failed to allocate pud pages')
        this.init_mm.pgtables_bytes += PAGE_SIZE
        this.set_entry(pgdp, this.table_entry(this.init_mm, 0, pud))
      }
    } else if (this.pae) {
      const pmd = this.table_alloc(false, true)
      if (pmd < 0) throw new KernelBug('paging_init: no memory for the kernel pmd')
      this.set_entry(this.pgd_offset(this.init_mm, a.PAGE_OFFSET), this.table_entry(this.init_mm, 0, pmd))
    }
  }

  /**
   * Kernel: pgd_alloc() with pgd_ctor()/clone_pgd_range(); on PAE
   * preallocate_pmds() of all PTRS_PER_PGD pmds and pgd_prepopulate_pmd()
   * (the kernel pmd's entries copied from swapper_pg_dir). Sets mm.pgd and
   * adds it to pgd_list. Returns 0 or -ENOMEM (nothing leaked).
   */
  pgd_alloc(mm: PgtableMm): number {
    const pgd = this.table_alloc(true)
    if (pgd < 0) return -ENOMEM
    const pm = this.deps.physmem
    const size = this.size
    if (this.pae) {
      const pmds: Pfn[] = []
      for (let i = 0; i < this.nents[0]; i++) {
        const pmd = this.table_alloc(true)
        if (pmd < 0) {
          for (const p of pmds) this.table_free(p, 'pgd_alloc')
          this.table_free(pgd, 'pgd_alloc')
          return -ENOMEM
        }
        pmds.push(pmd)
      }
      pmds.forEach((pmd, i) => {
        if (i >= this.KERNEL_PGD_BOUNDARY) {
          const k = pte_pfn(this.ptep_get(this.init_mm.pgd * PAGE_SIZE + i * size))
          pm.copy(pmd, k)
        }
        this.set_entry(pgd * PAGE_SIZE + i * size, this.table_entry(mm, 0, pmd))
        mm.pgtables_bytes += PAGE_SIZE // mm_inc_nr_pmds()
      })
    } else {
      const from = this.KERNEL_PGD_BOUNDARY * size
      pm.write_at(pgd, from, pm.peek(this.init_mm.pgd), from, this.nents[0] * size - from)
    }
    mm.pgd = pgd
    this.pgd_list.add(mm)
    this.table_gen++
    return 0
  }

  /**
   * Kernel: pgd_free(): releases the pgd (and, on PAE, its pmds:
   * pgd_mop_up_pmds()). User tables below must already be freed
   * (free_pgtables() at exit); DEBUG_VM reports a leak as a KernelBug.
   */
  pgd_free(mm: PgtableMm): void {
    if (mm === this.init_mm) throw new KernelBug('pgd_free: freeing swapper_pg_dir')
    const pgd = mm.pgd
    if (pgd === 0) return
    const pm = this.deps.physmem
    for (let i = 0; i < this.KERNEL_PGD_BOUNDARY; i++) {
      const e = this.ptep_get(pgd * PAGE_SIZE + i * this.size)
      if (e !== 0 && !this.pae) throw new KernelBug(`pgd_free: user page tables still present under pgd entry ${i}`)
    }
    this.pgd_list.delete(mm)
    this.table_gen++
    if (this.pae) {
      for (let i = 0; i < this.nents[0]; i++) {
        const pgdp = pgd * PAGE_SIZE + i * this.size
        const e = this.ptep_get(pgdp)
        if (e === 0) continue
        const pmd = pte_pfn(e)
        if (i >= this.KERNEL_PGD_BOUNDARY) pm.fill(pmd, 0) // the copied kernel entries
        this.set_entry(pgdp, 0)
        this.table_free(pmd, 'pgd_mop_up_pmds')
        mm.pgtables_bytes -= PAGE_SIZE // mm_dec_nr_pmds()
      }
    }
    // The kernel half is a copy: clear it so the empty-table check holds.
    pm.fill(pgd, 0)
    this.table_free(pgd, 'pgd_free')
    mm.pgd = 0
  }

  /**
   * Kernel: arch_sync_kernel_mappings() (i386: vmalloc_sync_one(); x86_64:
   * sync_global_pgds()): a kernel pgd entry of init_mm changed, so copy it
   * into every pgd on pgd_list. On x86_64 the vmalloc puds are preallocated,
   * so only other kernel ranges ever need it. On i386-pae the changed entry
   * is in the kernel pmd, and each pgd's own kernel pmd gets it.
   */
  private sync_kernel_entry(addr: number, entryp: number): void {
    const v = this.ptep_get(entryp)
    const idx = this.ptep_index(entryp)
    const k = this.pgd_index(addr)
    for (const mm of this.pgd_list) {
      let table = mm.pgd
      if (this.pae) table = pte_pfn(this.ptep_get(mm.pgd * PAGE_SIZE + k * this.size))
      this.set_entry(table * PAGE_SIZE + idx * this.size, v)
    }
  }

  // ---------------------------------------------------------------- walks

  /**
   * Find the pte slot for `addr` without allocating (Kernel: the pgd/pud/pmd
   * offsets + pte_offset_map()). Returns the ptep, or 0 when a table on the
   * way is missing or the walk meets a huge (PSE) entry.
   */
  walk(mm: PgtableMm, addr: number): number {
    const l = this.lin(addr)
    const pm = this.deps.physmem
    const size = this.size
    let table = mm.pgd
    for (let lv = 0; ; lv++) {
      const idx = pt_index(l, this.divs[lv], this.nents[lv])
      if (lv === this.levels - 1) return table * PAGE_SIZE + idx * size
      const e = read_entry(pm.peek_buf(table), pm.peek_off(table) + idx * size, this.layout)
      if ((e & _PAGE_PRESENT) === 0) return 0
      if (this.leaf_huge(lv, e)) return 0
      table = pte_pfn(e)
    }
  }

  /**
   * Kernel: get_locked_pte() / pte_alloc_map(): the pte slot for `addr`,
   * allocating missing pud/pmd/pte tables (__pud_alloc, __pmd_alloc,
   * __pte_alloc; __pte_alloc_kernel for init_mm). Returns 0 when out of memory.
   */
  get_locked_pte(mm: PgtableMm, addr: number): number {
    return this.walk_alloc(mm, addr, false)
  }

  /**
   * Kernel: one_page_table_init()/page_table_range_init() of early boot
   * (pkmap and fixmap tables on i386): like get_locked_pte(init_mm, addr) but
   * missing tables are taken as memblock would (PG_reserved, not in PageTables).
   */
  early_pte_alloc(addr: number): number {
    return this.walk_alloc(this.init_mm, addr, true)
  }

  /**
   * Boot-time entry of init_mm at present level `lv` for addr (0 = pgd),
   * allocating missing boot tables above it (kernel_physical_mapping_init).
   */
  early_entry_alloc(addr: number, lv: number): number {
    return this.walk_alloc(this.init_mm, addr, true, lv)
  }

  private walk_alloc(mm: PgtableMm, addr: number, boot: boolean, stop = this.levels - 1): number {
    const l = this.lin(addr)
    const size = this.size
    let table = mm.pgd
    for (let lv = 0; ; lv++) {
      const idx = pt_index(l, this.divs[lv], this.nents[lv])
      const entryp = table * PAGE_SIZE + idx * size
      if (lv === stop) return entryp
      let e = this.ptep_get(entryp)
      if ((e & _PAGE_PRESENT) === 0) {
        if (e !== 0) throw new KernelBug(`get_locked_pte: bad ${this.arch.level_names[lv]} entry ${e}`)
        const child = this.table_alloc(mm !== this.init_mm, boot)
        if (child < 0) return 0
        if (!boot) mm.pgtables_bytes += PAGE_SIZE
        e = this.table_entry(mm, lv, child)
        this.set_entry(entryp, e)
        if (mm === this.init_mm && lv === this.sync_level && this.pgd_index(addr) >= this.KERNEL_PGD_BOUNDARY) {
          this.sync_kernel_entry(addr, entryp)
        }
      } else if (this.leaf_huge(lv, e)) {
        throw new KernelBug(`get_locked_pte: huge ${this.arch.level_names[lv]} entry on the way to 0x${this.lin(addr).toString(16)}`)
      }
      table = pte_pfn(e)
    }
  }

  /**
   * Present level standing for a kernel level name: a folded level is its
   * parent's entry, as pud_offset()/pmd_offset() return it on folded builds.
   */
  private level_of(name: 'pgd' | 'p4d' | 'pud' | 'pmd' | 'pte'): number {
    const order = ['pgd', 'p4d', 'pud', 'pmd', 'pte']
    const names = this.arch.level_names
    for (let i = order.indexOf(name); i >= 0; i--) {
      const lv = names.indexOf(order[i])
      if (lv >= 0) return lv
    }
    return 0
  }

  /** Kernel: pud_alloc(): the pud entry for addr (the pgd entry where the pud is folded), allocating above it; 0 on -ENOMEM. */
  pud_alloc(mm: PgtableMm, addr: number): number {
    return this.walk_alloc(mm, addr, false, this.level_of('pud'))
  }
  /** Kernel: pmd_alloc(): the pmd entry for addr (folded: the entry above), allocating above it; 0 on -ENOMEM. */
  pmd_alloc(mm: PgtableMm, addr: number): number {
    return this.walk_alloc(mm, addr, false, this.level_of('pmd'))
  }
  /** Kernel: __pte_alloc(): make sure the pte table for addr exists. 0 or -ENOMEM. */
  __pte_alloc(mm: PgtableMm, addr: number): number {
    return this.pte_alloc(mm, addr)
  }

  /** Kernel: pte_alloc(): make sure the pte table for `addr` exists. Returns 0 or -ENOMEM. */
  pte_alloc(mm: PgtableMm, addr: number): number {
    return this.get_locked_pte(mm, addr) === 0 ? -ENOMEM : 0
  }

  /** Each level's index, table and entry for `addr` (stops at the first missing level). */
  walk_levels(mm: PgtableMm, addr: number): WalkStep[] {
    const l = this.lin(addr)
    const out: WalkStep[] = []
    let table = mm.pgd
    for (let lv = 0; lv < this.levels; lv++) {
      const index = pt_index(l, this.divs[lv], this.nents[lv])
      const entryp = table * PAGE_SIZE + index * this.size
      const val = this.ptep_get(entryp)
      out.push({ level: this.arch.level_names[lv], index, table_pfn: table, entryp, val })
      if (lv === this.levels - 1 || (val & _PAGE_PRESENT) === 0 || this.leaf_huge(lv, val)) break
      table = pte_pfn(val)
    }
    return out
  }


  /**
   * Visit every non-none pte in [start, end) in ascending address order,
   * skipping absent tables whole (the zap_pte_range / change_pte_range /
   * copy_pte_range / smaps walk shape). `fn` may modify the entry through
   * `ptep`; returning true stops the walk.
   */
  for_each_pte(mm: PgtableMm, start: number, end: number, fn: PteVisitor): void {
    const ls = this.lin(start)
    const le = end === 0 ? (this.x64 ? 2 ** 48 : 2 ** 32) : this.lin(end) // 0: to the top
    if (le <= ls) return
    this.visit(mm.pgd, 0, ls, le, fn)
  }

  private visit(table: Pfn, lv: number, l: number, end: number, fn: PteVisitor): boolean {
    const div = this.divs[lv]
    const size = this.size
    const pm = this.deps.physmem
    if (!pm.is_backed(table)) return false
    const buf = pm.peek_buf(table)
    const at = pm.peek_off(table)
    let idx = pt_index(l, div, this.nents[lv])
    let base = Math.floor(l / div) * div
    // Entries outside the frame's non-zero extent are none: start at its first entry, stop past
    // its end (read again there: `fn` may have set entries further on). A user pud or pmd table
    // usually has one or two entries in 512.
    const first = Math.floor(pm.nonzero_start(table) / size)
    if (idx < first) {
      base += (first - idx) * div
      idx = first
    }
    let stop = pm.nonzero_end(table)
    const leaf = lv === this.levels - 1
    while (base < end) {
      if (idx * size >= stop) {
        stop = pm.nonzero_end(table)
        if (idx * size >= stop) break
      }
      const e = read_entry(buf, at + idx * size, this.layout)
      if (e !== 0) {
        if (leaf) {
          if (fn(this.unlin(base), table * PAGE_SIZE + idx * size, e) === true) return true
        } else if ((e & _PAGE_PRESENT) !== 0 && !this.leaf_huge(lv, e)) {
          const lo = base > l ? base : l
          const hi = base + div < end ? base + div : end
          if (this.visit(pte_pfn(e), lv + 1, lo, hi, fn)) return true
        }
      }
      base += div
      idx++
      if (idx === this.nents[lv]) break
    }
    return false
  }

  /**
   * Kernel: free_pgd_range(): free the page tables mapping [addr, end) — pte
   * tables always, upper tables only when everything they span lies within
   * [floor, ceiling) (ceiling 0 = no ceiling) — exactly the kernel's rounding.
   * The ptes must already be zapped (DEBUG_VM checks each freed table is empty).
   */
  free_pgd_range(mm: PgtableMm, addr: number, end: number, floor: number, ceiling: number): void {
    const TOP = this.x64 ? 2 ** 48 : 2 ** 32
    let a = this.lin(addr)
    let e = end === 0 ? TOP : this.lin(end)
    const f = this.lin(floor)
    let c = ceiling === 0 ? 0 : this.lin(ceiling)
    const pmd_size = this.divs[this.levels - 2] // span of one pte table
    a = Math.floor(a / pmd_size) * pmd_size
    if (a < f) {
      a += pmd_size
      if (a >= TOP) return
    }
    if (c !== 0) {
      c = Math.floor(c / pmd_size) * pmd_size
      if (c === 0) return
    }
    if (e - 1 > (c === 0 ? TOP : c) - 1) e -= pmd_size
    if (a > e - 1) return
    this.free_level(mm, mm.pgd, 0, a, e, f, c)
  }

  /** free_p4d/pud/pmd_range over one table at level `lv` (not the leaf). */
  private free_level(mm: PgtableMm, table: Pfn, lv: number, addr: number, end: number, floor: number, ceiling: number): void {
    const div = this.divs[lv]
    const size = this.size
    const pm = this.deps.physmem
    let l = addr
    // Entries outside the frame's non-zero extent are none, so nothing to free there: start at
    // its first entry and stop past its last (this loop only ever clears entries).
    const first = Math.floor(pm.nonzero_start(table) / size)
    const stop = Math.ceil(pm.nonzero_end(table) / size)
    const idx0 = pt_index(l, div, this.nents[lv])
    if (idx0 < first) l = (Math.floor(l / div) + first - idx0) * div
    while (l < end) {
      const next_b = (Math.floor(l / div) + 1) * div
      const next = next_b < end ? next_b : end
      const idx = pt_index(l, div, this.nents[lv])
      if (idx >= stop) break
      const entryp = table * PAGE_SIZE + idx * size
      const e = this.ptep_get(entryp)
      // A user mm never frees the kernel tables its pgd shares with swapper_pg_dir.
      const shared = lv === 0 && mm !== this.init_mm && idx >= this.KERNEL_PGD_BOUNDARY
      if ((e & _PAGE_PRESENT) !== 0 && !this.leaf_huge(lv, e) && !shared) {
        const child = pte_pfn(e)
        if (lv + 1 === this.levels - 1) {
          // free_pte_range(): the pte table always goes.
          if (this.debug_vm) this.assert_table_empty(child, 'free_pte_range')
          this.set_entry(entryp, 0)
          this.table_free(child, 'free_pte_range')
          mm.pgtables_bytes -= PAGE_SIZE
        } else {
          this.free_level(mm, child, lv + 1, l, next, floor, ceiling)
          // free_pmd_range()/free_pud_range() tail: the child table spans one entry of this level.
          const start = Math.floor(l / div) * div
          let ok = start >= floor
          if (ok && ceiling !== 0) {
            const c = Math.floor(ceiling / div) * div
            ok = c !== 0 && !(next - 1 > c - 1)
          }
          if (ok && !(this.pae && lv === 0 && mm === this.init_mm)) {
            if (this.debug_vm) this.assert_table_empty(child, 'free_pgd_range')
            this.set_entry(entryp, 0)
            this.table_free(child, 'free_pgd_range')
            mm.pgtables_bytes -= PAGE_SIZE
          }
        }
      }
      l = next
    }
  }
}
