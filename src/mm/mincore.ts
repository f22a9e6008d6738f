/**
 * mincore (Kernel: mm/mincore.c). One byte per page: 1 when a PTE is
 * present (the zero page too), or for file mappings when the page is in the
 * page cache, or for a swap entry when its folio is in the swap cache; 0 for
 * holes in anonymous memory; a guard marker counts as a hole.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { MmStruct } from './mm_types.js'
import { vma_lookup } from './vma.js'
import { linear_page_index } from './rmap.js'
import { is_guard_pte_marker, pte_present, vma_is_anonymous } from './memory.js'
import { EINVAL, ENOMEM } from '../include/errno.js'
import { type UlongArg, ul_offset_in_page, ulong } from '../include/ulong.js'
import { BITS_PER_LONG } from './mmap.js'
import { pte_swp_offset, pte_swp_type } from '../arch/pte.js'
import { swp_entry } from './swap_h.js'
import { swap_cache_get_folio } from './swap_state.js'

/**
 * Kernel: sys_mincore(): fill vec[i] for each page of [start, start+len)
 * (start and len are unsigned longs, src/include/ulong.ts). 0 or -errno
 * (vec must hold ceil(len/4096) bytes).
 */
export function do_mincore(mm: MmStruct, start_in: UlongArg, len_in: UlongArg, vec: Uint8Array): number {
  const bits = BITS_PER_LONG(mm)
  const ustart = ulong(start_in, bits)
  const ulen = ulong(len_in, bits)
  if (ul_offset_in_page(ustart)) return -EINVAL
  // access_ok(start, len): the range must end (without wrapping) within user space; a value
  // of 2^53 or more never does.
  if (typeof ustart !== 'number' || typeof ulen !== 'number') return -ENOMEM
  const start = ustart
  const len = ulen
  if (len > mm.task_size || start > mm.task_size - len) return -ENOMEM
  let pages = Math.ceil(len / PAGE_SIZE)
  let i = 0
  let addr = start
  while (pages > 0) {
    const vma = vma_lookup(mm, addr)
    if (!vma) return -ENOMEM
    const end = Math.min(vma.vm_end, addr + pages * PAGE_SIZE)
    for (; addr < end; addr += PAGE_SIZE, i++, pages--) {
      const pte = mm.pgd.get(addr / PAGE_SIZE)
      // pte_none_mostly(): a PTE marker counts as none.
      if (pte !== 0 && !is_guard_pte_marker(pte)) {
        // A swapped-out page is resident only while its folio is in the swap cache (mincore_swap()).
        vec[i] = pte_present(pte) ? 1 : swap_cache_get_folio(mm.env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte))) >= 0 ? 1 : 0
        continue
      }
      if (vma_is_anonymous(vma) || !vma.vm_file) {
        vec[i] = 0
        continue
      }
      vec[i] = vma.vm_file.f_mapping.i_pages.has(linear_page_index(vma, addr)) ? 1 : 0
    }
  }
  return 0
}
