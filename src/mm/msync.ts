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
import { PAGE_ALIGN } from './mmap.js'
import { pte_dirty_to_page } from './memory.js'
import { filemap_write_and_wait_range } from './shmem.js'
import { EBUSY, EINVAL, ENOMEM } from '../include/errno.js'

/** Kernel: vfs_fsync_range() for the object behind a VMA: PTE dirty bits to pages, then writeback. */
function fsync_range(mm: MmStruct, vma_file: NonNullable<import('./mm_types.js').VmArea['vm_file']>, fstart: number, fend: number): void {
  const mapping = vma_file.f_mapping
  if (mapping.backing !== 'disk') return
  const first = Math.floor(fstart / PAGE_SIZE)
  const last = Math.floor(fend / PAGE_SIZE)
  // folio_mkclean() on every mapping of the written pages (all mms mapping the object).
  for (const v of mapping.i_mmap) {
    if (!(vm_flags_test(v.vm_flags, VM_SHARED))) continue
    const s = Math.max(v.vm_start, v.vm_start + (first - v.vm_pgoff) * PAGE_SIZE)
    const e = Math.min(v.vm_end, v.vm_start + (last + 1 - v.vm_pgoff) * PAGE_SIZE)
    if (s < e) pte_dirty_to_page(v.vm_mm, v, s, e, true)
  }
  filemap_write_and_wait_range(mm.env, mapping, first, last)
}

/** Kernel: sys_msync(). 0 or -errno. */
export function do_msync(mm: MmStruct, start: number, len: number, flags: number): number {
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL
  if (start % PAGE_SIZE) return -EINVAL
  if (flags & MS_ASYNC && flags & MS_SYNC) return -EINVAL
  len = PAGE_ALIGN(len)
  const end = start + len
  if (end >= 2 ** 64) return -ENOMEM
  if (end === start) return 0
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
    const fstart = start - vma.vm_start + vma.vm_pgoff * PAGE_SIZE
    const fend = fstart + (Math.min(end, vma.vm_end) - start) - 1
    start = vma.vm_end
    if (flags & MS_SYNC && file && vm_flags_test(vma.vm_flags, VM_SHARED)) {
      fsync_range(mm, file, fstart, fend)
      if (start >= end) return unmapped_error
      vma = find_vma(mm, start)
    } else {
      if (start >= end) return unmapped_error
      vma = find_vma(mm, start)
    }
  }
}
