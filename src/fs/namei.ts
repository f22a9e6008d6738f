/**
 * Path lookup, the mount table and open (Kernel: fs/namei.c
 * do_filp_open(), fs/namespace.c lookup_mnt(), fs/open.c do_truncate()).
 *
 * The machine mounts its ext4 at /, devtmpfs at /dev (device nodes, made by
 * mknod) and its tmpfs at /dev/shm, /tmp and /run (one tmpfs instance, as
 * the reference machine's /dev/shm). A path is
 * resolved by its longest mount point; directories are implicit (any
 * absolute path may be created). The dentry cache maps a path to its
 * inode; each open() makes a new struct file on it (its own mode and
 * position), as Linux's open file descriptions. A character-device inode
 * opens through chrdev_open(): the driver's f_op replaces the inode's.
 */
import { type BackingDevInfo, type MmEnv, type VmFile, FMODE_READ, FMODE_WRITE } from '../mm/mm_types.js'
import { truncate_setsize } from '../mm/truncate.js'
import { vfs_pread, vfs_pwrite, vfs_pwrite_shared_pages, vfs_ftruncate } from '../mm/file_rw.js'
import type { DirtyThrottleTask } from '../mm/page_writeback_throttle.js'
import type { Loff } from '../include/ulong.js'
import { EACCES, EEXIST, EINVAL, EISDIR, ENOENT, ENOSYS, EPERM } from '../include/uapi/errno.js'
import { shmem_statfs, type Kstatfs } from '../mm/shmem.js'
import { O_ACCMODE, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'
import { S_IFBLK, S_IFCHR, S_IFMT, S_IFREG, S_ISCHR, type FileOperations, type Inode, type SuperBlock } from './fs.js'
import { File } from './fs.js'
import { machine_filesystems, type RootDisk } from './filesystems.js'
import { VM_READAHEAD_KB } from '../mm/readahead.js'
import { devtmpfs_super } from './devtmpfs.js'
import { ChrdevRegistry } from './char_dev.js'
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_MKNOD, cred_capable, type Cred } from '../include/cred.js'

/** struct vfsmount as far as lookup needs it. */
export interface Mount {
  readonly mnt_point: string
  readonly mnt_sb: SuperBlock
}

export class FsNamespace {
  /** The mount table, longest mount point first (lookup_mnt() order). */
  readonly mounts: readonly Mount[]
  /** The dentry cache: path -> inode. */
  private readonly dcache = new Map<string, Inode>()

  /** The kernel's internal tmpfs (memfd_create's files). */
  readonly shm_mnt: SuperBlock
  /** The char-device numbers and cdevs chrdev_open() looks up. */
  readonly chrdevs: ChrdevRegistry
  /** The root filesystem's device (vda): its disk and flusher. */
  readonly root_bdi: BackingDevInfo
  /** def_chr_fops: a character node's i_fop, whose open is chrdev_open(). */
  private readonly def_chr_fops: FileOperations

  constructor(
    readonly env: MmEnv,
    chrdevs?: ChrdevRegistry,
    read_ahead_kb = VM_READAHEAD_KB,
    root_disk: RootDisk = 'virtio',
  ) {
    const { ext4, tmpfs, shm_mnt } = machine_filesystems(env, read_ahead_kb, root_disk)
    this.shm_mnt = shm_mnt
    this.root_bdi = ext4.s_bdi
    // Without a kernel to kmalloc from (a bare namespace in tests), the registry's objects cost nothing.
    this.chrdevs = chrdevs ?? new ChrdevRegistry({ kzalloc: () => 1, kfree: () => {}, pr_err: () => {} })
    const reg = this.chrdevs
    this.def_chr_fops = { open: (inode, filp) => reg.chrdev_open(inode, filp) }
    const devtmpfs = devtmpfs_super(env)
    this.mounts = [
      { mnt_point: '/dev/shm', mnt_sb: tmpfs },
      { mnt_point: '/tmp', mnt_sb: tmpfs },
      { mnt_point: '/run', mnt_sb: tmpfs },
      { mnt_point: '/dev', mnt_sb: devtmpfs },
      { mnt_point: '/', mnt_sb: ext4 },
    ]
  }

  /** The inode at `path`, or null (a stat without the struct). */
  lookup(path: string): Inode | null {
    return this.dcache.get(path) ?? null
  }

  /**
   * Kernel: vfs_mknod() for a character or block device (do_mknodat): EPERM without
   * CAP_MKNOD (null cred: the kernel's own devtmpfs_create_node), EEXIST
   * when the path exists, EINVAL for another file type. `dev` is the
   * kernel's dev_t (MKDEV).
   */
  mknod(path: string, mode: number, dev: number, cred: Cred | null = null): number {
    if (!path.startsWith('/') || path.endsWith('/')) return -ENOENT
    const fmt = mode & S_IFMT
    if (fmt !== S_IFCHR && fmt !== S_IFBLK) return -EINVAL
    if (cred && !cred_capable(cred, CAP_MKNOD)) return -EPERM
    if (this.dcache.has(path)) return -EEXIST
    const sb = this.lookup_mnt(path).mnt_sb
    const inode = sb.s_type.create(sb, fmt | (mode & 0o7777))
    if (typeof inode === 'number') return inode
    // init_special_inode(): a character node opens through def_chr_fops (a block node only swapon uses here).
    if (fmt === S_IFCHR) inode.i_fop = this.def_chr_fops
    inode.i_rdev = dev
    // inode_init_owner(): the maker's fsuid and fsgid (the mode is taken as given: no umask is modelled)
    if (cred) {
      inode.i_uid = cred.fsuid
      inode.i_gid = cred.fsgid
    }
    this.dcache.set(path, inode)
    return 0
  }

  /** Kernel: vfs_unlink() (rm of a node): 0 or -ENOENT. Open files keep their inode. */
  unlink(path: string): number {
    return this.dcache.delete(path) ? 0 : -ENOENT
  }

  /** Kernel: lookup_mnt(): the mount a path lies on. */
  lookup_mnt(path: string): Mount {
    for (const m of this.mounts) {
      if (m.mnt_point === '/' || path === m.mnt_point || path.startsWith(m.mnt_point + '/')) return m
    }
    return this.mounts[this.mounts.length - 1]
  }

  /**
   * Kernel: vfs_statfs() of the filesystem `path` lies on: a tmpfs's
   * shmem_statfs(); -ENOSYS for the others (mmsim's disk has no size, so
   * ext4's numbers would be invented).
   */
  statfs(path: string): Kstatfs | number {
    if (!path.startsWith('/')) return -ENOENT
    const sbinfo = this.lookup_mnt(path).mnt_sb.s_type.sbinfo
    return sbinfo ? shmem_statfs(sbinfo) : -ENOSYS
  }

  /**
   * Kernel: shmem_file_setup() on shm_mnt as memfd_create() calls it: an
   * unlinked tmpfs file named "memfd:NAME" (maps shows "/memfd:NAME
   * (deleted)"), open read-write, of mode 0777 (0666 for MFD_NOEXEC_SEAL).
   */
  memfd_file_setup(name: string, mode: number): File | number {
    const sb = this.shm_mnt
    const inode = sb.s_type.create(sb, S_IFREG | mode)
    if (typeof inode === 'number') return inode
    // __shmem_file_setup(): clear_nlink(), the file is unlinked (a core dump counts it as anonymous shared memory)
    inode.i_nlink = 0
    return new File(inode, FMODE_READ | FMODE_WRITE, O_RDWR, inode.i_fop, `/memfd:${name} (deleted)`)
  }

  /** Kernel: do_filp_open(): a struct file, or -errno. */
  filp_open(path: string, flags: number, mode: number, cred: Cred | null = null): File | number {
    if (!path.startsWith('/') || path.endsWith('/')) return path.endsWith('/') ? -EISDIR : -ENOENT
    let inode = this.dcache.get(path)
    if (inode && flags & O_CREAT && flags & O_EXCL) return -EEXIST
    if (!inode) {
      if (!(flags & O_CREAT)) return -ENOENT
      const sb = this.lookup_mnt(path).mnt_sb
      const made = sb.s_type.create(sb, S_IFREG | (mode & 0o7777))
      if (typeof made === 'number') return made
      inode = made
      this.dcache.set(path, inode)
    }
    const acc = flags & O_ACCMODE
    if (acc === 3) return -EINVAL
    const f_mode = acc === O_RDONLY ? FMODE_READ : acc === O_WRONLY ? FMODE_WRITE : FMODE_READ | FMODE_WRITE
    // may_open() -> inode_permission() of a device node: its mode, owner and group against the opener
    const fmt = inode.i_mode & S_IFMT
    if (cred && (fmt === S_IFCHR || fmt === S_IFBLK) && generic_permission(cred, inode, f_mode) < 0) return -EACCES
    const file = new File(inode, f_mode, flags, inode.i_fop, path)
    const r = file.f_op.open?.(inode, file) ?? 0
    if (r < 0) return r
    // do_open(): O_TRUNC truncates regular files only (a device's open decides for itself).
    if (S_ISCHR(inode.i_mode)) return file
    if (flags & O_TRUNC && f_mode & FMODE_WRITE && file.f_mapping.i_size > 0) truncate_setsize(this.env, file.f_mapping, 0)
    return file
  }

  /** Kernel: ksys_pread64() into a kernel buffer (readahead, short at EOF; `into`: the caller's, see vfs_pread), or -errno. */
  kernel_read(file: VmFile, off: Loff, len: number, into?: Uint8Array): Uint8Array | number {
    return vfs_pread(this.env, file, off, len, into)
  }

  /** Kernel: ksys_pwrite64() from a kernel buffer: bytes written or -errno (EFBIG past s_maxbytes). */
  kernel_write(file: VmFile, off: Loff, data: Uint8Array, throttle?: DirtyThrottleTask): number {
    return vfs_pwrite(this.env, file, off, data, throttle)
  }

  /** kernel_write() of `nr` copies of one immutable page from page index `index`, the frames sharing it until written (a program image). */
  kernel_write_shared_pages(file: VmFile, index: number, nr: number, page: Uint8Array): number {
    return vfs_pwrite_shared_pages(this.env, file, index, nr, page)
  }

  /** Kernel: do_sys_ftruncate() -> do_truncate() -> truncate_setsize(). */
  do_truncate(file: VmFile, size: Loff): number {
    return vfs_ftruncate(this.env, file, size)
  }
}

/**
 * Kernel: generic_permission() for a non-directory (fs/namei.c): the
 * owner's bits if the caller's fsuid owns the inode, else the group's if
 * its fsgid is the inode's group (supplementary groups are not modelled),
 * else the others'; failing those, CAP_DAC_OVERRIDE grants read and write,
 * CAP_DAC_READ_SEARCH read alone. 0 or -EACCES.
 */
export function generic_permission(cred: Cred, inode: Inode, f_mode: number): number {
  let bits = inode.i_mode
  if (cred.fsuid === inode.i_uid) bits >>= 6
  else if (cred.fsgid === inode.i_gid) bits >>= 3
  const want = (f_mode & FMODE_READ ? 4 : 0) | (f_mode & FMODE_WRITE ? 2 : 0)
  if ((want & ~bits & 7) === 0) return 0
  if (cred_capable(cred, CAP_DAC_OVERRIDE)) return 0
  if (want === 4 && cred_capable(cred, CAP_DAC_READ_SEARCH)) return 0
  return -EACCES
}
