/**
 * Explanations of a page fault (mmsim's, for `--explain`; no kernel
 * counterpart): how the address splits into page-table indices and which
 * level was missing, which handler ran and why (do_anonymous_page and the
 * zero page, a page-cache hit or miss, a swap-in), whether the fault was
 * minor or major, and why a write to a read-only PTE reused the page
 * (wp_page_reuse) or copied it (wp_page_copy).
 *
 * handle_mm_fault() calls fault_xp_begin() before it changes anything and
 * fault_xp_end() after, only while someone listens: the verdicts are read
 * from the state before the fault and checked against the state after it.
 */
import { pte_pfn, pte_present, pte_write, pte_swp_offset, pte_swp_type, type PteVal } from '../arch/pte.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmStruct, type VmArea, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, vm_flags_test } from './mm_types.js'
import { PG_anon_exclusive, PG_swapcache } from './page.js'
import { linear_page_index } from './rmap.js'
import { find_get_page } from './shmem.js'
import { swap_cache_get_folio } from './swap_state.js'
import { swp_entry } from './swap_h.js'
import { is_pte_marker } from './swapops.js'

/** VM_FAULT_MAJOR (memory.ts has the whole set; this file must not import it). */
const VM_FAULT_MAJOR = 0x0004

/** What fault_xp_end needs of the state before the fault. */
export interface FaultXp {
  readonly addr: number
  readonly write: boolean
  readonly pte: PteVal
  /** The index at each level, e.g. "pgd 255, pud 500, pmd 145, pte 325, offset 0x678". */
  readonly split: string
  /** Levels whose entry was present on the way down (the last may be the pte itself). */
  readonly present: readonly string[]
  /** The handler that runs and why, decided from the state before the fault. */
  readonly path: string
  readonly cow: string | null
}

function hex(n: number): string {
  return `0x${n.toString(16)}`
}

function vma_text(vma: VmArea): string {
  const f = vma.vm_flags
  const perms = `${vm_flags_test(f, VM_READ) ? 'r' : '-'}${vm_flags_test(f, VM_WRITE) ? 'w' : '-'}${vm_flags_test(f, VM_EXEC) ? 'x' : '-'}${vm_flags_test(f, VM_SHARED) ? 's' : 'p'}`
  const what = vma.vm_ops?.fault ? 'driver/special' : vma.vm_file && !vma.vm_anonymous ? 'file' : 'anon'
  return `[${hex(vma.vm_start)}-${hex(vma.vm_end)}) ${perms} ${what}`
}

/** The state before the fault, and the handler the state selects (handle_pte_fault's dispatch). */
export function fault_xp_begin(mm: MmStruct, vma: VmArea, addr: number, write: boolean, pte: PteVal, anonymous: boolean): FaultXp {
  const pt = mm.pgd.pgtables
  const names = pt.arch.level_names
  const split = `${names.map((n, lv) => `${n} ${pt.index_of(lv, addr)}`).join(', ')}`
  const walk = pt.walk_levels(mm.pgd.mm, addr)
  const present = walk.filter((st) => (st.val & 1) !== 0).map((st) => st.level)
  const env = mm.env
  const pages = env.pages
  let path: string
  let cow: string | null = null
  if (pte === 0) {
    if (vma.vm_ops?.fault) path = `no PTE, the VMA has vm_ops->fault: the driver's handler supplies the page`
    else if (anonymous) path = write ? 'no PTE in an anonymous VMA, a write: do_anonymous_page allocates a zeroed page' : 'no PTE in an anonymous VMA, a read: do_anonymous_page maps the shared zero page read-only (no memory used until a write)'
    else if (!vma.vm_file) path = 'no PTE in a VMA without a page source'
    else if (vma.vm_file.f_mmap !== undefined && !vma.vm_anonymous) path = 'no PTE in a device VMA without vm_ops->fault: the driver mapped what it meant to at mmap, so SIGBUS'
    else {
      const index = linear_page_index(vma, addr)
      const hit = find_get_page(vma.vm_file.f_mapping, index) >= 0
      const cache = hit ? `page-cache hit at index ${index}` : `page-cache miss at index ${index} (the page is read or allocated)`
      if (!write) path = `no PTE in a file VMA, a read: do_read_fault, ${cache}`
      else if (!vm_flags_test(vma.vm_flags, VM_SHARED)) path = `no PTE in a private file VMA, a write: do_cow_fault copies the file page into a new anonymous page, ${cache}`
      else path = `no PTE in a shared file VMA, a write: do_shared_fault maps the page-cache page writable and dirties it, ${cache}`
    }
  } else if (!pte_present(pte)) {
    if (is_pte_marker(pte)) path = 'a PTE marker (guard region or poisoned): no page to map'
    else {
      const entry = swp_entry(pte_swp_type(pte), pte_swp_offset(pte))
      const cached = swap_cache_get_folio(env, entry)
      path = `a swap entry (type ${pte_swp_type(pte)}, offset ${hex(pte_swp_offset(pte))}): do_swap_page, ${cached >= 0 ? `found in the swap cache at pfn ${hex(cached)} (no I/O)` : 'not in the swap cache: read from the swap device'}`
    }
  } else if (write && !pte_write(pte)) {
    path = 'a write to a present read-only PTE: do_wp_page'
    const page = pte_pfn(pte) < pages.nr ? pte_pfn(pte) : -1
    if (vm_flags_test(vma.vm_flags, VM_SHARED)) cow = `shared mapping: wp_page_shared/wp_page_reuse makes the PTE of pfn ${hex(pte_pfn(pte))} writable in place (no copy)`
    else if (page === env.zero_pfn) cow = 'the PTE maps the shared zero page: wp_page_copy gives a new zeroed page'
    else if (page >= 0 && pages.mapping[page] < 0) {
      const state = `mapcount ${pages._mapcount[page]}, refcount ${pages._refcount[page]}${pages.test(page, PG_anon_exclusive) ? ', PageAnonExclusive' : ''}${pages.test(page, PG_swapcache) ? ', in the swap cache' : ''}`
      const reuse = pages.test(page, PG_anon_exclusive) || (pages._refcount[page] === 1 && pages._mapcount[page] === 1) ||
        (pages.test(page, PG_swapcache) && pages._refcount[page] === 2 && pages._mapcount[page] === 1)
      cow = reuse
        ? `anonymous pfn ${hex(page)} is ours alone (${state}): wp_page_reuse makes the PTE writable, no copy`
        : `anonymous pfn ${hex(page)} is shared (${state}, e.g. after fork): wp_page_copy copies it to a new page`
    } else cow = `pfn ${hex(pte_pfn(pte))} is a file page in a private mapping: wp_page_copy copies it to a new anonymous page`
  } else path = `the PTE is present and allows the access (spurious, or a stale TLB entry): only the accessed${write ? '/dirty' : ''} bits are set`
  return { addr, write, pte, split, present, path, cow }
}

/** The explanations of one fault, from the state before it and the PTE after it. */
export function fault_xp_end(mm: MmStruct, vma: VmArea, x: FaultXp, ret: number, error: boolean): void {
  const tr = mm.env.trace
  const pt = mm.pgd.pgtables
  const names = pt.arch.level_names
  const after = pt.walk_levels(mm.pgd.mm, x.addr)
  const made = after.filter((_, i) => i > 0 && !x.present.includes(after[i - 1].level)).map((st) => `${st.level} table pfn ${hex(st.table_pfn)}`)
  const missing = names.slice(0, -1).find((n) => !x.present.includes(n))
  tr.explain('pgtable', () =>
    `${hex(x.addr)}: ${x.split}, offset ${hex(x.addr % PAGE_SIZE)}; ` +
    (missing === undefined ? 'every table level present' : `${x.present.length ? `entries present down to the ${x.present[x.present.length - 1]}` : 'no entry present'}, the ${missing} entry was empty`) +
    (made.length ? `; allocated ${made.join(', ')}` : ''),
  )
  const npte = mm.pgd.get(x.addr / PAGE_SIZE)
  const now = pte_present(npte) ? `now pfn ${hex(pte_pfn(npte))}${pte_pfn(npte) === mm.env.zero_pfn ? ' (the zero page)' : ''} ${pte_write(npte) ? 'writable' : 'read-only'}` : 'no page mapped'
  const kind = error ? 'failed' : ret & VM_FAULT_MAJOR ? 'major (waited for I/O)' : 'minor (no I/O)'
  tr.explain('fault', () => `${x.write ? 'write' : 'read'} fault at ${hex(x.addr)} in ${vma_text(vma)}: ${x.path}; ${now}; ${kind}`)
  if (x.cow) {
    const cow = x.cow
    const copied = pte_present(npte) && pte_pfn(npte) !== pte_pfn(x.pte)
    tr.explain('cow', () => `${cow}; ${copied ? `copied to pfn ${hex(pte_pfn(npte))}` : error ? 'failed' : `pfn ${hex(pte_pfn(npte))} reused`}`)
  }
}
