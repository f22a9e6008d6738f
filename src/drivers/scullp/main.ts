/**
 * scullp: scull on whole pages (LDD3 chapters 8 and 15; scullp/main.c and
 * scullp/mmap.c of martinezjavier/ldd3, with the book's fault semantics).
 * Each quantum is 2^order pages from the buddy allocator
 * (__get_free_pages), zeroed when allocated, so a process that maps the
 * device sees the very frames the driver writes through its kernel
 * addresses.
 *
 * The device is a list of scullp_dev nodes, each with a kmalloc'd array
 * of `qset` page addresses (stored in simulated kernel memory, as the C
 * driver stores its pointers). Reads and writes move at most one quantum
 * per call; a hole reads 0 bytes; open O_WRONLY trims, unless the device is
 * mapped: trim then refuses (EBUSY) and open ignores it, keeping the data
 * (the book's rule: a mapped device is never freed).
 *
 * mmap installs scullp_vm_ops and counts the VMA itself (vm_ops->open is
 * not called for the first mmap); fork, split and mremap's move call open,
 * unmapping calls close. The fault handler finds the page for the faulting
 * offset, takes a reference (get_page) and hands it back; an offset at or
 * past the device's size, or in a hole, is SIGBUS. Mapping a device whose
 * order is not 0 is ENODEV: only the first page of a higher-order block is
 * refcounted. Not modelled: the SCULLP_IOC* ioctls.
 *
 * Port-compat mode (module parameter scullp_port / scullv_port = 1;
 * SECURITY.md S-B8): the fault handler of the martinezjavier/ldd3 port
 * (d0c90d4), which starts from VM_FAULT_NOPAGE and returns it, with no PTE
 * installed, for an offset past the size or in a hole. Linux would fault
 * forever there; the core reports the "fault livelock" and kills the task.
 *
 * scullv (LDD3 scullv/) is the same device with vmalloc'd quanta (order 4:
 * 64 KiB, not zeroed by vmalloc, so zeroed here) whose fault handler finds
 * the page with vmalloc_to_page; any order can be mapped. Page k of the
 * device is bytes [4096k, 4096k + 4096), the intended semantics (SPEC
 * §4.3), not the book's quantum-for-page indexing.
 */
import { EBUSY, EFAULT, EFBIG, EINVAL, ENODEV, ENOMEM, ENXIO } from '../../include/errno.js'
import { O_ACCMODE, O_WRONLY } from '../../include/uapi/fcntl.js'
import type { Module } from '../../include/module.js'
import { PAGE_SIZE } from '../../include/page_types.js'
import { MAJOR, MKDEV, S_IFCHR, type File, type FileOperations, type Loff, type UserPtr } from '../../fs/fs.js'
import type { Cdev } from '../../fs/char_dev.js'
import {
  type DriverKernel, type KmemCache, type VmArea, type VmFault, type VmOperations, GFP_KERNEL, SLAB_HWCACHE_ALIGN, VM_FAULT_SIGBUS, VM_FAULT_NOPAGE,
} from '../driver_api.js'
import { type DeviceNode, type KernelModule, type ModuleParamValue, STAFF_GID } from '../module.js'
import { scull_llseek } from '../scull/scull.js'

export const SCULLP_ORDER = 0
export const SCULLP_QSET = 500
export const SCULLP_DEVS = 4
/** Writes at or past this position are EFBIG (SECURITY.md S-B7: scull's walk would allocate without bound). */
export const SCULLP_MAX_SIZE = 64 * 1024 * 1024

/** struct scullp_dev: a device, and each further node of its list. */
export class ScullpDev {
  /** Kernel address of the array of qset page addresses (0: none). */
  data = 0
  next: ScullpDev | null = null
  /** Active mappings (the book's design rule: a mapped device is never trimmed). */
  vmas = 0
  order: number
  qset: number
  size = 0
  cdev: Cdev | null = null
  /** The node's own kmalloc'd struct (0 for the devices of the array). */
  kaddr = 0
  constructor(g: ScullpGlobals) {
    this.order = g.scullp_order
    this.qset = g.scullp_qset
  }
}

export interface ScullpGlobals {
  /**
   * 'scullp': quanta from __get_free_pages; 'scullv' (scullv/, LDD3 §15.2.7): from vmalloc;
   * 'scullc' (scullc/, LDD3 §8.2): scullc_quantum-byte objects of its own kmem_cache "scullc", no mmap.
   */
  kind: 'scullp' | 'scullv' | 'scullc'
  scullp_major: number
  scullp_devs: number
  scullp_qset: number
  scullp_order: number
  /** scullc's quantum in bytes (the size of its cache's objects). */
  scullc_quantum: number
  /** 1: the port's fault handler (VM_FAULT_NOPAGE without a PTE where the book says SIGBUS); 0: the book's. */
  scullp_port: number
}

export class Scullp {
  readonly devices: ScullpDev[] = []
  readonly fops: FileOperations
  readonly vm_ops: VmOperations

  constructor(
    private readonly k: DriverKernel,
    readonly g: ScullpGlobals,
    owner: Module,
    /** scullc's kmem_cache (null for scullp and scullv). */
    private readonly cache: KmemCache | null = null,
  ) {
    this.fops = {
      owner,
      llseek: (f, off, whence) => scull_llseek(f, off, whence, (f.private_data as ScullpDev).size),
      read: (f, buf, count, ppos) => this.scullp_read(f, buf, count, ppos),
      write: (f, buf, count, ppos) => this.scullp_write(f, buf, count, ppos),
      open: (inode, filp) => this.scullp_open(inode.i_cdev, filp),
      release: () => 0,
      // scullc has no mmap.c: an mmap of its nodes is ENODEV
      mmap: g.kind === 'scullc' ? undefined : (f, vma) => this.scullp_mmap(f, vma),
    }
    this.vm_ops = {
      open: (vma) => this.scullp_vma_open(vma),
      close: (vma) => this.scullp_vma_close(vma),
      fault: (vmf) => this.scullp_vma_fault(vmf),
    }
  }

  private get L(): number {
    return this.k.sizeof_long
  }
  private quantum(dev: ScullpDev): number {
    return this.cache ? this.g.scullc_quantum : PAGE_SIZE * 2 ** dev.order
  }

  /** Kernel: scullp_trim(): EBUSY while mapped; else free every page, array and node. */
  scullp_trim(dev: ScullpDev): number {
    const k = this.k
    if (dev.vmas) return -EBUSY
    for (let dptr: ScullpDev | null = dev; dptr; ) {
      if (dptr.data) {
        for (let i = 0; i < dptr.qset; i++) {
          const q = k.read_ptr(dptr.data + i * this.L)
          if (this.cache) k.kmem_cache_free(this.cache, q)
          else if (this.g.kind === 'scullv') k.vfree(q)
          else k.free_pages(q, dptr.order)
        }
        k.kfree(dptr.data, 'scullp_trim')
        dptr.data = 0
      }
      const next: ScullpDev | null = dptr.next
      if (dptr !== dev) k.kfree(dptr.kaddr, 'scullp_trim')
      dptr = next
    }
    dev.next = null
    dev.size = 0
    dev.order = this.g.scullp_order
    dev.qset = this.g.scullp_qset
    return 0
  }

  /** Kernel: scullp_follow(): the n-th node, allocating nodes on the way; null when out of memory. */
  private scullp_follow(dev: ScullpDev, n: number): ScullpDev | null {
    let d = dev
    while (n-- > 0) {
      if (!d.next) {
        const node = new ScullpDev(this.g)
        node.order = dev.order
        node.qset = dev.qset
        node.kaddr = this.k.kzalloc(4 * this.L + 8, GFP_KERNEL, 'scullp_follow')
        if (!node.kaddr) return null
        d.next = node
      }
      d = d.next
    }
    return d
  }

  private scullp_open(i_cdev: unknown, filp: File): number {
    const dev = this.devices.find((d) => d.cdev === i_cdev)
    if (!dev) return -ENXIO
    filp.private_data = dev
    // the book ignores trim's EBUSY: opening a mapped device for writing keeps its data
    if ((filp.f_flags & O_ACCMODE) === O_WRONLY) this.scullp_trim(dev)
    return 0
  }

  private locate(dev: ScullpDev, pos: number): { item: number; s_pos: number; q_pos: number } {
    const quantum = this.quantum(dev)
    const itemsize = quantum * dev.qset
    const item = Math.floor(pos / itemsize)
    const rest = pos % itemsize
    return { item, s_pos: Math.floor(rest / quantum), q_pos: rest % quantum }
  }

  private scullp_read(filp: File, buf: UserPtr, count: number, f_pos: Loff): number {
    const k = this.k
    const dev = filp.private_data as ScullpDev
    if (f_pos.pos >= dev.size) return 0
    if (f_pos.pos + count > dev.size) count = dev.size - f_pos.pos
    const { item, s_pos, q_pos } = this.locate(dev, f_pos.pos)
    const dptr = this.scullp_follow(dev, item)
    if (!dptr || !dptr.data) return 0
    const page = k.read_ptr(dptr.data + s_pos * this.L)
    if (!page) return 0
    count = Math.min(count, this.quantum(dev) - q_pos)
    if (k.copy_to_user(buf, k.kernel_read(page + q_pos, count))) return -EFAULT
    f_pos.pos += count
    return count
  }

  private scullp_write(filp: File, buf: UserPtr, count: number, f_pos: Loff): number {
    const k = this.k
    const dev = filp.private_data as ScullpDev
    if (f_pos.pos >= SCULLP_MAX_SIZE) return -EFBIG
    const { item, s_pos, q_pos } = this.locate(dev, f_pos.pos)
    const dptr = this.scullp_follow(dev, item)
    if (!dptr) return -ENOMEM
    if (!dptr.data) {
      dptr.data = k.kzalloc(dptr.qset * this.L, GFP_KERNEL, 'scullp_write')
      if (!dptr.data) return -ENOMEM
    }
    let page = k.read_ptr(dptr.data + s_pos * this.L)
    if (!page) {
      if (this.cache) page = k.kmem_cache_alloc(this.cache, GFP_KERNEL)
      else page = this.g.kind === 'scullv' ? k.vmalloc(this.quantum(dptr)) : k.__get_free_pages(GFP_KERNEL, dptr.order)
      if (!page) return -ENOMEM
      // the book's scullc does not clear its objects (SECURITY.md S-B1): zeroed here like the rest
      k.memset0(page, this.quantum(dptr))
      k.write_ptr(dptr.data + s_pos * this.L, page)
    }
    count = Math.min(count, this.quantum(dev) - q_pos)
    const bytes = new Uint8Array(count)
    const left = k.copy_from_user(bytes, buf)
    k.kernel_write(page + q_pos, bytes)
    if (left) return -EFAULT
    f_pos.pos += count
    if (dev.size < f_pos.pos) dev.size = f_pos.pos
    return count
  }

  // ---- mmap.c ----
  scullp_vma_open(vma: VmArea): void {
    ;(vma.vm_private_data as ScullpDev).vmas++
  }
  scullp_vma_close(vma: VmArea): void {
    ;(vma.vm_private_data as ScullpDev).vmas--
  }

  /** Kernel: scullp_vma_nopage()/fault: the page at the faulting offset, referenced; SIGBUS past size or in a hole. */
  scullp_vma_fault(vmf: VmFault): number {
    const k = this.k
    const vma = vmf.vma
    const dev = vma.vm_private_data as ScullpDev
    const byte = vmf.address - vma.vm_start + vma.vm_pgoff * PAGE_SIZE
    // the port's handler leaves with its initial VM_FAULT_NOPAGE where the book's returns SIGBUS
    const out = this.g.scullp_port ? VM_FAULT_NOPAGE : VM_FAULT_SIGBUS
    if (byte >= dev.size) return out
    // the quantum holding the page, then the page inside it (one page per quantum for scullp; scullv's
    // quanta are 2^order pages: the book's code indexed quanta by page number, SPEC §4.3's "book-bug")
    const per_quantum = 2 ** dev.order
    let offset = Math.floor(byte / PAGE_SIZE / per_quantum)
    let ptr: ScullpDev | null = dev
    while (ptr && offset >= dev.qset) {
      ptr = ptr.next
      offset -= dev.qset
    }
    const qptr = ptr && ptr.data ? k.read_ptr(ptr.data + offset * this.L) : 0
    if (!qptr) return out // hole or end of file
    const in_quantum = (Math.floor(byte / PAGE_SIZE) % per_quantum) * PAGE_SIZE
    const pfn = this.g.kind === 'scullv' ? k.vmalloc_to_pfn(qptr + in_quantum) : k.virt_to_pfn(qptr)
    k.get_page(pfn)
    vmf.page = pfn
    return 0
  }

  /** Kernel: scullp_mmap(): order-0 devices only; no size check here, the fault handler bounds every page. */
  scullp_mmap(filp: File, vma: VmArea): number {
    const dev = filp.private_data as ScullpDev
    // higher-order buddy blocks are refcounted on their first page only; vmalloc pages each on their own
    if (dev.order && this.g.kind === 'scullp') return -ENODEV
    vma.vm_ops = this.vm_ops
    vma.vm_private_data = dev
    this.scullp_vma_open(vma)
    return 0
  }

  setup_devices(): void {
    const k = this.k
    for (let i = 0; i < this.g.scullp_devs; i++) {
      const dev = new ScullpDev(this.g)
      this.devices.push(dev)
      dev.cdev = k.cdev_init(this.fops)
      const err = k.cdev_add(dev.cdev, MKDEV(this.g.scullp_major, i), 1)
      if (err) k.pr_notice(`Error ${err} adding ${this.g.kind}${i}`)
    }
  }

  cleanup_devices(): void {
    for (const dev of this.devices) {
      if (dev.cdev) this.k.cdev_del(dev.cdev)
      this.scullp_trim(dev)
    }
    this.devices.length = 0
  }
}

/** The scullp module: scullp0..3, as scullp_load makes them (mode 664). */
export function scullp_module(): KernelModule & { scullp: Scullp | null; g: ScullpGlobals } {
  return scull_pages_module('scullp', SCULLP_ORDER)
}

/** scullv (LDD3 scullv/): scullp's device with vmalloc'd quanta of 2^4 pages, mappable at any order. */
export function scullv_module(): KernelModule & { scullp: Scullp | null; g: ScullpGlobals } {
  return scull_pages_module('scullv', 4)
}

/**
 * scullc (LDD3 scullc/): scull whose quanta are objects of its own
 * kmem_cache "scullc" (SCULLC_QUANTUM 4000 bytes, qset 500), visible in
 * /proc/slabinfo while loaded; no mmap (ENODEV). Parameters scullc_major,
 * scullc_devs, scullc_qset, scullc_quantum.
 */
export function scullc_module(): KernelModule & { scullp: Scullp | null; g: ScullpGlobals } {
  return scull_pages_module('scullc', 0)
}

export const SCULLC_QUANTUM = 4000

function scull_pages_module(kind: 'scullp' | 'scullv' | 'scullc', order: number): KernelModule & { scullp: Scullp | null; g: ScullpGlobals } {
  const g: ScullpGlobals = { kind, scullp_major: 0, scullp_devs: SCULLP_DEVS, scullp_qset: SCULLP_QSET, scullp_order: order, scullc_quantum: SCULLC_QUANTUM, scullp_port: 0 }
  let cache: KmemCache | null = null
  const params: Record<string, 'int'> = { [`${kind}_major`]: 'int', [`${kind}_devs`]: 'int', [`${kind}_qset`]: 'int' }
  params[kind === 'scullc' ? 'scullc_quantum' : `${kind}_order`] = 'int'
  if (kind !== 'scullc') params[`${kind}_port`] = 'int'
  const m = {
    name: kind,
    params,
    g,
    scullp: null as Scullp | null,
    /** Kernel: scullp_init() / scullc_init(). */
    init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number {
      for (const [param, v] of Object.entries(params)) {
        const key = param === 'scullc_quantum' ? param : param.replace(/^scull[vc]_/, 'scullp_')
        if (key in g && key !== 'kind') (g as unknown as Record<string, number>)[key] = v as number
      }
      if (g.scullp_devs < 0 || g.scullp_qset <= 0 || g.scullp_order < 0 || g.scullp_order > 10 || (g.scullp_port !== 0 && g.scullp_port !== 1)) return -EINVAL
      if (g.scullc_quantum <= 0 || g.scullc_quantum > 4 * 1024 * 1024) return -EINVAL
      let result: number
      if (g.scullp_major) {
        result = k.register_chrdev_region(MKDEV(g.scullp_major, 0), g.scullp_devs, kind)
      } else {
        const out = { value: 0 }
        result = k.alloc_chrdev_region(out, 0, g.scullp_devs, kind)
        g.scullp_major = MAJOR(out.value)
      }
      if (result < 0) return result
      if (kind === 'scullc') {
        cache = k.kmem_cache_create('scullc', g.scullc_quantum, 0, SLAB_HWCACHE_ALIGN)
        if (!cache) {
          k.unregister_chrdev_region(MKDEV(g.scullp_major, 0), g.scullp_devs)
          return -ENOMEM
        }
      }
      const s = (m.scullp = new Scullp(k, g, THIS_MODULE, cache))
      s.setup_devices()
      return 0
    },
    /** Kernel: scullp_cleanup() / scullc_cleanup(). */
    exit(k: DriverKernel): void {
      m.scullp?.cleanup_devices()
      k.kmem_cache_destroy(cache)
      cache = null
      k.unregister_chrdev_region(MKDEV(g.scullp_major, 0), g.scullp_devs)
      m.scullp = null
    },
    nodes(): DeviceNode[] {
      const out: DeviceNode[] = []
      for (let i = 0; i < g.scullp_devs; i++) out.push({ name: `${kind}${i}`, dev: MKDEV(g.scullp_major, i), mode: S_IFCHR | 0o664, gid: STAFF_GID })
      return out
    },
  }
  return m
}
