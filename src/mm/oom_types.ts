/**
 * The task as the OOM killer and the memory controller see it (Kernel: the
 * task_struct and signal_struct fields mm/oom_kill.c reads). A TaskStruct
 * (src/kernel/task.ts) is one; mm/ cannot import it (it lives above).
 */
import type { SignalStruct } from '../include/resource.js'
import type { MmStruct } from './mm_types.js'

/** signal_struct as the kernel's tasks carry it: SignalStruct plus the victim's mm (signal->oom_mm). */
export interface OomSignal extends SignalStruct {
  /** Set by mark_oom_victim(): the mm the victim was killed for (held by mmgrab until the task is reaped). */
  oom_mm: MmStruct | null
}

/** What the OOM killer reads of a task (a TaskStruct is one). */
export interface OomTask {
  readonly pid: number
  readonly tgid: number
  readonly comm: string
  readonly uid: number
  readonly mm: MmStruct | null
  /** PF_KTHREAD, PF_EXITING. */
  readonly flags: number
  readonly exit_state: number
  readonly signal: OomSignal
}

