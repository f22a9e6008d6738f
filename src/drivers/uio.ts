/**
 * Userspace I/O (Kernel: drivers/uio/uio.c): a driver registers a
 * device's memory regions and interrupt, and a user-space program does
 * the rest through /dev/uioN: mmap a region, read() the interrupt count,
 * write() 0/1 to mask and unmask the interrupt.
 *
 * The core is a module ('uio') owning one dynamic major (/proc/devices
 * "uio", 2^20 minors, one cdev); each registered device takes the lowest
 * free minor, gets its node /dev/uioN (0600) and its sysfs files
 * /sys/class/uio/uioN/{name,version,event,dev} and maps/mapM/{name,addr,
 * size,offset} (read with Machine.proc, fs/sysfs.ts). Region N is mapped
 * with the mmap offset N * PAGE_SIZE: vm_pgoff is the region's index, not
 * an offset into it.
 *
 * The rules of uio.c as of Linux 6.18:
 *  - mmap: the device gone, vm_pgoff >= MAX_UIO_MAPS, a region of size 0,
 *    or more pages than the region's (counting its offset in the first
 *    page) are EINVAL; PHYS/IOVA regions must start page-aligned (ENODEV)
 *    and the VMA may not be longer than `size` bytes (EINVAL: a region
 *    under a page cannot be mapped at all), then remap_pfn_range from the
 *    region's first page (PHYS uncached); LOGICAL/VIRTUAL regions get
 *    VM_DONTEXPAND|VM_DONTDUMP and a fault handler that returns the page at
 *    (pgoff - N) pages into the region, referenced, and SIGBUS once the
 *    device is gone. Like Linux, the handler finds N from the VMA's
 *    vm_pgoff at fault time, so the upper piece of a split VMA names
 *    another region (SPEC §12's note): reproduced, not fixed.
 *  - read: exactly 4 bytes (EINVAL), a device without interrupt or gone is
 *    EIO; it sleeps until the event count differs from the one this open
 *    file saw last (O_NONBLOCK: EAGAIN), then returns the count.
 *  - write: exactly 4 bytes (EINVAL), device gone EINVAL, no interrupt EIO,
 *    no irqcontrol ENOSYS; else irqcontrol's result, or 4.
 *  - unregister: new opens ENODEV, mmaps EINVAL, faults SIGBUS, readers
 *    woken with EIO; PTEs of PHYS mappings already made stay (Linux does
 *    not revoke them).
 */
import { EAGAIN, EFAULT, EINVAL, EIO, ENODEV, ENOMEM, ENOSPC, ENOSYS } from '../include/errno.js'
import { O_NONBLOCK } from '../include/uapi/fcntl.js'
import { POLLIN, POLLRDNORM } from '../include/uapi/poll.js'
import { MINORBITS, MAJOR, MINOR, MKDEV, S_IFCHR, type File, type FileOperations } from '../fs/fs.js'
import type { Cdev } from '../fs/char_dev.js'
import { try_module_get, module_put, type Module } from '../include/module.js'
import { PAGE_SIZE } from '../include/page_types.js'
import type { WaitQueueHead } from '../include/wait.js'
import { type DriverKernel, type VmArea, type VmOperations, VM_DONTDUMP, VM_DONTEXPAND, VM_FAULT_SIGBUS, generic_access_phys } from './driver_api.js'
import { vm_flags_or } from '../mm/mm_types.js'
import { IRQ_HANDLED } from './irq.js'
import type { KernelModule, ModuleParamValue } from './module.js'
import {
  MAX_UIO_MAPS, UIO_IRQ_CUSTOM, UIO_IRQ_NONE, UIO_MEM_DMA_COHERENT, UIO_MEM_IOVA, UIO_MEM_LOGICAL, UIO_MEM_PHYS, UIO_MEM_VIRTUAL,
  type UioCoreApi, type UioInfo, type UioMem,
} from './uio_driver.js'

/** UIO_MAX_DEVICES: one minor space of 2^20. */
const UIO_MAX_DEVICES = 2 ** MINORBITS
/** sizeof(struct uio_listener) and of struct uio_device (their kmalloc'd cost). */
const LISTENER_SIZE = 16
const UIO_DEVICE_SIZE = 1024

/** struct uio_device. */
class UioDevice {
  event = 0
  /** null once unregistered (idev->info = NULL). */
  info: UioInfo | null
  constructor(
    readonly owner: Module | null,
    readonly minor: number,
    info: UioInfo,
    readonly wait: WaitQueueHead,
    readonly kaddr: number,
  ) {
    this.info = info
  }
}

/** struct uio_listener: an open file's view. */
interface UioListener {
  readonly dev: UioDevice
  event_count: number
  readonly kaddr: number
}

/** %pa: 0x and the phys_addr_t's hex digits, zero-padded to its width. */
function pa(v: number, bits: 32 | 64): string {
  return `0x${v.toString(16).padStart(bits / 4, '0')}\n`
}

export class UioCore implements UioCoreApi {
  private k: DriverKernel | null = null
  private major = 0
  private cdev: Cdev | null = null
  private readonly idr = new Map<number, UioDevice>()
  private readonly by_info = new Map<UioInfo, UioDevice>()

  /** The core's major while the module is loaded (0 otherwise). */
  get uio_major(): number {
    return this.major
  }
  /** Whether the uio module is loaded. */
  get loaded(): boolean {
    return this.k !== null
  }

  /** Kernel: uio_init() -> uio_major_init(): the "uio" region and its one cdev. */
  uio_init(k: DriverKernel, THIS_MODULE: Module): number {
    const dev = { value: 0 }
    const ret = k.alloc_chrdev_region(dev, 0, UIO_MAX_DEVICES, 'uio')
    if (ret) return ret
    const cdev = k.cdev_alloc()
    if (!cdev) {
      k.unregister_chrdev_region(dev.value, UIO_MAX_DEVICES)
      return -ENOMEM
    }
    cdev.owner = THIS_MODULE
    cdev.ops = this.fops(k, THIS_MODULE)
    const err = k.cdev_add(cdev, dev.value, UIO_MAX_DEVICES)
    if (err) {
      k.cdev_del(cdev)
      k.unregister_chrdev_region(dev.value, UIO_MAX_DEVICES)
      return err
    }
    this.k = k
    this.cdev = cdev
    this.major = MAJOR(dev.value)
    return 0
  }

  /** Kernel: uio_exit() (rmmod uio: no device is registered then, each driver held a reference). */
  uio_exit(): void {
    const k = this.k
    if (!k) return
    if (this.cdev) k.cdev_del(this.cdev)
    k.unregister_chrdev_region(MKDEV(this.major, 0), UIO_MAX_DEVICES)
    this.cdev = null
    this.major = 0
    this.k = null
  }

  private core(): DriverKernel {
    if (!this.k) throw new Error('uio: the core is not loaded')
    return this.k
  }

  /** Kernel: __uio_register_device(). */
  uio_register_device(owner: Module | null, info: UioInfo): number {
    const k = this.core()
    if (!info.name || !info.version || info.mem.length > MAX_UIO_MAPS) return -EINVAL
    info.uio_dev = null
    let minor = 0
    while (this.idr.has(minor)) minor++ // idr_alloc(): the lowest free id
    if (minor >= UIO_MAX_DEVICES) return -ENOSPC
    const kaddr = k.kzalloc(UIO_DEVICE_SIZE, undefined, 'uio_register_device')
    if (!kaddr) return -ENOMEM
    const idev = new UioDevice(owner, minor, info, k.init_waitqueue_head(), kaddr)
    this.idr.set(minor, idev)
    this.by_info.set(info, idev)
    const name = `uio${minor}`
    k.device_create(name, MKDEV(this.major, minor), S_IFCHR | 0o600)
    this.add_attributes(k, idev)
    info.uio_dev = idev
    k.mmsim_grant_mapping(owner)
    if (info.irq !== UIO_IRQ_NONE && info.irq !== UIO_IRQ_CUSTOM) {
      const ret = k.request_irq(info.irq, (irq) => this.uio_interrupt(irq, idev), info.irq_flags ?? 0, info.name, idev)
      if (ret) {
        this.teardown(k, idev)
        return ret
      }
    }
    return 0
  }

  /** Kernel: uio_dev_add_attributes(): the device's files and one maps/mapN directory per region. */
  private add_attributes(k: DriverKernel, idev: UioDevice): void {
    const dir = `/sys/class/uio/uio${idev.minor}`
    const live = (f: (info: UioInfo) => string) => (): string | number => (idev.info ? f(idev.info) : -ENODEV)
    k.sysfs_create_file(`${dir}/name`, live((i) => `${i.name}\n`))
    k.sysfs_create_file(`${dir}/version`, live((i) => `${i.version}\n`))
    k.sysfs_create_file(`${dir}/event`, () => `${idev.event >>> 0}\n`)
    k.sysfs_create_file(`${dir}/dev`, () => `${this.major}:${idev.minor}\n`)
    const bits = k.sizeof_long === 8 ? 64 : 32
    for (let mi = 0; mi < MAX_UIO_MAPS; mi++) {
      const mem = idev.info?.mem[mi]
      if (!mem || mem.size === 0) break
      const m = `${dir}/maps/map${mi}`
      k.sysfs_create_file(`${m}/name`, () => `${mem.name ?? ''}\n`)
      k.sysfs_create_file(`${m}/addr`, () => pa(mem.addr, bits))
      k.sysfs_create_file(`${m}/size`, () => pa(mem.size, bits))
      k.sysfs_create_file(`${m}/offset`, () => `0x${(mem.offs ?? 0).toString(16)}\n`)
    }
  }

  private teardown(k: DriverKernel, idev: UioDevice): void {
    k.sysfs_remove_dir(`/sys/class/uio/uio${idev.minor}`)
    k.device_destroy(`uio${idev.minor}`)
    this.idr.delete(idev.minor)
    if (idev.info) {
      this.by_info.delete(idev.info)
      idev.info.uio_dev = null
    }
    idev.info = null
    k.kfree(idev.kaddr, 'uio_unregister_device')
  }

  /** Kernel: uio_unregister_device(): the device goes; open files see it gone. */
  uio_unregister_device(info: UioInfo): void {
    const idev = this.by_info.get(info)
    const k = this.k
    if (!idev || !k) return
    if (info.irq !== UIO_IRQ_NONE && info.irq !== UIO_IRQ_CUSTOM) k.free_irq(info.irq, idev)
    this.teardown(k, idev)
    // Readers asleep learn that the device is gone (EIO).
    k.wake_up_interruptible(idev.wait)
  }

  /** Kernel: uio_event_notify(). */
  uio_event_notify(info: UioInfo): void {
    const idev = this.by_info.get(info)
    if (!idev) return
    idev.event = (idev.event + 1) | 0 // atomic_t
    this.k?.wake_up_interruptible(idev.wait)
  }

  /** Kernel: uio_interrupt(). */
  private uio_interrupt(irq: number, idev: UioDevice): number {
    const info = idev.info
    if (!info?.handler) return 0
    const ret = info.handler(irq, info)
    if (ret === IRQ_HANDLED) this.uio_event_notify(info)
    return ret
  }

  /** The minor a VMA's region index points at: Kernel: uio_find_mem_index() (-1 when none). */
  private uio_find_mem_index(vma: VmArea): number {
    const idev = vma.vm_private_data as UioDevice
    if (vma.vm_pgoff < MAX_UIO_MAPS) {
      const mem = idev.info?.mem[vma.vm_pgoff]
      if (!mem || mem.size === 0) return -1
      return vma.vm_pgoff
    }
    return -1
  }

  private fops(k: DriverKernel, owner: Module): FileOperations {
    const logical_vm_ops: VmOperations = {
      /** Kernel: uio_vma_fault(). */
      fault: (vmf) => {
        const idev = vmf.vma.vm_private_data as UioDevice
        if (!idev.info) return VM_FAULT_SIGBUS
        const mi = this.uio_find_mem_index(vmf.vma)
        if (mi < 0) return VM_FAULT_SIGBUS
        const mem = idev.info.mem[mi]
        const addr = mem.addr + (vmf.pgoff - mi) * PAGE_SIZE
        const pfn = mem.memtype === UIO_MEM_LOGICAL ? k.virt_to_pfn(addr) : k.vmalloc_to_pfn(addr)
        if (pfn < 0) return VM_FAULT_SIGBUS // a NULL page would oops in Linux: not modelled
        k.get_page(pfn)
        vmf.page = pfn
        return 0
      },
    }
    /** Kernel: uio_physical_vm_ops: ptrace and /proc/<pid>/mem reach the registers through the PTE. */
    const physical_vm_ops: VmOperations = { access: generic_access_phys }
    const listener = (f: File): UioListener => f.private_data as UioListener
    return {
      owner,
      /** Kernel: uio_open(). */
      open: (inode, filp) => {
        const idev = this.idr.get(MINOR(inode.i_rdev))
        if (!idev) return -ENODEV
        if (!try_module_get(idev.owner)) return -ENODEV
        const kaddr = k.kmalloc(LISTENER_SIZE, undefined, 'uio_open')
        if (!kaddr) {
          module_put(idev.owner)
          return -ENOMEM
        }
        filp.private_data = { dev: idev, event_count: idev.event, kaddr } satisfies UioListener
        let ret = 0
        if (!idev.info) ret = -EINVAL
        else if (idev.info.open) ret = idev.info.open(idev.info, inode)
        if (ret) {
          k.kfree(kaddr, 'uio_open')
          module_put(idev.owner)
        }
        return ret
      },
      /** Kernel: uio_release(). */
      release: (inode, filp) => {
        const l = listener(filp)
        let ret = 0
        if (l.dev.info?.release) ret = l.dev.info.release(l.dev.info, inode)
        module_put(l.dev.owner)
        k.kfree(l.kaddr, 'uio_release')
        return ret
      },
      /** Kernel: uio_poll(). */
      poll: (filp, pt) => {
        const l = listener(filp)
        // Linux returns -EIO as a poll mask here; the caller sees every bit but POLLOUT's.
        if (!l.dev.info || !l.dev.info.irq) return -EIO >>> 0
        k.poll_wait(filp, l.dev.wait, pt)
        return l.event_count !== l.dev.event ? POLLIN | POLLRDNORM : 0
      },
      /** Kernel: uio_read(). */
      read: (filp, buf, count) => {
        const l = listener(filp)
        if (count !== 4) return -EINVAL
        const idev = l.dev
        if (!idev.info || !idev.info.irq) return -EIO
        if (idev.event === l.event_count) {
          if (filp.f_flags & O_NONBLOCK) return -EAGAIN
          return k.wait_event_interruptible(idev.wait, () => false)
        }
        const b = new Uint8Array(4)
        new DataView(b.buffer).setInt32(0, idev.event, true)
        if (k.copy_to_user(buf, b)) return -EFAULT
        l.event_count = idev.event
        return 4
      },
      /** Kernel: uio_write(). */
      write: (filp, buf, count) => {
        const idev = listener(filp).dev
        if (count !== 4) return -EINVAL
        const [err, irq_on] = k.get_user_int(buf)
        if (err) return -EFAULT
        if (!idev.info) return -EINVAL
        if (!idev.info.irq) return -EIO
        if (!idev.info.irqcontrol) return -ENOSYS
        const ret = idev.info.irqcontrol(idev.info, irq_on)
        return ret ? ret : 4
      },
      /** Kernel: uio_mmap(). */
      mmap: (filp, vma) => {
        const idev = listener(filp).dev
        vma.vm_private_data = idev
        if (!idev.info) return -EINVAL
        const mi = this.uio_find_mem_index(vma)
        if (mi < 0) return -EINVAL
        const mem = idev.info.mem[mi]
        const requested = (vma.vm_end - vma.vm_start) / PAGE_SIZE
        const actual = Math.ceil(((mem.addr % PAGE_SIZE) + mem.size) / PAGE_SIZE)
        if (requested > actual) return -EINVAL
        if (idev.info.mmap) return idev.info.mmap(idev.info, vma)
        switch (mem.memtype) {
          case UIO_MEM_IOVA:
          case UIO_MEM_PHYS:
            return this.uio_mmap_physical(k, vma, mem, physical_vm_ops)
          case UIO_MEM_LOGICAL:
          case UIO_MEM_VIRTUAL:
            // Kernel: uio_mmap_logical().
            k.vm_flags_set(vma, vm_flags_or(VM_DONTEXPAND, VM_DONTDUMP))
            vma.vm_ops = logical_vm_ops
            return 0
          case UIO_MEM_DMA_COHERENT:
            return this.uio_mmap_dma_coherent(k, vma, mem, mi)
          default:
            return -EINVAL
        }
      },
    }
  }

  /** Kernel: uio_mmap_physical(). */
  private uio_mmap_physical(k: DriverKernel, vma: VmArea, mem: UioMem, ops: VmOperations): number {
    if (mem.addr % PAGE_SIZE !== 0) return -ENODEV
    if (vma.vm_end - vma.vm_start > mem.size) return -EINVAL
    vma.vm_ops = ops
    const prot = mem.memtype === UIO_MEM_PHYS ? k.pgprot_noncached(k.vm_page_prot(vma)) : k.vm_page_prot(vma)
    return k.remap_pfn_range(vma, vma.vm_start, mem.addr / PAGE_SIZE, vma.vm_end - vma.vm_start, prot)
  }

  /** Kernel: uio_mmap_dma_coherent(): vm_pgoff is zeroed around dma_mmap_coherent (it is the index here). */
  private uio_mmap_dma_coherent(k: DriverKernel, vma: VmArea, mem: UioMem, mi: number): number {
    if (mem.addr % PAGE_SIZE || (mem.dma_addr ?? 1) % PAGE_SIZE || !mem.dma_device) return -ENODEV
    if (vma.vm_end - vma.vm_start > mem.size) return -EINVAL
    k.pr_warn(`uio: use of UIO_MEM_DMA_COHERENT is highly discouraged`)
    vma.vm_pgoff = 0
    const ret = k.dma_mmap_coherent(mem.dma_device as never, vma, mem.addr, mem.dma_addr ?? 0, vma.vm_end - vma.vm_start)
    vma.vm_pgoff = mi
    return ret
  }
}


/** The 'uio' module: the core, which UIO drivers need loaded (they take a reference on it). */
export function uio_module(core: UioCore): KernelModule {
  return {
    name: 'uio',
    init(k: DriverKernel, _p: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number {
      return core.uio_init(k, THIS_MODULE)
    },
    exit(): void {
      core.uio_exit()
    },
  }
}
