/**
 * A minimal path namespace for the in-memory files processes open
 * (Kernel: do_filp_open(), fs/namei.c; do_sys_truncate(), fs/open.c).
 *
 * Every regular file is a shmem-style object (mm/shmem.ts): paths under
 * /dev/shm, /tmp and /run live on tmpfs (no writeback: pages written by
 * write() stay dirty), every other path on a disk-like filesystem whose dirty
 * pages writeback (msync, fsync) cleans. Directories are implicit: any path
 * may be created. Each open() returns a new struct file (its own f_mode) on
 * the shared object, like Linux's open file descriptions.
 *
 * Devices and inode numbers: tmpfs files get dev 00:19 and disk files fe:00
 * (the reference machine's /dev/shm and root fs); inode numbers are handed
 * out in creation order from 2.
 */
import { type MmEnv, type VmFile, FMODE_READ, FMODE_WRITE } from '../mm/mm_types.js'
import { shmem_file_setup, file_reopen, filemap_write_and_wait_range } from '../mm/shmem.js'
import { truncate_setsize } from '../mm/truncate.js'
import { vfs_pread, vfs_pwrite, vfs_ftruncate } from '../mm/file_rw.js'
import type { Loff } from '../include/ulong.js'
import { EEXIST, EINVAL, EISDIR, ENOENT } from '../include/uapi/errno.js'

import { O_ACCMODE, O_CREAT, O_EXCL, O_RDONLY, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'

interface Inode {
  readonly file: VmFile
  readonly ino: number
  readonly dev_major: number
  readonly dev_minor: number
}

export class FsNamespace {
  private readonly inodes = new Map<string, Inode>()
  private readonly by_mapping = new Map<number, Inode>()
  private next_ino = 2

  constructor(readonly env: MmEnv) {}

  /** tmpfs or disk, by mount point. */
  static backing_of(path: string): 'shmem' | 'disk' {
    return /^\/(dev\/shm|tmp|run)(\/|$)/.test(path) ? 'shmem' : 'disk'
  }

  /** Kernel: do_filp_open(): a struct file, or -errno. */
  filp_open(path: string, flags: number, _mode: number): VmFile | number {
    if (!path.startsWith('/') || path.endsWith('/')) return path.endsWith('/') ? -EISDIR : -ENOENT
    let inode = this.inodes.get(path)
    if (inode && flags & O_CREAT && flags & O_EXCL) return -EEXIST
    if (!inode) {
      if (!(flags & O_CREAT)) return -ENOENT
      const backing = FsNamespace.backing_of(path)
      const f = shmem_file_setup(this.env, path, 0, backing)
      inode = backing === 'shmem'
        ? { file: f, ino: this.next_ino++, dev_major: 0, dev_minor: 0x19 }
        : { file: f, ino: this.next_ino++, dev_major: 0xfe, dev_minor: 0 }
      this.inodes.set(path, inode)
      this.by_mapping.set(f.f_mapping.id, inode)
    }
    const acc = flags & O_ACCMODE
    if (acc === 3) return -EINVAL
    const f_mode = acc === O_RDONLY ? FMODE_READ : acc === O_WRONLY ? FMODE_WRITE : FMODE_READ | FMODE_WRITE
    const file = file_reopen(inode.file, f_mode)
    if (flags & O_TRUNC && f_mode & FMODE_WRITE && file.f_mapping.i_size > 0) truncate_setsize(this.env, file.f_mapping, 0)
    return file
  }

  /** Device and inode number of an open file (0s for objects outside the namespace). */
  file_ino(file: VmFile): { dev_major: number; dev_minor: number; ino: number } {
    const i = this.by_mapping.get(file.f_mapping.id)
    if (i) return { dev_major: i.dev_major, dev_minor: i.dev_minor, ino: i.ino }
    // Shared anonymous memory and other internal shmem objects: shm_mnt (00:01), inode = object id.
    return { dev_major: 0, dev_minor: 1, ino: file.f_mapping.id }
  }

  /** Kernel: ksys_pread64() into a kernel buffer (readahead, short at EOF), or -errno. */
  kernel_read(file: VmFile, off: Loff, len: number): Uint8Array | number {
    return vfs_pread(this.env, file, off, len)
  }

  /** Kernel: ksys_pwrite64() from a kernel buffer: bytes written or -errno (EFBIG past s_maxbytes). */
  kernel_write(file: VmFile, off: Loff, data: Uint8Array): number {
    return vfs_pwrite(this.env, file, off, data)
  }

  /** Kernel: do_sys_ftruncate() -> do_truncate() -> truncate_setsize(). */
  do_truncate(file: VmFile, size: Loff): number {
    return vfs_ftruncate(this.env, file, size)
  }

  /** Kernel: vfs_fsync(): write the dirty pages back (disk-backed files). */
  vfs_fsync(file: VmFile): number {
    filemap_write_and_wait_range(this.env, file.f_mapping, 0, Number.MAX_SAFE_INTEGER)
    return 0
  }
}
