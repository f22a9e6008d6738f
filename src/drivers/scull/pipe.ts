/**
 * scullpipe (LDD3 chapter 6, scull/pipe.c): a FIFO of `scull_p_buffer`
 * bytes in a kmalloc'd circular buffer, one slot always empty (3999 bytes
 * at most with the default 4000). Open allocates the buffer if there is
 * none and resets both pointers (unread data is lost: the book's
 * behaviour, SECURITY S-B4); the last release frees it. A read returns at
 * most the contiguous bytes up to the buffer's end, a write at most the
 * free contiguous room. Not seekable (no_llseek: lseek is ESPIPE).
 *
 * A read of an empty pipe and a write to a full one return EAGAIN with
 * O_NONBLOCK and otherwise sleep on inq/outq (wait_event_interruptible);
 * each successful write wakes the readers and each read the writers, and
 * the sleeper's call starts over (src/kernel/wait.ts). poll reports
 * POLLIN|POLLRDNORM while there is data and POLLOUT|POLLWRNORM while there
 * is room, after poll_wait on both queues.
 *
 * Hardened as SECURITY S-B2 asks: buffersize is the size of the buffer
 * actually allocated (a TSIZE between opens takes effect when the buffer
 * is next allocated), and TSIZE needs CAP_SYS_ADMIN (in scull_ioctl).
 */
import { EAGAIN, EFAULT, ENOMEM, ENXIO } from '../../include/errno.js'
import type { Module } from '../../include/module.js'
import { FMODE_READ, FMODE_WRITE, type MmStruct } from '../../mm/mm_types.js'
import { type File, type FileOperations, type PollTable, type UserPtr } from '../../fs/fs.js'
import { O_NONBLOCK } from '../../include/uapi/fcntl.js'
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../include/uapi/poll.js'
import type { WaitQueueHead } from '../../include/wait.js'
import type { Cdev } from '../../fs/char_dev.js'
import type { DriverKernel } from '../driver_api.js'
import type { ScullGlobals } from './scull.js'

/** struct scull_pipe (positions are offsets into the buffer instead of pointers). */
export class ScullPipe {
  /** Kernel address of the buffer (0: none). */
  buffer = 0
  buffersize = 0
  rp = 0
  wp = 0
  nreaders = 0
  nwriters = 0
  cdev: Cdev | null = null
  /** inq: readers waiting for data; outq: writers waiting for room. */
  inq: WaitQueueHead
  outq: WaitQueueHead
  constructor(k: DriverKernel) {
    this.inq = k.init_waitqueue_head()
    this.outq = k.init_waitqueue_head()
  }
}

export class ScullPipes {
  readonly devices: ScullPipe[] = []
  /** The region was registered (scull_p_init succeeded). */
  registered = false
  private devno = 0
  readonly fops: FileOperations

  constructor(
    private readonly k: DriverKernel,
    private readonly g: ScullGlobals,
    owner: Module,
    ioctl: (f: File, cmd: number, arg: number, mm: MmStruct) => number,
  ) {
    this.fops = {
      owner,
      read: (f, buf, count) => this.scull_p_read(f, buf, count),
      write: (f, buf, count) => this.scull_p_write(f, buf, count),
      unlocked_ioctl: ioctl,
      open: (inode, filp) => this.scull_p_open(inode.i_cdev, filp),
      release: (_inode, filp) => this.scull_p_release(filp),
      poll: (f, pt) => this.scull_p_poll(f, pt),
    }
  }

  /** Kernel: scull_p_open(). */
  private scull_p_open(i_cdev: unknown, filp: File): number {
    const dev = this.devices.find((d) => d.cdev === i_cdev)
    if (!dev) return -ENXIO // (container_of in C: the cdev is always one of ours)
    filp.private_data = dev
    if (!dev.buffer) {
      dev.buffer = this.k.kmalloc(this.g.scull_p_buffer, undefined, 'scull_p_open')
      if (!dev.buffer) return -ENOMEM
      dev.buffersize = this.g.scull_p_buffer
    }
    dev.rp = dev.wp = 0
    if (filp.f_mode & FMODE_READ) dev.nreaders++
    if (filp.f_mode & FMODE_WRITE) dev.nwriters++
    return 0 // nonseekable_open(): the fops have no llseek
  }

  /** Kernel: scull_p_release(): the last one frees the buffer. */
  private scull_p_release(filp: File): number {
    const dev = filp.private_data as ScullPipe
    if (filp.f_mode & FMODE_READ) dev.nreaders--
    if (filp.f_mode & FMODE_WRITE) dev.nwriters--
    if (dev.nreaders + dev.nwriters === 0) {
      this.k.kfree(dev.buffer, 'scull_p_release')
      dev.buffer = 0
    }
    return 0
  }

  /** Kernel: scull_p_read(): the contiguous bytes available, up to the buffer's end. */
  private scull_p_read(filp: File, buf: UserPtr, count: number): number {
    const dev = filp.private_data as ScullPipe
    if (dev.rp === dev.wp) {
      if (filp.f_flags & O_NONBLOCK) return -EAGAIN
      return this.k.wait_event_interruptible(dev.inq, () => dev.rp !== dev.wp)
    }
    count = Math.min(count, dev.wp > dev.rp ? dev.wp - dev.rp : dev.buffersize - dev.rp)
    if (this.k.copy_to_user(buf, this.k.kernel_read(dev.buffer + dev.rp, count))) return -EFAULT
    dev.rp += count
    if (dev.rp === dev.buffersize) dev.rp = 0
    // Finally, awake any writers.
    this.k.wake_up_interruptible(dev.outq)
    return count
  }

  /** Kernel: scull_p_poll(). */
  private scull_p_poll(filp: File, pt: PollTable | null): number {
    const dev = filp.private_data as ScullPipe
    this.k.poll_wait(filp, dev.inq, pt)
    this.k.poll_wait(filp, dev.outq, pt)
    let mask = 0
    if (dev.rp !== dev.wp) mask |= POLLIN | POLLRDNORM // readable
    if (this.spacefree(dev)) mask |= POLLOUT | POLLWRNORM // writable
    return mask
  }

  /** Kernel: spacefree(). */
  private spacefree(dev: ScullPipe): number {
    if (dev.rp === dev.wp) return dev.buffersize - 1
    return ((dev.rp + dev.buffersize - dev.wp) % dev.buffersize) - 1
  }

  /** Kernel: scull_p_write(): at most the free contiguous room. */
  private scull_p_write(filp: File, buf: UserPtr, count: number): number {
    const dev = filp.private_data as ScullPipe
    if (this.spacefree(dev) === 0) {
      // Kernel: scull_getwritespace().
      if (filp.f_flags & O_NONBLOCK) return -EAGAIN
      return this.k.wait_event_interruptible(dev.outq, () => this.spacefree(dev) > 0)
    }
    count = Math.min(count, this.spacefree(dev))
    count = Math.min(count, dev.wp >= dev.rp ? dev.buffersize - dev.wp : dev.rp - dev.wp - 1)
    const bytes = new Uint8Array(count)
    const left = this.k.copy_from_user(bytes, buf)
    this.k.kernel_write(dev.buffer + dev.wp, bytes)
    if (left) return -EFAULT
    dev.wp += count
    if (dev.wp === dev.buffersize) dev.wp = 0
    // Finally, awake any reader (blocked in read() and select/poll).
    this.k.wake_up_interruptible(dev.inq)
    return count
  }

  /** Kernel: scull_p_init(): the "scullp" region and devices; how many numbers it used (0 on failure, logged). */
  scull_p_init(firstdev: number): number {
    const k = this.k
    const n = this.g.scull_p_nr_devs
    const result = k.register_chrdev_region(firstdev, n, 'scullp')
    if (result < 0) {
      k.pr_notice(`Unable to get scullp region, error ${result}`)
      return 0
    }
    this.devno = firstdev
    this.registered = true
    for (let i = 0; i < n; i++) {
      const dev = new ScullPipe(k)
      dev.cdev = k.cdev_init(this.fops)
      const err = k.cdev_add(dev.cdev, firstdev + i, 1)
      if (err) k.pr_notice(`Error ${err} adding scullpipe${i}`)
      this.devices.push(dev)
    }
    return n
  }

  /** Kernel: scull_p_cleanup(). */
  scull_p_cleanup(): void {
    if (!this.registered) return
    for (const dev of this.devices) {
      if (dev.cdev) this.k.cdev_del(dev.cdev)
      this.k.kfree(dev.buffer, 'scull_p_cleanup')
      dev.buffer = 0
    }
    this.devices.length = 0
    this.k.unregister_chrdev_region(this.devno, this.g.scull_p_nr_devs)
    this.registered = false
  }
}
