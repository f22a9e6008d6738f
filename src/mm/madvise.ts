/**
 * madvise (Kernel: mm/madvise.c do_madvise, madvise_walk_vmas,
 * madvise_vma_behavior, madvise_dontneed_free, madvise_free_pte_range,
 * madvise_cold_or_pageout_pte_range, madvise_guard_install/remove;
 * mm/vmscan.c shrink_folio_list for what PAGEOUT reclaims).
 *
 * Unlike mprotect, madvise skips holes and reports ENOMEM at the end.
 * Flag advices go through vma_modify (merge or split); page advices act on
 * PTEs. MADV_PAGEOUT hands the pages to reclaim_pages() (vmscan.ts): with
 * swap on, anonymous pages go to swap; without, they stay. Clean lazy-free
 * pages are discarded, file pages unmapped (clean ones dropped).
 */
import { flags_union } from '../include/wide.js'
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmStruct,
  type VmArea,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_DROPPABLE,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_MAYBE_GUARD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_MERGEABLE,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_RAND_READ,
  VM_SEALED,
  VM_SEQ_READ,
  VM_SHARED,
  VM_SPECIAL,
  VM_WIPEONFORK,
  VM_WRITE,
  vm_flags_andnot,
  vm_flags_or,
  vm_flags_test,
  MM_SWAPENTS,
  vm_flags_and,
} from './mm_types.js'
import * as M from './mman.js'
import { find_vma, find_vma_prev, vma_modify } from './vma.js'
import { generic_fadvise_willneed } from './filemap.js'
import { BITS_PER_LONG } from './mmap.js'
import { type UlongArg, ul_add, ul_cmp_num, ul_offset_in_page, ul_page_align, ulong } from '../include/ulong.js'
import { anon_vma_prepare, put_page } from './rmap.js'
import {
  PTE_MARKER_GUARD,
  make_pte_marker,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  is_guard_pte_marker,
  pte_clear_flags,
  pte_present,
  vm_normal_page,
  vma_is_anonymous,
  zap_page_range_single,
} from './memory.js'
import { faultin_page_range } from './gup.js'
import { punch_hole } from './truncate.js'
import { folio_deactivate, folio_mark_lazyfree } from './swap.js'
import { PG_active, PG_dirty, PG_mlocked, PG_referenced, PG_swapbacked, PG_workingset } from './page.js'
import { EACCES, EAGAIN, EINVAL, ENOMEM, EPERM } from '../include/errno.js'
import { PGLAZYFREE } from './vm_event_item.js'
import { reclaim_pages } from './vmscan.js'
import { is_swap_pte, pte_swp_offset, pte_swp_type } from '../arch/pte.js'
import { is_pte_marker } from './swapops.js'
import { swp_entry } from './swap_h.js'
import { __read_swap_cache_async, free_swap_and_cache } from './swap_state.js'

const SPECIAL_HUGETLB = vm_flags_or(VM_SPECIAL, VM_HUGETLB)
const GUARD_REFUSED = vm_flags_or(SPECIAL_HUGETLB, VM_LOCKED)
const SHARED_MAYWRITE = vm_flags_or(VM_SHARED, VM_MAYWRITE)
const COLD_REFUSED = flags_union(VM_LOCKED, VM_PFNMAP, VM_HUGETLB)
const PFNMAP_LOCKED = vm_flags_or(VM_PFNMAP, VM_LOCKED)
const KSM_REFUSED = flags_union(VM_SHARED, VM_MAYSHARE, VM_SPECIAL, VM_HUGETLB)

const VALID = new Set([
  M.MADV_NORMAL, M.MADV_RANDOM, M.MADV_SEQUENTIAL, M.MADV_WILLNEED, M.MADV_DONTNEED, M.MADV_DONTNEED_LOCKED,
  M.MADV_FREE, M.MADV_COLD, M.MADV_PAGEOUT, M.MADV_POPULATE_READ, M.MADV_POPULATE_WRITE, M.MADV_MERGEABLE,
  M.MADV_UNMERGEABLE, M.MADV_HUGEPAGE, M.MADV_NOHUGEPAGE, M.MADV_COLLAPSE, M.MADV_DONTDUMP, M.MADV_DODUMP,
  M.MADV_WIPEONFORK, M.MADV_KEEPONFORK, M.MADV_GUARD_INSTALL, M.MADV_GUARD_REMOVE, M.MADV_REMOVE, M.MADV_DONTFORK,
  M.MADV_DOFORK, M.MADV_HWPOISON, M.MADV_SOFT_OFFLINE,
])

/** Kernel: is_discard(): advices refused on sealed read-only anonymous memory. */
function is_discard(behavior: number): boolean {
  return [M.MADV_FREE, M.MADV_DONTNEED, M.MADV_DONTNEED_LOCKED, M.MADV_REMOVE, M.MADV_DONTFORK, M.MADV_WIPEONFORK, M.MADV_GUARD_INSTALL].includes(behavior)
}

/** Kernel: can_madvise_modify(). */
function can_madvise_modify(vma: VmArea, behavior: number): boolean {
  if (!vm_flags_test(vma.vm_flags, VM_SEALED)) return true
  if (!is_discard(behavior)) return true
  if (!vma_is_anonymous(vma)) return true
  return vm_flags_test(vma.vm_flags, VM_WRITE)
}

/** Kernel: madvise_free_pte_range(): mark exclusive anonymous pages lazily freeable. */
function madvise_free_single_vma(mm: MmStruct, vma: VmArea, start: number, end: number): number {
  if (!vma_is_anonymous(vma)) return -EINVAL
  const env = mm.env
  const pages = env.pages
  let cleared = false
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    if (!pte_present(pte)) {
      // A swapped-out page is freed outright: the range reads zeros afterwards.
      if (!is_pte_marker(pte)) {
        mm.pgd.set(vpn, 0)
        mm.rss_stat[MM_SWAPENTS]--
        free_swap_and_cache(env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte)))
      }
      return
    }
    const pfn = vm_normal_page(vma, pte)
    if (pfn < 0 || pages.mapping[pfn] >= 0) return
    if (pages.test(pfn, PG_dirty)) {
      if (pages._mapcount[pfn] !== 1) return
      pages.clear(pfn, PG_dirty)
    }
    if (pte & (_PAGE_ACCESSED | _PAGE_DIRTY)) {
      mm.pgd.set(vpn, pte_clear_flags(pte, _PAGE_ACCESSED | _PAGE_DIRTY))
      cleared = true // tlb_remove_tlb_entry(): flushed once by tlb_finish_mmu()
    }
    // folio_mark_lazyfree()
    if (pages.test(pfn, PG_swapbacked) && !pages.test(pfn, PG_mlocked)) {
      folio_mark_lazyfree(env, pfn)
      env.vmstat.count_vm_event(PGLAZYFREE)
    }
  })
  if (cleared) env.flush_tlb_range(mm, start, end)
  return 0
}

/**
 * Kernel: madvise_cold_or_pageout_pte_range() + reclaim_pages(): age the
 * exclusively mapped pages; for PAGEOUT, reclaim them (reclaim_pages()).
 */
function cold_or_pageout(mm: MmStruct, vma: VmArea, start: number, end: number, pageout: boolean): void {
  const env = mm.env
  const pages = env.pages
  const list: { vpn: number; pfn: number }[] = []
  let aged = false
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    if (!pte_present(pte)) return
    const pfn = vm_normal_page(vma, pte)
    if (pfn < 0) return
    if (pages._mapcount[pfn] > 1) return
    if (pte & _PAGE_ACCESSED) {
      mm.pgd.set(vpn, pte_clear_flags(pte, _PAGE_ACCESSED))
      aged = true // tlb_remove_tlb_entry(): the CPU must walk (and set A) again
    }
    // The page's own reference goes too; an active page keeps the mark that it was in the workingset.
    pages.clear(pfn, PG_referenced)
    if (pages.test(pfn, PG_active)) pages.set(pfn, PG_workingset)
    if (pageout) list.push({ vpn, pfn })
    else folio_deactivate(env, pfn)
  })
  if (aged) env.flush_tlb_range(mm, start, end)
  if (!pageout) return
  // reclaim_pages(): each folio that is still mapped where it was found.
  const pfns: number[] = []
  for (const { vpn, pfn } of list) {
    const pte = mm.pgd.get(vpn)
    if (pte_present(pte) && vm_normal_page(vma, pte) === pfn) pfns.push(pfn)
  }
  reclaim_pages(env, pfns)
}

/** PMD_SIZE on x86-64: the span of one PTE table. */
const PMD_SIZE = 2 * 1024 * 1024
const PTRS_PER_PTE = 512

/**
 * Kernel: the reclaim_pt zap detail of MADV_DONTNEED (CONFIG_PT_RECLAIM,
 * x86-64 only): when the zapped range spans at least a PMD, each PTE table
 * it touched that is now wholly empty is freed (VmPTE drops; a later fault
 * allocates, and charges, a new one).
 */
function reclaim_pt(mm: MmStruct, start: number, end: number): void {
  if (end - start < PMD_SIZE || mm.env.arch.bits !== 64) return
  let freed = false
  for (let a = start - (start % PMD_SIZE); a < end; a += PMD_SIZE) freed = mm.pgd.reclaim_pte_table(a / PAGE_SIZE, PTRS_PER_PTE) || freed
  if (freed) mm.env.flush_tlb_range(mm, start, end, true)
}

/** Kernel: madvise_guard_install(). */
function madvise_guard_install(mm: MmStruct, vma: VmArea, start: number, end: number): number {
  if (vm_flags_test(vma.vm_flags, GUARD_REFUSED)) return -EINVAL
  vma.vm_flags = vm_flags_or(vma.vm_flags, VM_MAYBE_GUARD)
  if (vma_is_anonymous(vma) && anon_vma_prepare(vma)) return -ENOMEM
  zap_page_range_single(mm, vma, start, end, {})
  for (let a = start; a < end; a += PAGE_SIZE) {
    if (!is_guard_pte_marker(mm.pgd.get(a / PAGE_SIZE))) mm.pgd.set(a / PAGE_SIZE, make_pte_marker(PTE_MARKER_GUARD))
  }
  return 0
}

/** Kernel: madvise_guard_remove(). */
function madvise_guard_remove(mm: MmStruct, vma: VmArea, start: number, end: number): number {
  if (vm_flags_test(vma.vm_flags, SPECIAL_HUGETLB)) return -EINVAL
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    if (is_guard_pte_marker(pte)) mm.pgd.set(vpn, 0)
  })
  return 0
}

/** Kernel: madvise_remove(). */
function madvise_remove(mm: MmStruct, vma: VmArea, start: number, end: number): number {
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) return -EINVAL
  const f = vma.vm_file
  if (!f) return -EINVAL
  if (vm_flags_and(vma.vm_flags, SHARED_MAYWRITE) !== SHARED_MAYWRITE) return -EACCES
  const offset = start - vma.vm_start + vma.vm_pgoff * PAGE_SIZE
  punch_hole(mm.env, f.f_mapping, offset, end - start)
  return 0
}

/**
 * Kernel: madvise_willneed(): a disk file's range is read now
 * (POSIX_FADV_WILLNEED on the file, from the VMA's offset); anonymous
 * memory's swapped-out pages are read into the swap cache (shmem's are not
 * modelled).
 */
function madvise_willneed(mm: MmStruct, vma: VmArea, start: number, end: number): void {
  if (vma_is_anonymous(vma)) {
    // swapin_walk_pmd_entry(): read every swapped-out page of the range into the swap cache.
    const entries: number[] = []
    mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (_vpn, pte) => {
      if (is_swap_pte(pte) && !is_pte_marker(pte)) entries.push(swp_entry(pte_swp_type(pte), pte_swp_offset(pte)))
    })
    for (const e of entries) {
      const r = __read_swap_cache_async(mm.env, e)
      if (r.pfn >= 0) put_page(mm.env, r.pfn)
    }
    return
  }
  const file = vma.vm_file
  if (!file || file.f_mapping.backing !== 'disk') return
  const offset = start - vma.vm_start + vma.vm_pgoff * PAGE_SIZE
  generic_fadvise_willneed(mm.env, file, offset, end - start)
}

/** Kernel: madvise_vma_behavior(): apply one advice to [start, end) inside vma. Returns the VMA now covering the range or -errno. */
function madvise_vma_behavior(mm: MmStruct, vma: VmArea, start: number, end: number, behavior: number): VmArea | number {
  if (!can_madvise_modify(vma, behavior)) return -EPERM
  let new_flags = vma.vm_flags
  let r = 0
  switch (behavior) {
    case M.MADV_REMOVE:
      r = madvise_remove(mm, vma, start, end)
      return r || vma
    case M.MADV_WILLNEED:
      madvise_willneed(mm, vma, start, end)
      return vma
    case M.MADV_COLD:
    case M.MADV_PAGEOUT:
      if (vm_flags_test(vma.vm_flags, COLD_REFUSED)) return -EINVAL
      cold_or_pageout(mm, vma, start, end, behavior === M.MADV_PAGEOUT)
      return vma
    case M.MADV_FREE:
    case M.MADV_DONTNEED:
    case M.MADV_DONTNEED_LOCKED: {
      const forbidden = behavior !== M.MADV_DONTNEED_LOCKED ? PFNMAP_LOCKED : VM_PFNMAP
      if (vm_flags_test(vma.vm_flags, forbidden)) return -EINVAL
      if (behavior === M.MADV_FREE) r = madvise_free_single_vma(mm, vma, start, end)
      else {
        zap_page_range_single(mm, vma, start, end, { even_cows: true })
        reclaim_pt(mm, start, end)
      }
      return r || vma
    }
    case M.MADV_COLLAPSE:
      return -EINVAL
    case M.MADV_GUARD_INSTALL:
      r = madvise_guard_install(mm, vma, start, end)
      return r || vma
    case M.MADV_GUARD_REMOVE:
      r = madvise_guard_remove(mm, vma, start, end)
      return r || vma
    case M.MADV_NORMAL:
      new_flags = vm_flags_andnot(new_flags, vm_flags_or(VM_RAND_READ, VM_SEQ_READ))
      break
    case M.MADV_SEQUENTIAL:
      new_flags = vm_flags_or(vm_flags_andnot(new_flags, VM_RAND_READ), VM_SEQ_READ)
      break
    case M.MADV_RANDOM:
      new_flags = vm_flags_or(vm_flags_andnot(new_flags, VM_SEQ_READ), VM_RAND_READ)
      break
    case M.MADV_DONTFORK:
      new_flags = vm_flags_or(new_flags, VM_DONTCOPY)
      break
    case M.MADV_DOFORK:
      if (vm_flags_test(new_flags, VM_IO)) return -EINVAL
      new_flags = vm_flags_andnot(new_flags, VM_DONTCOPY)
      break
    case M.MADV_WIPEONFORK:
      if (vma.vm_file || vm_flags_test(new_flags, VM_SHARED)) return -EINVAL
      new_flags = vm_flags_or(new_flags, VM_WIPEONFORK)
      break
    case M.MADV_KEEPONFORK:
      if (vm_flags_test(new_flags, VM_DROPPABLE)) return -EINVAL
      new_flags = vm_flags_andnot(new_flags, VM_WIPEONFORK)
      break
    case M.MADV_DONTDUMP:
      new_flags = vm_flags_or(new_flags, VM_DONTDUMP)
      break
    case M.MADV_DODUMP:
      if (vm_flags_test(new_flags, VM_SPECIAL) || vm_flags_test(new_flags, VM_DROPPABLE)) return -EINVAL
      new_flags = vm_flags_andnot(new_flags, VM_DONTDUMP)
      break
    case M.MADV_MERGEABLE:
      // ksm_madvise(): only private, non-special, non-droppable memory qualifies; others are left alone.
      if (!vm_flags_test(new_flags, KSM_REFUSED) && !vm_flags_test(new_flags, VM_DROPPABLE)) {
        new_flags = vm_flags_or(new_flags, VM_MERGEABLE)
      }
      break
    case M.MADV_UNMERGEABLE:
      new_flags = vm_flags_andnot(new_flags, VM_MERGEABLE)
      break
    case M.MADV_HUGEPAGE:
      new_flags = vm_flags_or(vm_flags_andnot(new_flags, VM_NOHUGEPAGE), VM_HUGEPAGE)
      break
    case M.MADV_NOHUGEPAGE:
      new_flags = vm_flags_or(vm_flags_andnot(new_flags, VM_HUGEPAGE), VM_NOHUGEPAGE)
      break
    default:
      return -EINVAL
  }
  if (new_flags === vma.vm_flags) return vma
  // madvise_update_vma(): a split or merge short of kernel memory (slab, or vm.max_map_count)
  // is EAGAIN: "temporarily unavailable", as madvise(2) documents.
  const res = vma_modify(mm, vma, start, end, { vm_flags: new_flags })
  return res === -ENOMEM ? -EAGAIN : res
}

/**
 * Kernel: do_madvise(): the madvise system call (start and len_in are
 * unsigned longs, src/include/ulong.ts). 0 or -errno.
 */
export function do_madvise(mm: MmStruct, start_in: UlongArg, len_arg: UlongArg, behavior: number): number {
  const bits = BITS_PER_LONG(mm)
  const ustart = ulong(start_in, bits)
  const len_in = ulong(len_arg, bits)
  // is_valid_madvise(): a length rounding up past ULONG_MAX, or a range wrapping past 0, is EINVAL.
  if (!VALID.has(behavior)) return -EINVAL
  if (ul_offset_in_page(ustart)) return -EINVAL
  const len = ul_page_align(len_in, bits)
  if (len_in && !len) return -EINVAL
  const uend = ul_add(ustart, len, bits)
  if (uend < ustart) return -EINVAL
  if (uend === ustart) return 0
  // No VMA lies at or above 2^53: a start there finds none (ENOMEM), an end there is only
  // compared with VMA addresses.
  const start = ul_cmp_num(ustart)
  const end = ul_cmp_num(uend)
  if (behavior === M.MADV_HWPOISON || behavior === M.MADV_SOFT_OFFLINE) return -EPERM
  if (behavior === M.MADV_POPULATE_READ || behavior === M.MADV_POPULATE_WRITE) {
    return faultin_page_range(mm, start, end, behavior === M.MADV_POPULATE_WRITE)
  }
  let unmapped_error = 0
  let [vma] = find_vma_prev(mm, start)
  let s = start
  for (;;) {
    if (!vma) return -ENOMEM
    if (s < vma.vm_start) {
      unmapped_error = -ENOMEM
      s = vma.vm_start
      if (s >= end) break
    }
    const e = Math.min(vma.vm_end, end)
    const r = madvise_vma_behavior(mm, vma, s, e, behavior)
    if (typeof r === 'number') return r
    let re = e
    if (r.vm_end > re) re = r.vm_end
    if (re >= end) break
    s = re
    vma = find_vma(mm, s)
  }
  return unmapped_error
}
