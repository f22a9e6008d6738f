/**
 * Address-space accounting helpers: overcommit (Committed_AS against
 * CommitLimit), RLIMIT checks, mlock limits, the low-address capability check
 * (Kernel: mm/util.c __vm_enough_memory, mm/mmap.c may_expand_vm,
 * mm/mlock.c can_do_mlock, mm/mmap.c mlock_future_ok,
 * security/commoncap.c cap_vm_enough_memory / cap_mmap_addr,
 * include/linux/sched/signal.h rlimit()).
 *
 * `current` is the mm's owner (mm.owner, see mm_types.ts): capable() reads
 * its cred, rlimit() its signal->rlim. An mm without an owner acts as root
 * with the kernel's INIT_RLIMITS (what the init task has).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { is_data_mapping, VM_LOCKED, vm_flags_test, type MmEnv, type MmStruct, type vm_flags_t } from './mm_types.js'
import { ENOMEM, EPERM } from '../include/errno.js'
import { CAP_IPC_LOCK, CAP_SYS_ADMIN, CAP_SYS_RAWIO, cred_capable } from '../include/cred.js'
import type { KernelRandom } from '../include/random.js'
import { stack_rnd_mask } from '../arch/x86/mmap.js'
import { RLIMIT_AS, RLIMIT_DATA, RLIMIT_MEMLOCK, RLIM_INFINITY, init_rlimits } from '../include/resource.js'


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
  return Math.floor(allowed) + env.swap.total_swap_pages
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
    if (pages > env.totalram_pages() + env.swap.total_swap_pages) {
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

const INIT_RLIM = init_rlimits(0)

/** Kernel: capable(cap) for the task running on `mm` (its owner; root when none). */
export function capable(mm: MmStruct, cap: number): boolean {
  return mm.owner ? cred_capable(mm.owner.cred, cap) : true
}

/** Kernel: rlimit(): current's soft limit for `resource` (bytes, Infinity when unlimited). */
export function rlimit(mm: MmStruct, resource: number): number {
  return (mm.owner ? mm.owner.signal.rlim[resource] : INIT_RLIM[resource]).rlim_cur
}

/** Kernel: rlimit_max(): current's hard limit for `resource`. */
export function rlimit_max(mm: MmStruct, resource: number): number {
  return (mm.owner ? mm.owner.signal.rlim[resource] : INIT_RLIM[resource]).rlim_max
}

/** A limit in pages (rlim >> PAGE_SHIFT); Infinity stays Infinity. */
function rlim_pages(rlim: number): number {
  return rlim === RLIM_INFINITY ? Infinity : Math.floor(rlim / PAGE_SIZE)
}

/**
 * Kernel: security_vm_enough_memory_mm() -> cap_vm_enough_memory(): the
 * admin reserve is kept back from tasks without CAP_SYS_ADMIN (mode 2).
 */
export function security_vm_enough_memory_mm(mm: MmStruct, pages: number): number {
  return __vm_enough_memory(mm.env, mm, pages, capable(mm, CAP_SYS_ADMIN))
}

/**
 * Kernel: security_mmap_addr() -> cap_mmap_addr(): an address below
 * vm.mmap_min_addr needs CAP_SYS_RAWIO. 0 or -EPERM.
 */
export function security_mmap_addr(mm: MmStruct, addr: number): number {
  if (addr < mm.env.sysctl.mmap_min_addr && !capable(mm, CAP_SYS_RAWIO)) return -EPERM
  return 0
}

/**
 * Kernel: may_expand_vm(): may `npages` more of `flags` be mapped? RLIMIT_AS
 * bounds total_vm; RLIMIT_DATA bounds data_vm for data mappings (private
 * writable, not stack), except the Valgrind workaround (a soft limit of 0
 * checks the hard limit) and with the ignore_rlimit_data boot option, which
 * only warns. The warning is printed once per boot (pr_warn_once).
 */
export function may_expand_vm(mm: MmStruct, flags: vm_flags_t, npages: number): boolean {
  if (mm.total_vm + npages > rlim_pages(rlimit(mm, RLIMIT_AS))) return false
  if (is_data_mapping(flags) && mm.data_vm + npages > rlim_pages(rlimit(mm, RLIMIT_DATA))) {
    const lim = rlimit(mm, RLIMIT_DATA)
    if (lim === 0 && mm.data_vm + npages <= rlim_pages(rlimit_max(mm, RLIMIT_DATA))) return true
    const ignore = mm.env.sysctl.ignore_rlimit_data
    if (mm.env.pr_warn_once && mm.owner) {
      mm.env.pr_warn_once(
        'may_expand_vm',
        `mmap: ${mm.owner.comm} (${mm.owner.pid}): VmData ${(mm.data_vm + npages) * PAGE_SIZE} exceed data ulimit ${lim}. ` +
          `Update limits${ignore ? '' : ' or use boot option ignore_rlimit_data'}.`,
      )
    }
    if (!ignore) return false
  }
  return true
}

/**
 * Kernel: mlock_future_ok(): may a mapping of `bytes` more with `flags` be
 * created? Only VM_LOCKED ones are limited: locked_vm plus them must stay
 * within RLIMIT_MEMLOCK, unless the task has CAP_IPC_LOCK.
 */
export function mlock_future_ok(mm: MmStruct, flags: vm_flags_t, bytes: number): boolean {
  if (!vm_flags_test(flags, VM_LOCKED) || capable(mm, CAP_IPC_LOCK)) return true
  const locked = Math.floor(bytes / PAGE_SIZE) + mm.locked_vm
  return locked <= rlim_pages(rlimit(mm, RLIMIT_MEMLOCK))
}

/** Kernel: can_do_mlock(): a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
export function can_do_mlock(mm: MmStruct): boolean {
  if (rlimit(mm, RLIMIT_MEMLOCK) !== 0) return true
  return capable(mm, CAP_IPC_LOCK)
}

/**
 * Kernel: randomize_stack_top(): with PF_RANDOMIZE the stack's top moves
 * down by a random number of pages, up to __STACK_RND_MASK (16 GiB on
 * x86_64, 8 MiB on i386).
 */
export function randomize_stack_top(rnd: KernelRandom, random: boolean, stack_top: number, long_bits: 32 | 64): number {
  let v = 0
  if (random) v = Number(rnd.get_random_long(long_bits) & BigInt(stack_rnd_mask(long_bits === 32))) * PAGE_SIZE
  return Math.ceil(stack_top / PAGE_SIZE) * PAGE_SIZE - v
}
