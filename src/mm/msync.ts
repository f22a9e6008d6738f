/**
 * msync (Kernel: mm/msync.c). MS_SYNC writes back the dirty pages of shared
 * file mappings in the range (disk-backed files become clean, their PTEs
 * clean and write-protected for dirty tracking); MS_ASYNC does nothing since
 * Linux 2.6.19. Holes are skipped and reported as ENOMEM at the end.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, VM_LOCKED, VM_SHARED, vm_flags_test } from './mm_types.js'
import { MS_ASYNC, MS_INVALIDATE, MS_SYNC } from './mman.js'
import { find_vma } from './vma.js'
import { BITS_PER_LONG } from './mmap.js'
import { type UlongArg, ul_add, ul_cmp_num, ul_offset_in_page, ul_page_align, ulong } from '../include/ulong.js'
import { pte_dirty_to_page } from './memory.js'
import { ext4_sync_file } from './fs_writeback.js'
import { EBUSY, EINVAL, ENOMEM } from '../include/errno.js'

/**
 * Kernel: vfs_fsync_range() for the object behind a VMA, on its pages
 * [first, last] (page indices: byte offsets near 2^63 are not exact
 * doubles): PTE dirty bits to pages, then writeback.
 */
function fsync_range(mm: MmStruct, vma_file: NonNullable<import('./mm_types.js').VmArea['vm_file']>, first: number, last: number): void {
  const mapping = vma_file.f_mapping
  if (mapping.backing !== 'disk') return
  // folio_mkclean() on every mapping of the written pages (all mms mapping the object).
  for (const v of mapping.i_mmap) {
    if (!(vm_flags_test(v.vm_flags, VM_SHARED))) continue
    const s = Math.max(v.vm_start, v.vm_start + (first - v.vm_pgoff) * PAGE_SIZE)
    const e = Math.min(v.vm_end, v.vm_start + (last + 1 - v.vm_pgoff) * PAGE_SIZE)
    if (s < e) pte_dirty_to_page(v.vm_mm, v, s, e, true)
  }
  // msync(MS_SYNC) -> vfs_fsync_range(file, start, end, 1): a datasync.
  ext4_sync_file(mm.env, mapping, first, last, true)
}

/** Kernel: sys_msync() (start and len are unsigned longs, src/include/ulong.ts). 0 or -errno. */
export function do_msync(mm: MmStruct, start_in: UlongArg, len_in: UlongArg, flags: number): number {
  const bits = BITS_PER_LONG(mm)
  const ustart = ulong(start_in, bits)
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL
  if (ul_offset_in_page(ustart)) return -EINVAL
  if (flags & MS_ASYNC && flags & MS_SYNC) return -EINVAL
  // A length rounding up past ULONG_MAX becomes 0: nothing to do; a range wrapping past 0 is ENOMEM.
  const uend = ul_add(ustart, ul_page_align(ulong(len_in, bits), bits), bits)
  if (uend < ustart) return -ENOMEM
  if (uend === ustart) return 0
  // No VMA lies at or above 2^53: a start there finds none (ENOMEM), an end there is only
  // compared with VMA addresses.
  let start = ul_cmp_num(ustart)
  const end = ul_cmp_num(uend)
  let unmapped_error = 0
  let vma = find_vma(mm, start)
  for (;;) {
    if (!vma) return -ENOMEM
    if (start < vma.vm_start) {
      if (flags === MS_ASYNC) return -ENOMEM
      start = vma.vm_start
      if (start >= end) return -ENOMEM
      unmapped_error = -ENOMEM
    }
    if (flags & MS_INVALIDATE && vm_flags_test(vma.vm_flags, VM_LOCKED)) return -EBUSY
    const file = vma.vm_file
    const first = vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE
    const last = first + (Math.min(end, vma.vm_end) - start) / PAGE_SIZE - 1
    start = vma.vm_end
    if (flags & MS_SYNC && file && vm_flags_test(vma.vm_flags, VM_SHARED)) {
      fsync_range(mm, file, first, last)
      if (start >= end) return unmapped_error
      vma = find_vma(mm, start)
    } else {
      if (start >= end) return unmapped_error
      vma = find_vma(mm, start)
    }
  }
}
