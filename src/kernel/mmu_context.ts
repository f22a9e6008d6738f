/**
 * The machine's MMUs wired to its address spaces (Kernel:
 * arch/x86/include/asm/mmu_context.h switch_mm()/enter_lazy_tlb(),
 * include/asm-generic/tlb.h + arch/x86/include/asm/tlbflush.h
 * flush_tlb_range()/flush_tlb_mm()/flush_tlb_page()).
 *
 * One Mmu (the hardware, src/hw/mmu.ts) and one TlbFlush (Linux's flush
 * protocol, src/arch/x86/tlb.ts) per machine; everything here is per
 * machine, no module state: the mm layer reaches them through its MmEnv hooks
 * (flush_tlb_range, flush_tlb_mm, mmu_translate), the scheduler side
 * (src/kernel/sched.ts) through MmuSched.
 *
 * A user access runs on the executing CPU (mmu.this_cpu, which the
 * scheduler sets to the CPU of the task it runs). When that CPU does not
 * have the accessing mm loaded (a kernel-side access to another process's
 * memory, or a caller that never scheduled the task), the access is a plain
 * page walk from that mm's pgd, with A/D bits set as the hardware would, but
 * no TLB involved.
 */
import type { MmStruct } from '../mm/mm_types.js'
import type { MmuSched } from './sched.js'
import type { PgTables } from '../mm/pgtable.js'
import { ACC_EXEC, ACC_READ, ACC_WRITE } from '../hw/mmu.js'
import type { TlbFlush } from '../arch/x86/tlb.js'

/** The pgd frame of an mm (CR3 when it runs). */
export function mm_pgd_pfn(mm: MmStruct): number {
  return mm.pgd.mm.pgd
}

/**
 * The MmEnv's mmu_translate hook of one machine: a user access to vpn of
 * `mm` on the executing CPU, through its TLB when that CPU has the mm
 * loaded, else a plain page walk from the mm's pgd (A/D bits set as the
 * hardware would, no TLB involved); the pfn, or -1. The MMU and the per-CPU
 * TLB state are captured once: no property walk through `tlb` per access.
 */
export function translate_on(tlb: TlbFlush): (mm: MmStruct, vpn: number, write: boolean, exec?: boolean) => number {
  const mmu = tlb.mmu
  const state = tlb.state
  return (mm, vpn, write, exec) => {
    const acc = exec ? ACC_EXEC : write ? ACC_WRITE : ACC_READ
    const s = state[mmu.this_cpu]
    if (s.loaded_mm === mm && !s.is_lazy) return mmu.translate(vpn, acc)
    return mmu.walk(null, mm_pgd_pfn(mm), vpn, acc, false)
  }
}

/** The kernel's own TLB flushes (vmalloc, kmap) go to the MMU. */
export function install_kernel_tlb_flush(tlb: TlbFlush, pgtables: PgTables): void {
  pgtables.flush_tlb_kernel_range = (start, end) => {
    tlb.flush_tlb_kernel_range(start, end)
  }
}

export function mmu_sched(tlb: TlbFlush): MmuSched {
  return {
    set_cpu(cpu) {
      tlb.mmu.this_cpu = cpu
    },
    switch_mm(cpu, next) {
      if (next === null) tlb.enter_lazy_tlb(cpu)
      else tlb.switch_mm(cpu, next, mm_pgd_pfn(next))
    },
    idle(cpu) {
      tlb.enter_lazy_tlb(cpu)
    },
  }
}

/** DEBUG_VM: the MMU's invariants, stale TLB entries included. */
export function check_mmu(tlb: TlbFlush): void {
  tlb.check()
}
