/**
 * Wait queues (Kernel: include/linux/wait.h, kernel/sched/wait.c): where a
 * task sleeps until a driver's condition holds, and what wakes it.
 *
 * mmsim's processes are driven synchronously, so a task cannot stop in the
 * middle of a driver's read(). What Linux's wait_event_interruptible() loop
 * does instead is reproduced exactly: a call whose condition is false puts
 * the task on the queue and returns E_SLEEPING; the system-call layer then
 * keeps the task asleep (TASK_INTERRUPTIBLE) and, when wake_up runs, calls
 * the same system call again from the top. Every wait_event loop re-tests
 * its condition after waking, so running the call again is the loop's next
 * turn. E_SLEEPING never reaches user space.
 */

/** mmsim's stand-in for schedule() inside a wait loop: not a Linux errno, never seen by a process. */
export const E_SLEEPING = 1024

/** struct wait_queue_entry: its func is autoremove_wake_function (the entry leaves the queue when woken). */
export interface WaitQueueEntry {
  readonly func: () => void
}

/** wait_queue_head_t. */
export class WaitQueueHead {
  private readonly entries = new Set<WaitQueueEntry>()

  /** Kernel: add_wait_queue(). */
  add_wait_queue(e: WaitQueueEntry): void {
    this.entries.add(e)
  }
  /** Kernel: remove_wait_queue(). */
  remove_wait_queue(e: WaitQueueEntry): void {
    this.entries.delete(e)
  }
  /** Kernel: waitqueue_active(): somebody sleeps here. */
  get active(): boolean {
    return this.entries.size > 0
  }
  /** Kernel: wake_up_interruptible(): wake every sleeper (each leaves the queue). */
  wake_up_interruptible(): void {
    for (const e of [...this.entries]) {
      this.entries.delete(e)
      e.func()
    }
  }
}
