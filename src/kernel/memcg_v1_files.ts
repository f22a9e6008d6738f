/**
 * The cgroup v1 memory controller's directory for a group (Kernel:
 * mm/memcontrol-v1.c mem_cgroup_legacy_files[], memcg1_stat_format()):
 * /sys/fs/cgroup/memory/<group>/memory.* as a user reads them, with a
 * group's tasks. Files are read-only here; limits and swappiness are set
 * through the group's handle (src/user/cgroup.ts), with the kernel's errno.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { MemCgroup } from '../mm/memcontrol.js'
import { memcg1_stat_format } from '../mm/memcontrol_v1.js'
import type { Sysfs } from '../fs/sysfs.js'

/** Where the v1 memory hierarchy is mounted. */
export const MEMCG_V1_ROOT = '/sys/fs/cgroup/memory'

/** The directory of a group. */
export function memcg_dir(memcg: MemCgroup): string {
  return memcg.is_root ? MEMCG_V1_ROOT : `${MEMCG_V1_ROOT}${memcg.path}`
}

/** A limit as memory.limit_in_bytes prints it (PAGE_COUNTER_MAX pages in bytes for "none"). */
function bytes(pages: number): string {
  return String(pages * PAGE_SIZE)
}

/** Create the group's files; `tasks` lists the pids in it (for tasks and cgroup.procs). */
export function memcg_create_files(sysfs: Sysfs, memcg: MemCgroup, tasks: () => number[], flush: () => void): void {
  const dir = memcg_dir(memcg)
  const file = (name: string, show: () => string): void => {
    sysfs.sysfs_create_file(`${dir}/${name}`, show)
  }
  // The root's usage is what its stats account (mem_cgroup_usage()); a child's is its page counter.
  const usage = (): number => (memcg.is_root ? memcg.stat[0] + memcg.stat[1] : memcg.memory.usage)
  file('memory.usage_in_bytes', () => `${bytes(usage())}\n`)
  file('memory.max_usage_in_bytes', () => `${bytes(memcg.memory.watermark)}\n`)
  file('memory.limit_in_bytes', () => `${bytes(memcg.memory.max)}\n`)
  file('memory.failcnt', () => `${memcg.memory.failcnt}\n`)
  file('memory.memsw.usage_in_bytes', () => `${bytes(memcg.is_root ? usage() : memcg.memsw.usage)}\n`)
  file('memory.memsw.limit_in_bytes', () => `${bytes(memcg.memsw.max)}\n`)
  file('memory.kmem.usage_in_bytes', () => `${bytes(memcg.kmem.usage)}\n`)
  file('memory.swappiness', () => `${memcg.swappiness}\n`)
  file('memory.use_hierarchy', () => '1\n')
  file('memory.stat', () => {
    flush() // mem_cgroup_flush_stats(): a reader flushes when enough changed
    return memcg1_stat_format(memcg)
  })
  file('tasks', () => tasks().map((p) => `${p}\n`).join(''))
  file('cgroup.procs', () => tasks().map((p) => `${p}\n`).join(''))
}
