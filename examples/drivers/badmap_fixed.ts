/**
 * badmap, fixed: the checks SECURITY.md's rule V1 asks for, in pages and
 * in the subtraction form that cannot overflow: the offset must fall inside
 * the buffer and the VMA must fit in what is left of it. Anything else is
 * EINVAL before a PTE is written. remap_pfn_range marks the VMA
 * VM_DONTEXPAND, so mremap cannot grow it later.
 */
import { EAGAIN, EINVAL, ENOMEM, GFP_KERNEL, MAJOR, MKDEV, S_IFCHR, type Cdev, type DriverKernel, type KernelModule, type Module } from '../../src/index.js'

const BUF_PAGES = 1

export function badmap_fixed_module(): KernelModule & { buffer: number } {
  let major = 0
  let cdev: Cdev | null = null
  const m = {
    name: 'badmap_fixed',
    buffer: 0,
    init(k: DriverKernel, _params: unknown, THIS_MODULE: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'badmap_fixed')
      if (err) return err
      major = MAJOR(dev.value)
      m.buffer = k.__get_free_pages(GFP_KERNEL, 0)
      if (!m.buffer) return -ENOMEM
      k.kernel_write(m.buffer, new TextEncoder().encode('badmap buffer'))
      cdev = k.cdev_init({
        owner: THIS_MODULE,
        open: () => 0,
        mmap: (_filp, vma) => {
          const pages = (vma.vm_end - vma.vm_start) / 4096
          if (vma.vm_pgoff >= BUF_PAGES || pages > BUF_PAGES - vma.vm_pgoff) return -EINVAL
          const pfn = k.virt_to_pfn(m.buffer) + vma.vm_pgoff
          if (k.remap_pfn_range(vma, vma.vm_start, pfn, vma.vm_end - vma.vm_start)) return -EAGAIN
          return 0
        },
      })
      return k.cdev_add(cdev, dev.value, 1)
    },
    exit(k: DriverKernel): void {
      if (cdev) k.cdev_del(cdev)
      k.free_pages(m.buffer, 0)
      k.unregister_chrdev_region(MKDEV(major, 0), 1)
    },
    nodes: () => [{ name: 'badmap_fixed', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
  return m
}
