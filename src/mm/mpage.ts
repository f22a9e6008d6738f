/**
 * Reads of a disk file's blocks into the page cache, as requests on the
 * disk (Kernel: fs/ext4/readpage.c ext4_mpage_readpages() and fs/mpage.c:
 * contiguous blocks go into one bio, a gap or a full bio sends it;
 * block/blk-core.c blk_start_plug()/blk_finish_plug() and submit_bio(),
 * which counts the sectors in PGPGIN).
 *
 * A readahead batch reads under a plug: the pages it fills from the disk
 * gather into one request per run of contiguous pages (at most
 * max_sectors_kb, and at most max_segments physically separate pieces: a
 * large folio, or a run of frames adjacent in memory, is one piece;
 * bio_split_rw()),
 * sent when the batch ends. A page read outside a plug (a
 * single-page read, a fault without readahead) is its own request. A hole,
 * or a page never written back, is zero-filled without I/O, as ext4 does.
 *
 * A read(2) that had to read its page waits for that page's request
 * (folio_wait_locked(): the clock moves to the request's end,
 * wait_on_page_read()); a major fault is charged its disk read by the fault
 * path instead (COST_NS.disk_read_page).
 */
import { PAGE_SECTORS, STAT_READ } from '../hw/blkdev.js'
import { type BackingDevInfo, inode_to_bdi } from './backing_dev.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { PGPGIN } from './vm_event_item.js'

/** Page `index` of `mapping` (frame `pfn`) is being filled from its block on the disk: add it to the read being built. */
export function mpage_read_block(env: MmEnv, mapping: AddressSpace, index: number, pfn: number): void {
  const bdi = inode_to_bdi(mapping)
  if (!bdi.disk) return
  const bio = bdi.read_bio
  // A page in the previous page's large folio, or in the frame right after it, extends its segment
  // (biovec_phys_mergeable(): max_segment_size is no limit here); any other page starts one.
  const new_seg = !(index > bdi.folio_head && index < bdi.folio_end) && pfn !== (bio?.last_pfn ?? -2) + 1
  if (bio && bio.mapping_id === mapping.id && index === bio.first + bio.nr && bio.nr < Math.max(1, bdi.io_pages) && (!new_seg || bio.segs < bdi.max_segments)) {
    bio.nr++
    bio.last_pfn = pfn
    if (new_seg) bio.segs++
  } else {
    submit_read_bio(env, bdi)
    bdi.read_bio = { mapping_id: mapping.id, first: index, nr: 1, segs: 1, last_pfn: pfn }
  }
  if (!bdi.plugged) submit_read_bio(env, bdi)
}

/** The pages [head, head + nr) about to be read are one folio (one physically contiguous piece: one segment of a bio). */
export function mpage_folio(mapping: AddressSpace, head: number, nr: number): void {
  const bdi = inode_to_bdi(mapping)
  if (!bdi.disk) return
  bdi.folio_head = head
  bdi.folio_end = head + nr
}

/** Kernel: blk_start_plug(): reads of the batch that follows are held and merged. */
export function blk_start_plug(mapping: AddressSpace): void {
  const bdi = inode_to_bdi(mapping)
  if (!bdi.disk) return
  if (!bdi.plugged) bdi.reads_sent.length = 0
  bdi.plugged++
}

/** Kernel: blk_finish_plug(): send what the batch gathered. */
export function blk_finish_plug(env: MmEnv, mapping: AddressSpace): void {
  const bdi = inode_to_bdi(mapping)
  if (!bdi.disk) return
  if (bdi.plugged > 0) bdi.plugged--
  if (!bdi.plugged) submit_read_bio(env, bdi)
}

/** Kernel: submit_bio() of the read being built. */
function submit_read_bio(env: MmEnv, bdi: BackingDevInfo): void {
  const bio = bdi.read_bio
  if (!bio || !bdi.disk) return
  bdi.read_bio = null
  const done = bdi.disk.submit(STAT_READ, bio.nr * PAGE_SECTORS, env.clock.now())
  if (bdi.reads_sent.length >= 64) bdi.reads_sent.length = 0
  bdi.reads_sent.push({ mapping_id: bio.mapping_id, first: bio.first, nr: bio.nr, done })
  env.vmstat.count_vm_events(PGPGIN, bio.nr * PAGE_SECTORS)
}

/** Kernel: filemap_update_page()'s wait for a page being read: the clock goes to the end of the request that reads page `index`. */
export function wait_on_page_read(env: MmEnv, mapping: AddressSpace, index: number): void {
  const bdi = inode_to_bdi(mapping)
  for (const r of bdi.reads_sent) {
    if (r.mapping_id !== mapping.id || index < r.first || index >= r.first + r.nr) continue
    const now = env.clock.now()
    if (r.done > now) env.clock.advance(r.done - now)
    return
  }
}
