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
  do_exit(env, task, f.signal)
  return true
}
