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
import { i_size_grow, mapping_wb } from './page_writeback.js'
import { balance_dirty_pages_ratelimited, type DirtyThrottleTask } from './page_writeback_throttle.js'
import { shmem_setattr_seals, shmem_write_seals } from './memfd.js'
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { type AddressSpace, type MmEnv, type MmStruct, type VmFile, FMODE_READ, FMODE_WRITE } from './mm_types.js'
import { access_ok, copy_to_user, fault_in_readable, read_user_atomic } from './uaccess.js'
import { ext4_zero_eof_tail, file_read, file_read_into, file_write, file_write_shared_pages, grab_cache_page, page_errno, set_page_dirty } from './shmem.js'
import { filemap_get_pages, filemap_put_batch, filemap_read_done } from './filemap.js'
import { folio_mark_accessed } from './swap.js'
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
 * Kernel: filemap_read(): bytes [pos, pos + count) of the file, batch by
 * batch through filemap_get_pages() (which reads ahead), each page's part
 * copied to `to`, as the kernel copies each folio to the iterator in turn:
 * a kernel buffer (byte pos at index 0) or a function (bytes at a file
 * position -> bytes it could copy; the bytes are a view of one buffer the
 * next page reuses). Returns the bytes copied; stops early when a copy falls
 * short or memory runs out. Leaves f_ra.prev_pos after the last byte copied.
 */
function filemap_read(env: MmEnv, file: VmFile, pos: number, count: number, to: Uint8Array | ((pos: number, data: Uint8Array) => number)): number {
  const mapping = file.f_mapping
  if (pos >= s_maxbytes(mapping) || count === 0) return 0
  count = Math.min(count, s_maxbytes(mapping) - pos)
  let done = 0
  let last_pos = file.f_ra.prev_pos
  // The reused buffer of a copy function: no page's part is longer than count (a one-byte read needs one byte).
  const page = new Uint8Array(typeof to === 'function' ? Math.min(PAGE_SIZE, count) : 0)
  for (let stop = false; !stop && done < count && pos + done < mapping.i_size; ) {
    const p = pos + done
    const batch = filemap_get_pages(env, file, p, count - done)
    if (!batch) break
    const end = Math.min(mapping.i_size, pos + count)
    for (let i = 0; i < batch.length && !stop; i++) {
      const index = batch[i]
      // A read that goes on in the page where the last one ended does not count as a new access.
      if (i > 0 || Math.floor(p / PAGE_SIZE) !== Math.floor((last_pos - 1) / PAGE_SIZE)) folio_mark_accessed(env, mapping.i_pages.get(index)!)
      const from = Math.max(p, index * PAGE_SIZE)
      const upto = Math.min(end, (index + 1) * PAGE_SIZE)
      if (upto <= from) {
        stop = true
        break
      }
      const n = typeof to === 'function'
        ? to(from, page.subarray(0, file_read_into(env, mapping, from, upto - from, page)))
        : file_read_into(env, mapping, from, upto - from, to.subarray(from - pos))
      done += n
      last_pos = pos + done
      stop = n < upto - from
    }
    // The batch's references, held through the copies (the readahead above may have reclaimed).
    filemap_put_batch(env, mapping, batch)
  }
  filemap_read_done(file, last_pos)
  return done
}

/**
 * Kernel: ksys_pread64() into a kernel buffer: the bytes read (a view of
 * `into` when given, at least count bytes long: a caller reading often
 * reuses one buffer instead of the host allocating one per call) or -errno.
 */
export function vfs_pread(env: MmEnv, file: VmFile, lpos: Loff, count: number, into?: Uint8Array): Uint8Array | number {
  if (!(file.f_mode & FMODE_READ)) return -EBADF
  const e = rw_verify_area(lpos, count)
  if (e) return e
  const pos = pos_num(lpos)
  if (file.f_mapping.backing === 'shmem') return file_read(env, file.f_mapping, pos, count, into)
  const n = Math.max(0, Math.min(count, file.f_mapping.i_size - pos))
  const out = into ? into.subarray(0, n) : new Uint8Array(n)
  return out.subarray(0, filemap_read(env, file, pos, count, out))
}

/**
 * Kernel: ksys_pwrite64() from a kernel buffer: bytes written or -errno.
 * A task's write (`throttle`: its dirty throttle state) is balanced after
 * each page, as generic_perform_write() does.
 */
export function vfs_pwrite(env: MmEnv, file: VmFile, lpos: Loff, data: Uint8Array, throttle?: DirtyThrottleTask): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  const e = rw_verify_area(lpos, data.length)
  if (e) return e
  if (data.length === 0) return 0
  const max = s_maxbytes(file.f_mapping)
  if (lpos >= max) return -EFBIG
  const pos = pos_num(lpos)
  const n = Math.min(data.length, max - pos)
  const mapping = file.f_mapping
  const wb = throttle ? mapping_wb(mapping) : null
  if (!throttle || !wb) return file_write(env, mapping, pos, data.subarray(0, n))
  let done = 0
  while (done < n) {
    const dirtied = wb.dirtied
    const r = file_write(env, mapping, pos + done, data.subarray(done, done + page_chunk(pos + done, n - done)))
    if (r < 0) return done > 0 ? done : r
    done += r
    throttle.nr_dirtied += wb.dirtied - dirtied
    balance_dirty_pages_ratelimited(env, mapping, throttle)
  }
  return done
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
  const sealed = shmem_setattr_seals(file.f_mapping, pos_num(length))
  if (sealed) return sealed
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
  const total = Math.max(0, Math.min(pos + len, mapping.i_size) - pos)
  if (mapping.backing === 'shmem') {
    // shmem_file_read_iter(): page by page, no readahead, through one buffer no longer than the read
    const page = new Uint8Array(Math.min(PAGE_SIZE, total))
    let copied = 0
    for (let n = 0; copied < total; copied += n) {
      const p = pos + copied
      n = page_chunk(p, total - copied)
      const left = copy_to_user(mm, uaddr + copied, page.subarray(0, file_read_into(mm.env, mapping, p, n, page)))
      if (left) {
        copied += n - left
        break
      }
    }
    return copied === 0 && total > 0 ? -EFAULT : copied
  }
  const copied = filemap_read(mm.env, file, pos, len, (p, data) => data.length - copy_to_user(mm, uaddr + (p - pos), data))
  if (copied === 0 && total > 0) return -EFAULT
  return copied
}

/** The largest folio ext4 builds (MAX_PAGECACHE_ORDER: 2 MiB): generic_perform_write()'s chunk. */
const WRITE_CHUNK = PAGE_SIZE * 2 ** 9

/**
 * Kernel: ext4_da_write_begin() -> __filemap_get_folio(FGP_WRITEBEGIN |
 * fgf_set_order(len)) for a page not cached: ext4 has large folios, so the
 * new folio is as large as the write from pos (up to the 2 MiB chunk) allows,
 * aligned to its size, smaller when the range holds cached pages. Its pages
 * (order 0 here) stay cached even when the copy into them fails. Returns
 * their indexes (none when out of memory).
 */
function write_begin_folio(env: MmEnv, mapping: AddressSpace, pos: number, len: number): number[] {
  const index = PFN_DOWN(pos)
  const bytes = Math.min(WRITE_CHUNK - (pos % WRITE_CHUNK), len)
  let order = Math.max(0, Math.floor(Math.log2(bytes)) - 12)
  while (order > 0 && index % 2 ** order !== 0) order--
  const busy = (o: number): boolean => {
    for (let i = index; i < index + 2 ** o; i++) if (mapping.i_pages.has(i)) return true
    return false
  }
  while (order > 0 && busy(order)) order--
  const made: number[] = []
  for (let i = index; i < index + 2 ** order; i++) {
    if (grab_cache_page(env, mapping, i) < 0) break
    made.push(i)
  }
  return made
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
  const wb = mapping_wb(mapping)
  let written = 0
  while (written < len) {
    const dirtied = wb ? wb.dirtied : 0
    const p = pos + written
    const bytes = page_chunk(p, len - written)
    // write_begin: the page-cache page for p (shmem_write_begin allocates it).
    // write_begin: shmem_write_begin / ext4_da_write_begin grab the page; a new ext4 page that
    // gets nothing copied is zeroed, made uptodate and dirtied (folio_zero_new_buffers()).
    let page = -1
    let folio: number[] = []
    const index = PFN_DOWN(p)
    if (mapping.backing === 'shmem') {
      // shmem_write_begin(): the seals (EPERM), then a page that cannot be had ends the write
      // (ENOSPC past the tmpfs size).
      const sealed = shmem_write_seals(mapping, p, bytes)
      if (sealed) return written > 0 ? written : sealed
      page = grab_cache_page(env, mapping, index)
      if (page < 0) return written > 0 ? written : page_errno(page)
    } else if (!mapping.i_pages.has(index)) {
      folio = write_begin_folio(env, mapping, p, len - written)
      page = mapping.i_pages.get(index) ?? -1
    }
    const data = read_user_atomic(mm, uaddr + written, bytes)
    // write_end: copy what was copied; i_size moves to pos + copied; shmem dirties the page anyway.
    if (data.length === 0 && p > mapping.i_size) {
      // ext4_da_do_write_end(): i_size moves past a gap even for a zero-length copy, and
      // ext4_zero_partial_blocks() zeroes (and dirties) the old EOF block's part of the gap.
      ext4_zero_eof_tail(env, mapping, mapping.i_size, p, true)
    }
    if (data.length > 0) {
      const r = file_write(env, mapping, p, data)
      if (r < 0) return written > 0 ? written : r
    } else if (folio.length) for (const i of folio) set_page_dirty(env, mapping.i_pages.get(i) as number)
    else if (page >= 0) set_page_dirty(env, page)
    else {
      const cached = mapping.i_pages.get(index) as number
      // ext4: write_begin reserves (delalloc) a hole's block, which dirties an uptodate page;
      // block_write_end() marks a touched buffer dirty even for a zero-length commit.
      if (!env.pages.test(cached, PG_mappedtodisk) || offset_in_page(p) !== 0) set_page_dirty(env, cached)
    }
    if (p + data.length > mapping.i_size) i_size_grow(mapping, p + data.length)
    if (data.length === 0) {
      if (fault_in_readable(mm, uaddr + written, bytes) === bytes) return written > 0 ? written : -EFAULT
      continue
    }
    written += data.length
    // balance_dirty_pages_ratelimited() after each copied chunk: the pages it newly dirtied count toward the task's pause.
    if (wb) {
      mm.dirty_throttle.nr_dirtied += wb.dirtied - dirtied
      balance_dirty_pages_ratelimited(env, mapping, mm.dirty_throttle)
    }
  }
  return written
}
