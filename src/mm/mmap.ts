/**
 * mmap, munmap, brk and unmapped-area search (Kernel: mm/mmap.c do_mmap,
 * ksys_mmap_pgoff, __get_unmapped_area, arch/x86/kernel/sys_x86_64.c
 * arch_get_unmapped_area_topdown, mm/vma.c __mmap_region, do_vmi_munmap,
 * do_brk_flags, mm/util.c vm_mmap_pgoff).
 *
 * Every function returns an address / 0 on success and -errno on failure,
 * with the checks in Linux's order. The syscall entries (sys_mmap,
 * do_munmap, sys_brk) take their unsigned long arguments exactly
 * (src/include/ulong.ts: a number below 2^53, else a bigint), do the
 * argument checks in unsigned long arithmetic (PAGE_ALIGN wraps to 0 past
 * ULONG_MAX, an end may wrap past 0) and go on with plain numbers: a value
 * that passes those checks is a user address or length (below TASK_SIZE).
 */
import { memfd_check_seals_mmap } from './memfd.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { flags_union, offset_in_page } from '../include/wide.js'
import {
  type LongBits, type Ulong, type UlongArg, ul_add, ul_cmp_num, ul_err_value, ul_offset_in_page, ul_low32, ul_page_down, ul_pages, ulong,
} from '../include/ulong.js'
import {
  type MmStruct,
  type VmArea,
  type VmFile,
  FMODE_READ,
  FMODE_WRITE,
  VM_ACCOUNT,
  VM_DATA_DEFAULT_FLAGS,
  VM_DONTDUMP,
  VM_DROPPABLE,
  VM_GROWSDOWN,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_SEALED,
  VM_SHARED,
  VM_SPECIAL,
  VM_SYNC,
  VM_WIPEONFORK,
  VM_WRITE,
  vm_flags_andnot,
  vm_flags_or,
  vm_flags_test,
  VM_NONE,
  vm_flags_and,
  type vm_flags_t,
  dummy_vm_ops,
  mm_flags_set,
  MMF_OOM_SKIP,
} from './mm_types.js'
import * as M from './mman.js'
import {
  find_vma,
  find_vma_prev,
  find_vma_intersection,
  remove_vma,
  __remove_vma,
  split_vma,
  vm_area_alloc,
  vm_stat_account,
  vma_link,
  vma_merge_new_range,
  vmas_in_range,
  __split_vma,
  vm_area_free,
  type VmaMergeSpec,
} from './vma.js'
import { vma_pages } from './rmap.js'
import { unmap_vmas, zap_page_range_single } from './memory.js'
import { tlb_finish_mmu, tlb_free_table, tlb_gather_mmu } from './mmu_gather.js'
import { mm_populate } from './gup.js'
import { shmem_file_setup } from './shmem.js'
import {
  can_do_mlock, may_expand_vm, mlock_future_ok, rlimit, security_mmap_addr, security_vm_enough_memory_mm, vm_unacct_memory,
} from './util.js'
import { RLIMIT_DATA, RLIM_INFINITY } from '../include/resource.js'
import { EACCES, EAGAIN, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, EOVERFLOW, EPERM } from '../include/errno.js'

/** DEFAULT_MAP_WINDOW on x86-64 (47-bit user space). */
const DEFAULT_MAP_WINDOW = 0x7ffffffff000

/**
 * BITS_PER_LONG of the mm's architecture: the width of its syscall
 * arguments. Read off TASK_SIZE (above 4 GiB only with 64-bit longs), a
 * field of the mm: cheaper on the mmap path than the env's arch profile.
 */
export function BITS_PER_LONG(mm: MmStruct): LongBits {
  return mm.task_size > 0xffffffff ? 64 : 32
}

/**
 * MAX_LFS_FILESIZE >> PAGE_SHIFT: the last file page an mmap may reach
 * (LLONG_MAX on 64-bit, ULONG_MAX pages on 32-bit).
 */
function max_lfs_pgoff(bits: LongBits): number {
  return bits === 64 ? 2 ** 51 - 1 : 2 ** 32 - 1
}

/**
 * Kernel: calc_vm_prot_bits(): PROT_READ/WRITE/EXEC are VM_READ/WRITE/EXEC's
 * bits (the kernel's _calc_vm_trans() reduces to a mask for them), so the
 * masked prot is the flag word.
 */
export function calc_vm_prot_bits(prot: number): vm_flags_t {
  return (prot & (M.PROT_READ | M.PROT_WRITE | M.PROT_EXEC)) as vm_flags_t
}

/** Kernel: calc_vm_flag_bits(). */
function calc_vm_flag_bits(file: VmFile | null, flags: number): vm_flags_t {
  let f = VM_NONE
  if (flags & M.MAP_GROWSDOWN) f = vm_flags_or(f, VM_GROWSDOWN)
  if (flags & M.MAP_LOCKED) f = vm_flags_or(f, VM_LOCKED)
  if (flags & M.MAP_SYNC) f = vm_flags_or(f, VM_SYNC)
  if (flags & M.MAP_STACK) f = vm_flags_or(f, VM_NOHUGEPAGE)
  return f
}

/** Kernel: vm_start_gap(). */
export function vm_start_gap(mm: MmStruct, vma: VmArea): number {
  let start = vma.vm_start
  if (vm_flags_test(vma.vm_flags, VM_GROWSDOWN)) {
    start -= mm.env.sysctl.stack_guard_gap
    if (start > vma.vm_start) start = 0
    if (start < 0) start = 0
  }
  return start
}

/**
 * Kernel: unmapped_area_topdown(): the top of the highest gap in
 * [low, high) that fits length, found by the tree's gap search
 * (mas_empty_area_rev). When the VMA above the chosen gap grows down and its
 * guard gap reaches into the gap, the search restarts below that guard gap
 * (high_limit = vm_start_gap(next)), as the kernel's retry does.
 */
function unmapped_area_topdown(mm: MmStruct, length: number, low_limit: number, high_limit: number): number {
  if (low_limit < mm.env.sysctl.mmap_min_addr) low_limit = mm.env.sysctl.mmap_min_addr
  const mt = mm.mm_mt
  for (;;) {
    const next = mt.gap_rev(length, low_limit, high_limit)
    if (next === undefined) return -ENOMEM
    const found = mt.gap_end
    if (next && vm_flags_test(next.vm_flags, VM_GROWSDOWN) && vm_start_gap(mm, next) < found) {
      // Each retry lowers high_limit below a VMA's start: it ends after at most map_count rounds.
      high_limit = vm_start_gap(mm, next)
      if (high_limit - low_limit < length) return -ENOMEM
      continue
    }
    return found - length
  }
}

/** Kernel: unmapped_area() (bottom-up), restarting above a grows-down VMA whose guard gap overlaps. */
function unmapped_area(mm: MmStruct, length: number, low_limit: number, high_limit: number): number {
  const mt = mm.mm_mt
  low_limit = Math.max(low_limit, mm.env.sysctl.mmap_min_addr)
  for (;;) {
    const next = mt.gap_fwd(length, low_limit, high_limit)
    if (next === undefined) return -ENOMEM
    const found = mt.gap_start
    if (next && vm_flags_test(next.vm_flags, VM_GROWSDOWN) && vm_start_gap(mm, next) < found + length) {
      // Each retry raises low_limit past a VMA: it ends after at most map_count rounds.
      low_limit = next.vm_end
      continue
    }
    return found
  }
}

/** Kernel: mmap_address_hint_valid(). */
function mmap_address_hint_valid(mm: MmStruct, addr: number, len: number): boolean {
  if (mm.task_size - len < addr) return false
  return addr > DEFAULT_MAP_WINDOW === addr + len > DEFAULT_MAP_WINDOW
}

/** Kernel: arch_get_unmapped_area_topdown() (x86-64) for a non-fixed request (a fixed one returns addr as is). */
function arch_get_unmapped_area_topdown(mm: MmStruct, addr: number, len: number, flags: number): number {
  if (len > mm.task_size) return -ENOMEM
  if (!(flags & M.MAP_32BIT)) {
    if (addr) {
      addr = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE
      if (mmap_address_hint_valid(mm, addr, len)) {
        const vma = find_vma(mm, addr)
        if (!vma || addr + len <= vm_start_gap(mm, vma)) return addr
      }
    }
    const r = unmapped_area_topdown(mm, len, PAGE_SIZE, mm.mmap_base)
    if (r >= 0) return r
  }
  // bottomup: arch_get_unmapped_area()
  const low = flags & M.MAP_32BIT ? 0x40000000 : mm.mmap_legacy_base
  const high = flags & M.MAP_32BIT ? 0x80000000 : mm.task_size
  return unmapped_area(mm, len, low, high)
}

const PMD_SIZE = 2 * 1024 * 1024

/**
 * Does this file's get_unmapped_area align to huge pages? ext4's regular
 * files do (thp_get_unmapped_area, even with THP disabled for the process:
 * test/fixtures/probes/thp_align_pt_reclaim); tmpfs (huge=never) and
 * devices do not; 32-bit kernels never.
 */
function file_thp_aligned(mm: MmStruct, file: VmFile): boolean {
  return mm.env.arch.bits === 64 && file.f_mmap === undefined && !file.anon_shared && file.f_mapping.backing === 'disk'
}

/**
 * Kernel: __thp_get_unmapped_area(): search for len + PMD_SIZE and place the
 * mapping so that file offset and address agree modulo PMD_SIZE (at the top
 * of the padded gap when top-down); the plain search when the file range
 * holds no whole PMD or the padded search fails.
 */
function thp_get_unmapped_area(mm: MmStruct, addr: number, len: number, pgoff: number, flags: number): number {
  const off = pgoff * PAGE_SIZE
  const off_end = off + len
  const off_align = Math.ceil(off / PMD_SIZE) * PMD_SIZE
  if (off_end <= off_align || off_end - off_align < PMD_SIZE) return arch_get_unmapped_area_topdown(mm, addr, len, flags)
  const ret = arch_get_unmapped_area_topdown(mm, addr, len + PMD_SIZE, flags)
  if (ret < 0) return arch_get_unmapped_area_topdown(mm, addr, len, flags)
  if (ret === addr) return addr
  const off_sub = (((off - ret) % PMD_SIZE) + PMD_SIZE) % PMD_SIZE
  if (!off_sub) return ret + PMD_SIZE
  return ret + off_sub
}

/**
 * Kernel: __get_unmapped_area(). A MAP_FIXED `addr` is the caller's exact
 * unsigned long: the arch code hands it back unchecked, so one of the top
 * 4095 values reads as that error code (IS_ERR_VALUE: mmap(-22, MAP_FIXED)
 * is EINVAL), and any other one above TASK_SIZE - len is ENOMEM.
 */
export function get_unmapped_area(mm: MmStruct, _file: VmFile | null, addr: Ulong, len: number, _pgoff: number, flags: number): number {
  if (len > mm.task_size) return -ENOMEM
  let r: number
  if (flags & M.MAP_FIXED) {
    // Every error value lies above TASK_SIZE - len: test for one only then.
    if (addr > mm.task_size - len) return ul_err_value(addr, BITS_PER_LONG(mm)) || -ENOMEM
    r = addr as number
  } else {
    // Callers pass a hint as a number (round_hint_to_min() makes a wide one a double above TASK_SIZE).
    r = _file && file_thp_aligned(mm, _file) ? thp_get_unmapped_area(mm, addr as number, len, _pgoff, flags) : arch_get_unmapped_area_topdown(mm, addr as number, len, flags)
    if (r < 0) return r
    if (r > mm.task_size - len) return -ENOMEM
  }
  if (offset_in_page(r)) return -EINVAL
  const error = security_mmap_addr(mm, r)
  return error ? error : r
}

/** Kernel: round_hint_to_min(). A hint of 2^53 or more comes back as its double (ul_cmp_num). */
function round_hint_to_min(mm: MmStruct, hint: Ulong): number {
  const h = typeof hint === 'number' ? hint - offset_in_page(hint) : ul_cmp_num(ul_page_down(hint))
  const min = mm.env.sysctl.mmap_min_addr
  if (h && h < min) return Math.ceil(min / PAGE_SIZE) * PAGE_SIZE
  return h
}

const ACCOUNTABLE_MASK = flags_union(VM_NORESERVE, VM_SHARED, VM_WRITE)
/** Kernel: accountable_mapping(). */
function accountable_mapping(vm_flags: vm_flags_t): boolean {
  return vm_flags_and(vm_flags, ACCOUNTABLE_MASK) === VM_WRITE
}
const VM_MAY_RWX = flags_union(VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC)
const VM_SHARED_MAYSHARE = vm_flags_or(VM_SHARED, VM_MAYSHARE)
const VM_DROPPABLE_FLAGS = flags_union(VM_DROPPABLE, VM_NORESERVE, VM_WIPEONFORK, VM_DONTDUMP)
const BRK_FLAGS = vm_flags_or(VM_DATA_DEFAULT_FLAGS, VM_ACCOUNT)

/** Result of gathering the VMAs a munmap or MAP_FIXED replaces (struct vma_munmap_struct). */
interface MunmapGather {
  vmas: VmArea[]
  nr_pages: number
  nr_accounted: number
  locked_vm: number
}

/**
 * Kernel: vms_gather_munmap_vmas(): split at start and end and collect the
 * VMAs inside [start, end). Fails with -EPERM on a sealed VMA (nothing is
 * unmapped; splits already done stay, as in Linux).
 */
function gather_munmap_vmas(mm: MmStruct, first: VmArea, start: number, end: number): MunmapGather | number {
  if (start > first.vm_start) {
    if (end < first.vm_end && mm.map_count >= mm.env.sysctl.max_map_count) return -ENOMEM
    if (vm_flags_test(first.vm_flags, VM_SEALED)) return -EPERM
    const err = __split_vma(mm, first, start, true)
    if (err) return err
  }
  const g: MunmapGather = { vmas: [], nr_pages: 0, nr_accounted: 0, locked_vm: 0 }
  for (const v of vmas_in_range(mm, start, end)) {
    if (vm_flags_test(v.vm_flags, VM_SEALED)) return -EPERM
    if (v.vm_end > end) {
      const err = __split_vma(mm, v, end, false)
      if (err) return err
    }
    const n = vma_pages(v)
    g.vmas.push(v)
    g.nr_pages += n
    if (vm_flags_test(v.vm_flags, VM_ACCOUNT)) g.nr_accounted += n
    if (vm_flags_test(v.vm_flags, VM_LOCKED)) g.locked_vm += n
  }
  return g
}

/** Kernel: vms_complete_munmap_vmas(): zap, free page tables, fix counters, free the VMAs. */
function complete_munmap_vmas(mm: MmStruct, g: MunmapGather, start: number, end: number): void {
  if (g.vmas.length === 0) return
  const tlb = tlb_gather_mmu()
  unmap_vmas(mm, g.vmas, start, end, tlb)
  const prev = find_vma_prev(mm, start)[1]
  mm.locked_vm -= g.locked_vm
  const first = g.vmas[0].vm_start
  const last = g.vmas[g.vmas.length - 1].vm_end
  for (const v of g.vmas) {
    vm_stat_account(mm, v.vm_flags, -vma_pages(v))
    remove_vma(mm, v)
  }
  const next = find_vma(mm, start)
  // free_pgtables(): free_pgd_range() over the unmapped VMAs, floor and ceiling from the neighbours.
  const nr_ptes = mm.pgd.nr_ptes
  free_pgtables(mm, first, last, prev ? prev.vm_end : 0, next ? next.vm_start : 0)
  if (mm.pgd.nr_ptes < nr_ptes) tlb_free_table(tlb, first)
  tlb_finish_mmu(mm, tlb)
  if (g.nr_accounted) vm_unacct_memory(mm.env, g.nr_accounted)
}

/**
 * Kernel: free_pgtables() -> free_pgd_range(addr, end, floor, ceiling): free
 * the page tables of the unmapped [addr, end) that lie wholly inside the gap
 * [floor, ceiling) between the neighbouring VMAs (ceiling 0: no VMA above).
 * Only the tables covering [addr, end) are visited.
 */
export function free_pgtables(mm: MmStruct, addr: number, end: number, floor: number, ceiling: number): void {
  // Through the mm's table store, so that it forgets what it remembers of the freed tables.
  mm.pgd.free_pgtables(floor / PAGE_SIZE, ceiling / PAGE_SIZE, addr / PAGE_SIZE, end / PAGE_SIZE)
}

/** Unmap [start, end) (page aligned) after the argument checks. Kernel: do_vmi_align_munmap(). */
export function do_vmi_align_munmap(mm: MmStruct, start: number, end: number): number {
  const first = find_vma_intersection(mm, start, end)
  if (!first) return 0
  const g = gather_munmap_vmas(mm, first, start, end)
  if (typeof g === 'number') return g
  complete_munmap_vmas(mm, g, start, end)
  return 0
}

/** Kernel: do_vmi_munmap() / __vm_munmap(): the munmap syscall. 0 or -errno. */
export function do_munmap(mm: MmStruct, start_in: UlongArg, len_in: UlongArg): number {
  const bits = BITS_PER_LONG(mm)
  const lim = bits === 64 ? 2 ** 53 : 2 ** 32
  let start = start_in
  let len = len_in
  // Plain numbers (ul_plain, inline: the path is hot) need no conversion.
  if (typeof start !== 'number' || typeof len !== 'number' || !(start >= 0 && start < lim && len >= 0 && len < lim) ||
      Math.floor(start) !== start || Math.floor(len) !== len) {
    const s = ulong(start_in, bits)
    const l = ulong(len_in, bits)
    // A value of 2^53 or more is above TASK_SIZE: the first check below refuses it.
    if (typeof s !== 'number' || typeof l !== 'number') return -EINVAL
    start = s
    len = l
  }
  if (offset_in_page(start) || start > mm.task_size || len > mm.task_size - start) return -EINVAL
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE
  if (end === start) return -EINVAL
  return do_vmi_align_munmap(mm, start, end)
}

/**
 * Kernel: shmem_zero_setup(): a shared anonymous mapping (MAP_SHARED|
 * MAP_ANONYMOUS, or MAP_SHARED of /dev/zero) gets a new shmem object of the
 * VMA's size, named "dev/zero"; a file the VMA held is let go (fput).
 */
export function shmem_zero_setup(vma: VmArea): number {
  const old = vma.vm_file
  vma.vm_file = shmem_file_setup(vma.vm_mm.env, 'dev/zero', vma.vm_end - vma.vm_start, 'shmem', true)
  vma.vm_ops = { name: 'shmem_anon_vm_ops' }
  if (old) fput_vm_file(old)
  return 0
}

/** Kernel: fput() as the mm drops a file it held. */
function fput_vm_file(f: VmFile): void {
  if (--f.f_count === 0) f.__fput?.()
}

/**
 * Kernel: __mmap_region(): map [addr, addr+len) with vm_flags, replacing
 * what is there (MAP_FIXED). Returns addr or -errno.
 */
export function mmap_region(mm: MmStruct, file: VmFile | null, addr: number, len: number, vm_flags: vm_flags_t, pgoff: number): number {
  const end = addr + len
  const pglen = len / PAGE_SIZE
  let g: MunmapGather = { vmas: [], nr_pages: 0, nr_accounted: 0, locked_vm: 0 }
  const first = find_vma_intersection(mm, addr, end)
  if (first) {
    const r = gather_munmap_vmas(mm, first, addr, end)
    if (typeof r === 'number') return r
    g = r
  }
  if (!may_expand_vm(mm, vm_flags, pglen - g.nr_pages)) return -ENOMEM
  let charged = 0
  if (accountable_mapping(vm_flags)) {
    charged = pglen - g.nr_accounted
    if (charged) {
      const err = security_vm_enough_memory_mm(mm, charged)
      if (err) return err
    }
    g.nr_accounted = 0
    vm_flags = vm_flags_or(vm_flags, VM_ACCOUNT)
  }
  // vms_clean_up_area + complete: the old VMAs go before the new one is linked.
  complete_munmap_vmas(mm, g, addr, end)
  const spec = {
    start: addr,
    end,
    vm_flags,
    file,
    pgoff,
    anon_vma: null,
    anon_name: null,
    uffd_ctx: null,
    middle: null,
  }
  const shared_anon = file === null && vm_flags_test(vm_flags, VM_SHARED)
  if (shared_anon && mm.env.trace?.explaining) {
    mm.env.trace.explain('vma_merge', () => `mmap_region [0x${addr.toString(16)}-0x${end.toString(16)}): shared anonymous, never merged (each gets its own shmem file)`)
  }
  let vma: VmArea | null = shared_anon ? null : vma_merge_new_range(mm, spec)
  if (!vma && file && file.f_mapping.backing === 'disk' && vm_flags_test(vm_flags, VM_SYNC)) {
    // ext4_file_mmap() refuses VM_SYNC without DAX (daxdev_mapping_supported()); what
    // MAP_FIXED replaced stays unmapped (vms_abort_munmap_vmas leaves the gap).
    if (charged) vm_unacct_memory(mm.env, charged)
    return -EOPNOTSUPP
  }
  if (!vma) {
    // __mmap_new_vma(): out of memory, the mapping fails; what MAP_FIXED replaced stays
    // unmapped (its page tables were already cleared: vms_abort_munmap_vmas() leaves the gap).
    vma = vm_area_alloc(mm)
    if (!vma) {
      if (charged) vm_unacct_memory(mm.env, charged)
      return -ENOMEM
    }
    vma.vm_start = addr
    vma.vm_end = end
    vma.vm_flags = vm_flags
    vma.vm_pgoff = pgoff
    if (file) {
      vma.vm_file = file
      file.f_count++
      // mmap_file(): a device's f_op->mmap sets the VMA up (it may replace vm_file: /dev/zero).
      // vma_init() gave it the empty dummy_vm_ops first: a driver that installs no fault handler leaves
      // a VMA whose unpopulated pages SIGBUS.
      if (file.f_mmap) vma.vm_ops = dummy_vm_ops
      const err = file.f_mmap ? file.f_mmap(vma) : 0
      if (err) {
        // the driver may have installed PTEs before failing (unmap_region() of the error path)
        zap_page_range_single(mm, vma, vma.vm_start, vma.vm_end)
        // __mmap_new_file_vma()'s error path: the VMA is freed (fput), the charge undone.
        vm_area_free(vma)
        if (charged) vm_unacct_memory(mm.env, charged)
        return err
      }
    } else if (vm_flags_test(vm_flags, VM_SHARED)) {
      shmem_zero_setup(vma)
    }
    if (mm.map_count >= mm.env.sysctl.max_map_count + 1) {
      vm_area_free(vma)
      if (charged) vm_unacct_memory(mm.env, charged)
      return -ENOMEM
    }
    vma_link(mm, vma)
    if (file?.f_mmap) mm.env.driver_hooks.mmap_done?.(vma)
  }
  vm_stat_account(mm, vm_flags, pglen)
  if (vm_flags_test(vm_flags, VM_LOCKED)) {
    // vma_supports_mlock(): VM_LOCKED from mlockall(MCL_FUTURE) does not stick to special or
    // droppable mappings (their pages still get populated, do_mmap asked for it).
    if (vm_flags_test(vm_flags, VM_SPECIAL) || vm_flags_test(vm_flags, VM_DROPPABLE)) vma.vm_flags = vm_flags_andnot(vma.vm_flags, VM_LOCKED_MASK)
    else mm.locked_vm += pglen
  }
  return addr
}

/**
 * Kernel: do_mmap(): the mmap checks in Linux's order, then mmap_region.
 * Returns the address or -errno; `populate` receives the length to
 * prefault (MAP_POPULATE / VM_LOCKED) for the caller (vm_mmap_pgoff).
 */
export function do_mmap(
  mm: MmStruct,
  file: VmFile | null,
  addr_in: Ulong,
  len: number,
  prot: number,
  flags: number,
  pgoff: number,
  out?: { populate: number },
): number {
  if (out) out.populate = 0
  if (!len) return -EINVAL
  // (+, not |=: flags may carry the 2^32 "unknown high bits" mark, see sys_mmap.)
  if (flags & M.MAP_FIXED_NOREPLACE && !(flags & M.MAP_FIXED)) flags += M.MAP_FIXED
  const hint = flags & M.MAP_FIXED ? addr_in : round_hint_to_min(mm, addr_in)
  // PAGE_ALIGN() and pgoff + (len >> PAGE_SHIFT) in unsigned long arithmetic: len is below
  // 2^53 here (sys_mmap), so both can pass ULONG_MAX only with 32-bit longs (the first test).
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE
  if (len + pgoff >= 2 ** 32 && BITS_PER_LONG(mm) === 32) {
    if (len >= 2 ** 32) return -ENOMEM
    if (pgoff + len / PAGE_SIZE >= 2 ** 32) return -EOVERFLOW
  }
  if (mm.map_count > mm.env.sysctl.max_map_count) return -ENOMEM
  let vm_flags = vm_flags_or(vm_flags_or(calc_vm_prot_bits(prot), calc_vm_flag_bits(file, flags)), VM_MAY_RWX)
  vm_flags = vm_flags_or(vm_flags, mm.def_flags)
  const addr = get_unmapped_area(mm, file, hint, len, pgoff, flags)
  if (addr < 0) return addr
  if (flags & M.MAP_FIXED_NOREPLACE) {
    if (find_vma_intersection(mm, addr, addr + len)) return -EEXIST
  }
  if (flags & M.MAP_LOCKED && !can_do_mlock(mm)) return -EPERM
  if (!mlock_future_ok(mm, vm_flags, len)) return -EAGAIN
  if (file) {
    // file_mmap_ok(): the last byte mapped must not pass MAX_LFS_FILESIZE (a regular file's
    // limit), i.e. pgoff <= (MAX_LFS_FILESIZE - len) >> PAGE_SHIFT; len is page aligned.
    if (!file_mmap_ok(mm, file, pgoff, len)) return -EOVERFLOW
    let flags_mask = M.LEGACY_MAP_MASK
    // FOP_MMAP_SYNC: ext4 accepts MAP_SYNC here (and refuses it without DAX at ->mmap); tmpfs does not.
    if (file.supports_map_sync || file.f_mapping.backing === 'disk') flags_mask |= M.MAP_SYNC
    const type = flags & M.MAP_TYPE
    if (type === M.MAP_SHARED || type === M.MAP_SHARED_VALIDATE) {
      if (type === M.MAP_SHARED) flags &= M.LEGACY_MAP_MASK
      if (flags & ~flags_mask || flags >= 2 ** 32) return -EOPNOTSUPP
      if (prot & M.PROT_WRITE && !(file.f_mode & FMODE_WRITE)) return -EACCES
      vm_flags = vm_flags_or(vm_flags, VM_SHARED_MAYSHARE)
      if (!(file.f_mode & FMODE_WRITE)) vm_flags = vm_flags_andnot(vm_flags, vm_flags_or(VM_MAYWRITE, VM_SHARED))
    } else if (type !== M.MAP_PRIVATE) {
      return -EINVAL
    }
    if (!(file.f_mode & FMODE_READ)) return -EACCES
    // can_mmap_file(): a device without f_op->mmap cannot be mapped.
    if (file.f_mmap === null) return -ENODEV
    if (vm_flags_test(vm_flags, VM_GROWSDOWN)) return -EINVAL
    // memfd_check_seals_mmap(): a write-sealed object takes no new writable shared mapping.
    const sealed = memfd_check_seals_mmap(file, vm_flags)
    if (sealed.err) return sealed.err
    vm_flags = sealed.vm_flags
  } else {
    const type = flags & M.MAP_TYPE
    if (type === M.MAP_SHARED) {
      if (vm_flags_test(vm_flags, VM_GROWSDOWN)) return -EINVAL
      pgoff = 0
      vm_flags = vm_flags_or(vm_flags, VM_SHARED_MAYSHARE)
    } else if (type === M.MAP_DROPPABLE || type === M.MAP_PRIVATE) {
      if (type === M.MAP_DROPPABLE) {
        if (flags & (M.MAP_LOCKED | M.MAP_HUGETLB)) return -EINVAL
        if (vm_flags_test(vm_flags, VM_GROWSDOWN)) return -EINVAL
        // VM_DROPPABLE is bit 40: vm_flags_or, never `|` (which keeps 32 bits).
        vm_flags = vm_flags_or(vm_flags, VM_DROPPABLE_FLAGS)
      }
      pgoff = addr / PAGE_SIZE
    } else {
      return -EINVAL
    }
  }
  if (flags & M.MAP_NORESERVE && mm.env.sysctl.overcommit_memory !== 2) vm_flags = vm_flags_or(vm_flags, VM_NORESERVE)
  const r = mmap_region(mm, file, addr, len, vm_flags, pgoff)
  if (r >= 0 && out && (vm_flags_test(vm_flags, VM_LOCKED) || (flags & (M.MAP_POPULATE | M.MAP_NONBLOCK)) === M.MAP_POPULATE)) {
    out.populate = len
  }
  return r
}

/**
 * Kernel: file_mmap_ok() with file_mmap_size_max(): the last byte mapped
 * must stay within the file's largest size: MAX_LFS_FILESIZE for regular
 * files, ULONG_MAX for a character device (pgoff * PAGE_SIZE + len <=
 * ULONG_MAX), no ceiling for FMODE_UNSIGNED_OFFSET files (/dev/mem). len
 * is page aligned; pgoff below 2^52.
 */
function file_mmap_ok(mm: MmStruct, file: VmFile, pgoff: number, len: number): boolean {
  if (file.f_unsigned_offset) return true
  const bits = BITS_PER_LONG(mm)
  // (ULONG_MAX - len) >> PAGE_SHIFT = 2^(bits-12) - len/PAGE_SIZE - 1, exactly
  if (file.f_mmap !== undefined) return len <= 2 ** bits - 1 && pgoff <= 2 ** (bits - 12) - len / PAGE_SIZE - 1
  return pgoff <= max_lfs_pgoff(bits) - len / PAGE_SIZE
}

/** Kernel: vm_mmap_pgoff(): do_mmap then mm_populate. */
export function vm_mmap_pgoff(mm: MmStruct, file: VmFile | null, addr: Ulong, len: number, prot: number, flags: number, pgoff: number): number {
  const out = { populate: 0 }
  const r = do_mmap(mm, file, addr, len, prot, flags, pgoff, out)
  if (r >= 0 && out.populate) mm_populate(mm, r, out.populate)
  return r
}

/** Files by descriptor, as the syscall layer resolves them (fget). */
export type FdLookup = (fd: number) => VmFile | null

/**
 * The mmap system call (arch/x86/kernel/sys_x86_64.c sys_mmap +
 * mm/mmap.c ksys_mmap_pgoff): offset alignment, fd lookup, MAP_HUGETLB.
 * Every argument but fd is an unsigned long (src/include/ulong.ts: -1 is
 * ULONG_MAX). prot's bits above 31 mean nothing; flags' bits above 31 are
 * unknown flags, which only MAP_SHARED_VALIDATE refuses: they travel as a
 * 2^32 mark on the low 32 bits. Returns the address or -errno.
 */
export function sys_mmap(
  mm: MmStruct, addr_in: UlongArg, len_in: UlongArg, prot_in: UlongArg, flags_in: UlongArg, fd: number, off_in: UlongArg, fget: FdLookup,
): number {
  const bits = BITS_PER_LONG(mm)
  // The usual call passes plain numbers (ul_plain: checked inline here, the mmap path is hot):
  // no conversion, no bigint in sight.
  const lim = bits === 64 ? 2 ** 53 : 2 ** 32
  if (
    typeof addr_in !== 'number' || typeof len_in !== 'number' || typeof off_in !== 'number' ||
    typeof prot_in !== 'number' || typeof flags_in !== 'number' ||
    !(addr_in >= 0 && addr_in < lim && len_in >= 0 && len_in < lim && off_in >= 0 && off_in < lim) ||
    !(prot_in >= 0 && prot_in < 2 ** 32 && flags_in >= 0 && flags_in < 2 ** 32) ||
    Math.floor(addr_in) !== addr_in || Math.floor(len_in) !== len_in || Math.floor(off_in) !== off_in ||
    Math.floor(prot_in) !== prot_in || Math.floor(flags_in) !== flags_in
  ) {
    return sys_mmap_ulong(mm, addr_in, len_in, prot_in, flags_in, fd, off_in, fget)
  }
  return ksys_mmap_pgoff(mm, addr_in, len_in, prot_in, flags_in, fd, off_in, fget)
}

/** sys_mmap() for arguments that are not plain numbers: each becomes its exact unsigned long first. */
function sys_mmap_ulong(
  mm: MmStruct, addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, fd: number, off: UlongArg, fget: FdLookup,
): number {
  const bits = BITS_PER_LONG(mm)
  return ksys_mmap_pgoff(
    mm, ulong(addr, bits), ulong(len, bits), ul_low32(ulong(prot, bits)), ul_low32(ulong(flags, bits), true), fd, ulong(off, bits), fget,
  )
}

/** The rest of sys_mmap() and ksys_mmap_pgoff(), on exact unsigned longs. */
function ksys_mmap_pgoff(
  mm: MmStruct, addr: Ulong, len: Ulong, prot: number, flags: number, fd: number, off: Ulong, fget: FdLookup,
): number {
  if (typeof off === 'number' ? offset_in_page(off) : ul_offset_in_page(off)) return -EINVAL
  const pgoff = typeof off === 'number' ? off / PAGE_SIZE : ul_pages(off)
  let file: VmFile | null = null
  if (!(flags & M.MAP_ANONYMOUS)) {
    file = fget(fd)
    if (!file) return -EBADF
    if (flags & M.MAP_HUGETLB) return -EINVAL
  } else if (flags & M.MAP_HUGETLB) {
    // hugetlb_file_setup(): an unknown huge page size is EINVAL. The length is first rounded
    // up to the huge page size; when that wraps to 0 the file is set up and do_mmap() refuses
    // the zero length (EINVAL). Otherwise the hugetlbfs reservation fails with ENOMEM because
    // the simulated kernel has no huge page pool (vm.nr_hugepages is 0 on the reference
    // machine too; hugetlb is not simulated).
    const size_log = Math.floor(flags / 2 ** 26) & 0x3f
    if (size_log !== 0 && size_log !== 21 && size_log !== 30) return -EINVAL
    const hpage = size_log === 30 ? 2 ** 30 : 2 ** 21
    if (ul_add(len, hpage - 1, BITS_PER_LONG(mm)) < hpage) return -EINVAL
    // do_mmap() of the hugetlbfs file: a mapping type other than shared or private (e.g.
    // MAP_DROPPABLE) is EINVAL before ->mmap() could fail. (Its other checks - address,
    // MAP_FIXED_NOREPLACE, mlock limits - are not modelled ahead of the ENOMEM.)
    const type = flags & M.MAP_TYPE
    if (type !== M.MAP_SHARED && type !== M.MAP_SHARED_VALIDATE && type !== M.MAP_PRIVATE) return -EINVAL
    return -ENOMEM
  }
  // A length of 2^53 or more is ENOMEM whatever else: do_mmap() would find it nonzero, then
  // either PAGE_ALIGN() wraps it to 0 or it stays above TASK_SIZE for get_unmapped_area(),
  // with only the (ENOMEM) map_count check between (pgoff + pages cannot wrap on 64-bit).
  if (typeof len !== 'number') return -ENOMEM
  return vm_mmap_pgoff(mm, file, addr, len, prot, flags, pgoff)
}

/** Kernel: do_brk_flags(): extend or create the brk VMA for [addr, addr+len). 0 or -errno. */
function do_brk_flags(mm: MmStruct, vma: VmArea | null, addr: number, len: number, flags: vm_flags_t): number {
  flags = vm_flags_or(vm_flags_or(flags, BRK_FLAGS), mm.def_flags)
  const pages = len / PAGE_SIZE
  if (!may_expand_vm(mm, flags, pages)) return -ENOMEM
  if (mm.map_count > mm.env.sysctl.max_map_count) return -ENOMEM
  if (security_vm_enough_memory_mm(mm, pages)) return -ENOMEM
  let merged: VmArea | null = null
  if (vma && vma.vm_end === addr) {
    const spec: VmaMergeSpec = {
      start: addr,
      end: addr + len,
      vm_flags: flags,
      file: null,
      pgoff: addr / PAGE_SIZE,
      anon_vma: null,
      anon_name: null,
      uffd_ctx: null,
      middle: null,
    }
    merged = vma_merge_new_range(mm, spec)
    if (!merged && spec.nomem) {
      vm_unacct_memory(mm.env, pages)
      return -ENOMEM
    }
  }
  if (!merged) {
    // unacct_fail: no vm_area_struct, the break stays where it was.
    const n = vm_area_alloc(mm)
    if (!n) {
      vm_unacct_memory(mm.env, pages)
      return -ENOMEM
    }
    n.vm_start = addr
    n.vm_end = addr + len
    n.vm_pgoff = addr / PAGE_SIZE
    n.vm_flags = flags
    vma_link(mm, n)
  }
  mm.total_vm += pages
  mm.data_vm += pages
  if (vm_flags_test(flags, VM_LOCKED)) mm.locked_vm += pages
  return 0
}

/**
 * Kernel: check_brk_limits(): the range must be mappable at a fixed address
 * (get_unmapped_area(MAP_FIXED): TASK_SIZE, cap_mmap_addr) and, after
 * mlockall(MCL_FUTURE), within RLIMIT_MEMLOCK (-EAGAIN). 0 or -errno.
 */
function check_brk_limits(mm: MmStruct, addr: number, len: number): number {
  const mapped_addr = get_unmapped_area(mm, null, addr, len, 0, M.MAP_FIXED)
  if (mapped_addr < 0) return mapped_addr
  return mlock_future_ok(mm, vm_flags_and(mm.def_flags, VM_LOCKED), len) ? 0 : -EAGAIN
}

/** Kernel: sys_brk(): returns the new break, or the old one when refused. */
export function sys_brk(mm: MmStruct, brk_in: UlongArg): number {
  const origbrk = mm.brk
  const min_brk = mm.start_brk
  const brk = ulong(brk_in, BITS_PER_LONG(mm))
  // A break of 2^53 or more is above TASK_SIZE: PAGE_ALIGN wraps it to 0 or leaves it there,
  // and either way check_brk_limits() refuses the growth.
  if (typeof brk !== 'number') return origbrk
  if (brk < min_brk) return origbrk
  // check_data_rlimit(): the break plus the data segment within RLIMIT_DATA.
  const rlim = rlimit(mm, RLIMIT_DATA)
  if (rlim !== RLIM_INFINITY && brk - mm.start_brk + (mm.end_data - mm.start_data) > rlim) return origbrk
  const newbrk = Math.ceil(brk / PAGE_SIZE) * PAGE_SIZE
  const oldbrk = Math.ceil(mm.brk / PAGE_SIZE) * PAGE_SIZE
  if (oldbrk === newbrk) {
    mm.brk = brk
    return brk
  }
  if (brk <= mm.brk) {
    const brkvma = find_vma_intersection(mm, newbrk, oldbrk)
    if (!brkvma || brkvma.vm_start >= oldbrk) return origbrk
    mm.brk = brk
    if (do_vmi_align_munmap(mm, newbrk, oldbrk)) {
      mm.brk = origbrk
      return origbrk
    }
    return brk
  }
  if (check_brk_limits(mm, oldbrk, newbrk - oldbrk)) return origbrk
  const next = find_vma_intersection(mm, oldbrk, newbrk + PAGE_SIZE + mm.env.sysctl.stack_guard_gap)
  if (next && newbrk + PAGE_SIZE > vm_start_gap(mm, next)) return origbrk
  const prev = find_vma_prev(mm, oldbrk)[1]
  const brkvma = prev && prev.vm_end > mm.start_brk ? prev : null
  if (do_brk_flags(mm, brkvma, oldbrk, newbrk - oldbrk, VM_NONE) < 0) return origbrk
  mm.brk = brk
  if (vm_flags_test(mm.def_flags, VM_LOCKED)) mm_populate(mm, oldbrk, newbrk - oldbrk)
  return brk
}

/** Kernel: split_vma() re-exported for the other syscalls. */
/** Kernel: exit_mmap(). */
export function exit_mmap(mm: MmStruct): void {
  const vmas = mm.mm_mt.to_array()
  const tlb = tlb_gather_mmu(true) // tlb_gather_mmu_fullmm()
  unmap_vmas(mm, vmas, 0, mm.task_size, tlb)
  // Hidden from the OOM killer and its reaper: nothing is left to take.
  mm_flags_set(mm, MMF_OOM_SKIP)
  // __mt_destroy(): the tree goes at once, not VMA by VMA (unlink_file_vma() drops each file link).
  for (const v of vmas) v.vm_file?.f_mapping.i_mmap.delete(v)
  mm.mm_mt.destroy()
  mm.map_count = 0
  let nr_accounted = 0
  for (const v of vmas) {
    if (vm_flags_test(v.vm_flags, VM_ACCOUNT)) nr_accounted += vma_pages(v)
    __remove_vma(v)
  }
  vm_unacct_memory(mm.env, nr_accounted)
  mm.total_vm = mm.data_vm = mm.exec_vm = mm.stack_vm = mm.locked_vm = 0
  tlb_finish_mmu(mm, tlb) // the full-mm gather: flush_tlb_mm() before the tables go
  mm.pgd.destroy()
  mm.dead = true
}

export { split_vma }
