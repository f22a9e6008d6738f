/**
 * File seals (Kernel: mm/memfd.c memfd_add_seals(), memfd_get_seals(),
 * memfd_fcntl(), memfd_check_seals_mmap(); mm/shmem.c's checks of them).
 *
 * Only shmem objects carry seals (shmem_inode_info.seals); every one starts
 * with F_SEAL_SEAL (nothing can be added), which memfd_create() lifts for
 * MFD_ALLOW_SEALING and MFD_NOEXEC_SEAL. F_SEAL_WRITE needs the object to
 * have no shared writable mapping (VM_SHARED with VM_MAYWRITE: EBUSY) and
 * no page pinned by get_user_pages (EBUSY once memfd_wait_for_pins() gives
 * up); F_SEAL_FUTURE_WRITE only stops what comes after it. The other
 * checks live where Linux has them: shmem_write_begin() (write: EPERM),
 * shmem_setattr() (truncate: EPERM), shmem_fallocate() (EPERM) and do_mmap()
 * (memfd_check_seals_mmap(): a writable shared mapping of a write-sealed
 * object is EPERM, a read-only one loses VM_MAYWRITE).
 */
import { EBUSY, EINVAL, EPERM } from '../include/errno.js'
import { F_ADD_SEALS, F_GET_SEALS, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE } from '../include/uapi/fcntl.js'
import { type AddressSpace, type VmFile, type vm_flags_t, FMODE_WRITE, VM_MAYWRITE, VM_SHARED, VM_WRITE, vm_flags_andnot, vm_flags_test } from './mm_types.js'
import type { PageArray } from './page.js'

/** F_ALL_SEALS. */
const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE

/** Kernel: memfd_file_seals_ptr(): only shmem objects have seals (null: EINVAL). */
function memfd_file_seals(file: VmFile): AddressSpace | null {
  const mapping = file.f_mapping
  return mapping.backing === 'shmem' && mapping.seals !== undefined ? mapping : null
}

/** Kernel: is_write_sealed(). */
export function is_write_sealed(seals: number): boolean {
  return (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0
}

/** Kernel: mapping_writably_mapped(): a VMA maps the object VM_SHARED with VM_MAYWRITE. */
export function mapping_writably_mapped(mapping: AddressSpace): boolean {
  for (const vma of mapping.i_mmap) if (vm_flags_test(vma.vm_flags, VM_SHARED) && vm_flags_test(vma.vm_flags, VM_MAYWRITE)) return true
  return false
}

/**
 * Kernel: memfd_wait_for_pins(): a page whose references are more than the
 * cache's and its mappings' is pinned (get_user_pages); Linux waits about
 * 150 ms for the pins to go, then answers EBUSY. Nothing drops a pin while
 * the simulated caller waits, so a pinned page is EBUSY at once.
 */
function memfd_wait_for_pins(pages: PageArray, mapping: AddressSpace): number {
  for (const pfn of mapping.i_pages.values()) if (pages._refcount[pfn] - pages._mapcount[pfn] !== 1) return -EBUSY
  return 0
}

/** Kernel: memfd_add_seals(). 0 or -errno (EPERM, EINVAL, EBUSY) in Linux's order. */
function memfd_add_seals(pages: PageArray, file: VmFile, seals: number, i_mode: number): number {
  if (!(file.f_mode & FMODE_WRITE)) return -EPERM
  if (seals & ~F_ALL_SEALS) return -EINVAL
  const mapping = memfd_file_seals(file)
  if (!mapping) return -EINVAL
  const cur = mapping.seals as number
  if (cur & F_SEAL_SEAL) return -EPERM
  if (seals & F_SEAL_WRITE && !(cur & F_SEAL_WRITE)) {
    // mapping_deny_writable(): no shared writable mapping may exist
    if (mapping_writably_mapped(mapping)) return -EBUSY
    const e = memfd_wait_for_pins(pages, mapping)
    if (e) return e
  }
  // F_SEAL_EXEC on an executable file implies the write seals (W^X from the start).
  if (seals & F_SEAL_EXEC && i_mode & 0o111) seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE
  mapping.seals = cur | seals
  return 0
}

/**
 * Kernel: memfd_fcntl(): F_ADD_SEALS (an unsigned long argument; above
 * UINT_MAX: EINVAL) and F_GET_SEALS (EINVAL for a file without seals).
 * `i_mode` is the inode's mode (F_SEAL_EXEC reads its x bits).
 */
export function memfd_fcntl(pages: PageArray, file: VmFile, cmd: number, arg: number, i_mode: number): number {
  if (cmd === F_ADD_SEALS) {
    if (arg > 0xffffffff || arg < 0) return -EINVAL
    return memfd_add_seals(pages, file, arg, i_mode)
  }
  if (cmd === F_GET_SEALS) {
    const mapping = memfd_file_seals(file)
    return mapping ? (mapping.seals as number) : -EINVAL
  }
  return -EINVAL
}

/**
 * Kernel: memfd_check_seals_mmap(): for a write-sealed object a shared
 * writable mapping is EPERM and a shared read-only one loses VM_MAYWRITE
 * (mprotect cannot make it writable later). err 0 with the new vm_flags,
 * or err -EPERM.
 */
export function memfd_check_seals_mmap(file: VmFile, vm_flags: vm_flags_t): { err: number; vm_flags: vm_flags_t } {
  const mapping = memfd_file_seals(file)
  if (!mapping || !is_write_sealed(mapping.seals as number) || !vm_flags_test(vm_flags, VM_SHARED)) return { err: 0, vm_flags }
  if (vm_flags_test(vm_flags, VM_WRITE)) return { err: -EPERM, vm_flags }
  return { err: 0, vm_flags: vm_flags_andnot(vm_flags, VM_MAYWRITE) }
}

/**
 * Kernel: shmem_write_begin()'s seal check for a write of `len` bytes at
 * pos (one page's chunk): EPERM under a write seal, or when F_SEAL_GROW
 * and the chunk passes i_size. 0 otherwise.
 */
export function shmem_write_seals(mapping: AddressSpace, pos: number, len: number): number {
  const seals = mapping.backing === 'shmem' ? (mapping.seals ?? 0) : 0
  if (!(seals & (F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) return 0
  if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) return -EPERM
  if (seals & F_SEAL_GROW && pos + len > mapping.i_size) return -EPERM
  return 0
}

/** Kernel: shmem_setattr()'s seal check of a size change: EPERM for a sealed shrink or growth. */
export function shmem_setattr_seals(mapping: AddressSpace, newsize: number): number {
  const seals = mapping.backing === 'shmem' ? (mapping.seals ?? 0) : 0
  if ((newsize < mapping.i_size && seals & F_SEAL_SHRINK) || (newsize > mapping.i_size && seals & F_SEAL_GROW)) return -EPERM
  return 0
}
