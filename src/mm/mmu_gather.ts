/**
 * The TLB side of unmapping (Kernel: mm/mmu_gather.c tlb_gather_mmu(),
 * tlb_finish_mmu(); include/asm-generic/tlb.h __tlb_adjust_range(),
 * tlb_flush_pmd_range(); arch/x86/include/asm/tlb.h tlb_flush()).
 *
 * munmap and exit clear PTEs and free page tables first and flush once at
 * the end: the gather records the range of the PTEs cleared, widened by the
 * tables freed (freed_tables), and tlb_finish_mmu() turns it into one
 * flush_tlb_mm_range() — with freed_tables set, so that lazy CPUs and the
 * paging-structure caches drop the freed tables too. A full-mm gather (exit)
 * flushes everything.
 *
 * Invariant: nothing is flushed when nothing was cleared or freed.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { MmStruct } from './mm_types.js'


/** Kernel: struct mmu_gather (the parts that decide the flush). */
export interface MmuGather {
  /** Range of cleared PTEs and freed tables (start > end: nothing). */
  start: number
  end: number
  freed_tables: boolean
  fullmm: boolean
}

/** Kernel: tlb_gather_mmu() / tlb_gather_mmu_fullmm(). */
export function tlb_gather_mmu(fullmm = false): MmuGather {
  return { start: Infinity, end: -Infinity, freed_tables: false, fullmm }
}

/** Kernel: __tlb_adjust_range(): a PTE of [addr, addr + size) was cleared. */
export function tlb_adjust_range(tlb: MmuGather, addr: number, size: number): void {
  if (addr < tlb.start) tlb.start = addr
  if (addr + size > tlb.end) tlb.end = addr + size
}

/** Kernel: pte_free_tlb() -> tlb_flush_pmd_range(): a page table mapping `addr` was freed. */
export function tlb_free_table(tlb: MmuGather, addr: number): void {
  tlb_adjust_range(tlb, addr, PAGE_SIZE)
  tlb.freed_tables = true
}

/** Kernel: tlb_finish_mmu() -> tlb_flush(): the one flush of the gather. */
export function tlb_finish_mmu(mm: MmStruct, tlb: MmuGather): void {
  const env = mm.env
  if (tlb.fullmm) {
    env.flush_tlb_mm(mm)
    return
  }
  if (tlb.end <= tlb.start) return
  env.flush_tlb_range(mm, tlb.start, tlb.end, tlb.freed_tables)
}
