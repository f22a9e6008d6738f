/**
 * The /proc files mmsim has, by path. Each entry formats the file's text
 * from the machine's state on every read, as the kernel's seq_file show
 * functions do.
 */
import type { Machine } from '../../machine.js'
import { buddyinfo_show, pagetypeinfo_show, vmstat_show, zoneinfo_show } from './vmstat_files.js'
import { meminfo_show } from './meminfo.js'
import { iomem_show } from './iomem.js'
import { vmalloc_info_show } from './vmallocinfo.js'
import { slabinfo_show } from './slabinfo.js'

export type ProcShow = (m: Machine) => string
export type ProcPatternShow = (m: Machine, match: RegExpExecArray) => string

const files = new Map<string, ProcShow>([
  ['/proc/buddyinfo', buddyinfo_show],
  ['/proc/pagetypeinfo', pagetypeinfo_show],
  ['/proc/zoneinfo', zoneinfo_show],
  ['/proc/vmstat', vmstat_show],
  ['/proc/meminfo', meminfo_show],
  ['/proc/iomem', iomem_show],
  ['/proc/vmallocinfo', (m) => vmalloc_info_show(m.vmalloc)],
  ['/proc/slabinfo', (m) => slabinfo_show(m.slab)],
])

const patterns: { re: RegExp; show: ProcPatternShow }[] = []

/** Register a /proc file (subsystems call this at module load). */
export function register_proc(path: string, show: ProcShow): void {
  files.set(path, show)
}

/** Register a family of /proc files by pattern, e.g. /^\/proc\/(\d+)\/maps$/. */
export function register_proc_pattern(re: RegExp, show: ProcPatternShow): void {
  patterns.push({ re, show })
}

/** The paths of the fixed /proc files, sorted. */
export function proc_paths(): string[] {
  return [...files.keys()].sort()
}

/** A /proc path mmsim does not have: like open(2) it fails with ENOENT. */
export class ProcNotFound extends Error {
  readonly code = 'ENOENT'
  constructor(path: string) {
    super(`ENOENT: no such file or directory, open '${path}'`)
    this.name = 'ProcNotFound'
  }
}

export function proc_read(m: Machine, path: string): string {
  const show = files.get(path)
  if (show) return show(m)
  for (const p of patterns) {
    const match = p.re.exec(path)
    if (match) return p.show(m, match)
  }
  throw new ProcNotFound(path)
}
