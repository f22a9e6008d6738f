/**
 * The life of an address space seen from tasks: creating one (mm_alloc),
 * fork's copy (dup_mm / dup_mmap) and the two reference counts (Kernel:
 * include/linux/sched/mm.h, kernel/fork.c mm_alloc, mm_init, dup_mm,
 * mmget, mmput, mmgrab, mmdrop; mm/mmap.c dup_mmap).
 *
 * mm_users counts users of the mappings; at zero exit_mmap unmaps every
 * VMA, frees the page tables and drops the accounting, and the mm_users
 * reference on mm_count goes; at mm_count zero the struct is freed.
 *
 * dup_mmap copies every VMA except VM_DONTCOPY ones; VM_WIPEONFORK VMAs
 * start empty in the child (no anon_vma, no PTEs); the child's VMAs are
 * never locked; page tables are copied only where copy_page_range says so
 * (VMAs with an anon_vma), write-protecting private pages in both mms.
 */
import {
  MmStruct,
  type MmEnv,
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_LOCKED_MASK,
  VM_WIPEONFORK,
  VM_NOHUGEPAGE,
  vm_flags_andnot,
  vm_flags_and,
  vm_flags_test,
  get_mm_rss,
  MMF_INIT_BITS,
} from '../mm/mm_types.js'
import { vm_area_dup, vm_area_free, vm_stat_account, vma_link, vma_pages } from '../mm/vma.js'
import { anon_vma_fork } from '../mm/rmap.js'
import { copy_page_range } from '../mm/memory.js'
import { security_vm_enough_memory_mm, vm_unacct_memory } from '../mm/util.js'
import { ENOMEM } from '../include/errno.js'
import { KernelBug } from '../include/bug.js'
import { exit_mmap } from '../mm/mmap.js'

/** Kernel: mm_alloc() / mm_init(): an empty address space. null when out of memory. */
export function mm_alloc(env: MmEnv, task_size: number): MmStruct | null {
  // allocate_mm() from mm_cachep first, then mm_init()'s mm_alloc_pgd(); free_mm() when that fails.
  const obj = env.kmem_alloc('mm_struct')
  if (obj === 0) return null
  const pgd = env.pgd_alloc()
  if (!pgd) {
    env.kmem_free('mm_struct', obj)
    return null
  }
  const mm = new MmStruct(env, env.next_id(), task_size, pgd)
  mm.slab_obj = obj
  return mm
}

/** Kernel: dup_mmap(): copy oldmm's VMAs and page tables into mm. 0 or -errno. */
export function dup_mmap(mm: MmStruct, oldmm: MmStruct): number {
  mm.total_vm = oldmm.total_vm
  mm.data_vm = oldmm.data_vm
  mm.exec_vm = oldmm.exec_vm
  mm.stack_vm = oldmm.stack_vm
  // The child is in its parent's memory cgroup (cgroup_fork()).
  mm.memcg = oldmm.memcg
  for (const mpnt of oldmm.mm_mt) {
    if (vm_flags_test(mpnt.vm_flags, VM_DONTCOPY)) {
      vm_stat_account(mm, mpnt.vm_flags, -vma_pages(mpnt))
      continue
    }
    let charge = 0
    if (vm_flags_test(mpnt.vm_flags, VM_ACCOUNT)) {
      if (security_vm_enough_memory_mm(oldmm, vma_pages(mpnt))) return -ENOMEM
      charge = vma_pages(mpnt)
    }
    // fail_nomem: the copy is freed and its charge given back; what was linked before it is
    // torn down with the half-built mm by the caller (dup_mm()'s mmput()).
    const tmp = vm_area_dup(mpnt, mm)
    if (!tmp) {
      vm_unacct_memory(mm.env, charge)
      return -ENOMEM
    }
    tmp.anon_vma = null
    tmp.anon_vma_chain = []
    const wipe = vm_flags_test(tmp.vm_flags, VM_WIPEONFORK)
    if (!wipe && anon_vma_fork(tmp, mpnt)) {
      vm_area_free(tmp)
      vm_unacct_memory(mm.env, charge)
      return -ENOMEM
    }
    tmp.vm_flags = vm_flags_andnot(tmp.vm_flags, VM_LOCKED_MASK)
    tmp.vm_userfaultfd_ctx = null
    vma_link(mm, tmp)
    tmp.vm_ops?.open?.(tmp)
    if (!wipe) {
      const r = copy_page_range(tmp, mpnt)
      if (r) return r
    }
  }
  return 0
}

/** Kernel: dup_mm(): fork's copy of an address space (CLONE_VM not set). null when out of memory. */
export function dup_mm(oldmm: MmStruct): MmStruct | null {
  const mm = mm_alloc(oldmm.env, oldmm.task_size)
  if (!mm) return null
  mm.mmap_base = oldmm.mmap_base
  mm.mmap_legacy_base = oldmm.mmap_legacy_base
  mm.start_code = oldmm.start_code
  mm.end_code = oldmm.end_code
  mm.start_data = oldmm.start_data
  mm.end_data = oldmm.end_data
  mm.start_brk = oldmm.start_brk
  mm.brk = oldmm.brk
  mm.start_stack = oldmm.start_stack
  mm.arg_start = oldmm.arg_start
  mm.arg_end = oldmm.arg_end
  mm.env_start = oldmm.env_start
  mm.env_end = oldmm.env_end
  // mm_init(): the dumpable mode and the core dump filter (MMF_INIT_MASK) are inherited
  mm.flags = oldmm.flags % 2 ** MMF_INIT_BITS
  // mm_init(): only VM_INIT_DEF_MASK (VM_NOHUGEPAGE) of def_flags is inherited; mlockall is not.
  mm.def_flags = vm_flags_and(oldmm.def_flags, VM_NOHUGEPAGE)
  const err = dup_mmap(mm, oldmm)
  // dup_mmap() ends with flush_tlb_mm(oldmm): the parent's PTEs were write-protected for COW.
  oldmm.env.flush_tlb_mm(oldmm)
  if (err) {
    // Kernel: dup_mm()'s free_pt: what was copied so far (VMAs linked, PTEs with their page
    // references) is torn down by the last mmput(), as for an exiting process.
    mm.owner = null
    mmput(mm)
    return null
  }
  mm.hiwater_rss = get_mm_rss(mm)
  mm.hiwater_vm = mm.total_vm
  return mm
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
  if (--mm.mm_count === 0) mm.env.kmem_free('mm_struct', mm.slab_obj)
}

/** Kernel: mmput(): drop a user; the last one tears the mappings down. */
export function mmput(mm: MmStruct): void {
  if (mm.mm_users <= 0) throw new KernelBug('mmput: mm_users underflow')
  if (--mm.mm_users === 0) {
    exit_mmap(mm)
    mmdrop(mm)
  }
}
