/**
 * badmap: a deliberately buggy driver (SECURITY.md S-A1/S-A2, the pattern
 * of the F-Secure "Kernel Driver mmap Handler Exploitation" paper). It owns
 * one page of kernel memory and maps it with remap_pfn_range, but trusts
 * the caller's length and offset: a mapping longer than one page, or at an
 * offset, hands user space the physical frames next to its buffer,
 * whatever they hold. mmsim's driver checker reports each such mapping in
 * the kernel log and in m.driver_check.findings. badmap_fixed.ts is the
 * corrected driver.
 *
 *   m.insmod(badmap_module())
 *   const fd = p.open('/dev/badmap', O_RDWR)
 *   p.mmap(0, 16 * 4096, PROT_READ, MAP_SHARED, fd, 0)
 *   m.dmesg()  // "mmsim driver check: badmap: remap_pfn_range maps pfn 0x... past the end of its own allocation ... [S-A2]"
 */
import { EAGAIN, ENOMEM, GFP_KERNEL, MAJOR, MKDEV, S_IFCHR, type Cdev, type DriverKernel, type KernelModule, type Module } from '../../src/index.js'

export function badmap_module(): KernelModule & { buffer: number } {
  let major = 0
  let cdev: Cdev | null = null
  const m = {
    name: 'badmap',
    buffer: 0,
    init(k: DriverKernel, _params: unknown, THIS_MODULE: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'badmap')
      if (err) return err
      major = MAJOR(dev.value)
      m.buffer = k.__get_free_pages(GFP_KERNEL, 0)
      if (!m.buffer) return -ENOMEM
      k.kernel_write(m.buffer, new TextEncoder().encode('badmap buffer'))
      cdev = k.cdev_init({
        owner: THIS_MODULE,
        open: () => 0,
        mmap: (_filp, vma) => {
          // BUG: neither vm_pgoff nor the VMA's length is checked against the one-page buffer
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
    nodes: () => [{ name: 'badmap', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
  return m
}
