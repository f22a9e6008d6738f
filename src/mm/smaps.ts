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
import { shmem_partial_swap_usage } from './shmem.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, type VmArea, VM_LOCKED, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, VM_WRITE, vm_flags_or, vm_flags_test } from './mm_types.js'
import { PG_dirty, PG_swapbacked, PG_referenced } from './page.js'
import { _PAGE_PRESENT, is_swap_pte, pte_dirty, pte_from_hw, pte_hw_pfn, pte_pfn, pte_present, pte_special, pte_swp_offset, pte_swp_type, pte_young, type PteLayout } from '../arch/pte.js'
import { is_pte_marker } from './swapops.js'
import { swp_entry } from './swap_h.js'
import { __swap_count } from './swapfile.js'
import { walk_page_range, type MmWalk, type MmWalkOps } from './pagewalk.js'

export const PSS_SHIFT = 12
/**
 * A whole page in Pss units (PAGE_SIZE << PSS_SHIFT), computed once: written
 * as `PAGE_SIZE * 2 ** PSS_SHIFT` in the page loop, V8 called pow() for
 * every page, 80 % of the loop's time (measured).
 */
const PAGE_PSS = PAGE_SIZE * 2 ** PSS_SHIFT

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

/** Add b's counters to a's (smaps_rollup's sum over the VMAs). */
export function mss_add(a: MemSizeStats, b: MemSizeStats): void {
  a.resident += b.resident
  a.shared_clean += b.shared_clean
  a.shared_dirty += b.shared_dirty
  a.private_clean += b.private_clean
  a.private_dirty += b.private_dirty
  a.referenced += b.referenced
  a.anonymous += b.anonymous
  a.lazyfree += b.lazyfree
  a.anonymous_thp += b.anonymous_thp
  a.shmem_thp += b.shmem_thp
  a.file_thp += b.file_thp
  a.swap += b.swap
  a.shared_hugetlb += b.shared_hugetlb
  a.private_hugetlb += b.private_hugetlb
  a.ksm += b.ksm
  a.pss += b.pss
  a.pss_anon += b.pss_anon
  a.pss_file += b.pss_file
  a.pss_shmem += b.pss_shmem
  a.pss_dirty += b.pss_dirty
  a.pss_locked += b.pss_locked
  a.swap_pss += b.swap_pss
}

/** VMAs whose ptes map no struct page (vm_normal_page() answers NULL for all). */
const VM_PFNMAP_MIXEDMAP = vm_flags_or(VM_PFNMAP, VM_MIXEDMAP)

/**
 * Kernel: smaps_pte_range() (the pmd_entry of smaps_walk_ops) with
 * smaps_pte_entry(), smaps_account() and smaps_page_accumulate() inlined:
 * account each mapped page of one pte table.
 *
 * Each slot is read as its two 32-bit halves and decided on the low one
 * (pte_none, pte_present, pte_special, pte_dirty, pte_young: every flag is
 * there); the PFN of a present entry comes from the halves (pte_hw_pfn), a
 * PROT_NONE entry's through pte_from_hw(). The sums are kept in locals and
 * added to `mss` once per table. Building a PteVal per slot and updating
 * the object per page took 2.7 times the CPU (512 MiB resident, rollup:
 * 6.0 ms against 2.2 ms, measured).
 */
function smaps_pte_range(walk: MmWalk<MemSizeStats>, ptes: DataView, off: number, addr: number, next: number): number {
  const vma = walk.vma as VmArea
  // vm_normal_page(): no page to count behind a VM_PFNMAP/VM_MIXEDMAP mapping or a special pte (the zero page).
  if (vm_flags_test(vma.vm_flags, VM_PFNMAP_MIXEDMAP)) return 0
  const pages = walk.mm.env.pages
  const { flags, mapping, _refcount, _mapcount } = pages
  const layout = walk.layout
  const size = walk.entry_size
  const stop = off + ((next - addr) / PAGE_SIZE) * size
  let resident = 0
  let anonymous = 0
  let lazyfree = 0
  let referenced = 0
  let shared_clean = 0
  let shared_dirty = 0
  let private_clean = 0
  let private_dirty = 0
  let pss = 0
  let pss_anon = 0
  let pss_shmem = 0
  let pss_file = 0
  let pss_dirty = 0
  for (let o = off; o < stop; o += size) {
    const lo = ptes.getUint32(o, true)
    // pte_none() and swap entries fall out here: neither has P or PROTNONE.
    if (!pte_present(lo) || pte_special(lo)) {
      if (lo !== 0) smaps_swap_entry(walk, ptes, o, size, layout)
      continue
    }
    const hi = size === 8 ? ptes.getUint32(o + 4, true) : 0
    const pfn = (lo & _PAGE_PRESENT) !== 0 ? pte_hw_pfn(lo, hi) : pte_pfn(pte_from_hw(lo, hi, layout))
    const pflags = flags[pfn]
    const anon = mapping[pfn] < 0
    const swapbacked = (pflags & (1 << PG_swapbacked)) !== 0
    const dirty = pte_dirty(lo) || (pflags & (1 << PG_dirty)) !== 0
    resident += PAGE_SIZE
    if (anon) {
      anonymous += PAGE_SIZE
      if (!swapbacked && !dirty) lazyfree += PAGE_SIZE
    }
    if (pte_young(lo) || (pflags & (1 << PG_referenced)) !== 0) referenced += PAGE_SIZE
    // Private, the whole page its Pss: nothing else holds the page (refcount 1), or it is mapped once.
    let page_pss = PAGE_PSS
    let priv = true
    if (_refcount[pfn] !== 1) {
      const mapcount = _mapcount[pfn]
      if (mapcount >= 2) {
        page_pss = Math.floor(PAGE_PSS / mapcount)
        priv = false
      }
    }
    // smaps_page_accumulate()
    pss += page_pss
    if (anon) pss_anon += page_pss
    else if (swapbacked) pss_shmem += page_pss
    else pss_file += page_pss
    if (dirty) {
      pss_dirty += page_pss
      if (priv) private_dirty += PAGE_SIZE
      else shared_dirty += PAGE_SIZE
    } else if (priv) private_clean += PAGE_SIZE
    else shared_clean += PAGE_SIZE
  }
  if (resident === 0) return 0
  const mss = walk.private
  mss.resident += resident
  mss.anonymous += anonymous
  mss.lazyfree += lazyfree
  mss.referenced += referenced
  mss.shared_clean += shared_clean
  mss.shared_dirty += shared_dirty
  mss.private_clean += private_clean
  mss.private_dirty += private_dirty
  mss.pss += pss
  mss.pss_anon += pss_anon
  mss.pss_shmem += pss_shmem
  mss.pss_file += pss_file
  mss.pss_dirty += pss_dirty
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) mss.pss_locked += pss
  return 0
}

/**
 * smaps_pte_entry()'s swap branch: Swap counts the page, SwapPss its share
 * among the page tables that refer to the slot (swp_swapcount()).
 */
function smaps_swap_entry(walk: MmWalk<MemSizeStats>, ptes: DataView, o: number, size: number, layout: PteLayout): void {
  const pte = pte_from_hw(ptes.getUint32(o, true), size === 8 ? ptes.getUint32(o + 4, true) : 0, layout)
  if (!is_swap_pte(pte) || is_pte_marker(pte)) return
  const mss = walk.private
  mss.swap += PAGE_SIZE
  const count = __swap_count(walk.mm.env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte)))
  mss.swap_pss += count >= 2 ? Math.floor(PAGE_PSS / count) : PAGE_PSS
}

/** Kernel: smaps_walk_ops. */
const smaps_walk_ops: MmWalkOps<MemSizeStats> = { pmd_entry: smaps_pte_range }

/**
 * Kernel: smap_gather_stats() for one VMA: walk its page tables
 * (walk_page_vma() with smaps_walk_ops) and add its pages to `mss`.
 */
export function smaps_walk(mm: MmStruct, vma: VmArea, mss: MemSizeStats = empty_mss()): MemSizeStats {
  const mapping = vma.vm_file?.f_mapping
  const shmem_swapped = mapping && mapping.backing === 'shmem' && mapping.i_swap.size ? shmem_swap_usage(vma) : 0
  walk_page_range(mm, vma.vm_start, vma.vm_end, smaps_walk_ops, mss, vma)
  if (!shmem_swapped) return mss
  // A shared or read-only shmem mapping: every swapped page of the object's range is its
  // own; a private writable one counts only the swapped pages no COW copy hides (pte holes).
  if (vm_flags_test(vma.vm_flags, VM_SHARED) || !vm_flags_test(vma.vm_flags, VM_WRITE)) mss.swap += shmem_swapped
  else {
    for (let a = vma.vm_start; a < vma.vm_end; a += PAGE_SIZE) {
      if (mm.pgd.get(a / PAGE_SIZE) === 0 && mapping!.i_swap.has(vma.vm_pgoff + (a - vma.vm_start) / PAGE_SIZE)) mss.swap += PAGE_SIZE
    }
  }
  return mss
}

/** Kernel: shmem_swap_usage(): bytes of the VMA's part of its shmem object that are on swap. */
function shmem_swap_usage(vma: VmArea): number {
  const mapping = vma.vm_file!.f_mapping
  const pages = (vma.vm_end - vma.vm_start) / PAGE_SIZE
  if (vma.vm_pgoff === 0 && vma.vm_end - vma.vm_start >= mapping.i_size) return mapping.i_swap.size * PAGE_SIZE
  return shmem_partial_swap_usage(mapping, vma.vm_pgoff, vma.vm_pgoff + pages - 1)
}

/** kB as /proc prints a byte count. */
export function kB(bytes: number): number {
  return Math.floor(bytes / 1024)
}

/** kB of a pss value (bytes << PSS_SHIFT). */
export function pss_kB(pss: number): number {
  return Math.floor(Math.floor(pss / 2 ** PSS_SHIFT) / 1024)
}
