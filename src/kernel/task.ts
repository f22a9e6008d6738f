/**
 * task_struct: the parts of a task the memory manager cares about
 * (Kernel: include/linux/sched.h, kernel/fork.c, kernel/sched/core.c).
 *
 * Invariants:
 *  - a user task has mm === active_mm (non-null) while alive;
 *  - a kernel thread (PF_KTHREAD) has mm === null and borrows the previous
 *    task's address space as active_mm when it is switched in (lazy TLB),
 *    holding an mm_count reference (mmgrab) on it, dropped (mmdrop) when the
 *    next user task is switched in;
 *  - a user task has a descriptor table (files) until do_exit() closes it;
 *  - min_flt / maj_flt count the faults this task took;
 *  - cred (ids, capabilities) and signal.rlim (resource limits) are the
 *    task's own: fork gives the child the parent's cred and a copy of its
 *    limits; a user task is its mm's owner (mm.owner), through which the mm
 *    layer reads them.
 */
import type { MmStruct } from '../mm/mm_types.js'
import { type Cred, cred_for_uid } from '../include/cred.js'
import { type Rlimit, init_rlimits, new_signal_struct } from '../include/resource.js'
import type { OomSignal } from '../mm/oom_kill.js'
import type { FilesStruct } from '../fs/file.js'

export const PF_EXITING = 0x00000004
export const PF_KTHREAD = 0x00200000

export const TASK_RUNNING = 0
export const TASK_INTERRUPTIBLE = 1
export const EXIT_ZOMBIE = 32
export const EXIT_DEAD = 16

/** A signal handler as sigaction(2) installs it; SIG_DFL / SIG_IGN as strings. */
export type SigHandler = 'SIG_DFL' | 'SIG_IGN' | ((info: { signo: number; code: number; addr: number | bigint }) => void)

export class TaskStruct {
  pid: number
  tgid: number
  /** TASK_COMM_LEN is 16: comm keeps at most 15 characters. */
  comm: string
  mm: MmStruct | null
  active_mm: MmStruct | null
  flags = 0
  __state = TASK_RUNNING
  exit_state = 0
  exit_code = 0
  min_flt = 0
  maj_flt = 0
  /** task->cred (real_cred and cred are the same here). */
  cred: Cred
  /** task->signal: the resource limits (signal->rlim), SIGNAL_GROUP_EXIT, oom_score_adj and the OOM victim's mm. */
  readonly signal: OomSignal
  parent: TaskStruct | null = null
  readonly children: TaskStruct[] = []
  /** Signals sent (kill(2)) and not yet delivered: each runs its handler on the way back to user mode. */
  readonly sigpending = new Set<number>()
  /** sighand->action[signo - 1]. */
  readonly sighand = new Map<number, SigHandler>()
  /** The CPU the task last ran on. */
  cpu = 0
  /** The command line (/proc/<pid>/cmdline, pmap's header). */
  cmdline: string[]
  /** Kernel address of this task_struct in its slab cache (0 when not allocated from one). */
  kaddr = 0
  /** task->stack: the kernel stack's address (0 when not modelled or freed). */
  stack = 0
  /** task->cred's object in the cred_jar slab cache (src/kernel/cred.ts); 0 for a kernel thread (init_cred). */
  cred_kaddr = 0
  /** The core file its fatal signal wrote (fs/coredump.ts), null when none was. */
  core_file: string | null = null
  /** task->files: the descriptor table (null for a kernel thread and after exit). */
  files: FilesStruct | null = null

  /**
   * `cred` is a uid (the cred a process that execve()d as that uid has) or
   * a cred to share; `rlim` the limits (INIT_RLIMITS when absent).
   */
  constructor(pid: number, comm: string, mm: MmStruct | null, cred: number | Cred = 0, rlim?: Rlimit[]) {
    this.pid = pid
    this.tgid = pid
    this.comm = comm.slice(0, 15)
    this.mm = mm
    this.active_mm = mm
    this.cred = typeof cred === 'number' ? cred_for_uid(cred) : cred
    this.signal = { ...new_signal_struct(rlim ?? init_rlimits(0)), oom_mm: null }
    this.cmdline = [comm]
  }

  /** The real uid (cred->uid). */
  get uid(): number {
    return this.cred.uid
  }

  get is_kthread(): boolean {
    return (this.flags & PF_KTHREAD) !== 0
  }
}
