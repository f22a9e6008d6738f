/**
 * cachestat(2) (Kernel: mm/filemap.c filemap_cachestat(), sys_cachestat()):
 * the page-cache state of a file range, read from its xarray alone: pages
 * cached, dirty (PAGECACHE_TAG_DIRTY: a disk file's dirty pages; shmem's
 * noop_dirty_folio never tags), under writeback, evicted (a shadow entry,
 * or a shmem page's swap entry) and, of those, recently evicted
 * (workingset_test_recent() of the shadow: would the page have stayed with
 * a larger inactive list?). A shmem page's swap entry counts as recently
 * evicted when the swap cache keeps a shadow for it.
 */
import { EINVAL } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { PG_dirty, PG_writeback } from './page.js'
import { swap_cache_get_shadow } from './swap_state.js'
import { workingset_test_recent } from './workingset.js'

/** struct cachestat. */
export interface Cachestat {
  nr_cache: number
  nr_dirty: number
  nr_writeback: number
  nr_evicted: number
  nr_recently_evicted: number
}

/** Kernel: filemap_cachestat() over page indexes [first, last]. */
export function filemap_cachestat(env: MmEnv, mapping: AddressSpace, first: number, last: number): Cachestat {
  const cs: Cachestat = { nr_cache: 0, nr_dirty: 0, nr_writeback: 0, nr_evicted: 0, nr_recently_evicted: 0 }
  const pages = env.pages
  for (const [index, pfn] of mapping.i_pages) {
    if (index < first || index > last) continue
    cs.nr_cache++
    if (mapping.backing === 'disk' && pages.test(pfn, PG_dirty)) cs.nr_dirty++
    if (pages.test(pfn, PG_writeback)) cs.nr_writeback++
  }
  const recent = (shadow: number): boolean => workingset_test_recent(env.memcg, shadow, true).recent
  for (const [index, shadow] of mapping.i_shadows) {
    if (index < first || index > last) continue
    cs.nr_evicted++
    if (recent(shadow)) cs.nr_recently_evicted++
  }
  for (const [index, entry] of mapping.i_swap) {
    if (index < first || index > last) continue
    cs.nr_evicted++
    const shadow = swap_cache_get_shadow(env, entry)
    if (shadow && recent(shadow)) cs.nr_recently_evicted++
  }
  return cs
}

/**
 * Kernel: sys_cachestat() after the descriptor lookup: EINVAL for flags
 * other than 0 (mmsim has no hugetlbfs, whose files are EOPNOTSUPP, and
 * every caller may look: can_do_cachestat()). The range is
 * [off, off + len), len 0 meaning to the end of the file's index space.
 */
export function sys_cachestat(env: MmEnv, mapping: AddressSpace, off: bigint, len: bigint, flags: number): Cachestat | number {
  if (flags !== 0) return -EINVAL
  const first = Number(off / BigInt(PAGE_SIZE))
  const last = len === 0n ? Infinity : Number(BigInt.asUintN(64, off + len - 1n) / BigInt(PAGE_SIZE))
  return filemap_cachestat(env, mapping, first, last)
}
