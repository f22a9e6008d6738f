/**
 * mremap (Kernel: mm/mremap.c do_mremap, check_mremap_params,
 * check_prep_vma, mremap_at, mremap_to, expand_vma, move_vma,
 * move_page_tables; mm/vma.c copy_vma).
 *
 * Shrinking unmaps the tail; growing extends in place when the pages after
 * the VMA are free, else (MREMAP_MAYMOVE) moves: the PTEs move to a new VMA
 * (merged at the destination when possible) and the old range is unmapped
 * (or, with MREMAP_DONTUNMAP, left mapped and empty). A never-faulted
 * anonymous VMA takes a fresh page offset at the destination.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmStruct,
  type VmArea,
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_SEALED,
  VM_SHARED,
  vm_flags_andnot,
  vm_flags_or,
  vm_flags_test,
} from './mm_types.js'
import { MAP_FIXED, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE } from './mman.js'
import {
  find_vma_prev,
  find_vma_intersection,
  vma_link,
  vma_lookup,
  vma_merge_new_range,
  vm_area_dup,
  vm_area_free,
  vm_stat_account,
  find_vma,
} from './vma.js'
import { BITS_PER_LONG, do_munmap, free_pgtables, get_unmapped_area } from './mmap.js'
import { type Ulong, type UlongArg, ul_add, ul_cmp_num, ul_low32, ul_offset_in_page, ul_page_align, ul_sub, ulong } from '../include/ulong.js'
import { anon_vma_clone, unlink_anon_vmas } from './rmap.js'
import { vma_is_anonymous } from './memory.js'
import { mm_populate } from './gup.js'
import { may_expand_vm, mlock_future_ok, security_vm_enough_memory_mm, vm_acct_memory, vm_unacct_memory } from './util.js'
import { EAGAIN, EFAULT, EINVAL, ENOMEM, EPERM } from '../include/errno.js'

const SHARED_MAYSHARE = vm_flags_or(VM_SHARED, VM_MAYSHARE)
const DONTEXPAND_PFNMAP = vm_flags_or(VM_DONTEXPAND, VM_PFNMAP)

/**
 * The state of one mremap (Kernel: struct vma_remap_struct). old_len and
 * delta stay exact unsigned longs (src/include/ulong.ts): an old_len of 2^53
 * or more passes the argument checks and fails only when the shrink's munmap
 * refuses it; new_len and new_addr are within TASK_SIZE once checked.
 */
interface Vrm {
  addr: number
  old_len: Ulong
  new_len: number
  flags: number
  new_addr: number
  vma: VmArea | null
  delta: Ulong
  type: 'no_resize' | 'shrink' | 'expand'
  charged: number
  populate_expand: boolean
}

function implies_new_addr(flags: number): boolean {
  return (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0
}

/**
 * Kernel: check_mremap_params(), on the page-aligned unsigned long
 * arguments. A zero (or wrapped to zero) old_len is allowed: on a shared
 * mapping it duplicates the mapping.
 */
function check_mremap_params(mm: MmStruct, addr: Ulong, old_len: Ulong, new_len: Ulong, flags: number, new_addr: Ulong): number {
  if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) || flags >= 2 ** 32) return -EINVAL
  if (ul_offset_in_page(addr)) return -EINVAL
  if (!new_len) return -EINVAL
  if (new_len > mm.task_size) return -EINVAL
  if (!implies_new_addr(flags)) return 0
  const nlen = new_len as number
  if (new_addr > mm.task_size - nlen) return -EINVAL
  const naddr = new_addr as number
  if (naddr % PAGE_SIZE) return -EINVAL
  if (!(flags & MREMAP_MAYMOVE)) return -EINVAL
  if (flags & MREMAP_DONTUNMAP && old_len !== new_len) return -EINVAL
  // vrm_overlaps(): the old range's end is computed in unsigned long arithmetic (it may wrap).
  if (ul_add(addr, old_len, BITS_PER_LONG(mm)) > naddr && naddr + nlen > addr) return -EINVAL
  if (mm.map_count + 2 >= mm.env.sysctl.max_map_count - 3) return -ENOMEM
  return 0
}

/** Kernel: check_prep_vma(). */
function check_prep_vma(mm: MmStruct, v: Vrm): number {
  const vma = v.vma
  if (!vma) return -EFAULT
  if (vm_flags_test(vma.vm_flags, VM_SEALED)) return -EPERM
  const bits = BITS_PER_LONG(mm)
  v.type = v.old_len === v.new_len ? 'no_resize' : v.old_len > v.new_len ? 'shrink' : 'expand'
  v.delta = v.type === 'shrink' ? ul_sub(v.old_len, v.new_len, bits) : v.new_len - (v.old_len as number)
  if (!implies_new_addr(v.flags)) v.new_addr = v.addr
  if (v.type !== 'expand' && !implies_new_addr(v.flags)) return 0
  let old_len = v.old_len
  const new_len = v.new_len
  if (!old_len && !vm_flags_test(vma.vm_flags, SHARED_MAYSHARE)) return -EINVAL
  if (v.flags & MREMAP_DONTUNMAP && vm_flags_test(vma.vm_flags, DONTEXPAND_PFNMAP)) return -EINVAL
  if (v.type === 'shrink') old_len = new_len
  if (old_len > vma.vm_end - v.addr) return -EFAULT
  if (new_len === old_len) return 0
  // Growing: old_len < new_len <= TASK_SIZE, so it and delta are plain numbers.
  const delta = v.delta as number
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) v.populate_expand = true
  // The file offset of the new end must not wrap (only possible with 32-bit longs).
  const pgoff = vma.vm_pgoff + (v.addr - vma.vm_start) / PAGE_SIZE
  if (ul_add(pgoff, new_len / PAGE_SIZE, bits) < pgoff) return -EINVAL
  if (vm_flags_test(vma.vm_flags, DONTEXPAND_PFNMAP)) return -EFAULT
  if (!mlock_future_ok(mm, vma.vm_flags, delta)) return -EAGAIN
  if (!may_expand_vm(mm, vma.vm_flags, delta / PAGE_SIZE)) return -ENOMEM
  return 0
}

function vrm_stat_account(mm: MmStruct, vma: VmArea, bytes: number): void {
  const pages = bytes / PAGE_SIZE
  vm_stat_account(mm, vma.vm_flags, pages)
  if (vm_flags_test(vma.vm_flags, VM_LOCKED)) mm.locked_vm += pages
}

/** Kernel: vrm_set_new_addr(). */
function set_new_addr(mm: MmStruct, v: Vrm): number {
  const vma = v.vma as VmArea
  const pgoff = vma.vm_pgoff + (v.addr - vma.vm_start) / PAGE_SIZE
  const hint = implies_new_addr(v.flags) ? v.new_addr : 0
  let map_flags = 0
  if (v.flags & MREMAP_FIXED) map_flags |= MAP_FIXED
  if (vm_flags_test(vma.vm_flags, VM_MAYSHARE)) map_flags |= MAP_SHARED
  const r = get_unmapped_area(mm, vma.vm_file, hint, v.new_len, pgoff, map_flags)
  if (r < 0) return r
  v.new_addr = r
  return 0
}

/**
 * Kernel: copy_vma(): the destination VMA (merged with neighbours when
 * possible); null when its vm_area_struct or anon_vma chains cannot be
 * allocated, nothing linked.
 */
function copy_vma(mm: MmStruct, vma: VmArea, addr: number, len: number, pgoff: number): VmArea | null {
  if (vma_is_anonymous(vma) && !vma.anon_vma) pgoff = addr / PAGE_SIZE
  const merged = vma_merge_new_range(mm, {
    start: addr,
    end: addr + len,
    vm_flags: vma.vm_flags,
    file: vma.vm_file,
    pgoff,
    anon_vma: vma.anon_vma,
    anon_name: vma.anon_name,
    uffd_ctx: vma.vm_userfaultfd_ctx,
    middle: vma,
  })
  if (merged) return merged
  const n = vm_area_dup(vma)
  if (!n) return null
  n.vm_start = addr
  n.vm_end = addr + len
  n.vm_pgoff = pgoff
  if (anon_vma_clone(n, vma)) {
    vm_area_free(n)
    return null
  }
  n.vm_ops?.open?.(n)
  vma_link(mm, n)
  return n
}

/** Kernel: move_page_tables(): move the PTEs of [old, old+len) to new. */
/** The page tables the entries of [old_addr, old_addr + len) need at new_addr; false on -ENOMEM. */
function alloc_move_tables(mm: MmStruct, old_addr: number, new_addr: number, len: number): boolean {
  const shift = (new_addr - old_addr) / PAGE_SIZE
  let ok = true
  mm.pgd.each(old_addr / PAGE_SIZE, (old_addr + len) / PAGE_SIZE, (vpn) => {
    if (ok && !mm.pgd.pte_alloc(vpn + shift)) ok = false
  })
  return ok
}

function move_page_tables(mm: MmStruct, old_addr: number, new_addr: number, len: number): void {
  const moves: [number, number][] = []
  mm.pgd.each(old_addr / PAGE_SIZE, (old_addr + len) / PAGE_SIZE, (vpn, pte) => {
    moves.push([vpn, pte])
  })
  const shift = (new_addr - old_addr) / PAGE_SIZE
  for (const [vpn] of moves) mm.pgd.set(vpn, 0)
  for (const [vpn, pte] of moves) mm.pgd.set(vpn + shift, pte)
  if (moves.length) mm.env.flush_tlb_range(mm, old_addr, old_addr + len)
}

/** Kernel: move_vma(). Returns the new address or -errno. */
function move_vma(mm: MmStruct, v: Vrm): number {
  let vma = v.vma as VmArea
  // A move copies old_len <= new_len bytes (a shrink was done first): a plain number.
  const old_len = v.old_len as number
  if (mm.map_count >= mm.env.sysctl.max_map_count - 3) return -ENOMEM
  // prep_move_vma(): moving part of a mapping that refuses to split ([vdso], [vvar]:
  // special_mapping_split()) fails before anything is copied; the unmap of the old part would
  // refuse only after the copy was made.
  const may_split = vma.vm_ops?.may_split
  if (may_split) {
    let err = 0
    if (vma.vm_start !== v.addr) err = may_split(vma, v.addr)
    if (!err && vma.vm_end !== v.addr + old_len) err = may_split(vma, v.addr + old_len)
    if (err) return err
  }
  // vrm_calc_charge()
  if (vm_flags_test(vma.vm_flags, VM_ACCOUNT)) {
    let charged = 0
    if (v.flags & MREMAP_DONTUNMAP) charged = v.new_len / PAGE_SIZE
    else if (v.new_len > old_len) charged = (v.new_len - old_len) / PAGE_SIZE
    if (charged) {
      if (security_vm_enough_memory_mm(mm, charged)) return -ENOMEM
      v.charged = charged
    }
  }
  // move_page_tables()'s alloc_new_pmd()/pte_alloc() for the destination of every present
  // entry, first: when one fails Linux moves back what it moved and fails with -ENOMEM, the
  // old mapping intact; allocating them all before the copy gives the same outcome.
  if (!alloc_move_tables(mm, v.addr, v.new_addr, old_len)) {
    if (v.charged) vm_unacct_memory(mm.env, v.charged)
    v.charged = 0
    return -ENOMEM
  }
  const new_pgoff = vma.vm_pgoff + (v.addr - vma.vm_start) / PAGE_SIZE
  const vma_start = vma.vm_start
  const new_vma = copy_vma(mm, vma, v.new_addr, v.new_len, new_pgoff)
  if (!new_vma) {
    // copy_vma_and_data(): nothing moved, the charge given back; the destination's tables
    // made above hold no entry and go where no VMA needs them (free_pgtables()).
    if (v.charged) vm_unacct_memory(mm.env, v.charged)
    v.charged = 0
    const [next, prev] = find_vma_prev(mm, v.new_addr)
    free_pgtables(mm, v.new_addr, v.new_addr + old_len, prev ? prev.vm_end : 0, next ? next.vm_start : 0)
    return -ENOMEM
  }
  if (vma_start >= new_vma.vm_start && vma_start < new_vma.vm_end) vma = new_vma
  move_page_tables(mm, v.addr, v.new_addr, old_len)
  const hiwater_vm = mm.hiwater_vm
  vrm_stat_account(mm, new_vma, v.new_len)
  if (v.flags & MREMAP_DONTUNMAP) {
    // dontunmap_complete()
    const start = v.addr
    const end = v.addr + old_len
    const src = find_vma(mm, start) as VmArea
    const old_start = src.vm_start
    const old_end = src.vm_end
    src.vm_flags = vm_flags_andnot(src.vm_flags, VM_LOCKED_MASK)
    if (new_vma !== src && start === old_start && end === old_end) unlink_anon_vmas(src)
  } else {
    // unmap_source_vma()
    const src = find_vma(mm, v.addr) as VmArea
    const accountable = vm_flags_test(src.vm_flags, VM_ACCOUNT)
    const vm_start = src.vm_start
    const vm_end = src.vm_end
    if (accountable) src.vm_flags = vm_flags_andnot(src.vm_flags, VM_ACCOUNT)
    const err = do_munmap(mm, v.addr, old_len)
    if (err) {
      // Also the duplicate of a shared mapping (old_len 0): nothing to unmap, nothing to account.
      vm_acct_memory(mm.env, old_len / PAGE_SIZE)
    } else if (accountable) {
      const end = v.addr + old_len
      const [next, prev] = find_vma_prev(mm, v.addr)
      if (vm_start < v.addr && prev) prev.vm_flags = vm_flags_or(prev.vm_flags, VM_ACCOUNT)
      if (vm_end > end && next) next.vm_flags = vm_flags_or(next.vm_flags, VM_ACCOUNT)
    }
  }
  mm.hiwater_vm = hiwater_vm
  return v.new_addr
}

/** Kernel: expand_vma(). */
function expand_vma(mm: MmStruct, v: Vrm): number {
  const vma = v.vma as VmArea
  // Growing: old_len < new_len <= TASK_SIZE.
  const delta = v.delta as number
  if (vma.vm_end - v.addr === v.old_len) {
    // vma_expandable()
    const end = vma.vm_end + delta
    const fits =
      !find_vma_intersection(mm, vma.vm_end, end) &&
      get_unmapped_area(mm, null, vma.vm_start, end - vma.vm_start, 0, MAP_FIXED) % PAGE_SIZE === 0
    if (fits) {
      if (vm_flags_test(vma.vm_flags, VM_ACCOUNT)) {
        if (security_vm_enough_memory_mm(mm, delta / PAGE_SIZE)) return -ENOMEM
      }
      const r = vma_merge_new_range(mm, {
        start: vma.vm_end,
        end,
        vm_flags: vma.vm_flags,
        file: vma.vm_file,
        pgoff: vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE,
        anon_vma: vma.anon_vma,
        anon_name: vma.anon_name,
        uffd_ctx: vma.vm_userfaultfd_ctx,
        middle: vma,
      })
      if (!r) {
        if (vm_flags_test(vma.vm_flags, VM_ACCOUNT)) vm_unacct_memory(mm.env, delta / PAGE_SIZE)
        return -ENOMEM
      }
      vrm_stat_account(mm, r, delta)
      return v.addr
    }
  }
  if (!(v.flags & MREMAP_MAYMOVE)) return -ENOMEM
  const err = set_new_addr(mm, v)
  if (err) return err
  return move_vma(mm, v)
}

/** Kernel: mremap_to(). */
function mremap_to(mm: MmStruct, v: Vrm): number {
  if (v.flags & MREMAP_FIXED) {
    const err = do_munmap(mm, v.new_addr, v.new_len)
    if (err) return err
    v.vma = vma_lookup(mm, v.addr)
    if (!v.vma) return -EFAULT
  }
  if (v.type === 'shrink') {
    // shrink_vma(): do_vmi_munmap() of the tail, with munmap's own checks (a tail of 2^53 or
    // more, or one past TASK_SIZE, is EINVAL).
    const err = do_munmap(mm, v.addr + v.new_len, v.delta)
    if (err) return err
    v.old_len = v.new_len
    v.vma = vma_lookup(mm, v.addr)
    if (!v.vma) return -EFAULT
  }
  if (v.flags & MREMAP_DONTUNMAP) {
    // DONTUNMAP needs old_len == new_len.
    if (!may_expand_vm(mm, (v.vma as VmArea).vm_flags, v.new_len / PAGE_SIZE)) return -ENOMEM
  }
  const err = set_new_addr(mm, v)
  if (err) return err
  return move_vma(mm, v)
}

/**
 * Kernel: remap_move(): MREMAP_FIXED without resizing moves every VMA of
 * [addr, addr+len) (split as needed), keeping the gaps between them; a
 * hole at the start of the range is EFAULT.
 */
function remap_move(mm: MmStruct, v: Vrm): number {
  const start = v.addr
  const end = v.addr + v.new_len // old_len == new_len
  let target_addr = v.new_addr
  let res = -EFAULT
  let seen = false
  let last_end = 0
  for (;;) {
    const vma = find_vma(mm, seen ? last_end : start)
    if (!vma || vma.vm_start >= end) break
    const addr = Math.max(vma.vm_start, start)
    const len = Math.min(end, vma.vm_end) - addr
    if (!seen && start < vma.vm_start) return -EFAULT
    const offset = seen ? vma.vm_start - last_end : 0
    last_end = vma.vm_end
    const w: Vrm = { ...v, vma, addr, new_addr: target_addr + offset, old_len: len, new_len: len }
    let r = check_prep_vma(mm, w)
    if (!r) r = mremap_to(mm, w)
    if (r < 0) return r
    if (!seen) res = r
    seen = true
    target_addr = r + w.new_len
    if (last_end >= end) break
  }
  return res
}

/**
 * Kernel: do_mremap(): the mremap system call; addr, old_len, new_len and
 * new_addr are unsigned longs (src/include/ulong.ts). Both lengths are
 * page-aligned first, so an old_len that rounds up past ULONG_MAX is 0:
 * on a shared mapping that duplicates it (MREMAP_MAYMOVE), on a private one
 * it is EINVAL. Returns the (new) address or -errno.
 */
export function do_mremap(
  mm: MmStruct, addr_in: UlongArg, old_len_in: UlongArg, new_len_in: UlongArg, flags_in: UlongArg, new_addr_in: UlongArg,
): number {
  const bits = BITS_PER_LONG(mm)
  // flags is an unsigned long: a bit above 31 is an unknown flag (EINVAL, the first check).
  const flags = ul_low32(ulong(flags_in, bits), true)
  const addr = ulong(addr_in, bits)
  const old_len = ul_page_align(ulong(old_len_in, bits), bits)
  const new_len = ul_page_align(ulong(new_len_in, bits), bits)
  const new_addr = ulong(new_addr_in, bits)
  const err = check_mremap_params(mm, addr, old_len, new_len, flags, new_addr)
  if (err) return err
  const v: Vrm = {
    // No VMA lies at or above 2^53: such an addr finds none below (EFAULT).
    addr: ul_cmp_num(addr),
    old_len,
    new_len: new_len as number,
    flags,
    // Checked against TASK_SIZE when used; ignored (replaced by addr) otherwise.
    new_addr: implies_new_addr(flags) ? (new_addr as number) : 0,
    vma: null,
    delta: 0,
    type: 'no_resize',
    charged: 0,
    populate_expand: false,
  }
  if (v.flags & MREMAP_FIXED && v.old_len === v.new_len) return remap_move(mm, v)
  v.vma = vma_lookup(mm, v.addr)
  const e2 = check_prep_vma(mm, v)
  if (e2) return e2
  let res: number
  if (implies_new_addr(v.flags)) res = mremap_to(mm, v)
  else if (v.type === 'no_resize') res = v.addr
  else if (v.type === 'shrink') {
    // shrink_vma(): do_vmi_munmap() of the tail, with munmap's own checks.
    res = do_munmap(mm, v.addr + v.new_len, v.delta)
    if (!res) res = v.addr
  } else res = expand_vma(mm, v)
  if (res >= 0 && v.populate_expand) mm_populate(mm, v.new_addr + (v.old_len as number), v.delta as number)
  return res
}
