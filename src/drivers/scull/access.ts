/**
 * scull's access-controlled devices (LDD3 chapter 6, "Access Control on a
 * Device File"; scull/access.c of martinezjavier/ldd3): four more devices
 * in their own region "sculla", right after the pipes, each a plain scull
 * device (scull's read, write, llseek and ioctl) with its own open rule:
 *
 *  - scullsingle: one open at a time (an atomic counter); EBUSY otherwise;
 *  - sculluid: while open, only the owner (the uid of the first opener;
 *    a caller matches by uid or euid) or a CAP_DAC_OVERRIDE caller may
 *    open it; anyone else gets EBUSY, deliberately not EPERM;
 *  - scullwuid: the same rule, but a refused open sleeps on a wait queue
 *    until the last release wakes it, EAGAIN with O_NONBLOCK;
 *  - scullpriv: one device per controlling terminal (the key is the tty's
 *    device number), made at the first open from that terminal; a process
 *    without a controlling terminal gets EINVAL. The devices live until
 *    the module is unloaded, as the book's do; a cap on their number
 *    (SCULLPRIV_MAX_DEVS, ENOMEM past it) bounds what many terminals can
 *    make the kernel keep (SECURITY.md S-B9).
 *
 * Every one trims on an O_WRONLY open, as scull does.
 */
import { EAGAIN, EBUSY, EINVAL, ENOMEM } from '../../include/errno.js'
import { CAP_DAC_OVERRIDE } from '../../include/cred.js'
import { O_ACCMODE, O_NONBLOCK, O_WRONLY } from '../../include/uapi/fcntl.js'
import type { Module } from '../../include/module.js'
import type { WaitQueueHead } from '../../include/wait.js'
import type { File, FileOperations } from '../../fs/fs.js'
import type { DriverKernel } from '../driver_api.js'
import { ScullDev, type ScullGlobals } from './scull.js'

/** SCULL_N_ADEVS: scullsingle, sculluid, scullwuid, scullpriv. */
export const SCULL_N_ADEVS = 4
export const SCULL_ADEV_NAMES = ['scullsingle', 'sculluid', 'scullwuid', 'scullpriv'] as const
/** The most scullpriv devices kept at once (S-B9); the book has no bound. */
export const SCULLPRIV_MAX_DEVS = 32

/** struct scull_listitem: a scullpriv device and its key. */
interface ScullListItem {
  readonly device: ScullDev
  readonly key: number
  /** The kmalloc'd item (the scull_dev, the key and the list_head). */
  readonly kaddr: number
}

export class ScullAccess {
  /** The four devices of the region, in minor order. */
  readonly devices: ScullDev[] = []
  /** The region was registered (scull_access_init succeeded). */
  registered = false
  private firstdev = 0
  // scullsingle
  private scull_s_available = 1
  // sculluid and scullwuid: each has its own owner and count
  private scull_u_count = 0
  private scull_u_owner = 0
  private scull_w_count = 0
  private scull_w_owner = 0
  private readonly scull_w_wait: WaitQueueHead
  /** scull_c_list: the scullpriv devices, by key. */
  readonly scull_c_list: ScullListItem[] = []

  constructor(
    private readonly k: DriverKernel,
    private readonly g: ScullGlobals,
    /** scull's file operations (read, write, llseek, ioctl) and its trim. */
    private readonly scull: { readonly fops: FileOperations; scull_trim(dev: ScullDev): number },
    private readonly owner: Module,
  ) {
    this.scull_w_wait = k.init_waitqueue_head()
  }

  /** scull's fops with this device's open and release. */
  private fops(open: (filp: File) => number, release: (filp: File) => number): FileOperations {
    return { ...this.scull.fops, owner: this.owner, open: (_inode, filp) => open(filp), release: (_inode, filp) => release(filp) }
  }

  /** The common tail of every open: private_data, and the trim of an O_WRONLY open. */
  private opened(dev: ScullDev, filp: File): number {
    filp.private_data = dev
    if ((filp.f_flags & O_ACCMODE) === O_WRONLY) this.scull.scull_trim(dev)
    return 0
  }

  private get uid(): number {
    return this.k.current?.cred.uid ?? 0
  }
  private get euid(): number {
    return this.k.current?.cred.euid ?? 0
  }

  /** Kernel: scull_s_open(). */
  private scull_s_open(filp: File): number {
    // atomic_dec_and_test(): only the caller that takes it from 1 to 0 gets it
    if (--this.scull_s_available !== 0) {
      this.scull_s_available++
      return -EBUSY // already open
    }
    return this.opened(this.devices[0], filp)
  }
  private scull_s_release(): number {
    this.scull_s_available++ // release the device
    return 0
  }

  /** Kernel: scull_u_open(). */
  private scull_u_open(filp: File): number {
    if (this.scull_u_count && this.scull_u_owner !== this.uid && this.scull_u_owner !== this.euid && !this.k.capable(CAP_DAC_OVERRIDE)) {
      return -EBUSY // -EPERM would confuse the user
    }
    if (this.scull_u_count === 0) this.scull_u_owner = this.uid // grab it
    this.scull_u_count++
    return this.opened(this.devices[1], filp)
  }
  private scull_u_release(): number {
    this.scull_u_count--
    return 0
  }

  /** Kernel: scull_w_available(). */
  private scull_w_available(): boolean {
    return this.scull_w_count === 0 || this.scull_w_owner === this.uid || this.scull_w_owner === this.euid || this.k.capable(CAP_DAC_OVERRIDE)
  }
  /** Kernel: scull_w_open(): sleeps until available (the open starts over when woken: include/wait.ts). */
  private scull_w_open(filp: File): number {
    if (!this.scull_w_available()) {
      if (filp.f_flags & O_NONBLOCK) return -EAGAIN
      return this.k.wait_event_interruptible(this.scull_w_wait, () => this.scull_w_available())
    }
    if (this.scull_w_count === 0) this.scull_w_owner = this.uid
    this.scull_w_count++
    return this.opened(this.devices[2], filp)
  }
  private scull_w_release(): number {
    if (--this.scull_w_count === 0) this.k.wake_up_interruptible(this.scull_w_wait) // awake other uid's
    return 0
  }

  /** Kernel: scull_c_lookfor_device(): the key's device, made (kmalloc'd, trimmed) on first use; null when out of memory. */
  private scull_c_lookfor_device(key: number): ScullDev | null {
    const found = this.scull_c_list.find((l) => l.key === key)
    if (found) return found.device
    if (this.scull_c_list.length >= SCULLPRIV_MAX_DEVS) return null
    const kaddr = this.k.kzalloc(this.sizeof_scull_listitem, undefined, 'scull_c_open')
    if (!kaddr) return null
    const device = new ScullDev(this.g)
    this.scull.scull_trim(device) // initialize it
    this.scull_c_list.push({ device, key, kaddr })
    return device
  }
  /** Kernel: scull_c_open(). */
  private scull_c_open(filp: File): number {
    const tty = this.k.current?.signal.tty ?? 0
    if (!tty) {
      this.k.pr_debug('Process "' + (this.k.current?.comm ?? '') + '" has no ctl tty')
      return -EINVAL
    }
    const dev = this.scull_c_lookfor_device(tty)
    if (!dev) return -ENOMEM
    return this.opened(dev, filp)
  }

  /** sizeof(struct scull_listitem): a struct scull_dev, the dev_t key and a list_head. */
  private get sizeof_scull_listitem(): number {
    return this.k.sizeof_long === 8 ? 168 + 8 + 16 : 100 + 4 + 8
  }

  /** Kernel: scull_access_init(): the "sculla" region and its devices; how many numbers it used (0 on failure). */
  scull_access_init(firstdev: number): number {
    const k = this.k
    const result = k.register_chrdev_region(firstdev, SCULL_N_ADEVS, 'sculla')
    if (result < 0) {
      k.pr_warn('sculla: device number registration failed')
      return 0
    }
    this.firstdev = firstdev
    this.registered = true
    const fops = [
      this.fops((f) => this.scull_s_open(f), () => this.scull_s_release()),
      this.fops((f) => this.scull_u_open(f), () => this.scull_u_release()),
      this.fops((f) => this.scull_w_open(f), () => this.scull_w_release()),
      this.fops((f) => this.scull_c_open(f), () => 0), // nothing to do: the device is persistent
    ]
    for (let i = 0; i < SCULL_N_ADEVS; i++) {
      // Kernel: scull_access_setup().
      const dev = new ScullDev(this.g)
      this.devices.push(dev)
      dev.cdev = k.cdev_init(fops[i])
      const devno = firstdev + i
      const err = k.cdev_add(dev.cdev, devno, 1)
      if (err) k.pr_notice(`Error ${err} adding ${SCULL_ADEV_NAMES[i]}`)
      else k.pr_notice(`${SCULL_ADEV_NAMES[i]} registered at ${devno.toString(16)}`)
    }
    return SCULL_N_ADEVS
  }

  /** Kernel: scull_access_cleanup(). */
  scull_access_cleanup(): void {
    if (!this.registered) return
    for (const dev of this.devices) {
      if (dev.cdev) this.k.cdev_del(dev.cdev)
      this.scull.scull_trim(dev)
    }
    for (const l of this.scull_c_list.splice(0)) {
      this.scull.scull_trim(l.device)
      this.k.kfree(l.kaddr, 'scull_access_cleanup')
    }
    this.devices.length = 0
    this.k.unregister_chrdev_region(this.firstdev, SCULL_N_ADEVS)
    this.registered = false
  }
}
