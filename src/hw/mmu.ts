/**
 * The MMU of each CPU and the x86 TLB-flush protocol around it
 * (Kernel: arch/x86/mm/tlb.c switch_mm_irqs_off(), enter_lazy_tlb(),
 * choose_new_asid(), flush_tlb_mm_range(), native_flush_tlb_multi(),
 * should_flush_tlb(), flush_tlb_func(), flush_tlb_kernel_range();
 * the page walk is the hardware's, Intel SDM vol. 3 ch. 4).
 *
 * Translation: a user access on the executing CPU (`this_cpu`) looks its
 * page up in that CPU's TLB (src/hw/tlb.ts) under the PCID of the loaded mm.
 * A miss walks the page tables *in the frames* from CR3 (the pgd frame of
 * the loaded mm), in the profile's entry format (x86_64 4 levels, i386 2,
 * i386-pae 3), sets Accessed in every entry it uses and Dirty in the leaf on
 * a store, as the hardware does, and fills the TLB. Not-present entries and
 * permission failures are not cached: the access faults (-1). A hit whose
 * cached permissions refuse the access also faults and drops the entry (a #PF
 * invalidates the translation) — which is what makes a missing TLB flush
 * observable: after mprotect(PROT_READ) without a flush a store would still
 * hit the old writable entry and succeed.
 *
 * Flushes follow Linux 6.x: every mm has context.ctx_id and context.tlb_gen;
 * each CPU keeps TLB_NR_DYN_ASIDS slots (ctx_id, tlb_gen) and the PCID of the
 * loaded mm; mm_cpumask (`cpu_bitmap`) gains a CPU when it switches to the mm
 * and loses it lazily, when a flush IPI finds the mm no longer loaded there.
 * flush_tlb_mm_range() bumps tlb_gen, then flushes locally or, when another
 * CPU is in the mask, sends the "IPI" to the mask (nr_tlb_remote_flush), each
 * receiver counting nr_tlb_remote_flush_received; CPUs in lazy TLB mode (a
 * kernel thread borrowing the mm) are skipped unless page tables were freed,
 * and catch up by tlb_gen when they switch back. Partial flushes invalidate
 * page by page up to tlb_single_page_flush_ceiling (33) pages, else the whole
 * PCID (nr_tlb_local_flush_one / nr_tlb_local_flush_all on the initiator).
 * The four counters keep /proc/vmstat's names (CONFIG_DEBUG_TLBFLUSH); they
 * live here, not in /proc/vmstat, since the reference kernel does not print them.
 *
 * Invariants (check()): a CPU's loaded mm has that CPU in its cpumask
 * (init_mm excepted); the loaded ASID slot carries the loaded mm's ctx_id and
 * a tlb_gen no newer than the mm's; a non-lazy CPU that is up to date (slot
 * tlb_gen === mm tlb_gen) caches, under its loaded PCID, no translation the
 * page tables no longer give (other frame, none, more permission) and no pte
 * table its paging-structure cache reaches that the tables no longer reach.
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

/** Kernel: TLB_NR_DYN_ASIDS. */
export const TLB_NR_DYN_ASIDS = 6
/** Kernel: TLB_FLUSH_ALL (as an `end`). */
export const TLB_FLUSH_ALL = -1

/** Kernel: mm_context_t's TLB part (arch/x86/include/asm/mmu.h). */
export interface MmContext {
  /** Unique per mm for the machine's life (0: not yet assigned). */
  ctx_id: number
  /** Bumped by every flush of the mm (inc_mm_tlb_gen()). */
  tlb_gen: number
}

/** What the MMU needs of an mm_struct: its context and mm_cpumask. */
export interface MmuMm {
  readonly context: MmContext
  readonly cpu_bitmap: Set<number>
}

/** The vm_tlb_events Linux keeps (enum vm_event_item, CONFIG_DEBUG_TLBFLUSH). */
export interface TlbEvents {
  nr_tlb_remote_flush: number
  nr_tlb_remote_flush_received: number
  nr_tlb_local_flush_all: number
  nr_tlb_local_flush_one: number
}

function no_events(): TlbEvents {
  return { nr_tlb_remote_flush: 0, nr_tlb_remote_flush_received: 0, nr_tlb_local_flush_all: 0, nr_tlb_local_flush_one: 0 }
}

/** Kernel: struct tlb_state (per CPU) with its TLB. */
export class CpuTlbState {
  /** cpu_tlbstate.loaded_mm (the MMU's init_mm when no user mm is loaded). */
  loaded_mm: MmuMm
  loaded_mm_asid = 0
  /** CR3's page-directory frame. */
  cr3: number
  /** cpu_tlbstate_shared.is_lazy: a kernel thread runs on the borrowed mm. */
  is_lazy = false
  next_asid = 1
  /** cpu_tlbstate.ctxs[]. */
  readonly ctx_id: Float64Array = new Float64Array(TLB_NR_DYN_ASIDS)
  readonly ctx_tlb_gen: Float64Array = new Float64Array(TLB_NR_DYN_ASIDS)
  readonly events: TlbEvents = no_events()
  /** Page walks this CPU's MMU did, and the page-table entries they read (for effective access time). */
  walks = 0
  walk_reads = 0
  constructor(
    readonly cpu: number,
    readonly tlb: Tlb,
    init_mm: MmuMm,
    init_pgd: number,
  ) {
    this.loaded_mm = init_mm
    this.cr3 = init_pgd
    this.ctx_id[0] = init_mm.context.ctx_id
    this.ctx_tlb_gen[0] = init_mm.context.tlb_gen
  }
}

/** Kernel: struct flush_tlb_info. */
interface FlushTlbInfo {
  readonly mm: MmuMm | null
  /** First page and end page (end = -1: TLB_FLUSH_ALL). */
  readonly start_vpn: number
  readonly end_vpn: number
  readonly new_tlb_gen: number
  readonly initiating_cpu: number
  readonly freed_tables: boolean
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
  /** X86_FEATURE_PCID (default true): without it every switch to another mm flushes. */
  readonly pcid?: boolean
}

/** Access kinds of translate(). */
export const ACC_READ = 0
export const ACC_WRITE = 1
export const ACC_EXEC = 2

export class Mmu {
  readonly arch: ArchProfile
  readonly physmem: PhysMem
  readonly cpus: CpuTlbState[]
  readonly pcid: boolean
  /** The MMU's init_mm (kernel-only address space; ctx_id 1). */
  readonly init_mm: MmuMm = { context: { ctx_id: 1, tlb_gen: 1 }, cpu_bitmap: new Set() }
  readonly init_pgd: number
  /** Kernel: tlb_single_page_flush_ceiling (debugfs). */
  tlb_single_page_flush_ceiling = 33
  /** The CPU executing now (smp_processor_id() of the running code). */
  this_cpu = 0
  /** Sum of every CPU's events. */
  readonly events: TlbEvents = no_events()
  private last_mm_ctx_id = 1
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
    this.pcid = o.pcid ?? true
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
      this.cpus.push(new CpuTlbState(c, new Tlb({ entries: o.tlb_entries ?? 64, ways: o.tlb_ways ?? 4 }), this.init_mm, o.init_pgd))
    }
  }

  /** Kernel: init_new_context(): give an mm its ctx_id (done on first use). */
  init_new_context(mm: MmuMm): void {
    if (mm.context.ctx_id === 0) mm.context.ctx_id = ++this.last_mm_ctx_id
  }

  private count(cpu: CpuTlbState, ev: keyof TlbEvents, n = 1): void {
    cpu.events[ev] += n
    this.events[ev] += n
  }

  // ------------------------------------------------------------ context switch

  /**
   * Kernel: choose_new_asid(): the ASID slot for `next` on this CPU and
   * whether it must be flushed first.
   */
  private choose_new_asid(s: CpuTlbState, next: MmuMm, next_tlb_gen: number): [number, boolean] {
    if (!this.pcid) return [0, true]
    for (let asid = 0; asid < TLB_NR_DYN_ASIDS; asid++) {
      if (s.ctx_id[asid] !== next.context.ctx_id) continue
      return [asid, s.ctx_tlb_gen[asid] < next_tlb_gen]
    }
    let asid = s.next_asid++
    if (asid >= TLB_NR_DYN_ASIDS) {
      asid = 0
      s.next_asid = 1
    }
    return [asid, true]
  }

  /**
   * Kernel: switch_mm_irqs_off(): load `next` (null: init_mm) with page
   * directory `pgd` on `cpu`. The CPU joins next's cpumask (the bit of the
   * previous mm is trimmed lazily by a later flush).
   */
  switch_mm(cpu: number, next: MmuMm | null, pgd: number): void {
    const s = this.cpus[cpu]
    const nm = next ?? this.init_mm
    if (nm !== this.init_mm) this.init_new_context(nm)
    const real_prev = s.loaded_mm
    const was_lazy = s.is_lazy
    s.is_lazy = false
    let new_asid: number
    let need_flush: boolean
    const next_tlb_gen = nm.context.tlb_gen
    if (real_prev === nm) {
      if (nm !== this.init_mm) nm.cpu_bitmap.add(cpu)
      if (!was_lazy) return
      // Leaving lazy mode: catch up with flushes skipped meanwhile.
      if (s.ctx_tlb_gen[s.loaded_mm_asid] === next_tlb_gen) return
      new_asid = s.loaded_mm_asid
      need_flush = true
    } else {
      if (nm !== this.init_mm) nm.cpu_bitmap.add(cpu)
      ;[new_asid, need_flush] = this.choose_new_asid(s, nm, next_tlb_gen)
    }
    if (need_flush) {
      s.ctx_id[new_asid] = nm.context.ctx_id
      s.ctx_tlb_gen[new_asid] = next_tlb_gen
      s.tlb.flush_pcid(new_asid) // load_new_mm_cr3(..., need_flush): invalidate_user_asid()
    }
    s.loaded_mm = nm
    s.loaded_mm_asid = new_asid
    s.cr3 = next ? pgd : this.init_pgd
  }

  /** Kernel: enter_lazy_tlb(): a kernel thread runs on `cpu`, keeping the loaded mm. */
  enter_lazy_tlb(cpu: number): void {
    const s = this.cpus[cpu]
    if (s.loaded_mm === this.init_mm) return
    s.is_lazy = true
  }

  /** Kernel: leave_mm(): a lazy CPU drops the borrowed mm for init_mm. */
  leave_mm(cpu: number): void {
    if (this.cpus[cpu].loaded_mm === this.init_mm) return
    this.switch_mm(cpu, null, this.init_pgd)
  }

  /** The mm loaded on `cpu` (null for init_mm) and whether the CPU is lazy. */
  loaded(cpu: number): { mm: MmuMm | null; lazy: boolean; asid: number } {
    const s = this.cpus[cpu]
    return { mm: s.loaded_mm === this.init_mm ? null : s.loaded_mm, lazy: s.is_lazy, asid: s.loaded_mm_asid }
  }

  // ------------------------------------------------------------ flushes

  /**
   * Kernel: flush_tlb_mm_range(): after changing `mm`'s PTEs in
   * [start, end) (end TLB_FLUSH_ALL: everything), make every CPU forget the
   * old translations. `freed_tables`: page-table pages were freed too.
   */
  flush_tlb_mm_range(mm: MmuMm, start: number, end: number, freed_tables = false): void {
    const cpu = this.this_cpu
    if (mm.context.ctx_id === 0) this.init_new_context(mm)
    const new_tlb_gen = ++mm.context.tlb_gen
    let start_vpn = 0
    let end_vpn = TLB_FLUSH_ALL
    if (end !== TLB_FLUSH_ALL) {
      const s = Math.floor(start / PAGE_SIZE)
      const e = Math.ceil(end / PAGE_SIZE)
      if (e - s <= this.tlb_single_page_flush_ceiling) {
        start_vpn = s
        end_vpn = e
      }
    }
    const info: FlushTlbInfo = { mm, start_vpn, end_vpn, new_tlb_gen, initiating_cpu: cpu, freed_tables }
    let other = false
    for (const c of mm.cpu_bitmap) {
      if (c !== cpu) {
        other = true
        break
      }
    }
    if (other) this.flush_tlb_multi([...mm.cpu_bitmap].sort((a, b) => a - b), info)
    else if (this.cpus[cpu].loaded_mm === mm) this.flush_tlb_func(cpu, info)
  }

  /** Kernel: flush_tlb_mm(): the whole mm, page tables possibly freed. */
  flush_tlb_mm(mm: MmuMm): void {
    this.flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, true)
  }

  /** Kernel: flush_tlb_page(). */
  flush_tlb_page(mm: MmuMm, addr: number): void {
    this.flush_tlb_mm_range(mm, addr, addr + PAGE_SIZE)
  }

  /** Kernel: should_flush_tlb(): lazy CPUs catch up at their next switch; CPUs not running the mm need nothing. */
  private should_flush_tlb(c: number, info: FlushTlbInfo): boolean {
    const s = this.cpus[c]
    if (s.is_lazy) return false
    if (!info.mm) return true
    return s.loaded_mm === info.mm
  }

  /** Kernel: native_flush_tlb_multi(): the shootdown IPI to `mask`. */
  private flush_tlb_multi(mask: number[], info: FlushTlbInfo): void {
    this.count(this.cpus[info.initiating_cpu], 'nr_tlb_remote_flush')
    for (const c of mask) {
      if (info.freed_tables || this.should_flush_tlb(c, info)) this.flush_tlb_func(c, info)
    }
  }

  /** Kernel: flush_tlb_func(): run on CPU `c` (the initiator or an IPI receiver). */
  private flush_tlb_func(c: number, f: FlushTlbInfo): void {
    const s = this.cpus[c]
    const local = c === f.initiating_cpu
    if (!local) this.count(s, 'nr_tlb_remote_flush_received')
    const loaded = s.loaded_mm
    if (loaded === this.init_mm) return
    if (f.mm && f.mm !== loaded) {
      // The CPU was left in the mm's cpumask: trim it.
      f.mm.cpu_bitmap.delete(c)
      return
    }
    if (s.is_lazy) {
      // Lazy with freed page tables: switch to init_mm rather than flush.
      this.switch_mm(c, null, this.init_pgd)
      return
    }
    const asid = s.loaded_mm_asid
    const mm_tlb_gen = loaded.context.tlb_gen
    const local_tlb_gen = s.ctx_tlb_gen[asid]
    if (local_tlb_gen === mm_tlb_gen) return
    if (f.end_vpn !== TLB_FLUSH_ALL && f.new_tlb_gen === local_tlb_gen + 1 && f.new_tlb_gen === mm_tlb_gen) {
      for (let v = f.start_vpn; v < f.end_vpn; v++) s.tlb.flush_one(asid, v)
      if (local) this.count(s, 'nr_tlb_local_flush_one', f.end_vpn - f.start_vpn)
    } else {
      s.tlb.flush_pcid(asid)
      if (local) this.count(s, 'nr_tlb_local_flush_all')
    }
    s.ctx_tlb_gen[asid] = mm_tlb_gen
  }

  /**
   * Kernel: flush_tlb_kernel_range(): every CPU drops kernel (global)
   * translations of [start, end) — one by one up to the ceiling, else all
   * (do_flush_tlb_all(), counted as a received flush on each CPU).
   */
  flush_tlb_kernel_range(start: number, end: number): void {
    const lin = (a: number): number => (a < 0 ? a + 2 ** 48 : a)
    const s = Math.floor(lin(start) / PAGE_SIZE)
    const e = Math.ceil(lin(end) / PAGE_SIZE)
    for (const st of this.cpus) {
      if (end === TLB_FLUSH_ALL || e - s > this.tlb_single_page_flush_ceiling) {
        this.count(st, 'nr_tlb_remote_flush_received')
        st.tlb.flush_all()
      } else {
        for (let v = s; v < e; v++) st.tlb.flush_global_one(v)
      }
    }
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
      const b = pm.peek(table)
      // The entry's low and high words, little endian; every flag the walk needs is in `lo`
      // (NX is bit 31 of `hi`). A not-present entry is not decoded further (swap, marker, PROTNONE).
      const lo = (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0
      if ((lo & _PAGE_PRESENT) === 0) return -1
      const hi = wide ? (b[off + 4] | (b[off + 5] << 8) | (b[off + 6] << 16) | (b[off + 7] << 24)) >>> 0 : 0
      const pdpte = this.pae && lv === 0 // PAE PDPTEs carry no RW/US/NX/A
      const leaf = lv === last || (lv > 0 && (lo & _PAGE_PSE) !== 0)
      if (!pdpte) {
        if ((lo & _PAGE_RW) === 0) w = false
        if ((lo & _PAGE_USER) === 0) u = false
        if (hi >= 0x80000000) x = false
        if (!leaf && (lo & _PAGE_ACCESSED) === 0) pm.frame(table)[off] |= _PAGE_ACCESSED // A is in byte 0
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
      if ((lo & want) !== want) pm.frame(table)[off] |= want // A and D are in byte 0
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
   * One CPU's TLB as text, for teaching: the loaded mm's PCID, then each
   * valid entry, e.g. "  set 3 way 1  pcid 1  vpn 0x7f0000001 -> pfn 0x1a2b3  W U X D".
   */
  tlb_text(cpu: number): string {
    const s = this.cpus[cpu]
    const t = s.tlb
    const lines = [
      `cpu ${cpu}: ${s.loaded_mm === this.init_mm ? 'init_mm' : `mm ctx_id ${s.loaded_mm.context.ctx_id}`}${s.is_lazy ? ' (lazy)' : ''}, pcid ${s.loaded_mm_asid}, ` +
        `${t.nr_valid}/${t.nr_entries} entries (${t.sets} sets x ${t.ways} ways), hits ${t.hits}, misses ${t.misses}`,
    ]
    for (let i = 0; i < t.nr_entries; i++) {
      if (t.tag_vpn[i] === -1) continue
      const p = t.perm[i]
      const flags = [p & TLB_W ? 'W' : '', p & TLB_U ? 'U' : '', p & TLB_X ? 'X' : '', p & TLB_D ? 'D' : '', p & TLB_G ? 'G' : ''].filter((f) => f).join(' ')
      const pcid = t.tag_pcid[i] < 0 ? 'global' : `pcid ${t.tag_pcid[i]}`
      lines.push(`  set ${Math.floor(i / t.ways)} way ${i % t.ways}  ${pcid}  vpn 0x${t.tag_vpn[i].toString(16)} -> pfn 0x${t.pfn[i].toString(16)}  ${flags}`)
    }
    return lines.join('\n') + '\n'
  }

  /** TLB hits and misses, walks, entries read by walks and flush events of every CPU. */
  tlb_stats(): { cpu: number; hits: number; misses: number; valid: number; walks: number; walk_reads: number; pde_hits: number; events: TlbEvents }[] {
    return this.cpus.map((s) => ({
      cpu: s.cpu,
      hits: s.tlb.hits,
      misses: s.tlb.misses,
      valid: s.tlb.nr_valid,
      walks: s.walks,
      walk_reads: s.walk_reads,
      pde_hits: s.tlb.pde_hits,
      events: { ...s.events },
    }))
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
   * The invariants at the top of the file (DEBUG_VM). A CPU that is up to
   * date with its loaded mm must not cache a translation the page tables no
   * longer give: another frame, none at all, or more permission (writable or
   * user where the tables now refuse it). Such an entry is a missing flush.
   */
  check(): void {
    for (const s of this.cpus) {
      const mm = s.loaded_mm
      if (mm !== this.init_mm && !mm.cpu_bitmap.has(s.cpu)) throw new KernelBug(`mmu: cpu ${s.cpu} runs an mm that is not in its mm_cpumask`)
      if (s.ctx_id[s.loaded_mm_asid] !== mm.context.ctx_id) throw new KernelBug(`mmu: cpu ${s.cpu}'s loaded ASID ${s.loaded_mm_asid} belongs to another mm`)
      if (s.ctx_tlb_gen[s.loaded_mm_asid] > mm.context.tlb_gen) throw new KernelBug(`mmu: cpu ${s.cpu} is ahead of its mm's tlb_gen`)
      if (s.is_lazy || mm === this.init_mm || s.ctx_tlb_gen[s.loaded_mm_asid] !== mm.context.tlb_gen) continue
      const t = s.tlb
      for (let i = 0; i < t.pde_entries; i++) {
        if (t.pde_region[i] === -1 || t.pde_pcid[i] !== s.loaded_mm_asid) continue
        const e = this.peek_entry(s.cr3, t.pde_region[i] * this.ptes_per_table, this.levels - 1)
        if (e < 0 || Math.floor(e / 4) !== t.pde_table[i] || (t.pde_perm[i] & TLB_W && !(e & 2)) || (t.pde_perm[i] & TLB_U && !(e & 1))) {
          throw new KernelBug(
            `mmu: cpu ${s.cpu}'s paging-structure cache maps region 0x${t.pde_region[i].toString(16)} to pte table 0x${t.pde_table[i].toString(16)}, ` +
              `the page tables say ${e < 0 ? 'none' : '0x' + Math.floor(e / 4).toString(16)} (missing TLB flush after freeing page tables)`,
          )
        }
      }
      for (let i = 0; i < t.nr_entries; i++) {
        if (t.tag_vpn[i] === -1 || t.tag_pcid[i] !== s.loaded_mm_asid) continue
        const vpn = t.tag_vpn[i]
        const e = this.peek_entry(s.cr3, vpn)
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
  }

  /**
   * pfn * 4 + (writable ? 2 : 0) + (user ? 1 : 0) of what the tables map at
   * vpn, or -1; A/D untouched. With `stop` below the last level: the frame of
   * the table reached at level `stop` and the permissions above it.
   */
  private peek_entry(cr3: number, vpn: number, stop = this.levels): number {
    if (vpn < 0 || vpn >= this.user_vpn_limit) return -1
    let table = cr3
    let w = 2
    let u = 1
    for (let lv = 0; lv < this.levels; lv++) {
      if (lv === stop) return table * 4 + w + u
      const span = this.span[lv]
      const e = read_entry(this.physmem.peek(table), pt_index(vpn, span, this.nents[lv]) * this.size, this.layout)
      if ((e & _PAGE_PRESENT) === 0) return -1
      if (!(this.pae && lv === 0)) {
        if (!(e & _PAGE_RW)) w = 0
        if (!(e & _PAGE_USER)) u = 0
      }
      const leaf = lv === this.levels - 1 || (lv > 0 && (e & _PAGE_PSE) !== 0)
      if (leaf) return (pte_pfn(e) + (lv === this.levels - 1 ? 0 : mod_pow2(vpn, span))) * 4 + w + u
      table = pte_pfn(e)
    }
    return -1
  }

  /** What the page tables map at `vpn` from `cr3` for a user access, without touching A/D (-1: nothing). */
  peek_walk(cr3: number, vpn: number): number {
    const e = this.peek_entry(cr3, vpn)
    return e < 0 ? -1 : Math.floor(e / 4)
  }
}
