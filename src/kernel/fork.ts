/**
 * Creating tasks (Kernel: kernel/fork.c copy_process(), dup_task_struct(),
 * kernel_clone()).
 *
 * copy_process() follows the kernel's order: the task_struct and its kernel
 * stack first (ENOMEM), then the RLIMIT_NPROC check of the real uid (EAGAIN;
 * zombies count until reaped; uid 0, CAP_SYS_RESOURCE and CAP_SYS_ADMIN are
 * exempt), then the credentials and limits (copy_creds(), copy_signal()),
 * the signal handlers, the descriptor table (dup_fd()) and the address
 * space (dup_mm(), or a shared one for CLONE_VM). A failure undoes what was
 * done, in reverse.
 */
import { EAGAIN, ENOMEM } from '../include/errno.js'
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE, cred_capable } from '../include/cred.js'
import { RLIMIT_NPROC, copy_rlimits, type Rlimit } from '../include/resource.js'
import { dup_fd, put_files_struct } from '../fs/file.js'
import type { MmEntry } from './mm_entry.js'
import type { PidTable } from './pid.js'
import type { Scheduler } from './sched.js'
import { dup_mm, mmget } from './sched_mm.js'
import { TASK_INTERRUPTIBLE, TaskStruct } from './task.js'

import { get_cred, prepare_creds, put_cred } from './cred.js'

/** What task creation and teardown use of the machine. */
export interface TaskEnv {
  readonly pids: PidTable
  readonly sched: Scheduler
  readonly mm: MmEntry
  /** init's limits (INIT_RLIMITS completed by fork_init()), which every process inherits. */
  readonly init_rlim: readonly Rlimit[]
  /** The tasks asleep in a call: one that dies (a signal, the OOM killer) leaves its wait queues. */
  readonly sleepers?: { cancel(t: TaskStruct): void }
  /** kernel.core_pattern and kernel.core_uses_pid, and the kernel log the dumper reports to. */
  readonly coredump: CoredumpSysctl
}

/** The core dump sysctls (fs/coredump.c) and printk for do_coredump()'s messages. */
export interface CoredumpSysctl {
  core_pattern: string
  core_uses_pid: number
  log(text: string): void
}

/** clone(2) flag: share the address space (a thread). */
export const CLONE_VM = 0x100

/**
 * Kernel: dup_task_struct(): the task_struct object and the kernel stack of
 * a new task. False (nothing allocated) when either allocation fails.
 */
export function dup_task_struct(env: TaskEnv, t: TaskStruct): boolean {
  t.kaddr = env.mm.alloc_task_struct()
  if (t.kaddr === 0) return false
  t.stack = env.mm.alloc_thread_stack()
  if (t.stack === 0) {
    env.mm.free_task_struct(t.kaddr)
    t.kaddr = 0
    return false
  }
  // Not on a CPU until switch_to(): sleeping (S), as an idle process on a real machine.
  t.__state = TASK_INTERRUPTIBLE
  return true
}

/** Kernel: copy_process() for fork(2) and clone(CLONE_VM): the new task, or -errno. */
export function copy_process(env: TaskEnv, parent: TaskStruct, clone_flags = 0): TaskStruct | number {
  const cred = parent.cred
  const t = new TaskStruct(0, parent.comm, null, cred, copy_rlimits(parent.signal.rlim))
  if (!dup_task_struct(env, t)) return -ENOMEM
  // copy_creds(): a thread shares the cred; a process gets its own copy (prepare_creds)
  if (clone_flags & CLONE_VM) get_cred(env.mm, t, parent)
  else if (parent.cred_kaddr && !prepare_creds(env.mm, t)) {
    free_task(env, t)
    return -ENOMEM
  }
  const exempt = cred.uid === 0 || cred_capable(cred, CAP_SYS_RESOURCE) || cred_capable(cred, CAP_SYS_ADMIN)
  if (!exempt && env.pids.nr_processes(cred.uid) >= parent.signal.rlim[RLIMIT_NPROC].rlim_cur) {
    free_task(env, t)
    return -EAGAIN
  }
  // copy_signal(): the child keeps the parent's OOM adjustments.
  t.signal.oom_score_adj = parent.signal.oom_score_adj
  t.signal.oom_score_adj_min = parent.signal.oom_score_adj_min
  // the session's controlling terminal is the child's too
  t.signal.tty = parent.signal.tty
  for (const [s, h] of parent.sighand) t.sighand.set(s, h)
  t.files = parent.files ? dup_fd(parent.files) : null
  // copy_mm(): the mappings are copied (fork) or shared (a thread).
  if (parent.mm) {
    let mm = parent.mm
    if (clone_flags & CLONE_VM) mmget(mm)
    else {
      const child_mm = dup_mm(parent.mm)
      if (!child_mm) {
        // Kernel: copy_mm() returns -ENOMEM when dup_mm() fails.
        if (t.files) put_files_struct(t.files)
        free_task(env, t)
        return -ENOMEM
      }
      mm = child_mm
      mm.owner = t
    }
    t.mm = t.active_mm = mm
  }
  t.pid = t.tgid = env.pids.alloc_pid()
  if (clone_flags & CLONE_VM) t.tgid = parent.tgid
  t.parent = parent
  t.cpu = parent.cpu
  t.cmdline = [...parent.cmdline]
  parent.children.push(t)
  env.pids.attach_pid(t)
  return t
}

/** Kernel: free_task(): the task_struct and kernel stack go back to their allocators. */
export function free_task(env: TaskEnv, t: TaskStruct): void {
  put_cred(env.mm, t)
  if (t.stack) env.mm.free_thread_stack(t.stack)
  if (t.kaddr) env.mm.free_task_struct(t.kaddr)
  t.stack = t.kaddr = 0
}
