/**
 * The kernel a driver programs against: the functions of include/linux/
 * (printk, kmalloc, copy_to_user, capable, the char-device calls of
 * fs/char_dev.c) by their kernel names, bound to one machine. Built-in
 * drivers (mem.ts, scull/) and user-written modules (module.ts) get the
 * same object; nothing here is a shortcut the kernel would not have.
 *
 * Kernel memory is the simulated kernel's: kmalloc returns an address of
 * a slab object in simulated frames, and a driver reads and writes its
 * bytes with kernel_read/kernel_write (a memcpy through the kernel's
 * virtual address), so /proc/slabinfo and the page allocator see what a
 * driver keeps. Pointers stored in kernel memory are `sizeof_long` bytes,
 * little-endian (8 on x86_64, 4 on i386), read and written with
 * read_ptr/write_ptr.
 *
 * `current` is the task whose system call is running (null outside one:
 * module init and exit, run by the machine as root's insmod would run
 * them); capable() reads its cred, and with no current task the kernel
 * itself is asking, which has every capability.
 */
import { EFAULT } from '../include/errno.js'
import { KERN_DEBUG, KERN_ERR, KERN_INFO, KERN_NOTICE, KERN_WARNING, type Printk } from '../include/printk.js'
import { cred_capable, type Cred } from '../include/cred.js'
import { GFP_KERNEL, type gfp_t } from '../mm/gfp.js'
import type { SlabAllocator } from '../mm/slab_common.js'
import type { KernelMemory } from '../mm/maccess.js'
import type { MmStruct } from '../mm/mm_types.js'
import { access_ok, copy_from_user, copy_to_user } from '../mm/uaccess.js'
import type { Cdev, ChrdevRegistry } from '../fs/char_dev.js'
import type { FileOperations, UserPtr } from '../fs/fs.js'

export { GFP_KERNEL }

/** The task a driver runs for, as much as drivers read of it. */
export interface CurrentTask {
  readonly pid: number
  readonly comm: string
  readonly cred: Cred
}

/** What a machine gives its drivers. */
export interface DriverHost {
  readonly slab: SlabAllocator
  readonly kmem: KernelMemory
  readonly printk: Printk
  readonly chrdevs: ChrdevRegistry
  /** BITS_PER_LONG of the machine. */
  readonly bits: 32 | 64
  /** The task of the running system call, or null. */
  current(): CurrentTask | null
}

export class DriverKernel {
  constructor(private readonly h: DriverHost) {}

  /** sizeof(long) and sizeof(void *). */
  get sizeof_long(): 4 | 8 {
    return this.h.bits === 64 ? 8 : 4
  }
  /** current, or null outside a system call. */
  get current(): CurrentTask | null {
    return this.h.current()
  }

  // ---- printk ----
  printk(level: number, text: string): void {
    this.h.printk.printk(level, text)
  }
  pr_info(text: string): void {
    this.printk(KERN_INFO, text)
  }
  pr_notice(text: string): void {
    this.printk(KERN_NOTICE, text)
  }
  pr_warn(text: string): void {
    this.printk(KERN_WARNING, text)
  }
  pr_err(text: string): void {
    this.printk(KERN_ERR, text)
  }
  pr_debug(text: string): void {
    this.printk(KERN_DEBUG, text)
  }

  // ---- kernel memory ----
  /** Kernel: kmalloc(): an address, or 0. */
  kmalloc(size: number, gfp: gfp_t = GFP_KERNEL, caller = 'kmalloc'): number {
    return this.h.slab.kmalloc(size, gfp, caller)
  }
  /** Kernel: kzalloc(). */
  kzalloc(size: number, gfp: gfp_t = GFP_KERNEL, caller = 'kzalloc'): number {
    return this.h.slab.kzalloc(size, gfp, caller)
  }
  /** Kernel: kfree(); 0 is fine. */
  kfree(addr: number, caller = 'kfree'): void {
    this.h.slab.kfree(addr, caller)
  }
  /** memcpy() out of kernel memory. */
  kernel_read(addr: number, len: number): Uint8Array {
    return this.h.kmem.kernel_read(addr, len)
  }
  /** memcpy() into kernel memory. */
  kernel_write(addr: number, data: Uint8Array): void {
    this.h.kmem.kernel_write(addr, data)
  }
  /** memset(addr, 0, len). */
  memset0(addr: number, len: number): void {
    this.h.kmem.kernel_write(addr, new Uint8Array(len))
  }
  /**
   * A pointer stored at `addr`. Kernel addresses are numbers as everywhere
   * in mmsim (x86_64's canonical upper half as negative values), stored as
   * the 8 or 4 bytes of the C pointer.
   */
  read_ptr(addr: number): number {
    const b = this.h.kmem.kernel_read(addr, this.sizeof_long)
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
    return this.sizeof_long === 8 ? Number(dv.getBigInt64(0, true)) : dv.getUint32(0, true)
  }
  /** Store a pointer at `addr`. */
  write_ptr(addr: number, value: number): void {
    const b = new Uint8Array(this.sizeof_long)
    const dv = new DataView(b.buffer)
    if (this.sizeof_long === 8) dv.setBigInt64(0, BigInt(value), true)
    else dv.setUint32(0, value >>> 0, true)
    this.h.kmem.kernel_write(addr, b)
  }

  // ---- user memory ----
  /** Kernel: access_ok(). */
  access_ok(mm: MmStruct, addr: number, len: number): boolean {
    return access_ok(mm, addr, len)
  }
  /** Kernel: copy_to_user(): the bytes NOT copied. */
  copy_to_user(to: UserPtr, data: Uint8Array): number {
    return copy_to_user(to.mm, to.addr, data)
  }
  /** Kernel: copy_from_user(): fills `to` (the part not copied is zeroed); the bytes NOT copied. */
  copy_from_user(to: Uint8Array, from: UserPtr): number {
    return copy_from_user(from.mm, to, from.addr)
  }
  /** Kernel: get_user() of an int: [0, value] or [-EFAULT, 0]. */
  get_user_int(from: UserPtr): [number, number] {
    const b = new Uint8Array(4)
    if (copy_from_user(from.mm, b, from.addr)) return [-EFAULT, 0]
    return [0, new DataView(b.buffer).getInt32(0, true)]
  }
  /** Kernel: put_user() of an int: 0 or -EFAULT. */
  put_user_int(value: number, to: UserPtr): number {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setInt32(0, value | 0, true)
    return copy_to_user(to.mm, to.addr, b) ? -EFAULT : 0
  }

  // ---- credentials ----
  /** Kernel: capable(): does current have `cap`? (No current: the kernel itself, which does.) */
  capable(cap: number): boolean {
    const cur = this.h.current()
    return cur === null || cred_capable(cur.cred, cap)
  }

  // ---- char devices (fs/char_dev.c) ----
  register_chrdev_region(from: number, count: number, name: string): number {
    return this.h.chrdevs.register_chrdev_region(from, count, name)
  }
  alloc_chrdev_region(dev: { value: number }, baseminor: number, count: number, name: string): number {
    return this.h.chrdevs.alloc_chrdev_region(dev, baseminor, count, name)
  }
  unregister_chrdev_region(from: number, count: number): void {
    this.h.chrdevs.unregister_chrdev_region(from, count)
  }
  register_chrdev(major: number, name: string, fops: FileOperations): number {
    return this.h.chrdevs.register_chrdev(major, name, fops)
  }
  unregister_chrdev(major: number, name: string): void {
    this.h.chrdevs.unregister_chrdev(major, name)
  }
  cdev_alloc(): Cdev | null {
    return this.h.chrdevs.cdev_alloc()
  }
  cdev_init(fops: FileOperations): Cdev {
    return this.h.chrdevs.cdev_init(fops)
  }
  cdev_add(cdev: Cdev, dev: number, count: number): number {
    return this.h.chrdevs.cdev_add(cdev, dev, count)
  }
  cdev_del(cdev: Cdev): void {
    this.h.chrdevs.cdev_del(cdev)
  }
}
