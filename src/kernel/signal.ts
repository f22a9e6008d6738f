/**
 * Fault signals and their handlers (Kernel: kernel/signal.c do_sigaction(),
 * force_sig_fault(); arch/x86/mm/fault.c reports user faults through it).
 *
 * A fault signal cannot be blocked or ignored away: force_sig_fault()
 * resets SIG_IGN to SIG_DFL, so a task without a handler dies of it. With a
 * handler, the handler runs and the task lives on (the simulator does not
 * re-run the faulting instruction: the access simply reports the fault).
 */
import { EINVAL } from '../include/errno.js'
import { SIGKILL, SIGSTOP } from '../include/uapi/signal.js'
import type { TaskEnv } from './fork.js'
import { do_exit } from './exit.js'
import { do_coredump, sig_kernel_coredump } from '../fs/coredump.js'
import { RLIMIT_CORE } from '../include/uapi/resource.js'
import type { SigHandler, TaskStruct } from './task.js'
import type { UserFault } from './mm_entry.js'

/** The highest signal number (_NSIG). */
const _NSIG = 64

/** Kernel: do_sigaction() for one signal: the old handler, or -EINVAL (SIGKILL, SIGSTOP, out of range). */
export function do_sigaction(task: TaskStruct, signo: number, handler: SigHandler): SigHandler | number {
  if (!Number.isInteger(signo) || signo < 1 || signo > _NSIG || signo === SIGKILL || signo === SIGSTOP) return -EINVAL
  const old = task.sighand.get(signo) ?? 'SIG_DFL'
  task.sighand.set(signo, handler)
  return old
}

/** Kernel: force_sig_fault(): run the handler, or kill the task (SIG_DFL; SIG_IGN is overridden). True when it died. */
export function force_sig_fault(env: TaskEnv, task: TaskStruct, f: UserFault): boolean {
  const h = task.sighand.get(f.signal)
  if (typeof h === 'function') {
    h({ signo: f.signal, code: f.si_code, addr: f.addr })
    return false
  }
  sig_fatal_exit(env, task, f.signal, f.si_code, f.addr)
  return true
}

/**
 * Kernel: get_signal()'s fatal path: a signal whose default action dumps
 * core runs do_coredump() first (src/fs/coredump.ts); the wait status
 * gets WCOREDUMP (0x80) when the core was written whole. Then
 * do_group_exit().
 */
export function sig_fatal_exit(env: TaskEnv, task: TaskStruct, signo: number, si_code: number, addr: number | bigint): void {
  let code = signo
  const mm = task.mm
  if (mm && sig_kernel_coredump(signo)) {
    const r = do_coredump(
      {
        mm, signo, si_code, si_addr: addr, pid: task.tgid, ppid: task.parent?.tgid ?? 0, uid: task.cred.uid, gid: task.cred.gid,
        comm: task.comm, argv: task.cmdline, task_flags: task.flags, limit: task.signal.rlim[RLIMIT_CORE].rlim_cur,
        core_pattern: env.coredump.core_pattern, core_uses_pid: env.coredump.core_uses_pid,
      },
      env.mm,
      (text) => env.coredump.log(text),
    )
    if (r.dumped) code += WCOREDUMP
    task.core_file = r.path
  }
  do_exit(env, task, code)
}

/** The wait status bit of a process whose core was dumped (WCOREDUMP). */
export const WCOREDUMP = 0x80
