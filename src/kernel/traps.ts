/**
 * User-mode accesses that never reach the page-fault handler's VMA lookup
 * (Kernel: arch/x86/kernel/traps.c exc_general_protection, arch/x86/mm/fault.c
 * handle_page_fault / do_kern_addr_fault).
 *
 * On x86_64 (4-level paging) an address is canonical when bits 47-63 are all
 * equal: [0, 2^47) and [2^64 - 2^47, 2^64). A user access to a non-canonical
 * address raises #GP, not #PF: the task gets SIGSEGV with si_code SI_KERNEL
 * and no address (si_addr 0). A canonical address in the kernel half faults
 * (#PF on a supervisor page): do_kern_addr_fault() -> bad_area_nosemaphore()
 * gives SIGSEGV/SEGV_MAPERR at that address. On i386 every 32-bit address
 * is canonical and the mm's fault path already answers the kernel ones.
 */
import type { ArchProfile } from '../arch/profile.js'
import type { Ulong } from '../include/ulong.js'
import { SEGV_MAPERR, SIGSEGV, SI_KERNEL } from '../include/uapi/signal.js'
import type { UserFault } from './mm_entry.js'

/** Where x86_64 user addresses stop being canonical. */
export const CANONICAL_USER_END = 2 ** 47
const CANONICAL_KERNEL_START = 2n ** 64n - 2n ** 47n

/**
 * The fault of a user access starting at `addr` when the address is beyond
 * what the page tables translate for user mode (x86_64: at or above 2^47),
 * else null (the MMU and the fault handler decide).
 */
export function user_access_trap(arch: ArchProfile, addr: Ulong): UserFault | null {
  if (arch.bits !== 64) return null
  if (typeof addr === 'number' && addr < CANONICAL_USER_END) return null
  if (typeof addr === 'bigint' && addr >= CANONICAL_KERNEL_START) {
    return { signal: SIGSEGV, si_code: SEGV_MAPERR, addr }
  }
  return { signal: SIGSEGV, si_code: SI_KERNEL, addr: 0 }
}
