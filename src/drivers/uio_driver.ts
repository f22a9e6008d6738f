/**
 * What a UIO driver gives the UIO core (Kernel: include/linux/uio_driver.h):
 * struct uio_info with up to MAX_UIO_MAPS memory regions, the memtypes,
 * and the interrupt fields. The core itself is uio.ts; this header has no
 * state so that driver_api.ts can name it.
 */
import type { Module } from '../include/module.js'
import type { VmArea } from '../mm/mm_types.js'
import type { Inode } from '../fs/fs.js'

export const MAX_UIO_MAPS = 5
export const UIO_MEM_NONE = 0
/** A physical address range (device registers): remap_pfn_range at mmap. */
export const UIO_MEM_PHYS = 1
/** Kernel memory of the linear map (kmalloc/__get_free_pages): mapped page by page from a fault handler. */
export const UIO_MEM_LOGICAL = 2
/** vmalloc memory: the fault handler finds each page with vmalloc_to_page. */
export const UIO_MEM_VIRTUAL = 3
/** Like PHYS, for an IOMMU's IO virtual address (mapped the same way). */
export const UIO_MEM_IOVA = 4
/** A dma_alloc_coherent buffer (dma_mmap_coherent; "highly discouraged"). */
export const UIO_MEM_DMA_COHERENT = 5

/** info->irq: no interrupt (read/write are EIO). */
export const UIO_IRQ_NONE = 0
/** info->irq: the driver raises events itself (uio_event_notify) without a line the core requests. */
export const UIO_IRQ_CUSTOM = -1

/** struct uio_mem. */
export interface UioMem {
  /** Shown in maps/mapN/name. */
  name?: string
  /** Physical address (PHYS, IOVA), kernel linear-map address (LOGICAL) or vmalloc address (VIRTUAL). */
  addr: number
  /** Offset of the device's data in the first page (maps/mapN/offset). */
  offs?: number
  /** Size in bytes; 0 ends the list of regions. */
  size: number
  memtype: number
  /** DMA_COHERENT: the bus address and the device that allocated the buffer. */
  dma_addr?: number
  dma_device?: unknown
}

/** struct uio_info. */
export interface UioInfo {
  name: string
  version: string
  /** At most MAX_UIO_MAPS regions (a missing one is size 0). */
  mem: UioMem[]
  /** The interrupt line, UIO_IRQ_NONE or UIO_IRQ_CUSTOM. */
  irq: number
  irq_flags?: number
  /** Kernel: handler(): IRQ_HANDLED (an event is counted) or IRQ_NONE. */
  handler?(irq: number, info: UioInfo): number
  /** Kernel: irqcontrol(): a write() of 0 or 1 (disable/enable); 0 or -errno. */
  irqcontrol?(info: UioInfo, irq_on: number): number
  open?(info: UioInfo, inode: Inode): number
  release?(info: UioInfo, inode: Inode): number
  /** A driver's own mmap (replaces the core's memtype switch). */
  mmap?(info: UioInfo, vma: VmArea): number
  /** Set by uio_register_device (the core's device), null after unregister. */
  uio_dev?: unknown
}

/** The UIO core's exported functions (uio.ts implements them per machine). */
export interface UioCoreApi {
  /** Kernel: __uio_register_device(): 0 or -errno. */
  uio_register_device(owner: Module | null, info: UioInfo): number
  /** Kernel: uio_unregister_device(). */
  uio_unregister_device(info: UioInfo): void
  /** Kernel: uio_event_notify(): count an event and wake readers. */
  uio_event_notify(info: UioInfo): void
}
