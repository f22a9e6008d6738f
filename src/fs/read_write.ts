/**
 * read(2), write(2), lseek(2) and positional I/O through an open file's
 * operations (Kernel: fs/read_write.c vfs_read(), vfs_write(), vfs_llseek(),
 * generic_file_llseek(); mm/filemap.c generic_file_read_iter() for regular
 * files).
 *
 * The VFS checks the file's mode before calling f_op (EBADF), then the
 * operation does the work. Regular files of every filesystem here share
 * generic_file_operations: page-cache reads and writes to and from user
 * memory (src/mm/file_rw.ts), the usual llseek.
 */
import { EBADF, EINVAL, ESPIPE } from '../include/errno.js'
import { FMODE_READ, FMODE_WRITE, type MmEnv } from '../mm/mm_types.js'
import { file_read_to_user, file_write_from_user } from '../mm/file_rw.js'
import { ext4_sync_file } from '../mm/fs_writeback.js'
import { SEEK_CUR, SEEK_END, SEEK_SET } from '../include/uapi/fcntl.js'
import { PAGE_SIZE } from '../include/page_types.js'
import type { FileOperations, Loff, UserPtr } from './fs.js'
import type { File } from './fs.js'

/** The largest file offset (loff_t) lseek(2) accepts. */
const MAX_LFS_FILESIZE = 2 ** 63 - 1

/** Kernel: generic_file_llseek(): SEEK_SET/CUR/END within [0, s_maxbytes]. */
export function generic_file_llseek(file: File, offset: number, whence: number): number {
  let pos: number
  if (whence === SEEK_SET) pos = offset
  else if (whence === SEEK_CUR) pos = file.f_pos + offset
  else if (whence === SEEK_END) pos = file.f_mapping.i_size + offset
  else return -EINVAL
  if (pos < 0 || pos > Math.min(file.f_inode.i_sb.s_maxbytes, MAX_LFS_FILESIZE)) return -EINVAL
  file.f_pos = pos
  return pos
}

/**
 * The file_operations of regular files on the filesystems here
 * (ext4_file_operations, shmem_file_operations), for one machine's memory.
 */
export function generic_file_operations(env: MmEnv): FileOperations {
  return {
    llseek: generic_file_llseek,
    read(file, buf, count, ppos) {
      const n = file_read_to_user(buf.mm, file, ppos.pos, buf.addr, count)
      if (n > 0) ppos.pos += n
      return n
    },
    write(file, buf, count, ppos) {
      const n = file_write_from_user(buf.mm, file, ppos.pos, buf.addr, count)
      if (n > 0) ppos.pos += n
      return n
    },
    fsync(file, start, end, datasync) {
      ext4_sync_file(env, file.f_mapping, Math.floor(start / PAGE_SIZE), Math.floor(end / PAGE_SIZE), datasync)
      return 0
    },
  }
}

/** Kernel: vfs_read(): EBADF unless open for reading, EINVAL without a read operation. */
/** Kernel: MAX_RW_COUNT (INT_MAX & PAGE_MASK): the most one read or write moves. */
export const MAX_RW_COUNT = 0x7ffff000

/**
 * Kernel: access_ok() of a user buffer (arch/x86/include/asm/uaccess_64.h):
 * the whole of [addr, addr + count) must lie below TASK_SIZE. `addr` and
 * `count` are unsigned longs (a bigint is above every user address).
 */
export function access_ok(task_size: number, addr: number | bigint, count: number | bigint): boolean {
  if (typeof addr !== 'number' || typeof count !== 'number') return count === 0 || count === 0n
  return addr <= task_size && count <= task_size - addr
}

export function vfs_read(file: File, buf: UserPtr, count: number, ppos: Loff): number {
  if (!(file.f_mode & FMODE_READ)) return -EBADF
  if (!file.f_op.read) return -EINVAL
  return file.f_op.read(file, buf, count, ppos)
}

/** Kernel: vfs_write(): EBADF unless open for writing, EINVAL without a write operation. */
export function vfs_write(file: File, buf: UserPtr, count: number, ppos: Loff): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF
  if (!file.f_op.write) return -EINVAL
  return file.f_op.write(file, buf, count, ppos)
}

/** Kernel: vfs_llseek(): a file without llseek cannot seek (no_llseek: ESPIPE). */
export function vfs_llseek(file: File, offset: number, whence: number): number {
  if (!file.f_op.llseek) return -ESPIPE
  return file.f_op.llseek(file, offset, whence)
}
