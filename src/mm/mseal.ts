/**
 * mseal (Kernel: mm/mseal.c). Sealed VMAs (VM_SEALED) refuse munmap,
 * mprotect, mremap, MAP_FIXED over them and discarding advice on read-only
 * anonymous memory; the checks live in those syscalls.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, VM_SEALED, vm_flags_or, vm_flags_test } from './mm_types.js'
import { find_vma, vma_modify } from './vma.js'
import { PAGE_ALIGN } from './mmap.js'
import { EINVAL, ENOMEM } from '../include/errno.js'

/** Kernel: range_contains_unmapped(). */
function range_contains_unmapped(mm: MmStruct, start: number, end: number): boolean {
  let prev_end = start
  let v = find_vma(mm, start)
  while (v && v.vm_start < end) {
    if (v.vm_start > prev_end) return true
    prev_end = v.vm_end
    v = find_vma(mm, v.vm_end)
  }
  return prev_end < end
}

/** Kernel: do_mseal(). 0 or -errno. */
export function do_mseal(mm: MmStruct, start: number, len_in: number, flags: number): number {
  if (flags) return -EINVAL
  if (start % PAGE_SIZE) return -EINVAL
  const len = PAGE_ALIGN(len_in)
  if (len_in && !len) return -EINVAL
  const end = start + len
  if (end >= 2 ** 64) return -EINVAL
  if (end === start) return 0
  if (range_contains_unmapped(mm, start, end)) return -ENOMEM
  let cur = start
  while (cur < end) {
    const vma = find_vma(mm, cur)
    if (!vma || vma.vm_start >= end) break
    const s = Math.max(cur, vma.vm_start)
    const e = Math.min(end, vma.vm_end)
    if (!vm_flags_test(vma.vm_flags, VM_SEALED)) {
      const r = vma_modify(mm, vma, s, e, { vm_flags: vm_flags_or(vma.vm_flags, VM_SEALED) })
      if (typeof r === 'number') return r
      cur = Math.max(e, r.vm_end)
    } else cur = vma.vm_end
  }
  return 0
}
