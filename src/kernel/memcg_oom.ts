/**
 * A memory cgroup as the OOM killer sees it (Kernel: mm/memcontrol.c
 * mem_cgroup_oom(), mem_cgroup_get_max(), mem_cgroup_scan_tasks()): the
 * group whose limit a charge could not fit under, its tasks, its counters.
 */
import type { MemCgroup } from '../mm/memcontrol.js'
import { memcg1_stat_format } from '../mm/memcontrol_v1.js'
import type { MemcgCounter, OomMemcg } from '../mm/memcontrol_oom.js'
import { PAGE_COUNTER_MAX } from '../mm/page_counter.js'
import type { TaskStruct } from './task.js'

function counter(c: { usage: number; max: number; failcnt: number }): MemcgCounter {
  return { usage: c.usage, limit: c.max >= PAGE_COUNTER_MAX ? Infinity : c.max, failcnt: c.failcnt }
}

/** The OomMemcg of `g`, whose tasks are those of `all` charged to g or below it. */
export function oom_memcg(g: MemCgroup, all: () => Iterable<TaskStruct>, total_swap_pages: () => number): OomMemcg {
  const inside = (t: TaskStruct): boolean => {
    for (let m = t.mm?.memcg ?? null; m; m = m.parent) if (m === g) return true
    return false
  }
  return {
    path: g.path,
    // mem_cgroup_get_max(): the memory limit, plus what memsw lets the group swap.
    get_max: () => g.memory.max + Math.min(Math.max(0, g.memsw.max - g.memory.max), total_swap_pages()),
    tasks: () => [...all()].filter(inside),
    memory: counter(g.memory),
    memsw: counter(g.memsw),
    kmem: counter(g.kmem),
    stat_lines: () => memcg1_stat_format(g).trim().split('\n'),
  }
}
