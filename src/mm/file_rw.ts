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
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { type AddressSpace, type MmEnv, type MmStruct, type VmFile, FMODE_READ, FMODE_WRITE } from './mm_types.js'
import { access_ok, copy_to_user, fault_in_readable, read_user_atomic } from './uaccess.js'
import { ext4_zero_eof_tail, file_read, file_write, file_write_shared_pages, get_init_ra_size, grab_cache_page, readahead_pages, set_page_dirty } from './shmem.js'
import { truncate_setsize } from './truncate.js'
import { PG_mappedtodisk } from './page.js'
import { EBADF, EFAULT, EFBIG, EINVAL } from '../include/errno.js'
import type { Loff } from '../include/ulong.js'

const LLONG_MAX = 2 ** 63 - 1
/** s_maxbytes: ext4 with 4 KiB blocks ((2^32 - 1) blocks), tmpfs MAX_LFS_FILESIZE. */
export function s_maxbytes(mapping: AddressSpace): number {
  return mapping.backing === 'disk' ? (2 ** 32 - 1) * PAGE_SIZE : LLONG_MAX
}

/**
 * Kernel: rw_verify_area(): 0 or -EINVAL for a negative range or one whose
 * end passes LLONG_MAX. pos is the exact loff_t (src/include/ulong.ts): a
 * bigint from 2^53 on.
 */
function rw_verify_area(pos: Loff, count: number): number {
  if (pos < 0) return -EINVAL
  if (typeof pos !== 'number' && pos + BigInt(count) > 0x7fffffffffffffffn) return -EINVAL
  return 0
}

/**
 * A verified position as the page-cache code's double. From 2^53 on (only
 * tmpfs goes there: ext4 stops at s_maxbytes, 2^44 - 4096) it is rounded:
 * exact for every check above and for reads past EOF, approximate for data
 * written there and for such an i_size.
 */
function pos_num(pos: Loff): number {
  return typeof pos === 'number' ? pos : Number(pos)
}

/**
 * Kernel: page_cache_sync_ra() for a read(2) miss on a disk file: from the
 * start of the file an initial window, after a cached run a window as long
 * as the run, else just the requested pages.
 */
function read_readahead(env: MmEnv, mapping: AddressSpace, pos: number, count: number): void {
  if (mapping.backing !== 'disk' || count === 0) return
  const first = Math.floor(pos / PAGE_SIZE)
  const last = Math.floor((pos + count - 1) / PAGE_SIZE)
  for (let index = first; index <= last; index++) sync_readahead(env, mapping, index, last - index + 1)
}

/** page_cache_sync_ra() for a missing page at index with req pages still wanted. */
function sync_readahead(env: MmEnv, mapping: AddressSpace, index: number, req: number): void {
  if (mapping.backing !== 'disk' || mapping.i_pages.has(index)) return
  if (index === 0) {
    readahead_pages(env, mapping, 0, get_init_ra_size(req, 32))
    return
  }
  let miss = index - 1
  while (miss >= 0 && index - miss <= 32 && mapping.i_pages.has(miss)) miss--
  const contig = index - miss - 1
  if (contig <= req) readahead_pages(env, mapping, index, index + req)
  else readahead_pages(env, mapping, index, index + Math.min(contig + req, 32))
}

/** Kernel: ksys_pread64() into a kernel buffer: the bytes read or -errno. */
export function vfs_pread(env: MmEnv, file: VmFile, lpos: Loff, count: number): Uint8Array | number {
  if (!(file.f_mode & FMODE_READ)) return -EBADF
  const e = rw_verify_area(lpos, count)
  if (e) return e
  const pos = pos_num(lpos)
  const end = Math.min(pos + count, file.f_mapping.i_size)
  if (end > pos) read_readahead(env, file.f_mapping, pos, end - pos)
  return file_read(env, file.f_mapping, pos, count)
}

/** Kernel: ksys_pwrite64() from a kernel buffer: bytes written or -errno. */
export function vfs_pwrite(env: MmEnv, file: VmFile, lpos: Loff, data: Uint8Array): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  const e = rw_verify_area(lpos, data.length)
  if (e) return e
  if (data.length === 0) return 0
  const max = s_maxbytes(file.f_mapping)
  if (lpos >= max) return -EFBIG
  const pos = pos_num(lpos)
  const n = Math.min(data.length, max - pos)
  return file_write(env, file.f_mapping, pos, data.subarray(0, n))
}

/**
 * vfs_pwrite() of `nr` copies of one page at the page index `index` (a
 * program image's bytes, src/kernel/exec.ts): the frames share the host page
 * until written (file_write_shared_pages). Bytes written or -errno.
 */
export function vfs_pwrite_shared_pages(env: MmEnv, file: VmFile, index: number, nr: number, page: Uint8Array): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  if (nr === 0) return 0
  if ((index + nr) * PAGE_SIZE > s_maxbytes(file.f_mapping)) return -EFBIG
  return file_write_shared_pages(env, file.f_mapping, index, nr, page)
}

/** Kernel: do_sys_ftruncate(): 0 or -errno. */
export function vfs_ftruncate(env: MmEnv, file: VmFile, length: Loff): number {
  if (length < 0) return -EINVAL
  if (!(file.f_mode & FMODE_WRITE)) return -EINVAL
  if (length > s_maxbytes(file.f_mapping)) return -EFBIG
  return truncate_setsize(env, file.f_mapping, pos_num(length))
}

/** Kernel: filemap_read() into user memory at uaddr: bytes read or -errno. */
export function file_read_to_user(mm: MmStruct, file: VmFile, lpos: Loff, uaddr: number, len: number): number {
  if (!(file.f_mode & FMODE_READ)) return -EBADF
  const e = rw_verify_area(lpos, len)
  if (e) return e
  const pos = pos_num(lpos)
  if (!access_ok(mm, uaddr, len)) return -EFAULT
  const mapping = file.f_mapping
  const end = Math.min(pos + len, mapping.i_size)
  const total = Math.max(0, end - pos)
  // filemap_read(): page by page; a missing page is read (with readahead) when reached.
  let copied = 0
  for (let n = 0; copied < total; copied += n) {
    const p = pos + copied
    n = page_chunk(p, total - copied)
    const index = PFN_DOWN(p)
    sync_readahead(mm.env, mapping, index, Math.floor((end - 1) / PAGE_SIZE) - index + 1)
    const left = copy_to_user(mm, uaddr + copied, file_read(mm.env, mapping, p, n))
    if (left) {
      copied += n - left
      break
    }
  }
  if (copied === 0 && total > 0) return -EFAULT
  return copied
}

/** Kernel: generic_perform_write() from user memory at uaddr: bytes written or -errno. */
export function file_write_from_user(mm: MmStruct, file: VmFile, lpos: Loff, uaddr: number, len: number): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  const e = rw_verify_area(lpos, len)
  if (e) return e
  if (!access_ok(mm, uaddr, len)) return -EFAULT
  if (len === 0) return 0
  const max = s_maxbytes(file.f_mapping)
  if (lpos >= max) return -EFBIG
  const pos = pos_num(lpos)
  len = Math.min(len, max - pos)
  const mapping = file.f_mapping
  const env = mm.env
  let written = 0
  while (written < len) {
    const p = pos + written
    const bytes = page_chunk(p, len - written)
    // write_begin: the page-cache page for p (shmem_write_begin allocates it).
    // write_begin: shmem_write_begin / ext4_da_write_begin grab the page; a new ext4 page that
    // gets nothing copied is zeroed, made uptodate and dirtied (folio_zero_new_buffers()).
    let page = -1
    const index = PFN_DOWN(p)
    if (mapping.backing === 'shmem' || !mapping.i_pages.has(index)) page = grab_cache_page(env, mapping, index)
    const data = read_user_atomic(mm, uaddr + written, bytes)
    // write_end: copy what was copied; i_size moves to pos + copied; shmem dirties the page anyway.
    if (data.length === 0 && p > mapping.i_size) {
      // ext4_da_do_write_end(): i_size moves past a gap even for a zero-length copy, and
      // ext4_zero_partial_blocks() zeroes (and dirties) the old EOF block's part of the gap.
      ext4_zero_eof_tail(env, mapping, mapping.i_size, p, true)
    }
    if (data.length > 0) file_write(env, mapping, p, data)
    else if (page >= 0) set_page_dirty(env, page)
    else {
      const cached = mapping.i_pages.get(index) as number
      // ext4: write_begin reserves (delalloc) a hole's block, which dirties an uptodate page;
      // block_write_end() marks a touched buffer dirty even for a zero-length commit.
      if (!env.pages.test(cached, PG_mappedtodisk) || offset_in_page(p) !== 0) set_page_dirty(env, cached)
    }
    if (p + data.length > mapping.i_size) mapping.i_size = p + data.length
    if (data.length === 0) {
      if (fault_in_readable(mm, uaddr + written, bytes) === bytes) return written > 0 ? written : -EFAULT
      continue
    }
    written += data.length
  }
  return written
}
