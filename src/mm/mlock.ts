/**
 * mlock, mlock2, munlock, mlockall, munlockall (Kernel: mm/mlock.c).
 *
 * VM_LOCKED VMAs keep their pages resident (PG_mlocked); VM_LOCKONFAULT
 * locks only what later faults bring in. mm.locked_vm counts locked VMA
 * pages. Like mprotect, a range with a hole changes the VMAs before the hole
 * and then fails with ENOMEM.
 *
 * Limits: without CAP_IPC_LOCK, an RLIMIT_MEMLOCK of 0 forbids locking
 * (EPERM, can_do_mlock()); mlock() may not bring locked_vm (less the part of
 * the range already locked) above the limit (ENOMEM); mlockall(MCL_CURRENT)
 * needs total_vm within it (ENOMEM); later VM_LOCKED mappings are checked by
 * mlock_future_ok() (mmap EAGAIN, mremap EAGAIN, stack growth).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmStruct,
  type VmArea,
  VM_DROPPABLE,
  VM_HUGETLB,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_LOCKONFAULT,
  VM_SPECIAL,
  VM_STICKY,
  vm_flags_and,
  vm_flags_andnot,
  vm_flags_or,
  vm_flags_test,
  VM_NONE,
  type vm_flags_t,
} from './mm_types.js'
import { MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT } from './mman.js'
import { find_vma, vma_lookup, vma_modify, vma_next } from './vma.js'
import { BITS_PER_LONG } from './mmap.js'
import { type Ulong, type UlongArg, ul_add, ul_cmp_num, ul_offset_in_page, ul_page_align, ul_page_down, ul_pages, ulong } from '../include/ulong.js'
import { __mm_populate, mm_populate } from './gup.js'
import { pte_present, vm_normal_page } from './memory.js'
import { page_locked_elsewhere } from './rmap.js'
import { PG_mlocked } from './page.js'
import { can_do_mlock, capable, rlimit } from './util.js'
import { CAP_IPC_LOCK } from '../include/cred.js'
import { RLIMIT_MEMLOCK } from '../include/resource.js'
import { EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM } from '../include/errno.js'

/** Kernel: mlock_vma_pages_range(): set the flags and (un)mlock the pages already mapped. */
function mlock_vma_pages_range(mm: MmStruct, vma: VmArea, start: number, end: number, newflags: vm_flags_t): void {
  vma.vm_flags = newflags
  const pages = mm.env.pages
  const lock = vm_flags_test(newflags, VM_LOCKED)
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (_vpn, pte) => {
    if (!pte_present(pte)) return
    const pfn = vm_normal_page(vma, pte)
    if (pfn < 0) return
    if (lock) pages.set(pfn, PG_mlocked)
    else if (!page_locked_elsewhere(mm.env, pfn, vma)) pages.clear(pfn, PG_mlocked)
  })
}

/** Kernel: mlock_fixup(). 0 or -errno. */
function mlock_fixup(mm: MmStruct, vma: VmArea, start: number, end: number, newflags: vm_flags_t): VmArea | number {
  const oldflags = vma.vm_flags
  if (newflags === oldflags || vm_flags_test(oldflags, VM_SPECIAL) || vm_flags_test(oldflags, VM_HUGETLB) || vm_flags_test(oldflags, VM_DROPPABLE)) {
    return vma
  }
  const r = vma_modify(mm, vma, start, end, { vm_flags: newflags })
  if (typeof r === 'number') return r
  // vma_modify_flags() hands back the sticky flags a merge kept (VM_MAYBE_GUARD)
  newflags = vm_flags_or(newflags, vm_flags_and(r.vm_flags, VM_STICKY))
  let nr_pages = (end - start) / PAGE_SIZE
  if (!vm_flags_test(newflags, VM_LOCKED)) nr_pages = -nr_pages
  else if (vm_flags_test(oldflags, VM_LOCKED)) nr_pages = 0
  mm.locked_vm += nr_pages
  if (vm_flags_test(newflags, VM_LOCKED) && vm_flags_test(oldflags, VM_LOCKED)) r.vm_flags = newflags
  else mlock_vma_pages_range(mm, r, start, end, newflags)
  return r
}

/** Kernel: apply_vma_lock_flags() on a page-aligned [start, start+len) (unsigned longs). 0 or -errno. */
function apply_vma_lock_flags(mm: MmStruct, ustart: Ulong, len: Ulong, flags: vm_flags_t): number {
  const uend = ul_add(ustart, len, BITS_PER_LONG(mm))
  if (uend < ustart) return -EINVAL
  if (uend === ustart) return 0
  // No VMA lies at or above 2^53: a start there finds none (ENOMEM), an end there is only
  // compared with VMA addresses.
  const start = ul_cmp_num(ustart)
  const end = ul_cmp_num(uend)
  let vma = vma_lookup(mm, start)
  if (!vma) return -ENOMEM
  let nstart = start
  let tmp = vma.vm_start
  while (vma && vma.vm_start < end) {
    if (vma.vm_start !== tmp) return -ENOMEM
    const newflags = vm_flags_or(vm_flags_andnot(vma.vm_flags, VM_LOCKED_MASK), flags)
    tmp = Math.min(vma.vm_end, end)
    const r = mlock_fixup(mm, vma, nstart, tmp, newflags)
    if (typeof r === 'number') return r
    tmp = r.vm_end
    nstart = tmp
    vma = find_vma(mm, tmp)
  }
  if (tmp < end) return -ENOMEM
  return 0
}

/** Kernel: __mlock_posix_error_return(). */
function mlock_posix_error(e: number): number {
  if (e === -EFAULT) return -ENOMEM
  if (e === -ENOMEM) return -EAGAIN
  return e
}

/**
 * Kernel: count_mm_mlocked_page_nr(): pages of [start, start+len) already in
 * VM_LOCKED VMAs (Linux subtracts the part before `start` of every locked VMA
 * that begins below it: only the first one can).
 */
function count_mm_mlocked_page_nr(mm: MmStruct, ustart: Ulong, len: Ulong): number {
  // The end saturates at ULONG_MAX; past 2^53 only its comparisons with VMA addresses matter.
  const start = ul_cmp_num(ustart)
  const end = start + ul_cmp_num(len)
  let count = 0
  for (let vma = find_vma(mm, start); vma; vma = vma_next(mm, vma)) {
    if (vma.vm_start >= end) break
    if (vm_flags_test(vma.vm_flags, VM_LOCKED)) {
      if (start > vma.vm_start) count -= start - vma.vm_start
      if (end < vma.vm_end) {
        count += end - vma.vm_start
        break
      }
      count += vma.vm_end - vma.vm_start
    }
  }
  return Math.floor(count / PAGE_SIZE)
}

/** RLIMIT_MEMLOCK in pages (lock_limit >> PAGE_SHIFT; RLIM_INFINITY is ULONG_MAX, so ULONG_MAX >> PAGE_SHIFT). */
function lock_limit_pages(mm: MmStruct): number {
  const rlim = rlimit(mm, RLIMIT_MEMLOCK)
  if (rlim === Infinity) return BITS_PER_LONG(mm) === 64 ? 2 ** 52 - 1 : 2 ** 20 - 1
  return Math.floor(rlim / PAGE_SIZE)
}

/**
 * The range mlock/munlock work on: [start & PAGE_MASK, +PAGE_ALIGN(len +
 * offset_in_page(start))), in unsigned long arithmetic (a length that
 * rounds up past ULONG_MAX becomes 0: nothing to do).
 */
function lock_range(mm: MmStruct, start_in: UlongArg, len_in: UlongArg): [Ulong, Ulong] {
  const bits = BITS_PER_LONG(mm)
  const start = ulong(start_in, bits)
  const len = ul_page_align(ul_add(ulong(len_in, bits), ul_offset_in_page(start), bits), bits)
  return [ul_page_down(start), len]
}

/**
 * Kernel: do_mlock(): mlock(2) (flags 0) and mlock2(2) (VM_LOCKONFAULT);
 * start and len are unsigned longs (src/include/ulong.ts). 0 or -errno.
 */
export function do_mlock(mm: MmStruct, start_in: UlongArg, len_in: UlongArg, vm_flags: vm_flags_t): number {
  if (!can_do_mlock(mm)) return -EPERM
  const [start, len] = lock_range(mm, start_in, len_in)
  const lock_limit = lock_limit_pages(mm)
  let locked = ul_pages(len) + mm.locked_vm
  // The part of the range already locked is not counted twice.
  if (locked > lock_limit && !capable(mm, CAP_IPC_LOCK)) locked -= count_mm_mlocked_page_nr(mm, start, len)
  if (!(locked <= lock_limit || capable(mm, CAP_IPC_LOCK))) return -ENOMEM
  const err = apply_vma_lock_flags(mm, start, len, vm_flags_or(VM_LOCKED, vm_flags))
  if (err) return err
  // Success means VMAs cover the range (or it is empty): both are plain numbers then.
  const e = __mm_populate(mm, ul_cmp_num(start), ul_cmp_num(len), false)
  return e ? mlock_posix_error(e) : 0
}

/** The mlock2 system call. */
export function sys_mlock2(mm: MmStruct, start: UlongArg, len: UlongArg, flags: number): number {
  if (flags & ~MLOCK_ONFAULT) return -EINVAL
  return do_mlock(mm, start, len, flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : VM_NONE)
}

/** Kernel: sys_munlock() (start and len are unsigned longs). */
export function do_munlock(mm: MmStruct, start_in: UlongArg, len_in: UlongArg): number {
  const [start, len] = lock_range(mm, start_in, len_in)
  return apply_vma_lock_flags(mm, start, len, VM_NONE)
}

/** Kernel: apply_mlockall_flags(). */
function apply_mlockall_flags(mm: MmStruct, flags: number): number {
  mm.def_flags = vm_flags_andnot(mm.def_flags, VM_LOCKED_MASK)
  let to_add = VM_NONE
  if (flags & MCL_FUTURE) {
    mm.def_flags = vm_flags_or(mm.def_flags, flags & MCL_ONFAULT ? VM_LOCKED_MASK : VM_LOCKED)
    if (!(flags & MCL_CURRENT)) return 0
  }
  if (flags & MCL_CURRENT) {
    to_add = VM_LOCKED
    if (flags & MCL_ONFAULT) to_add = vm_flags_or(to_add, VM_LOCKONFAULT)
  }
  // for_each_vma(): each step resumes after the VMA the last fixup left covering its range.
  for (let vma = find_vma(mm, 0); vma; ) {
    const newflags = vm_flags_or(vm_flags_andnot(vma.vm_flags, VM_LOCKED_MASK), to_add)
    const r = mlock_fixup(mm, vma, vma.vm_start, vma.vm_end, newflags)
    vma = find_vma(mm, typeof r === 'number' ? vma.vm_end : r.vm_end)
  }
  return 0
}

/** Kernel: sys_mlockall(). */
export function do_mlockall(mm: MmStruct, flags: number): number {
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) return -EINVAL
  if (!can_do_mlock(mm)) return -EPERM
  const lock_limit = lock_limit_pages(mm)
  if (flags & MCL_CURRENT && mm.total_vm > lock_limit && !capable(mm, CAP_IPC_LOCK)) return -ENOMEM
  const ret = apply_mlockall_flags(mm, flags)
  if (!ret && flags & MCL_CURRENT) mm_populate(mm, 0, mm.task_size)
  return ret
}

/** Kernel: sys_munlockall(). */
export function do_munlockall(mm: MmStruct): number {
  return apply_mlockall_flags(mm, 0)
}

export { find_vma }
