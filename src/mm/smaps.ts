/**
 * The per-VMA memory statistics of /proc/<pid>/smaps, computed as
 * fs/proc/task_mmu.c does (smaps_pte_range, smaps_account,
 * smaps_page_accumulate), for the /proc formatters to print.
 *
 * A page counts as private when its refcount is 1 or its mapcount < 2;
 * Pss divides each page by its mapcount (fixed point, PSS_SHIFT 12);
 * dirty means PTE dirty or PG_dirty; LazyFree is an anonymous page without
 * PG_swapbacked that is clean; the zero page is not counted.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, type VmArea, VM_LOCKED, vm_flags_test } from './mm_types.js'
import { PG_dirty, PG_swapbacked, PG_referenced } from './page.js'
import { pte_dirty, pte_present, pte_young, vm_normal_page } from './memory.js'

export const PSS_SHIFT = 12

/** struct mem_size_stats (sizes in bytes; pss fields in bytes << PSS_SHIFT). */
export interface MemSizeStats {
  resident: number
  shared_clean: number
  shared_dirty: number
  private_clean: number
  private_dirty: number
  referenced: number
  anonymous: number
  lazyfree: number
  anonymous_thp: number
  shmem_thp: number
  file_thp: number
  swap: number
  shared_hugetlb: number
  private_hugetlb: number
  ksm: number
  pss: number
  pss_anon: number
  pss_file: number
  pss_shmem: number
  pss_dirty: number
  pss_locked: number
  swap_pss: number
}

export function empty_mss(): MemSizeStats {
  return {
    resident: 0, shared_clean: 0, shared_dirty: 0, private_clean: 0, private_dirty: 0, referenced: 0, anonymous: 0,
    lazyfree: 0, anonymous_thp: 0, shmem_thp: 0, file_thp: 0, swap: 0, shared_hugetlb: 0, private_hugetlb: 0, ksm: 0,
    pss: 0, pss_anon: 0, pss_file: 0, pss_shmem: 0, pss_dirty: 0, pss_locked: 0, swap_pss: 0,
  }
}

function accumulate(mss: MemSizeStats, anon: boolean, swapbacked: boolean, size: number, pss: number, dirty: boolean, locked: boolean, priv: boolean): void {
  mss.pss += pss
  if (anon) mss.pss_anon += pss
  else if (swapbacked) mss.pss_shmem += pss
  else mss.pss_file += pss
  if (locked) mss.pss_locked += pss
  if (dirty) {
    mss.pss_dirty += pss
    if (priv) mss.private_dirty += size
    else mss.shared_dirty += size
  } else if (priv) mss.private_clean += size
  else mss.shared_clean += size
}

/** Kernel: smap_gather_stats() for one VMA: walk its PTEs and account each mapped page. */
export function smaps_walk(mm: MmStruct, vma: VmArea, mss: MemSizeStats = empty_mss()): MemSizeStats {
  const pages = mm.env.pages
  const locked = vm_flags_test(vma.vm_flags, VM_LOCKED)
  mm.pgd.each(vma.vm_start / PAGE_SIZE, vma.vm_end / PAGE_SIZE, (_vpn, pte) => {
    if (!pte_present(pte)) return
    const pfn = vm_normal_page(vma, pte)
    if (pfn < 0) return
    const anon = pages.mapping[pfn] < 0
    const swapbacked = pages.test(pfn, PG_swapbacked)
    const pdirty = pages.test(pfn, PG_dirty)
    const dirty = pte_dirty(pte)
    if (anon) {
      mss.anonymous += PAGE_SIZE
      if (!swapbacked && !dirty && !pdirty) mss.lazyfree += PAGE_SIZE
    }
    mss.resident += PAGE_SIZE
    if (pte_young(pte) || pages.test(pfn, PG_referenced)) mss.referenced += PAGE_SIZE
    const d = dirty || pdirty
    if (pages._refcount[pfn] === 1) {
      accumulate(mss, anon, swapbacked, PAGE_SIZE, PAGE_SIZE * 2 ** PSS_SHIFT, d, locked, true)
      return
    }
    const mapcount = pages._mapcount[pfn]
    let pss = PAGE_SIZE * 2 ** PSS_SHIFT
    if (mapcount >= 2) pss = Math.floor(pss / mapcount)
    accumulate(mss, anon, swapbacked, PAGE_SIZE, pss, d, locked, mapcount < 2)
  })
  return mss
}

/** kB as /proc prints a byte count. */
export function kB(bytes: number): number {
  return Math.floor(bytes / 1024)
}

/** kB of a pss value (bytes << PSS_SHIFT). */
export function pss_kB(pss: number): number {
  return Math.floor(Math.floor(pss / 2 ** PSS_SHIFT) / 1024)
}
