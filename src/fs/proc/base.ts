/**
 * /proc/<pid>/limits (Kernel: proc_pid_limits(), fs/proc/base.c): one line
 * per resource with its soft and hard limit ("unlimited" for RLIM_INFINITY)
 * and unit, in the kernel's fixed-width columns.
 */
import type { TaskStruct } from '../../kernel/task.js'
import { RLIM_INFINITY, RLIM_NLIMITS } from '../../include/resource.js'

/** lnames[]: the name and unit of each resource (no unit for the nice and realtime priorities). */
const LNAMES: readonly (readonly [string, string | null])[] = [
  ['Max cpu time', 'seconds'],
  ['Max file size', 'bytes'],
  ['Max data size', 'bytes'],
  ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'],
  ['Max resident set', 'bytes'],
  ['Max processes', 'processes'],
  ['Max open files', 'files'],
  ['Max locked memory', 'bytes'],
  ['Max address space', 'bytes'],
  ['Max file locks', 'locks'],
  ['Max pending signals', 'signals'],
  ['Max msgqueue size', 'bytes'],
  ['Max nice priority', null],
  ['Max realtime priority', null],
  ['Max realtime timeout', 'us'],
]

/** Kernel: proc_pid_limits(). */
export function proc_pid_limits(task: TaskStruct): string {
  const val = (v: number): string => (v === RLIM_INFINITY ? 'unlimited' : String(v))
  let s = 'Limit                     Soft Limit           Hard Limit           Units     \n'
  for (let i = 0; i < RLIM_NLIMITS; i++) {
    const [name, unit] = LNAMES[i]
    const r = task.signal.rlim[i]
    s += `${name.padEnd(25)} ${val(r.rlim_cur).padEnd(20)} ${val(r.rlim_max).padEnd(20)} `
    s += unit === null ? '\n' : `${unit.padEnd(10)}\n`
  }
  return s
}
