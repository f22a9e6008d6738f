/**
 * Linux's TLB-flush protocol on x86 (Kernel: arch/x86/mm/tlb.c
 * switch_mm_irqs_off(), enter_lazy_tlb(), choose_new_asid(),
 * flush_tlb_mm_range(), native_flush_tlb_multi(), should_flush_tlb(),
 * flush_tlb_func(), flush_tlb_kernel_range(); arch/x86/include/asm/mmu.h,
 * tlbflush.h): the kernel's side of the TLB, over the hardware of
 * src/hw/mmu.ts (CR3 loads, INVLPG/INVPCID on a CPU's TLB).
 *
 * Every mm has context.ctx_id and context.tlb_gen; each CPU keeps
 * TLB_NR_DYN_ASIDS slots (ctx_id, tlb_gen) and the ASID of the loaded mm
 * (the PCID it loads CR3 with); mm_cpumask (`cpu_bitmap`) gains a CPU when
 * it switches to the mm and loses it lazily, when a flush IPI finds the mm
 * no longer loaded there. flush_tlb_mm_range() bumps tlb_gen, then flushes
 * locally or, when another CPU is in the mask, sends the "IPI" to the mask
 * (nr_tlb_remote_flush), each receiver counting
 * nr_tlb_remote_flush_received; CPUs in lazy TLB mode (a kernel thread
 * borrowing the mm) are skipped unless page tables were freed, and catch up
 * by tlb_gen when they switch back. Partial flushes invalidate page by page
 * up to tlb_single_page_flush_ceiling (33) pages, else the whole PCID
 * (nr_tlb_local_flush_one / nr_tlb_local_flush_all on the initiator). The
 * four counters keep /proc/vmstat's names (CONFIG_DEBUG_TLBFLUSH); they live
 * here, not in /proc/vmstat, since the reference kernel does not print them.
 *
 * Invariants (check()): a CPU's loaded mm has that CPU in its cpumask
 * (init_mm excepted); the loaded ASID slot carries the loaded mm's ctx_id
 * and a tlb_gen no newer than the mm's; a non-lazy CPU that is up to date
 * (slot tlb_gen === mm tlb_gen) caches no stale translation (the hardware
 * check, Mmu.check_coherent()).
 */
import { PAGE_SIZE } from '../../include/page_types.js'
import { KernelBug } from '../../include/bug.js'
import { TLB_D, TLB_G, TLB_U, TLB_W, TLB_X } from '../../hw/tlb.js'
import type { Mmu } from '../../hw/mmu.js'

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

/** What the flush protocol needs of an mm_struct: its context and mm_cpumask. */
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

/** Kernel: struct tlb_state (cpu_tlbstate, per CPU). */
export class TlbState {
  /** cpu_tlbstate.loaded_mm (init_mm when no user mm is loaded). */
  loaded_mm: MmuMm
  loaded_mm_asid = 0
  /** cpu_tlbstate_shared.is_lazy: a kernel thread runs on the borrowed mm. */
  is_lazy = false
  next_asid = 1
  /** cpu_tlbstate.ctxs[]. */
  readonly ctx_id: Float64Array = new Float64Array(TLB_NR_DYN_ASIDS)
  readonly ctx_tlb_gen: Float64Array = new Float64Array(TLB_NR_DYN_ASIDS)
  readonly events: TlbEvents = no_events()
  constructor(
    readonly cpu: number,
    init_mm: MmuMm,
  ) {
    this.loaded_mm = init_mm
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

export class TlbFlush {
  /** cpu_tlbstate of every CPU. */
  readonly state: TlbState[]
  /** init_mm as the protocol sees it (kernel-only address space; ctx_id 1). */
  readonly init_mm: MmuMm = { context: { ctx_id: 1, tlb_gen: 1 }, cpu_bitmap: new Set() }
  /** Kernel: tlb_single_page_flush_ceiling (debugfs). */
  tlb_single_page_flush_ceiling = 33
  /** Sum of every CPU's events. */
  readonly events: TlbEvents = no_events()
  private last_mm_ctx_id = 1

  constructor(
    readonly mmu: Mmu,
    /** X86_FEATURE_PCID: without it every switch to another mm flushes. */
    readonly pcid = true,
  ) {
    this.state = mmu.cpus.map((h) => new TlbState(h.cpu, this.init_mm))
  }

  /** Kernel: init_new_context(): give an mm its ctx_id (done on first use). */
  init_new_context(mm: MmuMm): void {
    if (mm.context.ctx_id === 0) mm.context.ctx_id = ++this.last_mm_ctx_id
  }

  private count(cpu: TlbState, ev: keyof TlbEvents, n = 1): void {
    cpu.events[ev] += n
    this.events[ev] += n
  }

  // ------------------------------------------------------------ context switch

  /**
   * Kernel: choose_new_asid(): the ASID slot for `next` on this CPU and
   * whether it must be flushed first.
   */
  private choose_new_asid(s: TlbState, next: MmuMm, next_tlb_gen: number): [number, boolean] {
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
    const s = this.state[cpu]
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
      this.mmu.cpus[cpu].tlb.flush_pcid(new_asid) // load_new_mm_cr3(..., need_flush): invalidate_user_asid()
    }
    s.loaded_mm = nm
    s.loaded_mm_asid = new_asid
    this.mmu.load_cr3(cpu, next ? pgd : this.mmu.init_pgd, new_asid)
  }

  /** Kernel: enter_lazy_tlb(): a kernel thread runs on `cpu`, keeping the loaded mm. */
  enter_lazy_tlb(cpu: number): void {
    const s = this.state[cpu]
    if (s.loaded_mm === this.init_mm) return
    s.is_lazy = true
  }

  /** Kernel: leave_mm(): a lazy CPU drops the borrowed mm for init_mm. */
  leave_mm(cpu: number): void {
    if (this.state[cpu].loaded_mm === this.init_mm) return
    this.switch_mm(cpu, null, this.mmu.init_pgd)
  }

  /** The mm loaded on `cpu` (null for init_mm) and whether the CPU is lazy. */
  loaded(cpu: number): { mm: MmuMm | null; lazy: boolean; asid: number } {
    const s = this.state[cpu]
    return { mm: s.loaded_mm === this.init_mm ? null : s.loaded_mm, lazy: s.is_lazy, asid: s.loaded_mm_asid }
  }

  // ------------------------------------------------------------ flushes

  /**
   * Kernel: flush_tlb_mm_range(): after changing `mm`'s PTEs in
   * [start, end) (end TLB_FLUSH_ALL: everything), make every CPU forget the
   * old translations. `freed_tables`: page-table pages were freed too.
   */
  flush_tlb_mm_range(mm: MmuMm, start: number, end: number, freed_tables = false): void {
    const cpu = this.mmu.this_cpu
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
    else if (this.state[cpu].loaded_mm === mm) this.flush_tlb_func(cpu, info)
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
    const s = this.state[c]
    if (s.is_lazy) return false
    if (!info.mm) return true
    return s.loaded_mm === info.mm
  }

  /** Kernel: native_flush_tlb_multi(): the shootdown IPI to `mask`. */
  private flush_tlb_multi(mask: number[], info: FlushTlbInfo): void {
    this.count(this.state[info.initiating_cpu], 'nr_tlb_remote_flush')
    for (const c of mask) {
      if (info.freed_tables || this.should_flush_tlb(c, info)) this.flush_tlb_func(c, info)
    }
  }

  /** Kernel: flush_tlb_func(): run on CPU `c` (the initiator or an IPI receiver). */
  private flush_tlb_func(c: number, f: FlushTlbInfo): void {
    const s = this.state[c]
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
      this.switch_mm(c, null, this.mmu.init_pgd)
      return
    }
    const asid = s.loaded_mm_asid
    const mm_tlb_gen = loaded.context.tlb_gen
    const local_tlb_gen = s.ctx_tlb_gen[asid]
    if (local_tlb_gen === mm_tlb_gen) return
    if (f.end_vpn !== TLB_FLUSH_ALL && f.new_tlb_gen === local_tlb_gen + 1 && f.new_tlb_gen === mm_tlb_gen) {
      const tlb = this.mmu.cpus[c].tlb
      for (let v = f.start_vpn; v < f.end_vpn; v++) tlb.flush_one(asid, v)
      if (local) this.count(s, 'nr_tlb_local_flush_one', f.end_vpn - f.start_vpn)
    } else {
      this.mmu.cpus[c].tlb.flush_pcid(asid)
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
    for (const st of this.state) {
      const tlb = this.mmu.cpus[st.cpu].tlb
      if (end === TLB_FLUSH_ALL || e - s > this.tlb_single_page_flush_ceiling) {
        this.count(st, 'nr_tlb_remote_flush_received')
        tlb.flush_all()
      } else {
        for (let v = s; v < e; v++) tlb.flush_global_one(v)
      }
    }
  }

  /**
   * One CPU's TLB as text, for teaching: the loaded mm's PCID, then each
   * valid entry, e.g. "  set 3 way 1  pcid 1  vpn 0x7f0000001 -> pfn 0x1a2b3  W U X D".
   */
  tlb_text(cpu: number): string {
    const s = this.state[cpu]
    const t = this.mmu.cpus[cpu].tlb
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
    return this.mmu.cpus.map((h) => ({
      cpu: h.cpu,
      hits: h.tlb.hits,
      misses: h.tlb.misses,
      valid: h.tlb.nr_valid,
      walks: h.walks,
      walk_reads: h.walk_reads,
      pde_hits: h.tlb.pde_hits,
      events: { ...this.state[h.cpu].events },
    }))
  }

  /**
   * DEBUG_VM: the invariants at the top of the file. A CPU that is up to
   * date with its loaded mm must not cache a translation the page tables
   * no longer give (Mmu.check_coherent()).
   */
  check(): void {
    for (const s of this.state) {
      const mm = s.loaded_mm
      if (mm !== this.init_mm && !mm.cpu_bitmap.has(s.cpu)) throw new KernelBug(`mmu: cpu ${s.cpu} runs an mm that is not in its mm_cpumask`)
      if (s.ctx_id[s.loaded_mm_asid] !== mm.context.ctx_id) throw new KernelBug(`mmu: cpu ${s.cpu}'s loaded ASID ${s.loaded_mm_asid} belongs to another mm`)
      if (s.ctx_tlb_gen[s.loaded_mm_asid] > mm.context.tlb_gen) throw new KernelBug(`mmu: cpu ${s.cpu} is ahead of its mm's tlb_gen`)
      if (s.loaded_mm_asid !== this.mmu.cpus[s.cpu].loaded_mm_asid) throw new KernelBug(`mmu: cpu ${s.cpu}'s CR3 PCID is not its loaded ASID`)
      if (s.is_lazy || mm === this.init_mm || s.ctx_tlb_gen[s.loaded_mm_asid] !== mm.context.tlb_gen) continue
      this.mmu.check_coherent(s.cpu)
    }
  }
}
