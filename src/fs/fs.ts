/**
 * The VFS objects (Kernel: include/linux/fs.h, include/linux/kdev_t.h;
 * fs/file_table.c): super_block, inode, file, file_operations and device
 * numbers. Filesystems (filesystems.ts) create inodes on their super_block;
 * an open file (struct file) takes its f_op from its inode. A character
 * device's inode (S_IFCHR, i_rdev) opens through chrdev_open
 * (char_dev.ts), which replaces the file's f_op with its driver's.
 *
 * struct file is an open file description: what a descriptor names
 * (file.ts), with its access mode, its position (f_pos, shared by every
 * descriptor that names it, also across fork), its operations, its inode
 * and page cache, and a driver's private_data. It is also what the mm maps
 * (the VmFile contract of src/mm/mm_types.ts).
 *
 * Invariants: an inode's address_space (i_mapping) has that inode as host;
 * a file's f_count counts the descriptors and mappings holding it, and
 * f_op.release runs once, when it reaches zero; i_ino is unique within its super_block.
 */
import type { AddressSpace, BackingDevInfo, FileRaState, MmStruct, ShmemSbInfo, VmArea, VmFile } from '../mm/mm_types.js'
import type { WaitQueueHead } from '../include/wait.js'
import { file_ra_state_init, noop_backing_dev_info } from '../mm/readahead.js'
import { module_put, type Module } from '../include/module.js'

// ---- inode modes (include/uapi/linux/stat.h) ----
export const S_IFMT = 0o170000
export const S_IFREG = 0o100000
export const S_IFDIR = 0o040000
export const S_IFCHR = 0o020000

/** Kernel: S_ISCHR(). */
export const S_IFBLK = 0o060000
export function S_ISBLK(mode: number): boolean {
  return (mode & S_IFMT) === S_IFBLK
}
export function S_ISCHR(mode: number): boolean {
  return (mode & S_IFMT) === S_IFCHR
}

// ---- device numbers (include/linux/kdev_t.h: 12-bit major, 20-bit minor in the kernel's dev_t) ----
export const MINORBITS = 20
const MINOR_SPAN = 2 ** MINORBITS
/** Kernel: MKDEV(). */
export function MKDEV(major: number, minor: number): number {
  return major * MINOR_SPAN + minor
}
/** Kernel: MAJOR(). */
export function MAJOR(dev: number): number {
  return Math.floor(dev / MINOR_SPAN)
}
/** Kernel: MINOR(). */
export function MINOR(dev: number): number {
  return dev % MINOR_SPAN
}
/** Kernel: new_encode_dev(): the dev_t user space sees (stat's st_rdev, mknod's argument). */
export function new_encode_dev(dev: number): number {
  const major = MAJOR(dev)
  const minor = MINOR(dev)
  return ((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0
}
/** Kernel: new_decode_dev(). */
export function new_decode_dev(dev: number): number {
  const major = (dev & 0xfff00) >>> 8
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00)
  return MKDEV(major, minor)
}

/** A user buffer of the calling task (a `char __user *`): copy_to_user()/copy_from_user() reach it through `mm`. */
export interface UserPtr {
  readonly mm: MmStruct
  readonly addr: number
}

/** loff_t *ppos: the position a read or write starts at, advanced by the bytes done. */
export interface Loff {
  pos: number
}

/**
 * struct file_operations: what an open file does. Every operation returns
 * >= 0 on success or -errno, as in the kernel; an absent operation gets the
 * VFS's default answer (read/write: -EINVAL, llseek: no_llseek's -ESPIPE...).
 */
export interface FileOperations {
  /** THIS_MODULE: the module whose code these are (opens hold a reference on it: fops_get()). */
  readonly owner?: Module | null
  /** Kernel: llseek(): the new position, or -errno. */
  llseek?(file: File, offset: number, whence: number): number
  /** Kernel: read(): bytes copied to `buf` from *ppos (advancing it), or -errno. */
  read?(file: File, buf: UserPtr, count: number, ppos: Loff): number
  /** Kernel: write(): bytes taken from `buf` at *ppos (advancing it), or -errno. */
  write?(file: File, buf: UserPtr, count: number, ppos: Loff): number
  /** Kernel: open(): 0 or -errno (the file is not opened on failure). */
  open?(inode: Inode, file: File): number
  /** Kernel: release(): the last reference to the file went. */
  release?(inode: Inode, file: File): number
  /** Kernel: fsync(): write [start, end] back; 0 or -errno. */
  fsync?(file: File, start: number, end: number, datasync: boolean): number
  /**
   * Kernel: unlocked_ioctl(): the command's result (>= 0) or -errno. `arg`
   * is the unsigned long argument: a number, or a user address the driver
   * reaches through copy_from_user/copy_to_user of the caller's `mm`.
   */
  unlocked_ioctl?(file: File, cmd: number, arg: number, mm: MmStruct): number
  /**
   * Kernel: mmap(): set the new VMA up (vm_ops, vm_flags, a different
   * vm_file) before it is linked; 0 or -errno. Regular files have none
   * here: their mapping is the page cache's (generic_file_mmap, implied).
   */
  mmap?(file: File, vma: VmArea): number
  /**
   * Kernel: poll(): the POLL* mask of what the file can do now, after
   * poll_wait() on each queue that a change would be announced on.
   */
  poll?(file: File, pt: PollTable | null): number
}

/** poll_table: poll_wait() hands each wait queue to _qproc (null on poll's later passes). */
export interface PollTable {
  readonly _qproc: ((file: File, wq: WaitQueueHead) => void) | null
}

/** struct cdev as an inode keeps it (the rest is in char_dev.ts): __fput() drops what chrdev_open() took. */
export interface InodeCdev {
  cdev_put(): void
}

/** struct file_system_type: a filesystem's name and how it makes regular files. */
export interface FileSystemType {
  readonly name: string
  /** A tmpfs instance's size limits (s_fs_info: shmem_sb_info); absent for others. */
  readonly sbinfo?: ShmemSbInfo | null
  /** A new regular file's inode on `sb` (the filesystem's ->create()), or -errno (tmpfs: ENOSPC without a free inode). */
  create(sb: SuperBlock, mode: number): Inode | number
}

/** struct super_block: one mounted filesystem instance. */
export class SuperBlock {
  private ino = 2
  constructor(
    readonly s_type: FileSystemType,
    /** s_dev: the device number /proc/<pid>/maps prints for its files. */
    readonly s_dev: number,
    /** s_maxbytes: the largest file size. */
    readonly s_maxbytes: number,
    /** A source of inode numbers shared with other super blocks (get_next_ino()), or the block's own. */
    private readonly ino_source: (() => number) | null = null,
    /** s_bdi: the device's readahead limits (noop_backing_dev_info for tmpfs). */
    readonly s_bdi: BackingDevInfo = noop_backing_dev_info,
  ) {}

  /** Kernel: get_next_ino() / the filesystem's inode allocator. */
  next_ino(): number {
    return this.ino_source ? this.ino_source() : this.ino++
  }
}

/** struct inode. */
export class Inode {
  i_nlink = 1
  /** i_rdev: the device of a device special file (0 otherwise). */
  i_rdev = 0
  /** The owner and group (i_uid, i_gid): root's unless a process made the node (mknod: its fsuid and fsgid). */
  i_uid = 0
  i_gid = 0
  /** i_cdev: the cdev a character-device inode was last opened through (chrdev_open() caches it). */
  i_cdev: InodeCdev | null = null
  constructor(
    readonly i_sb: SuperBlock,
    readonly i_ino: number,
    readonly i_mode: number,
    /** i_fop: the file_operations an open of this inode gets (a device's are chosen at open). */
    public i_fop: FileOperations,
    /** i_mapping: the inode's page cache (inode->i_data). */
    readonly i_mapping: AddressSpace,
  ) {}
}

/** struct file. */
export class File implements VmFile {
  f_count = 1
  /** f_pos: where the next read(2)/write(2) starts. */
  f_pos = 0
  /** private_data: a driver's per-open state. */
  private_data: unknown = null
  readonly anon_shared = false
  /** FMODE_UNSIGNED_OFFSET: positions are unsigned (/dev/mem's open sets it). */
  f_unsigned_offset = false
  /** f_ra: the readahead window, sized by the device when the file is opened (do_dentry_open()). */
  readonly f_ra: FileRaState
  /** f_mapping: the inode's page cache, or what a driver's open points it at (/dev/mem: the iomem inode's). */
  f_mapping: AddressSpace

  constructor(
    readonly f_inode: Inode,
    /** FMODE_READ | FMODE_WRITE. */
    public f_mode: number,
    /** The open(2) flags (O_APPEND, O_NONBLOCK... as given). */
    readonly f_flags: number,
    /** f_op: the inode's i_fop, replaced by the driver's at a character device's open (replace_fops()). */
    public f_op: FileOperations,
    /** The path it was opened by (what /proc/<pid>/maps prints). */
    readonly name: string,
  ) {
    this.f_ra = file_ra_state_init(f_inode.i_mapping)
    this.f_mapping = f_inode.i_mapping
  }


  /** The mm's view of f_op->mmap: a device's hook, null for a device without one, absent for regular files. */
  get f_mmap(): ((vma: VmArea) => number) | null | undefined {
    if (!S_ISCHR(this.f_inode.i_mode)) return undefined
    const mmap = this.f_op.mmap
    return mmap ? (vma) => mmap(this, vma) : null
  }

  /** Kernel: __fput(): the last reference went: release, then the device and module references open took. */
  __fput(): void {
    this.f_op.release?.(this.f_inode, this)
    if (S_ISCHR(this.f_inode.i_mode)) this.f_inode.i_cdev?.cdev_put()
    module_put(this.f_op.owner) // fops_put()
  }
}

/** Kernel: fput(): drop a reference; the last one releases the file. */
export function fput(file: VmFile): void {
  if (--file.f_count === 0) file.__fput?.()
}
