/**
 * A memory cgroup as a program uses one (the cgroup v1 memory controller:
 * mkdir, echo PID > cgroup.procs, echo N > memory.limit_in_bytes,
 * memory.swappiness, memory.stat). Created by Machine.cgroup_create().
 */
import { EINVAL } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import type { MemCgroup, MemcgSubsys } from '../mm/memcontrol.js'
import { mem_cgroup_resize_max, memcg1_stat_format } from '../mm/memcontrol_v1.js'
import { memcg_dir } from '../kernel/memcg_v1_files.js'
import { ErrnoError } from './errors.js'
import type { Process } from './process.js'

export interface CgroupOptions {
  /** memory.limit_in_bytes, in bytes (a number) or with a unit ('64M'). */
  readonly limit?: number | string
  /** memory.swappiness, 0..200 (default: the parent's, 60 for the root's children). */
  readonly swappiness?: number
}

/** "64M" / "1G" / 4096 -> bytes. */
export function parse_size(v: number | string): number {
  if (typeof v === 'number') return v
  const m = /^(\d+)([KMGT]?)$/i.exec(v.trim())
  if (!m) throw new ErrnoError(EINVAL, 'memory.limit_in_bytes')
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase())
}

export class Cgroup {
  constructor(
    readonly memcg: MemCgroup,
    private readonly ss: MemcgSubsys,
  ) {}

  get name(): string {
    return this.memcg.name
  }
  /** The group's directory under /sys/fs/cgroup/memory. */
  get path(): string {
    return memcg_dir(this.memcg)
  }

  /** echo N > memory.limit_in_bytes: reclaims down to it; throws EBUSY when it cannot. */
  set_limit(limit: number | string): void {
    const bytes = parse_size(limit)
    // Rounded down to pages, as page_counter_memparse() does.
    const r = mem_cgroup_resize_max(this.ss, this.memcg, Math.floor(bytes / PAGE_SIZE))
    if (r < 0) throw new ErrnoError(-r, 'memory.limit_in_bytes')
  }

  /** echo N > memory.swappiness (0..200, else EINVAL). */
  set_swappiness(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 200) throw new ErrnoError(EINVAL, 'memory.swappiness')
    this.memcg.swappiness = v
  }

  /** echo PID > cgroup.procs: the process's later charges go to this group (charges made before stay where they are). */
  attach(p: Process): void {
    p.mm.memcg = this.memcg
  }

  /** memory.usage_in_bytes. */
  usage(): number {
    return this.memcg.memory.usage * PAGE_SIZE
  }

  /** memory.stat as an object (values as the file prints them: bytes, counts for events). */
  stat(): Record<string, number> {
    // Reading memory.stat flushes the statistics when enough changed (mem_cgroup_flush_stats()).
    this.ss.flush_stats_if_needed()
    const out: Record<string, number> = {}
    for (const line of memcg1_stat_format(this.memcg).trim().split('\n')) {
      const [k, v] = line.split(' ')
      out[k] = Number(v)
    }
    return out
  }
}
