/**
 * Faulting pages in on behalf of the kernel: MAP_POPULATE, mlock, brk with
 * mlockall(MCL_FUTURE), MADV_POPULATE_* (Kernel: mm/gup.c
 * populate_vma_page_range, __mm_populate, faultin_page_range).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, type VmArea, VM_READ, VM_IO, VM_LOCKONFAULT, VM_PFNMAP, VM_SHARED, VM_WRITE, vm_flags_test, vm_flags_and, vm_flags_or } from './mm_types.js'
import {
  FAULT_FLAG_WRITE,
  VM_FAULT_ERROR,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  handle_mm_fault,
  pte_dirty,
  pte_hw_present,
  pte_pfn,
  pte_write,
  vm_normal_page,
  vma_is_accessible,
} from './memory.js'
import { set_page_dirty } from './shmem.js'
import { find_vma, vma_lookup } from './vma.js'
import { EFAULT, ENOMEM, EINVAL, EHWPOISON } from '../include/errno.js'

const WRITE_SHARED = vm_flags_or(VM_WRITE, VM_SHARED)
const IO_PFNMAP = vm_flags_or(VM_IO, VM_PFNMAP)

/** Fault one page as get_user_pages would (follow_page, else handle_mm_fault). 0 or VM_FAULT_* error bits. */
function faultin_one(mm: MmStruct, vma: VmArea, addr: number, write: boolean): number {
  const pte = mm.pgd.get(addr / PAGE_SIZE)
  if (pte_hw_present(pte) && (!write || pte_write(pte))) {
    // follow_page_pte() with FOLL_TOUCH|FOLL_WRITE dirties the page (not the PTE).
    const page = vm_normal_page(vma, pte)
    if (write && page >= 0 && !pte_dirty(pte)) set_page_dirty(mm.env, page)
    return 0
  }
  return handle_mm_fault(mm, vma, addr, write ? FAULT_FLAG_WRITE : 0) & VM_FAULT_ERROR
}

/**
 * Kernel: populate_vma_page_range(): fault in [start, end) of vma, with
 * write faults for private writable mappings (to break COW). Returns the
 * number of pages handled or -errno.
 */
export function populate_vma_page_range(mm: MmStruct, vma: VmArea, start: number, end: number): number {
  if (vm_flags_test(vma.vm_flags, VM_LOCKONFAULT)) return (end - start) / PAGE_SIZE
  if (!vma_is_accessible(vma)) return -EFAULT
  const write = vm_flags_and(vma.vm_flags, WRITE_SHARED) === VM_WRITE
  for (let a = start; a < end; a += PAGE_SIZE) {
    const r = faultin_one(mm, vma, a, write)
    if (r) {
      const done = (a - start) / PAGE_SIZE
      if (done > 0) return done
      return r & VM_FAULT_OOM ? -ENOMEM : -EFAULT
    }
  }
  return (end - start) / PAGE_SIZE
}

/** Kernel: __mm_populate(): populate every VMA in [start, start+len); errors are ignored when asked. */
export function __mm_populate(mm: MmStruct, start: number, len: number, ignore_errors: boolean): number {
  const end = start + len
  let nstart = start
  while (nstart < end) {
    const vma = find_vma(mm, nstart)
    if (!vma || vma.vm_start >= end) break
    const nend = Math.min(end, vma.vm_end)
    if (vm_flags_test(vma.vm_flags, IO_PFNMAP)) {
      nstart = nend
      continue
    }
    if (nstart < vma.vm_start) nstart = vma.vm_start
    const r = populate_vma_page_range(mm, vma, nstart, nend)
    if (r < 0) {
      if (ignore_errors) {
        nstart = nend
        continue
      }
      return r
    }
    nstart += r * PAGE_SIZE
    if (r === 0) nstart = nend
  }
  return 0
}

/** Kernel: mm_populate(). */
export function mm_populate(mm: MmStruct, start: number, len: number): void {
  __mm_populate(mm, start, len, true)
}

/**
 * Kernel: faultin_page_range() for MADV_POPULATE_READ/WRITE: fault in every
 * page, failing like the madvise does (ENOMEM on a hole, EINVAL on
 * PROT_NONE/VM_IO, EFAULT on SIGBUS/SIGSEGV). 0 or -errno.
 */
export function faultin_page_range(mm: MmStruct, start: number, end: number, write: boolean): number {
  for (let a = start; a < end; a += PAGE_SIZE) {
    const vma = vma_lookup(mm, a)
    if (!vma) return -ENOMEM
    if (vm_flags_test(vma.vm_flags, IO_PFNMAP)) return -EINVAL
    if (write ? !vm_flags_test(vma.vm_flags, VM_WRITE) : !vm_flags_test(vma.vm_flags, VM_READ)) return -EINVAL
    const r = faultin_one(mm, vma, a, write)
    if (r & VM_FAULT_OOM) return -ENOMEM
    if (r & VM_FAULT_SIGBUS) return -EFAULT
    if (r) return r & 0x10 ? -EHWPOISON : -EFAULT
  }
  return 0
}

/**
 * Kernel: get_user_pages() (__get_user_pages with check_vma_flags): take a
 * reference on each of the nr_pages pages from start, faulting them in
 * (a write breaks COW). A VM_IO or VM_PFNMAP VMA is refused (its frames
 * have no struct page to pin: EFAULT), as is a missing VMA or an access
 * the VMA does not allow. The pfns (the caller put_page()s each), or
 * -errno when the first page fails; a later failure returns what was
 * pinned.
 */
export function get_user_pages(mm: MmStruct, start: number, nr_pages: number, write: boolean): number[] | number {
  const out: number[] = []
  const fail = (err: number): number[] | number => (out.length ? out : err)
  for (let i = 0; i < nr_pages; i++) {
    const a = Math.floor(start / PAGE_SIZE) * PAGE_SIZE + i * PAGE_SIZE
    const vma = vma_lookup(mm, a)
    if (!vma) return fail(-EFAULT)
    if (vm_flags_test(vma.vm_flags, IO_PFNMAP)) return fail(-EFAULT)
    if (write ? !vm_flags_test(vma.vm_flags, VM_WRITE) : !vm_flags_test(vma.vm_flags, VM_READ)) return fail(-EFAULT)
    const r = faultin_one(mm, vma, a, write)
    if (r) return fail(r & VM_FAULT_OOM ? -ENOMEM : -EFAULT)
    const pte = mm.pgd.get(a / PAGE_SIZE)
    // follow_page_pte(): a read of never-written anonymous memory pins the zero page; another
    // special PTE (a raw pfn in a VM_MIXEDMAP VMA) has no page to pin
    const page = pte_pfn(pte) === mm.env.zero_pfn ? mm.env.zero_pfn : vm_normal_page(vma, pte)
    if (page < 0) return fail(-EFAULT)
    mm.env.pages.get_page(page)
    out.push(page)
  }
  return out
}
