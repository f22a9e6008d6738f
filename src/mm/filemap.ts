/**
 * Where reads and page faults of disk files meet readahead (Kernel:
 * mm/filemap.c filemap_get_pages(), filemap_readahead(), filemap_fault(),
 * do_sync_mmap_readahead(), do_async_mmap_readahead(); mm/fadvise.c
 * generic_fadvise(POSIX_FADV_WILLNEED)).
 *
 * read(2): each step takes a batch of cached pages from the read position
 * (it ends at a gap, at the end of the request, after 31 pages, or after a
 * PG_readahead page); an empty batch is a miss and goes to
 * page_cache_sync_ra(); a batch ending on a PG_readahead page starts the next
 * window (page_cache_async_ra()). The request size readahead sees runs to
 * the end of what was asked for, past EOF too.
 *
 * Faults: a missing page is read around the fault (a window centred on it,
 * ra_pages long; forward for MADV_SEQUENTIAL; from the page to the VMA's end
 * for VM_EXEC; two PMD folios for MADV_HUGEPAGE; nothing for MADV_RANDOM),
 * unless the file's mmap faults miss far more than they hit (mmap_miss); a
 * cached PG_readahead page starts async readahead. Either way the mmap lock
 * was dropped for I/O, so the fault is retried (VM_FAULT_RETRY).
 */
import { wait_on_page_read } from './mpage.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { type AddressSpace, type MmEnv, type VmArea, type VmFile, VM_EXEC, VM_HUGEPAGE, VM_RAND_READ, VM_SEQ_READ, vm_flags_test } from './mm_types.js'
import {
  type ReadaheadControl,
  force_page_cache_ra,
  inode_to_bdi,
  noop_backing_dev_info,
  page_cache_async_ra,
  page_cache_ra_order,
  page_cache_sync_ra,
  page_test_readahead,
  readahead_control,
  readahead_folio_of,
} from './readahead.js'
import { add_to_page_cache } from './shmem.js'
import { put_page } from './rmap.js'

/** PAGEVEC_SIZE: the most folios one filemap_get_read_batch() returns. */
const PAGEVEC_SIZE = 31
/** MMAP_LOTSAMISS: past this many net mmap misses a file gets no read-around. */
export const MMAP_LOTSAMISS = 100
/** HPAGE_PMD_ORDER / HPAGE_PMD_NR on x86-64. */
const HPAGE_PMD_ORDER = 9
const HPAGE_PMD_NR = 512

/**
 * Kernel: filemap_get_read_batch(): the cached pages from index up to max,
 * stopping at a gap, after PAGEVEC_SIZE pages, or after a PG_readahead page.
 */
function filemap_get_read_batch(env: MmEnv, mapping: AddressSpace, index: number, max: number): number[] {
  const batch: number[] = []
  for (let i = index; i <= max && batch.length < PAGEVEC_SIZE; i++) {
    const pfn = mapping.i_pages.get(i)
    if (pfn === undefined) break
    batch.push(i)
    if (page_test_readahead(env, pfn)) break
  }
  return batch
}

/**
 * Kernel: filemap_get_pages(): the page indexes a read at pos, with count
 * bytes still wanted, copies next (at least the page at pos, which must be
 * below EOF), after any readahead they call for. null when memory ran out.
 * Each page of the batch is returned with a reference held (the batch's
 * folio_try_get()), so the reclaim its readahead may cause cannot take it
 * before it is copied: the caller drops them (filemap_put_batch()).
 */
export function filemap_get_pages(env: MmEnv, file: VmFile, pos: number, count: number): number[] | null {
  const mapping = file.f_mapping
  const index = Math.floor(pos / PAGE_SIZE)
  // "last_index": the page after the end of the request
  const last_index = Math.ceil((pos + count) / PAGE_SIZE)
  let batch = filemap_get_read_batch(env, mapping, index, last_index - 1)
  if (batch.length === 0 && mapping.backing === 'disk') {
    page_cache_sync_ra(readahead_control(env, file, index), last_index - index)
    batch = filemap_get_read_batch(env, mapping, index, last_index - 1)
    wait_on_page_read(env, mapping, index)
  }
  if (batch.length === 0) {
    // filemap_create_folio(): no readahead (tmpfs, or none possible): read the one page
    const pfn = add_to_page_cache(env, mapping, index)
    if (pfn < 0) return null
    env.pages.get_page(pfn)
    return [index]
  }
  for (const i of batch) env.pages.get_page(mapping.i_pages.get(i) as number)
  const last = batch[batch.length - 1]
  const pfn = mapping.i_pages.get(last) as number
  if (mapping.backing === 'disk' && page_test_readahead(env, pfn)) filemap_readahead(env, file, last, pfn, last_index)
  return batch
}

/** The end of a batch in filemap_read(): the references filemap_get_pages() took are dropped. */
export function filemap_put_batch(env: MmEnv, mapping: AddressSpace, batch: readonly number[]): void {
  for (const i of batch) put_page(env, mapping.i_pages.get(i) as number)
}

/** Kernel: filemap_readahead(): a read reached the PG_readahead page at index. */
function filemap_readahead(env: MmEnv, file: VmFile, index: number, pfn: number, last_index: number): void {
  const { head, nr } = readahead_folio_of(file.f_mapping, index)
  page_cache_async_ra(readahead_control(env, file, head), pfn, last_index - head, nr)
}

/** Where filemap_read() leaves the reader: ra->prev_pos is the byte after the last one copied. */
export function filemap_read_done(file: VmFile, last_pos: number): void {
  file.f_ra.prev_pos = last_pos
}

/**
 * Kernel: do_sync_mmap_readahead(): a fault missed the cache at pgoff of
 * vma's file. Returns true when readahead ran (the mmap lock was dropped
 * for it: the fault is retried).
 */
export function do_sync_mmap_readahead(env: MmEnv, vma: VmArea, pgoff: number): boolean {
  const file = vma.vm_file as VmFile
  const ra = file.f_ra
  const ractl = readahead_control(env, file, pgoff)
  const vm_flags = vma.vm_flags
  if (vm_flags_test(vm_flags, VM_HUGEPAGE)) {
    // even without readahead: two PMD-sized folios (one with MADV_RANDOM), the second one ahead
    ractl._index = Math.floor(pgoff / HPAGE_PMD_NR) * HPAGE_PMD_NR
    ra.size = vm_flags_test(vm_flags, VM_RAND_READ) ? HPAGE_PMD_NR : 2 * HPAGE_PMD_NR
    ra.async_size = HPAGE_PMD_NR
    ra.order = HPAGE_PMD_ORDER
    page_cache_ra_order(ractl, ra)
    return true
  }
  // MADV_RANDOM: no readahead, unless the mapping is executable (read below for VM_EXEC)
  if (vm_flags_test(vm_flags, VM_RAND_READ) && !vm_flags_test(vm_flags, VM_EXEC)) return false
  if (!ra.ra_pages) return false
  if (vm_flags_test(vm_flags, VM_SEQ_READ)) {
    page_cache_sync_ra(ractl, ra.ra_pages)
    return true
  }
  if (ra.mmap_miss < MMAP_LOTSAMISS * 10) ra.mmap_miss++
  // missing much more than hitting: read-around only hurts
  if (ra.mmap_miss > MMAP_LOTSAMISS) return false
  if (vm_flags_test(vm_flags, VM_EXEC)) {
    // exec_folio_order() is 0 on x86: from the page to the VMA's end, nothing ahead
    const start = vma.vm_pgoff
    const end = start + (vma.vm_end - vma.vm_start) / PAGE_SIZE
    ra.order = 0
    ra.start = Math.max(pgoff, start)
    ra.size = Math.min(ra.start + ra.ra_pages, end) - ra.start
    ra.async_size = 0
  } else {
    // read-around: ra_pages centred on the fault, the last quarter ahead
    ra.start = Math.max(0, pgoff - Math.floor(ra.ra_pages / 2))
    ra.size = ra.ra_pages
    ra.async_size = Math.floor(ra.ra_pages / 4)
    ra.order = 0
  }
  ractl._index = ra.start
  page_cache_ra_order(ractl, ra)
  return true
}

/**
 * Kernel: do_async_mmap_readahead(): a fault found the page at pgoff cached
 * (pfn). A hit makes mmap_miss smaller; a PG_readahead page starts the next
 * window. Returns true when readahead ran (the fault is retried).
 */
export function do_async_mmap_readahead(env: MmEnv, vma: VmArea, pgoff: number, pfn: number): boolean {
  const file = vma.vm_file as VmFile
  const ra = file.f_ra
  if (vm_flags_test(vma.vm_flags, VM_RAND_READ) || !ra.ra_pages) return false
  if (ra.mmap_miss) ra.mmap_miss--
  if (!page_test_readahead(env, pfn)) return false
  const { nr } = readahead_folio_of(file.f_mapping, pgoff)
  page_cache_async_ra(readahead_control(env, file, pgoff), pfn, ra.ra_pages, nr)
  return true
}

/**
 * Kernel: filemap_map_pages()'s mmap_miss update: the pages fault-around
 * mapped count as hits.
 */
export function filemap_map_pages_hits(file: VmFile, mapped: number): void {
  const ra = file.f_ra
  ra.mmap_miss = mapped >= ra.mmap_miss ? 0 : ra.mmap_miss - mapped
}

/**
 * Kernel: generic_fadvise(POSIX_FADV_WILLNEED) (also MADV_WILLNEED on a file
 * mapping and readahead(2)): read [offset, offset + len) now, whole pages
 * from the first to the last byte (len 0: to the end of the file's range),
 * as far as force_page_cache_ra() allows. Ignored on devices without
 * readahead (tmpfs).
 */
export function generic_fadvise_willneed(env: MmEnv, file: VmFile, offset: number, len: number): void {
  if (inode_to_bdi(file.f_mapping) === noop_backing_dev_info) return
  const LLONG_MAX = 2 ** 63 - 1
  let endbyte = offset + len
  if (!len || endbyte > LLONG_MAX) endbyte = LLONG_MAX
  else endbyte--
  const start_index = Math.floor(offset / PAGE_SIZE)
  const end_index = Math.floor(endbyte / PAGE_SIZE)
  const ractl: ReadaheadControl = readahead_control(env, file, start_index)
  force_page_cache_ra(ractl, end_index - start_index + 1)
}
