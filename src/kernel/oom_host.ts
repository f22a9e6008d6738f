/**
 * The OOM killer's view of the tasks (Kernel: the task side of
 * mm/oom_kill.c: for_each_process, do_send_sig_info(SIGKILL), the victim's
 * exit). mm/oom_kill.ts decides; this file delivers.
 *
 * SIGKILL marks the whole thread group (SIGNAL_GROUP_EXIT). A task other
 * than current exits when it next runs: schedule() is that moment, and the
 * OOM killer calls it before the allocating task retries. current dies on
 * its way back to user mode (Syscalls checks the flag there).
 */
import { SIGNAL_GROUP_EXIT } from '../include/resource.js'
import { SIGKILL } from '../include/uapi/signal.js'
import type { MmStruct } from '../mm/mm_types.js'
import type { OomHost } from '../mm/oom_kill.js'
import { do_exit } from './exit.js'
import type { TaskEnv } from './fork.js'
import { mmdrop, mmgrab } from './sched_mm.js'
import type { TaskStruct } from './task.js'

export interface OomHostEnv extends TaskEnv {
  readonly current: TaskStruct | null
  readonly tasks: ReadonlyMap<number, TaskStruct>
  /** True while a user-mode access is being served (its faults are #PF from user mode). */
  readonly in_user_access: boolean
}

export function make_oom_host(env: OomHostEnv, this_cpu: () => number): OomHost {
  return {
    current: () => env.current,
    *processes() {
      for (const t of env.tasks.values()) if (t.pid === t.tgid) yield t
    },
    send_sigkill: (p) => {
      for (const t of env.tasks.values()) if (t.tgid === p.tgid && t.exit_state === 0) t.signal.flags |= SIGNAL_GROUP_EXIT
    },
    schedule: () => {
      const cur = env.current
      for (const t of [...env.tasks.values()]) {
        if (t !== cur && t.exit_state === 0 && t.signal.flags & SIGNAL_GROUP_EXIT) do_exit(env, t, SIGKILL)
      }
    },
    mmgrab: (mm: MmStruct) => mmgrab(mm),
    mmdrop: (mm: MmStruct) => mmdrop(mm),
    cpu: this_cpu,
    in_user_fault: () => env.in_user_access,
    task_memcg_path: (p) => p.mm?.memcg?.path ?? '/',
  }
}
