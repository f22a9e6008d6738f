/**
 * The swap cache (Kernel: mm/swap_state.c, mm/swap_table.h): the folios
 * that have a swap slot, found by their entry; the shadow entries reclaim
 * leaves behind; add_to_swap; and reading a slot in, with readahead.
 *
 * A folio in the swap cache has PG_swapcache, page->private = its entry,
 * and one reference held by the cache; its slot has SWAP_HAS_CACHE. It
 * counts in nr_swapcached and nr_file_pages (meminfo's SwapCached, and why
 * Cached subtracts it). Shadows are opaque numbers the workingset code
 * computes (0: none); a slot keeps its shadow until a folio is added for
 * it or the slot is freed.
 */
import { GFP_KERNEL } from './gfp.js'
import { folio_add_lru, folio_refault } from './swap.js'
import { GFP_HIGHUSER_MOVABLE } from './gfp.js'
import type { MmEnv, VmArea } from './mm_types.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { is_swap_pte, pte_swp_offset, pte_swp_type } from '../arch/pte.js'
import { is_pte_marker } from './swapops.js'
import { PG_dirty, PG_reclaim as PG_readahead, PG_swapbacked, PG_swapcache } from './page.js'
import { put_page } from './rmap.js'
import { swap_read_folio } from './page_io.js'
import { SWAP_HAS_CACHE, swp_entry, swp_offset, swp_type } from './swap_h.js'
import { get_swap_page_of_type, put_swap_folio, swap_count, swap_free, swapcache_prepare, vm_swap_full } from './swapfile.js'
import { NODE_STAT } from './vmstat.js'
import { SWAP_RA, SWAP_RA_HIT } from './vm_event_item.js'
import { KernelBug } from '../include/bug.js'

/** Kernel: swap_cache_get_folio() without the reference: the pfn cached for entry, or -1. */
export function swap_cache_get_folio(env: MmEnv, entry: number): number {
  const si = env.swap.si_of(entry)
  if (!si) return -1
  return si.cache[swp_offset(entry)] - 1
}

/** Kernel: swap_cache_get_shadow(): the shadow left at entry's slot (0 when none). */
export function swap_cache_get_shadow(env: MmEnv, entry: number): number {
  const si = env.swap.si_of(entry)
  return si ? si.shadow[swp_offset(entry)] : 0
}

/**
 * Kernel: swap_cache_add_folio(): put pfn in the swap cache at entry (whose
 * slot already has SWAP_HAS_CACHE). The cache takes a reference. Returns
 * the shadow that was there (the caller may hand it to workingset_refault).
 */
export function swap_cache_add_folio(env: MmEnv, pfn: number, entry: number): number {
  const si = env.swap.si_of(entry)
  const off = swp_offset(entry)
  if (!si || !(si.swap_map[off] & SWAP_HAS_CACHE) || si.cache[off] !== 0) throw new KernelBug(`swap_cache_add_folio: entry 0x${entry.toString(16)} cannot take pfn ${pfn}`)
  const pages = env.pages
  si.cache[off] = pfn + 1
  const shadow = si.shadow[off]
  si.shadow[off] = 0
  pages.get_page(pfn)
  pages.set(pfn, PG_swapcache)
  pages.set(pfn, PG_swapbacked)
  pages.private[pfn] = entry
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, 1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_swapcached, 1)
  return shadow
}

/**
 * Kernel: __swap_cache_del_folio() (__delete_from_swap_cache()): take pfn
 * out of the swap cache, leaving `shadow` (0 for none) in its slot. The
 * slot keeps SWAP_HAS_CACHE and the folio keeps the cache's reference: the
 * caller then calls put_swap_folio(entry) and drops the reference, as
 * __remove_mapping() does.
 */
export function __delete_from_swap_cache(env: MmEnv, pfn: number, entry: number, shadow: number): void {
  const si = env.swap.si_of(entry)
  const off = swp_offset(entry)
  if (!si || si.cache[off] !== pfn + 1) throw new KernelBug(`__delete_from_swap_cache: pfn ${pfn} is not cached at entry 0x${entry.toString(16)}`)
  si.cache[off] = 0
  si.shadow[off] = shadow
  const pages = env.pages
  pages.clear(pfn, PG_swapcache)
  pages.private[pfn] = 0
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, -1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_swapcached, -1)
}

/** Kernel: swap_cache_del_folio() (delete_from_swap_cache()): out of the cache, SWAP_HAS_CACHE and the cache's reference dropped. */
export function delete_from_swap_cache(env: MmEnv, pfn: number): void {
  const entry = env.pages.private[pfn]
  __delete_from_swap_cache(env, pfn, entry, 0)
  put_swap_folio(env, entry)
  put_page(env, pfn)
}

/**
 * Kernel: folio_alloc_swap() + swap_cache_add_folio() as add_to_swap() ran
 * them before 6.18's rename: give an anonymous folio a slot and put it in
 * the swap cache, dirty (it must be written before it can be dropped).
 * False when no slot is free.
 */
export function add_to_swap(env: MmEnv, pfn: number): boolean {
  if (env.pages.test(pfn, PG_swapcache)) throw new KernelBug(`add_to_swap: pfn ${pfn} is already in the swap cache`)
  const entry = get_swap_page_of_type(env)
  if (!entry) return false
  swap_cache_add_folio(env, pfn, entry)
  env.pages.set(pfn, PG_dirty)
  return true
}

/** Kernel: folio_swapped(): does any page table (or shmem) still refer to the folio's slot? */
export function folio_swapped(env: MmEnv, pfn: number): boolean {
  const entry = env.pages.private[pfn]
  const si = env.swap.si_of(entry)
  return si !== null && swap_count(si, swp_offset(entry)) > 0
}

/**
 * Kernel: folio_free_swap(): a swap-cache folio whose slot no page table
 * refers to any more leaves the cache and its slot is freed; the folio is
 * dirty again (its only copy is now in memory). True when freed.
 */
export function folio_free_swap(env: MmEnv, pfn: number): boolean {
  if (!env.pages.test(pfn, PG_swapcache)) return false
  if (folio_swapped(env, pfn)) return false
  delete_from_swap_cache(env, pfn)
  env.pages.set(pfn, PG_dirty)
  return true
}

/**
 * Kernel: __read_swap_cache_async(): the folio for entry, from the swap
 * cache or newly allocated, added to the cache and read. Returns the pfn
 * with a reference for the caller, and whether it was read now; -1 when the
 * slot is free (nothing to read) or no page could be had.
 */
export function __read_swap_cache_async(env: MmEnv, entry: number): { pfn: number; allocated: boolean } {
  const cached = swap_cache_get_folio(env, entry)
  if (cached >= 0) {
    env.pages.get_page(cached)
    return { pfn: cached, allocated: false }
  }
  // Nothing to read for a free slot; the page first (the allocation may reclaim), then the slot's claim.
  const si = env.swap.si_of(entry)
  if (!si || swap_count(si, swp_offset(entry)) === 0) return { pfn: -1, allocated: false }
  const pfn = env.alloc_pages(GFP_HIGHUSER_MOVABLE, 0)
  if (pfn < 0) return { pfn: -1, allocated: false }
  if (swapcache_prepare(env, entry) < 0) {
    put_page(env, pfn)
    return { pfn: -1, allocated: false }
  }
  // mem_cgroup_swapin_charge_folio(): the entry's group pays (the slot is claimed: no one else reads it).
  if (env.memcg.mem_cgroup_swapin_charge_folio(pfn, GFP_KERNEL, entry, null) < 0) {
    put_swap_folio(env, entry)
    put_page(env, pfn)
    return { pfn: -1, allocated: false }
  }
  env.pages.set(pfn, PG_swapbacked)
  // The allocation's reference is the caller's; the cache takes its own.
  const shadow = swap_cache_add_folio(env, pfn, entry)
  if (shadow) folio_refault(env, pfn, shadow)
  folio_add_lru(env, pfn)
  swap_read_folio(env, pfn, entry)
  return { pfn, allocated: true }
}

/** Kernel: __swapin_nr_pages(): the readahead window from the hits since the last one. */
export function __swapin_nr_pages(prev_offset: number, offset: number, hits: number, max_pages: number, prev_win: number): number {
  let pages = hits + 2
  if (pages === 2) {
    // No hits to go by: read ahead only when this fault is next to the last one.
    if (offset !== prev_offset + 1 && offset !== prev_offset - 1) pages = 1
  } else {
    let roundup = 4
    while (roundup < pages) roundup *= 2
    pages = roundup
  }
  if (pages > max_pages) pages = max_pages
  // Do not shrink the window faster than by half.
  const last_ra = Math.floor(prev_win / 2)
  if (pages < last_ra) pages = last_ra
  return pages
}

/** Kernel: swapin_nr_pages(). */
function swapin_nr_pages(env: MmEnv, offset: number): number {
  const s = env.swap
  const max_pages = 2 ** s.page_cluster
  if (max_pages <= 1) return 1
  const hits = s.readahead_hits
  s.readahead_hits = 0
  const pages = __swapin_nr_pages(s.ra_prev_offset, offset, hits, max_pages, s.ra_last_pages)
  if (!hits) s.ra_prev_offset = offset
  s.ra_last_pages = pages
  return pages
}

/** Kernel: swap_use_vma_readahead(): by address unless a rotational area is on. */
function swap_use_vma_readahead(env: MmEnv): boolean {
  return env.swap.nr_rotate_swap === 0
}

// vma->swap_readahead_info: the fault address (page aligned) | window << 6 | hits.
const SWAP_RA_WIN_SHIFT = 6
const SWAP_RA_HITS_MAX = 63
/** Kernel: GET_SWAP_RA_VAL(): a VMA that never swapped in starts with 4 hits (a first window of 8). */
function get_swap_ra_val(vma: VmArea): number {
  return vma.swap_readahead_info || 4
}
function swap_ra_val(addr: number, win: number, hits: number): number {
  return Math.floor(addr / PAGE_SIZE) * PAGE_SIZE + win * 2 ** SWAP_RA_WIN_SHIFT + hits
}

/**
 * Kernel: swap_update_readahead(): a fault found its folio in the swap
 * cache; when readahead brought it, count the hit (the next window grows):
 * in the VMA, or machine-wide for offset-based readahead.
 */
export function swap_update_readahead(env: MmEnv, pfn: number, vma: VmArea | null, addr: number): void {
  const pages = env.pages
  const readahead = pages.test(pfn, PG_readahead)
  if (readahead) pages.clear(pfn, PG_readahead)
  const vma_ra = swap_use_vma_readahead(env)
  if (vma && vma_ra) {
    const v = get_swap_ra_val(vma)
    const win = Math.floor(v / 2 ** SWAP_RA_WIN_SHIFT) % 64
    let hits = v % 64
    if (readahead) hits = Math.min(hits + 1, SWAP_RA_HITS_MAX)
    vma.swap_readahead_info = swap_ra_val(addr, win, hits)
  }
  if (readahead) {
    env.vmstat.count_vm_event(SWAP_RA_HIT)
    if (!vma || !vma_ra) env.swap.readahead_hits++
  }
}

/**
 * Kernel: swap_cluster_readahead(): read the aligned window of slots
 * around entry (their folios marked PG_readahead), then entry itself.
 */
function swap_cluster_readahead(env: MmEnv, entry: number): number {
  const si = env.swap.si_of(entry)
  if (!si) return -1
  const offset = swp_offset(entry)
  const mask = swapin_nr_pages(env, offset) - 1
  if (mask > 0) {
    let start = offset - (offset % (mask + 1))
    let end = start + mask
    if (start === 0) start = 1 // the header
    if (end >= si.max) end = si.max - 1
    const type = swp_type(entry)
    for (let off = start; off <= end; off++) read_ahead_one(env, swp_entry(type, off), off !== offset)
  }
  return __read_swap_cache_async(env, entry).pfn
}

function read_ahead_one(env: MmEnv, e: number, mark: boolean): void {
  const r = __read_swap_cache_async(env, e)
  if (r.pfn < 0) return
  if (r.allocated && mark) {
    env.pages.set(r.pfn, PG_readahead)
    env.vmstat.count_vm_event(SWAP_RA)
  }
  put_page(env, r.pfn)
}

/**
 * Kernel: swap_vma_ra_win() + swap_vma_readahead(): the window (from the
 * VMA's last fault and hits, vm.page-cluster at most) around the fault
 * address, forward or backward when the faults go one way, clipped to the
 * VMA and the page table; every swap PTE in it is read, then entry.
 */
function swap_vma_readahead(env: MmEnv, entry: number, vma: VmArea, addr: number): number {
  const max_win = 2 ** Math.min(env.swap.page_cluster, 5)
  const faddr = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE
  if (max_win > 1) {
    const v = get_swap_ra_val(vma)
    const prev_faddr = Math.floor(v / PAGE_SIZE) * PAGE_SIZE
    const prev_win = Math.floor(v / 2 ** SWAP_RA_WIN_SHIFT) % 64
    const hits = v % 64
    const win = __swapin_nr_pages(prev_faddr / PAGE_SIZE, faddr / PAGE_SIZE, hits, max_win, prev_win)
    vma.swap_readahead_info = swap_ra_val(faddr, win, 0)
    if (win > 1) {
      let left: number
      if (faddr === prev_faddr + PAGE_SIZE) left = faddr
      else if (prev_faddr === faddr + PAGE_SIZE) left = faddr - win * PAGE_SIZE + PAGE_SIZE
      else left = faddr - Math.floor((win - 1) / 2) * PAGE_SIZE
      const right = left + win * PAGE_SIZE
      if (left < 0) left = 0
      const PMD_SIZE = 512 * PAGE_SIZE
      const pmd = Math.floor(faddr / PMD_SIZE) * PMD_SIZE
      const start = Math.max(left, vma.vm_start, pmd)
      const end = Math.min(right, vma.vm_end, pmd + PMD_SIZE)
      const mm = vma.vm_mm
      for (let a = start; a < end; a += PAGE_SIZE) {
        const pte = mm.pgd.get(a / PAGE_SIZE)
        if (!is_swap_pte(pte) || is_pte_marker(pte)) continue
        read_ahead_one(env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte)), a !== faddr)
      }
    }
  }
  return __read_swap_cache_async(env, entry).pfn
}

/**
 * Kernel: swapin_readahead(): read entry's folio into the swap cache with
 * the pages around it: by address in the faulting VMA, or by swap offset
 * while a rotational area is on (nr_rotate_swap). Returns the folio with a
 * reference, or -1.
 */
export function swapin_readahead(env: MmEnv, entry: number, vma: VmArea | null, addr: number): number {
  return vma && swap_use_vma_readahead(env) ? swap_vma_readahead(env, entry, vma, addr) : swap_cluster_readahead(env, entry)
}

/**
 * Kernel: free_swap_and_cache() (free_swap_and_cache_nr(entry, 1)): a page
 * table lets go of entry (zap, MADV_FREE). When only the swap cache is left
 * on the slot and its folio is mapped nowhere (or swap is over half full),
 * the folio leaves the cache and the slot is freed.
 */
export function free_swap_and_cache(env: MmEnv, entry: number): void {
  const si = env.swap.si_of(entry)
  if (!si) return
  swap_free(env, entry)
  const off = swp_offset(entry)
  if (si.swap_map[off] !== SWAP_HAS_CACHE) return
  // __try_to_reclaim_swap(si, offset, TTRS_UNMAPPED | TTRS_FULL)
  const pfn = si.cache[off] - 1
  if (pfn < 0) return
  if (env.pages._mapcount[pfn] > 0 && !vm_swap_full(env)) return
  delete_from_swap_cache(env, pfn)
  env.pages.set(pfn, PG_dirty)
}
