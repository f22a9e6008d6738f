/**
 * Unmapping a folio from every page table that maps it, for reclaim
 * (Kernel: mm/rmap.c try_to_unmap, try_to_unmap_one).
 *
 * Each PTE is cleared and flushed; its dirty bit moves to the folio.
 *  - An anonymous folio in the swap cache leaves its swap entry in the PTE
 *    (one more reference on the slot per PTE; the exclusive bit when the
 *    page was PG_anon_exclusive, which it then stops being); the mm counts
 *    it in MM_SWAPENTS instead of MM_ANONPAGES and joins swapoff's mmlist.
 *  - A lazily freed (MADV_FREE) folio is discarded when clean and, unless
 *    the VMA is droppable, kept when it was written to since.
 *  - A file folio's PTE is simply cleared (the page cache keeps it).
 * A VM_LOCKED mapping stops the walk: mlocked pages are not reclaimed.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { _PAGE_SWP_EXCLUSIVE, _PAGE_SWP_UFFD_WP, _PAGE_UFFD_WP, pte_dirty, swp_entry_to_pte } from '../arch/pte.js'
import { MM_ANONPAGES, MM_SWAPENTS, VM_DROPPABLE, VM_LOCKED, vm_flags_test, type MmEnv } from './mm_types.js'
import { PG_anon_exclusive, PG_dirty, PG_mlocked, PG_swapbacked, PG_swapcache } from './page.js'
import { folio_remove_rmap_pte, put_page, rmap_walk } from './rmap.js'
import { swp_offset, swp_type } from './swap_h.js'
import { swap_duplicate } from './swapfile.js'
import { add_mm_counter, mm_counter } from './memory.js'
import { set_page_dirty } from './page_writeback.js'

/**
 * Kernel: try_to_unmap(folio, 0): unmap pfn everywhere. True when no
 * mapping is left (folio_mapped() is false); false when a VM_LOCKED VMA,
 * a dirty lazy-free page or a slot that cannot take another reference
 * stopped it.
 */
export function try_to_unmap(env: MmEnv, pfn: number): boolean {
  const pages = env.pages
  const anon = pages.mapping[pfn] < 0
  const swapbacked = pages.test(pfn, PG_swapbacked)
  if (anon && swapbacked && !pages.test(pfn, PG_swapcache)) return false // no slot to point at (WARN in Linux)
  let ok = true
  rmap_walk(env, pfn, (vma, addr, pte) => {
    const mm = vma.vm_mm
    const vpn = addr / PAGE_SIZE
    if (vm_flags_test(vma.vm_flags, VM_LOCKED)) {
      // mlock_vma_folio(): restore the mlock a racing munlock may have dropped.
      pages.set(pfn, PG_mlocked)
      ok = false
      return false
    }
    // ptep_clear_flush()
    mm.pgd.set(vpn, 0)
    env.flush_tlb_range(mm, addr, addr + PAGE_SIZE)
    // folio_mark_dirty(): a file page's dirtying is accounted (and its inode queued for the flusher)
    if (pte_dirty(pte)) {
      if (anon) pages.set(pfn, PG_dirty)
      else set_page_dirty(env, pfn)
    }
    if (anon) {
      if (!swapbacked) {
        // MADV_FREE: a page written since cannot be dropped (unless the VMA is droppable).
        if (pages.test(pfn, PG_dirty) && !vm_flags_test(vma.vm_flags, VM_DROPPABLE)) {
          mm.pgd.set(vpn, pte)
          pages.set(pfn, PG_swapbacked)
          ok = false
          return false
        }
        add_mm_counter(mm, MM_ANONPAGES, -1)
      } else {
        const entry = pages.private[pfn]
        if (swap_duplicate(env, entry) < 0) {
          mm.pgd.set(vpn, pte)
          ok = false
          return false
        }
        // folio_try_share_anon_rmap_pte(): the swap PTE carries the exclusivity instead.
        const exclusive = pages.test(pfn, PG_anon_exclusive)
        if (exclusive) pages.clear(pfn, PG_anon_exclusive)
        env.swap.mmlist.add(mm)
        add_mm_counter(mm, MM_ANONPAGES, -1)
        add_mm_counter(mm, MM_SWAPENTS, 1)
        let swp = swp_entry_to_pte(swp_type(entry), swp_offset(entry))
        if (exclusive) swp += _PAGE_SWP_EXCLUSIVE
        if (pte & _PAGE_UFFD_WP) swp += _PAGE_SWP_UFFD_WP
        mm.pgd.set(vpn, swp)
      }
    } else {
      add_mm_counter(mm, mm_counter(mm, pfn), -1)
    }
    folio_remove_rmap_pte(env, pfn)
    put_page(env, pfn)
    return true
  })
  return ok && pages._mapcount[pfn] === 0
}
