/**
 * read(2)/write(2) of an in-memory file to and from user memory, with the
 * kernel's user-copy semantics (Kernel: mm/filemap.c filemap_read,
 * generic_perform_write; mm/shmem.c shmem_write_begin/end).
 *
 * A write copies each page chunk with page faults disabled; a chunk that
 * copies nothing is retried after faulting the source in, and fails with
 * EFAULT when the source cannot be faulted in. write_end moves i_size up to
 * pos + copied even when nothing was copied, as Linux does.
 */
import type { MmStruct, VmFile } from './mm_types.js'
import { PAGE_SIZE } from './rmap.js'
import { access_ok, copy_to_user, fault_in_readable, read_user_atomic } from './uaccess.js'
import { file_read, file_write, grab_cache_page, set_page_dirty } from './shmem.js'
import { EFAULT, EINVAL } from '../kernel/errno.js'

/** Kernel: filemap_read() into user memory at uaddr: bytes read or -errno. */
export function file_read_to_user(mm: MmStruct, file: VmFile, pos: number, uaddr: number, len: number): number {
  if (pos < 0) return -EINVAL
  if (!access_ok(mm, uaddr, len)) return -EFAULT
  const data = file_read(mm.env, file.f_mapping, pos, len)
  let copied = 0
  while (copied < data.length) {
    const p = pos + copied
    const n = Math.min(PAGE_SIZE - (p % PAGE_SIZE), data.length - copied)
    const left = copy_to_user(mm, uaddr + copied, data.subarray(copied, copied + n))
    copied += n - left
    if (left) break
  }
  if (copied === 0 && data.length > 0) return -EFAULT
  return copied
}

/** Kernel: generic_perform_write() from user memory at uaddr: bytes written or -errno. */
export function file_write_from_user(mm: MmStruct, file: VmFile, pos: number, uaddr: number, len: number): number {
  if (pos < 0) return -EINVAL
  if (!access_ok(mm, uaddr, len)) return -EFAULT
  const mapping = file.f_mapping
  const env = mm.env
  let written = 0
  while (written < len) {
    const p = pos + written
    const bytes = Math.min(PAGE_SIZE - (p % PAGE_SIZE), len - written)
    // write_begin: the page-cache page for p (shmem_write_begin allocates it).
    let page = -1
    if (mapping.backing === 'shmem') page = grab_cache_page(env, mapping, Math.floor(p / PAGE_SIZE))
    const data = read_user_atomic(mm, uaddr + written, bytes)
    // write_end: copy what was copied; i_size moves to pos + copied; shmem dirties the page anyway.
    if (data.length > 0) file_write(env, mapping, p, data)
    else if (page >= 0) set_page_dirty(env, page)
    if (p + data.length > mapping.i_size) mapping.i_size = p + data.length
    if (data.length === 0) {
      if (fault_in_readable(mm, uaddr + written, bytes) === bytes) return written > 0 ? written : -EFAULT
      continue
    }
    written += data.length
  }
  return written
}
