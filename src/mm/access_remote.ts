/**
 * The kernel reading and writing another process's memory: ptrace's
 * PEEKDATA/POKEDATA, /proc/<pid>/mem and the core dumper (Kernel: mm/gup.c
 * get_user_pages_remote, check_vma_flags, get_dump_page; mm/memory.c
 * __access_remote_vm, access_remote_vm, generic_access_phys).
 *
 * Pages are reached through get_user_pages (the page is pinned and copied
 * through the kernel's own address of the frame), never through the
 * process's mapping. A VM_IO or VM_PFNMAP VMA has no pages to pin: GUP
 * refuses it and only its vm_ops->access can serve the bytes (/dev/mem's
 * and UIO's physical maps give generic_access_phys, which follows the PTE
 * to the physical address). A VMA with neither ends the copy short.
 *
 * FOLL_FORCE (what ptrace and /proc/<pid>/mem pass) lets a read reach a
 * VMA without VM_READ if it has VM_MAYREAD, and a write reach a private
 * VMA without VM_WRITE if it has VM_MAYWRITE (the COW copy the write makes
 * stays read-only to the process: maybe_mkwrite()). A shared VMA without
 * VM_WRITE is never forced.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { EFAULT, EINVAL, ENOMEM } from '../include/errno.js'
import { offset_in_page } from '../include/wide.js'
import { type MmStruct, type VmArea, VM_IO, VM_PFNMAP, VM_READ, VM_WRITE, VM_MAYREAD, is_cow_mapping, vm_flags_test, vm_flags_or } from './mm_types.js'
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, VM_FAULT_ERROR, VM_FAULT_OOM, handle_mm_fault, pte_hw_present, pte_present, pte_pfn, pte_write, vm_normal_page, vma_is_anonymous } from './memory.js'
import { vma_lookup } from './vma.js'
import { put_page } from './rmap.js'
import { set_page_dirty } from './shmem.js'

/** GUP flags (include/linux/mm_types.h enum). */
export const FOLL_WRITE = 0x01
export const FOLL_GET = 0x04
export const FOLL_DUMP = 0x08
export const FOLL_FORCE = 0x10

const IO_PFNMAP = vm_flags_or(VM_IO, VM_PFNMAP)

/** Kernel: check_vma_flags(): 0, or -EFAULT when GUP may not take pages of this VMA. */
export function check_vma_flags(vma: VmArea, gup_flags: number): number {
  const flags = vma.vm_flags
  if (vm_flags_test(flags, IO_PFNMAP)) return -EFAULT
  if (gup_flags & FOLL_WRITE) {
    if (!vm_flags_test(flags, VM_WRITE)) {
      if (!(gup_flags & FOLL_FORCE)) return -EFAULT
      // a forced write only breaks COW: never into a shared mapping
      if (!is_cow_mapping(flags)) return -EFAULT
    }
  } else if (!vm_flags_test(flags, VM_READ)) {
    if (!(gup_flags & FOLL_FORCE)) return -EFAULT
    if (!vm_flags_test(flags, VM_MAYREAD)) return -EFAULT
  }
  return 0
}

/** What get_user_page_vma_remote() returns: the pinned page, or -errno (the VMA when there is one). */
export interface RemotePage {
  readonly page: number
  readonly vma: VmArea | null
}

/**
 * Kernel: get_user_page_vma_remote() (__get_user_pages for one page of
 * another mm, FAULT_FLAG_REMOTE): the page at addr with a reference the
 * caller put_page()s, or page = -errno. FOLL_DUMP answers -EFAULT where a
 * core dump should leave a hole instead of making memory: no page table,
 * the zero page, or a special PTE.
 */
export function get_user_page_vma_remote(mm: MmStruct, addr: number, gup_flags: number): RemotePage {
  const a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE
  const vma = vma_lookup(mm, a)
  if (!vma) return { page: -EFAULT, vma: null }
  const err = check_vma_flags(vma, gup_flags)
  if (err) return { page: err, vma }
  const write = (gup_flags & FOLL_WRITE) !== 0
  const vpn = a / PAGE_SIZE
  let pte = mm.pgd.get(vpn)
  // follow_page_mask() first; a FOLL_DUMP miss on memory never touched is a hole (no_page_table())
  // pte_present(): a PROT_NONE entry is followed too (gup_can_follow_protnone() without FOLL_HONOR_NUMA_FAULT)
  if (!(pte_present(pte) && (!write || pte_write(pte)))) {
    if (gup_flags & FOLL_DUMP && pte === 0 && (vma_is_anonymous(vma) || !vma.vm_ops?.fault)) return { page: -EFAULT, vma }
    const r = handle_mm_fault(mm, vma, a, (write ? FAULT_FLAG_WRITE : 0) | FAULT_FLAG_REMOTE)
    if (r & VM_FAULT_ERROR) return { page: r & VM_FAULT_OOM ? -ENOMEM : -EFAULT, vma }
    pte = mm.pgd.get(vpn)
    if (!pte_present(pte)) return { page: -EFAULT, vma }
  }
  if (pte_pfn(pte) === mm.env.zero_pfn) {
    if (gup_flags & FOLL_DUMP) return { page: -EFAULT, vma }
    mm.env.pages.get_page(mm.env.zero_pfn)
    return { page: mm.env.zero_pfn, vma }
  }
  const page = vm_normal_page(vma, pte)
  if (page < 0) return { page: -EFAULT, vma }
  // follow_page_pte() with FOLL_WRITE dirties the page it hands out
  if (write) set_page_dirty(mm.env, page)
  mm.env.pages.get_page(page)
  return { page, vma }
}

/**
 * Kernel: get_dump_page(): the page the core dumper writes for addr, or -1
 * for a hole (a page never touched, the zero page, a special PTE, an error).
 */
export function get_dump_page(mm: MmStruct, addr: number): number {
  const r = get_user_page_vma_remote(mm, addr, FOLL_FORCE | FOLL_DUMP | FOLL_GET)
  return r.page >= 0 ? r.page : -1
}

/**
 * Kernel: __access_remote_vm(): copy buf.length bytes between buf and mm at
 * addr (write: into mm). Page by page through GUP; a VM_IO/VM_PFNMAP VMA
 * through its vm_ops->access. The bytes copied (short at the first page
 * neither serves).
 */
export function __access_remote_vm(mm: MmStruct, addr: number, buf: Uint8Array, gup_flags: number): number {
  const write = (gup_flags & FOLL_WRITE) !== 0
  let done = 0
  while (done < buf.length) {
    const a = addr + done
    const r = get_user_page_vma_remote(mm, a, gup_flags)
    let bytes: number
    if (r.page < 0) {
      const vma = r.vma ?? vma_lookup(mm, a)
      // (expand_stack() of a stack below its VMA: not modelled; the copy ends)
      const access = vma?.vm_ops?.access
      if (!vma || !access) break
      bytes = access(vma, a, buf.subarray(done), write)
      if (bytes <= 0) break
    } else {
      bytes = Math.min(buf.length - done, PAGE_SIZE - offset_in_page(a))
      const physmem = mm.env.physmem
      const off = offset_in_page(a)
      if (write) {
        // copy_to_user_page() + set_page_dirty_lock()
        physmem.write(r.page * PAGE_SIZE + off, buf.subarray(done, done + bytes))
        set_page_dirty(mm.env, r.page)
      } else {
        buf.set(physmem.read(r.page * PAGE_SIZE + off, bytes), done)
      }
      put_page(mm.env, r.page)
    }
    done += bytes
  }
  return done
}

/**
 * Kernel: generic_access_phys(): the vm_ops->access of an I/O memory
 * mapping. The PTE at addr gives the physical address (no PTE: -EINVAL, so
 * a revoked /dev/mem mapping reads nothing); a write needs a writable PTE
 * (-EINVAL). The bytes are copied at that physical address through an
 * ioremap of it (buf.length from addr's offset, as Linux maps
 * PAGE_ALIGN(len + offset) bytes from the frame). buf.length, or -errno.
 */
export function generic_access_phys(vma: VmArea, addr: number, buf: Uint8Array, write: boolean): number {
  if (!vm_flags_test(vma.vm_flags, IO_PFNMAP)) return -EINVAL
  const mm = vma.vm_mm
  const pte = mm.pgd.get(Math.floor(addr / PAGE_SIZE))
  if (!pte_hw_present(pte)) return -EINVAL
  if (write && !pte_write(pte)) return -EINVAL
  const phys = pte_pfn(pte) * PAGE_SIZE + offset_in_page(addr)
  const physmem = mm.env.physmem
  // ioremap_prot() of frames the hardware does not back fails
  if (Math.ceil((phys + buf.length) / PAGE_SIZE) > physmem.nr_frames) return -ENOMEM
  if (write) physmem.write(phys, buf)
  else buf.set(physmem.read(phys, buf.length))
  return buf.length
}
