/**
 * The DMA API for a device without an IOMMU (Kernel: kernel/dma/direct.c
 * dma_direct_alloc(), dma_direct_free(), dma_direct_mmap();
 * kernel/dma/mapping.c dma_set_mask(); include/linux/dma-mapping.h).
 *
 * A coherent buffer is a block of 2^get_order(size) pages from the buddy
 * allocator, taken from the zone the device can address: its coherent
 * mask at or below 16 MiB (DMA_BIT_MASK(24), x86's zone_dma_limit) means
 * ZONE_DMA, at or below 4 GiB ZONE_DMA32 (ZONE_NORMAL's pages may lie
 * above what a 32-bit device can reach), wider means any zone. A block
 * that still ends above the limit is given back and the next narrower
 * zone tried, as __dma_direct_alloc_pages() does. The buffer is zeroed;
 * the bus (DMA) address is the physical address (no offset, no IOMMU);
 * the CPU address is its direct-map address.
 *
 * dma_direct_mmap() maps the buffer into a user VMA with remap_pfn_range
 * after the overflow-safe bound check (vm_pgoff < pages and the VMA's
 * pages <= pages - vm_pgoff, else ENXIO: SECURITY.md V1).
 */
import { EIO, ENXIO } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_ZERO, type gfp_t } from './gfp.js'
import type { PageAllocator } from './page_alloc.js'
import type { VmArea } from './mm_types.js'
import { remap_pfn_range } from './remap.js'
import { vm_page_prot } from './memory.js'

/** Kernel: DMA_BIT_MASK(n), exact for n <= 64 (as a number: masks above 2^53 are "all of memory" here). */
export function DMA_BIT_MASK(n: number): number {
  return n >= 64 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1
}
/** x86's zone_dma_limit: ZONE_DMA is the first 16 MiB. */
const ZONE_DMA_LIMIT = DMA_BIT_MASK(24)

/** struct device as the DMA API reads it. */
export interface DmaDevice {
  readonly name: string
  /** dev->dma_mask / coherent_dma_mask: the highest bus address the device can reach. */
  dma_mask: number
  coherent_dma_mask: number
}

/** Kernel: get_order(). */
export function get_order(size: number): number {
  let order = 0
  while (PAGE_SIZE * 2 ** order < size) order++
  return order
}

/** Kernel: dma_direct_optimal_gfp_mask(): the zone modifier for the device's limit. */
function optimal_gfp(limit: number): gfp_t {
  if (limit <= ZONE_DMA_LIMIT) return __GFP_DMA
  if (limit <= DMA_BIT_MASK(32)) return __GFP_DMA32
  return 0
}

/**
 * Kernel: dma_set_mask_and_coherent(): 0, or -EIO when the device cannot
 * reach even ZONE_DMA (dma_direct_supported()).
 */
export function dma_set_mask_and_coherent(dev: DmaDevice, mask: number): number {
  if (!(mask >= ZONE_DMA_LIMIT)) return -EIO
  dev.dma_mask = mask
  dev.coherent_dma_mask = mask
  return 0
}

/** A coherent buffer: its CPU (direct-map) address, bus address and first pfn. */
export interface DmaCoherent {
  readonly cpu_addr: number
  readonly dma_handle: number
  readonly pfn: number
  readonly order: number
}

/** Kernel: dma_direct_alloc(): a zeroed buffer the device can reach, or null. */
export function dma_direct_alloc(pa: PageAllocator, dev: DmaDevice, size: number, gfp: gfp_t): DmaCoherent | null {
  if (!(size > 0)) return null
  const order = get_order(size)
  // The caller's zone modifiers are ignored (dma_alloc_attrs() strips them).
  const base = (gfp & ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM)) | __GFP_ZERO
  let zone = optimal_gfp(dev.coherent_dma_mask)
  for (;;) {
    const pfn = pa.alloc_pages(base | zone, order)
    if (pfn < 0) return null
    const end = (pfn + 2 ** order) * PAGE_SIZE - 1
    if (end <= dev.coherent_dma_mask) {
      return { cpu_addr: pa.page_address(pfn), dma_handle: pfn * PAGE_SIZE, pfn, order }
    }
    // dma_coherent_ok() failed: retry lower (DMA32 first, then DMA), as __dma_direct_alloc_pages does.
    pa.__free_pages(pfn, order)
    if (zone === __GFP_DMA) return null
    zone = zone === __GFP_DMA32 || dev.coherent_dma_mask < DMA_BIT_MASK(32) ? __GFP_DMA : __GFP_DMA32
  }
}

/** Kernel: dma_direct_free(). */
export function dma_direct_free(pa: PageAllocator, buf: DmaCoherent): void {
  pa.__free_pages(buf.pfn, buf.order)
}

/**
 * Kernel: dma_direct_mmap(): map `size` bytes of the buffer at bus address
 * dma_addr into the VMA from page vm_pgoff; 0, -ENXIO past the buffer, or
 * remap_pfn_range's error.
 */
export function dma_direct_mmap(vma: VmArea, dma_addr: number, size: number): number {
  const user_count = (vma.vm_end - vma.vm_start) / PAGE_SIZE
  const count = Math.ceil(size / PAGE_SIZE)
  const pfn = Math.floor(dma_addr / PAGE_SIZE)
  if (vma.vm_pgoff >= count || user_count > count - vma.vm_pgoff) return -ENXIO
  return remap_pfn_range(vma, vma.vm_start, pfn + vma.vm_pgoff, user_count * PAGE_SIZE, vm_page_prot(vma))
}
