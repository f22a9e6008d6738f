/**
 * The swap fault: a PTE holding a swap entry is touched (Kernel:
 * mm/memory.c do_swap_page, should_try_to_free_swap).
 *
 * The folio comes from the swap cache (a minor fault), or is read: on a
 * SWP_SYNCHRONOUS_IO area (zram) whose slot only this PTE refers to,
 * straight into a new page that never enters the swap cache; otherwise
 * through the swap cache with readahead. A read is a major fault
 * (pgmajfault, the task's maj_flt). The PTE's reference on the slot is
 * dropped; a folio read around the cache frees its slot when it was the
 * last reference; a cached one leaves the cache when swap is over half full,
 * the VMA is locked, or a write fault finds it otherwise unused.
 *
 * The new PTE is writable at once when the page is certainly exclusive
 * (the swap PTE said so, or the page is fresh, or nothing else holds it);
 * a write fault on a page that is not gets the usual COW from the caller
 * (handle_mm_fault runs do_wp_page, as do_swap_page's end does).
 */
import { GFP_KERNEL } from './gfp.js'
import { MEMCG_RSS } from './memcontrol.js'
import { folio_add_lru, folio_refault } from './swap.js'
import { _PAGE_DIRTY, _PAGE_RW, _PAGE_SWP_UFFD_WP, _PAGE_UFFD_WP, pfn_pte, pte_swp_exclusive, pte_swp_offset, pte_swp_type, type PteVal } from '../arch/pte.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { GFP_HIGHUSER_MOVABLE } from './gfp.js'
import { get_mm_rss, MM_ANONPAGES, MM_SWAPENTS, VM_LOCKED, VM_WRITE, vm_flags_test, type MmStruct, type VmArea } from './mm_types.js'
import { PG_anon_exclusive, PG_mlocked, PG_swapbacked, PG_swapcache } from './page.js'
import { swap_read_folio } from './page_io.js'
import { anon_vma_prepare, folio_add_new_anon_rmap, put_page } from './rmap.js'
import { SWP_SYNCHRONOUS_IO, swp_entry } from './swap_h.js'
import { folio_free_swap, swap_cache_get_folio, swap_cache_get_shadow, swap_update_readahead, swapin_readahead } from './swap_state.js'
import { __swap_count, put_swap_folio, swap_free, swapcache_prepare, vm_swap_full } from './swapfile.js'
import { NODE_STAT } from './vmstat.js'
import { PGMAJFAULT } from './vm_event_item.js'
import { count_memcg_event_mm, MEMCG_PGMAJFAULT } from './memcontrol.js'

// VM_FAULT_* bits (memory.ts has them all; repeated here so memory.ts can import this file).
const VM_FAULT_OOM = 0x0001
const VM_FAULT_SIGBUS = 0x0002
const VM_FAULT_MAJOR = 0x0004

/** add_mm_counter()'s rss update (memory.ts), for the two counters a swap-in moves. */
function swapin_rss(mm: MmStruct): void {
  mm.rss_stat[MM_ANONPAGES]++
  mm.rss_stat[MM_SWAPENTS]--
  const rss = get_mm_rss(mm)
  if (rss > mm.hiwater_rss) mm.hiwater_rss = rss
}

/** Kernel: should_try_to_free_swap(). */
function should_try_to_free_swap(mm: MmStruct, vma: VmArea, pfn: number, write: boolean): boolean {
  const pages = mm.env.pages
  if (!pages.test(pfn, PG_swapcache)) return false
  if (vm_swap_full(mm.env) || vm_flags_test(vma.vm_flags, VM_LOCKED) || pages.test(pfn, PG_mlocked)) return true
  // Only the swap cache and this fault hold it: freeing the slot makes the page exclusive.
  return write && pages._refcount[pfn] === 2
}

/**
 * Kernel: do_swap_page(): bring in the page behind swap PTE `pte` at addr
 * of vma and map it, with `prot` (vma->vm_page_prot). Returns VM_FAULT_*
 * bits (VM_FAULT_MAJOR when it was read). The caller runs do_wp_page for
 * a write fault the new PTE does not allow.
 */
export function do_swap_page(mm: MmStruct, vma: VmArea, addr: number, pte: PteVal, write: boolean, prot: number): number {
  const env = mm.env
  const pages = env.pages
  const entry = swp_entry(pte_swp_type(pte), pte_swp_offset(pte))
  const si = env.swap.si_of(entry)
  // A swap entry of no area: print_bad_pte() in Linux, and the access gets SIGBUS.
  if (!si || pte_swp_offset(pte) >= si.max) return VM_FAULT_SIGBUS
  if (anon_vma_prepare(vma)) return VM_FAULT_OOM
  if (!mm.pgd.pte_alloc(addr / PAGE_SIZE)) return VM_FAULT_OOM
  let ret = 0
  let swapcache = -1
  let need_clear_cache = false
  let pfn = swap_cache_get_folio(env, entry)
  if (pfn >= 0) {
    pages.get_page(pfn)
    swap_update_readahead(env, pfn, vma, addr)
    swapcache = pfn
  } else {
    if (si.flags & SWP_SYNCHRONOUS_IO && __swap_count(env, entry) === 1) {
      // Skip the swap cache: a fresh page, SWAP_HAS_CACHE held only while it is read.
      pfn = env.alloc_pages(GFP_HIGHUSER_MOVABLE, 0)
      if (pfn < 0) return VM_FAULT_OOM
      // alloc_swap_folio(): charged to the entry's group (which may reclaim) before the slot is claimed.
      if (env.memcg.mem_cgroup_swapin_charge_folio(pfn, GFP_KERNEL, entry, mm.memcg) < 0) {
        put_page(env, pfn)
        return VM_FAULT_OOM
      }
      if (swapcache_prepare(env, entry) < 0) {
        put_page(env, pfn)
        return 0
      }
      need_clear_cache = true
      pages.set(pfn, PG_swapbacked)
      const shadow = swap_cache_get_shadow(env, entry)
      if (shadow) folio_refault(env, pfn, shadow)
      folio_add_lru(env, pfn)
      swap_read_folio(env, pfn, entry)
    } else {
      pfn = swapin_readahead(env, entry, vma, addr)
      if (pfn < 0) return VM_FAULT_OOM
      swapcache = pfn
    }
    ret = VM_FAULT_MAJOR
    env.vmstat.count_vm_event(PGMAJFAULT)
    count_memcg_event_mm(mm, MEMCG_PGMAJFAULT)
  }
  let exclusive = pte_swp_exclusive(pte)
  if (pfn !== swapcache) exclusive = true // a page nobody else can have seen
  swap_free(env, entry)
  if (swapcache >= 0 && should_try_to_free_swap(mm, vma, pfn, write)) folio_free_swap(env, pfn)
  swapin_rss(mm)
  let npte = pfn_pte(pfn, prot)
  if (pte & _PAGE_SWP_UFFD_WP) npte += _PAGE_UFFD_WP
  // Same reuse rule as do_wp_page(): certainly exclusive, or only our reference left.
  const reuse = exclusive || pages._refcount[pfn] === 1
  if (reuse && vm_flags_test(vma.vm_flags, VM_WRITE) && !(npte & _PAGE_UFFD_WP)) {
    npte |= _PAGE_RW
    if (write) npte |= _PAGE_DIRTY
  }
  if (pages.mapping[pfn] >= 0) {
    // A page read for this fault (or found in the cache, never mapped): a new anonymous page.
    folio_add_new_anon_rmap(env, pfn, vma, addr)
    if (!reuse) pages.clear(pfn, PG_anon_exclusive)
  } else {
    // folio_add_anon_rmap_pte(): still anonymous from before it was swapped out.
    if (++pages._mapcount[pfn] === 1) {
      env.vmstat.mod_node_page_state(NODE_STAT.nr_anon_pages, 1)
      env.memcg.mod_memcg_page_state(pfn, MEMCG_RSS, 1)
    }
    if (reuse) pages.set(pfn, PG_anon_exclusive)
  }
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) pages.set(pfn, PG_mlocked)
  mm.pgd.set(addr / PAGE_SIZE, npte)
  // The bypass read is done: the slot loses SWAP_HAS_CACHE (and is freed if nothing refers to it).
  if (need_clear_cache) put_swap_folio(env, entry)
  return ret
}
