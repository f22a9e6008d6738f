/**
 * What a memory-cgroup OOM prints (Kernel: mm/memcontrol.c
 * mem_cgroup_print_oom_context(), mem_cgroup_print_oom_meminfo(), the
 * cgroup v1 counters of mm/memcontrol-v1.c). The memory controller itself
 * lands with the memcg branch: it passes an object with the OomMemcg shape
 * to out_of_memory() (oom_control's memcg) and these functions print it.
 */
import type { Printk } from '../include/printk.js'
import type { OomTask } from './oom_types.js'

/** A page_counter as v1 reports it: usage and limit in pages, how often the limit was hit. */
export interface MemcgCounter {
  readonly usage: number
  readonly limit: number
  readonly failcnt: number
}

/** The memcg an OOM happened in, as the OOM killer needs it. */
export interface OomMemcg {
  /** The cgroup's path below the controller's root ("/" for the root, "/grp" for a child). */
  readonly path: string
  /** Kernel: mem_cgroup_get_max(): the limit in pages (memory + swap limits as v1 computes it). */
  get_max(): number
  /** Kernel: mem_cgroup_scan_tasks(): the processes charged to this group and its children. */
  tasks(): Iterable<OomTask>
  /** memory, memory+swap and kmem page counters. */
  readonly memory: MemcgCounter
  readonly memsw: MemcgCounter
  readonly kmem: MemcgCounter
  /** memcg1_stat_format(): memory.stat's lines ("cache 0", "rss 16740352", ...). */
  stat_lines(): readonly string[]
}

/** page_counter's "unlimited" (PAGE_COUNTER_MAX) printed in kB, as v1 shows an unset limit. */
const PAGE_COUNTER_MAX_KB = 9007199254740988

function counter_kb(pages: number): string {
  // The unlimited counter prints as LONG_MAX / PAGE_SIZE pages in kB (an exact constant, not pages * 4).
  return pages === Infinity ? String(PAGE_COUNTER_MAX_KB) : String(pages * 4)
}

/**
 * Kernel: mem_cgroup_print_oom_context(): the oom-kill line's memcg part,
 * ",oom_memcg=/a,task_memcg=/a" for a memcg OOM or ",global_oom,task_memcg=/".
 */
export function mem_cgroup_print_oom_context(memcg: OomMemcg | null, task_memcg_path: string | null): string {
  let s = memcg ? `,oom_memcg=${memcg.path}` : ',global_oom'
  if (task_memcg_path !== null) s += `,task_memcg=${task_memcg_path}`
  return s
}

/** Kernel: mem_cgroup_print_oom_meminfo() for the v1 controller. */
export function mem_cgroup_print_oom_meminfo(printk: Printk, memcg: OomMemcg): void {
  const line = (name: string, c: MemcgCounter): void =>
    printk.pr_info(`${name}: usage ${counter_kb(c.usage)}kB, limit ${counter_kb(c.limit)}kB, failcnt ${c.failcnt}`)
  line('memory', memcg.memory)
  line('memory+swap', memcg.memsw)
  line('kmem', memcg.kmem)
  printk.pr_info(`Memory cgroup stats for ${memcg.path}:`)
  for (const l of memcg.stat_lines()) printk.pr_info(l)
}
