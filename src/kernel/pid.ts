/**
 * Process ids and the table of tasks by pid (Kernel: kernel/pid.c
 * alloc_pid(), attach_pid(), find_task_by_vpid(); kernel/ucount.c for the
 * per-user process count RLIMIT_NPROC checks).
 *
 * Pids are handed out in order; 1 is init's and the low numbers belong to
 * the kernel threads of a booted machine, so processes start at 100 (what
 * a fresh machine's first shell command sees is of that order).
 *
 * Invariants: a task is in the table from copy_process() until it is
 * reaped (release_task()); zombies stay, so /proc and the RLIMIT_NPROC
 * count see them until then.
 */
import type { TaskStruct } from './task.js'

const FIRST_USER_PID = 100

export class PidTable {
  private next_pid = FIRST_USER_PID
  /** The pid hash: every task not yet reaped. */
  readonly tasks = new Map<number, TaskStruct>()

  /** Kernel: total_forks (every task created since boot has had a pid). */
  get total_forks(): number {
    return this.next_pid - FIRST_USER_PID
  }

  /** Kernel: alloc_pid(). */
  alloc_pid(): number {
    return this.next_pid++
  }

  /** Kernel: attach_pid(). */
  attach_pid(task: TaskStruct): void {
    this.tasks.set(task.pid, task)
  }

  /** Kernel: detach_pid() (release_task()). */
  detach_pid(task: TaskStruct): void {
    if (this.tasks.get(task.pid) === task) this.tasks.delete(task.pid)
  }

  /** Kernel: find_task_by_vpid(). */
  find_task_by_vpid(pid: number): TaskStruct | null {
    return this.tasks.get(pid) ?? null
  }

  /** Processes of real uid `uid` not yet reaped (the ucounts' UCOUNT_RLIMIT_NPROC count). */
  nr_processes(uid: number): number {
    let n = 0
    for (const t of this.tasks.values()) if (!t.is_kthread && t.uid === uid) n++
    return n
  }
}
