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
import type { Printk } from '../include/printk.js'
import { cred_capable, type Cred } from '../include/cred.js'
import { GFP_KERNEL, __GFP_COMP, type gfp_t } from '../mm/gfp.js'
import type { KmemCache, SlabAllocator } from '../mm/slab_common.js'
import type { slab_flags_t } from '../mm/slab_h.js'
export { SLAB_HWCACHE_ALIGN } from '../mm/slab_h.js'
export type { KmemCache } from '../mm/slab_common.js'
import type { KernelMemory } from '../mm/maccess.js'
import type { MmStruct } from '../mm/mm_types.js'
import { access_ok, copy_from_user, copy_to_user } from '../mm/uaccess.js'
import type { Cdev, ChrdevRegistry } from '../fs/char_dev.js'
import type { FileOperations, UserPtr } from '../fs/fs.js'
export type { DmaDevice } from '../mm/dma.js'
export { DMA_BIT_MASK } from '../mm/dma.js'
import type { Module } from '../include/module.js'
import type { PageAllocator } from '../mm/page_alloc.js'
import type { Vmalloc } from '../mm/vmalloc.js'
import { type MmEnv, type VmArea, type vm_flags_t, vm_flags_andnot, vm_flags_or } from '../mm/mm_types.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { put_page as mm_put_page } from '../mm/rmap.js'
import { vm_page_prot } from '../mm/memory.js'
import * as R from '../mm/remap.js'
import { get_user_pages } from '../mm/gup.js'
import { IORESOURCE_EXCLUSIVE } from '../mm/resource.js'
import type { DriverMmapCheck } from './mmap_check.js'
import { devmem_is_allowed, range_is_allowed, security_locked_down_dev_mem, type DevmemHost } from './devmem.js'
import { E_SLEEPING, WaitQueueHead } from '../include/wait.js'
import type { File, PollTable } from '../fs/fs.js'
import { poll_wait } from '../fs/select.js'
import type { Sysfs, SysfsShow } from '../fs/sysfs.js'
import type { IrqHandler, IrqTable } from './irq.js'
import type { UioCoreApi, UioInfo } from './uio_driver.js'
import { type DmaDevice, dma_direct_alloc, dma_direct_free, dma_direct_mmap, dma_set_mask_and_coherent, get_order } from '../mm/dma.js'
import { EBUSY, EINVAL, ENOENT, ERESTARTSYS } from '../include/errno.js'

export { GFP_KERNEL }
export {
  VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_FAULT_NOPAGE, VM_FAULT_LOCKED, VM_FAULT_HWPOISON, FAULT_FLAG_WRITE,
} from '../mm/memory.js'
export { VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND, VM_DONTDUMP, VM_DONTCOPY, VM_SHARED, VM_WRITE, VM_MAYWRITE, VM_READ, VM_EXEC, VM_MAYEXEC } from '../mm/mm_types.js'
export type { VmArea, VmFault, VmOperations } from '../mm/mm_types.js'
/** Kernel: generic_access_phys(), the vm_ops->access of an I/O memory mapping (mm/memory.c). */
export { generic_access_phys } from '../mm/access_remote.js'

/** The task a driver runs for, as much as drivers read of it. */
export interface CurrentTask {
  readonly pid: number
  readonly comm: string
  readonly cred: Cred
  /** current->signal: tty is tty_devnum() of the controlling terminal, 0 for none. */
  readonly signal: { readonly tty: number }
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
  readonly page_alloc: PageAllocator
  readonly vmalloc: Vmalloc
  readonly mm_env: MmEnv
  /** The driver-mmap checker (mmap_check.ts): who owns which frame, the findings. */
  readonly check: DriverMmapCheck
  /** /dev/mem's view of physical memory: the page policy physical-memory drivers must apply. */
  readonly devmem: DevmemHost
  /** prepare_to_wait() of the running system call (src/kernel/wait.ts). */
  prepare_to_wait(wq: WaitQueueHead): void
  /** signal_pending(current): a signal waits to be delivered to the running task. */
  signal_pending(): boolean
  readonly sysfs: Sysfs
  readonly irqs: IrqTable
  /** devtmpfs: the node device_create() makes, and removes at device_destroy(). */
  mknod(path: string, mode: number, dev: number): number
  unlink(path: string): number
  /** The UIO core's exports, null while the uio module is not loaded. */
  uio(): UioCoreApi | null
}

/** An ioremap()ped range of physical (device) memory: its start and length. */
export interface IoMem {
  readonly phys: number
  readonly size: number
}

export class DriverKernel {
  /**
   * `owner`: the module this instance was given to (module.ts makes one per
   * module), whose allocations the checker attributes to it; null for the
   * drivers built into the kernel image.
   */
  constructor(
    private readonly h: DriverHost,
    readonly owner: Module | null = null,
  ) {}

  /** The same kernel, for one module. */
  for_module(mod: Module): DriverKernel {
    return new DriverKernel(this.h, mod)
  }

  private get who(): string {
    return this.owner?.name ?? 'kernel'
  }

  /** sizeof(long) and sizeof(void *). */
  get sizeof_long(): 4 | 8 {
    return this.h.bits === 64 ? 8 : 4
  }
  /** current, or null outside a system call. */
  get current(): CurrentTask | null {
    return this.h.current()
  }

  // ---- printk: the kernel log (one Printk per machine), each line at its level ----
  printk(level: number, text: string): void {
    this.h.printk.printk(level, text)
  }
  pr_info(text: string): void {
    this.h.printk.pr_info(text)
  }
  pr_notice(text: string): void {
    this.h.printk.pr_notice(text)
  }
  pr_warn(text: string): void {
    this.h.printk.pr_warn(text)
  }
  pr_err(text: string): void {
    this.h.printk.pr_err(text)
  }
  pr_debug(text: string): void {
    this.h.printk.pr_debug(text)
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
  /** Kernel: kmem_cache_create(): a cache of `size`-byte objects of the driver's own, in /proc/slabinfo; null on failure. */
  kmem_cache_create(name: string, size: number, align: number, flags: slab_flags_t, ctor: ((objp: number) => void) | null = null): KmemCache | null {
    return this.h.slab.kmem_cache_create(name, size, align, flags, ctor)
  }
  /** Kernel: kmem_cache_alloc(): an object (not zeroed), or 0. */
  kmem_cache_alloc(cache: KmemCache, gfp: gfp_t = GFP_KERNEL): number {
    return this.h.slab.kmem_cache_alloc(cache, gfp, `${this.who}`)
  }
  /** Kernel: kmem_cache_free(); 0 is fine. */
  kmem_cache_free(cache: KmemCache, obj: number): void {
    if (obj) this.h.slab.kmem_cache_free(cache, obj, `${this.who}`)
  }
  /** Kernel: kmem_cache_destroy(); null is fine. */
  kmem_cache_destroy(cache: KmemCache | null): void {
    this.h.slab.kmem_cache_destroy(cache, `${this.who}`)
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

  // ---- pages (mm/page_alloc.c); a page is its pfn ----
  /** Kernel: alloc_pages(): the first pfn of 2^order pages, or -1. */
  alloc_pages(gfp: gfp_t, order: number): number {
    const pfn = this.h.page_alloc.alloc_pages(gfp, order)
    if (pfn >= 0) {
      this.h.check.own(this.who, pfn, 2 ** order)
      if (!(gfp & __GFP_COMP)) this.h.check.own_block(pfn, order)
    }
    return pfn
  }
  /**
   * Kernel: __free_pages(). Frames the module does not hold are a finding
   * (S-G5) and are left alone; frames still mapped by a process are freed
   * with a finding (S-I1): their PTEs' references keep them alive.
   */
  __free_pages(pfn: number, order: number): void {
    if (!this.h.check.check_free(this.who, '__free_pages', pfn, 2 ** order)) return
    this.h.check.disown(pfn, 2 ** order)
    this.h.page_alloc.__free_pages(pfn, order)
  }
  /** Kernel: split_page(): the block's pages become order-0 pages, each refcounted and freed on its own. */
  split_page(pfn: number, order: number): void {
    this.h.page_alloc.split_page(pfn, order)
    this.h.check.disown_block(pfn)
  }
  /** Kernel: __get_free_pages(): the kernel (direct-map) address of 2^order lowmem pages, or 0. */
  __get_free_pages(gfp: gfp_t, order: number): number {
    const pfn = this.alloc_pages(gfp, order)
    return pfn < 0 ? 0 : this.h.page_alloc.page_address(pfn)
  }
  /** Kernel: free_pages(addr, order); 0 is fine. A page still mapped keeps its mapping's references. */
  free_pages(addr: number, order: number): void {
    if (addr === 0) return
    this.__free_pages(this.virt_to_pfn(addr), order)
  }
  /** Kernel: virt_to_page() / __pa() >> PAGE_SHIFT of a direct-map address (-1 elsewhere). */
  virt_to_pfn(addr: number): number {
    return this.h.page_alloc.virt_to_pfn(addr)
  }
  /** Kernel: virt_to_phys(). */
  virt_to_phys(addr: number): number {
    const pfn = this.virt_to_pfn(addr)
    return pfn < 0 ? -1 : pfn * PAGE_SIZE + (addr % PAGE_SIZE)
  }
  /** Kernel: page_address(). */
  page_address(pfn: number): number {
    return this.h.page_alloc.page_address(pfn)
  }
  /** Kernel: pfn_valid(): the frame has a struct page (it is RAM the kernel manages). */
  pfn_valid(pfn: number): boolean {
    return Number.isInteger(pfn) && pfn >= 0 && pfn < this.h.page_alloc.pages.nr
  }
  /** Kernel: get_page(): one more reference (a fault handler's page for vmf->page). */
  get_page(pfn: number): void {
    this.h.check.check_get_page(this.who, pfn)
    this.h.page_alloc.pages.get_page(pfn)
  }
  /** Kernel: put_page(). */
  put_page(pfn: number): void {
    mm_put_page(this.h.mm_env, pfn)
  }
  /** Kernel: page_count(). */
  page_count(pfn: number): number {
    return this.h.page_alloc.pages.page_count(pfn)
  }

  /**
   * Kernel: devmem_is_allowed() (STRICT_DEVMEM): 0 deny, 1 allow, 2 zeros.
   * A driver that maps physical addresses it is given (a /dev/mem clone)
   * applies it to every page (SECURITY.md S-J6).
   */
  devmem_is_allowed(pfn: number): 0 | 1 | 2 {
    return devmem_is_allowed(this.h.devmem, pfn)
  }
  /** Kernel: range_is_allowed(): devmem_is_allowed() for every page of [pfn, pfn + n), asked once. */
  range_is_allowed(pfn: number, n: number): boolean {
    return range_is_allowed(this.h.devmem, pfn, n)
  }
  /** Kernel: security_locked_down(LOCKDOWN_DEV_MEM): 0, or -EPERM (logged) under lockdown. */
  security_locked_down_dev_mem(): number {
    return security_locked_down_dev_mem(this.h.devmem)
  }
  /**
   * This module maps physical memory by design, under devmem_is_allowed:
   * the checker stops asking whether the frames are its own.
   */
  declare_raw_physical(): void {
    this.h.check.declare_raw_physical(this.who)
  }

  // ---- vmalloc (mm/vmalloc.c) ----
  private own_vmalloc(addr: number): number {
    const area = addr ? this.h.vmalloc.find_vm_area(addr) : null
    if (area) for (let a = addr; a < addr + area.size; a += PAGE_SIZE) this.own_vpage(a)
    return addr
  }
  private own_vpage(a: number): void {
    const pfn = this.h.vmalloc.vmalloc_to_pfn(a)
    if (pfn >= 0) this.h.check.own(this.who, pfn, 1)
  }
  /** Kernel: vmalloc(): not zeroed; 0 on failure. */
  vmalloc(size: number): number {
    return this.own_vmalloc(this.h.vmalloc.vmalloc(size, `${this.who}`))
  }
  /** Kernel: vzalloc(). */
  vzalloc(size: number): number {
    return this.own_vmalloc(this.h.vmalloc.vzalloc(size, `${this.who}`))
  }
  /** Kernel: vmalloc_user(): zeroed and VM_USERMAP, what remap_vmalloc_range accepts. */
  vmalloc_user(size: number): number {
    return this.own_vmalloc(this.h.vmalloc.vmalloc_user(size, `${this.who}`))
  }
  /** Kernel: vfree(); 0 is fine. */
  vfree(addr: number): void {
    const area = addr ? this.h.vmalloc.find_vm_area(addr) : null
    if (area) {
      for (let a = addr; a < addr + area.size; a += PAGE_SIZE) {
        const pfn = this.h.vmalloc.vmalloc_to_pfn(a)
        if (pfn >= 0 && this.h.check.check_free(this.who, 'vfree', pfn, 1)) this.h.check.disown(pfn, 1)
      }
    }
    this.h.vmalloc.vfree(addr)
  }
  /** Kernel: vmalloc_to_page() as a pfn, -1 when nothing is mapped there. */
  vmalloc_to_pfn(addr: number): number {
    const pfn = this.h.vmalloc.vmalloc_to_page(addr)
    return pfn === null ? -1 : pfn
  }

  // ---- mapping into user VMAs (mm/memory.c; checked by mmap_check.ts) ----
  /** Kernel: vm_flags_set(). */
  vm_flags_set(vma: VmArea, flags: vm_flags_t): void {
    vma.vm_flags = vm_flags_or(vma.vm_flags, flags)
  }
  /** Kernel: vm_flags_clear(). */
  vm_flags_clear(vma: VmArea, flags: vm_flags_t): void {
    vma.vm_flags = vm_flags_andnot(vma.vm_flags, flags)
  }
  /** Kernel: vma->vm_page_prot (the PTE bits the VMA's flags give). */
  vm_page_prot(vma: VmArea): number {
    return vm_page_prot(vma)
  }
  /** Kernel: pgprot_noncached(vma->vm_page_prot). */
  pgprot_noncached(prot: number): number {
    return R.pgprot_noncached(prot)
  }
  /** Kernel: remap_pfn_range(): 0 or -errno (EINVAL, ENOMEM...). */
  remap_pfn_range(vma: VmArea, addr: number, pfn: number, size: number, prot?: number): number {
    // a finding is reported; the mapping still goes ahead, as Linux's would
    if (size > 0) this.h.check.check_map(this.who, 'remap_pfn_range', addr, pfn, Math.ceil(size / PAGE_SIZE))
    return R.remap_pfn_range(vma, addr, pfn, size, prot)
  }
  /** Kernel: io_remap_pfn_range(). */
  io_remap_pfn_range(vma: VmArea, addr: number, pfn: number, size: number, prot?: number): number {
    return this.remap_pfn_range(vma, addr, pfn, size, prot)
  }
  /**
   * Kernel: vm_iomap_memory(): the whole VMA onto the physical range
   * [start, start + len) from vma->vm_pgoff, with the offset and size
   * checks a hand-written remap gets wrong (S-A4, S-C1): 0 or -EINVAL.
   */
  vm_iomap_memory(vma: VmArea, start: number, len: number): number {
    const pfn = R.simple_ioremap_prep((vma.vm_end - vma.vm_start) / PAGE_SIZE, vma.vm_pgoff, start, len)
    if (pfn >= 0) this.h.check.check_map(this.who, 'vm_iomap_memory', vma.vm_start, pfn, (vma.vm_end - vma.vm_start) / PAGE_SIZE)
    return R.vm_iomap_memory(vma, start, len)
  }
  /** Kernel: vm_insert_page(): 0 or -errno (EFAULT, EINVAL, EBUSY). */
  vm_insert_page(vma: VmArea, addr: number, pfn: number): number {
    this.h.check.check_map(this.who, 'vm_insert_page', addr, pfn, 1)
    return R.vm_insert_page(vma, addr, pfn)
  }
  /** Kernel: vmf_insert_pfn(): VM_FAULT_NOPAGE or an error code. */
  vmf_insert_pfn(vma: VmArea, addr: number, pfn: number): number {
    this.h.check.check_map(this.who, 'vmf_insert_pfn', addr, pfn, 1)
    return R.vmf_insert_pfn(vma, addr, pfn)
  }
  /** Kernel: remap_vmalloc_range(vma, addr, pgoff): the vmalloc_user() area from page pgoff, over the whole VMA. */
  remap_vmalloc_range(vma: VmArea, addr: number, pgoff: number): number {
    const pfns = this.h.vmalloc.remap_vmalloc_range_pages(addr, pgoff, vma.vm_end - vma.vm_start)
    return R.remap_vmalloc_pages(vma, pfns)
  }

  /**
   * Kernel: get_user_pages() on mm: the pinned pfns (put_page each) or
   * -errno; VM_IO/VM_PFNMAP mappings are EFAULT.
   */
  get_user_pages(mm: MmStruct, start: number, nr_pages: number, write: boolean): number[] | number {
    return get_user_pages(mm, start, nr_pages, write)
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

  // ---- sleeping (include/linux/wait.h) and poll ----
  /** Kernel: init_waitqueue_head(). */
  init_waitqueue_head(): WaitQueueHead {
    return new WaitQueueHead()
  }
  /**
   * Kernel: wait_event_interruptible(wq, cond): 0 when cond() holds;
   * -ERESTARTSYS when a signal is pending (the caller returns it: the
   * process sees EINTR); else current sleeps on wq and the caller must
   * return the result (E_SLEEPING) at once: the system call runs again
   * from the top when wq is woken or a signal comes.
   */
  wait_event_interruptible(wq: WaitQueueHead, cond: () => boolean): number {
    if (cond()) return 0
    if (this.h.signal_pending()) return -ERESTARTSYS
    this.h.prepare_to_wait(wq)
    return -E_SLEEPING
  }
  /** Kernel: wake_up_interruptible(). */
  wake_up_interruptible(wq: WaitQueueHead): void {
    wq.wake_up_interruptible()
  }
  /** Kernel: poll_wait(). */
  poll_wait(file: File, wq: WaitQueueHead, pt: PollTable | null): void {
    poll_wait(file, wq, pt)
  }

  // ---- devices: nodes, sysfs attributes, interrupts, device memory ----
  /** Kernel: device_create(): the /dev node udev/devtmpfs makes for the device (0 or -errno). */
  device_create(name: string, dev: number, mode: number): number {
    this.mmsim_check_node(`/dev/${name}`, mode)
    return this.h.mknod(`/dev/${name}`, mode, dev)
  }
  /** Not a kernel call: the checker's look at a node made for this module (its load script's mknod). */
  mmsim_check_node(path: string, mode: number): void {
    this.h.check.check_node(this.who, path, mode)
  }
  /** Kernel: device_destroy(). */
  device_destroy(name: string): void {
    this.h.unlink(`/dev/${name}`)
  }
  /** Kernel: sysfs_create_file() at a full /sys path. */
  sysfs_create_file(path: string, show: SysfsShow): number {
    return this.h.sysfs.sysfs_create_file(path, show)
  }
  /** Kernel: kobject_del() of a /sys directory and what is under it. */
  sysfs_remove_dir(dir: string): void {
    this.h.sysfs.sysfs_remove_dir(dir)
  }
  /** Kernel: request_irq(): 0 or -errno. */
  request_irq(irq: number, handler: IrqHandler, flags: number, name: string, dev_id: unknown): number {
    return this.h.irqs.request_irq(irq, handler, flags, name, dev_id)
  }
  /** Kernel: free_irq(). */
  free_irq(irq: number, dev_id: unknown): void {
    this.h.irqs.free_irq(irq, dev_id)
  }
  /** Kernel: disable_irq() / enable_irq(): a disabled line's interrupt waits until enabled. */
  disable_irq(irq: number): void {
    this.h.irqs.disable_irq(irq)
  }
  enable_irq(irq: number): void {
    this.h.irqs.enable_irq(irq)
  }
  /**
   * Kernel: request_mem_region(): claim a device's physical range (MMIO, not
   * RAM) for this module in the iomem tree (/proc/iomem shows it under
   * `name`, the module's name by default): 0, or -EBUSY when it overlaps
   * System RAM, the low MiB's busy ranges or another claim (Linux returns
   * NULL). The checker then lets the module map those frames. With
   * CONFIG_IO_STRICT_DEVMEM the claim closes the range to /dev/mem and
   * revokes its /dev/mem mappings.
   */
  request_mem_region(start: number, n: number, name: string = this.who): number {
    return this.__request_mem_region(start, n, name, 0)
  }
  /**
   * Kernel: request_mem_region_exclusive(): the same claim marked
   * IORESOURCE_EXCLUSIVE: /dev/mem may no longer map or read the range above
   * 1 MiB (devmem_is_allowed), whatever CONFIG_IO_STRICT_DEVMEM says.
   */
  request_mem_region_exclusive(start: number, n: number, name: string = this.who): number {
    return this.__request_mem_region(start, n, name, IORESOURCE_EXCLUSIVE)
  }
  private __request_mem_region(start: number, n: number, name: string, flags: number): number {
    if (!(Number.isInteger(start) && Number.isInteger(n) && start >= 0 && n > 0)) return -EINVAL
    if (!this.h.devmem.iomem.request_region(start, n, name, flags)) return -EBUSY
    const first = Math.floor(start / PAGE_SIZE)
    const last = Math.ceil((start + n) / PAGE_SIZE)
    this.h.check.own(this.who, first, last - first)
    return 0
  }
  /** Kernel: release_mem_region(). */
  release_mem_region(start: number, n: number): void {
    if (!this.h.devmem.iomem.release_region(start, n)) {
      this.pr_warn(`Trying to free nonexistent resource <0x${start.toString(16).padStart(16, '0')}-0x${(start + n - 1).toString(16).padStart(16, '0')}>`)
      return
    }
    const first = Math.floor(start / PAGE_SIZE)
    this.h.check.disown(first, Math.ceil((start + n) / PAGE_SIZE) - first)
  }
  /**
   * Not a kernel call: tell mmsim's driver checker that this module (a
   * framework such as the UIO core) maps memory `from` owns, on its behalf.
   */
  mmsim_grant_mapping(from: Module | null): void {
    this.h.check.grant(from?.name ?? 'kernel', this.who)
  }
  /** Kernel: ioremap(): the device's registers at a physical address (null past physical memory). */
  ioremap(phys: number, size: number): IoMem | null {
    if (!(phys >= 0 && size > 0 && phys + size <= this.h.devmem.nr_frames * PAGE_SIZE)) return null
    return { phys, size }
  }
  /** Kernel: memcpy_toio(): bytes into device memory (a write past the mapping is a KernelBug in the driver). */
  memcpy_toio(io: IoMem, off: number, data: Uint8Array): void {
    if (off < 0 || off + data.length > io.size) throw new Error(`memcpy_toio: ${off}+${data.length} past the ioremap of ${io.size} bytes`)
    this.h.devmem.write_phys(io.phys + off, data)
  }
  /** Kernel: memcpy_fromio(). */
  memcpy_fromio(io: IoMem, off: number, len: number): Uint8Array {
    if (off < 0 || off + len > io.size) throw new Error(`memcpy_fromio: ${off}+${len} past the ioremap of ${io.size} bytes`)
    return this.h.devmem.read_phys(io.phys + off, len)
  }

  // ---- DMA (kernel/dma/direct.c; no IOMMU) ----
  /** Kernel: dma_set_mask_and_coherent(): 0 or -EIO. */
  dma_set_mask_and_coherent(dev: DmaDevice, mask: number): number {
    return dma_set_mask_and_coherent(dev, mask)
  }
  /**
   * Kernel: dma_alloc_coherent(): the CPU address of a zeroed buffer the
   * device can reach (its bus address in handle.value), or 0.
   */
  dma_alloc_coherent(dev: DmaDevice, size: number, handle: { value: number }, gfp: gfp_t = GFP_KERNEL): number {
    const buf = dma_direct_alloc(this.h.page_alloc, dev, size, gfp)
    if (!buf) return 0
    this.h.check.own(this.who, buf.pfn, 2 ** buf.order)
    handle.value = buf.dma_handle
    return buf.cpu_addr
  }
  /** Kernel: dma_free_coherent(). */
  dma_free_coherent(_dev: DmaDevice, size: number, cpu_addr: number, dma_handle: number): void {
    const buf = { cpu_addr, dma_handle, pfn: Math.floor(dma_handle / PAGE_SIZE), order: get_order(size) }
    if (!this.h.check.check_free(this.who, 'dma_free_coherent', buf.pfn, 2 ** buf.order)) return
    this.h.check.disown(buf.pfn, 2 ** buf.order)
    dma_direct_free(this.h.page_alloc, buf)
  }
  /** Kernel: dma_mmap_coherent(): 0, -ENXIO past the buffer, or remap_pfn_range's error. */
  dma_mmap_coherent(_dev: DmaDevice, vma: VmArea, _cpu_addr: number, dma_handle: number, size: number): number {
    const pages = (vma.vm_end - vma.vm_start) / PAGE_SIZE
    if (vma.vm_pgoff < Math.ceil(size / PAGE_SIZE) && pages <= Math.ceil(size / PAGE_SIZE) - vma.vm_pgoff) {
      this.h.check.check_map(this.who, 'dma_mmap_coherent', vma.vm_start, Math.floor(dma_handle / PAGE_SIZE) + vma.vm_pgoff, pages)
    }
    return dma_direct_mmap(vma, dma_handle, size)
  }
  /** The bus address's bytes as the device writes them (a DMA engine's writes reach RAM directly). */
  dma_write(dma_addr: number, data: Uint8Array): void {
    this.h.devmem.write_phys(dma_addr, data)
  }

  // ---- UIO (drivers/uio/uio.c, exported by the uio module) ----
  /** Kernel: uio_register_device(): 0 or -errno (-ENOENT: the uio module is not loaded, its symbol unresolved). */
  uio_register_device(info: UioInfo): number {
    const uio = this.h.uio()
    return uio ? uio.uio_register_device(this.owner, info) : -ENOENT
  }
  /** Kernel: uio_unregister_device(). */
  uio_unregister_device(info: UioInfo): void {
    this.h.uio()?.uio_unregister_device(info)
  }
  /** Kernel: uio_event_notify(). */
  uio_event_notify(info: UioInfo): void {
    this.h.uio()?.uio_event_notify(info)
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
