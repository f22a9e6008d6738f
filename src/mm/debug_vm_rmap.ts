/**
 * The page-table side of the rmap counts, recounted (Kernel: the
 * VM_BUG_ON_FOLIO(folio_mapcount() ...) checks of mm/rmap.c and
 * check_mm()'s "BUG: Bad rss-counter state" in kernel/fork.c): every
 * present PTE of every live mm that maps a normal page (not the zero page,
 * not a VM_PFNMAP frame: both carry _PAGE_SPECIAL) is one map count of that
 * page and one reference on it, and a page nobody maps has map count 0.
 * Why: a fault or fork that takes a reference and a map count and then
 * fails to set the PTE leaves counts no page table explains; nothing else
 * notices until the page is never freed.
 */
import { KernelBug } from '../include/bug.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { _PAGE_SPECIAL, pte_pfn, pte_present } from '../arch/pte.js'
import type { MmStruct } from './mm_types.js'
import type { PageArray } from './page.js'

/** Per-PFN PTE counts of a checker run, reused (zeroed) from one run to the next on the same machine. */
const count_buffers = new WeakMap<PageArray, Int32Array>()

/**
 * `nonpresent`, when given, receives every mm's non-present entries as
 * (vpn, pte) pairs: check_swap() recounts the swap entries from them instead
 * of walking every page table a second time.
 */
export function check_rmap_counts(pages: PageArray, mms: Iterable<MmStruct>, nonpresent?: Map<MmStruct, number[]>): void {
  const nr = pages.nr
  let mapped = count_buffers.get(pages)
  if (mapped) mapped.fill(0)
  else count_buffers.set(pages, (mapped = new Int32Array(nr)))
  const counts = mapped
  // The frames in the order the walks first met them (the order of the report below).
  const order: number[] = []
  for (const mm of mms) {
    const other: number[] = []
    nonpresent?.set(mm, other)
    if (mm.pgd.nr_ptes === 0) continue
    mm.pgd.each(0, Math.ceil(mm.task_size / PAGE_SIZE), (vpn, pte) => {
      if (!pte_present(pte)) {
        if (nonpresent) other.push(vpn, pte)
        return
      }
      if (pte & _PAGE_SPECIAL) return
      const pfn = pte_pfn(pte)
      if (pfn >= nr) return // a frame without a struct page (ioremapped memory)
      if (counts[pfn]++ === 0) order.push(pfn)
    })
  }
  const mapcount = pages._mapcount
  const refcount = pages._refcount
  for (const pfn of order) {
    const n = counts[pfn]
    if (mapcount[pfn] !== n) throw new KernelBug(`check_rmap_counts: pfn 0x${pfn.toString(16)} is mapped by ${n} PTEs but has mapcount ${mapcount[pfn]}`)
    if (refcount[pfn] < n) throw new KernelBug(`check_rmap_counts: pfn 0x${pfn.toString(16)} is mapped by ${n} PTEs but has refcount ${refcount[pfn]}`)
  }
  for (let pfn = 0; pfn < nr; pfn++) {
    if (mapcount[pfn] > 0 && counts[pfn] === 0) {
      throw new KernelBug(`check_rmap_counts: pfn 0x${pfn.toString(16)} has mapcount ${mapcount[pfn]} but no PTE maps it`)
    }
  }
}
