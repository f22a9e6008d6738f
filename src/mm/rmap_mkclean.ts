/**
 * Kernel: folio_mkclean() (mm/rmap.c, page_vma_mkclean_one()): before a
 * file folio is written back, each shared mapping's PTE for it is made
 * clean and read-only, so a store after the write faults again and dirties
 * the folio again (page_mkwrite): the write-back cannot lose a later store,
 * and the dirty accounting sees every dirtying. Private mappings are left
 * alone (their PTEs map the file's page read-only, or a COW copy).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { _PAGE_DIRTY, _PAGE_RW, pte_clear_flags, pte_dirty, pte_write } from '../arch/pte.js'
import { type MmEnv, VM_SHARED, vm_flags_test } from './mm_types.js'
import { rmap_walk } from './rmap.js'

/** Cleans and write-protects every shared PTE of page pfn; true if one of them was dirty. */
export function folio_mkclean(env: MmEnv, pfn: number): boolean {
  let dirty = false
  rmap_walk(env, pfn, (vma, addr, pte) => {
    if (!vm_flags_test(vma.vm_flags, VM_SHARED) || (!pte_dirty(pte) && !pte_write(pte))) return true
    if (pte_dirty(pte)) dirty = true
    // ptep_clear_flush(), then the entry back write-protected and clean
    vma.vm_mm.pgd.set(addr / PAGE_SIZE, pte_clear_flags(pte, _PAGE_DIRTY | _PAGE_RW))
    env.flush_tlb_range(vma.vm_mm, addr, addr + PAGE_SIZE)
    return true
  })
  return dirty
}
