/**
 * The side of ext4's block allocator the disk sees, on a filesystem without
 * a journal mounted with `discard` (the reference machine's root) (Kernel:
 * fs/ext4/mballoc.c ext4_mb_mark_diskspace_used(), ext4_mb_clear_bb() /
 * ext4_free_blocks(), ext4_issue_discard()).
 *
 * Blocks are allocated when writeback first writes a delayed-allocation
 * page (ext4_writepages() -> ext4_map_blocks()): the block bitmap and the
 * group descriptor change in the disk's buffer cache, and the inode's
 * extent tree and i_blocks change in its inode-table buffer, which
 * ext4_mark_inode_dirty() dirties without touching the VFS inode's i_state.
 * Freed blocks (truncate) change the same buffers, and without a journal
 * the freed extent is discarded at once: one discard request per
 * contiguous run, which the caller waits for (blkdev_issue_discard()).
 * The buffers are written by sync(2)/syncfs(2) (fs_writeback.ts).
 */
import { PAGE_SECTORS, STAT_DISCARD } from '../hw/blkdev.js'
import { inode_to_bdi } from './backing_dev.js'
import type { AddressSpace, MmEnv } from './mm_types.js'

/** Blocks of the file got allocated by writeback: bitmap, group descriptor and the inode's block are dirty. */
export function ext4_mb_mark_diskspace_used(mapping: AddressSpace): void {
  const wb = inode_to_bdi(mapping).wb
  if (wb) wb.balloc_dirty = true
  mapping.itable_dirty = true
}

/**
 * ext4_free_blocks() of the file's allocated blocks at page indexes
 * `indexes` (sorted): the allocation metadata is dirtied and each
 * contiguous run is discarded, the caller waiting for the requests.
 */
export function ext4_free_blocks(env: MmEnv, mapping: AddressSpace, indexes: readonly number[]): void {
  if (!indexes.length || mapping.backing !== 'disk') return
  const bdi = inode_to_bdi(mapping)
  ext4_mb_mark_diskspace_used(mapping)
  const disk = bdi.disk
  if (!disk) return
  let done = env.clock.now()
  for (let i = 0; i < indexes.length; ) {
    let j = i + 1
    while (j < indexes.length && indexes[j] === indexes[j - 1] + 1) j++
    done = disk.submit(STAT_DISCARD, (j - i) * PAGE_SECTORS, env.clock.now())
    i = j
  }
  const now = env.clock.now()
  if (done > now) env.clock.advance(done - now)
}

/** The page indexes of `mapping`'s allocated blocks at or past `first` page, sorted. */
export function allocated_from(mapping: AddressSpace, first: number, last = Infinity): number[] {
  const out: number[] = []
  for (const index of mapping.disk_blocks.keys()) if (index >= first && index <= last) out.push(index)
  return out.sort((a, b) => a - b)
}
