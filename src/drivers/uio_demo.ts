/**
 * uio_demo: a simulated card driven from user space through UIO, the way
 * uio_pdrv_genirq and uio_pci_generic drivers are (the driver only
 * describes the card; a program maps it and waits for its interrupts).
 *
 * The card has three regions:
 *  - map0 "registers", UIO_MEM_PHYS: one page of MMIO at physical 0xd0000
 *    (the ISA hole, not RAM), claimed with request_mem_region. Register 0
 *    is the ID "UIOD", register 1 (offset 4) counts the interrupts the
 *    handler acknowledged, register 2 (offset 8) is 1 while the interrupt
 *    is enabled;
 *  - map1 "buffer", UIO_MEM_LOGICAL: two zeroed pages from
 *    __get_free_pages, starting with the text "uio_demo buffer";
 *  - map2 "ring", UIO_MEM_VIRTUAL: three pages from vmalloc_user.
 * Its interrupt is line `irq` (module parameter, default 11), raised with
 * Machine.raise_irq; writing 0/1 to /dev/uioN masks/unmasks it
 * (irqcontrol -> disable_irq/enable_irq).
 */
import { EBUSY, EINVAL, ENOMEM } from '../include/errno.js'
import type { Module } from '../include/module.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { type DriverKernel, type IoMem, GFP_KERNEL } from './driver_api.js'
import { IRQ_HANDLED } from './irq.js'
import type { KernelModule, ModuleParamValue } from './module.js'
import { UIO_MEM_LOGICAL, UIO_MEM_PHYS, UIO_MEM_VIRTUAL, type UioInfo } from './uio_driver.js'

/** Where the card's registers sit in the physical address space. */
export const UIO_DEMO_REGS = 0xd0000

export function uio_demo_module(): KernelModule {
  let info: UioInfo | null = null
  let regs: IoMem | null = null
  let buffer = 0
  let ring = 0
  let irq_count = 0
  let enabled = true
  const reg32 = (k: DriverKernel, off: number, v: number): void => {
    const b = new Uint8Array(4)
    new DataView(b.buffer).setUint32(0, v >>> 0, true)
    if (regs) k.memcpy_toio(regs, off, b)
  }
  const cleanup = (k: DriverKernel): void => {
    // split at allocation: each page is freed on its own
    if (buffer) for (let i = 0; i < 2; i++) k.free_pages(buffer + i * PAGE_SIZE, 0)
    if (ring) k.vfree(ring)
    if (regs) k.release_mem_region(UIO_DEMO_REGS, PAGE_SIZE)
    buffer = ring = 0
    regs = null
  }
  return {
    name: 'uio_demo',
    params: { irq: 'int' },
    requires: ['uio'],
    init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, _THIS_MODULE: Module): number {
      const irq = typeof params.irq === 'number' ? params.irq : 11
      if (k.request_mem_region(UIO_DEMO_REGS, PAGE_SIZE)) return -EBUSY
      regs = k.ioremap(UIO_DEMO_REGS, PAGE_SIZE)
      buffer = k.__get_free_pages(GFP_KERNEL, 1)
      // uio_vma_fault() takes a reference on each page it maps: a non-compound block's second page has
      // none of its own until split_page() gives it one (SECURITY.md S-I2).
      if (buffer) k.split_page(k.virt_to_pfn(buffer), 1)
      ring = k.vmalloc_user(3 * PAGE_SIZE)
      if (!regs || !buffer || !ring) {
        cleanup(k)
        return -ENOMEM
      }
      k.memset0(buffer, 2 * PAGE_SIZE)
      k.kernel_write(buffer, new TextEncoder().encode('uio_demo buffer'))
      k.memcpy_toio(regs, 0, new TextEncoder().encode('UIOD'))
      irq_count = 0
      enabled = true
      reg32(k, 4, 0)
      reg32(k, 8, 1)
      info = {
        name: 'uio_demo',
        version: '0.1',
        irq,
        mem: [
          { name: 'registers', addr: UIO_DEMO_REGS, size: PAGE_SIZE, memtype: UIO_MEM_PHYS },
          { name: 'buffer', addr: buffer, size: 2 * PAGE_SIZE, memtype: UIO_MEM_LOGICAL },
          { name: 'ring', addr: ring, size: 3 * PAGE_SIZE, memtype: UIO_MEM_VIRTUAL },
        ],
        /** The card raised its line: acknowledge it and count it in register 1. */
        handler: () => {
          reg32(k, 4, ++irq_count)
          return IRQ_HANDLED
        },
        irqcontrol: (i, on) => {
          if (on !== 0 && on !== 1) return -EINVAL
          if (on === 1 && !enabled) k.enable_irq(i.irq)
          if (on === 0 && enabled) k.disable_irq(i.irq)
          enabled = on === 1
          reg32(k, 8, on)
          return 0
        },
      }
      const ret = k.uio_register_device(info)
      if (ret) {
        cleanup(k)
        info = null
      }
      return ret
    },
    exit(k: DriverKernel): void {
      if (info) {
        if (!enabled) k.enable_irq(info.irq)
        k.uio_unregister_device(info)
      }
      info = null
      cleanup(k)
    },
  }
}
