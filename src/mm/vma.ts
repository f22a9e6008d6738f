/**
 * The ordered VMA structure of an mm, and VMA split and merge
 * (Kernel: mm/vma.c, mm/mmap.c find_vma*, include/linux/mm.h).
 *
 * mm.mm_mt is a MapleTree of VmArea in address order (maple_tree.ts), with
 * gap tracking for get_unmapped_area(); a VMA whose boundaries move while
 * in it is re-stored with vma_iter_store().
 * Invariants (checked by vma_check): VMAs are page aligned, non-empty,
 * sorted and disjoint; map_count == mm_mt.size; each file VMA is in its
 * mapping's i_mmap. Merging follows 6.18's rules: identical flags except
 * VM_IGNORE_MERGE bits (which stick), the same file with continuous pgoff,
 * compatible anon_vmas, equal anon names and uffd contexts, no VM_SPECIAL,
 * and no vm_ops->close on a VMA the merge would remove.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import {
  type MmStruct,
  type VmFile,
  VmArea,
  VM_SPECIAL,
  VM_IGNORE_MERGE,
  VM_STICKY,
  vm_flags_andnot,
  vm_flags_xor,
  vm_flags_or,
  vm_flags_and,
  vm_flags_test,
  is_data_mapping,
  is_exec_mapping,
  is_stack_mapping,
  type vm_flags_t,
} from './mm_types.js'
import { anon_vma_clone, dup_anon_vma, unlink_anon_vmas, vma_pages } from './rmap.js'
import { shmem_evict } from './shmem.js'
import { KernelBug } from '../include/bug.js'
import { vm_flags_string } from './vmflags.js'
import { ENOMEM } from '../include/errno.js'

export { vma_pages, PAGE_SIZE }

/** Kernel: find_vma(): the first VMA with vm_end > addr, or null. */
export function find_vma(mm: MmStruct, addr: number): VmArea | null {
  return mm.mm_mt.find(addr)
}

/** Kernel: find_vma_prev(): [find_vma(addr), the VMA before it]. */
export function find_vma_prev(mm: MmStruct, addr: number): [VmArea | null, VmArea | null] {
  const mt = mm.mm_mt
  const cur = mt.seek(addr, { node: null, offset: 0 })
  const vma = mt.at(cur)
  return [vma, vma ? mt.step_back(cur) : mt.last()]
}

/** Kernel: find_vma_intersection(): the first VMA overlapping [start, end), or null. */
export function find_vma_intersection(mm: MmStruct, start: number, end: number): VmArea | null {
  const v = mm.mm_mt.find(start)
  return v && v.vm_start < end ? v : null
}

/** Kernel: vma_lookup(): the VMA containing addr, or null. */
export function vma_lookup(mm: MmStruct, addr: number): VmArea | null {
  const v = mm.mm_mt.find(addr)
  return v && v.vm_start <= addr ? v : null
}

/** Kernel: vma_prev() relative to a VMA in the tree. */
export function vma_prev(mm: MmStruct, vma: VmArea): VmArea | null {
  return mm.mm_mt.find_before(vma.vm_start)
}

/** Kernel: vma_next() relative to a VMA in the tree. */
export function vma_next(mm: MmStruct, vma: VmArea): VmArea | null {
  return mm.mm_mt.find(vma.vm_end)
}

/** Kernel: for_each_vma_range(): the VMAs overlapping [start, end), as a snapshot array. */
export function vmas_in_range(mm: MmStruct, start: number, end: number): VmArea[] {
  const out: VmArea[] = []
  const mt = mm.mm_mt
  const cur = mt.seek(start, { node: null, offset: 0 })
  for (let v = mt.at(cur); v && v.vm_start < end; v = mt.step(cur)) out.push(v)
  return out
}

/** Kernel: vm_area_alloc(): a zeroed VMA from vm_area_cachep (GFP_KERNEL), null when the slab cannot give one. */
export function vm_area_alloc(mm: MmStruct): VmArea | null {
  const obj = mm.env.kmem_alloc('vm_area_struct')
  if (obj === 0) return null
  const v = new VmArea(mm)
  v.slab_obj = obj
  return v
}

/** Kernel: vm_area_dup(): a copy of vma's fields (no anon_vma chains); null when out of memory. */
export function vm_area_dup(vma: VmArea, mm: MmStruct = vma.vm_mm): VmArea | null {
  const n = vm_area_alloc(mm)
  if (!n) return null
  n.vm_start = vma.vm_start
  n.vm_end = vma.vm_end
  n.vm_flags = vma.vm_flags
  n.vm_pgoff = vma.vm_pgoff
  n.vm_file = vma.vm_file
  if (n.vm_file) n.vm_file.f_count++
  n.anon_vma = vma.anon_vma
  n.vm_ops = vma.vm_ops
  n.vm_anonymous = vma.vm_anonymous
  n.anon_name = vma.anon_name
  n.vm_userfaultfd_ctx = vma.vm_userfaultfd_ctx
  n.vm_private_data = vma.vm_private_data
  n.special_name = vma.special_name
  n.swap_readahead_info = vma.swap_readahead_info
  if (n.vm_file) mm.env.driver_hooks.vma_dup?.(vma, n)
  return n
}

/** Kernel: vm_area_free(). */
export function vm_area_free(vma: VmArea): void {
  const f = vma.vm_file
  if (f && --f.f_count === 0) {
    // fput() of the last reference to a MAP_SHARED|MAP_ANONYMOUS object: the shmem inode
    // is evicted with its pages (shmem_evict_inode). An open file's last reference runs its release.
    if (f.anon_shared) shmem_evict(vma.vm_mm.env, f.f_mapping)
    else f.__fput?.()
  }
  vma.vm_mm.env.kmem_free('vm_area_struct', vma.slab_obj)
}

/** Insert a VMA into the tree and its file's i_mmap. Kernel: vma_link(). */
export function vma_link(mm: MmStruct, vma: VmArea): void {
  mm.mm_mt.insert(vma)
  mm.map_count++
  if (vma.vm_file) vma.vm_file.f_mapping.i_mmap.add(vma)
}

/** Remove a VMA from the tree and from i_mmap (not freed). */
export function vma_unlink(mm: MmStruct, vma: VmArea): void {
  mm.mm_mt.erase(vma)
  mm.map_count--
  if (vma.vm_file) vma.vm_file.f_mapping.i_mmap.delete(vma)
}

/**
 * Kernel: vma_iter_store() for a VMA already in the tree whose boundaries
 * moved in place (vma_set_range()): the tree's gap cache follows. Shrink a
 * neighbour before growing a VMA over its old range, so the tree never holds
 * an overlap.
 */
export function vma_iter_store(mm: MmStruct, vma: VmArea): void {
  mm.mm_mt.update(vma)
}

/** Remove a VMA and free it (closing it and dropping its anon_vma chains). Kernel: remove_vma(). */
export function remove_vma(mm: MmStruct, vma: VmArea): void {
  vma_unlink(mm, vma)
  __remove_vma(vma)
}

/** Kernel: remove_vma() proper, for a VMA no tree holds any more (exit_mmap): close it, drop its anon_vma chains, free it. */
export function __remove_vma(vma: VmArea): void {
  vma.vm_ops?.close?.(vma)
  unlink_anon_vmas(vma)
  vm_area_free(vma)
}

/** Kernel: vm_stat_account(). npages may be negative. */
export function vm_stat_account(mm: MmStruct, flags: vm_flags_t, npages: number): void {
  mm.total_vm += npages
  if (is_exec_mapping(flags)) mm.exec_vm += npages
  else if (is_stack_mapping(flags)) mm.stack_vm += npages
  else if (is_data_mapping(flags)) mm.data_vm += npages
}


/**
 * Kernel: __split_vma(): split vma at addr; the new VMA takes the lower part
 * when new_below, else the upper part. Returns 0 or -errno.
 */
export function __split_vma(mm: MmStruct, vma: VmArea, addr: number, new_below: boolean): number {
  if (addr <= vma.vm_start || addr >= vma.vm_end) throw new KernelBug('__split_vma: address outside VMA')
  if (vma.vm_ops?.may_split) {
    const err = vma.vm_ops.may_split(vma, addr)
    if (err) return err
  }
  const n = vm_area_dup(vma)
  if (!n) return -ENOMEM
  if (new_below) {
    n.vm_end = addr
  } else {
    n.vm_start = addr
    n.vm_pgoff += (addr - vma.vm_start) / PAGE_SIZE
  }
  // anon_vma_clone() failed: it dropped the chains it made; the copy goes, vma is untouched.
  if (anon_vma_clone(n, vma)) {
    vm_area_free(n)
    return -ENOMEM
  }
  n.vm_ops?.open?.(n)
  if (new_below) {
    vma.vm_start = addr
    vma.vm_pgoff += (addr - n.vm_start) / PAGE_SIZE
  } else {
    vma.vm_end = addr
  }
  vma_iter_store(mm, vma)
  vma_link(mm, n)
  return 0
}

/** Kernel: split_vma(): __split_vma() after the vm.max_map_count check. */
export function split_vma(mm: MmStruct, vma: VmArea, addr: number, new_below: boolean): number {
  if (mm.map_count >= mm.env.sysctl.max_map_count) return -ENOMEM
  return __split_vma(mm, vma, addr, new_below)
}

/** What a merge is asked to produce for [start, end) (struct vma_merge_struct). */
export interface VmaMergeSpec {
  start: number
  end: number
  vm_flags: vm_flags_t
  file: VmFile | null
  /** Page offset of `start` in the proposed mapping. */
  pgoff: number
  anon_vma: import('./mm_types.js').AnonVma | null
  anon_name: string | null
  uffd_ctx: object | null
  /** The existing VMA being modified (vma_modify), or null for a new range. */
  middle: VmArea | null
  /**
   * Kernel: vmg->state == VMA_MERGE_ERROR_NOMEM: set when a merge was
   * possible but its anon_vma_clone() failed (nothing was changed).
   */
  nomem?: boolean
}

/** Kernel: is_mergeable_vma(). */
function is_mergeable_vma(vma: VmArea, s: VmaMergeSpec, may_remove: boolean): boolean {
  if (vm_flags_andnot(vm_flags_xor(vma.vm_flags, s.vm_flags), VM_IGNORE_MERGE) !== 0) return false
  if (vma.vm_file !== s.file) return false
  if (vma.vm_userfaultfd_ctx !== s.uffd_ctx) return false
  if (vma.anon_name !== s.anon_name) return false
  if (may_remove && vma.vm_ops?.close) return false
  return true
}

/** Kernel: vma_had_uncowed_parents(). */
function had_uncowed_parents(vma: VmArea | null): boolean {
  return !!vma && !!vma.anon_vma && vma.anon_vma_chain.length !== 1
}

/** Kernel: is_mergeable_anon_vma(). */
function is_mergeable_anon_vma(tgt: VmArea, s: VmaMergeSpec): boolean {
  const tgt_anon = tgt.anon_vma
  const src_anon = s.anon_vma
  if (!tgt_anon && src_anon) return !had_uncowed_parents(s.middle)
  if (tgt_anon && !src_anon) return !had_uncowed_parents(tgt)
  return src_anon === tgt_anon
}

/** Kernel: can_vma_merge_before(): may [start,end) merge with next that follows it? */
function can_vma_merge_before(next: VmArea, s: VmaMergeSpec, may_remove: boolean): boolean {
  return (
    is_mergeable_vma(next, s, may_remove) &&
    is_mergeable_anon_vma(next, s) &&
    next.vm_pgoff === s.pgoff + (s.end - s.start) / PAGE_SIZE
  )
}

/** Kernel: can_vma_merge_after(): may [start,end) merge with prev that precedes it? */
function can_vma_merge_after(prev: VmArea, s: VmaMergeSpec): boolean {
  return is_mergeable_vma(prev, s, false) && is_mergeable_anon_vma(prev, s) && prev.vm_pgoff + vma_pages(prev) === s.pgoff
}

function sticky(a: vm_flags_t, b: vm_flags_t): vm_flags_t {
  return vm_flags_or(a, vm_flags_and(b, VM_STICKY))
}

/**
 * Kernel: vma_merge_new_range(): try to cover the free range [start, end)
 * by extending prev and/or next. Returns the VMA now covering it, or null
 * when no merge is possible (the caller then creates a VMA).
 */
export function vma_merge_new_range(mm: MmStruct, s: VmaMergeSpec): VmArea | null {
  if (!mm.env.trace?.explaining) return __vma_merge_new_range(mm, s)
  const [next0, prev0] = find_vma_prev(mm, s.start)
  const why = xp_neighbours('vma_merge_new_range', s, prev0 && prev0.vm_end === s.start ? prev0 : null, next0 && next0.vm_start === s.end ? next0 : null)
  const r = __vma_merge_new_range(mm, s)
  mm.env.trace.explain('vma_merge', () => `${why}: ${xp_outcome(r, s, 'a new VMA is made')}`)
  return r
}

function __vma_merge_new_range(mm: MmStruct, s: VmaMergeSpec): VmArea | null {
  if (vm_flags_test(s.vm_flags, VM_SPECIAL)) return null
  const [next0, prev0] = find_vma_prev(mm, s.start)
  const prev = prev0 && prev0.vm_end === s.start ? prev0 : null
  const next = next0 && next0.vm_start === s.end ? next0 : null
  const can_left = !!prev && can_vma_merge_after(prev, s)
  let can_right = !!next && can_vma_merge_before(next, s, can_left)
  if (can_right && can_left && prev && next) {
    can_right = !prev.anon_vma || !next.anon_vma || prev.anon_vma === next.anon_vma
  }
  if (can_left && prev) {
    if (can_right && next) {
      // vma_expand(): prev takes next's anon_vma before next goes; out of memory, no merge.
      if (dup_anon_vma(prev, next)) {
        s.nomem = true
        return null
      }
      const end = next.vm_end
      prev.vm_flags = sticky(sticky(prev.vm_flags, s.vm_flags), next.vm_flags)
      remove_vma(mm, next)
      prev.vm_end = end
    } else {
      prev.vm_end = s.end
      prev.vm_flags = sticky(prev.vm_flags, s.vm_flags)
    }
    vma_iter_store(mm, prev)
    return prev
  }
  if (can_right && next) {
    next.vm_start = s.start
    next.vm_pgoff = s.pgoff
    next.vm_flags = sticky(next.vm_flags, s.vm_flags)
    vma_iter_store(mm, next)
    return next
  }
  return null
}

/** Attribute changes vma_modify applies. */
export interface VmaModify {
  vm_flags?: vm_flags_t
  anon_name?: string | null
  uffd_ctx?: object | null
}

/**
 * Kernel: vma_modify() (vma_merge_existing_range() then split): give the
 * part [start, end) of vma the new attributes, merging with neighbours when
 * Linux would, else splitting. Returns the VMA now covering [start, end), or
 * -errno (the tree is unchanged on error).
 */
export function vma_modify(mm: MmStruct, vma: VmArea, start: number, end: number, mod: VmaModify): VmArea | number {
  const s: VmaMergeSpec = {
    start,
    end,
    vm_flags: mod.vm_flags ?? vma.vm_flags,
    file: vma.vm_file,
    pgoff: vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE,
    anon_vma: vma.anon_vma,
    anon_name: mod.anon_name !== undefined ? mod.anon_name : vma.anon_name,
    uffd_ctx: mod.uffd_ctx !== undefined ? mod.uffd_ctx : vma.vm_userfaultfd_ctx,
    middle: vma,
  }
  const merged = vma_merge_existing_range(mm, vma, s)
  if (merged) return merged
  if (s.nomem) return -ENOMEM
  // No merge: split off the parts outside [start, end), then change the middle.
  if (vma.vm_start < start) {
    const err = split_vma(mm, vma, start, true)
    if (err) return err
  }
  if (vma.vm_end > end) {
    const err = split_vma(mm, vma, end, false)
    if (err) return err
  }
  vma.vm_flags = s.vm_flags
  vma.anon_name = s.anon_name
  vma.vm_userfaultfd_ctx = s.uffd_ctx
  return vma
}

function vma_merge_existing_range(mm: MmStruct, middle: VmArea, s: VmaMergeSpec): VmArea | null {
  if (!mm.env.trace?.explaining) return __vma_merge_existing_range(mm, middle, s)
  const [left_side, right_side] = [s.start === middle.vm_start, s.end === middle.vm_end]
  const [prev0, next0] = [vma_prev(mm, middle), vma_next(mm, middle)]
  const prev = left_side && prev0 && prev0.vm_end === s.start ? prev0 : null
  const next = right_side && next0 && next0.vm_start === s.end ? next0 : null
  const inside = (end: string): string => `none (the change ${end} inside ${xp_range(middle)})`
  let why = xp_neighbours('vma_merge_existing_range', s, prev, next, left_side ? undefined : inside('starts'), right_side ? undefined : inside('ends'))
  if (left_side && right_side && middle.vm_ops?.close) why += '; the VMA would be removed but has vm_ops->close'
  const r = __vma_merge_existing_range(mm, middle, s)
  mm.env.trace.explain('vma_merge', () => `${why}: ${xp_outcome(r, s, `no merge, ${xp_range(middle)} is split at the change's ends instead`)}`)
  return r
}

function __vma_merge_existing_range(mm: MmStruct, middle: VmArea, s: VmaMergeSpec): VmArea | null {
  if (vm_flags_test(s.vm_flags, VM_SPECIAL)) return null
  const left_side = s.start === middle.vm_start
  const right_side = s.end === middle.vm_end
  const prev0 = vma_prev(mm, middle)
  const next0 = vma_next(mm, middle)
  const prev = left_side && prev0 && prev0.vm_end === s.start ? prev0 : null
  const next = right_side && next0 && next0.vm_start === s.end ? next0 : null
  if (!prev && !next) return null
  let merge_left = !!prev && can_vma_merge_after(prev, s)
  let merge_right = !!next && can_vma_merge_before(next, s, merge_left)
  if (merge_left && merge_right && prev && next) {
    merge_right = !prev.anon_vma || !next.anon_vma || prev.anon_vma === next.anon_vma
  }
  if (!merge_left && !merge_right) return null
  const remove_middle = left_side && right_side
  if (remove_middle && middle.vm_ops?.close) return null
  if (merge_left && merge_right && next?.vm_ops?.close) merge_right = false
  if (!merge_left && !merge_right) return null
  // The anon_vma the growing VMA takes over (dup_anon_vma(), one clone at most) comes first:
  // when it cannot be had, nothing has changed and the merge fails (VMA_MERGE_ERROR_NOMEM).
  const dup_err = merge_left && prev ? dup_anon_vma(prev, merge_right && next?.anon_vma ? next : middle) : next ? dup_anon_vma(next, middle) : 0
  if (dup_err) {
    s.nomem = true
    return null
  }
  if (merge_left && prev) {
    // prev grows over [start, end) (and over next when merging both).
    let flags = sticky(prev.vm_flags, s.vm_flags)
    // What prev grows over leaves the tree (or shrinks away) first.
    let end = s.end
    if (merge_right && next) {
      flags = sticky(flags, next.vm_flags)
      end = next.vm_end
      remove_vma(mm, next)
    }
    if (remove_middle) {
      flags = sticky(flags, middle.vm_flags)
      remove_vma(mm, middle)
    } else {
      middle.vm_pgoff += (s.end - middle.vm_start) / PAGE_SIZE
      middle.vm_start = s.end
      vma_iter_store(mm, middle)
    }
    prev.vm_end = end
    vma_iter_store(mm, prev)
    prev.vm_flags = flags
    merge_left = true
    return prev
  }
  if (merge_right && next) {
    let flags = sticky(next.vm_flags, s.vm_flags)
    if (remove_middle) {
      flags = sticky(flags, middle.vm_flags)
      remove_vma(mm, middle)
    } else {
      middle.vm_end = s.start
      vma_iter_store(mm, middle)
    }
    next.vm_start = s.start
    next.vm_pgoff = s.pgoff
    vma_iter_store(mm, next)
    next.vm_flags = flags
    return next
  }
  return null
}

// ------------------------------------------------------------ explanations

function xp_range(v: { vm_start: number; vm_end: number } | VmaMergeSpec): string {
  const [a, b] = 'vm_start' in v ? [v.vm_start, v.vm_end] : [v.start, v.end]
  return `[0x${a.toString(16)}-0x${b.toString(16)})`
}

/** Why a neighbour may not merge with the range s: the first rule it breaks, or null (the checks of can_vma_merge_*). */
function xp_refusal(v: VmArea, s: VmaMergeSpec, side: 'prev' | 'next', may_remove: boolean): string | null {
  const diff = vm_flags_andnot(vm_flags_xor(v.vm_flags, s.vm_flags), VM_IGNORE_MERGE)
  if (diff !== 0) return `vm_flags differ in ${vm_flags_string(diff) || 'hidden bits'}`
  if (v.vm_file !== s.file) return v.vm_file && s.file ? 'it maps another file' : v.vm_file ? 'it maps a file and the range is anonymous' : 'the range maps a file and it is anonymous'
  if (v.vm_userfaultfd_ctx !== s.uffd_ctx) return 'another userfaultfd context'
  if (v.anon_name !== s.anon_name) return `another anon name (${JSON.stringify(v.anon_name)} vs ${JSON.stringify(s.anon_name)})`
  if (may_remove && v.vm_ops?.close) return 'it would be removed and has vm_ops->close'
  if (!is_mergeable_anon_vma(v, s)) return 'incompatible anon_vma (each side has its own, or one came from a fork and still shares pages with the parent)'
  if (side === 'prev' && v.vm_pgoff + vma_pages(v) !== s.pgoff) return `pgoff not contiguous (it ends at ${v.vm_pgoff + vma_pages(v)}, the range starts at ${s.pgoff})`
  if (side === 'next' && v.vm_pgoff !== s.pgoff + (s.end - s.start) / PAGE_SIZE) return `pgoff not contiguous (the range ends at ${s.pgoff + (s.end - s.start) / PAGE_SIZE}, it starts at ${v.vm_pgoff})`
  return null
}

/** The rule-by-rule verdict on both neighbours, before the merge changes them. */
function xp_neighbours(fn: string, s: VmaMergeSpec, prev: VmArea | null, next: VmArea | null, no_prev = 'none adjacent', no_next = 'none adjacent'): string {
  const head = `${fn} ${xp_range(s)} ${vm_flags_string(s.vm_flags)}`
  if (vm_flags_test(s.vm_flags, VM_SPECIAL)) return `${head}: VM_SPECIAL (VM_IO|VM_PFNMAP|VM_MIXEDMAP|VM_DONTEXPAND) never merges`
  const left = prev ? xp_refusal(prev, s, 'prev', false) : null
  // next is removed when prev can grow over it (can_vma_merge_before's may_remove)
  let right = next ? xp_refusal(next, s, 'next', !!prev && !left) : null
  if (prev && next && !left && !right && prev.anon_vma && next.anon_vma && prev.anon_vma !== next.anon_vma) right = 'prev and next have different anon_vmas, so only prev may grow'
  const one = (side: string, v: VmArea | null, r: string | null, none: string): string => (v ? `${side} ${xp_range(v)} ${r ? `refused: ${r}` : 'compatible'}` : `${side}: ${none}`)
  return `${head}: ${one('prev', prev, left, no_prev)}, ${one('next', next, right, no_next)}`
}

function xp_outcome(r: VmArea | null, s: VmaMergeSpec, none: string): string {
  if (!r) return none
  const grew = r.vm_start < s.start && r.vm_end > s.end ? 'prev, the range and next became one VMA' : r.vm_start < s.start ? 'prev grew over the range' : r.vm_end > s.end ? 'next grew down over the range' : 'the range took the neighbour\'s place'
  return `merged, ${grew}: ${xp_range(r)}`
}

/** Invariant checker for an mm's VMA tree (DEBUG_VM's validate_mm). Throws KernelBug. */
export function validate_mm(mm: MmStruct): void {
  const mt = mm.mm_mt
  mt.check()
  if (mt.size !== mm.map_count) throw new KernelBug(`validate_mm: map_count ${mm.map_count} != ${mt.size} VMAs`)
  let last = -Infinity
  for (const v of mt) {
    if (v.vm_start % PAGE_SIZE || v.vm_end % PAGE_SIZE) throw new KernelBug('validate_mm: unaligned VMA')
    if (v.vm_start >= v.vm_end) throw new KernelBug('validate_mm: empty VMA')
    // (Negative or wide syscall arguments once made VMAs /proc/<pid>/maps cannot show.)
    if (v.vm_start < 0 || v.vm_end > mm.task_size) throw new KernelBug('validate_mm: VMA outside user space')
    if (v.vm_start < last) throw new KernelBug('validate_mm: VMAs overlap or are unsorted')
    if (v.vm_mm !== mm) throw new KernelBug('validate_mm: VMA of another mm')
    if (v.vm_file && !v.vm_file.f_mapping.i_mmap.has(v)) throw new KernelBug('validate_mm: file VMA not in i_mmap')
    // (Index loops: this runs for every VMA of every mm after every call.)
    const chain = v.anon_vma_chain
    if (v.anon_vma) {
      let i = 0
      while (i < chain.length && chain[i].anon_vma !== v.anon_vma) i++
      if (i === chain.length) throw new KernelBug('validate_mm: anon_vma without its chain')
    }
    // Every VMA, chain and anon_vma is a slab object: one without its object was made after a
    // failed allocation that the caller did not unwind.
    if (v.slab_obj === 0) throw new KernelBug(`validate_mm: VMA [0x${v.vm_start.toString(16)}-0x${v.vm_end.toString(16)}) has no vm_area_struct object`)
    for (let i = 0; i < chain.length; i++) {
      const c = chain[i]
      if (c.slab_obj === 0) throw new KernelBug(`validate_mm: VMA [0x${v.vm_start.toString(16)}-0x${v.vm_end.toString(16)}) has an anon_vma_chain without its object`)
      if (c.anon_vma.slab_obj === 0 || !mm.env.anon_vmas.has(c.anon_vma.id)) throw new KernelBug(`validate_mm: VMA [0x${v.vm_start.toString(16)}-0x${v.vm_end.toString(16)}) is chained to an anon_vma without its object`)
    }
    last = v.vm_end
  }
}
