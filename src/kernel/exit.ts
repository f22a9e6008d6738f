/**
 * Tearing address spaces down (Kernel: mm/mmap.c exit_mmap, kernel/fork.c
 * mmput, mmdrop, mmget, mmgrab).
 *
 * mm_users counts users of the mappings; at zero exit_mmap unmaps every
 * VMA, frees the page tables and drops the accounting, and the mm_users
 * reference on mm_count goes; at mm_count zero the struct is freed.
 */
import { type MmStruct, VM_ACCOUNT, vm_flags_test } from '../mm/mm_types.js'
import { remove_vma, vma_pages } from '../mm/vma.js'
import { unmap_vmas } from '../mm/memory.js'
import { tlb_finish_mmu, tlb_gather_mmu } from '../mm/mmu_gather.js'
import { vm_unacct_memory } from '../mm/util.js'
import { KernelBug } from '../include/bug.js'

/** Kernel: exit_mmap(). */
export function exit_mmap(mm: MmStruct): void {
  const vmas = [...mm.mm_mt]
  const tlb = tlb_gather_mmu(true) // tlb_gather_mmu_fullmm()
  unmap_vmas(mm, vmas, 0, mm.task_size, tlb)
  let nr_accounted = 0
  for (const v of vmas) {
    if (vm_flags_test(v.vm_flags, VM_ACCOUNT)) nr_accounted += vma_pages(v)
    remove_vma(mm, v)
  }
  vm_unacct_memory(mm.env, nr_accounted)
  mm.total_vm = mm.data_vm = mm.exec_vm = mm.stack_vm = mm.locked_vm = 0
  tlb_finish_mmu(mm, tlb) // the full-mm gather: flush_tlb_mm() before the tables go
  mm.pgd.destroy()
  mm.dead = true
}

/** Kernel: mmget(). */
export function mmget(mm: MmStruct): void {
  mm.mm_users++
}

/** Kernel: mmgrab(). */
export function mmgrab(mm: MmStruct): void {
  mm.mm_count++
}

/** Kernel: mmdrop(): free the struct when the last reference goes. */
export function mmdrop(mm: MmStruct): void {
  if (mm.mm_count <= 0) throw new KernelBug('mmdrop: mm_count underflow')
  if (--mm.mm_count === 0) mm.env.kmem_free?.('mm_struct', mm.slab_obj)
}

/** Kernel: mmput(): drop a user; the last one tears the mappings down. */
export function mmput(mm: MmStruct): void {
  if (mm.mm_users <= 0) throw new KernelBug('mmput: mm_users underflow')
  if (--mm.mm_users === 0) {
    exit_mmap(mm)
    mmdrop(mm)
  }
}
