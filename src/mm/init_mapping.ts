/**
 * The kernel's direct map of lowmem in init_mm's page tables (Kernel:
 * arch/x86/mm/init.c init_memory_mapping(), init_64.c/init_32.c
 * kernel_physical_mapping_init()).
 *
 * Every RAM range below the lowmem limit (the first from physical 0, as the
 * kernel maps the first page and the ISA hole too) is mapped at
 * PAGE_OFFSET + phys with the largest aligned page that fits: 1 GiB and
 * 2 MiB (x86_64), 4 MiB (i386) or 2 MiB (i386-pae), else 4 KiB; the same
 * split /proc/meminfo's DirectMap lines report. Large entries carry
 * PAGE_KERNEL_LARGE (PSE, G, NX where the profile has it), 4 KiB ones
 * PAGE_KERNEL. The tables are boot tables (memblock memory in Linux, so not
 * in PageTables). Translation of direct-map addresses stays arithmetic
 * (__pa()), but a walk of a direct-map address now finds the real entries,
 * and every pgd gets them through its copy of the kernel half.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { arch_filter_pgprot, PAGE_KERNEL, PAGE_KERNEL_LARGE, pfn_pte } from '../arch/pte.js'
import { KernelBug } from '../include/bug.js'
import type { PgTables } from './pgtable.js'


/** Page sizes (bytes) used per range and the present level whose entry maps each. */
function page_sizes(pt: PgTables): { size: number; lv: number }[] {
  const shifts = pt.arch.level_shifts
  const out: { size: number; lv: number }[] = []
  // x86_64 uses 1 GiB pages at the pud level and 2 MiB at the pmd level; 32-bit uses its pmd-level large page.
  const first_large = pt.arch.bits === 64 ? 1 : pt.arch.levels - 2
  for (let lv = first_large; lv < pt.arch.levels; lv++) out.push({ size: 2 ** shifts[lv], lv })
  return out
}

/**
 * Kernel: kernel_physical_mapping_init() over the RAM ranges. Returns bytes
 * mapped per page size (the DirectMap figures).
 */
export function kernel_physical_mapping_init(pt: PgTables, ranges: readonly { base: number; end: number }[], lowmem_end: number): Map<number, number> {
  const sizes = page_sizes(pt)
  const mapped = new Map<number, number>(sizes.map((s) => [s.size, 0]))
  const bytes = sizes.map(() => 0)
  const large = arch_filter_pgprot(pt.arch, PAGE_KERNEL_LARGE)
  const small = arch_filter_pgprot(pt.arch, PAGE_KERNEL)
  const leaf = pt.arch.levels - 1
  // The span of one pte table (2 MiB, 4 MiB on 2-level i386). PAGE_OFFSET is aligned to it, so the
  // 4 KiB entries between two such boundaries of a physical address are consecutive entries of
  // one pte table: one walk from the pgd finds the first, the rest follow it.
  const pte_table_span = 2 ** pt.arch.level_shifts[leaf - 1]
  if (pt.lin(pt.arch.PAGE_OFFSET) % pte_table_span !== 0) throw new KernelBug('kernel_physical_mapping_init: PAGE_OFFSET is not aligned to a pte table')
  ranges.forEach((r, i) => {
    let a = i === 0 ? 0 : r.base
    const end = Math.min(r.end, lowmem_end)
    while (a < end) {
      // The largest page size aligned at a that fits before the end.
      let k = 0
      while (k < sizes.length && !(a % sizes[k].size === 0 && a + sizes[k].size <= end)) k++
      if (k === sizes.length) throw new KernelBug(`kernel_physical_mapping_init: 0x${a.toString(16)} is not page aligned`)
      const s = sizes[k]
      if (s.lv !== leaf) {
        const entryp = pt.early_entry_alloc(pt.arch.PAGE_OFFSET + a, s.lv)
        if (entryp === 0) throw new KernelBug('kernel_physical_mapping_init: out of memory for boot page tables')
        if (pt.ptep_get(entryp) === 0) pt.set_entry(entryp, pfn_pte(a / PAGE_SIZE, large))
        bytes[k] += s.size
        a += s.size
        continue
      }
      // 4 KiB pages up to the next pte-table boundary (where a larger page may fit again) or the end.
      const stop = Math.min(end, (Math.floor(a / pte_table_span) + 1) * pte_table_span)
      let entryp = pt.early_entry_alloc(pt.arch.PAGE_OFFSET + a, leaf)
      if (entryp === 0) throw new KernelBug('kernel_physical_mapping_init: out of memory for boot page tables')
      for (; a < stop; a += PAGE_SIZE, entryp += pt.size) {
        if (pt.ptep_get(entryp) === 0) pt.set_entry(entryp, pfn_pte(a / PAGE_SIZE, small))
        bytes[k] += PAGE_SIZE
      }
    }
  })
  sizes.forEach((x, i) => mapped.set(x.size, bytes[i]))
  return mapped
}
