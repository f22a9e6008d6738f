/**
 * Sleeping system calls (Kernel: kernel/sched/wait.c prepare_to_wait /
 * finish_wait, the wait_event_interruptible() loop; fs/select.c's
 * poll_wait table): the part of the scheduler that keeps a task asleep on
 * wait queues and runs it again when one is woken.
 *
 * A driver that would sleep calls prepare_to_wait() on each queue (through
 * DriverKernel) and returns E_SLEEPING (src/include/wait.ts). The syscall
 * layer parks the task with a restart closure: the same call, from the top.
 * wake_up on any of the queues takes the task off all of them and queues it
 * to run; it runs when the waking call (or interrupt) is over, as a woken
 * task runs after the waker on a real machine with one CPU free. Its call
 * may sleep again (another reader took the data first) or finish; the
 * result lands in the Sleeping record the process holds.
 *
 * Invariants: a task is in `asleep` exactly while it has entries on wait
 * queues or is queued to run; a parked call always has at least one queue
 * (a driver that sleeps on none would sleep forever: warned; it stays
 * asleep until killed). A signal sent to a sleeper (kill(2), syscalls.ts)
 * wakes it like a wake_up: its call runs again, the driver's
 * wait_event_interruptible() sees the signal and returns -ERESTARTSYS,
 * which the way back to user mode turns into EINTR after the handler ran.
 * poll's own sleep does not look at signals (its EINTR is not modelled).
 */
import { E_SLEEPING, type WaitQueueEntry, type WaitQueueHead } from '../include/wait.js'
import { TASK_INTERRUPTIBLE, type TaskStruct } from './task.js'
import { KernelBug } from '../include/bug.js'

/** A system call asleep: what the process waits on and, once it ran to the end, its result. */
export class Sleeping {
  /** The call's return value once it finished (>= 0 or -errno); null while asleep. */
  result: number | null = null
  queued: [WaitQueueHead, WaitQueueEntry][] = []
  /** Parked on no queue at all (a driver bug, warned): nothing will wake it. */
  empty = false
  constructor(
    readonly task: TaskStruct,
    /** The system call's name ('read', 'write', 'poll'). */
    readonly syscall: string,
    readonly restart: () => number,
  ) {}
}

export class Sleepers {
  /** Tasks asleep in a system call. */
  readonly asleep = new Map<TaskStruct, Sleeping>()
  /** Queues the running call asked to sleep on (prepare_to_wait), not yet parked. */
  private pending: WaitQueueHead[] = []
  private readonly woken: Sleeping[] = []
  private running = false
  /** The record being restarted: a call that sleeps again keeps it. */
  private restarting: Sleeping | null = null

  constructor(private readonly warn: (text: string) => void) {}

  /** Kernel: prepare_to_wait() of current on `wq` (the entry is added when the call returns E_SLEEPING). */
  prepare_to_wait(wq: WaitQueueHead): void {
    if (!this.pending.includes(wq)) this.pending.push(wq)
  }

  /** Forget queues a call prepared but did not sleep on (finish_wait(); poll_freewait()). */
  finish_wait(): void {
    this.pending = []
  }

  /** The call of `t` returned E_SLEEPING: put it on its queues. Returns -E_SLEEPING. */
  park(t: TaskStruct, syscall: string, restart: () => number): number {
    const s = this.restarting?.task === t ? this.restarting : new Sleeping(t, syscall, restart)
    this.asleep.set(t, s)
    t.__state = TASK_INTERRUPTIBLE // set_current_state() before schedule()
    const queues = this.pending
    this.pending = []
    s.empty = queues.length === 0
    if (queues.length === 0) this.warn(`mmsim: ${syscall}() of pid ${t.pid} sleeps on no wait queue: nothing can wake it`)
    for (const wq of queues) {
      const e: WaitQueueEntry = { func: () => this.wake(s) }
      wq.add_wait_queue(e)
      s.queued.push([wq, e])
    }
    return -E_SLEEPING
  }

  private unqueue(s: Sleeping): void {
    for (const [wq, e] of s.queued) wq.remove_wait_queue(e)
    s.queued = []
  }

  /** A queue of `s` was woken: off every queue, and run when the current call is over. */
  private wake(s: Sleeping): void {
    this.unqueue(s)
    if (!this.woken.includes(s)) this.woken.push(s)
  }

  /** Run the woken calls again (each may wake others or sleep again). */
  run_woken(): void {
    if (this.running) return
    this.running = true
    try {
      for (let s = this.woken.shift(); s; s = this.woken.shift()) {
        if (this.asleep.get(s.task) !== s || s.task.exit_state !== 0) continue // killed meanwhile
        this.asleep.delete(s.task)
        this.restarting = s
        const r = s.restart()
        this.restarting = null
        if (r !== -E_SLEEPING) s.result = r
      }
    } finally {
      this.running = false
      this.restarting = null
    }
  }

  /** DEBUG_VM: every sleeper is alive and waits on a queue or is queued to run. */
  check(): void {
    for (const [t, s] of this.asleep) {
      if (s.task !== t || t.exit_state !== 0) throw new KernelBug(`wait: pid ${t.pid} asleep in ${s.syscall}() but dead or misfiled`)
      if (s.queued.length === 0 && !this.woken.includes(s) && !s.empty) {
        throw new KernelBug(`wait: pid ${t.pid} asleep in ${s.syscall}() on no wait queue`)
      }
    }
  }

  /** Kernel: signal_wake_up() of a task asleep TASK_INTERRUPTIBLE: off its queues, its call runs again (and sees the signal). */
  interrupt(t: TaskStruct): void {
    const s = this.asleep.get(t)
    if (s) this.wake(s)
  }

  /** The task dies asleep (do_exit: its wait entries go). */
  cancel(t: TaskStruct): void {
    const s = this.asleep.get(t)
    if (!s) return
    this.unqueue(s)
    this.asleep.delete(t)
  }
}
