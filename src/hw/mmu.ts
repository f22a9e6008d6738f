/**
 * The MMU of each simulated CPU: on a TLB miss it walks the page tables
 * (through a walker the mm layer provides), checks Present/User/RW, sets
 * the Accessed and (for stores) Dirty bits in the PTE as the hardware does,
 * and fills the TLB. A translation that fails is a page fault for the
 * kernel to handle; nothing is cached for it.
 *
 * TLB shootdowns: flushing an address space on every CPU that has run it
 * counts one IPI per other CPU (Kernel: flush_tlb_mm_range() ->
 * native_flush_tlb_multi()).
 */
import { Tlb } from './tlb.js'

/** The page-table side of a walk: read a PTE word, write it back with A/D set. */
export interface PteWalker {
  get(vpn: number): number
  set(vpn: number, pte: number): void
}

const P = 0x1
const RW = 0x2
const US = 0x4
const A = 0x20
const D = 0x40

/** One CPU's MMU. */
export class Mmu {
  walks = 0
  faults = 0
  readonly tlb: Tlb
  constructor(
    readonly cpu: number,
    tlb_entries = 64,
  ) {
    this.tlb = new Tlb(tlb_entries)
  }

  /**
   * Translate a user access: the frame number, or -1 for a page fault.
   * `asid` tags the address space (the mm's id).
   */
  translate(asid: number, w: PteWalker, vpn: number, write: boolean): number {
    const e = this.tlb.lookup_packed(asid, vpn)
    if (e >= 0 && (!write || (e & 3) === 3)) return Math.floor(e / 4)
    this.walks++
    const pte = w.get(vpn)
    if (!(pte & P) || !(pte & US) || (write && !(pte & RW))) {
      this.faults++
      return -1
    }
    const want = write ? A | D : A
    let val = pte
    if ((pte & want) !== want) {
      const low = pte % 4096
      val = pte - low + (low | want)
      w.set(vpn, val)
    }
    const pfn = Math.floor((val % 2 ** 52) / 4096)
    this.tlb.insert_packed(asid, vpn, pfn * 4 + (val & RW ? 2 : 0) + (val & D ? 1 : 0))
    return pfn
  }
}

/** The MMUs of a machine, the CPU currently running, and shootdown accounting. */
export class MmuSet {
  readonly cpus: Mmu[]
  current = 0
  /** TLB-shootdown IPIs sent (flushes of an mm on other CPUs that ran it). */
  shootdowns = 0
  constructor(nr_cpus: number, tlb_entries = 64) {
    this.cpus = Array.from({ length: nr_cpus }, (_, i) => new Mmu(i, tlb_entries))
  }

  get mmu(): Mmu {
    return this.cpus[this.current]
  }

  /** Flush [start_vpn, end_vpn) of asid on the CPUs in `cpus` (the mm's cpumask). */
  flush_range(asid: number, start_vpn: number, end_vpn: number, cpus: Iterable<number>): void {
    for (const c of cpus) {
      if (c < 0 || c >= this.cpus.length) continue
      this.cpus[c].tlb.flush_range(asid, start_vpn, end_vpn)
      if (c !== this.current) this.shootdowns++
    }
  }

  /** Totals over all CPUs. */
  stats(): { hits: number; misses: number; walks: number; faults: number; flushes: number; shootdowns: number } {
    let hits = 0
    let misses = 0
    let walks = 0
    let faults = 0
    let flushes = 0
    for (const m of this.cpus) {
      hits += m.tlb.hits
      misses += m.tlb.misses
      walks += m.walks
      faults += m.faults
      flushes += m.tlb.flushes
    }
    return { hits, misses, walks, faults, flushes, shootdowns: this.shootdowns }
  }
}
