/**
 * Truncation and hole punching of in-memory files, with the mapping zaps
 * they need, and unmapping one page from every PTE (Kernel: mm/truncate.c
 * truncate_pagecache, mm/memory.c unmap_mapping_range, mm/shmem.c
 * shmem_setattr / shmem_fallocate, mm/rmap.c try_to_unmap).
 *
 * truncate zaps private COW copies past the new EOF too (even_cows), so
 * they SIGBUS like the file pages; a punched hole keeps COW copies.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { vma_address } from './rmap.js'
import { pte_pfn, pte_present, zap_page_range_single } from './memory.js'
import { delete_from_page_cache, ext4_zero_eof_tail, set_page_dirty, shmem_free_swap, shmem_get_page } from './shmem.js'
import { allocated_from, ext4_free_blocks } from './ext4_balloc.js'
import { I_DIRTY_DATASYNC, I_DIRTY_SYNC, mark_inode_dirty } from './page_writeback.js'

/**
 * Kernel: unmap_mapping_range(): zap the PTEs of pages [first, last] of the
 * object in every VMA mapping it; even_cows also zaps private COW copies.
 */
export function unmap_mapping_pages(mapping: AddressSpace, first: number, last: number, even_cows: boolean): void {
  for (const vma of [...mapping.i_mmap]) {
    const vstart = vma.vm_pgoff
    const vend = vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE - 1
    const s = Math.max(first, vstart)
    const e = Math.min(last, vend)
    if (s > e) continue
    const a = vma_address(vma, s)
    const b = vma_address(vma, e) + PAGE_SIZE
    zap_page_range_single(vma.vm_mm, vma, a, b, { single_mapping: true, even_cows })
  }
}

/** Kernel: truncate_setsize() + truncate_pagecache() (shmem_setattr for tmpfs). 0. */
export function truncate_setsize(env: MmEnv, mapping: AddressSpace, newsize: number): number {
  const oldsize = mapping.i_size
  mapping.i_size = newsize
  // shmem_setattr() / ext4_setattr(): for newsize <= oldsize (equal too) the page cache past
  // the new EOF is truncated, which also drops pages a failed write left beyond EOF.
  if (newsize <= oldsize) {
    const holebegin = Math.ceil(newsize / PAGE_SIZE)
    unmap_mapping_pages(mapping, holebegin, Number.MAX_SAFE_INTEGER, true)
    for (const index of [...mapping.i_pages.keys()]) {
      if (index >= holebegin) delete_from_page_cache(env, mapping, index)
    }
    shmem_free_swap(env, mapping, holebegin, Number.MAX_SAFE_INTEGER)
    // The partial page past EOF is zeroed (truncate_inode_partial_folio).
    const partial = newsize % PAGE_SIZE
    if (partial) {
      const index = Math.floor(newsize / PAGE_SIZE)
      let pfn = mapping.i_pages.get(index)
      // shmem_get_partial_folio(): a page out on swap is read back so that its tail can be
      // zeroed (its bytes past EOF would come back when the file grows); when that fails
      // (out of memory) Linux leaves the tail as it is.
      if (pfn === undefined && mapping.i_swap.has(index)) {
        const r = shmem_get_page(env, mapping, index)
        if (r >= 0) pfn = r
      }
      if (pfn !== undefined) {
        if (env.physmem.is_backed(pfn)) env.physmem.fill(pfn, 0, partial, PAGE_SIZE - partial)
        // shmem_undo_range() marks the partial folio dirty before zeroing its tail
        if (mapping.backing === 'shmem') set_page_dirty(env, pfn)
      }
    }
    unmap_mapping_pages(mapping, holebegin, Number.MAX_SAFE_INTEGER, true)
    // ext4_truncate(): the blocks past EOF are freed (and discarded), the EOF block's tail zeroed on disk too.
    const freed = allocated_from(mapping, holebegin)
    for (const index of freed) mapping.disk_blocks.delete(index)
    if (partial) mapping.disk_blocks.get(Math.floor(newsize / PAGE_SIZE))?.fill(0, partial)
    ext4_free_blocks(env, mapping, freed)
  }
  // ext4_setattr(): the new size and times go into the inode (mark_inode_dirty(): I_DIRTY_SYNC | I_DIRTY_DATASYNC).
  mark_inode_dirty(mapping, I_DIRTY_SYNC | I_DIRTY_DATASYNC)
  // ext4_truncate() -> ext4_block_truncate_page(): the block holding the smaller of the old
  // and new sizes gets its tail zeroed and is dirtied when that size is not block aligned
  // (growing: bytes a MAP_SHARED store left past the old EOF are gone).
  ext4_zero_eof_tail(env, mapping, Math.min(oldsize, newsize), Infinity, true)
  return 0
}

/** Kernel: shmem_fallocate(FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE) on whole pages [first, last]. */
export function punch_hole(env: MmEnv, mapping: AddressSpace, offset: number, len: number): void {
  const first = Math.ceil(offset / PAGE_SIZE)
  const last = Math.floor((offset + len) / PAGE_SIZE) - 1
  if (last < first) return
  unmap_mapping_pages(mapping, first, last, false)
  for (const index of [...mapping.i_pages.keys()]) {
    if (index >= first && index <= last) delete_from_page_cache(env, mapping, index)
  }
  shmem_free_swap(env, mapping, first, last)
  // The punched blocks are deallocated on disk (ext4_punch_hole()) and discarded.
  const freed = allocated_from(mapping, first, last)
  for (const index of freed) mapping.disk_blocks.delete(index)
  ext4_free_blocks(env, mapping, freed)
  mark_inode_dirty(mapping, I_DIRTY_SYNC | I_DIRTY_DATASYNC)
}

/**
 * Kernel: try_to_unmap() for a page-cache page: clear every PTE mapping pfn
 * in the object's VMAs (dirty bits go to the page). Returns how many.
 */
export function try_to_unmap_file_page(mapping: AddressSpace, pfn: number, index: number): number {
  let n = 0
  for (const vma of [...mapping.i_mmap]) {
    const a = vma_address(vma, index)
    if (a < 0) continue
    const pte = vma.vm_mm.pgd.get(a / PAGE_SIZE)
    if (!pte_present(pte) || pte_pfn(pte) !== pfn) continue
    zap_page_range_single(vma.vm_mm, vma, a, a + PAGE_SIZE, {})
    n++
  }
  return n
}
