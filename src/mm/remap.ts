/**
 * The helpers a driver maps memory into a user VMA with (Kernel:
 * mm/memory.c remap_pfn_range, vm_insert_page, vmf_insert_pfn; mm/vmalloc.c
 * remap_vmalloc_range), with their preconditions and errors.
 *
 * Two kinds of PTE come out of them. A PFN map (remap_pfn_range,
 * vmf_insert_pfn) writes special PTEs: no struct page is referenced or
 * counted, so the frames may be MMIO or RAM the driver keeps alive itself;
 * the VMA becomes VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP, which
 * get_user_pages refuses and mremap cannot grow. vm_insert_page maps a
 * refcounted page like a file page (reference, mapcount, RssFile) and marks
 * the VMA VM_MIXEDMAP.
 *
 * Where Linux would BUG()/WARN(), the message goes to the kernel log
 * through env.driver_hooks.warn and the call fails instead of crashing the
 * simulator. One departure, on purpose (SECURITY.md S-G1): Linux does not
 * check that remap_pfn_range stays inside the VMA and writes PTEs past
 * vm_end; mmsim refuses with EINVAL and warns.
 */
import { EBUSY, EFAULT, EINVAL, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmEnv,
  type VmArea,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_IO,
  VM_MIXEDMAP,
  VM_PFNMAP,
  is_cow_mapping,
  vm_flags_or,
  vm_flags_test,
} from './mm_types.js'
import { _PAGE_ACCESSED, _PAGE_SPECIAL, map_file_page, mk_pte, pte_set_flags, vm_page_prot, VM_FAULT_NOPAGE, VM_FAULT_OOM, VM_FAULT_SIGBUS, zap_page_range_single } from './memory.js'

const REMAP_FLAGS = vm_flags_or(vm_flags_or(VM_IO, VM_PFNMAP), vm_flags_or(VM_DONTEXPAND, VM_DONTDUMP))
const PFNMAP_MIXEDMAP = vm_flags_or(VM_PFNMAP, VM_MIXEDMAP)

function warn(vma: VmArea, text: string): void {
  vma.vm_mm.env.driver_hooks.warn?.(text)
}
function hex(n: number): string {
  return `0x${n.toString(16)}`
}

/** Kernel: pgprot_noncached(): the PCD|PWT cache bits (MMIO registers must not be cached). */
export function pgprot_noncached(prot: number): number {
  return prot | 0x18
}

/**
 * Kernel: remap_pfn_range(): map [addr, addr+size) to the frames from pfn
 * on, now, with protection prot (vma->vm_page_prot when the driver has not
 * changed it). 0 or -errno; on failure the PTEs set so far are cleared.
 */
export function remap_pfn_range(vma: VmArea, addr: number, pfn: number, size: number, prot: number = vm_page_prot(vma)): number {
  const mm = vma.vm_mm
  if (addr % PAGE_SIZE !== 0) {
    warn(vma, `WARNING: mm/memory.c remap_pfn_range_internal: addr ${hex(addr)} is not page aligned`)
    return -EINVAL
  }
  if (!Number.isSafeInteger(pfn) || pfn < 0 || !Number.isSafeInteger(size) || size <= 0) return -EINVAL
  size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE
  if (!frames_exist(mm.env, pfn, size / PAGE_SIZE)) return -EINVAL
  const end = addr + size
  if (addr < vma.vm_start || end > vma.vm_end) {
    warn(vma, `WARNING: remap_pfn_range: [${hex(addr)}, ${hex(end)}) is outside the VMA [${hex(vma.vm_start)}, ${hex(vma.vm_end)}); refused (Linux would write PTEs past vm_end) [S-G1]`)
    return -EINVAL
  }
  // A COW mapping must be remapped whole: vm_pgoff then records the first pfn, so
  // vm_normal_page() can tell the original frames from COW copies.
  if (is_cow_mapping(vma.vm_flags)) {
    if (addr !== vma.vm_start || end !== vma.vm_end) return -EINVAL
    vma.vm_pgoff = pfn
  }
  vma.vm_flags = vm_flags_or(vma.vm_flags, REMAP_FLAGS)
  for (let a = addr, p = pfn; a < end; a += PAGE_SIZE, p++) {
    if (mm.pgd.get(a / PAGE_SIZE) !== 0) {
      // remap_pte_range(): BUG_ON(!pte_none(ptep_get(pte)))
      warn(vma, `kernel BUG at mm/memory.c remap_pte_range: PTE at ${hex(a)} is already present`)
      if (a > addr) zap_page_range_single(mm, vma, addr, a)
      return -EBUSY
    }
    if (!mm.pgd.set(a / PAGE_SIZE, pte_set_flags(mk_pte(p, prot), _PAGE_SPECIAL | _PAGE_ACCESSED))) {
      if (a > addr) zap_page_range_single(mm, vma, addr, a)
      return -ENOMEM
    }
  }
  return 0
}

/**
 * mmsim's physical address space ends at the last frame the machine has
 * (RAM and the holes below its top): nothing answers past it, so a PFN
 * map there is refused (EINVAL) instead of made. Linux would write the
 * PTE (masking a pfn past the PTE's address bits), and reads would return
 * what the bus gives for no device, all ones.
 */
function frames_exist(env: MmEnv, pfn: number, n: number): boolean {
  return Number.isSafeInteger(pfn) && pfn >= 0 && pfn + n <= env.pages.nr
}

/** Kernel: io_remap_pfn_range(): remap_pfn_range on x86 (no PFN fix-up). */
export function io_remap_pfn_range(vma: VmArea, addr: number, pfn: number, size: number, prot: number = vm_page_prot(vma)): number {
  return remap_pfn_range(vma, addr, pfn, size, prot)
}

/**
 * Kernel: __simple_ioremap_prep(): the first pfn to map for a VMA of
 * vm_len pages at page offset vm_pgoff into the physical range
 * [start, start + len), or -EINVAL. Every bound is a comparison of
 * unsigned quantities that cannot wrap: a range that wraps, an offset past
 * the range's pages, or more pages than remain after the offset.
 */
export function simple_ioremap_prep(vm_len: number, vm_pgoff: number, start: number, len: number): number {
  if (!(Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(len) && len >= 0)) return -EINVAL
  if (start + len >= 2 ** 64) return -EINVAL
  // an unaligned start is historically allowed (small I/O regions): the pages cover its first byte
  const pfn = Math.floor(start / PAGE_SIZE)
  const pages = Math.ceil((len + (start % PAGE_SIZE)) / PAGE_SIZE)
  if (vm_pgoff > pages) return -EINVAL
  if (vm_len > pages - vm_pgoff) return -EINVAL
  return pfn + vm_pgoff
}

/** Kernel: vm_iomap_memory(): map the whole VMA onto [start, start + len) from its vm_pgoff, bounds checked. */
export function vm_iomap_memory(vma: VmArea, start: number, len: number): number {
  const pfn = simple_ioremap_prep((vma.vm_end - vma.vm_start) / PAGE_SIZE, vma.vm_pgoff, start, len)
  if (pfn < 0) return pfn
  return io_remap_pfn_range(vma, vma.vm_start, pfn, vma.vm_end - vma.vm_start, vm_page_prot(vma))
}

/**
 * Kernel: vm_insert_page(): map one refcounted kernel page at addr (from
 * f_op->mmap). EFAULT outside the VMA; EINVAL for an anonymous, slab or
 * unreferenced page (validate_page_before_insert); EBUSY when a PTE is
 * there. The first call makes the VMA VM_MIXEDMAP.
 */
export function vm_insert_page(vma: VmArea, addr: number, pfn: number): number {
  const mm = vma.vm_mm
  const env = mm.env
  if (addr < vma.vm_start || addr >= vma.vm_end) return -EFAULT
  if (pfn < 0 || pfn >= env.pages.nr) return -EINVAL
  const pages = env.pages
  if (pages.mapping[pfn] < 0 || pages.PageSlab(pfn) || pages._refcount[pfn] <= 0) return -EINVAL
  if (!vm_flags_test(vma.vm_flags, VM_MIXEDMAP)) {
    if (vm_flags_test(vma.vm_flags, VM_PFNMAP)) {
      warn(vma, `kernel BUG at mm/memory.c vm_insert_page: VMA ${hex(vma.vm_start)} is VM_PFNMAP`)
      return -EINVAL
    }
    vma.vm_flags = vm_flags_or(vma.vm_flags, VM_MIXEDMAP)
  }
  addr -= addr % PAGE_SIZE
  if (mm.pgd.get(addr / PAGE_SIZE) !== 0) return -EBUSY
  map_file_page(mm, vma, addr, pfn, 0)
  return 0
}

/** Kernel: vm_insert_pages()/remap_vmalloc_range's loop: each page in turn; pages inserted before a failure stay. */
export function vm_insert_pages(vma: VmArea, addr: number, pfns: readonly number[]): number {
  for (let i = 0; i < pfns.length; i++) {
    const err = vm_insert_page(vma, addr + i * PAGE_SIZE, pfns[i])
    if (err) return err
  }
  return 0
}

/**
 * Kernel: remap_vmalloc_range_partial()'s tail: the area's pages (already
 * checked: user-mappable, in bounds) inserted from vm_start; the VMA then
 * cannot grow or be dumped.
 */
export function remap_vmalloc_pages(vma: VmArea, pfns: readonly number[] | number): number {
  if (typeof pfns === 'number') return pfns
  if (pfns.length * PAGE_SIZE > vma.vm_end - vma.vm_start) return -EINVAL
  const err = vm_insert_pages(vma, vma.vm_start, pfns)
  if (err) return err
  vma.vm_flags = vm_flags_or(vma.vm_flags, vm_flags_or(VM_DONTEXPAND, VM_DONTDUMP))
  return 0
}

/**
 * Kernel: vmf_insert_pfn(): from a fault handler, a special PTE for pfn at
 * addr. The VMA must be VM_PFNMAP or VM_MIXEDMAP (not both) and a PFN map
 * must not be COW (BUG_ON in Linux). VM_FAULT_NOPAGE when mapped or
 * already present, VM_FAULT_SIGBUS outside the VMA or on misuse.
 */
export function vmf_insert_pfn(vma: VmArea, addr: number, pfn: number): number {
  const mm = vma.vm_mm
  const both = vm_flags_test(vma.vm_flags, VM_PFNMAP) && vm_flags_test(vma.vm_flags, VM_MIXEDMAP)
  if (!vm_flags_test(vma.vm_flags, PFNMAP_MIXEDMAP) || both) {
    warn(vma, `kernel BUG at mm/memory.c vmf_insert_pfn: VMA ${hex(vma.vm_start)} needs exactly one of VM_PFNMAP and VM_MIXEDMAP`)
    return VM_FAULT_SIGBUS
  }
  if (vm_flags_test(vma.vm_flags, VM_PFNMAP) && is_cow_mapping(vma.vm_flags)) {
    warn(vma, `kernel BUG at mm/memory.c vmf_insert_pfn: COW VM_PFNMAP VMA ${hex(vma.vm_start)}`)
    return VM_FAULT_SIGBUS
  }
  if (addr < vma.vm_start || addr >= vma.vm_end || !frames_exist(mm.env, pfn, 1)) return VM_FAULT_SIGBUS
  addr -= addr % PAGE_SIZE
  if (mm.pgd.get(addr / PAGE_SIZE) !== 0) return VM_FAULT_NOPAGE
  if (!mm.pgd.set(addr / PAGE_SIZE, pte_set_flags(mk_pte(pfn, vm_page_prot(vma)), _PAGE_SPECIAL | _PAGE_ACCESSED))) return VM_FAULT_OOM
  return VM_FAULT_NOPAGE
}

/**
 * Kernel: vmf_insert_page(): vm_insert_page from a fault handler, the
 * error as a vm_fault_t (ENOMEM -> OOM, EBUSY -> NOPAGE, others SIGBUS).
 */
export function vmf_insert_page(vma: VmArea, addr: number, pfn: number): number {
  const err = vm_insert_page(vma, addr, pfn)
  if (err === -ENOMEM) return VM_FAULT_OOM
  if (err < 0 && err !== -EBUSY) return VM_FAULT_SIGBUS
  return VM_FAULT_NOPAGE
}
