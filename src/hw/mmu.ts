/**
 * The MMU of each CPU: CR3 (the page directory's frame and the PCID it was
 * loaded with), the TLB (src/hw/tlb.ts) and the hardware page walk (Intel
 * SDM vol. 3 ch. 4). Only the hardware: when to switch CR3 and what to
 * flush is the kernel's policy, src/arch/x86/tlb.ts.
 *
 * Translation: a user access on the executing CPU (`this_cpu`) looks its
 * page up in that CPU's TLB under the PCID in CR3. A miss walks the page
 * tables *in the frames* from CR3, in the profile's entry format (x86_64 4
 * levels, i386 2, i386-pae 3), sets Accessed in every entry it uses and
 * Dirty in the leaf on a store, as the hardware does, and fills the TLB.
 * Not-present entries and permission failures are not cached: the access
 * faults (-1). A hit whose cached permissions refuse the access also faults
 * and drops the entry (a #PF invalidates the translation) — which is what
 * makes a missing TLB flush observable: after mprotect(PROT_READ) without a
 * flush a store would still hit the old writable entry and succeed.
 *
 * check_coherent(cpu) is the hardware half of the DEBUG_VM check: under the
 * PCID in CR3, no TLB or paging-structure-cache entry gives a translation
 * the page tables no longer give (other frame, none, more permission, a
 * freed table). The policy calls it for CPUs that should be up to date.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { ArchProfile } from '../arch/profile.js'
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_GLOBAL,
  _PAGE_NX,
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_USER,
  pte_layout,
  pte_pfn,
  read_entry,
  type PteLayout,
} from '../arch/pte.js'
import type { PhysMem } from './physmem.js'
import { Tlb, TLB_D, TLB_G, TLB_U, TLB_W, TLB_X } from './tlb.js'
import { KernelBug } from '../include/bug.js'
import { mod_pow2, pt_index } from '../include/wide.js'

/** One CPU's MMU: CR3 and the TLB. */
export class CpuTlbState {
  /** The PCID field of CR3 (the ASID slot of the loaded address space; 0 without PCID). */
  loaded_mm_asid = 0
  /** CR3's page-directory frame. */
  cr3: number
  /** Page walks this CPU's MMU did, and the page-table entries they read (for effective access time). */
  walks = 0
  walk_reads = 0
  constructor(
    readonly cpu: number,
    readonly tlb: Tlb,
    init_pgd: number,
  ) {
    this.cr3 = init_pgd
  }
}

export interface MmuOptions {
  readonly arch: ArchProfile
  readonly physmem: PhysMem
  readonly cpus: number
  /** swapper_pg_dir's frame (CR3 of a CPU with no user mm). */
  readonly init_pgd: number
  /** TLB entries per CPU (default 64). */
  readonly tlb_entries?: number
  /** TLB associativity (default 4). */
  readonly tlb_ways?: number
}

/** Access kinds of translate(). */
export const ACC_READ = 0
export const ACC_WRITE = 1
export const ACC_EXEC = 2

export class Mmu {
  readonly arch: ArchProfile
  readonly physmem: PhysMem
  readonly cpus: CpuTlbState[]
  readonly init_pgd: number
  /** The CPU executing now (smp_processor_id() of the running code). */
  this_cpu = 0
  private readonly layout: PteLayout
  private readonly levels: number
  private readonly size: number
  /** Pages spanned by one entry at each present level. */
  private readonly span: number[]
  private readonly nents: readonly number[]
  private readonly pae: boolean
  private readonly user_vpn_limit: number
  /** Pages one pte table maps (the paging-structure cache's region). */
  private readonly ptes_per_table: number

  constructor(o: MmuOptions) {
    this.arch = o.arch
    this.physmem = o.physmem
    this.init_pgd = o.init_pgd
    this.layout = pte_layout(o.arch)
    this.levels = o.arch.levels
    this.size = o.arch.pte_size
    this.span = o.arch.level_shifts.map((s) => 2 ** (s - 12))
    this.nents = o.arch.level_entries
    this.pae = o.arch.name === 'i386-pae'
    this.user_vpn_limit = Math.ceil(o.arch.TASK_SIZE / PAGE_SIZE)
    this.ptes_per_table = o.arch.level_entries[o.arch.levels - 1]
    this.cpus = []
    for (let c = 0; c < o.cpus; c++) {
      this.cpus.push(new CpuTlbState(c, new Tlb({ entries: o.tlb_entries ?? 64, ways: o.tlb_ways ?? 4 }), o.init_pgd))
    }
  }

  /** A write to CR3 on `cpu`: the page directory `pgd` under PCID `pcid` (the TLB keeps its entries). */
  load_cr3(cpu: number, pgd: number, pcid: number): void {
    const s = this.cpus[cpu]
    s.cr3 = pgd
    s.loaded_mm_asid = pcid
  }

  // ------------------------------------------------------------ translation

  /**
   * A user-mode access to virtual page `vpn` on the executing CPU: the PFN,
   * or -1 when the access faults (#PF). `acc` is ACC_READ, ACC_WRITE or ACC_EXEC.
   */
  translate(vpn: number, acc: number): number {
    const s = this.cpus[this.this_cpu]
    const tlb = s.tlb
    const slot = tlb.lookup(s.loaded_mm_asid, vpn)
    if (slot >= 0) {
      const p = tlb.perm[slot]
      if (acc === ACC_READ) {
        if (p & TLB_U) return tlb.pfn[slot]
      } else if (acc === ACC_WRITE) {
        if ((p & (TLB_U | TLB_W | TLB_D)) === (TLB_U | TLB_W | TLB_D)) return tlb.pfn[slot]
        // Writable but Dirty not yet set: the CPU walks to set it.
        if ((p & (TLB_U | TLB_W)) === (TLB_U | TLB_W)) return this.walk(s, s.cr3, vpn, acc, true)
      } else if ((p & (TLB_U | TLB_X)) === (TLB_U | TLB_X)) {
        return tlb.pfn[slot]
      }
      // #PF on a cached translation: the fault invalidates it.
      tlb.invalidate_slot(slot)
      return -1
    }
    return this.walk(s, s.cr3, vpn, acc, true)
  }

  /**
   * The hardware page walk from `cr3` for `vpn` (a user access; `fill`: put
   * the result in `s`'s TLB). Sets A on every entry used and D on the leaf
   * for a store. Returns the PFN or -1 (not present or not permitted).
   */
  walk(s: CpuTlbState | null, cr3: number, vpn: number, acc: number, fill: boolean): number {
    if (vpn < 0 || vpn >= this.user_vpn_limit) return -1
    const pm = this.physmem
    const size = this.size
    const wide = size === 8
    const last = this.levels - 1
    let table = cr3
    let w = true
    let u = true
    let x = true
    let lv = 0
    // The paging-structure cache may hold the pte table of this region: start there.
    const region = Math.floor(vpn / this.ptes_per_table)
    if (s) {
      s.walks++
      const tlb = s.tlb
      const slot = tlb.pde_lookup(s.loaded_mm_asid, region)
      if (slot >= 0) {
        table = tlb.pde_table[slot]
        const p = tlb.pde_perm[slot]
        w = (p & TLB_W) !== 0
        u = (p & TLB_U) !== 0
        x = (p & TLB_X) !== 0
        lv = last
      }
    }
    for (; lv < this.levels; lv++) {
      const span = this.span[lv]
      const off = pt_index(vpn, span, this.nents[lv]) * size
      if (s) s.walk_reads++
      // The entry's low and high words, little endian; every flag the walk needs is in `lo`
      // (NX is bit 31 of `hi`). A not-present entry is not decoded further (swap, marker, PROTNONE).
      const lo = pm.read_u32(table, off)
      if ((lo & _PAGE_PRESENT) === 0) return -1
      const hi = wide ? pm.read_u32(table, off + 4) : 0
      const pdpte = this.pae && lv === 0 // PAE PDPTEs carry no RW/US/NX/A
      const leaf = lv === last || (lv > 0 && (lo & _PAGE_PSE) !== 0)
      if (!pdpte) {
        if ((lo & _PAGE_RW) === 0) w = false
        if ((lo & _PAGE_USER) === 0) u = false
        if (hi >= 0x80000000) x = false
        if (!leaf && (lo & _PAGE_ACCESSED) === 0) pm.or_u8(table, off, _PAGE_ACCESSED) // A is in byte 0
      }
      const pfn_field = (hi & 0xfffff) * 2 ** 20 + (lo >>> 12)
      if (!leaf) {
        table = pfn_field
        if (lv === last - 1 && s) s.tlb.pde_insert(s.loaded_mm_asid, region, table, (w ? TLB_W : 0) | (u ? TLB_U : 0) | (x ? TLB_X : 0))
        continue
      }
      if (!u) return -1
      if (acc === ACC_WRITE && !w) return -1
      if (acc === ACC_EXEC && !x) return -1
      const want = acc === ACC_WRITE ? _PAGE_ACCESSED | _PAGE_DIRTY : _PAGE_ACCESSED
      if ((lo & want) !== want) pm.or_u8(table, off, want) // A and D are in byte 0
      const pfn = lv === last ? pfn_field : pfn_field - mod_pow2(pfn_field, span) + mod_pow2(vpn, span)
      if (fill && s) {
        let perm = TLB_U
        if (w) perm |= TLB_W
        if (x) perm |= TLB_X
        if ((lo | want) & _PAGE_DIRTY) perm |= TLB_D
        if (lo & _PAGE_GLOBAL) perm |= TLB_G
        s.tlb.insert(s.loaded_mm_asid, vpn, pfn, perm)
      }
      return pfn
    }
    throw new KernelBug('mmu walk: ran past the last level')
  }

  /**
   * The textbook effective access time of `cpu`'s accesses so far, in ns:
   * every access looks up the TLB (tlb_ns) and reads memory once (mem_ns);
   * each page-table entry a walk read costs another mem_ns (the
   * paging-structure cache shortens walks). NaN before any access.
   */
  effective_access_ns(cpu: number, tlb_ns = 1, mem_ns = 100): number {
    const s = this.cpus[cpu]
    const accesses = s.tlb.hits + s.tlb.misses
    return (accesses * (tlb_ns + mem_ns) + s.walk_reads * mem_ns) / accesses
  }

  /**
   * DEBUG_VM, the hardware half: `cpu` caches, under the PCID in its CR3, no
   * translation the page tables no longer give (another frame, none at all,
   * or more permission: writable or user where the tables now refuse it) and
   * no pte table the tables no longer reach. The policy (src/arch/x86/tlb.ts)
   * calls it for each CPU that is up to date with its loaded mm; such an
   * entry there is a missing flush.
   */
  check_coherent(cpu: number): void {
    const s = this.cpus[cpu]
    const t = s.tlb
    for (let i = 0; i < t.pde_entries; i++) {
      if (t.pde_region[i] === -1 || t.pde_pcid[i] !== s.loaded_mm_asid) continue
      // The pte table the region's walk reaches (under a large page: that page's entry).
      const up = this.peek_pte_table(s.cr3, t.pde_region[i] * this.ptes_per_table)
      const e = up <= -2 ? -2 - up : up
      if (e < 0 || Math.floor(e / 4) !== t.pde_table[i] || (t.pde_perm[i] & TLB_W && !(e & 2)) || (t.pde_perm[i] & TLB_U && !(e & 1))) {
        throw new KernelBug(
          `mmu: cpu ${s.cpu}'s paging-structure cache maps region 0x${t.pde_region[i].toString(16)} to pte table 0x${t.pde_table[i].toString(16)}, ` +
            `the page tables say ${e < 0 ? 'none' : '0x' + Math.floor(e / 4).toString(16)} (missing TLB flush after freeing page tables)`,
        )
      }
    }
    // Most cached translations share a few pte tables: the walk above the last level once per table's region.
    const ptes = this.ptes_per_table
    const regions = new Map<number, number>()
    for (let i = 0; i < t.nr_entries; i++) {
      if (t.tag_vpn[i] === -1 || t.tag_pcid[i] !== s.loaded_mm_asid) continue
      const vpn = t.tag_vpn[i]
      let e = -1
      if (vpn < this.user_vpn_limit) {
        const region = Math.floor(vpn / ptes)
        let up = regions.get(region)
        if (up === undefined) regions.set(region, (up = this.peek_pte_table(s.cr3, vpn)))
        e = up <= -2 ? this.peek_entry(s.cr3, vpn) : this.peek_leaf(up, vpn)
      }
      const pfn = e < 0 ? -1 : Math.floor(e / 4)
      const stale = pfn !== t.pfn[i] || (t.perm[i] & TLB_W && !(e & 2)) || (t.perm[i] & TLB_U && !(e & 1))
      if (stale) {
        throw new KernelBug(
          `mmu: cpu ${s.cpu} caches vpn 0x${vpn.toString(16)} -> pfn 0x${t.pfn[i].toString(16)}${t.perm[i] & TLB_W ? ' writable' : ''}, ` +
            `the page tables say ${pfn < 0 ? 'none' : '0x' + pfn.toString(16) + (e & 2 ? ' writable' : ' read-only')} (missing TLB flush)`,
        )
      }
    }
  }

  /**
   * pfn * 4 + (writable ? 2 : 0) + (user ? 1 : 0) of what the tables map at
   * vpn, or -1; A/D untouched.
   */
  private peek_entry(cr3: number, vpn: number): number {
    const up = this.peek_pte_table(cr3, vpn)
    return up <= -2 ? -2 - up : this.peek_leaf(up, vpn)
  }

  /**
   * The walk above the last level: the pte table holding vpn's entry as
   * table * 4 + w + u (the permissions above it), -1 when nothing is mapped
   * there, or -2 - peek_entry(vpn) when a large page ends the walk early.
   */
  private peek_pte_table(cr3: number, vpn: number): number {
    if (vpn < 0 || vpn >= this.user_vpn_limit) return -1
    let table = cr3
    let w = 2
    let u = 1
    for (let lv = 0; lv < this.levels - 1; lv++) {
      const span = this.span[lv]
      const e = read_entry(this.physmem.peek_buf(table), this.physmem.peek_off(table) + pt_index(vpn, span, this.nents[lv]) * this.size, this.layout)
      if ((e & _PAGE_PRESENT) === 0) return -1
      if (!(this.pae && lv === 0)) {
        if (!(e & _PAGE_RW)) w = 0
        if (!(e & _PAGE_USER)) u = 0
      }
      if (lv > 0 && (e & _PAGE_PSE) !== 0) return -2 - ((pte_pfn(e) + mod_pow2(vpn, span)) * 4 + w + u)
      table = pte_pfn(e)
    }
    return table * 4 + w + u
  }

  /** peek_entry()'s last step, from peek_pte_table()'s answer. */
  private peek_leaf(up: number, vpn: number): number {
    if (up < 0) return -1
    const table = Math.floor(up / 4)
    const lv = this.levels - 1
    const e = read_entry(this.physmem.peek_buf(table), this.physmem.peek_off(table) + pt_index(vpn, this.span[lv], this.nents[lv]) * this.size, this.layout)
    if ((e & _PAGE_PRESENT) === 0) return -1
    const w = up & 2 && e & _PAGE_RW ? 2 : 0
    const u = up & 1 && e & _PAGE_USER ? 1 : 0
    return pte_pfn(e) * 4 + w + u
  }

  /** What the page tables map at `vpn` from `cr3` for a user access, without touching A/D (-1: nothing). */
  peek_walk(cr3: number, vpn: number): number {
    const e = this.peek_entry(cr3, vpn)
    return e < 0 ? -1 : Math.floor(e / 4)
  }
}
