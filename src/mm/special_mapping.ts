/**
 * Special mappings: [vdso], [vvar], [vvar_vclock] (Kernel:
 * _install_special_mapping(), special_mapping_fault(), mm/vma.c and
 * mm/mmap.c; arch/x86/entry/vdso/vma.c vdso_fault/vvar_fault).
 *
 * A special mapping is a VMA with no file whose vm_ops hand out pages the
 * kernel owns: the vDSO's code pages (ordinary struct pages of the kernel
 * image, mapped and counted like file pages) or, for VM_PFNMAP mappings such
 * as [vvar], raw PFNs behind special PTEs (no struct page is touched). A
 * fault past the pages the mapping provides is SIGBUS, as
 * special_mapping_fault() answers. Special mappings cannot be split.
 */
import { find_vma_intersection, vm_area_alloc, vma_link, vm_stat_account } from './vma.js'
import { VM_DONTEXPAND, VM_LOCKED_MASK, VM_PFNMAP, vm_flags_andnot, vm_flags_or, vm_flags_test, type MmStruct, type VmArea, type vm_flags_t } from './mm_types.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { offset_in_page } from '../include/wide.js'
import { EINVAL, ENOMEM } from '../include/errno.js'
import { VM_FAULT_SIGBUS } from './memory.js'
import { vmf_insert_pfn } from './remap.js'

/** Kernel: struct vm_special_mapping. */
export interface VmSpecialMapping {
  readonly name: string
  /** Frames the mapping provides, by page offset; a fault beyond them is SIGBUS. */
  readonly pages: readonly number[]
}


/**
 * Kernel: _install_special_mapping(). Inserts [addr, addr+len) with
 * vm_flags | VM_DONTEXPAND (mm->def_flags minus the mlock bits). Returns 0
 * or -errno (-ENOMEM when the range is taken or out of memory).
 */
export function _install_special_mapping(mm: MmStruct, addr: number, len: number, vm_flags: vm_flags_t, sm: VmSpecialMapping): number {
  if (len <= 0 || offset_in_page(addr) !== 0 || offset_in_page(len) !== 0) return -EINVAL
  if (find_vma_intersection(mm, addr, addr + len)) return -ENOMEM
  // __install_special_mapping(): no vm_area_struct, -ENOMEM (execve then fails).
  const vma: VmArea | null = vm_area_alloc(mm)
  if (!vma) return -ENOMEM
  vma.vm_start = addr
  vma.vm_end = addr + len
  vma.vm_pgoff = 0
  vma.vm_flags = vm_flags_andnot(vm_flags_or(vm_flags_or(vm_flags, mm.def_flags), VM_DONTEXPAND), VM_LOCKED_MASK)
  vma.special_name = sm.name
  vma.vm_private_data = sm
  vma.vm_ops = {
    // Kernel: special_mapping_name(): what /proc/<pid>/maps prints.
    name: sm.name,
    // Kernel: special_mapping_split(): the kernel expects the whole mapping.
    may_split: () => -EINVAL,
    // Kernel: special_mapping_fault() (get_page + vmf->page), vvar_fault() (vmf_insert_pfn).
    fault: (vmf) => {
      if (vmf.pgoff >= sm.pages.length) return VM_FAULT_SIGBUS
      const pfn = sm.pages[vmf.pgoff]
      if (vm_flags_test(vmf.vma.vm_flags, VM_PFNMAP)) return vmf_insert_pfn(vmf.vma, vmf.address, pfn)
      mm.env.pages.get_page(pfn)
      vmf.page = pfn
      return 0
    },
  }
  vma_link(mm, vma)
  vm_stat_account(mm, vma.vm_flags, len / PAGE_SIZE)
  return 0
}
