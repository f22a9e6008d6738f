/**
 * Address-space accounting helpers: overcommit (Committed_AS against
 * CommitLimit), RLIMIT checks, mlock limits
 * (Kernel: mm/util.c __vm_enough_memory, mm/mmap.c may_expand_vm,
 * mm/mlock.c can_do_mlock, mm/mmap.c mlock_future_ok).
 */
import type { MmEnv, MmStruct } from './mm_types.js'
import { ENOMEM } from '../kernel/errno.js'

const PAGE_SIZE = 4096

/** Kernel: vm_acct_memory(). */
export function vm_acct_memory(env: MmEnv, pages: number): void {
  env.vm_committed_as += pages
}

/** Kernel: vm_unacct_memory(). */
export function vm_unacct_memory(env: MmEnv, pages: number): void {
  env.vm_committed_as -= pages
}

/** Kernel: vm_commit_limit(): CommitLimit in pages. */
export function vm_commit_limit(env: MmEnv): number {
  const s = env.sysctl
  const allowed = s.overcommit_kbytes
    ? s.overcommit_kbytes / (PAGE_SIZE / 1024)
    : Math.floor((env.totalram_pages() * s.overcommit_ratio) / 100)
  return Math.floor(allowed)
}

/**
 * Kernel: __vm_enough_memory(): charge `pages` to Committed_AS and decide by
 * vm.overcommit_memory (0 heuristic, 1 always, 2 strict). 0 or -ENOMEM (the
 * charge is undone on failure).
 */
export function __vm_enough_memory(env: MmEnv, mm: MmStruct | null, pages: number, cap_sys_admin: boolean): number {
  vm_acct_memory(env, pages)
  const s = env.sysctl
  if (s.overcommit_memory === 1) return 0
  if (s.overcommit_memory === 0) {
    if (pages > env.totalram_pages()) {
      vm_unacct_memory(env, pages)
      return -ENOMEM
    }
    return 0
  }
  let allowed = vm_commit_limit(env)
  if (!cap_sys_admin) allowed -= s.admin_reserve_kbytes / (PAGE_SIZE / 1024)
  if (mm) {
    const reserve = s.user_reserve_kbytes / (PAGE_SIZE / 1024)
    allowed -= Math.min(Math.floor(mm.total_vm / 32), reserve)
  }
  if (Math.max(0, env.vm_committed_as) < allowed) return 0
  vm_unacct_memory(env, pages)
  return -ENOMEM
}

/** Kernel: security_vm_enough_memory_mm() (root has CAP_SYS_ADMIN in the simulated tasks). */
export function security_vm_enough_memory_mm(mm: MmStruct, pages: number): number {
  return __vm_enough_memory(mm.env, mm, pages, true)
}

/** Kernel: may_expand_vm(): RLIMIT_AS and RLIMIT_DATA checks for npages more of flags. */
export function may_expand_vm(mm: MmStruct, flags: number, npages: number): boolean {
  const s = mm.env.sysctl
  if (mm.total_vm + npages > s.rlimit_as / PAGE_SIZE) return false
  // is_data_mapping: VM_WRITE without VM_SHARED and VM_STACK
  if ((flags & (0x2 | 0x8 | 0x100)) === 0x2 && mm.data_vm + npages > s.rlimit_data / PAGE_SIZE) return false
  return true
}

/** Kernel: mlock_future_ok(): may a VM_LOCKED mapping of `bytes` more be created? (root: always). */
export function mlock_future_ok(mm: MmStruct, flags: number, bytes: number, capable_ipc_lock = true): boolean {
  if (!(flags & 0x2000)) return true
  if (capable_ipc_lock) return true
  const locked = bytes / PAGE_SIZE + mm.locked_vm
  return locked <= mm.env.sysctl.rlimit_memlock / PAGE_SIZE
}

/** Kernel: can_do_mlock() (root: CAP_IPC_LOCK). */
export function can_do_mlock(mm: MmStruct, capable_ipc_lock = true): boolean {
  return mm.env.sysctl.rlimit_memlock !== 0 || capable_ipc_lock
}
