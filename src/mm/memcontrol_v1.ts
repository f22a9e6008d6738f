/**
 * The cgroup v1 memory controller's files (Kernel: mm/memcontrol-v1.c
 * memcg1_stat_format(), mem_cgroup_resize_max(), mem_cgroup_read_u64()).
 */
import { EBUSY, EINVAL } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { GFP_KERNEL } from './gfp.js'
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, LRU_UNEVICTABLE } from './lruvec.js'
import { type MemCgroup, type MemcgSubsys, MEMCG_WORKINGSET_REFAULT_ANON, memcg1_event_names, memcg1_stat_names } from './memcontrol.js'
import { PAGE_COUNTER_MAX } from './page_counter.js'

const LRU_NAMES: Array<[string, number]> = [
  ['inactive_anon', LRU_INACTIVE_ANON],
  ['active_anon', LRU_ACTIVE_ANON],
  ['inactive_file', LRU_INACTIVE_FILE],
  ['active_file', LRU_ACTIVE_FILE],
  ['unevictable', LRU_UNEVICTABLE],
]

/** Statistics that memory.stat prints as counts, not bytes. */
function is_count(i: number): boolean {
  return i === MEMCG_WORKINGSET_REFAULT_ANON || i === MEMCG_WORKINGSET_REFAULT_ANON + 1
}

/** The limit of a group and its ancestors (hierarchical_memory_limit), in bytes. */
function hierarchical_limit(memcg: MemCgroup, memsw: boolean): number {
  let min = PAGE_COUNTER_MAX
  for (let g: MemCgroup | null = memcg; g && !g.is_root; g = g.parent) min = Math.min(min, memsw ? g.memsw.max : g.memory.max)
  return min * PAGE_SIZE
}

/** Kernel: memcg1_stat_format(): memory.stat, local values then the subtree's total_ ones. */
export function memcg1_stat_format(memcg: MemCgroup): string {
  const lines: string[] = []
  const sum = (f: (g: MemCgroup) => number): number => {
    let n = 0
    for (const g of memcg.subtree()) n += f(g)
    return n
  }
  const stat = (g: MemCgroup, i: number): number => (is_count(i) ? g.stat[i] : g.stat[i] * PAGE_SIZE)
  memcg1_stat_names.forEach((name, i) => lines.push(`${name} ${stat(memcg, i)}`))
  memcg1_event_names.forEach((name, i) => lines.push(`${name} ${memcg.events[i]}`))
  for (const [name, lru] of LRU_NAMES) lines.push(`${name} ${memcg.lruvec.size(lru) * PAGE_SIZE}`)
  lines.push(`hierarchical_memory_limit ${hierarchical_limit(memcg, false)}`)
  lines.push(`hierarchical_memsw_limit ${hierarchical_limit(memcg, true)}`)
  memcg1_stat_names.forEach((name, i) => lines.push(`total_${name} ${sum((g) => stat(g, i))}`))
  memcg1_event_names.forEach((name, i) => lines.push(`total_${name} ${sum((g) => g.events[i])}`))
  for (const [name, lru] of LRU_NAMES) lines.push(`total_${name} ${sum((g) => g.lruvec.size(lru)) * PAGE_SIZE}`)
  return lines.join('\n') + '\n'
}

/**
 * Kernel: mem_cgroup_resize_max(): set memory.limit_in_bytes (pages). When
 * the usage is above it, drain the stocks once, then reclaim in steps until
 * it fits; -EBUSY when reclaim can free nothing more, -EINVAL when the new
 * limit would exceed the memsw limit.
 */
export function mem_cgroup_resize_max(ss: MemcgSubsys, memcg: MemCgroup, max: number): number {
  let drained = false
  for (;;) {
    if (max > memcg.memsw.max) return -EINVAL
    if (memcg.memory.set_max(max)) return 0
    if (!drained) {
      ss.drain_all_stock(memcg)
      drained = true
      continue
    }
    if (!ss.reclaim || !ss.reclaim(memcg, 1, GFP_KERNEL, true)) return -EBUSY
  }
}

/** memory.usage_in_bytes of a non-root group (the page counter, stocked pages included). */
export function memcg_usage_bytes(memcg: MemCgroup): number {
  return memcg.memory.usage * PAGE_SIZE
}
