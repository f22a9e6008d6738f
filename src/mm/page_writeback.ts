/**
 * The global dirty limits (Kernel: mm/page-writeback.c
 * global_dirtyable_memory(), highmem_dirtyable_memory(),
 * domain_dirty_limits(), global_dirty_limits()), which /proc/vmstat prints
 * as nr_dirty_threshold and nr_dirty_background_threshold. There is no
 * writeback throttling yet; the sysctls keep their defaults
 * (vm.dirty_ratio 20, vm.dirty_background_ratio 10, the _bytes forms 0,
 * vm.highmem_is_dirtyable 0) and the reader is never an RT task.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { NR_FREE_PAGES, NR_ZONE_ACTIVE_FILE, NR_ZONE_INACTIVE_FILE, type Zone } from './mmzone.js'
import { NODE_STAT, type VmStat } from './vmstat.js'

/** Kernel: vm_dirty_ratio (vm.dirty_ratio). */
export const vm_dirty_ratio = 20
/** Kernel: dirty_background_ratio (vm.dirty_background_ratio). */
export const dirty_background_ratio = 10
/**
 * Kernel: dirty_expire_interval (vm.dirty_expire_centisecs, 30 s). mmsim's
 * writeback has no age-based flusher: shown as Linux's default, read-only.
 */
export const dirty_expire_centisecs = 3000

/** Kernel: highmem_dirtyable_memory(): free (above the high watermark) and file pages of the HIGHMEM zones, at most `total`. */
function highmem_dirtyable_memory(zones: readonly Zone[], zone_highmem: number, total: number): number {
  if (zone_highmem < 0) return 0
  let x = 0
  for (const z of zones) {
    if (z.idx !== zone_highmem || !z.populated) continue
    let nr_pages = z.vm_stat[NR_FREE_PAGES]
    nr_pages -= Math.min(nr_pages, z.high_wmark_pages())
    nr_pages += z.vm_stat[NR_ZONE_INACTIVE_FILE] + z.vm_stat[NR_ZONE_ACTIVE_FILE]
    x += nr_pages
  }
  return Math.min(x, total)
}

/**
 * Kernel: global_dirtyable_memory(): free pages above the reserves plus the
 * file LRU pages, HIGHMEM left out; never 0.
 */
export function global_dirtyable_memory(zones: readonly Zone[], zone_highmem: number, vmstat: VmStat, totalreserve_pages: number): number {
  let x = 0
  for (const z of zones) x += z.vm_stat[NR_FREE_PAGES]
  x -= Math.min(x, totalreserve_pages)
  x += vmstat.node[NODE_STAT.nr_inactive_file] + vmstat.node[NODE_STAT.nr_active_file]
  x -= highmem_dirtyable_memory(zones, zone_highmem, x)
  return x + 1
}

/**
 * Kernel: global_dirty_limits() through domain_dirty_limits(): the
 * background and dirty thresholds in pages for `available` dirtyable pages.
 * The ratios are scaled to per-PAGE_SIZE units first, with the kernel's
 * integer truncations (so 20 % is 819/4096).
 */
export function global_dirty_limits(available: number): { bg_thresh: number; thresh: number } {
  const ratio = Math.floor((vm_dirty_ratio * PAGE_SIZE) / 100)
  const bg_ratio = Math.floor((dirty_background_ratio * PAGE_SIZE) / 100)
  const thresh = Math.floor((ratio * available) / PAGE_SIZE)
  let bg_thresh = Math.floor((bg_ratio * available) / PAGE_SIZE)
  if (bg_thresh >= thresh) bg_thresh = Math.floor(thresh / 2)
  return { bg_thresh, thresh }
}
