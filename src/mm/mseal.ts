/**
 * mseal (Kernel: mm/mseal.c). Sealed VMAs (VM_SEALED) refuse munmap,
 * mprotect, mremap, MAP_FIXED over them and discarding advice on read-only
 * anonymous memory; the checks live in those syscalls.
 */
import { type MmStruct, VM_SEALED, vm_flags_or, vm_flags_test } from './mm_types.js'
import { find_vma, vma_modify } from './vma.js'
import { BITS_PER_LONG } from './mmap.js'
import { type UlongArg, ul_add, ul_cmp_num, ul_offset_in_page, ul_page_align, ulong } from '../include/ulong.js'
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

/** Kernel: do_mseal() (start and len_in are unsigned longs, src/include/ulong.ts). 0 or -errno. */
export function do_mseal(mm: MmStruct, start_in: UlongArg, len_arg: UlongArg, flags: UlongArg): number {
  const bits = BITS_PER_LONG(mm)
  const ustart = ulong(start_in, bits)
  const len_in = ulong(len_arg, bits)
  if (ulong(flags, bits) !== 0) return -EINVAL
  if (ul_offset_in_page(ustart)) return -EINVAL
  const len = ul_page_align(len_in, bits)
  if (len_in && !len) return -EINVAL
  const uend = ul_add(ustart, len, bits)
  if (uend < ustart) return -EINVAL
  if (uend === ustart) return 0
  // No VMA lies at or above 2^53: a start there leaves the range unmapped (ENOMEM), an end
  // there is only compared with VMA addresses.
  const start = ul_cmp_num(ustart)
  const end = ul_cmp_num(uend)
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
