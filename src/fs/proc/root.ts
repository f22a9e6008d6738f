/**
 * The /proc tree mmsim has (Kernel: fs/proc/root.c, proc_root_init() and
 * the proc_create_*() calls of each subsystem; fs/proc/base.c
 * tgid_base_stuff for /proc/<pid>/). One explicit table, no registration
 * at module load: a file's text is formatted from the machine's state on
 * every read, as the kernel's seq_file show functions do.
 */
import { ProcAccessDenied, ProcNotFound, type ProcView } from './internal.js'
import type { DropCachesWriter } from '../drop_caches.js'
import { EACCES, EINVAL, ESRCH } from '../../include/errno.js'
import { get_dump_filter, set_dump_filter } from '../coredump.js'
import { buddyinfo_show, pagetypeinfo_show, vmstat_show, zoneinfo_show } from './vmstat_files.js'
import { meminfo_show } from './meminfo.js'
import { iomem_show } from './iomem.js'
import { vmalloc_info_show } from './vmallocinfo.js'
import { slabinfo_show } from './slabinfo.js'
import { devices_show } from './devices.js'
import { diskstats_show } from './diskstats.js'
import { proc_pid_maps, proc_pid_smaps, proc_pid_smaps_rollup, proc_pid_status, proc_pid_statm } from './task_mmu.js'
import { proc_pid_stat, proc_pid_cmdline } from './array.js'
import { proc_pid_limits } from './base.js'
import { oom_adj_show, oom_score_adj_show, oom_score_show } from './oom.js'
import type { TaskStruct } from '../../kernel/task.js'
import { sysctl_paths, sysctl_read, sysctl_write } from './proc_sysctl.js'
import { LINUX_BANNER } from '../../include/version.js'
import { stat_show } from './stat.js'
import { cpuinfo_show } from './cpuinfo.js'

type ProcShow = (v: ProcView) => string
type PidShow = (v: ProcView, task: TaskStruct) => string

/** The files at the top of /proc. */
const proc_root: ReadonlyMap<string, ProcShow> = new Map<string, ProcShow>([
  ['/proc/buddyinfo', buddyinfo_show],
  ['/proc/pagetypeinfo', pagetypeinfo_show],
  ['/proc/zoneinfo', zoneinfo_show],
  ['/proc/vmstat', vmstat_show],
  ['/proc/meminfo', meminfo_show],
  ['/proc/swaps', (v) => v.swaps_show()],
  ['/proc/iomem', iomem_show],
  ['/proc/vmallocinfo', (v) => vmalloc_info_show(v.vmalloc)],
  ['/proc/slabinfo', (v) => slabinfo_show(v.slab)],
  ['/proc/devices', devices_show],
  ['/proc/diskstats', diskstats_show],
  ['/proc/stat', stat_show],
  ['/proc/cpuinfo', cpuinfo_show],
  // Kernel: fs/proc/version.c: linux_proc_banner, the boot log's first line.
  ['/proc/version', () => `${LINUX_BANNER}\n`],
])

/** The text files of /proc/<pid>/ (pagemap is binary: proc_pid_pagemap()). */
const tgid_base_stuff: ReadonlyMap<string, PidShow> = new Map<string, PidShow>([
  ['maps', (v, t) => proc_pid_maps(v.mm, t)],
  ['smaps', (v, t) => proc_pid_smaps(v.mm, t)],
  ['smaps_rollup', (v, t) => proc_pid_smaps_rollup(v.mm, t)],
  ['status', (v, t) => proc_pid_status(t, { cpus: v.cpus })],
  ['statm', (_v, t) => proc_pid_statm(t)],
  ['stat', (_v, t) => proc_pid_stat(t)],
  ['cmdline', (_v, t) => proc_pid_cmdline(t)],
  ['limits', (_v, t) => proc_pid_limits(t)],
  ['oom_score', (v, t) => oom_score_show(t, v.page_alloc.totalram_pages() + v.swap_total_pages)],
  ['oom_score_adj', (_v, t) => oom_score_adj_show(t)],
  ['oom_adj', (_v, t) => oom_adj_show(t)],
  // Kernel: proc_coredump_filter_read(): "%08lx\n" of the filter bits
  ['coredump_filter', (_v, t) => (t.mm ? `${get_dump_filter(t.mm).toString(16).padStart(8, '0')}\n` : '')],
])

/**
 * Kernel: proc_coredump_filter_write(): kstrtouint(buf, 0) (decimal, 0x hex
 * or 0 octal), the low MMF_DUMP_FILTER_BITS kept. 0 or -errno.
 */
function coredump_filter_write(t: TaskStruct, text: string): number {
  const m = /^\s*(0x[0-9a-f]+|0[0-7]*|[1-9]\d*)\n?$/i.exec(text)
  if (!m) return -EINVAL
  const val = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1].slice(2), 16) : m[1].startsWith('0') ? parseInt(m[1], 8) : Number(m[1])
  if (!(val <= 0xffffffff)) return -EINVAL
  if (!t.mm) return -ESRCH
  set_dump_filter(t.mm, val)
  return 0
}

const PID_PATH = /^\/proc\/(\d+)\/([a-z_]+)$/

/** The text of a /proc file. Throws ProcNotFound for a file mmsim does not have or a task that is gone. */
export function proc_read(v: ProcView, path: string): string {
  const show = proc_root.get(path)
  if (show) return show(v)
  const sys = sysctl_read(v, path)
  if (typeof sys === 'number') throw new ProcAccessDenied(path)
  if (sys !== null) return sys
  const m = PID_PATH.exec(path)
  const pid_show = m ? tgid_base_stuff.get(m[2]) : undefined
  if (m && pid_show) {
    const t = v.tasks.get(Number(m[1]))
    if (t && t.exit_state === 0) return pid_show(v, t)
  }
  throw new ProcNotFound(path)
}

/** Write to a /proc file as task `writer`: 0 or -errno (only /proc/sys files take writes). Throws ProcNotFound for a file mmsim does not have. */
export function proc_write(v: ProcView, path: string, text: string, writer: DropCachesWriter): number {
  const r = sysctl_write(v, path, text, writer)
  if (r !== null) return r
  const m = PID_PATH.exec(path)
  if (m && m[2] === 'coredump_filter') {
    const t = v.tasks.get(Number(m[1]))
    if (!t || t.exit_state !== 0) throw new ProcNotFound(path)
    return coredump_filter_write(t, text)
  }
  if (proc_root.has(path) || PID_PATH.test(path)) return -EACCES
  throw new ProcNotFound(path)
}

/** The paths of the fixed /proc files (with /proc/sys), sorted. */
export function proc_paths(): string[] {
  return [...proc_root.keys(), ...sysctl_paths()].sort()
}

/** The names of the per-process files (/proc/<pid>/NAME), sorted. */
export function proc_pid_entries(): string[] {
  return [...tgid_base_stuff.keys()].sort()
}
