/**
 * A disk's backing_dev_info and its one bdi_writeback (Kernel:
 * include/linux/backing-dev-defs.h, mm/backing-dev.c): the readahead
 * limits readahead.ts reads, and the writeback state fs_writeback.ts and
 * page_writeback.ts keep: the inodes with dirty pages in the order they were
 * first dirtied (b_dirty), the per-wb page counts (WB_RECLAIMABLE,
 * WB_WRITEBACK, WB_DIRTIED, WB_WRITTEN), the bandwidth estimates that pace
 * dirtying tasks, and the flusher's delayed work (a clock timer).
 *
 * mmsim has no cgroup writeback: each disk has the bdi's root wb only.
 */
import type { BlockDevice } from '../hw/blkdev.js'
import type { Timer } from '../hw/clock.js'

/** INIT_BW: a new device's assumed write bandwidth, 100 MB/s in pages per second. */
export const INIT_BW = (100 * 1024 * 1024) / 4096

/** One write request in flight: its pages complete together (end_bio -> folio_end_writeback for each). */
export interface WritebackBio {
  readonly mapping_id: number
  readonly pfns: number[]
  readonly done: number
  timer: Timer | null
}

/** struct bdi_writeback. */
export class BdiWriteback {
  /** b_dirty: ids of mappings with dirty pages, oldest dirtied_when first (Set keeps insertion order). */
  readonly b_dirty = new Set<number>()
  /** wb_stat(): WB_RECLAIMABLE (dirty pages), WB_WRITEBACK, WB_DIRTIED, WB_WRITTEN. */
  reclaimable = 0
  writeback = 0
  dirtied = 0
  written = 0
  /** Write bandwidth estimates, pages per second (wb_update_write_bandwidth()). */
  write_bandwidth = INIT_BW
  avg_write_bandwidth = INIT_BW
  /** The dirty throttle rate, pages per second (wb_update_dirty_ratelimit()). */
  dirty_ratelimit = INIT_BW
  balanced_dirty_ratelimit = INIT_BW
  /** Samples of the bandwidth estimation, jiffies and counts. */
  bw_time_stamp = 0
  dirtied_stamp = 0
  written_stamp = 0
  /**
   * The wb has events in the domain's writeout-completion proportion
   * (wb->completions): its share of the dirty thresholds is then all of
   * them. A root disk starts with them (boot wrote to it), a new disk not.
   */
  has_completions = false
  /** wb->dirty_exceeded: dirtying tasks check every 8 pages instead of nr_dirtied_pause. */
  dirty_exceeded = false
  /** Jiffies of the last kupdate pass (wb_check_old_data_flush()). */
  last_old_flush = 0
  /** WB_start_all: write back everything at the next run (wakeup_flusher_threads()). */
  start_all = false
  /** WB_writeback_running: wb_workfn() is running. */
  running = false
  /** wb->dwork: the flusher's delayed work (a pending clock timer). */
  dwork: Timer | null = null
  /** The work function (wb_workfn()), set when the bdi is registered (fs_writeback.ts bdi_register()). */
  workfn: (() => void) | null = null
  /** Write requests not yet complete, in completion order. */
  readonly inflight: WritebackBio[] = []
  /**
   * The filesystem on the disk has allocation metadata dirty in the disk's
   * buffer cache: the block bitmap and the group descriptor that ext4's
   * block allocator (ext4_mb_mark_diskspace_used(), ext4_free_blocks())
   * changed; sync(2)/syncfs(2) write them (sync_blockdev(): two 4 KiB
   * requests). One disk, one filesystem, its files in one block group:
   * kept here.
   */
  balloc_dirty = false
  /** global_wb_domain.dirty_limit (one domain, one disk: kept here) and its stamp. */
  dirty_limit = 0
  dirty_limit_tstamp = 0
}

/** struct backing_dev_info: readahead limits, and the disk and writeback of a real device. */
export interface BackingDevInfo {
  /** ra_pages: read_ahead_kb / 4, the most one readahead window reads. */
  ra_pages: number
  /** io_pages: max_sectors_kb / 4, the device's largest request. */
  io_pages: number
  /** The disk behind it (null: noop_backing_dev_info, tmpfs and internal objects: no I/O). */
  readonly disk: BlockDevice | null
  /** bdi->wb (null: no writeback, BDI_CAP_WRITEBACK off). */
  readonly wb: BdiWriteback | null
  /** max_segments of the disk's queue: a bio with more physically separate pieces is split. */
  readonly max_segments: number
  /** A read request being built (mpage_readahead()'s bio): contiguous pages of one mapping, in `segs` segments. */
  read_bio: { mapping_id: number; first: number; nr: number; segs: number; last_pfn: number } | null
  /** The large folio being read, [folio_head, folio_end): its pages are one segment. */
  folio_head: number
  folio_end: number
  /** blk_start_plug() depth: reads are submitted when it drops to 0. */
  plugged: number
  /** The reads sent since the outermost plug began: which pages, and when each completes (a reader waits on its page's). */
  readonly reads_sent: { mapping_id: number; first: number; nr: number; done: number }[]
}

/** Kernel: noop_backing_dev_info: tmpfs and anonymous objects; no readahead, no I/O (nothing in it ever changes). */
export const noop_backing_dev_info: BackingDevInfo = Object.freeze({ ra_pages: 0, io_pages: 0, max_segments: Infinity, disk: null, wb: null, read_bio: null, folio_head: 0, folio_end: 0, plugged: 0, reads_sent: [] })

/** Kernel: inode_to_bdi(): the device behind a mapping (noop for shmem and internal objects). */
export function inode_to_bdi(mapping: { readonly host: { readonly i_sb: { readonly s_bdi?: BackingDevInfo } } | null }): BackingDevInfo {
  return mapping.host?.i_sb.s_bdi ?? noop_backing_dev_info
}

/** A block device's queue limits (read_ahead_kb, max_sectors_kb, max_segments), its disk and writeback. */
export function bdi_create(read_ahead_kb: number, max_sectors_kb: number, disk: BlockDevice | null = null, max_segments = Infinity): BackingDevInfo {
  return { ra_pages: Math.floor(read_ahead_kb / 4), io_pages: Math.floor(max_sectors_kb / 4), max_segments, disk, wb: disk ? new BdiWriteback() : null, read_bio: null, folio_head: 0, folio_end: 0, plugged: 0, reads_sent: [] }
}
