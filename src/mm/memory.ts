/**
 * Page faults, copy-on-write, zapping and fork's page-table copy
 * (Kernel: mm/memory.c, arch/x86/mm/fault.c, mm/filemap.c fault-around).
 *
 * PTE words use the x86 layout: pfn * 4096 + flag bits (P, RW, US, A, D and
 * the software SPECIAL bit for the zero page). A non-present non-zero entry
 * is a swap entry (swap_fault.ts brings its page in) or a PTE marker (only
 * the guard marker exists here).
 *
 * Invariants kept exact:
 *  - every present PTE of a normal page holds one page reference and one
 *    mapcount; the zero page is SPECIAL and holds neither;
 *  - mm.rss_stat counts MM_ANONPAGES / MM_FILEPAGES / MM_SHMEMPAGES per PTE,
 *    MM_SWAPENTS per swap PTE (each holds one reference on its slot);
 *  - a private writable PTE is writable only when its anonymous page is
 *    exclusive (PG_anon_exclusive), so COW is never skipped.
 */
import { fault_dirty_shared_page } from './page_writeback_throttle.js'
import { COST_NS } from '../hw/clock.js'
import { SIGNAL_GROUP_EXIT } from '../include/resource.js'
import { folio_add_lru } from './swap.js'
import { EFAULT, EIO, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmStruct,
  type VmArea,
  type VmFile,
  type VmFault,
  MM_ANONPAGES,
  MM_FILEPAGES,
  MM_SHMEMPAGES,
  MM_SWAPENTS,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_SHARED,
  VM_WRITE,
  VM_EXEC,
  VM_PFNMAP,
  VM_MIXEDMAP,
  VM_MAYBE_GUARD,
  get_mm_rss,
  is_cow_mapping,
  vm_flags_test,
  VM_ACCESS_FLAGS,
  VM_NONE,
  vm_flags_and,
  vm_flags_andnot,
  vm_flags_or,
} from './mm_types.js'
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_ZERO } from './gfp.js'
import { PG_anon_exclusive, PG_mlocked, PG_swapbacked, PG_swapcache, PG_dirty } from './page.js'
import { anon_vma_prepare, folio_add_file_rmap_pte, folio_add_new_anon_rmap, folio_dup_anon_rmap_pte, folio_remove_rmap_pte, linear_page_index, page_locked_elsewhere, put_page } from './rmap.js'
import { find_vma, vma_prev, vma_iter_store, vm_stat_account } from './vma.js'
import { PAGE_ENOSPC, PAGE_EOF, shmem_get_page, set_page_dirty } from './shmem.js'
import { do_async_mmap_readahead, do_sync_mmap_readahead, filemap_map_pages_hits } from './filemap.js'
import { page_test_readahead } from './readahead.js'
import { security_vm_enough_memory_mm, may_expand_vm, mlock_future_ok, rlimit } from './util.js'
import { RLIMIT_STACK } from '../include/resource.js'
import { KernelBug } from '../include/bug.js'
import {
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_SPECIAL,
  _PAGE_NX,
  pte_pfn,
  pte_present,
  pte_write,
  pte_dirty,
  pte_special,
  pte_set_flags,
  pte_clear_flags,
  pfn_pte as mk_pte,
  vm_get_page_prot,
  pte_swp_type,
  pte_swp_offset,
  pte_swp_exclusive,
  pte_swp_clear_exclusive,
} from '../arch/pte.js'
import { is_guard_pte_marker, is_pte_marker } from './swapops.js'
import { do_swap_page } from './swap_fault.js'
import { fault_xp_begin, fault_xp_end } from './fault_explain.js'
import { folio_free_swap, free_swap_and_cache } from './swap_state.js'
import { swap_duplicate } from './swapfile.js'
import { swp_entry } from './swap_h.js'
import { tlb_adjust_range, type MmuGather } from './mmu_gather.js'
import { PGFAULT, PGMAJFAULT } from './vm_event_item.js'
import { count_memcg_event_mm, MEMCG_PGFAULT, MEMCG_PGMAJFAULT } from './memcontrol.js'

const WRITE_SHARED = vm_flags_or(VM_WRITE, VM_SHARED)
const PFNMAP_MIXEDMAP = vm_flags_or(VM_PFNMAP, VM_MIXEDMAP)
/** VMAs whose page tables fork copies even without an anon_vma (vma_needs_copy()). */
const COPY_PTES = vm_flags_or(PFNMAP_MIXEDMAP, VM_MAYBE_GUARD)

// ---- PTEs: one set of helpers, src/arch/pte.ts (the profile's real x86 layout in the frames) ----
export {
  _PAGE_PRESENT,
  _PAGE_RW,
  _PAGE_USER,
  _PAGE_PWT,
  _PAGE_PCD,
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_PSE,
  _PAGE_GLOBAL,
  _PAGE_SPECIAL,
  _PAGE_PROTNONE,
  _PAGE_NX,
  pte_pfn,
  pte_flags,
  pte_present,
  pte_write,
  pte_dirty,
  pte_young,
  pte_special,
  pte_set_flags,
  pte_clear_flags,
  pfn_pte as mk_pte,
} from '../arch/pte.js'
export { PTE_MARKER_GUARD, make_pte_marker, is_guard_pte_marker } from './swapops.js'

/** _PAGE_NX for a VMA without VM_EXEC on profiles that have NX (x86_64, i386-pae). */
export function vma_nx(vma: VmArea): number {
  const arch = vma.vm_mm.env.arch
  return vm_flags_test(vma.vm_flags, VM_EXEC) || !arch.has_nx ? 0 : _PAGE_NX
}
/** What the MMU sees: the P bit (a PROT_NONE entry is present only to the kernel). */
export function pte_hw_present(pte: number): boolean {
  return (pte & _PAGE_PRESENT) !== 0
}

// ---- fault flags and results (include/linux/mm_types.h) ----
export const FAULT_FLAG_WRITE = 0x1
export const FAULT_FLAG_USER = 0x40
export const FAULT_FLAG_REMOTE = 0x80
export const VM_FAULT_OOM = 0x0001
export const VM_FAULT_SIGBUS = 0x0002
export const VM_FAULT_MAJOR = 0x0004
export const VM_FAULT_SIGSEGV = 0x0040
export const VM_FAULT_HWPOISON = 0x0010
export const VM_FAULT_NOPAGE = 0x0100
export const VM_FAULT_LOCKED = 0x0200
export const VM_FAULT_RETRY = 0x0400
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON
/**
 * Not Linux's: a handler answered VM_FAULT_NOPAGE without installing the
 * PTE, so the access would fault again forever (the process spins until
 * killed). mmsim cannot spin; it warns and kills the task instead.
 */
export const VM_FAULT_MMSIM_LIVELOCK = 0x100000

/**
 * Kernel: maybe_mkwrite(): the write bit a private write fault's new PTE
 * gets: only with VM_WRITE. A forced write (FOLL_FORCE: ptrace,
 * /proc/<pid>/mem) into a read-only private mapping leaves the copy
 * read-only to the process.
 */
export function maybe_mkwrite(vma: VmArea): number {
  return vm_flags_test(vma.vm_flags, VM_WRITE) ? _PAGE_RW : 0
}

/** Kernel: vma_is_anonymous(): no vm_ops and no file. */
export function vma_is_anonymous(vma: VmArea): boolean {
  return vma.vm_ops === null && (vma.vm_file === null || vma.vm_anonymous)
}

/** Kernel: vma_set_anonymous(): the VMA's memory is anonymous (a driver's mmap, e.g. mmap_zero for MAP_PRIVATE). */
export function vma_set_anonymous(vma: VmArea): void {
  vma.vm_ops = null
  vma.vm_anonymous = true
}

/** Kernel: vma_is_accessible(). */
export function vma_is_accessible(vma: VmArea): boolean {
  return vm_flags_test(vma.vm_flags, VM_ACCESS_FLAGS)
}

/** Kernel: vma_wants_writenotify() reduced to the dirty-tracking case: shared writable mapping of a file with writeback. */
export function vma_wants_writenotify(vma: VmArea): boolean {
  if (vm_flags_and(vma.vm_flags, WRITE_SHARED) !== WRITE_SHARED) return false
  // a driver that wants to hear of each first write (page_mkwrite) gets read-only PTEs
  if (vma.vm_ops?.page_mkwrite) return true
  return vma.vm_file?.f_mapping.backing === 'disk'
}

/**
 * Kernel: vma->vm_page_prot as vma_set_page_prot() computes it: the
 * protection_map entry of the profile (src/arch/pte.ts; A set, NX without
 * VM_EXEC where the profile has NX, PAGE_NONE for PROT_NONE), the private
 * variant (no RW) when the mapping wants write notification. Private
 * mappings start read-only (COW).
 */
export function vm_page_prot(vma: VmArea): number {
  const arch = vma.vm_mm.env.arch
  if (!vma_is_accessible(vma)) return vm_get_page_prot(arch, VM_NONE) // PAGE_NONE
  const flags = vma_wants_writenotify(vma) ? vm_flags_andnot(vma.vm_flags, VM_SHARED) : vma.vm_flags
  return vm_get_page_prot(arch, flags)
}

/**
 * Kernel: vm_normal_page() with CONFIG_ARCH_HAS_PTE_SPECIAL (x86): the
 * struct page behind a present PTE, or -1 for a special PTE (the zero
 * page, remap_pfn_range and vmf_insert_pfn frames). A VM_PFNMAP or
 * VM_MIXEDMAP VMA can also hold normal pages: vm_insert_page()'s, and the
 * COW copies of a private PFN map.
 */
export function vm_normal_page(_vma: VmArea, pte: number): number {
  if (pte_special(pte)) return -1
  return pte_pfn(pte)
}

function flush_tlb_page(mm: MmStruct, addr: number): void {
  mm.env.flush_tlb_range(mm, addr, addr + PAGE_SIZE)
}

/** The rss counter a page of vma counts in. Kernel: mm_counter(). */
export function mm_counter(mm: MmStruct, pfn: number): number {
  const pages = mm.env.pages
  if (pages.mapping[pfn] < 0) return MM_ANONPAGES
  return pages.test(pfn, PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES
}

export function add_mm_counter(mm: MmStruct, counter: number, n: number): void {
  mm.rss_stat[counter] += n
  const rss = get_mm_rss(mm)
  if (rss > mm.hiwater_rss) mm.hiwater_rss = rss
}

/** Kernel: mlock_vma_folio() on a newly mapped page of a VM_LOCKED VMA. */
function mlock_new_page(mm: MmStruct, vma: VmArea, pfn: number): void {
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) mm.env.pages.set(pfn, PG_mlocked)
}

/**
 * Kernel: munlock_vma_folio(): a page leaving a VM_LOCKED VMA (unmap, COW)
 * drops that mapping's mlock; PG_mlocked goes when no locked mapping is left.
 */
export function munlock_vma_folio(mm: MmStruct, vma: VmArea, pfn: number): void {
  const pages = mm.env.pages
  if (vm_flags_test(vma.vm_flags, VM_LOCKED) && pages.test(pfn, PG_mlocked) && !page_locked_elsewhere(mm.env, pfn, vma)) {
    pages.clear(pfn, PG_mlocked)
  }
}

/** Kernel: do_anonymous_page(). */
function do_anonymous_page(mm: MmStruct, vma: VmArea, addr: number, write: boolean): number {
  const env = mm.env
  const vpn = addr / PAGE_SIZE
  if (!write) {
    // Map the shared zero page read-only (pte_mkspecial).
    if (!mm.pgd.set(vpn, mk_pte(env.zero_pfn, (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_SPECIAL) + vma_nx(vma)))) return VM_FAULT_OOM
    return 0
  }
  if (anon_vma_prepare(vma)) return VM_FAULT_OOM
  // pte_alloc() before the folio, so a failure leaves nothing to undo.
  if (!mm.pgd.pte_alloc(vpn)) return VM_FAULT_OOM
  // vma_alloc_zeroed_movable_folio(): the allocator clears it (__GFP_ZERO)
  const pfn = env.alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0)
  if (pfn < 0) return VM_FAULT_OOM
  // alloc_anon_folio(): the new folio is charged to the mm's memory cgroup, which may reclaim.
  if (env.memcg.mem_cgroup_charge(pfn, GFP_KERNEL, mm.memcg ?? env.memcg.root) < 0) {
    put_page(env, pfn)
    return VM_FAULT_OOM
  }
  folio_add_new_anon_rmap(env, pfn, vma, addr)
  mlock_new_page(mm, vma, pfn)
  folio_add_lru(env, pfn)
  add_mm_counter(mm, MM_ANONPAGES, 1)
  let f = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED
  if (vm_flags_test(vma.vm_flags, VM_WRITE)) f |= _PAGE_RW | _PAGE_DIRTY
  if (!mm.pgd.set(vpn, mk_pte(pfn, f + vma_nx(vma)))) return VM_FAULT_OOM
  return 0
}

/** Map a page-cache page at addr (set_pte_range / finish_fault for a read). */
export function map_file_page(mm: MmStruct, vma: VmArea, addr: number, pfn: number, extra: number): number {
  const env = mm.env
  // The reference first (filemap_fault()'s vmf->page): the table allocation may reclaim, and an
  // unreferenced clean page-cache page is what reclaim frees first. finish_fault(): without the
  // table nothing of the page is kept.
  env.pages.get_page(pfn)
  if (!mm.pgd.pte_alloc(addr / PAGE_SIZE)) {
    put_page(env, pfn)
    return VM_FAULT_OOM
  }
  folio_add_file_rmap_pte(env, pfn)
  mlock_new_page(mm, vma, pfn)
  add_mm_counter(mm, mm_counter(mm, pfn), 1)
  mm.pgd.set(addr / PAGE_SIZE, pte_set_flags(mk_pte(pfn, vm_page_prot(vma)), _PAGE_ACCESSED | extra))
  return 0
}

/** Does a PTE table cover vpn? (FramePageTables: a walk that reaches a PTE slot.) */
function pte_table_present(mm: MmStruct, vpn: number): boolean {
  return mm.pgd.pte_table_present(vpn)
}

/** Pages past EOF of a file VMA's object: first page index that SIGBUSes. */
function file_end_index(vma: VmArea): number {
  const f = vma.vm_file
  if (!f) throw new KernelBug('file_end_index: anonymous VMA')
  return Math.ceil(f.f_mapping.i_size / PAGE_SIZE)
}

/**
 * Kernel: do_fault_around() + filemap_map_pages(): map the cached, uptodate
 * pages around addr (the fault_around_bytes-aligned block, clipped to the VMA,
 * the page table and EOF) whose PTEs are none. Returns VM_FAULT_NOPAGE when
 * addr itself got mapped.
 */
function do_fault_around(mm: MmStruct, vma: VmArea, addr: number): number {
  const nr_pages = mm.env.sysctl.fault_around_bytes / PAGE_SIZE
  const vpn = addr / PAGE_SIZE
  // PTRS_PER_PTE: 512 (x86_64, PAE), 1024 (i386 2-level)
  const arch = mm.env.arch
  const PTRS_PER_PTE = arch.level_entries[arch.level_entries.length - 1]
  const pte_off = vpn % PTRS_PER_PTE
  const pgoff = linear_page_index(vma, addr)
  const vma_off = pgoff - vma.vm_pgoff
  const from_pte = Math.max(Math.floor(pte_off / nr_pages) * nr_pages, pte_off - Math.min(pte_off, vma_off))
  const to_pte = Math.min(from_pte + nr_pages, PTRS_PER_PTE, pte_off + (vma.vm_end - vma.vm_start) / PAGE_SIZE - vma_off) - 1
  const mapping = (vma.vm_file as NonNullable<VmArea['vm_file']>).f_mapping
  const start_pgoff = pgoff + from_pte - pte_off
  let end_pgoff = pgoff + to_pte - pte_off
  const file_end = Math.ceil(mapping.i_size / PAGE_SIZE) - 1
  if (end_pgoff > file_end) end_pgoff = file_end
  let ret = 0
  if (mapping.backing !== 'shmem' && !pte_table_present(mm, vpn)) {
    // filemap_map_pages(): the page table is only installed (filemap_map_pmd)
    // when the first page to map is not the EOF page of a non-shmem file.
    let first = -1
    for (let idx = start_pgoff; idx <= end_pgoff; idx++) {
      const pfn = mapping.i_pages.get(idx)
      if (pfn !== undefined && !page_test_readahead(mm.env, pfn)) {
        first = idx
        break
      }
    }
    if (first < 0 || first >= file_end) return 0
  }
  let mapped = 0
  for (let idx = start_pgoff; idx <= end_pgoff; idx++) {
    const pfn = mapping.i_pages.get(idx)
    // next_uptodate_folio(): a PG_readahead page is left for the fault that starts the next readahead
    if (pfn === undefined || page_test_readahead(mm.env, pfn)) continue
    const a = addr + (idx - pgoff) * PAGE_SIZE
    if (mm.pgd.get(a / PAGE_SIZE) !== 0) continue
    // do_fault_around()'s prealloc_pte: without a table the fault fails with VM_FAULT_OOM.
    if (map_file_page(mm, vma, a, pfn, 0)) return VM_FAULT_OOM
    mapped++
    if (a === addr) ret = VM_FAULT_NOPAGE
  }
  if (mapping.backing === 'disk') filemap_map_pages_hits(vma.vm_file as VmFile, mapped)
  return ret
}

/**
 * Kernel: __do_fault() -> filemap_fault() / shmem_fault(): the page-cache
 * page for addr, or a VM_FAULT error as -(code). For a disk file, a miss
 * reads around the fault and a PG_readahead hit reads ahead
 * (filemap.ts); either drops the mmap lock for the I/O, which the kernel
 * answers with VM_FAULT_RETRY: `retry` says so (a retried fault sets
 * FAULT_FLAG_TRIED, which skips the async readahead).
 */
function __do_fault(mm: MmStruct, vma: VmArea, addr: number, fault: FaultPass): number {
  const pgoff = linear_page_index(vma, addr)
  if (pgoff >= file_end_index(vma)) return -VM_FAULT_SIGBUS
  const mapping = (vma.vm_file as NonNullable<VmArea['vm_file']>).f_mapping
  if (mapping.backing === 'disk') {
    const cached = mapping.i_pages.get(pgoff)
    if (cached !== undefined) {
      if (!fault.tried && do_async_mmap_readahead(mm.env, vma, pgoff, cached)) fault.retry = true
      return cached
    }
    // a major fault: whether read around or read alone, the page is read with the lock dropped
    mm.env.vmstat.count_vm_event(PGMAJFAULT)
    count_memcg_event_mm(mm, MEMCG_PGMAJFAULT)
    do_sync_mmap_readahead(mm.env, vma, pgoff)
    fault.retry = true
    fault.read = true
  }
  const swapin = { major: false }
  const pfn = shmem_get_page(mm.env, mapping, pgoff, swapin)
  if (swapin.major) fault.major = true
  // shmem_fault(): vmf_error() makes ENOMEM an OOM, every other error (ENOSPC: tmpfs full) SIGBUS.
  if (pfn === PAGE_EOF || pfn === PAGE_ENOSPC) return -VM_FAULT_SIGBUS
  if (pfn < 0) return -VM_FAULT_OOM
  return pfn
}

/**
 * One fault through its passes: filemap_fault() drops the mmap lock for I/O
 * and answers VM_FAULT_RETRY; the fault is then taken again with
 * FAULT_FLAG_TRIED (`tried`), and mm_account_fault() counts that second
 * pass as major. `read`: a page was read synchronously (the task waited).
 */
interface FaultPass {
  retry: boolean
  tried: boolean
  read: boolean
  /** shmem_fault() swapped the page in (the task waited for it). */
  major: boolean
}

/** The passes of a fault that never reached filemap_fault() (read only). */
const ONE_PASS: Readonly<FaultPass> = Object.freeze({ retry: false, tried: false, read: false, major: false })

/** The first pass answered VM_FAULT_RETRY: it counts as a fault (PGFAULT), not in the task's counters. */
function retry_fault(mm: MmStruct, fault: FaultPass): void {
  mm.env.vmstat.count_vm_event(PGFAULT)
  count_memcg_event_mm(mm, MEMCG_PGFAULT)
  fault.retry = false
  fault.tried = true
}

/** __do_fault() for a fault that may be retried (do_cow_fault, do_shared_fault). */
function __do_fault_retrying(mm: MmStruct, vma: VmArea, addr: number, fault: FaultPass): number {
  const pfn = __do_fault(mm, vma, addr, fault)
  if (pfn < 0 || !fault.retry) return pfn
  retry_fault(mm, fault)
  return __do_fault(mm, vma, addr, fault)
}

/** Kernel: do_read_fault(), with filemap_fault()'s VM_FAULT_RETRY replayed as the retried fault. */
function do_read_fault(mm: MmStruct, vma: VmArea, addr: number, fault: FaultPass): number {
  const fault_around = mm.env.sysctl.fault_around_bytes > PAGE_SIZE && !vma.vm_userfaultfd_ctx
  if (fault_around) {
    const r = do_fault_around(mm, vma, addr)
    if (r & VM_FAULT_OOM) return r
    if (r) return 0
  }
  let pfn = __do_fault(mm, vma, addr, fault)
  if (pfn < 0) return -pfn
  if (fault.retry) {
    // the retried fault (FAULT_FLAG_TRIED) maps the pages read through fault-around
    retry_fault(mm, fault)
    if (fault_around) {
      const r = do_fault_around(mm, vma, addr)
      if (r & VM_FAULT_OOM) return r
      if (r) return 0
    }
    pfn = __do_fault(mm, vma, addr, fault)
    if (pfn < 0) return -pfn
  }
  const r = map_file_page(mm, vma, addr, pfn, 0)
  return r === 0 && fault.major ? VM_FAULT_MAJOR : r
}

/** new_anon_copy(): the PTE changed while the copy was allocated (reclaim or the OOM killer ran). */
const PTE_CHANGED = -2

/**
 * Copy a page into a new anonymous page of vma at addr (wp_page_copy /
 * do_cow_fault). The caller holds a reference on src_pfn. The allocation
 * and the charge may reclaim, which may unmap the very PTE being resolved
 * (try_to_unmap() of the old page, a swap-out): unless the PTE still holds
 * `orig_pte` afterwards (pte_same() under the page table lock), the copy is
 * dropped and PTE_CHANGED returned: the access faults again. Returns the
 * pfn, -1 when out of memory, or PTE_CHANGED.
 */
function new_anon_copy(mm: MmStruct, vma: VmArea, addr: number, src_pfn: number, orig_pte: number): number {
  const env = mm.env
  if (anon_vma_prepare(vma)) return -1
  const pfn = env.alloc_pages(GFP_HIGHUSER_MOVABLE, 0)
  if (pfn < 0) return -1
  if (env.memcg.mem_cgroup_charge(pfn, GFP_KERNEL, mm.memcg ?? env.memcg.root) < 0) {
    put_page(env, pfn)
    return -1
  }
  if (mm.pgd.get(addr / PAGE_SIZE) !== orig_pte) {
    put_page(env, pfn)
    return PTE_CHANGED
  }
  if (src_pfn === env.zero_pfn) env.physmem.fill(pfn, 0)
  else env.physmem.copy(pfn, src_pfn)
  env.clock.advance(src_pfn === env.zero_pfn ? COST_NS.clear_page : COST_NS.copy_page)
  folio_add_new_anon_rmap(env, pfn, vma, addr)
  mlock_new_page(mm, vma, pfn)
  folio_add_lru(env, pfn)
  return pfn
}

/** Kernel: do_cow_fault(): write fault on a private file mapping with no PTE. */
function do_cow_fault(mm: MmStruct, vma: VmArea, addr: number, fault: FaultPass): number {
  // The anon_vma comes first: even a fault that then SIGBUSes leaves the VMA with one.
  if (anon_vma_prepare(vma)) return VM_FAULT_OOM
  const src = __do_fault_retrying(mm, vma, addr, fault)
  if (src < 0) return -src
  // vmf->page: filemap_fault() hands the page back referenced, so that reclaim run by the
  // allocations below cannot free it before it is copied.
  const env = mm.env
  env.pages.get_page(src)
  const pfn = mm.pgd.pte_alloc(addr / PAGE_SIZE) ? new_anon_copy(mm, vma, addr, src, 0) : -1
  put_page(env, src)
  if (pfn === PTE_CHANGED) return 0
  if (pfn < 0) return VM_FAULT_OOM
  add_mm_counter(mm, MM_ANONPAGES, 1)
  mm.pgd.set(addr / PAGE_SIZE, mk_pte(pfn, (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY) + maybe_mkwrite(vma) + vma_nx(vma)))
  return fault.major ? VM_FAULT_MAJOR : 0
}

/**
 * Kernel: do_read_fault() / do_cow_fault() / do_shared_fault() of a VMA
 * whose vm_ops has a fault handler (a driver's, a special mapping's).
 * The handler hands back a page with a reference (vmf->page), which the
 * PTE inherits (finish_fault), or installs the PTE itself and answers
 * VM_FAULT_NOPAGE. A private write copies the page into an anonymous one
 * and drops the handler's reference; a shared write asks page_mkwrite
 * first.
 */
function do_vm_ops_fault(mm: MmStruct, vma: VmArea, addr: number, flags: number): number {
  const env = mm.env
  const ops = vma.vm_ops as NonNullable<VmArea['vm_ops']>
  const write = (flags & FAULT_FLAG_WRITE) !== 0
  const cow = write && !vm_flags_test(vma.vm_flags, VM_SHARED)
  if (cow && anon_vma_prepare(vma)) return VM_FAULT_OOM
  const vpn = addr / PAGE_SIZE
  const vmf: VmFault = { vma, address: addr, pgoff: linear_page_index(vma, addr), flags, page: -1 }
  if (!write && ops.map_pages && env.sysctl.fault_around_bytes > PAGE_SIZE) {
    // do_fault_around(): the fault_around_bytes block around addr, clipped to the VMA
    const nr = env.sysctl.fault_around_bytes / PAGE_SIZE
    const first = Math.max(vmf.pgoff - (vpn % nr), vma.vm_pgoff)
    const last = Math.min(first + nr, vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE) - 1
    ops.map_pages(vmf, first, last)
    if (mm.pgd.get(vpn) !== 0) return 0
  }
  const ret = (ops.fault as NonNullable<typeof ops.fault>)(vmf)
  if (ret & (VM_FAULT_ERROR | VM_FAULT_RETRY)) return ret
  if (ret & VM_FAULT_NOPAGE) {
    if (mm.pgd.get(vpn) !== 0) return ret
    env.driver_hooks.warn?.(`fault livelock: ${vma_label(vma)} fault handler returned VM_FAULT_NOPAGE without a PTE at 0x${addr.toString(16)}; the access would fault forever, task killed`)
    return VM_FAULT_MMSIM_LIVELOCK
  }
  const page = vmf.page
  if (page < 0 || page >= env.pages.nr) {
    // finish_fault() would dereference the NULL vmf->page: an oops in the handler's task
    env.driver_hooks.warn?.(`BUG: kernel NULL pointer dereference: ${vma_label(vma)} fault handler returned 0 without vmf->page at 0x${addr.toString(16)}`)
    return VM_FAULT_SIGBUS
  }
  env.driver_hooks.fault_page?.(vmf)
  // finish_fault()'s page table first: without it the fault takes nothing (VM_FAULT_OOM).
  if (!mm.pgd.pte_alloc(vpn)) {
    put_page(env, page)
    return VM_FAULT_OOM
  }
  if (cow) {
    const pfn = new_anon_copy(mm, vma, addr, page, 0)
    put_page(env, page)
    if (pfn === PTE_CHANGED) return 0
    if (pfn < 0) return VM_FAULT_OOM
    add_mm_counter(mm, MM_ANONPAGES, 1)
    mm.pgd.set(vpn, mk_pte(pfn, (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY) + maybe_mkwrite(vma) + vma_nx(vma)))
    return 0
  }
  let extra = 0
  if (write) {
    if (ops.page_mkwrite) {
      const r = ops.page_mkwrite(vmf)
      if (r & VM_FAULT_ERROR) {
        put_page(env, page)
        return r
      }
    }
    extra = _PAGE_RW | _PAGE_DIRTY
  }
  // the handler's reference becomes the PTE's (without a page table, nothing is taken: VM_FAULT_OOM)
  const r = map_file_page(mm, vma, addr, page, extra)
  put_page(env, page)
  return r
}

/** The driver or mapping a VMA belongs to, for the kernel log. */
function vma_label(vma: VmArea): string {
  return vma.vm_file ? vma.vm_file.name : (vma.special_name ?? 'anonymous')
}

/** A device VMA (its file is a character device, not made anonymous): do_fault() answers SIGBUS without vm_ops->fault. */
function vma_is_device(vma: VmArea): boolean {
  return vma.vm_file !== null && vma.vm_file.f_mmap !== undefined && !vma.vm_anonymous
}

/** Kernel: do_shared_fault(): write fault on a shared file mapping with no PTE. */
function do_shared_fault(mm: MmStruct, vma: VmArea, addr: number, fault: FaultPass): number {
  const pfn = __do_fault_retrying(mm, vma, addr, fault)
  if (pfn < 0) return -pfn
  const r = map_file_page(mm, vma, addr, pfn, _PAGE_RW | _PAGE_DIRTY)
  // fault_dirty_shared_page(): once finish_fault() mapped it.
  if (!r) fault_dirty_shared_page(mm.env, mm.dirty_throttle, pfn)
  return r === 0 && fault.major ? VM_FAULT_MAJOR : r
}

/** Kernel: do_wp_page(): write fault on a present, write-protected PTE. */
function do_wp_page(mm: MmStruct, vma: VmArea, addr: number, pte: number): number {
  const env = mm.env
  const vpn = addr / PAGE_SIZE
  const page = vm_normal_page(vma, pte)
  if (vm_flags_test(vma.vm_flags, VM_SHARED)) {
    // wp_page_shared / wp_pfn_shared: page_mkwrite may refuse; dirty the page and make the PTE writable.
    const mkwrite = vma.vm_ops?.page_mkwrite
    if (mkwrite && page >= 0) {
      const r = mkwrite({ vma, address: addr, pgoff: linear_page_index(vma, addr), flags: FAULT_FLAG_WRITE, page })
      if (r & VM_FAULT_ERROR) return r
    }
    // wp_page_reuse(): ptep_set_access_flags() upgrades in place; x86 does not flush (a stale read-only entry only faults spuriously).
    mm.pgd.set(vpn, pte_set_flags(pte, _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED))
    // wp_page_shared() -> fault_dirty_shared_page(): dirty it, then balance as a writer.
    if (page >= 0) fault_dirty_shared_page(env, mm.dirty_throttle, page)
    return 0
  }
  const pages = env.pages
  if (page >= 0 && pages.mapping[page] < 0) {
    // wp_can_reuse_anon_folio: exclusive, or only our reference left (once a swap cache copy
    // nothing else refers to is dropped: folio_free_swap()).
    if (!pages.test(page, PG_anon_exclusive) && pages.test(page, PG_swapcache) && pages._refcount[page] === 2 && pages._mapcount[page] === 1) folio_free_swap(env, page)
    if (pages.test(page, PG_anon_exclusive) || (pages._refcount[page] === 1 && pages._mapcount[page] === 1)) {
      pages.set(page, PG_anon_exclusive)
      mm.pgd.set(vpn, pte_set_flags(pte, maybe_mkwrite(vma) | _PAGE_DIRTY | _PAGE_ACCESSED)) // wp_page_reuse(): no flush
      return 0
    }
  }
  // wp_page_copy: a special PTE's frame is copied through its address (__wp_page_copy_user), the zero page's is zeros
  const src = page >= 0 ? page : pte_pfn(pte) < env.pages.nr ? pte_pfn(pte) : env.zero_pfn
  // do_wp_page()'s folio_get(): the old page stays while the copy is allocated (reclaim may
  // unmap it meanwhile; then the PTE is no longer `pte` and the fault is taken again).
  if (page >= 0) pages.get_page(page)
  const pfn = new_anon_copy(mm, vma, addr, src, pte)
  if (page >= 0) put_page(env, page)
  if (pfn === PTE_CHANGED) return 0
  if (pfn < 0) return VM_FAULT_OOM
  if (page >= 0) {
    const old_counter = mm_counter(mm, page)
    if (old_counter !== MM_ANONPAGES) {
      add_mm_counter(mm, old_counter, -1)
      add_mm_counter(mm, MM_ANONPAGES, 1)
    }
    munlock_vma_folio(mm, vma, page)
    folio_remove_rmap_pte(env, page)
    put_page(env, page)
  } else {
    add_mm_counter(mm, MM_ANONPAGES, 1)
  }
  // wp_page_copy(): ptep_clear_flush() then set_pte_at() of the copy.
  mm.pgd.set(vpn, mk_pte(pfn, (_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY) + maybe_mkwrite(vma) + vma_nx(vma)))
  flush_tlb_page(mm, addr)
  return 0
}

/**
 * Kernel: handle_mm_fault() / handle_pte_fault(). addr must lie in vma and
 * the access must be allowed by the VMA. Returns 0 or VM_FAULT_* bits.
 */
export function handle_mm_fault(mm: MmStruct, vma: VmArea, address: number, flags: number): number {
  const env = mm.env
  env.vmstat.count_vm_event(PGFAULT)
  count_memcg_event_mm(mm, MEMCG_PGFAULT)
  const addr = Math.floor(address / PAGE_SIZE) * PAGE_SIZE
  const write = (flags & FAULT_FLAG_WRITE) !== 0
  const vpn = addr / PAGE_SIZE
  const pte = mm.pgd.get(vpn)
  const xp = env.trace?.explaining ? fault_xp_begin(mm, vma, addr, write, pte, vma_is_anonymous(vma)) : null
  let ret: number
  // Only a file fault has passes to record; every other fault reads the one that never retried.
  let fault: Readonly<FaultPass> = ONE_PASS
  if (pte === 0) {
    if (vma.vm_ops?.fault) ret = do_vm_ops_fault(mm, vma, addr, flags)
    else if (vma_is_device(vma)) ret = VM_FAULT_SIGBUS // "VMA was not fully populated on mmap() or missing VM_DONTEXPAND"
    else if (vma_is_anonymous(vma)) ret = do_anonymous_page(mm, vma, addr, write)
    else {
      const passes: FaultPass = { retry: false, tried: false, read: false, major: false }
      fault = passes
      if (!write) ret = do_read_fault(mm, vma, addr, passes)
      else if (!(vm_flags_test(vma.vm_flags, VM_SHARED))) ret = do_cow_fault(mm, vma, addr, passes)
      else ret = do_shared_fault(mm, vma, addr, passes)
    }
  } else if (!pte_present(pte)) {
    if (is_pte_marker(pte)) ret = is_guard_pte_marker(pte) ? VM_FAULT_SIGSEGV : VM_FAULT_SIGBUS
    else {
      ret = do_swap_page(mm, vma, addr, pte, write, vm_page_prot(vma))
      // do_swap_page()'s end: a write the new PTE does not allow is a COW.
      const npte = mm.pgd.get(vpn)
      if (write && !(ret & VM_FAULT_ERROR) && pte_present(npte) && !pte_write(npte)) ret |= do_wp_page(mm, vma, addr, npte) & VM_FAULT_ERROR
    }
  } else if (write && !pte_write(pte)) {
    ret = do_wp_page(mm, vma, addr, pte)
  } else {
    let n = pte_set_flags(pte, _PAGE_ACCESSED)
    if (write) n = pte_set_flags(n, _PAGE_DIRTY)
    mm.pgd.set(vpn, n)
    ret = 0
  }
  if (!(ret & VM_FAULT_ERROR)) {
    // mm_account_fault(): a swap-in or a retried pass is major. A page read waited for the
    // disk; a minor fault only ran the handler.
    if (ret & VM_FAULT_MAJOR || fault.tried || fault.major) {
      mm.maj_flt++
      env.clock.advance(COST_NS.minor_fault)
      if (ret & VM_FAULT_MAJOR || fault.read || fault.major) env.clock.advance_iowait(COST_NS.disk_read_page)
    } else {
      mm.min_flt++
      env.clock.advance(COST_NS.minor_fault)
    }
  }
  const trace = env.trace
  if (trace && trace.enabled) trace.emit('page_fault_user', () => `address=0x${addr.toString(16)} error_code=0x${write ? 6 : 4}`)
  if (xp) fault_xp_end(mm, vma, xp, ret, (ret & VM_FAULT_ERROR) !== 0)
  return ret
}

/**
 * Kernel: expand_downwards(): grow a VM_GROWSDOWN vma down to address.
 * 0 or -errno (-ENOMEM when the stack guard gap or limits forbid it).
 */
export function expand_downwards(mm: MmStruct, vma: VmArea, address: number): number {
  if (!(vm_flags_test(vma.vm_flags, VM_GROWSDOWN))) return -EFAULT
  address = Math.floor(address / PAGE_SIZE) * PAGE_SIZE
  if (address < mm.env.sysctl.mmap_min_addr) return -1
  const prev = vma_prev(mm, vma)
  if (prev && !(vm_flags_test(prev.vm_flags, VM_GROWSDOWN)) && vma_is_accessible(prev)) {
    if (address - prev.vm_end < mm.env.sysctl.stack_guard_gap) return -ENOMEM
  }
  if (prev && prev.vm_end > address) return -ENOMEM
  if (anon_vma_prepare(vma)) return -ENOMEM
  if (address < vma.vm_start) {
    const size = vma.vm_end - address
    const grow = (vma.vm_start - address) / PAGE_SIZE
    if (grow > vma.vm_pgoff) return -ENOMEM
    // acct_stack_growth()
    if (!may_expand_vm(mm, vma.vm_flags, grow)) return -ENOMEM
    if (size > rlimit(mm, RLIMIT_STACK)) return -ENOMEM
    if (!mlock_future_ok(mm, vma.vm_flags, grow * PAGE_SIZE)) return -ENOMEM
    if (security_vm_enough_memory_mm(mm, grow)) return -ENOMEM
    if (vm_flags_test(vma.vm_flags, VM_LOCKED)) mm.locked_vm += grow
    vm_stat_account(mm, vma.vm_flags, grow)
    vma.vm_start = address
    vma.vm_pgoff -= grow
    vma_iter_store(mm, vma)
  }
  return 0
}

/** A user fault's outcome, as the signal the task gets (null: handled). */
export interface UserFault {
  signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL'
  si_code: 'SEGV_MAPERR' | 'SEGV_ACCERR' | 'BUS_ADRERR' | 'SI_KERNEL'
  addr: number
  /** VM_FAULT_OOM without a kill pending: return to user space and retry the access (pagefault_out_of_memory). */
  oom_retry?: true
}

/** What pagefault_out_of_memory() leaves to the access: run it again. */
const OOM_RETRY: UserFault = Object.freeze({ signal: 'SIGKILL', si_code: 'SI_KERNEL', addr: 0, oom_retry: true }) as UserFault

/**
 * Kernel: pagefault_out_of_memory(): VM_FAULT_OOM reached the #PF handler.
 * The allocator already ran the OOM killer; if it chose this task, the
 * pending SIGKILL ends it on the way back to user space (SI_KERNEL, no
 * address), else the fault is simply retried.
 */
export function pagefault_out_of_memory(mm: MmStruct): UserFault {
  const cur = mm.owner
  if (cur && cur.signal.flags & SIGNAL_GROUP_EXIT) return { signal: 'SIGKILL', si_code: 'SI_KERNEL', addr: 0 }
  mm.env.pr_warn('Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF')
  return OOM_RETRY
}

/**
 * Kernel: do_user_addr_fault() (arch/x86/mm/fault.c): find the VMA (growing
 * a stack), check access, handle the fault. Returns null when the access can
 * be retried, else the signal.
 */
export function do_user_addr_fault(mm: MmStruct, address: number, write: boolean): UserFault | null {
  // What the fault allocates is charged to the faulting task's group (set here, not on every
  // TLB-hit access: see Syscalls.user_access).
  mm.env.memcg.active = mm.memcg ?? mm.env.memcg.root
  let vma = find_vma(mm, address)
  if (!vma) return { signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr: address }
  if (vma.vm_start > address) {
    if (!(vm_flags_test(vma.vm_flags, VM_GROWSDOWN)) || expand_downwards(mm, vma, address)) {
      return { signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr: address }
    }
    vma = find_vma(mm, address) as VmArea
  }
  // access_error()
  if (write ? !(vm_flags_test(vma.vm_flags, VM_WRITE)) : !vma_is_accessible(vma)) {
    return { signal: 'SIGSEGV', si_code: 'SEGV_ACCERR', addr: address }
  }
  const r = handle_mm_fault(mm, vma, address, (write ? FAULT_FLAG_WRITE : 0) | FAULT_FLAG_USER)
  if (r & VM_FAULT_MMSIM_LIVELOCK) return { signal: 'SIGKILL', si_code: 'SI_KERNEL', addr: 0 }
  if (r & VM_FAULT_SIGSEGV) return { signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr: address }
  if (r & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON)) return { signal: 'SIGBUS', si_code: 'BUS_ADRERR', addr: address }
  if (r & VM_FAULT_OOM) return pagefault_out_of_memory(mm)
  return null
}

// ---- zapping ----

/** What a zap skips or drops (struct zap_details). */
export interface ZapDetails {
  /** unmap_mapping_range(): only file pages of this mapping... */
  single_mapping?: boolean
  /** ...and also private COW copies (even_cows). */
  even_cows?: boolean
  /** Drop guard markers too (munmap, exit, MADV_GUARD_REMOVE). */
  drop_markers?: boolean
  /** munmap/exit: record the cleared range in the gather instead of flushing now (tlb_finish_mmu flushes). */
  tlb?: MmuGather
}

/**
 * Kernel: zap_pte_range() over [start, end) of vma: clear PTEs, drop rmap and
 * references, move PTE dirty bits to file pages, fix rss counters.
 */
export function zap_page_range_single(mm: MmStruct, vma: VmArea, start: number, end: number, details: ZapDetails = {}): void {
  zap_vmas(mm, [vma], start, end, details)
}

/** Kernel: unmap_vmas(): zap every VMA's pages in [start, end). */
export function unmap_vmas(mm: MmStruct, vmas: VmArea[], start: number, end: number, tlb?: MmuGather): void {
  if (vmas.length === 0) return
  const s = Math.max(start, vmas[0].vm_start)
  const e = Math.min(end, vmas[vmas.length - 1].vm_end)
  if (s < e) zap_vmas(mm, vmas, s, e, { drop_markers: true, tlb })
}

/**
 * zap_pte_range() for a run of VMAs in address order, in one walk of the
 * page tables over [start, end): each PTE is zapped as part of the VMA that
 * covers it (exit and munmap visit each table once, not once per VMA).
 */
function zap_vmas(mm: MmStruct, vmas: readonly VmArea[], start: number, end: number, details: ZapDetails): void {
  const env = mm.env
  const pages = env.pages
  let i = 0
  let vma = vmas[0]
  // __tlb_adjust_range(): the span of the PTEs actually cleared.
  let lo = Infinity
  let hi = -Infinity
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    const addr = vpn * PAGE_SIZE
    while (vma.vm_end <= addr && i + 1 < vmas.length) vma = vmas[++i]
    // Tables hold no entries outside VMAs; between the VMAs of the run there is nothing to zap.
    if (addr < vma.vm_start || addr >= vma.vm_end) return
    if (!pte_present(pte)) {
      if (is_pte_marker(pte)) {
        if (is_guard_pte_marker(pte) && !details.drop_markers) return
        mm.pgd.set(vpn, 0)
        return
      }
      // zap_nonpresent_ptes(): a swap entry is a private page; truncation leaves it (should_zap_cows()).
      if (details.single_mapping && !details.even_cows) return
      mm.pgd.set(vpn, 0)
      add_mm_counter(mm, MM_SWAPENTS, -1)
      free_swap_and_cache(env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte)))
      return
    }
    const page = vm_normal_page(vma, pte)
    if (page >= 0 && details.single_mapping && !details.even_cows && pages.mapping[page] < 0) return
    mm.pgd.set(vpn, 0)
    if (vpn < lo) lo = vpn
    if (vpn > hi) hi = vpn
    if (page < 0) return
    if (pages.mapping[page] > 0 && pte_dirty(pte)) set_page_dirty(env, page)
    munlock_vma_folio(mm, vma, page)
    add_mm_counter(mm, mm_counter(mm, page), -1)
    folio_remove_rmap_pte(env, page)
    // free_pages_and_swap_cache() -> free_swap_cache(): the last unmapping drops the swap cache copy too.
    if (pages.test(page, PG_swapcache) && pages._mapcount[page] === 0) folio_free_swap(env, page)
    put_page(env, page)
  })
  if (hi < lo) return
  if (details.tlb) tlb_adjust_range(details.tlb, lo * PAGE_SIZE, (hi + 1 - lo) * PAGE_SIZE)
  else env.flush_tlb_range(mm, lo * PAGE_SIZE, (hi + 1) * PAGE_SIZE)
}

/**
 * Kernel: copy_page_range() (fork): copy src_vma's PTEs into dst_vma of the
 * child. Only VMAs with an anon_vma (or PFN maps) are copied; private pages
 * are write-protected in both for COW and lose PG_anon_exclusive.
 */
export function copy_page_range(dst: VmArea, src: VmArea): number {
  const smm = src.vm_mm
  const dmm = dst.vm_mm
  const env = smm.env
  const pages = env.pages
  if (!vm_flags_test(src.vm_flags, COPY_PTES) && !src.anon_vma) return 0
  const cow = is_cow_mapping(src.vm_flags)
  let ret = 0
  smm.pgd.each(src.vm_start / PAGE_SIZE, src.vm_end / PAGE_SIZE, (vpn, pte) => {
    if (ret) return
    if (!pte_present(pte)) {
      if (is_pte_marker(pte)) {
        if (is_guard_pte_marker(pte) && !dmm.pgd.set(vpn, pte)) ret = -ENOMEM
        return
      }
      // copy_nonpresent_pte(): the child refers to the same slot; the entry is shared from now on.
      if (!dmm.pgd.set(vpn, pte_swp_clear_exclusive(pte))) {
        ret = -ENOMEM
        return
      }
      if (swap_duplicate(env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte))) < 0) {
        dmm.pgd.set(vpn, 0)
        ret = -EIO
        return
      }
      env.swap.mmlist.add(dmm)
      if (pte_swp_exclusive(pte)) smm.pgd.set(vpn, pte_swp_clear_exclusive(pte))
      add_mm_counter(dmm, MM_SWAPENTS, 1)
      return
    }
    const page = vm_normal_page(src, pte)
    // The child's entry first (copy_pte_range(): pte_alloc_map_lock() fails with -ENOMEM before
    // anything of this PTE is taken): a failure leaves the parent's PTE and the page untouched.
    let npte = cow && pte_write(pte) ? pte_clear_flags(pte, _PAGE_RW) : pte
    // A shared mapping's copy starts clean; every copy starts old (__copy_present_ptes).
    if (vm_flags_test(src.vm_flags, VM_SHARED)) npte = pte_clear_flags(npte, _PAGE_DIRTY)
    if (!dmm.pgd.set(vpn, pte_clear_flags(npte, _PAGE_ACCESSED))) {
      ret = -ENOMEM
      return
    }
    if (page >= 0) {
      pages.get_page(page)
      if (pages.mapping[page] < 0) {
        folio_dup_anon_rmap_pte(env, page)
        pages.clear(page, PG_anon_exclusive)
      } else {
        folio_add_file_rmap_pte(env, page)
      }
      add_mm_counter(dmm, mm_counter(dmm, page), 1)
    }
    // The parent's table exists (the entry is in it): write-protecting it cannot fail.
    if (cow && pte_write(pte)) smm.pgd.set(vpn, pte_clear_flags(pte, _PAGE_RW))
  })
  // No flush here: dup_mmap() flushes the parent's whole mm once (flush_tlb_mm) after the copy.
  return ret
}

/** Mark a file page dirty when its PTE is dirty (used by msync and writeback). Kernel: folio_mkclean() helper. */
export function pte_dirty_to_page(mm: MmStruct, vma: VmArea, start: number, end: number, clean_ptes: boolean): void {
  const env = mm.env
  const flush = (vpn: number): void => env.flush_tlb_range(mm, vpn * PAGE_SIZE, vpn * PAGE_SIZE + PAGE_SIZE) // page_vma_mkclean_one(): ptep_clear_flush
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    if (!pte_present(pte)) return
    const page = vm_normal_page(vma, pte)
    if (page < 0 || env.pages.mapping[page] <= 0) return
    if (pte_dirty(pte)) {
      set_page_dirty(env, page)
      if (clean_ptes) {
        mm.pgd.set(vpn, pte_clear_flags(pte, _PAGE_DIRTY | (vma_wants_writenotify(vma) ? _PAGE_RW : 0)))
        flush(vpn)
      }
    } else if (clean_ptes && vma_wants_writenotify(vma) && pte_write(pte)) {
      mm.pgd.set(vpn, pte_clear_flags(pte, _PAGE_RW))
      flush(vpn)
    }
  })
}

/** Test helper for invariants: is pfn's dirty flag set. */
export function PageDirty(mm: MmStruct, pfn: number): boolean {
  return mm.env.pages.test(pfn, PG_dirty)
}
