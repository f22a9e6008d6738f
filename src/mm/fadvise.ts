/**
 * posix_fadvise(2) (Kernel: mm/fadvise.c generic_fadvise(); mm/truncate.c
 * mapping_try_invalidate(); mm/swap.c deactivate_file_folio()).
 *
 * RANDOM/SEQUENTIAL/NORMAL set the file's readahead mode; WILLNEED reads
 * ahead; DONTNEED writes dirty pages back, then drops the clean, unmapped
 * pages wholly inside the range (and the shadow entries there: a later
 * read is not a refault), and moves the ones it could not drop towards
 * reclaim. Files without a backing device (tmpfs) ignore the advice.
 */
import { EINVAL } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE, POSIX_FADV_NORMAL, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, POSIX_FADV_WILLNEED } from '../include/uapi/fcntl.js'
import { clear_shadow_entries } from './filemap_xa.js'
import { generic_fadvise_willneed } from './filemap.js'
import { lruvec_add_folio, lruvec_add_folio_tail, lruvec_del_folio } from './lruvec.js'
import { FMODE_RANDOM, type AddressSpace, type MmEnv, type VmFile } from './mm_types.js'
import { PG_active, PG_dirty, PG_lru, PG_reclaim, PG_referenced, PG_unevictable, PG_writeback } from './page.js'
import { inode_to_bdi, noop_backing_dev_info } from './readahead.js'
import { delete_from_page_cache } from './shmem.js'
import { filemap_fdatawrite_range } from './fs_writeback.js'
import { PGDEACTIVATE } from './vm_event_item.js'

/** FMODE_NOREUSE: POSIX_FADV_NOREUSE was given. */
export const FMODE_NOREUSE = 0x800000
const LLONG_MAX = 2 ** 63 - 1

/** Kernel: generic_fadvise(): 0 or -errno. */
export function generic_fadvise(env: MmEnv, file: VmFile, offset: number, len: number, advice: number): number {
  if (len < 0) return -EINVAL
  const mapping = file.f_mapping
  const bdi = inode_to_bdi(mapping)
  if (bdi === noop_backing_dev_info) return advice >= POSIX_FADV_NORMAL && advice <= POSIX_FADV_NOREUSE ? 0 : -EINVAL
  let endbyte = offset + len
  if (!len || endbyte > LLONG_MAX) endbyte = LLONG_MAX
  else endbyte--
  switch (advice) {
    case POSIX_FADV_NORMAL:
      file.f_ra.ra_pages = bdi.ra_pages
      file.f_mode &= ~(FMODE_RANDOM | FMODE_NOREUSE)
      return 0
    case POSIX_FADV_RANDOM:
      file.f_mode |= FMODE_RANDOM
      return 0
    case POSIX_FADV_SEQUENTIAL:
      file.f_ra.ra_pages = bdi.ra_pages * 2
      file.f_mode &= ~FMODE_RANDOM
      return 0
    case POSIX_FADV_WILLNEED:
      generic_fadvise_willneed(env, file, offset, len)
      return 0
    case POSIX_FADV_NOREUSE:
      file.f_mode |= FMODE_NOREUSE
      return 0
    case POSIX_FADV_DONTNEED: {
      // The dirty pages' writeback is started, not waited for: pages still under writeback stay cached.
      filemap_fdatawrite_range(env, mapping, Math.floor(offset / PAGE_SIZE), Math.floor(endbyte / PAGE_SIZE))
      // Only pages wholly inside the range: a partial page at either end may still be wanted.
      const start_index = Math.ceil(offset / PAGE_SIZE)
      let end_index = Math.floor(endbyte / PAGE_SIZE)
      if (endbyte !== LLONG_MAX && endbyte % PAGE_SIZE !== PAGE_SIZE - 1) end_index--
      if (end_index >= start_index) mapping_try_invalidate(env, mapping, start_index, end_index)
      return 0
    }
    default:
      return -EINVAL
  }
}

/**
 * Kernel: mapping_try_invalidate() (fadvise DONTNEED, and
 * invalidate_mapping_pages() for drop_caches): drop what can be dropped in
 * [start, end] with the shadow entries there; deactivate the rest. Returns
 * the pages dropped.
 */
export function mapping_try_invalidate(env: MmEnv, mapping: AddressSpace, start: number, end: number): number {
  const pages = env.pages
  let count = 0
  clear_shadow_entries(env, mapping, start, end)
  const indices = [...mapping.i_pages.keys()].filter((i) => i >= start && i <= end).sort((a, b) => a - b)
  for (const index of indices) {
    const pfn = mapping.i_pages.get(index)!
    // mapping_evict_folio(): a clean page nobody maps or holds goes; no shadow is left.
    if (!pages.test(pfn, PG_dirty) && !pages.test(pfn, PG_writeback) && pages._mapcount[pfn] === 0 && pages._refcount[pfn] === 1) {
      delete_from_page_cache(env, mapping, index)
      count++
      continue
    }
    deactivate_file_folio(env, pfn)
  }
  return count
}

/**
 * Kernel: deactivate_file_folio() (lru_deactivate_file): a page fadvise
 * could not drop goes to the inactive tail to be reclaimed next, or, dirty
 * or under writeback, to the inactive head marked for immediate reclaim.
 * Mapped pages are left alone.
 */
function deactivate_file_folio(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (!pages.test(pfn, PG_lru) || pages.test(pfn, PG_unevictable) || pages._mapcount[pfn] > 0) return
  const lruvec = env.memcg.folio_lruvec(pfn)
  const active = pages.test(pfn, PG_active)
  lruvec_del_folio(lruvec, pages, env.vmstat, pfn)
  pages.clear(pfn, PG_active)
  pages.clear(pfn, PG_referenced)
  if (pages.test(pfn, PG_writeback) || pages.test(pfn, PG_dirty)) {
    lruvec_add_folio(lruvec, pages, env.vmstat, pfn)
    pages.set(pfn, PG_reclaim)
  } else lruvec_add_folio_tail(lruvec, pages, env.vmstat, pfn)
  if (active) env.vmstat.count_vm_event(PGDEACTIVATE)
}
