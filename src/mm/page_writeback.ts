/**
 * Dirty pages and their writeback (Kernel: mm/page-writeback.c, 6.18):
 * the global dirty limits (global_dirtyable_memory(), domain_dirty_limits()),
 * which /proc/vmstat prints as nr_dirty_threshold and
 * nr_dirty_background_threshold; the accounting of a page becoming dirty,
 * going under writeback and coming back clean (folio_account_dirtied(),
 * folio_clear_dirty_for_io(), folio_start_writeback(), folio_end_writeback():
 * NR_FILE_DIRTY, NR_WRITEBACK, NR_DIRTIED, NR_WRITTEN, NR_ZONE_WRITE_PENDING
 * and the memcg's dirty/writeback); the inode side of dirtying
 * (__mark_inode_dirty() of fs/fs-writeback.c: dirtied_when, b_dirty, the
 * flusher's delayed wakeup); write requests on the disk and their
 * completion (a clock timer at the request's end); and the throttling of
 * dirtying tasks (page_writeback_throttle.ts).
 *
 * A shmem page's dirty bit is PG_dirty only (noop_dirty_folio): tmpfs pages
 * never count in Dirty and have no writeback here (they go to swap).
 *
 * The sysctls are the machine's (env.sysctl): vm.dirty_ratio,
 * dirty_background_ratio, dirty_bytes, dirty_background_bytes,
 * dirty_expire_centisecs, dirty_writeback_centisecs; vm.highmem_is_dirtyable
 * stays 0, and no task is RT (whose limits would be a quarter higher).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { PAGE_SECTORS, STAT_WRITE } from '../hw/blkdev.js'
import { type BdiWriteback, type WritebackBio, inode_to_bdi } from './backing_dev.js'
import { MEMCG_DIRTY, MEMCG_WRITEBACK } from './memcontrol.js'
import type { AddressSpace, MmEnv, MmSysctl } from './mm_types.js'
import { NR_FREE_PAGES, NR_ZONE_ACTIVE_FILE, NR_ZONE_INACTIVE_FILE, NR_ZONE_WRITE_PENDING, type Zone } from './mmzone.js'
import { PG_dirty, PG_reclaim, PG_swapbacked, PG_writeback } from './page.js'
import { folio_rotate_reclaimable } from './swap.js'
import { acct_reclaim_writeback } from './vmscan_throttle.js'
import { NODE_STAT, type VmStat } from './vmstat.js'
import { PGPGOUT } from './vm_event_item.js'
import { NS_PER_JIFFY } from '../include/jiffies.js'

/** UINT_MAX: the limits in pages fit 32 bits. */
const UINT_MAX = 2 ** 32 - 1

/** jiffies now. */
export function jiffies(env: MmEnv): number {
  return Math.floor(env.clock.now() / NS_PER_JIFFY)
}

/** Kernel: calculate_totalreserve_pages(): high watermark plus the largest lowmem reserve, per zone. */
export function calculate_totalreserve_pages(zones: readonly Zone[]): number {
  let total = 0
  for (const z of zones) {
    let max = 0
    for (let j = z.idx; j < z.lowmem_reserve.length; j++) max = Math.max(max, z.lowmem_reserve[j])
    max += z.high_wmark_pages()
    total += Math.min(max, z.managed_pages)
  }
  return total
}

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

/** The dirty sysctls domain_dirty_limits() reads. */
export type DirtySysctl = Pick<MmSysctl, 'dirty_ratio' | 'dirty_bytes' | 'dirty_background_ratio' | 'dirty_background_bytes'>

/**
 * Kernel: domain_dirty_limits() of the global domain: the background and
 * dirty thresholds in pages for `available` dirtyable pages. A _bytes
 * setting wins over its ratio (the other is 0); ratios are scaled to
 * per-PAGE_SIZE units first, with the kernel's integer truncations (so 20 %
 * is 819/4096).
 */
export function global_dirty_limits(available: number, s: DirtySysctl): { bg_thresh: number; thresh: number } {
  const ratio = Math.floor((s.dirty_ratio * PAGE_SIZE) / 100)
  const bg_ratio = Math.floor((s.dirty_background_ratio * PAGE_SIZE) / 100)
  let thresh = s.dirty_bytes ? Math.ceil(s.dirty_bytes / PAGE_SIZE) : Math.floor((ratio * available) / PAGE_SIZE)
  let bg_thresh = s.dirty_background_bytes ? Math.ceil(s.dirty_background_bytes / PAGE_SIZE) : Math.floor((bg_ratio * available) / PAGE_SIZE)
  if (thresh > UINT_MAX) thresh = UINT_MAX
  if (bg_thresh >= thresh) bg_thresh = Math.floor(thresh / 2)
  return { bg_thresh, thresh }
}

/** The machine's global limits now. */
export function env_dirty_limits(env: MmEnv): { bg_thresh: number; thresh: number } {
  return global_dirty_limits(env.global_dirtyable_memory(), env.sysctl)
}

/** Kernel: mapping_can_writeback(): a disk file's mapping with a writeback-capable device. */
export function mapping_wb(mapping: AddressSpace): BdiWriteback | null {
  return mapping.backing === 'disk' ? inode_to_bdi(mapping).wb : null
}

/** NR_FILE_DIRTY / NR_WRITEBACK with their zone (NR_ZONE_WRITE_PENDING) and memcg halves. */
function mod_file_stat(env: MmEnv, pfn: number, item: number, memcg_item: number, delta: number): void {
  env.vmstat.mod_node_page_state(item, delta)
  env.vmstat.page_zone_stat(pfn)[NR_ZONE_WRITE_PENDING] += delta
  env.memcg.mod_memcg_page_state(pfn, memcg_item, delta)
}

/** The wb a page-cache page's dirtiness is accounted to: its disk file's (mapping_can_writeback()), else null. */
function page_wb(env: MmEnv, pfn: number): { mapping: AddressSpace; wb: BdiWriteback } | null {
  const pages = env.pages
  if (pages.test(pfn, PG_swapbacked)) return null
  const mapping = env.mappings.get(pages.mapping[pfn])
  const wb = mapping ? mapping_wb(mapping) : null
  return mapping && wb ? { mapping, wb } : null
}

/**
 * Kernel: folio_mark_dirty() -> a_ops->dirty_folio: filemap_dirty_folio()
 * for a disk file (folio_account_dirtied(): NR_FILE_DIRTY, NR_DIRTIED and
 * the wb's counts, then __mark_inode_dirty()); noop_dirty_folio() for
 * shmem, and a bare PG_dirty for a page of no writeback-capable mapping (a
 * driver's page). True when the page was clean before.
 */
export function set_page_dirty(env: MmEnv, pfn: number): boolean {
  const pages = env.pages
  if (pages.test(pfn, PG_dirty)) return false
  pages.set(pfn, PG_dirty)
  const w = page_wb(env, pfn)
  if (w) {
    const { mapping, wb } = w
    mod_file_stat(env, pfn, NODE_STAT.nr_dirty, MEMCG_DIRTY, 1)
    env.vmstat.mod_node_page_state(NODE_STAT.nr_dirtied, 1)
    mapping.dirty_tag.add(pages.index[pfn])
    wb.reclaimable++
    wb.dirtied++
    // file_update_time() with the write: the inode's times change too.
    mark_inode_dirty(mapping, I_DIRTY_SYNC)
    __mark_inode_dirty(env, mapping, wb)
  }
  return true
}

/**
 * The page is clean again without I/O: folio_cancel_dirty() /
 * folio_account_cleaned() when it leaves the cache dirty (truncate,
 * invalidate), or folio_clear_dirty_for_io() just before its write.
 */
export function clear_page_dirty(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (!pages.test(pfn, PG_dirty)) return
  pages.clear(pfn, PG_dirty)
  const w = page_wb(env, pfn)
  if (!w) return
  mod_file_stat(env, pfn, NODE_STAT.nr_dirty, MEMCG_DIRTY, -1)
  w.mapping.dirty_tag.delete(pages.index[pfn])
  w.wb.reclaimable--
}

/** inode->i_state bits (include/linux/fs.h): the inode changed; a change fdatasync must write (size, blocks). */
export const I_DIRTY_SYNC = 1 << 0
export const I_DIRTY_DATASYNC = 1 << 1

/**
 * Kernel: mark_inode_dirty() / mark_inode_dirty_sync() of a disk file's
 * inode: i_state gets `flags`, and ext4's dirty_inode (ext4_dirty_inode() ->
 * ext4_mark_inode_dirty(); without a journal ext4_do_update_inode() copies
 * the inode into its inode-table buffer) dirties that block. Times only:
 * I_DIRTY_SYNC (generic_update_time()); a new size: I_DIRTY_DATASYNC too.
 * Nothing for shmem, whose inodes have no block.
 */
export function mark_inode_dirty(mapping: AddressSpace, flags: number): void {
  if (mapping.backing !== 'disk') return
  mapping.i_state |= flags
  mapping.itable_dirty = true
}

/** Kernel: i_size_write() + mark_inode_dirty() of a write or fallocate past EOF (ext4_da_do_write_end()). */
export function i_size_grow(mapping: AddressSpace, size: number): void {
  mapping.i_size = size
  mark_inode_dirty(mapping, I_DIRTY_SYNC | I_DIRTY_DATASYNC)
}

/**
 * Kernel: __mark_inode_dirty(I_DIRTY_PAGES): an inode getting its first
 * dirty page is stamped dirtied_when and queued at the tail of b_dirty; if
 * the wb had no dirty inodes the flusher is woken
 * dirty_writeback_centisecs later (wb_wakeup_delayed()).
 */
function __mark_inode_dirty(env: MmEnv, mapping: AddressSpace, wb: BdiWriteback): void {
  if (wb.b_dirty.has(mapping.id)) return
  const had_dirty_io = wb.b_dirty.size > 0
  mapping.dirtied_when = env.clock.now()
  wb.b_dirty.add(mapping.id)
  if (!had_dirty_io) wb_wakeup_delayed(env, wb)
}

/** Kernel: wb_wakeup_delayed(): run the flusher dirty_writeback_centisecs from now, unless it is already due (queue_delayed_work()). */
export function wb_wakeup_delayed(env: MmEnv, wb: BdiWriteback): void {
  const interval = env.sysctl.dirty_writeback_centisecs
  if (!interval || wb.dwork || !wb.workfn) return
  const fn = wb.workfn
  wb.dwork = env.clock.add_timer(env.clock.now() + interval * 10 * NS_PER_JIFFY, () => {
    wb.dwork = null
    fn()
  })
}

/** Kernel: wb_wakeup(): run the flusher now (mod_delayed_work(..., 0)): at the next safe point. */
export function wb_wakeup(env: MmEnv, wb: BdiWriteback): void {
  if (!wb.workfn) return
  if (wb.dwork) env.clock.del_timer(wb.dwork)
  const fn = wb.workfn
  wb.dwork = env.clock.add_timer(env.clock.now(), () => {
    wb.dwork = null
    fn()
  })
}

/** Kernel: wb_start_background_writeback(): wake the flusher, whose wb_check_background_flush() does the rest. */
export function wb_start_background_writeback(env: MmEnv, wb: BdiWriteback): void {
  wb_wakeup(env, wb)
}

/**
 * Kernel: folio_clear_dirty_for_io() + folio_start_writeback() of one page
 * a writepages call has picked: no longer dirty, under writeback.
 */
export function folio_start_writeback(env: MmEnv, pfn: number, wb: BdiWriteback): void {
  clear_page_dirty(env, pfn)
  env.pages.set(pfn, PG_writeback)
  mod_file_stat(env, pfn, NODE_STAT.nr_writeback, MEMCG_WRITEBACK, 1)
  wb.writeback++
}

/**
 * Kernel: folio_end_writeback() -> __folio_end_writeback(): the write of
 * the page completed: NR_WRITEBACK down, NR_WRITTEN and WB_WRITTEN up; a
 * folio reclaim marked PG_reclaim is rotated (folio_rotate_reclaimable()).
 */
function folio_end_writeback(env: MmEnv, pfn: number, wb: BdiWriteback): void {
  if (!env.pages.test(pfn, PG_writeback)) return
  env.pages.clear(pfn, PG_writeback)
  // Reclaim marked it while it was dirty or under writeback: to the inactive tail, now that it can go.
  if (env.pages.test(pfn, PG_reclaim)) {
    env.pages.clear(pfn, PG_reclaim)
    folio_rotate_reclaimable(env, pfn)
  }
  mod_file_stat(env, pfn, NODE_STAT.nr_writeback, MEMCG_WRITEBACK, -1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_written, 1)
  acct_reclaim_writeback(env, 1)
  wb.writeback--
  wb.written++
  wb.has_completions = true
}

/**
 * Kernel: submit_bio() of a write of `pfns` (pages under writeback, their
 * bytes already copied to the file's blocks): one request on the disk,
 * its sectors counted in PGPGOUT. Its
 * completion ends the pages' writeback from a clock timer at its end time
 * (the block layer's completion interrupt, taken at the next safe point).
 */
export function submit_write_bio(env: MmEnv, mapping: AddressSpace, wb: BdiWriteback, pfns: number[]): WritebackBio {
  const disk = inode_to_bdi(mapping).disk
  const now = env.clock.now()
  const done = disk ? disk.submit(STAT_WRITE, pfns.length * PAGE_SECTORS, now) : now
  env.vmstat.count_vm_events(PGPGOUT, pfns.length * PAGE_SECTORS)
  const bio: WritebackBio = { mapping_id: mapping.id, pfns, done, timer: null }
  bio.timer = env.clock.add_timer(done, () => {
    bio.timer = null
    end_bio(env, wb, bio)
  })
  wb.inflight.push(bio)
  return bio
}

/** The write of `bio` completed: every page's writeback ends. */
function end_bio(env: MmEnv, wb: BdiWriteback, bio: WritebackBio): void {
  const i = wb.inflight.indexOf(bio)
  if (i < 0) return
  wb.inflight.splice(i, 1)
  for (const pfn of bio.pfns) folio_end_writeback(env, pfn, wb)
}

/**
 * Kernel: folio_wait_writeback(): the caller sleeps until the write holding
 * `pfn` completes. The clock moves to the request's end (time the task
 * spends waiting) and the request completes now.
 */
export function folio_wait_writeback(env: MmEnv, pfn: number): void {
  if (!env.pages.test(pfn, PG_writeback)) return
  const mapping = env.mappings.get(env.pages.mapping[pfn])
  const wb = mapping ? mapping_wb(mapping) : null
  if (!wb) return
  for (const bio of [...wb.inflight]) {
    if (!bio.pfns.includes(pfn)) continue
    bio_wait(env, wb, bio)
    return
  }
}

/** Wait for `bio` (and with a FIFO device, everything before it): the clock goes to its end. */
export function bio_wait(env: MmEnv, wb: BdiWriteback, bio: WritebackBio): void {
  const now = env.clock.now()
  if (bio.done > now) env.clock.advance(bio.done - now)
  if (bio.timer) env.clock.del_timer(bio.timer)
  bio.timer = null
  end_bio(env, wb, bio)
}

/** Kernel: filemap_fdatawait_range(): wait for every write of the mapping's pages in [start, end]. */
export function filemap_fdatawait_range(env: MmEnv, mapping: AddressSpace, start: number, end: number): void {
  const wb = mapping_wb(mapping)
  if (!wb) return
  for (const bio of [...wb.inflight]) {
    if (bio.mapping_id !== mapping.id) continue
    if (bio.pfns.some((pfn) => env.pages.index[pfn] >= start && env.pages.index[pfn] <= end)) bio_wait(env, wb, bio)
  }
}
