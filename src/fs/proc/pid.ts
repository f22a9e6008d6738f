/**
 * /proc/<pid>/ files of the simulated processes: maps, smaps, smaps_rollup,
 * status, statm, stat, cmdline, limits (text), registered with the /proc registry
 * (Kernel: fs/proc/base.c tgid_base_stuff). /proc/<pid>/pagemap is binary:
 * read it with proc_pid_pagemap() (task_mmu.ts).
 */
import type { Machine } from '../../machine.js'
import { register_proc_pattern, ProcNotFound } from './registry.js'
import { proc_pid_maps, proc_pid_smaps, proc_pid_smaps_rollup, proc_pid_status, proc_pid_statm } from './task_mmu.js'
import type { TaskStruct } from '../../kernel/task.js'
import { proc_pid_stat, proc_pid_cmdline } from './array.js'
import { proc_pid_limits } from './base.js'

function task_of(m: Machine, path: string, pid: string): TaskStruct {
  const t = m.syscalls.tasks.get(Number(pid))
  if (!t || t.exit_state !== 0) throw new ProcNotFound(path)
  return t
}

register_proc_pattern(/^\/proc\/(\d+)\/(maps|smaps|smaps_rollup|status|statm|stat|cmdline|limits)$/, (m, match) => {
  const t = task_of(m, match[0], match[1])
  const k = m.syscalls.mm
  switch (match[2]) {
    case 'maps':
      return proc_pid_maps(k, t)
    case 'smaps':
      return proc_pid_smaps(k, t)
    case 'smaps_rollup':
      return proc_pid_smaps_rollup(k, t)
    case 'status':
      return proc_pid_status(t, { cpus: m.cpus })
    case 'stat':
      return proc_pid_stat(t)
    case 'cmdline':
      return proc_pid_cmdline(t)
    case 'limits':
      return proc_pid_limits(t)
    default:
      return proc_pid_statm(t)
  }
})
