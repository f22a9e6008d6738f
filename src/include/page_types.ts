/**
 * The page geometry every layer shares (Kernel: arch/x86/include/asm/page_types.h,
 * include/linux/mm.h PAGE_ALIGN). All three profiles mmsim
 * models (x86_64, i386, i386-pae) use 4 KiB base pages; huge mappings are
 * orders of it.
 *
 * Addresses are exact non-negative doubles (below 2^53), so the helpers use
 * arithmetic, never 32-bit bitwise operators. offset_in_page(), page-table
 * indexes and page-by-page iteration are in wide.ts, with the other tricks.
 */
export const PAGE_SHIFT = 12
export const PAGE_SIZE = 4096

/** Kernel: PAGE_ALIGN(): round `addr` up to a page boundary. */
export function PAGE_ALIGN(addr: number): number {
  return Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE
}

/** Kernel: PAGE_ALIGN_DOWN() / addr & PAGE_MASK: round down to a page boundary. */
export function PAGE_ALIGN_DOWN(addr: number): number {
  return Math.floor(addr / PAGE_SIZE) * PAGE_SIZE
}

/** Kernel: PAGE_ALIGNED(). */
export function PAGE_ALIGNED(addr: number): boolean {
  return addr % PAGE_SIZE === 0
}

/** The page number of a byte address or offset (addr >> PAGE_SHIFT). */
export function PFN_DOWN(addr: number): number {
  return Math.floor(addr / PAGE_SIZE)
}

/** The number of pages that cover `len` bytes (PFN_UP(len)). */
export function PFN_UP(addr: number): number {
  return Math.ceil(addr / PAGE_SIZE)
}
