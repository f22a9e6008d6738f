/**
 * The flusher and the writing of a file's dirty pages (Kernel:
 * fs/fs-writeback.c wb_workfn(), wb_do_writeback(),
 * wb_check_old_data_flush(), wb_check_background_flush(), wb_writeback(),
 * writeback_chunk_size(), requeue_inode(); mm/page-writeback.c
 * do_writepages() / writeback_iter(); fs/ext4/page-io.c's bios;
 * mm/filemap.c file_write_and_wait_range()). It sits in mm because mmsim's
 * page cache does (shmem.ts, file_rw.ts): the VFS layer above calls in.
 *
 * The flusher of a disk is a delayed work item: a clock timer that runs
 * wb_workfn() at the next safe point. Each run first does the periodic
 * ("kupdate") pass, at most every dirty_writeback_centisecs, writing the
 * inodes dirtied more than dirty_expire_centisecs ago, then background
 * writeback while the dirty pages are above the background threshold. It
 * re-arms itself dirty_writeback_centisecs later while dirty inodes remain.
 *
 * Writing pages submits requests: each run of contiguous dirty pages of a
 * file (up to the device's max_sectors_kb) is one write request on the
 * disk; the pages are under writeback until it completes on the clock
 * (page_writeback.ts). fsync/msync (WB_SYNC_ALL) write every dirty page of
 * the range and wait for their requests: the task's clock moves to their
 * end.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type BackingDevInfo, type BdiWriteback, inode_to_bdi } from './backing_dev.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { PG_dirty, PG_mappedtodisk, PG_writeback } from './page.js'
import { I_DIRTY_DATASYNC, I_DIRTY_SYNC, env_dirty_limits, filemap_fdatawait_range, folio_start_writeback, folio_wait_writeback, jiffies, mapping_wb, submit_write_bio, wb_wakeup, wb_wakeup_delayed } from './page_writeback.js'
import { wb_bandwidth_estimate_start, wb_over_bg_thresh, wb_update_bandwidth } from './page_writeback_throttle.js'
import { ext4_zero_eof_tail } from './shmem.js'
import { ext4_mb_mark_diskspace_used } from './ext4_balloc.js'
import { folio_mkclean } from './rmap_mkclean.js'
import { NODE_STAT } from './vmstat.js'
import { PGPGOUT } from './vm_event_item.js'
import { PAGE_SECTORS, STAT_WRITE } from '../hw/blkdev.js'
import { NS_PER_JIFFY } from '../include/jiffies.js'

/** MIN_WRITEBACK_PAGES: 4 MiB; DIRTY_SCOPE: 8. */
const MIN_WRITEBACK_PAGES = 4096 >> 2
const DIRTY_SCOPE = 8

/** struct writeback_control, what mmsim's writepages reads. */
export interface WritebackControl {
  nr_to_write: number
  readonly sync_all: boolean
  readonly range_cyclic: boolean
  readonly range_start: number
  readonly range_end: number
}

/** struct wb_writeback_work of the flusher's own passes. */
interface WbWork {
  nr_pages: number
  readonly for_kupdate: boolean
  readonly for_background: boolean
}

/**
 * Kernel: bdi_register(): the device's flusher is ready. A root disk starts
 * with writeout history (`booted`: its boot wrote to it), so its share of
 * the dirty thresholds is the whole of them from the start.
 */
export function bdi_register(env: MmEnv, bdi: BackingDevInfo, booted: boolean): void {
  const wb = bdi.wb
  if (!wb) return
  wb.workfn = () => wb_workfn(env, wb)
  const now = jiffies(env)
  wb.bw_time_stamp = now
  wb.last_old_flush = now
  wb.dirty_limit_tstamp = now
  wb.has_completions = booted
  // writeback_set_ratelimit(): the domain's dirty_limit starts at the threshold.
  wb.dirty_limit = env_dirty_limits(env).thresh
}

/** Kernel: wb_workfn(): one run of the flusher. */
function wb_workfn(env: MmEnv, wb: BdiWriteback): void {
  wb.running = true
  wb_check_start_all(env, wb)
  wb_check_old_data_flush(env, wb)
  wb_check_background_flush(env, wb)
  wb.running = false
  // Dirty inodes left: come back in an interval (a writer over the threshold wakes it sooner).
  if (wb.b_dirty.size) wb_wakeup_delayed(env, wb)
}

/** Kernel: wb_check_start_all(): a requested write of everything dirty (sync, a changed flush period). */
function wb_check_start_all(env: MmEnv, wb: BdiWriteback): void {
  if (!wb.start_all) return
  wb.start_all = false
  const nr_pages = env.vmstat.node[NODE_STAT.nr_dirty] + wb.b_dirty.size
  if (nr_pages) wb_writeback(env, wb, { nr_pages, for_kupdate: false, for_background: false })
}

/** Kernel: wakeup_flusher_threads(): have the disk's flusher write back everything dirty, at the next safe point. */
export function wakeup_flusher_threads(env: MmEnv, bdi: BackingDevInfo): void {
  const wb = bdi.wb
  if (!wb) return
  wb.start_all = true
  wb_wakeup(env, wb)
}

/** Kernel: writeback_set_ratelimit() after a dirty_ratio / dirty_bytes change: the domain's dirty_limit restarts at the threshold. */
export function writeback_set_ratelimit(env: MmEnv, bdi: BackingDevInfo): void {
  if (bdi.wb) bdi.wb.dirty_limit = env_dirty_limits(env).thresh
}

/** Kernel: wb_check_old_data_flush(): the periodic pass, at most every dirty_writeback_centisecs. */
function wb_check_old_data_flush(env: MmEnv, wb: BdiWriteback): void {
  const interval = env.sysctl.dirty_writeback_centisecs
  if (!interval) return
  const now = jiffies(env)
  if (now < wb.last_old_flush + interval * 10) return
  wb.last_old_flush = now
  // get_nr_dirty_pages(): dirty pages plus dirty inodes.
  const nr_pages = env.vmstat.node[NODE_STAT.nr_dirty] + wb.b_dirty.size
  if (nr_pages) wb_writeback(env, wb, { nr_pages, for_kupdate: true, for_background: false })
}

/** Kernel: wb_check_background_flush(). */
function wb_check_background_flush(env: MmEnv, wb: BdiWriteback): void {
  if (wb_over_bg_thresh(env, wb)) wb_writeback(env, wb, { nr_pages: Infinity, for_kupdate: false, for_background: true })
}

/** Kernel: writeback_chunk_size(): pages one inode gets per turn: half a second of bandwidth, at least 4 MiB. */
function writeback_chunk_size(wb: BdiWriteback, work: WbWork): number {
  let pages = Math.min(Math.floor(wb.avg_write_bandwidth / 2), Math.floor(wb.dirty_limit / DIRTY_SCOPE))
  pages = Math.min(pages, work.nr_pages)
  return Math.floor((pages + MIN_WRITEBACK_PAGES) / MIN_WRITEBACK_PAGES) * MIN_WRITEBACK_PAGES
}

/**
 * Kernel: wb_writeback(): write inodes in dirtied_when order until the work
 * is done (background: until below the threshold; kupdate: the expired
 * inodes).
 */
function wb_writeback(env: MmEnv, wb: BdiWriteback, work: WbWork): void {
  const expire_ns = env.sysctl.dirty_expire_centisecs * 10 * NS_PER_JIFFY
  for (;;) {
    if (work.nr_pages <= 0) break
    if (work.for_background && !wb_over_bg_thresh(env, wb)) break
    // queue_io(): kupdate takes inodes dirtied before now - expire, background all of them.
    const now = env.clock.now()
    const dirtied_before = work.for_kupdate ? now - expire_ns : now
    const b_io: AddressSpace[] = []
    for (const id of wb.b_dirty) {
      const mapping = env.mappings.get(id)
      if (!mapping) {
        wb.b_dirty.delete(id)
        continue
      }
      // b_dirty is in dirtied_when order: the first one too young ends the expired ones.
      if (mapping.dirtied_when > dirtied_before) break
      b_io.push(mapping)
    }
    if (!b_io.length) break
    let progress = 0
    for (const mapping of b_io) {
      const chunk = writeback_chunk_size(wb, work)
      const wbc: WritebackControl = { nr_to_write: chunk, sync_all: false, range_cyclic: true, range_start: 0, range_end: Infinity }
      do_writepages(env, mapping, wbc)
      const wrote = chunk - wbc.nr_to_write
      work.nr_pages -= wrote
      progress += wrote
      requeue_inode(env, wb, mapping, wbc)
      if (work.nr_pages <= 0) break
      if (work.for_background && !wb_over_bg_thresh(env, wb)) break
    }
    if (!progress) break
  }
}

/**
 * Kernel: requeue_inode(): a clean inode leaves b_dirty; one that used its
 * whole chunk goes to the back keeping its age (requeue_io()); one with
 * pages it could not write now goes to the back (redirty_tail()).
 */
function requeue_inode(env: MmEnv, wb: BdiWriteback, mapping: AddressSpace, wbc: WritebackControl): void {
  wb.b_dirty.delete(mapping.id)
  if (!mapping_has_dirty(env, mapping)) return
  if (wbc.nr_to_write > 0) {
    // redirty_tail(): younger than the newest queued inode would break the order: stamp it now.
    let newest = -Infinity
    for (const id of wb.b_dirty) newest = Math.max(newest, env.mappings.get(id)?.dirtied_when ?? -Infinity)
    if (mapping.dirtied_when < newest) mapping.dirtied_when = env.clock.now()
  }
  wb.b_dirty.add(mapping.id)
  // keep b_dirty ordered by dirtied_when
  const sorted = [...wb.b_dirty].sort((a, b) => (env.mappings.get(a)?.dirtied_when ?? 0) - (env.mappings.get(b)?.dirtied_when ?? 0))
  wb.b_dirty.clear()
  for (const id of sorted) wb.b_dirty.add(id)
}

/** Kernel: mapping_tagged(mapping, PAGECACHE_TAG_DIRTY). */
function mapping_has_dirty(_env: MmEnv, mapping: AddressSpace): boolean {
  return mapping.dirty_tag.size > 0
}

/**
 * Kernel: do_writepages() -> ext4_writepages(): write the mapping's dirty
 * pages in index order (range-cyclic: from writeback_index), each run of
 * contiguous pages one request of at most io_pages. A page already under
 * writeback is skipped by background writeback and waited for by
 * WB_SYNC_ALL. wbc.nr_to_write counts down (only background stops at 0).
 */
export function do_writepages(env: MmEnv, mapping: AddressSpace, wbc: WritebackControl): void {
  const wb = mapping_wb(mapping)
  if (!wb || wbc.nr_to_write <= 0) return
  wb_bandwidth_estimate_start(env, wb)
  const bdi = inode_to_bdi(mapping)
  const max_pages = Math.max(1, bdi.io_pages)
  const start = wbc.range_cyclic ? mapping.writeback_index : wbc.range_start
  const end = wbc.range_cyclic ? Infinity : wbc.range_end
  const eof_index = Math.floor(mapping.i_size / PAGE_SIZE)
  // filemap_get_folios_tag(PAGECACHE_TAG_DIRTY): the tagged indexes of the range, in order.
  // A short range (reclaim writes one page) is looked up index by index, a long one walks the tag.
  const dirty: number[] = []
  if (end - start < mapping.dirty_tag.size) {
    for (let index = start; index <= end; index++) if (mapping.dirty_tag.has(index)) dirty.push(index)
  } else {
    for (const index of mapping.dirty_tag) if (index >= start && index <= end) dirty.push(index)
    dirty.sort((a, b) => a - b)
  }
  let bio: number[] = []
  let last = -2
  const flush = (): void => {
    if (bio.length) submit_write_bio(env, mapping, wb, bio)
    bio = []
  }
  let stopped_at = -1
  for (const index of dirty) {
    if (!wbc.sync_all && wbc.nr_to_write <= 0) {
      stopped_at = index
      break
    }
    const pfn = mapping.i_pages.get(index) as number
    if (!env.pages.test(pfn, PG_dirty)) continue
    if (env.pages.test(pfn, PG_writeback)) {
      if (!wbc.sync_all) continue
      flush()
      folio_wait_writeback(env, pfn)
    }
    // ext4_bio_write_folio(): the page straddling EOF is zeroed past i_size before I/O.
    if (index === eof_index) ext4_zero_eof_tail(env, mapping, mapping.i_size, Infinity, false)
    // A delayed-allocation page gets its block now (ext4_map_blocks()).
    if (!mapping.disk_blocks.has(index)) ext4_mb_mark_diskspace_used(mapping)
    // folio_clear_dirty_for_io(): a mapped page's PTEs are cleaned and write-protected first, so a
    // store after this write dirties it again. (It is dirty already: a dirty PTE adds nothing.)
    if (env.pages._mapcount[pfn] > 0) folio_mkclean(env, pfn)
    // The I/O: the page's bytes become the block's on the disk.
    env.physmem.copy_out(pfn, 0, mapping.disk_blocks.slot_for_write(index), 0, PAGE_SIZE)
    folio_start_writeback(env, pfn, wb)
    env.pages.set(pfn, PG_mappedtodisk)
    if (index !== last + 1 || bio.length >= max_pages) flush()
    bio.push(pfn)
    last = index
    wbc.nr_to_write--
  }
  flush()
  if (wbc.range_cyclic) mapping.writeback_index = stopped_at >= 0 ? stopped_at : 0
  // BANDWIDTH_INTERVAL (200 ms) since the last estimate: refresh it.
  if (wb.bw_time_stamp + 200 < jiffies(env)) wb_update_bandwidth(env, wb)
}

/**
 * Kernel: __filemap_fdatawrite_range(WB_SYNC_NONE) (POSIX_FADV_DONTNEED):
 * start writeback of the dirty pages of [start, end] (page indexes), pages
 * already under writeback skipped, and return without waiting.
 */
export function filemap_fdatawrite_range(env: MmEnv, mapping: AddressSpace, start_index: number, end_index: number): void {
  if (!mapping_wb(mapping)) return
  do_writepages(env, mapping, { nr_to_write: Infinity, sync_all: false, range_cyclic: false, range_start: start_index, range_end: end_index })
}

/**
 * Kernel: file_write_and_wait_range() (fsync, msync, and reclaim's
 * write-and-wait of one page here): WB_SYNC_ALL writepages of [start, end]
 * (page indexes), then wait for every write in the range. A file left with
 * no dirty page leaves its wb's dirty list (writeback_single_inode()'s
 * clearing of I_DIRTY_PAGES). Shmem: nothing.
 */
export function filemap_write_and_wait_range(env: MmEnv, mapping: AddressSpace, start_index: number, end_index: number): void {
  const wb = mapping_wb(mapping)
  if (!wb) return
  do_writepages(env, mapping, { nr_to_write: Infinity, sync_all: true, range_cyclic: false, range_start: start_index, range_end: end_index })
  filemap_fdatawait_range(env, mapping, start_index, end_index)
  if (wb.b_dirty.has(mapping.id) && !mapping_has_dirty(env, mapping)) wb.b_dirty.delete(mapping.id)
}

/**
 * Kernel: ext4_sync_file() -> ext4_fsync_nojournal() (the reference
 * machine's root has no jbd2) on a disk with a volatile write cache, for
 * fsync (datasync false) and fdatasync (true):
 * generic_buffers_fsync_noflush() writes and waits for the range's dirty
 * pages, then, unless the inode is clean or this is fdatasync and only
 * I_DIRTY_SYNC is set (the times changed, not the size),
 * sync_inode_metadata() writes the inode (its inode-table block, one 4 KiB
 * request) and clears both bits. Then ext4_write_inode(WB_SYNC_ALL) writes
 * that block whenever it is still dirty: writeback's block allocation and
 * time-only changes dirty it too, and 6.18's stable fix ("ext4: fsync of
 * an inode with dirty inode buffer", 2026) forces it out, so fdatasync
 * writes it as fsync does (test/fixtures/probes/fdatasync.txt: the real
 * kernel's requests are the same for both in every shape recorded). The
 * difference that is left is i_state: fdatasync of a time-only change
 * leaves I_DIRTY_SYNC set. Last, blkdev_issue_flush(): an empty
 * REQ_PREFLUSH write, which /proc/diskstats counts as a write of 0 sectors
 * and a flush. The caller waits for all of it. tmpfs: nothing.
 */
export function ext4_sync_file(env: MmEnv, mapping: AddressSpace, start_index: number, end_index: number, datasync = false): void {
  const bdi = inode_to_bdi(mapping)
  if (mapping.backing !== 'disk' || !bdi.disk) return
  filemap_write_and_wait_range(env, mapping, start_index, end_index)
  const dirty = mapping.i_state & (I_DIRTY_SYNC | I_DIRTY_DATASYNC)
  if (dirty && (!datasync || dirty & I_DIRTY_DATASYNC)) {
    // sync_inode_metadata() -> writeback_single_inode() -> ext4_write_inode(WB_SYNC_ALL)
    mapping.i_state &= ~(I_DIRTY_SYNC | I_DIRTY_DATASYNC)
    ext4_write_inode(env, bdi, mapping)
  }
  ext4_write_inode(env, bdi, mapping)
  blkdev_issue_flush(env, bdi)
}

/** Kernel: ext4_write_inode(WB_SYNC_ALL) without a journal: sync_dirty_buffer() of the inode-table block, if dirty. */
function ext4_write_inode(env: MmEnv, bdi: BackingDevInfo, mapping: AddressSpace): void {
  if (!mapping.itable_dirty) return
  mapping.itable_dirty = false
  blk_write_wait(env, bdi, PAGE_SECTORS)
}

/** Kernel: blkdev_issue_flush(): an empty REQ_PREFLUSH write, waited for. */
function blkdev_issue_flush(env: MmEnv, bdi: BackingDevInfo): void {
  blk_write_wait(env, bdi, 0, true)
}

/** A write of `sectors` that is no page's (metadata, or an empty flush), waited for. */
function blk_write_wait(env: MmEnv, bdi: BackingDevInfo, sectors: number, preflush = false): void {
  if (!bdi.disk) return
  const now = env.clock.now()
  const done = bdi.disk.submit(STAT_WRITE, sectors, now, preflush)
  env.vmstat.count_vm_events(PGPGOUT, sectors)
  if (done > now) env.clock.advance(done - now)
}

/**
 * Kernel: sync_filesystem() of the disk filesystem (syncfs(2)), or its part
 * in ksys_sync() (sync(2): `for_sync_all`). Every dirty inode's pages are
 * written (writeback_inodes_sb(), then sync_inodes_sb() with WB_SYNC_ALL,
 * waiting); ext4_write_inode() during a sync writes nothing itself
 * (wbc->for_sync: the buffer cache is written as a whole); ext4_sync_fs()
 * has no journal to commit, and sends the cache flush; sync_blockdev()
 * writes the disk's dirty metadata buffers: each dirty inode-table block,
 * the block bitmap and the group descriptor if the allocator changed them
 * (files here are in one block group). A write that extends a file on disk
 * updates its on-disk size (i_disksize) when it completes, which dirties
 * the inode's block again. syncfs writes the buffers after waiting for the
 * data: each block once, before the flush. sync(2) first wakes the
 * flushers, whose work writes the disk's buffers too, right after the data
 * it allocated and before that data completes (a block trace of the
 * recording: data, group descriptor, bitmap, inode table, flush, inode
 * table again): an extended file's inode block is written a second time,
 * after the flush, by sync_bdevs(). Every file's i_state is clean after.
 */
export function sync_filesystem(env: MmEnv, bdi: BackingDevInfo, for_sync_all = false): void {
  const wb = bdi.wb
  if (!wb || !bdi.disk) return
  const files = [...env.mappings.values()].filter((m) => m.backing === 'disk' && inode_to_bdi(m) === bdi)
  // i_disksize before: the end of the blocks on disk.
  const disksize = new Map(files.map((m) => [m.id, disk_end(m)]))
  for (const mapping of files) {
    if (mapping_has_dirty(env, mapping)) do_writepages(env, mapping, { nr_to_write: Infinity, sync_all: false, range_cyclic: false, range_start: 0, range_end: Infinity })
  }
  const by_ino = (a: AddressSpace, b: AddressSpace): number => (a.host?.i_ino ?? 0) - (b.host?.i_ino ?? 0)
  const extended = files.filter((m) => disk_end(m) > (disksize.get(m.id) ?? 0))
  if (for_sync_all) write_bdev_buffers(env, bdi, wb, files.filter((m) => m.itable_dirty).sort(by_ino))
  for (const mapping of files) {
    filemap_write_and_wait_range(env, mapping, 0, Infinity)
    mapping.i_state &= ~(I_DIRTY_SYNC | I_DIRTY_DATASYNC)
  }
  // The writes completed: the extended files' on-disk size goes into their inode blocks.
  for (const mapping of extended) mapping.itable_dirty = true
  if (for_sync_all) {
    blkdev_issue_flush(env, bdi)
    for (const mapping of files.filter((m) => m.itable_dirty).sort(by_ino)) ext4_write_inode(env, bdi, mapping)
    return
  }
  write_bdev_buffers(env, bdi, wb, files.filter((m) => m.itable_dirty).sort(by_ino))
  blkdev_issue_flush(env, bdi)
}

/** The end of a file's blocks on the disk, in pages. */
function disk_end(mapping: AddressSpace): number {
  let end = 0
  for (const index of mapping.disk_blocks.keys()) end = Math.max(end, index + 1)
  return end
}

/** sync_blockdev(): the dirty group descriptor, block bitmap and inode-table blocks, in block order. */
function write_bdev_buffers(env: MmEnv, bdi: BackingDevInfo, wb: BdiWriteback, itable: readonly AddressSpace[]): void {
  if (wb.balloc_dirty) {
    wb.balloc_dirty = false
    blk_write_wait(env, bdi, PAGE_SECTORS)
    blk_write_wait(env, bdi, PAGE_SECTORS)
  }
  for (const mapping of itable) ext4_write_inode(env, bdi, mapping)
}
