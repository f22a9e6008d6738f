/**
 * A task's end (Kernel: kernel/exit.c do_exit(), exit_mm(), release_task();
 * kernel/fork.c put_task_stack()).
 *
 * do_exit() closes the descriptors (exit_files()), lets the address space go
 * (exit_mm(): the task stops using it, the last user's mmput() tears it
 * down), and leaves the task a zombie with its exit code (the signal number,
 * or the status << 8); the dead task is switched away for good, so its
 * kernel stack is freed then. The task_struct itself lives until the parent
 * reaps it (release_task()).
 */
import { put_files_struct } from '../fs/file.js'
import type { TaskEnv } from './fork.js'
import { mmdrop, mmput } from './sched_mm.js'
import { put_cred } from './cred.js'
import { EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, type TaskStruct } from './task.js'

/** Kernel: do_exit(): `exit_code` is the wait status (signo, or code << 8). */
export function do_exit(env: TaskEnv, task: TaskStruct, exit_code: number): void {
  task.flags |= PF_EXITING
  // A task killed asleep (an OOM kill, a fatal signal) is off its wait queues before it dies.
  env.sleepers?.cancel(task)
  if (task.files) {
    put_files_struct(task.files)
    task.files = null
  }
  // exit_mm()
  const mm = task.mm
  task.mm = null
  if (task.active_mm === mm) task.active_mm = null
  env.sched.dequeue(task)
  if (mm) mmput(mm)
  task.exit_code = exit_code
  task.exit_state = EXIT_ZOMBIE
  // put_task_stack(): the dead task will never run again.
  if (task.stack) {
    env.mm.free_thread_stack(task.stack)
    task.stack = 0
  }
}

/** Kernel: release_task(): the parent reaped the zombie; its task_struct and pid go. */
export function release_task(env: TaskEnv, task: TaskStruct): void {
  // free_signal_struct(): the OOM victim's pinned mm goes with the signal struct.
  const oom_mm = task.signal.oom_mm
  if (oom_mm) {
    task.signal.oom_mm = null
    mmdrop(oom_mm)
  }
  // __put_task_struct() -> exit_creds()
  put_cred(env.mm, task)
  if (task.kaddr) env.mm.free_task_struct(task.kaddr)
  task.kaddr = 0
  task.exit_state = EXIT_DEAD
  env.pids.detach_pid(task)
}
