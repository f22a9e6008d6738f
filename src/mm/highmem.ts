/**
 * HIGHMEM mappings (Kernel: mm/highmem.c kmap_high(), map_new_virtual(),
 * flush_all_zero_pkmaps(), kunmap_high(), __kmap_local_pfn_prot(),
 * kunmap_local_indexed(), page_address(); include/linux/highmem-internal.h
 * kmap(), kunmap(), kmap_local_page(), kunmap_local(), kmap_atomic(),
 * kunmap_atomic(); arch/x86/mm/init_32.c permanent_kmaps_init()).
 *
 * On i386 / i386-pae a page above lowmem (PageHighMem) has no permanent
 * kernel address. kmap() borrows one of LAST_PKMAP slots at PKMAP_BASE:
 * pkmap_count[i] is 0 (free, pte clear), 1 (unused but pte still set: the
 * TLB may hold it until the next flush_all_zero_pkmaps(), which runs when
 * last_pkmap_nr wraps to 0) or 1 + the number of kmap() users. page_address()
 * of a kmapped HIGHMEM page is its pkmap address (page_address_htable).
 * kmap_local_page()/kmap_atomic() use KM_MAX_IDX fixmap slots per CPU as a
 * stack: each map pushes, each unmap must pop the top slot.
 *
 * Simulator choices: Linux sleeps in kmap() when every slot is held; a
 * single-threaded simulation would never wake up, so that is a KernelBug
 * ("kmap_high: all LAST_PKMAP entries in use"). Unmapping a kmap_local slot
 * that is not the top of the stack WARNs as Linux does and is refused (Linux
 * goes on and corrupts the stack); unmapping with the stack empty is Linux's
 * BUG_ON, reported, and does nothing. The kmap_local stack is per CPU (Linux keeps it per task and
 * saves it across context switches; there are no tasks here yet).
 * On x86_64 (no HIGHMEM) every function returns/ignores the direct-map address.
 *
 * Invariants (check()): pkmap_count/ptes/page_address_htable agree; each
 * CPU's kmap_local slots below its index are mapped and the rest are clear.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { __fix_to_virt, KM_MAX_IDX, type KernelLayout } from '../arch/pgtable_areas.js'
import { PAGE_KERNEL, arch_filter_pgprot, pfn_pte, pte_pfn, type PgProt } from '../arch/pte.js'
import { KernelBug } from '../include/bug.js'
import type { Pfn } from './page.js'
import type { PageAllocator } from './page_alloc.js'
import type { PgTables } from './pgtable.js'


interface KmapCtrl {
  /** Kernel: current->kmap_ctrl.idx. */
  idx: number
  /** Kernel: current->kmap_ctrl.pteval[]. */
  pteval: number[]
  /** kmap_atomic() nesting: preempt/pagefault disabled. */
  atomic: number
}

export interface HighmemDeps {
  readonly page_alloc: PageAllocator
  readonly pgtables: PgTables
  readonly layout: KernelLayout
  readonly nr_cpus: number
}

export class Highmem {
  /** Whether the profile has HIGHMEM (i386, i386-pae). */
  readonly enabled: boolean
  readonly LAST_PKMAP: number
  readonly PKMAP_BASE: number
  /** Kernel: pkmap_count[]. */
  readonly pkmap_count: Int32Array
  /** Kernel: last_pkmap_nr. */
  last_pkmap_nr = 0
  /** Kernel: page_address_htable: kmapped HIGHMEM page -> pkmap address. */
  readonly page_address_htable = new Map<Pfn, number>()
  /** flush_all_zero_pkmaps() calls that cleared something (TLB flushes of the pkmap range). */
  nr_pkmap_flushes = 0
  private readonly kmap_ctrl: KmapCtrl[] = []
  private readonly d: HighmemDeps
  private readonly prot: PgProt
  /** ptep of pkmap slot 0 (the slots are consecutive entries of one table). */
  private pkmap_page_table = 0

  constructor(deps: HighmemDeps) {
    this.d = deps
    const arch = deps.page_alloc.arch
    this.enabled = arch.zones.ZONE_HIGHMEM >= 0
    this.LAST_PKMAP = deps.layout.LAST_PKMAP
    this.PKMAP_BASE = deps.layout.PKMAP_BASE
    this.pkmap_count = new Int32Array(this.LAST_PKMAP)
    this.prot = arch_filter_pgprot(arch, PAGE_KERNEL) // kmap_prot
    for (let cpu = 0; cpu < deps.nr_cpus; cpu++) this.kmap_ctrl.push({ idx: 0, pteval: new Array<number>(KM_MAX_IDX).fill(0), atomic: 0 })
    if (!this.enabled) return
    if (deps.nr_cpus > deps.layout.NR_CPUS) throw new KernelBug(`kmap_init: ${deps.nr_cpus} CPUs but the fixmap has kmap slots for NR_CPUS=${deps.layout.NR_CPUS}`)
    const pt = deps.pgtables
    // permanent_kmaps_init(): one pte table covers the whole pkmap area (PMD aligned, PMD sized).
    this.pkmap_page_table = pt.early_pte_alloc(this.PKMAP_BASE)
    if (this.pkmap_page_table === 0) throw new KernelBug('permanent_kmaps_init: no memory for the pkmap page table')
    for (let i = 0; i < this.LAST_PKMAP; i++) {
      if (pt.walk(pt.init_mm, this.PKMAP_ADDR(i)) !== this.pkmap_page_table + i * pt.arch.pte_size) {
        throw new KernelBug('permanent_kmaps_init: pkmap area is not one page table')
      }
    }
    // kmap_local fixmap slots (early_ioremap/fixrange_init made their tables at boot).
    for (let idx = 0; idx < KM_MAX_IDX * deps.nr_cpus; idx++) {
      if (pt.early_pte_alloc(this.slot_addr(idx)) === 0) throw new KernelBug('kmap_init: no memory for the fixmap page table')
    }
    deps.page_alloc.highmem_page_address = (pfn) => this.page_address_htable.get(pfn) ?? 0
  }

  /** Kernel: PKMAP_ADDR(). */
  PKMAP_ADDR(nr: number): number {
    return this.PKMAP_BASE + nr * PAGE_SIZE
  }
  /** Kernel: PKMAP_NR(). */
  PKMAP_NR(vaddr: number): number {
    return Math.floor((vaddr - this.PKMAP_BASE) / PAGE_SIZE)
  }
  /** Kernel: PageHighMem(). */
  PageHighMem(pfn: Pfn): boolean {
    return this.enabled && pfn >= this.d.page_alloc.max_low_pfn
  }
  /** Kernel: page_address(): direct map, pkmap address, or 0. */
  page_address(pfn: Pfn): number {
    return this.d.page_alloc.page_address(pfn)
  }
  private slot_addr(idx: number): number {
    return __fix_to_virt(this.d.layout, this.d.layout.FIX_KMAP_BEGIN + idx)
  }
  private pkmap_ptep(nr: number): number {
    return this.pkmap_page_table + nr * this.d.pgtables.arch.pte_size
  }

  /** Kernel: kmap(): a kernel address for the page; may "sleep" (see the top). */
  kmap(pfn: Pfn): number {
    if (!this.PageHighMem(pfn)) return this.page_address(pfn)
    return this.kmap_high(pfn)
  }

  /** Kernel: kunmap(). */
  kunmap(pfn: Pfn): void {
    if (!this.PageHighMem(pfn)) return
    this.kunmap_high(pfn)
  }

  /** Kernel: kmap_high(). */
  private kmap_high(pfn: Pfn): number {
    let vaddr = this.page_address_htable.get(pfn) ?? 0
    if (vaddr === 0) vaddr = this.map_new_virtual(pfn)
    const nr = this.PKMAP_NR(vaddr)
    this.pkmap_count[nr]++
    if (this.pkmap_count[nr] < 2) throw new KernelBug(`kmap_high: pkmap_count[${nr}] is ${this.pkmap_count[nr]} after kmap`)
    return vaddr
  }

  /** Kernel: map_new_virtual(). */
  private map_new_virtual(pfn: Pfn): number {
    let count = this.LAST_PKMAP
    for (;;) {
      this.last_pkmap_nr = (this.last_pkmap_nr + 1) % this.LAST_PKMAP
      if (this.last_pkmap_nr === 0) {
        this.flush_all_zero_pkmaps()
        count = this.LAST_PKMAP
      }
      if (this.pkmap_count[this.last_pkmap_nr] === 0) break
      if (--count) continue
      throw new KernelBug(`kmap_high: all ${this.LAST_PKMAP} LAST_PKMAP entries in use; Linux would sleep until a kunmap() that cannot come`)
    }
    const nr = this.last_pkmap_nr
    const vaddr = this.PKMAP_ADDR(nr)
    const pt = this.d.pgtables
    pt.set_pte_at(pt.init_mm, vaddr, this.pkmap_ptep(nr), pfn_pte(pfn, this.prot))
    this.pkmap_count[nr] = 1
    this.page_address_htable.set(pfn, vaddr)
    return vaddr
  }

  /** Kernel: flush_all_zero_pkmaps(): clear every slot whose count is 1 (no users left). */
  flush_all_zero_pkmaps(): void {
    const pt = this.d.pgtables
    let need_flush = false
    for (let i = 0; i < this.LAST_PKMAP; i++) {
      if (this.pkmap_count[i] !== 1) continue
      this.pkmap_count[i] = 0
      const pte = pt.ptep_get(this.pkmap_ptep(i))
      if (pte === 0) throw new KernelBug(`flush_all_zero_pkmaps: pkmap slot ${i} has no pte`)
      pt.pte_clear(pt.init_mm, this.PKMAP_ADDR(i), this.pkmap_ptep(i))
      this.page_address_htable.delete(pte_pfn(pte))
      need_flush = true
    }
    if (need_flush) {
      this.nr_pkmap_flushes++
      pt.flush_kernel(this.PKMAP_ADDR(0), this.PKMAP_ADDR(this.LAST_PKMAP))
    }
  }

  /** Kernel: kunmap_high(). */
  private kunmap_high(pfn: Pfn): void {
    const vaddr = this.page_address_htable.get(pfn) ?? 0
    if (vaddr === 0) throw new KernelBug(`kunmap_high: page 0x${pfn.toString(16)} is not kmapped`)
    const nr = this.PKMAP_NR(vaddr)
    // Linux: switch (--pkmap_count[nr]) { case 0: BUG(); } (checked before the decrement here, so the state stays sane)
    if (this.pkmap_count[nr] <= 1) throw new KernelBug(`kunmap_high: pkmap_count[${nr}] would drop to 0 (unbalanced kunmap)`)
    this.pkmap_count[nr]--
  }

  private ctrl(): KmapCtrl {
    const cpu = this.d.page_alloc.cpu
    const c = this.kmap_ctrl[cpu]
    if (c === undefined) throw new KernelBug(`kmap_local: no CPU ${cpu}`)
    return c
  }

  /** Kernel: kmap_local_page(): a CPU-local mapping; unmap in reverse order with kunmap_local(). */
  kmap_local_page(pfn: Pfn): number {
    if (!this.PageHighMem(pfn)) return this.page_address(pfn)
    return this.__kmap_local_pfn_prot(pfn, this.prot)
  }

  /** Kernel: __kmap_local_pfn_prot(). */
  private __kmap_local_pfn_prot(pfn: Pfn, prot: PgProt): number {
    const c = this.ctrl()
    // kmap_local_idx_push()
    c.idx++
    if (c.idx >= KM_MAX_IDX + 1) {
      c.idx--
      throw new KernelBug(`kmap_local_idx_push: more than KM_MAX_IDX (${KM_MAX_IDX}) nested kmap_local mappings`)
    }
    const idx = c.idx - 1 + KM_MAX_IDX * this.d.page_alloc.cpu
    const vaddr = this.slot_addr(idx)
    const pt = this.d.pgtables
    const ptep = pt.walk(pt.init_mm, vaddr)
    if (ptep === 0 || pt.ptep_get(ptep) !== 0) throw new KernelBug(`__kmap_local_pfn_prot: fixmap slot ${idx} is not free`)
    const pteval = pfn_pte(pfn, prot)
    pt.set_pte_at(pt.init_mm, vaddr, ptep, pteval)
    c.pteval[c.idx - 1] = pteval
    return vaddr
  }

  /** Kernel: kunmap_local() / kunmap_local_indexed(). */
  kunmap_local(vaddr: number): void {
    const addr = Math.floor(vaddr / PAGE_SIZE) * PAGE_SIZE
    if (!this.enabled) return
    const lay = this.d.layout
    if (addr < __fix_to_virt(lay, lay.FIX_KMAP_END) || addr > __fix_to_virt(lay, lay.FIX_KMAP_BEGIN)) {
      // A lowmem page_address() had nothing mapped; a user-space address is WARN_ON_ONCE().
      if (addr < this.d.page_alloc.arch.PAGE_OFFSET) this.warn_once('kunmap_local_indexed')
      return
    }
    const c = this.ctrl()
    const cpu = this.d.page_alloc.cpu
    const idx = c.idx - 1 + KM_MAX_IDX * cpu
    if (c.idx === 0) {
      // kmap_local_idx_pop(): BUG_ON(current->kmap_ctrl.idx < 0). The oops is reported and the
      // unmap does nothing, so the machine goes on.
      this.bug('kunmap_local_indexed')
      return
    }
    if (addr !== this.slot_addr(idx)) {
      // WARN_ON_ONCE(addr != __fix_to_virt(FIX_KMAP_BEGIN + idx)); Linux then clears the wrong
      // slot and pops the stack. Here the unmap is refused: the stack stays as it was.
      this.warn_once('kunmap_local_indexed')
      return
    }
    const pt = this.d.pgtables
    pt.pte_clear(pt.init_mm, addr, pt.walk(pt.init_mm, addr))
    pt.flush_kernel(addr, addr + PAGE_SIZE) // arch_kmap_local_post_unmap(): flush_tlb_one_kernel()
    c.pteval[c.idx - 1] = 0
    c.idx--
  }

  private readonly warned = new Set<string>()
  /** Kernel: WARN_ON_ONCE() in mm/highmem.c: the banner, once per site. */
  private warn_once(func: string): void {
    if (this.warned.has(func)) return
    this.warned.add(func)
    const pa = this.d.page_alloc
    pa.printk.printk(4, '------------[ cut here ]------------')
    pa.printk.printk(4, `WARNING: CPU: ${pa.cpu} PID: ${pa.pid} at mm/highmem.c ${func}`)
    pa.printk.printk(4, `CPU: ${pa.cpu} UID: 0 PID: ${pa.pid} Comm: ${pa.comm}`)
    pa.printk.printk(4, '---[ end trace 0000000000000000 ]---')
  }
  /** Kernel: BUG_ON() in mm/highmem.c: "kernel BUG at" and the oops banner. */
  private bug(func: string): void {
    const pa = this.d.page_alloc
    pa.printk.printk(0, '------------[ cut here ]------------')
    pa.printk.printk(0, 'kernel BUG at mm/highmem.c!')
    pa.printk.printk(0, 'Oops: invalid opcode: 0000 [#1] SMP')
    pa.printk.printk(0, `CPU: ${pa.cpu} UID: 0 PID: ${pa.pid} Comm: ${pa.comm}`)
    pa.printk.printk(0, `EIP: ${func}`)
    pa.printk.printk(0, '---[ end trace 0000000000000000 ]---')
  }

  /** Kernel: kmap_atomic(): preemption and page faults off, then a kmap_local mapping. */
  kmap_atomic(pfn: Pfn): number {
    this.ctrl().atomic++ // preempt_disable(); pagefault_disable()
    return this.kmap_local_page(pfn)
  }

  /** Kernel: kunmap_atomic(). */
  kunmap_atomic(vaddr: number): void {
    const c = this.ctrl()
    if (c.atomic === 0) throw new KernelBug('kunmap_atomic: no kmap_atomic() to undo (preempt count underflow)')
    this.kunmap_local(vaddr)
    c.atomic-- // pagefault_enable(); preempt_enable()
  }

  /** Kernel: in_atomic()-ish: kmap_atomic sections open on the current CPU. */
  in_kmap_atomic(): number {
    return this.ctrl().atomic
  }

  /** kmap_local mappings open on the current CPU (current->kmap_ctrl.idx). */
  kmap_local_depth(): number {
    return this.ctrl().idx
  }

  /** DEBUG_VM check of the invariants at the top of the file. */
  check(): void {
    if (!this.enabled) return
    const pt = this.d.pgtables
    let mapped = 0
    for (let i = 0; i < this.LAST_PKMAP; i++) {
      const pte = pt.ptep_get(this.pkmap_ptep(i))
      const n = this.pkmap_count[i]
      if (n < 0) throw new KernelBug(`highmem check: pkmap_count[${i}] = ${n}`)
      if (n === 0) {
        if (pte !== 0) throw new KernelBug(`highmem check: free pkmap slot ${i} still has a pte`)
        continue
      }
      if (pte === 0) throw new KernelBug(`highmem check: pkmap slot ${i} in use without a pte`)
      mapped++
      if (this.page_address_htable.get(pte_pfn(pte)) !== this.PKMAP_ADDR(i)) {
        throw new KernelBug(`highmem check: page_address of pfn 0x${pte_pfn(pte).toString(16)} is not its pkmap slot ${i}`)
      }
    }
    if (mapped !== this.page_address_htable.size) throw new KernelBug('highmem check: page_address_htable has stale entries')
    for (let cpu = 0; cpu < this.kmap_ctrl.length; cpu++) {
      const c = this.kmap_ctrl[cpu]
      for (let i = 0; i < KM_MAX_IDX; i++) {
        const a = this.slot_addr(i + KM_MAX_IDX * cpu)
        const pte = pt.ptep_get(pt.walk(pt.init_mm, a))
        if (i < c.idx ? pte !== c.pteval[i] : pte !== 0) throw new KernelBug(`highmem check: kmap_local slot ${i} of CPU ${cpu} disagrees with its stack`)
      }
    }
  }
}
