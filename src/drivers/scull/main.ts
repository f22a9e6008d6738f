/**
 * scull, "Simple Character Utility for Loading Localities" (LDD3 chapter 3
 * and the ioctls of chapter 6; scull/main.c of martinezjavier/ldd3): a
 * device whose bytes live in kernel memory, in a list of scull_qset nodes.
 * Each node points to an array of `qset` pointers, each to a `quantum`-byte
 * buffer. Every one of those is a kmalloc object of the simulated kernel
 * and the pointers are stored in it, as the C driver stores them, so
 * /proc/slabinfo counts what a device holds.
 *
 * As the book's driver: open O_WRONLY trims the device to 0 (and takes the
 * current quantum/qset); read and write move at most the rest of one
 * quantum per call; a read in a hole (a missing node, array or quantum)
 * returns 0; llseek is SET/CUR/END with no upper bound, EINVAL for a
 * negative result; the ioctls of scull.ts change the module-wide quantum
 * and qset a device takes at its next trim.
 *
 * Where SECURITY.md requires the built-in driver to resist (the book's
 * code does not): quanta are zeroed when allocated (S-B1: bytes never
 * written read as zeros, not stale heap); every setter, IOCRESET and the
 * pipe's TSIZE included, needs CAP_SYS_ADMIN, and a quantum or qset <= 0,
 * or a product above INT_MAX, is EINVAL (S-B3); a write at or past
 * SCULL_MAX_SIZE is EFBIG (S-B7).
 */
import { EFAULT, EFBIG, EINVAL, ENOMEM, ENOTTY, ENXIO, EPERM } from '../../include/errno.js'
import { CAP_SYS_ADMIN } from '../../include/cred.js'
import { O_ACCMODE, O_WRONLY } from '../../include/uapi/fcntl.js'
import { _IOC_DIR, _IOC_NR, _IOC_READ, _IOC_SIZE, _IOC_TYPE, _IOC_WRITE } from '../../include/uapi/ioctl.js'
import type { Module } from '../../include/module.js'
import { MAJOR, MKDEV, S_IFCHR, type File, type FileOperations, type Loff, type UserPtr } from '../../fs/fs.js'
import type { MmStruct } from '../../mm/mm_types.js'
import type { DriverKernel } from '../driver_api.js'
import { type DeviceNode, type KernelModule, type ModuleParamValue, STAFF_GID } from '../module.js'
import * as S from './scull.js'
import { ScullDev } from './scull.js'
export { ScullDev } from './scull.js'
import { ScullPipes } from './pipe.js'
import { SCULL_ADEV_NAMES, ScullAccess } from './access.js'

const INT_MAX = 2 ** 31 - 1

/** The scull devices of one load of the module, with their file operations. */
export class Scull {
  readonly devices: ScullDev[] = []
  /** The kmalloc'd array of struct scull_dev (scull_devices). */
  private devices_kaddr = 0
  readonly fops: FileOperations

  constructor(
    private readonly k: DriverKernel,
    readonly g: S.ScullGlobals,
    owner: Module,
  ) {
    this.fops = {
      owner,
      llseek: (f, off, whence) => S.scull_llseek(f, off, whence, (f.private_data as ScullDev).size),
      read: (f, buf, count, ppos) => this.scull_read(f, buf, count, ppos),
      write: (f, buf, count, ppos) => this.scull_write(f, buf, count, ppos),
      unlocked_ioctl: (f, cmd, arg, mm) => this.scull_ioctl(f, cmd, arg, mm),
      open: (inode, filp) => this.scull_open(inode.i_cdev, filp),
      release: () => 0,
    }
  }

  private get L(): number {
    return this.k.sizeof_long
  }

  /** Kernel: scull_trim(): free the whole list; the device takes the module's current quantum and qset. */
  scull_trim(dev: ScullDev): number {
    const k = this.k
    for (let dptr = dev.data; dptr; ) {
      const data = k.read_ptr(dptr)
      if (data) {
        for (let i = 0; i < dev.qset; i++) k.kfree(k.read_ptr(data + i * this.L), 'scull_trim')
        k.kfree(data, 'scull_trim')
      }
      const next = k.read_ptr(dptr + this.L)
      k.kfree(dptr, 'scull_trim')
      dptr = next
    }
    dev.size = 0
    dev.quantum = this.g.scull_quantum
    dev.qset = this.g.scull_qset
    dev.data = 0
    return 0
  }

  /** Kernel: scull_follow(): the n-th node, allocating (zeroed) nodes on the way; 0 when out of memory. */
  private scull_follow(dev: ScullDev, n: number): number {
    const k = this.k
    let qs = dev.data
    if (!qs) {
      qs = dev.data = k.kzalloc(2 * this.L, undefined, 'scull_follow')
      if (!qs) return 0
    }
    while (n-- > 0) {
      let next = k.read_ptr(qs + this.L)
      if (!next) {
        next = k.kzalloc(2 * this.L, undefined, 'scull_follow')
        if (!next) return 0
        k.write_ptr(qs + this.L, next)
      }
      qs = next
    }
    return qs
  }

  /** The node, slot and offset of a position (int arithmetic: itemsize = quantum * qset). */
  private locate(dev: ScullDev, pos: number): { item: number; s_pos: number; q_pos: number } {
    const itemsize = dev.quantum * dev.qset
    const item = Math.floor(pos / itemsize)
    const rest = pos % itemsize
    return { item, s_pos: Math.floor(rest / dev.quantum), q_pos: rest % dev.quantum }
  }

  /** Kernel: scull_open(): private_data is the device; O_WRONLY trims it. */
  private scull_open(i_cdev: unknown, filp: File): number {
    const dev = this.devices.find((d) => d.cdev === i_cdev)
    if (!dev) return -ENXIO // (container_of in C: the cdev is always one of ours)
    filp.private_data = dev
    if ((filp.f_flags & O_ACCMODE) === O_WRONLY) this.scull_trim(dev)
    return 0
  }

  /** Kernel: scull_read(): up to the end of one quantum; 0 at EOF or in a hole. */
  private scull_read(filp: File, buf: UserPtr, count: number, f_pos: Loff): number {
    const k = this.k
    const dev = filp.private_data as ScullDev
    if (f_pos.pos >= dev.size) return 0
    if (f_pos.pos + count > dev.size) count = dev.size - f_pos.pos
    const { item, s_pos, q_pos } = this.locate(dev, f_pos.pos)
    const dptr = this.scull_follow(dev, item)
    if (!dptr) return 0
    const data = k.read_ptr(dptr)
    if (!data) return 0 // don't fill holes
    const quantum = k.read_ptr(data + s_pos * this.L)
    if (!quantum) return 0
    if (count > dev.quantum - q_pos) count = dev.quantum - q_pos
    if (k.copy_to_user(buf, k.kernel_read(quantum + q_pos, count))) return -EFAULT
    f_pos.pos += count
    return count
  }

  /** Kernel: scull_write(): allocates the node, array and quantum as needed; up to the end of one quantum. */
  private scull_write(filp: File, buf: UserPtr, count: number, f_pos: Loff): number {
    const k = this.k
    const dev = filp.private_data as ScullDev
    if (f_pos.pos >= S.SCULL_MAX_SIZE) return -EFBIG
    const { item, s_pos, q_pos } = this.locate(dev, f_pos.pos)
    const dptr = this.scull_follow(dev, item)
    if (!dptr) return -ENOMEM
    let data = k.read_ptr(dptr)
    if (!data) {
      data = k.kzalloc(dev.qset * this.L, undefined, 'scull_write')
      if (!data) return -ENOMEM
      k.write_ptr(dptr, data)
    }
    let quantum = k.read_ptr(data + s_pos * this.L)
    if (!quantum) {
      // kmalloc in the book; zeroed here (S-B1).
      quantum = k.kzalloc(dev.quantum, undefined, 'scull_write')
      if (!quantum) return -ENOMEM
      k.write_ptr(data + s_pos * this.L, quantum)
    }
    if (count > dev.quantum - q_pos) count = dev.quantum - q_pos
    const bytes = new Uint8Array(count)
    // copy_from_user zeroes what it could not copy: those zeros land in the quantum too.
    const left = k.copy_from_user(bytes, buf)
    k.kernel_write(quantum + q_pos, bytes)
    if (left) return -EFAULT
    f_pos.pos += count
    if (dev.size < f_pos.pos) dev.size = f_pos.pos
    return count
  }

  /** A new quantum/qset value: positive, and quantum * qset within an int (S-B3). */
  private valid(quantum: number, qset: number): boolean {
    return quantum > 0 && qset > 0 && quantum <= INT_MAX && qset <= INT_MAX && quantum * qset <= INT_MAX
  }

  /** Kernel: scull_ioctl(). */
  scull_ioctl(_filp: File, cmd: number, arg: number, mm: MmStruct): number {
    const k = this.k
    const g = this.g
    if (_IOC_TYPE(cmd) !== S.SCULL_IOC_MAGIC.charCodeAt(0)) return -ENOTTY
    if (_IOC_NR(cmd) > S.SCULL_IOC_MAXNR) return -ENOTTY
    // access_ok() of the argument's range for the commands that pass a pointer.
    if (_IOC_DIR(cmd) & (_IOC_READ | _IOC_WRITE) && !k.access_ok(mm, arg, _IOC_SIZE(cmd))) return -EFAULT
    const ptr: UserPtr = { mm, addr: arg }
    // The T and H commands take the int argument: the low 32 bits, signed.
    const iarg = arg | 0
    const admin = (): boolean => k.capable(CAP_SYS_ADMIN)
    const set = (quantum: number, qset: number): number => {
      if (!this.valid(quantum, qset)) return -EINVAL
      g.scull_quantum = quantum
      g.scull_qset = qset
      return 0
    }
    switch (cmd) {
      case S.SCULL_IOCRESET:
        if (!admin()) return -EPERM
        g.scull_quantum = S.SCULL_QUANTUM
        g.scull_qset = S.SCULL_QSET
        return 0
      case S.SCULL_IOCSQUANTUM:
      case S.SCULL_IOCSQSET: {
        if (!admin()) return -EPERM
        const [err, v] = k.get_user_int(ptr)
        if (err) return err
        return cmd === S.SCULL_IOCSQUANTUM ? set(v, g.scull_qset) : set(g.scull_quantum, v)
      }
      case S.SCULL_IOCTQUANTUM:
        if (!admin()) return -EPERM
        return set(iarg, g.scull_qset)
      case S.SCULL_IOCTQSET:
        if (!admin()) return -EPERM
        return set(g.scull_quantum, iarg)
      case S.SCULL_IOCGQUANTUM:
        return k.put_user_int(g.scull_quantum, ptr)
      case S.SCULL_IOCGQSET:
        return k.put_user_int(g.scull_qset, ptr)
      case S.SCULL_IOCQQUANTUM:
        return g.scull_quantum
      case S.SCULL_IOCQQSET:
        return g.scull_qset
      case S.SCULL_IOCXQUANTUM:
      case S.SCULL_IOCXQSET: {
        if (!admin()) return -EPERM
        const quantum = cmd === S.SCULL_IOCXQUANTUM
        const old = quantum ? g.scull_quantum : g.scull_qset
        const [err, v] = k.get_user_int(ptr)
        if (err) return err
        const r = quantum ? set(v, g.scull_qset) : set(g.scull_quantum, v)
        return r ? r : k.put_user_int(old, ptr)
      }
      case S.SCULL_IOCHQUANTUM:
      case S.SCULL_IOCHQSET: {
        if (!admin()) return -EPERM
        const quantum = cmd === S.SCULL_IOCHQUANTUM
        const old = quantum ? g.scull_quantum : g.scull_qset
        const r = quantum ? set(iarg, g.scull_qset) : set(g.scull_quantum, iarg)
        return r ? r : old
      }
      case S.SCULL_P_IOCTSIZE:
        if (!admin()) return -EPERM
        if (iarg <= 0) return -EINVAL
        g.scull_p_buffer = iarg
        return 0
      case S.SCULL_P_IOCQSIZE:
        return g.scull_p_buffer
      default:
        return -ENOTTY
    }
  }

  /** sizeof(struct scull_dev): data, quantum, qset, size, access_key, the mutex and the embedded cdev. */
  private get sizeof_scull_dev(): number {
    return this.L === 8 ? 168 : 100
  }

  /** Kernel: scull_setup_cdev(). */
  private scull_setup_cdev(dev: ScullDev, index: number): void {
    const k = this.k
    const devno = MKDEV(this.g.scull_major, this.g.scull_minor + index)
    dev.cdev = k.cdev_init(this.fops)
    const err = k.cdev_add(dev.cdev, devno, 1)
    if (err) k.pr_notice(`Error ${err} adding scull${index}`)
  }

  /** The devices after the region is registered: 0 or -ENOMEM. */
  setup_devices(): number {
    const n = this.g.scull_nr_devs
    this.devices_kaddr = this.k.kzalloc(n * this.sizeof_scull_dev, undefined, 'scull_init_module')
    if (!this.devices_kaddr) return -ENOMEM
    for (let i = 0; i < n; i++) {
      const dev = new ScullDev(this.g)
      this.devices.push(dev)
      this.scull_setup_cdev(dev, i)
    }
    return 0
  }

  /** The devices' part of scull_cleanup_module(). */
  cleanup_devices(): void {
    for (const dev of this.devices) {
      this.scull_trim(dev)
      if (dev.cdev) this.k.cdev_del(dev.cdev)
    }
    this.devices.length = 0
    this.k.kfree(this.devices_kaddr, 'scull_cleanup_module')
    this.devices_kaddr = 0
  }
}

/** The scull module: scull0..N-1 (bare devices) and scullpipe0..M-1, as scull_load makes them. */
export function scull_module(): KernelModule & { scull: Scull | null; pipes: ScullPipes | null; access: ScullAccess | null; g: S.ScullGlobals } {
  const g: S.ScullGlobals = {
    scull_major: S.SCULL_MAJOR,
    scull_minor: 0,
    scull_nr_devs: S.SCULL_NR_DEVS,
    scull_quantum: S.SCULL_QUANTUM,
    scull_qset: S.SCULL_QSET,
    scull_p_nr_devs: S.SCULL_P_NR_DEVS,
    scull_p_buffer: S.SCULL_P_BUFFER,
  }
  const m = {
    name: 'scull',
    params: {
      scull_major: 'int',
      scull_minor: 'int',
      scull_nr_devs: 'int',
      scull_quantum: 'int',
      scull_qset: 'int',
      scull_p_nr_devs: 'int',
      scull_p_buffer: 'int',
    } as const,
    g,
    scull: null as Scull | null,
    pipes: null as ScullPipes | null,
    access: null as ScullAccess | null,

    /** Kernel: scull_init_module(). */
    init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number {
      for (const [key, v] of Object.entries(params)) if (key in g) (g as unknown as Record<string, number>)[key] = v as number
      // Values the ioctls would refuse are refused at load too (S-B3).
      if (!(g.scull_quantum > 0 && g.scull_qset > 0 && g.scull_quantum * g.scull_qset <= INT_MAX)) return -EINVAL
      if (g.scull_nr_devs < 0 || g.scull_p_nr_devs < 0 || g.scull_p_buffer <= 0) return -EINVAL
      let result: number
      let dev = 0
      if (g.scull_major) {
        dev = MKDEV(g.scull_major, g.scull_minor)
        result = k.register_chrdev_region(dev, g.scull_nr_devs, 'scull')
      } else {
        const out = { value: 0 }
        result = k.alloc_chrdev_region(out, g.scull_minor, g.scull_nr_devs, 'scull')
        dev = out.value
        g.scull_major = MAJOR(dev)
      }
      if (result < 0) {
        k.pr_warn(`scull: can't get major ${g.scull_major}`)
        return result
      }
      const scull = (m.scull = new Scull(k, g, THIS_MODULE))
      result = scull.setup_devices()
      if (result) {
        m.exit(k)
        return result
      }
      const pipes = (m.pipes = new ScullPipes(k, g, THIS_MODULE, (f, cmd, arg, mm) => scull.scull_ioctl(f, cmd, arg, mm)))
      let next = MKDEV(g.scull_major, g.scull_minor + g.scull_nr_devs)
      next += pipes.scull_p_init(next)
      const access = (m.access = new ScullAccess(k, g, scull, THIS_MODULE))
      access.scull_access_init(next)
      return 0
    },

    /** Kernel: scull_cleanup_module(). */
    exit(k: DriverKernel): void {
      m.scull?.cleanup_devices()
      k.unregister_chrdev_region(MKDEV(g.scull_major, g.scull_minor), g.scull_nr_devs)
      m.pipes?.scull_p_cleanup()
      m.access?.scull_access_cleanup()
      m.scull = null
      m.pipes = null
      m.access = null
    },

    /** scull_load: scull0..3, scullpipe0..3 and the access devices, mode 664. */
    nodes(): DeviceNode[] {
      const out: DeviceNode[] = []
      for (let i = 0; i < g.scull_nr_devs; i++) out.push({ name: `scull${i}`, dev: MKDEV(g.scull_major, g.scull_minor + i), mode: S_IFCHR | 0o664, gid: STAFF_GID })
      if (m.pipes?.registered) {
        for (let i = 0; i < g.scull_p_nr_devs; i++) {
          out.push({ name: `scullpipe${i}`, dev: MKDEV(g.scull_major, g.scull_minor + g.scull_nr_devs + i), mode: S_IFCHR | 0o664, gid: STAFF_GID })
        }
      }
      if (m.access?.registered) {
        // the load script's numbers: the access devices follow the pipes' minors
        const first = g.scull_minor + g.scull_nr_devs + (m.pipes?.registered ? g.scull_p_nr_devs : 0)
        SCULL_ADEV_NAMES.forEach((name, i) => out.push({ name, dev: MKDEV(g.scull_major, first + i), mode: S_IFCHR | 0o664, gid: STAFF_GID }))
      }
      return out
    },
  }
  return m
}
