/**
 * On-demand readahead of disk files (Kernel: mm/readahead.c, 6.18).
 *
 * Each open file carries a window (struct file_ra_state): [start,
 * start + size), whose last async_size pages are "ahead" of the reader. The
 * page at start + size - async_size gets PG_readahead; touching it starts the
 * next window asynchronously (page_cache_async_ra), so a sequential reader
 * never waits. A miss (page not cached at all) goes to page_cache_sync_ra,
 * which decides from the previous read position and the cached history
 * behind the miss whether this is a stream (open a window) or a random read
 * (read just what was asked for).
 *
 * Window sizes follow the kernel's ramp: get_init_ra_size() for a fresh
 * stream (x4 for tiny requests, x2 for medium ones, else the maximum),
 * get_next_ra_size() for each following window (x4 while small, then x2, up
 * to ra_pages). ext4 has large folios, so an async window also rounds its
 * end down to the alignment of the folio order it ramps up (ra->order);
 * pages themselves are order 0 here, only the window arithmetic and the
 * PG_readahead mark follow the folio the kernel would have allocated.
 *
 * Pages read ahead of a disk file are added to the page cache at once
 * (holes read as zeros without I/O, so the real kernel completes them
 * synchronously too); each batch's disk reads are one request per run of
 * contiguous pages (mpage.ts). tmpfs never reads ahead (shmem has its own
 * paths).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type AddressSpace, type FileRaState, type MmEnv, type VmFile, FMODE_RANDOM } from './mm_types.js'
import { PG_reclaim, PG_writeback } from './page.js'
import { inode_to_bdi, noop_backing_dev_info } from './backing_dev.js'
import { blk_finish_plug, blk_start_plug, mpage_folio } from './mpage.js'
import { add_to_page_cache, delete_from_page_cache } from './shmem.js'

/** PG_readahead shares its bit with PG_reclaim (include/linux/page-flags.h). */
export const PG_readahead = PG_reclaim

/** VM_READAHEAD_PAGES: a new device's read_ahead_kb, 128 KiB. */
export const VM_READAHEAD_KB = 128
/** The largest folio order the page cache builds (MAX_PAGECACHE_ORDER on x86-64: PMD order). */
const MAX_PAGECACHE_ORDER = 9
/** force_page_cache_ra() works in chunks of 2 MiB. */
const FORCE_CHUNK = (2 * 1024 * 1024) / PAGE_SIZE
/** pgoff_t's ULONG_MAX, the "no gap before index 0" answer of page_cache_prev_miss(). */
const ULONG_MAX = -1

export { inode_to_bdi, noop_backing_dev_info }


/** Kernel: file_ra_state_init() at open: an empty window sized by the device. */
export function file_ra_state_init(mapping: AddressSpace): FileRaState {
  return { start: 0, size: 0, async_size: 0, order: 0, ra_pages: inode_to_bdi(mapping).ra_pages, mmap_miss: 0, prev_pos: -1 }
}

/** struct readahead_control: one readahead request of `file` (may be null) on `mapping`, from _index. */
export interface ReadaheadControl {
  readonly env: MmEnv
  readonly file: VmFile | null
  readonly mapping: AddressSpace
  readonly ra: FileRaState
  _index: number
}

/** Kernel: DEFINE_READAHEAD(). */
export function readahead_control(env: MmEnv, file: VmFile, index: number): ReadaheadControl {
  return { env, file, mapping: file.f_mapping, ra: file.f_ra, _index: index }
}

/** Kernel: folio_test_readahead(). */
export function page_test_readahead(env: MmEnv, pfn: number): boolean {
  return env.pages.test(pfn, PG_readahead)
}

/** Kernel: folio_clear_readahead(). */
export function page_clear_readahead(env: MmEnv, pfn: number): void {
  env.pages.clear(pfn, PG_readahead)
}

/**
 * Kernel: page_cache_ra_unbounded(): add the missing pages of [index,
 * index + nr_to_read) to the cache, marking the one lookahead_size pages from
 * the end PG_readahead (only if it is new: a cached page keeps its flags).
 * Stops when memory runs out.
 */
export function page_cache_ra_unbounded(ractl: ReadaheadControl, nr_to_read: number, lookahead_size: number): void {
  const { env, mapping } = ractl
  const index = ractl._index
  const mark = lookahead_size <= nr_to_read ? nr_to_read - lookahead_size : -1
  // read_pages(): the batch's reads go to the disk under one plug (mpage.ts).
  blk_start_plug(mapping)
  for (let i = 0; i < nr_to_read; i++) {
    if (mapping.i_pages.has(index + i)) continue
    const pfn = add_to_page_cache(env, mapping, index + i)
    if (pfn < 0) break
    if (i === mark) env.pages.set(pfn, PG_readahead)
  }
  blk_finish_plug(env, mapping)
  ractl._index = index + nr_to_read
}

/** Kernel: do_page_cache_ra(): page_cache_ra_unbounded() clipped to the page holding the last byte. */
export function do_page_cache_ra(ractl: ReadaheadControl, nr_to_read: number, lookahead_size: number): void {
  const isize = ractl.mapping.i_size
  if (isize === 0) return
  const end_index = Math.floor((isize - 1) / PAGE_SIZE)
  const index = ractl._index
  if (index > end_index) return
  if (nr_to_read > end_index - index) nr_to_read = end_index - index + 1
  page_cache_ra_unbounded(ractl, nr_to_read, lookahead_size)
}

/**
 * Kernel: force_page_cache_ra(): read [index, index + nr_to_read) whatever
 * the window says (MADV_WILLNEED, POSIX_FADV_WILLNEED, readahead(2), a file
 * opened for random reads), at most max(io_pages, ra_pages) pages, in 2 MiB
 * chunks, without PG_readahead marks.
 */
export function force_page_cache_ra(ractl: ReadaheadControl, nr_to_read: number): void {
  if (ractl.mapping.backing !== 'disk') return
  const bdi = inode_to_bdi(ractl.mapping)
  nr_to_read = Math.min(nr_to_read, Math.max(bdi.io_pages, ractl.ra.ra_pages))
  let index = ractl._index
  while (nr_to_read > 0) {
    const chunk = Math.min(FORCE_CHUNK, nr_to_read)
    ractl._index = index
    do_page_cache_ra(ractl, chunk, 0)
    index += chunk
    nr_to_read -= chunk
  }
}

/** roundup_pow_of_two(). */
function roundup_pow_of_two(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** ilog2() of a positive integer. */
function ilog2(n: number): number {
  return Math.floor(Math.log2(n))
}

/**
 * Kernel: get_init_ra_size(): the first window of a stream from a request of
 * `size` pages: the request rounded up to a power of two, x4 when it is at
 * most max/32, x2 up to max/4, else max (max 32: 1-2 pages -> 16 KiB
 * ... more than 8 pages -> 128 KiB).
 */
export function get_init_ra_size(size: number, max: number): number {
  const newsize = roundup_pow_of_two(size)
  if (newsize <= max / 32) return newsize * 4
  if (newsize <= max / 4) return newsize * 2
  return max
}

/** Kernel: get_next_ra_size(): the window after one of ra.size pages: x4 below max/16, x2 up to max/2, else max. */
export function get_next_ra_size(ra: FileRaState, max: number): number {
  const cur = ra.size
  if (cur < max / 16) return 4 * cur
  if (cur <= max / 2) return 2 * cur
  return max
}

/**
 * Kernel: page_cache_prev_miss(): walking down from index, the first index
 * (of at most max_scan) with no cached page; ULONG_MAX (-1 here) when the
 * walk passes page 0, the last index looked at when all max_scan were cached.
 */
export function page_cache_prev_miss(mapping: AddressSpace, index: number, max_scan: number): number {
  let i = index
  for (let n = 0; n < max_scan; n++) {
    if (n > 0) i--
    if (i < 0) return ULONG_MAX
    if (!mapping.i_pages.has(i)) return i
  }
  return i
}

/**
 * Kernel: page_cache_next_miss(): the lowest index of [index, index +
 * max_scan - 1] with no cached page, or index + max_scan when all are cached.
 */
export function page_cache_next_miss(mapping: AddressSpace, index: number, max_scan: number): number {
  for (let i = index; i < index + max_scan; i++) if (!mapping.i_pages.has(i)) return i
  return index + max_scan
}

/** Kernel: mapping_large_folio_support(): ext4 regular files have large folios (6.16+); tmpfs here none. */
function mapping_large_folio_support(mapping: AddressSpace): boolean {
  return mapping.backing === 'disk'
}

/**
 * Mark the folio [head, head + nr) PG_readahead: every page of it carries
 * the flag (the kernel's folio flag is seen from any of its pages), and the
 * mapping remembers the folio's extent while the mark lives.
 */
function set_readahead_folio(env: MmEnv, mapping: AddressSpace, head: number, nr: number): void {
  for (let i = head; i < head + nr; i++) env.pages.set(mapping.i_pages.get(i) as number, PG_readahead)
  if (nr > 1) mapping.ra_folios.set(head, nr)
}

/**
 * The folio carrying the PG_readahead mark seen at page `index`: its first
 * index and size (1 for a mark placed page by page).
 */
export function readahead_folio_of(mapping: AddressSpace, index: number): { head: number; nr: number } {
  for (let nr = 2; nr <= 2 ** MAX_PAGECACHE_ORDER; nr *= 2) {
    const head = Math.floor(index / nr) * nr
    if (mapping.ra_folios.get(head) === nr) return { head, nr }
  }
  return { head: index, nr: 1 }
}

/** Kernel: folio_clear_readahead() on the folio holding page `index`. */
export function clear_readahead_folio(env: MmEnv, mapping: AddressSpace, index: number): void {
  const { head, nr } = readahead_folio_of(mapping, index)
  for (let i = head; i < head + nr; i++) {
    const pfn = mapping.i_pages.get(i)
    if (pfn !== undefined) page_clear_readahead(env, pfn)
  }
  mapping.ra_folios.delete(head)
}

/**
 * Kernel: page_cache_ra_order(): read the window ra describes from
 * ractl._index. With large folios: folios of ra.order capped by the window
 * (remembered in ra.order for the next ramp), each as large as its index's
 * alignment and the window's end (or EOF) allow, the one holding start +
 * size - async_size marked PG_readahead. A cached page in a folio's range
 * ends that pass; the rest of the window is then read page by page, the
 * mark counted from the end of what is left (do_page_cache_ra()).
 */
export function page_cache_ra_order(ractl: ReadaheadControl, ra: FileRaState): void {
  const { env, mapping } = ractl
  const start = ractl._index
  if (!mapping_large_folio_support(mapping)) {
    ra.order = 0
    do_page_cache_ra(ractl, ra.size, ra.async_size)
    return
  }
  const eof = mapping.i_size === 0 ? Infinity : Math.floor((mapping.i_size - 1) / PAGE_SIZE)
  const limit = Math.min(eof, start + ra.size - 1)
  const mark = start + ra.size - ra.async_size
  const new_order = Math.max(Math.min(MAX_PAGECACHE_ORDER, ra.order, ilog2(ra.size)), 0)
  ra.order = new_order
  let index = start
  let err = false
  blk_start_plug(mapping)
  while (index <= limit) {
    let order = new_order
    if (index % 2 ** order !== 0) order = ffs0(index)
    while (order > 0 && index + 2 ** order - 1 > limit) order--
    const nr = 2 ** order
    // filemap_add_folio() refuses a range that holds a cached page (-EEXIST)
    let busy = false
    for (let i = index; i < index + nr && !busy; i++) busy = mapping.i_pages.has(i)
    mpage_folio(mapping, index, nr)
    if (busy || !add_folio_pages(env, mapping, index, nr)) {
      err = true
      break
    }
    if (Math.floor(mark / nr) * nr === index) set_readahead_folio(env, mapping, index, nr)
    index += nr
  }
  blk_finish_plug(env, mapping)
  mpage_folio(mapping, 0, 0)
  if (!err) return
  if (ra.size > index - start) {
    ractl._index = index
    do_page_cache_ra(ractl, ra.size - (index - start), ra.async_size)
  }
}

/** The pages of one folio [index, index + nr) (order-0 pages here); false, with none added, when memory runs out. */
function add_folio_pages(env: MmEnv, mapping: AddressSpace, index: number, nr: number): boolean {
  for (let i = 0; i < nr; i++) {
    if (add_to_page_cache(env, mapping, index + i) >= 0) continue
    for (let j = 0; j < i; j++) delete_from_page_cache(env, mapping, index + j)
    return false
  }
  return true
}

/** __ffs(): the lowest set bit of a positive index. */
function ffs0(n: number): number {
  let b = 0
  while (n % 2 === 0) {
    n /= 2
    b++
  }
  return b
}

/** Kernel: ractl_max_pages(): ra_pages, or up to io_pages for a request larger than the window. */
function ractl_max_pages(ractl: ReadaheadControl, req_size: number): number {
  const bdi = inode_to_bdi(ractl.mapping)
  let max_pages = ractl.ra.ra_pages
  if (req_size > max_pages && bdi.io_pages > max_pages) max_pages = Math.min(req_size, bdi.io_pages)
  return max_pages
}

/**
 * Kernel: page_cache_sync_ra(): the page at ractl._index is not cached and
 * req_count pages from it are wanted.
 *  - a file opened for random access, or a device without readahead: just
 *    the request (one page without readahead);
 *  - index 0, a request larger than the window, or a read right after the
 *    previous one (same or next page): a new window of get_init_ra_size();
 *  - otherwise count the cached pages just before index: no more than the
 *    request means a random read (read the request, keep the window); more
 *    means a stream the window lost: a window as long as that history plus
 *    the request, doubled history when it reaches back to page 0.
 */
export function page_cache_sync_ra(ractl: ReadaheadControl, req_count: number): void {
  const index = ractl._index
  const ra = ractl.ra
  let do_forced_ra = ractl.file !== null && (ractl.file.f_mode & FMODE_RANDOM) !== 0
  if (!ra.ra_pages) {
    if (!ractl.file) return
    req_count = 1
    do_forced_ra = true
  }
  if (do_forced_ra) {
    force_page_cache_ra(ractl, req_count)
    return
  }
  const max_pages = ractl_max_pages(ractl, req_count)
  // prev_pos -1 is a huge unsigned index: never "just before".
  const prev_index = ra.prev_pos < 0 ? Infinity : Math.floor(ra.prev_pos / PAGE_SIZE)
  if (index === 0 || req_count > max_pages || index === prev_index || index === prev_index + 1) {
    ra.start = index
    ra.size = get_init_ra_size(req_count, max_pages)
    ra.async_size = ra.size > req_count ? ra.size - req_count : ra.size >> 1
  } else {
    const miss = page_cache_prev_miss(ractl.mapping, index - 1, max_pages)
    let contig_count = index - miss - 1
    if (contig_count <= req_count) {
      do_page_cache_ra(ractl, req_count, 0)
      return
    }
    if (miss === ULONG_MAX) contig_count *= 2
    ra.start = index
    ra.size = Math.min(contig_count + req_count, max_pages)
    ra.async_size = 1
  }
  ra.order = 0
  ractl._index = ra.start
  page_cache_ra_order(ractl, ra)
}

/**
 * Kernel: page_cache_async_ra(): the reader reached the PG_readahead page
 * `pfn` (first page of its folio, index ractl._index; nr_pages its folio
 * size) wanting req_count pages. The mark is cleared; if it is where the
 * window put it, the next window follows the current one, ramped up;
 * otherwise (another reader moved the window) the cached run from here
 * stands for the old window and a new one starts after it.
 */
export function page_cache_async_ra(ractl: ReadaheadControl, pfn: number, req_count: number, nr_pages: number): void {
  const ra = ractl.ra
  const index = ractl._index
  if (!ra.ra_pages) return
  // PG_readahead is PG_reclaim on a page under writeback: not a mark.
  if (ractl.env.pages.test(pfn, PG_writeback)) return
  clear_readahead_folio(ractl.env, ractl.mapping, index)
  const max_pages = ractl_max_pages(ractl, req_count)
  const expected = Math.floor((ra.start + ra.size - ra.async_size) / nr_pages) * nr_pages
  if (index === expected) {
    ra.start += ra.size
    ra.size = Math.max(ra.size, get_next_ra_size(ra, max_pages))
  } else {
    const start = page_cache_next_miss(ractl.mapping, index + 1, max_pages)
    if (!start || start - index > max_pages) return
    ra.start = start
    ra.size = start - index + req_count
    ra.size = get_next_ra_size(ra, max_pages)
  }
  // ramp the folio order, and end the window on that order's alignment
  ra.order += 2
  const align = 2 ** Math.min(ra.order, ffs0(max_pages))
  const end = ra.start + ra.size
  const aligned_end = Math.floor(end / align) * align
  if (aligned_end > ra.start) ra.size -= end - aligned_end
  ra.async_size = ra.size
  ractl._index = ra.start
  page_cache_ra_order(ractl, ra)
}
