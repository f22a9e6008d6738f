/**
 * Non-present, non-none PTEs that are not swap slots: PTE markers
 * (Kernel: include/linux/swapops.h make_pte_marker(), is_pte_marker(),
 * pte_marker_get(); include/linux/swap.h SWP_PTE_MARKER).
 *
 * A marker is a swap entry of the reserved type SWP_PTE_MARKER, its offset
 * holding the marker bits; src/arch/pte.ts writes it into the frame in the
 * profile's swap-entry layout (x86_64: type in bits 59-63, inverted offset in
 * 9-58; i386: type in bits 1-5, offset from bit 9). SWP_PTE_MARKER is
 * MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + SWP_DEVICE_NUM, and
 * MAX_SWAPFILES is 32 minus all of those and SWP_PTE_MARKER_NUM (1), so it
 * is 31 whatever the configuration.
 */
import { is_swap_pte, pte_swp_offset, pte_swp_type, swp_entry_to_pte, SWP_TYPE_BITS, type PteVal } from '../arch/pte.js'

/** Kernel: SWP_PTE_MARKER. */
export const SWP_PTE_MARKER = 2 ** SWP_TYPE_BITS - 1
/** Kernel: PTE_MARKER_UFFD_WP. */
export const PTE_MARKER_UFFD_WP = 1
/** Kernel: PTE_MARKER_POISONED. */
export const PTE_MARKER_POISONED = 2
/** Kernel: PTE_MARKER_GUARD (MADV_GUARD_INSTALL). */
export const PTE_MARKER_GUARD = 4

/** Kernel: make_pte_marker(): the PTE carrying `marker` bits. */
export function make_pte_marker(marker: number): PteVal {
  return swp_entry_to_pte(SWP_PTE_MARKER, marker)
}
/** Kernel: is_pte_marker(). */
export function is_pte_marker(pte: PteVal): boolean {
  return is_swap_pte(pte) && pte_swp_type(pte) === SWP_PTE_MARKER
}
/** Kernel: pte_marker_get(): the marker bits of a marker PTE. */
export function pte_marker_get(pte: PteVal): number {
  return pte_swp_offset(pte)
}
/** Kernel: is_guard_pte_marker(): a guard region's PTE (MADV_GUARD_INSTALL). */
export function is_guard_pte_marker(pte: PteVal): boolean {
  return is_pte_marker(pte) && (pte_marker_get(pte) & PTE_MARKER_GUARD) !== 0
}
