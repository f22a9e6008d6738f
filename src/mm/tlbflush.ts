/**
 * Connecting an mm environment to the machine's MMUs and TLBs
 * (Kernel: arch/x86/mm/tlb.c flush_tlb_mm_range, switch_mm_irqs_off).
 *
 * attach_mmu() makes user accesses translate through the current CPU's TLB
 * and page walker, records the CPU in mm_cpumask, and turns the mm layer's
 * flush_tlb_range() calls (munmap, mprotect, COW, mremap, madvise, fork's
 * write-protect) into TLB flushes on every CPU that ran the mm, counting
 * shootdown IPIs for the other CPUs.
 */
import type { MmEnv, MmStruct } from './mm_types.js'
import { MmuSet, type PteWalker } from '../hw/mmu.js'

const walkers = new WeakMap<MmStruct, PteWalker>()

function walker(mm: MmStruct): PteWalker {
  let w = walkers.get(mm)
  if (!w) {
    const pgd = mm.pgd
    w = { get: (vpn) => pgd.get(vpn), set: (vpn, pte) => void pgd.set(vpn, pte) }
    walkers.set(mm, w)
  }
  return w
}

/** Install the MMU translate and TLB flush hooks of `mmus` into env. Returns the MmuSet. */
export function attach_mmu(env: MmEnv, mmus: MmuSet): MmuSet {
  env.mmu_translate = (mm, vpn, write) => {
    mm.cpu_bitmap.add(mmus.current)
    return mmus.mmu.translate(mm.id, walker(mm), vpn, write)
  }
  env.flush_tlb_range = (mm, start, end) => {
    mmus.flush_range(mm.id, Math.floor(start / 4096), Math.ceil(end / 4096), mm.cpu_bitmap)
  }
  return mmus
}

/** Kernel: switch_mm(): the CPU now runs mm (it joins mm_cpumask). */
export function switch_mm(mmus: MmuSet, cpu: number, mm: MmStruct): void {
  mmus.current = cpu
  mm.cpu_bitmap.add(cpu)
}
