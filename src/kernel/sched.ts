/**
 * The scheduler of the simulated CPUs, as far as memory management sees it
 * (Kernel: kernel/sched/core.c context_switch(), schedule()).
 *
 * Each CPU runs one task (or is idle). A system call or a user access of a
 * task runs it on its CPU: it is switched in unless already current there,
 * and that CPU becomes the executing one (smp_processor_id()), whose TLB
 * serves the accesses. Switching in a kernel thread keeps the previous
 * address space loaded (lazy TLB): the thread borrows it as active_mm with
 * an mm_count reference, dropped when a user task is switched in again.
 *
 * Invariants: current[cpu].cpu === cpu; a task is current on at most one
 * CPU; a kernel thread's active_mm holds an mm_count reference.
 */
import type { MmStruct } from '../mm/mm_types.js'
import type { Clock } from '../hw/clock.js'
import { mmdrop, mmgrab } from './sched_mm.js'
import { PF_EXITING, TASK_INTERRUPTIBLE, TASK_RUNNING, type TaskStruct } from './task.js'

/** The hardware side of a context switch (src/arch/x86/mmu_context.ts implements it for the machine's MMU). */
export interface MmuSched {
  /** The CPU now executing (smp_processor_id()). */
  set_cpu(cpu: number): void
  /** switch_mm() to a user mm, or enter_lazy_tlb() for a kernel thread (null). */
  switch_mm(cpu: number, next: MmStruct | null): void
  /** The CPU goes idle (the idle task is a kernel thread: lazy TLB). */
  idle(cpu: number): void
}

/**
 * The mm side of a context switch (Kernel: context_switch()). A kernel
 * thread borrows prev's active_mm (mmgrab); a user task switching in after
 * a kernel thread lets the borrowed mm go (mmdrop).
 */
export function context_switch_mm(prev: TaskStruct, next: TaskStruct): void {
  if (!next.mm) {
    next.active_mm = prev.active_mm
    if (next.active_mm) mmgrab(next.active_mm)
  } else {
    next.active_mm = next.mm
  }
  if (!prev.mm && prev.active_mm) {
    const borrowed = prev.active_mm
    prev.active_mm = null
    mmdrop(borrowed)
  }
}

export class Scheduler {
  /** The task each CPU is running (rq->curr), null when idle. */
  readonly current: (TaskStruct | null)[]
  /** Context switches since boot, all CPUs (the sum of rq->nr_switches: /proc/stat's ctxt). */
  nr_switches = 0

  constructor(
    nr_cpus: number,
    private readonly mmu: MmuSched,
    /** Charged to the CPU a task runs on (per-CPU time accounting). */
    private readonly clock?: Pick<Clock, 'cpu'>,
  ) {
    this.current = new Array<TaskStruct | null>(nr_cpus).fill(null)
  }

  get nr_cpus(): number {
    return this.current.length
  }

  /** Run `next` on `cpu` (the mm side of schedule(): lazy TLB for kernel threads). */
  switch_to(cpu: number, next: TaskStruct): void {
    const prev = this.current[cpu]
    if (prev !== next) this.nr_switches++
    if (prev && prev !== next && prev.exit_state === 0) prev.__state = TASK_INTERRUPTIBLE
    next.__state = TASK_RUNNING
    if (prev && prev !== next) context_switch_mm(prev, next)
    else if (!prev && next.mm) next.active_mm = next.mm
    next.cpu = cpu
    if (next.active_mm) next.active_mm.cpu_bitmap.add(cpu)
    this.current[cpu] = next
    // switch_mm_irqs_off() for a user task, enter_lazy_tlb() for a kernel thread.
    this.mmu.switch_mm(cpu, next.mm)
  }

  /** Run `task` now (what a system call or a user access of it implies). */
  run(task: TaskStruct): void {
    const cpu = task.cpu
    if (this.current[cpu] !== task) this.switch_in(task, cpu)
    this.mmu.set_cpu(cpu)
    if (this.clock) this.clock.cpu = cpu
  }
  /** run()'s context switch, out of line (run() is on the path of every user access). */
  private switch_in(task: TaskStruct, cpu: number): void {
    if (!(task.flags & PF_EXITING)) this.switch_to(cpu, task)
  }

  /** The task stops running on `cpu`, which goes idle (the idle task borrows the mm: lazy TLB). */
  leave_cpu(cpu: number): void {
    this.current[cpu] = null
    this.mmu.idle(cpu)
  }

  /** A dying task leaves every CPU it is current on (do_task_dead()). */
  dequeue(task: TaskStruct): void {
    for (let cpu = 0; cpu < this.current.length; cpu++) if (this.current[cpu] === task) this.leave_cpu(cpu)
  }
}
