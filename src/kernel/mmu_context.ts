/**
 * The machine's MMUs wired to its address spaces (Kernel:
 * arch/x86/include/asm/mmu_context.h switch_mm()/enter_lazy_tlb(),
 * include/asm-generic/tlb.h + arch/x86/include/asm/tlbflush.h
 * flush_tlb_range()/flush_tlb_mm()/flush_tlb_page()).
 *
 * One Mmu per machine (src/hw/mmu.ts); everything here is per machine, no
 * module state: the mm layer reaches it through its MmEnv hooks
 * (flush_tlb_range, flush_tlb_mm, mmu_translate), the scheduler side
 * (ProcessTable) through MmuSched.
 *
 * A user access runs on the executing CPU (mmu.this_cpu, which the
 * scheduler sets to the CPU of the task it runs). When that CPU does not
 * have the accessing mm loaded (a kernel-side access to another process's
 * memory, or a caller that never scheduled the task), the access is a plain
 * page walk from that mm's pgd, with A/D bits set as the hardware would, but
 * no TLB involved.
 */
import type { MmEnv, MmStruct } from '../mm/mm_types.js'
import { FramePageTables } from '../mm/pgtable_mm.js'
import type { PgTables } from '../mm/pgtable.js'
import { ACC_EXEC, ACC_READ, ACC_WRITE, type Mmu } from '../hw/mmu.js'
import { walk_translate } from '../mm/uaccess.js'

/** The pgd frame of an mm whose page tables live in frames (0 otherwise). */
export function mm_pgd_pfn(mm: MmStruct): number {
  const pgd = mm.pgd
  return pgd instanceof FramePageTables ? pgd.mm.pgd : 0
}

/** Install the MMU's hooks into the mm layer's environment. */
export function install_mmu(env: MmEnv, mmu: Mmu, pgtables: PgTables): void {
  env.flush_tlb_range = (mm, start, end, freed_tables) => {
    mmu.flush_tlb_mm_range(mm, start, end, freed_tables === true)
  }
  env.flush_tlb_mm = (mm) => {
    mmu.flush_tlb_mm(mm)
  }
  const cpus = mmu.cpus
  env.mmu_translate = (mm, vpn, write, exec) => {
    const acc = exec ? ACC_EXEC : write ? ACC_WRITE : ACC_READ
    const s = cpus[mmu.this_cpu]
    if (s.loaded_mm === mm && !s.is_lazy) return mmu.translate(vpn, acc)
    const pgd = mm_pgd_pfn(mm)
    if (pgd === 0) return walk_translate(mm, vpn, write, exec) // page tables kept in software
    return mmu.walk(null, pgd, vpn, acc, false)
  }
  pgtables.flush_tlb_kernel_range = (start, end) => {
    mmu.flush_tlb_kernel_range(start, end)
  }
}

/** What the scheduler (ProcessTable) calls on a context switch. */
export interface MmuSched {
  /** The CPU now executing (smp_processor_id()). */
  set_cpu(cpu: number): void
  /** switch_mm() to a user mm, or enter_lazy_tlb() for a kernel thread (null). */
  switch_mm(cpu: number, next: MmStruct | null): void
  /** The CPU goes idle (the idle task is a kernel thread: lazy TLB). */
  idle(cpu: number): void
}

export function mmu_sched(mmu: Mmu): MmuSched {
  return {
    set_cpu(cpu) {
      mmu.this_cpu = cpu
    },
    switch_mm(cpu, next) {
      if (next === null) mmu.enter_lazy_tlb(cpu)
      else mmu.switch_mm(cpu, next, mm_pgd_pfn(next))
    },
    idle(cpu) {
      mmu.enter_lazy_tlb(cpu)
    },
  }
}

/** DEBUG_VM: the MMU's invariants, stale TLB entries included. */
export function check_mmu(mmu: Mmu): void {
  mmu.check()
}
