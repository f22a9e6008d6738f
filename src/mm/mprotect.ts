/**
 * mprotect (Kernel: mm/mprotect.c do_mprotect_pkey, mprotect_fixup,
 * change_protection).
 *
 * The VMAs are changed one after another up to the first hole, which then
 * makes the call fail with ENOMEM while the earlier changes stay, as in
 * Linux. PTEs follow the new protection: write permission is removed at
 * once; it is granted at once only where no COW or dirty tracking is needed
 * (exclusive anonymous pages, shared mappings without writenotify).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { flags_union } from '../include/wide.js'
import {
  type MmStruct,
  type VmArea,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_HUGETLB,
  VM_LOCKED,
  VM_NORESERVE,
  VM_SEALED,
  VM_SHARED,
  VM_WRITE,
  vm_flags_andnot,
  vm_flags_or,
  vm_flags_test,
  VM_GROWSDOWN,
  vm_flags_and,
  vm_flags_shr,
  type vm_flags_t,
} from './mm_types.js'
import { PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE } from './mman.js'
import { find_vma, vma_modify, vm_stat_account } from './vma.js'
import { BITS_PER_LONG, calc_vm_prot_bits } from './mmap.js'
import { type UlongArg, ul_add, ul_cmp_num, ul_low32, ul_offset_in_page, ul_page_align, ulong } from '../include/ulong.js'
import { pte_modify } from '../arch/pte.js'
import {
  _PAGE_PRESENT,
  _PAGE_RW,
  pte_dirty,
  pte_present,
  pte_set_flags,
  vm_normal_page,
  vm_page_prot,
  vma_is_anonymous,
  vma_wants_writenotify,
} from './memory.js'
import { PG_anon_exclusive } from './page.js'
import { populate_vma_page_range } from './gup.js'
import { may_expand_vm, security_vm_enough_memory_mm, vm_unacct_memory } from './util.js'
import { EACCES, EINVAL, ENOMEM, EPERM } from '../include/errno.js'

/** Kernel: change_protection(): rewrite the PTEs of [start, end) for vma's new flags. */
export function change_protection(mm: MmStruct, vma: VmArea, start: number, end: number): void {
  const prot = vm_page_prot(vma)
  const private_writable = vm_flags_and(vma.vm_flags, WRITE_SHARED) === VM_WRITE
  const shared_wn = vma_wants_writenotify(vma)
  const pages = mm.env.pages
  // tlb_flush_pte_range() per changed PTE: the flush covers the span actually changed.
  let lo = Infinity
  let hi = -Infinity
  mm.pgd.each(start / PAGE_SIZE, end / PAGE_SIZE, (vpn, pte) => {
    if (!pte_present(pte)) return
    // pte_modify(): PFN, A, D, special kept; P/PROTNONE, RW, US and NX from the new vm_page_prot.
    let n = pte_modify(pte, prot)
    if (!(prot & _PAGE_RW) && prot & _PAGE_PRESENT) {
      const page = vm_normal_page(vma, pte)
      if (private_writable && page >= 0 && pages.mapping[page] < 0 && pages.test(page, PG_anon_exclusive)) {
        n = pte_set_flags(n, _PAGE_RW)
      } else if (shared_wn && vm_flags_test(vma.vm_flags, VM_WRITE) && pte_dirty(pte)) {
        n = pte_set_flags(n, _PAGE_RW)
      }
    }
    if (n !== pte) {
      mm.pgd.set(vpn, n)
      if (vpn < lo) lo = vpn
      if (vpn > hi) hi = vpn
    }
  })
  if (hi >= lo) mm.env.flush_tlb_range(mm, lo * PAGE_SIZE, (hi + 1) * PAGE_SIZE)
}

/** Flags of a VMA whose writable pages are charged already, or never (mprotect_fixup()'s test). */
const CHARGED_ALREADY = flags_union(VM_ACCOUNT, VM_WRITE, VM_HUGETLB, VM_SHARED, VM_NORESERVE)
const LOCKED_COW_MASK = flags_union(VM_WRITE, VM_SHARED, VM_LOCKED)
const WRITE_SHARED = vm_flags_or(VM_WRITE, VM_SHARED)

/** Kernel: mprotect_fixup(): give [start, end) of vma newflags. 0 or -errno. */
export function mprotect_fixup(mm: MmStruct, vma: VmArea, start: number, end: number, newflags: vm_flags_t): number {
  if (vm_flags_test(vma.vm_flags, VM_SEALED)) return -EPERM
  const oldflags = vma.vm_flags
  if (newflags === oldflags) return 0
  const nrpages = (end - start) / PAGE_SIZE
  let charged = 0
  if (vm_flags_test(newflags, VM_WRITE)) {
    if (!may_expand_vm(mm, newflags, nrpages) && may_expand_vm(mm, oldflags, nrpages)) return -ENOMEM
    if (!vm_flags_test(oldflags, CHARGED_ALREADY)) {
      charged = nrpages
      if (security_vm_enough_memory_mm(mm, charged)) return -ENOMEM
      newflags = vm_flags_or(newflags, VM_ACCOUNT)
    }
  } else if (vm_flags_test(oldflags, VM_ACCOUNT) && vma_is_anonymous(vma) && !vma.anon_vma) {
    newflags = vm_flags_andnot(newflags, VM_ACCOUNT)
  }
  const r = vma_modify(mm, vma, start, end, { vm_flags: newflags })
  if (typeof r === 'number') {
    if (charged) vm_unacct_memory(mm.env, charged)
    return r
  }
  if (vm_flags_test(oldflags, VM_ACCOUNT) && !vm_flags_test(newflags, VM_ACCOUNT)) vm_unacct_memory(mm.env, nrpages)
  // vma_set_page_prot + change_protection
  change_protection(mm, r, start, end)
  // A private VM_LOCKED VMA becoming writable: break COW now to avoid faults later.
  if (vm_flags_and(oldflags, LOCKED_COW_MASK) === VM_LOCKED && vm_flags_test(newflags, VM_WRITE)) {
    populate_vma_page_range(mm, r, start, end)
  }
  vm_stat_account(mm, oldflags, -nrpages)
  vm_stat_account(mm, newflags, nrpages)
  return 0
}

/**
 * Kernel: do_mprotect_pkey() with pkey -1: the mprotect syscall (start and
 * len are unsigned longs, src/include/ulong.ts). 0 or -errno.
 */
export function do_mprotect_pkey(mm: MmStruct, start_in: UlongArg, len_in: UlongArg, prot_in: UlongArg): number {
  const bits = BITS_PER_LONG(mm)
  const ustart = ulong(start_in, bits)
  const ulen = ulong(len_in, bits)
  // prot is an unsigned long too: a bit above 31 is an unknown one (EINVAL below).
  let prot = ul_low32(ulong(prot_in, bits), true)
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP)
  if (grows) prot -= grows
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL
  if (ul_offset_in_page(ustart)) return -EINVAL
  if (!ulen) return 0
  const uend = ul_add(ustart, ul_page_align(ulen, bits), bits)
  if (uend <= ustart) return -ENOMEM
  // arch_validate_prot() (x86): only PROT_READ|WRITE|EXEC|SEM
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) || prot >= 2 ** 32) return -EINVAL
  // No VMA lies at or above 2^53: a start there finds none (ENOMEM), an end there is only
  // compared with VMA addresses.
  let start = ul_cmp_num(ustart)
  const end = ul_cmp_num(uend)
  const reqprot = prot
  let vma = find_vma(mm, start)
  if (!vma || vma.vm_start >= end) return -ENOMEM
  if (grows & PROT_GROWSDOWN) {
    if (vma.vm_start >= end) return -ENOMEM
    start = vma.vm_start
    if (!vm_flags_test(vma.vm_flags, VM_GROWSDOWN)) return -EINVAL
  } else {
    if (vma.vm_start > start) return -ENOMEM
    if (grows & PROT_GROWSUP) return -EINVAL
  }
  let nstart = start
  let tmp = vma.vm_start
  let error = 0
  for (;;) {
    if (!vma || vma.vm_start >= end) break
    if (vma.vm_start !== tmp) {
      error = -ENOMEM
      break
    }
    let newflags = calc_vm_prot_bits(prot)
    newflags = vm_flags_or(newflags, vm_flags_andnot(vma.vm_flags, VM_ACCESS_FLAGS))
    // newflags >> 4 shifts VM_MAY% in place of VM_%
    if (vm_flags_test(vm_flags_andnot(newflags, vm_flags_shr(newflags, 4)), VM_ACCESS_FLAGS)) {
      error = -EACCES
      break
    }
    tmp = Math.min(vma.vm_end, end)
    error = mprotect_fixup(mm, vma, nstart, tmp, newflags)
    if (error) break
    // vma_iter_end: continue after the (possibly merged) VMA covering tmp-1
    const cur = find_vma(mm, tmp - 1) as VmArea
    tmp = Math.min(cur.vm_end, end)
    nstart = tmp
    prot = reqprot
    vma = find_vma(mm, tmp)
    if (nstart >= end) break
  }
  if (!error && tmp < end) error = -ENOMEM
  return error
}
