/**
 * faulty, fixed: SECURITY.md rule V5. The mapping cannot grow
 * (VM_DONTEXPAND: mremap growth is EFAULT) and the fault handler bounds
 * the offset with `>=` against the data pages, so the private page is out
 * of reach whatever the VMA becomes.
 */
import { EINVAL, ENOMEM, GFP_KERNEL, MAJOR, MKDEV, S_IFCHR, VM_DONTEXPAND, VM_FAULT_SIGBUS, type Cdev, type DriverKernel, type KernelModule, type Module } from '../../src/index.js'

export const FAULTY_DATA_PAGES = 3

export function faulty_fixed_module(): KernelModule & { pages: number[] } {
  let major = 0
  let cdev: Cdev | null = null
  const m = {
    name: 'faulty_fixed',
    pages: [] as number[],
    init(k: DriverKernel, _params: unknown, THIS_MODULE: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'faulty_fixed')
      if (err) return err
      major = MAJOR(dev.value)
      for (let i = 0; i <= FAULTY_DATA_PAGES; i++) {
        const pfn = k.alloc_pages(GFP_KERNEL, 0)
        if (pfn < 0) return -ENOMEM
        k.memset0(k.page_address(pfn), 4096)
        m.pages.push(pfn)
      }
      k.kernel_write(k.page_address(m.pages[0]), new TextEncoder().encode('faulty data page 0'))
      k.kernel_write(k.page_address(m.pages[FAULTY_DATA_PAGES]), new TextEncoder().encode('secret: driver private state'))
      cdev = k.cdev_init({
        owner: THIS_MODULE,
        open: () => 0,
        mmap: (_filp, vma) => {
          const pages = (vma.vm_end - vma.vm_start) / 4096
          if (vma.vm_pgoff >= FAULTY_DATA_PAGES || pages > FAULTY_DATA_PAGES - vma.vm_pgoff) return -EINVAL
          k.vm_flags_set(vma, VM_DONTEXPAND)
          vma.vm_ops = {
            fault: (vmf) => {
              if (vmf.pgoff >= FAULTY_DATA_PAGES) return VM_FAULT_SIGBUS
              const pfn = m.pages[vmf.pgoff]
              k.get_page(pfn)
              vmf.page = pfn
              return 0
            },
          }
          return 0
        },
      })
      return k.cdev_add(cdev, dev.value, 1)
    },
    exit(k: DriverKernel): void {
      if (cdev) k.cdev_del(cdev)
      for (const pfn of m.pages) k.__free_pages(pfn, 0)
      k.unregister_chrdev_region(MKDEV(major, 0), 1)
    },
    nodes: () => [{ name: 'faulty_fixed', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
  return m
}
