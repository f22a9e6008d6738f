/**
 * faulty: a deliberately buggy fault-based driver (SECURITY.md S-E1/S-F2,
 * the DownUnderCTF 2024 "Faulty Kernel" shape). It keeps four pages: three
 * of device data it lets user space map, and a fourth of its own private
 * state ("secret"). Its mmap accepts at most the three data pages, but
 *
 *  - it does not set VM_DONTEXPAND, so mremap can grow the mapping, and
 *  - its fault handler bounds the page offset with `>` instead of `>=`,
 *
 * so a process that maps three pages, grows the mapping to four and
 * touches the last one reads (and may write) the driver's private page.
 * mmsim's driver checker sees the fault served past what mmap accepted and
 * reports it [S-E1]. faulty_fixed.ts is the corrected driver.
 */
import { ENOMEM, GFP_KERNEL, MAJOR, MKDEV, S_IFCHR, VM_FAULT_SIGBUS, EINVAL, type Cdev, type DriverKernel, type KernelModule, type Module } from '../../src/index.js'

export const FAULTY_DATA_PAGES = 3

export function faulty_module(): KernelModule & { pages: number[] } {
  let major = 0
  let cdev: Cdev | null = null
  const m = {
    name: 'faulty',
    /** pfns: [0, 3) device data, [3] the driver's private state. */
    pages: [] as number[],
    init(k: DriverKernel, _params: unknown, THIS_MODULE: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'faulty')
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
          if (vma.vm_pgoff !== 0 || pages > FAULTY_DATA_PAGES) return -EINVAL
          // BUG: no VM_DONTEXPAND; mremap may grow the VMA past what was checked here
          vma.vm_ops = {
            fault: (vmf) => {
              // BUG: off by one (> instead of >=)
              if (vmf.pgoff > FAULTY_DATA_PAGES) return VM_FAULT_SIGBUS
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
    nodes: () => [{ name: 'faulty', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
  return m
}
