/**
 * Swap I/O (Kernel: mm/page_io.c swap_writepage, __swap_writepage,
 * swap_read_folio, count_swpout_vm_event).
 *
 * A page goes to its slot's block on the area's device and comes back
 * from it. Both directions go through submit_bio in Linux, zram included,
 * so each page counts 8 sectors in pgpgout/pgpgin (shown in kB) besides
 * pswpout/pswpin. A synchronous device (zram) has finished when the call
 * returns; a disk's write is modelled as done at once too, but reclaim
 * treats the folio as still under writeback (vmscan.ts keeps it cached).
 * Each page is one request on the device's queue (its /proc/diskstats).
 */
import { KernelBug } from '../include/bug.js'
import type { MmEnv } from './mm_types.js'
import { PG_dirty, PG_uptodate } from './page.js'
import { swp_offset } from './swap_h.js'
import { PGPGIN, PGPGOUT, PSWPIN, PSWPOUT } from './vm_event_item.js'

/** Sectors of one page (PAGE_SIZE >> 9): what submit_bio adds to pgpgin/pgpgout. */
const PAGE_SECTORS = 8

/**
 * Kernel: swap_writepage() -> __swap_writepage(): write a swap-cache
 * folio's bytes to its slot; the folio is clean afterwards.
 */
export function swap_writepage(env: MmEnv, pfn: number): void {
  const entry = env.pages.private[pfn]
  const si = env.swap.si_of(entry)
  if (!si || !si.bdev) throw new KernelBug(`swap_writepage: pfn ${pfn} has no swap slot`)
  env.pages.clear(pfn, PG_dirty)
  si.bdev.write_page(swp_offset(entry), env.physmem.peek(pfn), env.clock.now())
  env.vmstat.count_vm_events(PGPGOUT, PAGE_SECTORS)
  env.vmstat.count_vm_event(PSWPOUT)
}

/** Kernel: swap_read_folio(): fill pfn from entry's slot (the folio is uptodate after). */
export function swap_read_folio(env: MmEnv, pfn: number, entry: number): void {
  const si = env.swap.si_of(entry)
  if (!si || !si.bdev) throw new KernelBug(`swap_read_folio: entry 0x${entry.toString(16)} has no area`)
  si.bdev.read_page(swp_offset(entry), env.physmem.frame(pfn), env.clock.now())
  env.pages.set(pfn, PG_uptodate)
  env.vmstat.count_vm_events(PGPGIN, PAGE_SECTORS)
  env.vmstat.count_vm_event(PSWPIN)
}
