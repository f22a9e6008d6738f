/**
 * simple: LDD3's raw physical mapping demo (simple/simple.c, chapter 15):
 * two devices on one dynamic major, /dev/simpler (minor 0) mapping the
 * whole VMA at once with remap_pfn_range, and /dev/simplen (minor 1)
 * mapping page by page from a fault handler. Both treat vm_pgoff as the
 * first physical page frame. Their vm_ops open/close only log ("Simple VMA
 * open, virt %lx, phys %lx"), and mmap calls open itself.
 *
 * The book's driver lets anyone in the node's group map any physical
 * address; the built-in is hardened as SECURITY.md S-A1/S-J6 requires of a
 * /dev/mem clone: open needs CAP_SYS_RAWIO (EPERM), the nodes are 0600, and
 * every page goes through /dev/mem's policy (devmem_is_allowed): a refused
 * page makes simpler's mmap EPERM and simplen's fault SIGBUS, as does a
 * frame with no struct page (pfn_valid false) or one nobody holds a
 * reference on (a free page must not become a user's).
 */
import { EAGAIN, EPERM } from '../include/errno.js'
import { CAP_SYS_RAWIO } from '../include/cred.js'
import type { Module } from '../include/module.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { MAJOR, MKDEV, S_IFCHR, type FileOperations } from '../fs/fs.js'
import type { Cdev } from '../fs/char_dev.js'
import { type DriverKernel, type VmArea, type VmOperations, VM_FAULT_SIGBUS } from './driver_api.js'
import type { DeviceNode, KernelModule, ModuleParamValue } from './module.js'

export function simple_module(): KernelModule {
  let major = 0
  const cdevs: Cdev[] = []
  const m = {
    name: 'simple',
    params: { simple_major: 'int' } as const,
    /** Kernel: simple_init(). */
    init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number {
      major = typeof params.simple_major === 'number' ? params.simple_major : 0
      let result: number
      if (major) {
        result = k.register_chrdev_region(MKDEV(major, 0), 2, 'simple')
      } else {
        const dev = { value: 0 }
        result = k.alloc_chrdev_region(dev, 0, 2, 'simple')
        major = MAJOR(dev.value)
      }
      if (result < 0) {
        k.pr_warn(`simple: unable to get major ${major}`)
        return result
      }
      k.declare_raw_physical()
      const log = (what: string) => (vma: VmArea): void =>
        k.pr_notice(`Simple VMA ${what}, virt ${vma.vm_start.toString(16)}, phys ${(vma.vm_pgoff * PAGE_SIZE).toString(16)}`)
      const remap_vm_ops: VmOperations = { open: log('open'), close: log('close') }
      const nopage_vm_ops: VmOperations = {
        open: log('open'),
        close: log('close'),
        /** Kernel: simple_vma_nopage()/fault: the frame at the faulting physical address, referenced. */
        fault(vmf) {
          const pfn = vmf.pgoff
          if (!k.pfn_valid(pfn) || k.devmem_is_allowed(pfn) !== 1 || k.page_count(pfn) === 0) return VM_FAULT_SIGBUS
          k.get_page(pfn)
          vmf.page = pfn
          return 0
        },
      }
      // a /dev/mem clone inherits /dev/mem's gates (SECURITY.md S-J6): CAP_SYS_RAWIO, then lockdown
      const open = (): number => (k.capable(CAP_SYS_RAWIO) ? k.security_locked_down_dev_mem() : -EPERM)
      const remap_fops: FileOperations = {
        owner: THIS_MODULE,
        open,
        /** Kernel: simple_remap_mmap(). */
        mmap(_filp, vma) {
          const pages = (vma.vm_end - vma.vm_start) / PAGE_SIZE
          if (!k.range_is_allowed(vma.vm_pgoff, pages)) return -EPERM
          if (k.remap_pfn_range(vma, vma.vm_start, vma.vm_pgoff, vma.vm_end - vma.vm_start)) return -EAGAIN
          vma.vm_ops = remap_vm_ops
          remap_vm_ops.open?.(vma)
          return 0
        },
      }
      const nopage_fops: FileOperations = {
        owner: THIS_MODULE,
        open,
        /** Kernel: simple_nopage_mmap(). */
        mmap(_filp, vma) {
          vma.vm_ops = nopage_vm_ops
          nopage_vm_ops.open?.(vma)
          return 0
        },
      }
      for (const [minor, fops] of [[0, remap_fops], [1, nopage_fops]] as const) {
        const cdev = k.cdev_init(fops)
        const err = k.cdev_add(cdev, MKDEV(major, minor), 1)
        if (err) {
          k.pr_notice(`Error ${err} adding simple${minor}`)
          return err
        }
        cdevs.push(cdev)
      }
      return 0
    },
    /** Kernel: simple_cleanup(). */
    exit(k: DriverKernel): void {
      for (const c of cdevs) k.cdev_del(c)
      cdevs.length = 0
      k.unregister_chrdev_region(MKDEV(major, 0), 2)
    },
    /** simple_load: simpler and simplen, root only here (S-B5). */
    nodes(): DeviceNode[] {
      return [
        { name: 'simpler', dev: MKDEV(major, 0), mode: S_IFCHR | 0o600 },
        { name: 'simplen', dev: MKDEV(major, 1), mode: S_IFCHR | 0o600 },
      ]
    },
  }
  return m
}
