/**
 * May one task look into another's memory (Kernel: kernel/ptrace.c
 * __ptrace_may_access, ptrace_may_access; kernel/fork.c mm_access).
 *
 * A task may always access its own thread group. Otherwise the caller's
 * ids (its fsuid/fsgid for the _FSCREDS modes that /proc files use) must
 * equal all three of the target's uids (real, effective, saved) and gids,
 * or the caller needs CAP_SYS_PTRACE. The target's mm must then be
 * dumpable (SUID_DUMP_USER, which every mm of mmsim is: no setuid
 * execve) unless the caller has CAP_SYS_PTRACE.
 *
 * Not modelled: user namespaces (everything is init_user_ns), the Yama
 * LSM's ptrace_scope (this is the kernel without Yama: scope 0), and
 * PTRACE_MODE_NOAUDIT.
 */
import { CAP_SYS_PTRACE, cred_capable } from '../include/cred.js'
import { EACCES, EPERM } from '../include/errno.js'
import type { MmStruct } from '../mm/mm_types.js'
import type { TaskStruct } from './task.js'

export const PTRACE_MODE_READ = 0x01
export const PTRACE_MODE_ATTACH = 0x02
export const PTRACE_MODE_FSCREDS = 0x08
export const PTRACE_MODE_REALCREDS = 0x10
export const PTRACE_MODE_ATTACH_FSCREDS = PTRACE_MODE_ATTACH | PTRACE_MODE_FSCREDS
export const PTRACE_MODE_READ_FSCREDS = PTRACE_MODE_READ | PTRACE_MODE_FSCREDS

/** Kernel: __ptrace_may_access(): 0 or -EPERM. */
export function __ptrace_may_access(current: TaskStruct, task: TaskStruct, mode: number): number {
  if (task.tgid === current.tgid) return 0
  const c = current.cred
  const t = task.cred
  const caller_uid = mode & PTRACE_MODE_FSCREDS ? c.fsuid : c.uid
  const caller_gid = mode & PTRACE_MODE_FSCREDS ? c.fsgid : c.gid
  const same_ids =
    caller_uid === t.euid && caller_uid === t.suid && caller_uid === t.uid && caller_gid === t.egid && caller_gid === t.sgid && caller_gid === t.gid
  const has_cap = cred_capable(c, CAP_SYS_PTRACE)
  if (!same_ids && !has_cap) return -EPERM
  // get_dumpable(mm) is SUID_DUMP_USER for every mmsim mm: nothing more to refuse
  return 0
}

/** Kernel: ptrace_may_access(). */
export function ptrace_may_access(current: TaskStruct, task: TaskStruct, mode: number): boolean {
  return __ptrace_may_access(current, task, mode) === 0
}

/**
 * Kernel: mm_access(): the target's mm when the caller may access it (its
 * own always), null for a task without one (a kernel thread, an exited
 * task), -EACCES otherwise.
 */
export function mm_access(current: TaskStruct, task: TaskStruct, mode: number): MmStruct | null | number {
  const mm = task.mm
  if (!mm) return null
  if (mm !== current.mm && !ptrace_may_access(current, task, mode)) return -EACCES
  return mm
}
