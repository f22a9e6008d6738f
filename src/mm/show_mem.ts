/**
 * The memory report the OOM killer and allocation failures print (Kernel:
 * mm/show_mem.c __show_mem(), show_free_areas(); lib/dump_stack.c for the
 * stack header). Each printk of the kernel is one log record here, and a
 * record with embedded newlines prints as continuation lines the way dmesg
 * shows them (" active_file:..." with a leading space).
 *
 * What mmsim cannot know exactly is left out rather than invented: there is
 * no "Hardware name:" line (the machine this was recorded on has no DMI
 * either) and the call trace names the functions the simulator really ran
 * through, without the symbol offsets a compiled kernel would print, and
 * without the register dump of the user context.
 */
import type { Printk } from '../include/printk.js'
import { NR_PAGE_ORDERS, NR_FREE_PAGES, NR_MLOCK, NR_ZONE_ACTIVE_ANON, NR_ZONE_ACTIVE_FILE, NR_ZONE_INACTIVE_ANON, NR_ZONE_INACTIVE_FILE, NR_ZONE_UNEVICTABLE, NR_ZONE_WRITE_PENDING, NR_ZSPAGES, NR_FREE_CMA_PAGES, type Zone } from './mmzone.js'
import { MIGRATE_TYPES } from './gfp.js'
import { NODE_STAT, NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B, type VmStat } from './vmstat.js'

/** What show_mem reads: the zones, the counters and the swap totals. */
export interface ShowMemSource {
  readonly zones: readonly Zone[]
  readonly vmstat: VmStat
  /** The executing CPU (local_pcp). */
  readonly cpu: number
  totalram_pages(): number
  total_swap_pages(): number
  free_swap_pages(): number
}

const K = (pages: number): number => pages * 4
/** show_migration_types(): the letters of enum migratetype (no CMA in this configuration). */
const MIGRATE_LETTERS = ['U', 'M', 'E', 'H', 'I']

/**
 * lib/dump_stack.c: the "CPU: ... Comm: ..." line and the call trace. The
 * frames are the simulator's own path to the OOM killer (no offsets: there
 * is no compiled image to take them from).
 */
export function dump_stack_lines(cpu: number, cur: { pid: number; comm: string; uid: number } | null, release: string, memcg: boolean, user_fault: boolean): string[] {
  const frames = ['dump_stack_lvl', 'dump_header', 'oom_kill_process', 'out_of_memory']
  if (memcg) frames.push('mem_cgroup_out_of_memory', 'try_charge_memcg')
  else frames.push('__alloc_pages_may_oom', '__alloc_pages_slowpath', '__alloc_pages_noprof')
  if (user_fault) frames.push('handle_mm_fault', 'exc_page_fault', 'asm_exc_page_fault')
  return [
    `CPU: ${cpu} UID: ${cur ? cur.uid : 0} PID: ${cur ? cur.pid : 0} Comm: ${cur ? cur.comm : 'swapper/0'} Not tainted ${release} #1 PREEMPT(none) `,
    'Call Trace:',
    ' <TASK>',
    ...frames.map((f) => ` ${f}`),
    ' </TASK>',
  ]
}

/** Kernel: __show_mem(SHOW_MEM_FILTER_NODES, NULL, max_zone_idx). */
export function __show_mem(printk: Printk, src: ShowMemSource, max_zone_idx: number): void {
  printk.pr_warn('Mem-Info:')
  show_free_areas(printk, src, max_zone_idx)
  let total = 0
  let reserved = 0
  let highmem = 0
  for (const z of src.zones) {
    if (!z.populated) continue
    total += z.present_pages
    reserved += z.present_pages - z.managed_pages
    if (z.name === 'HighMem' || z.name === 'Movable') highmem += z.present_pages
  }
  printk.pr_warn(`${total} pages RAM`)
  printk.pr_warn(`${highmem} pages HighMem/MovableOnly`)
  printk.pr_warn(`${reserved} pages reserved`)
  printk.pr_warn('0 pages cma reserved')
  printk.pr_warn('0 pages hwpoisoned')
}

function pcp_count(z: Zone): number {
  let n = 0
  for (const pcp of z.per_cpu_pageset) n += pcp.count
  return n
}

/** Kernel: show_free_areas(). */
function show_free_areas(printk: Printk, src: ShowMemSource, max_zone_idx: number): void {
  const zones = src.zones.filter((z) => z.populated && z.idx <= max_zone_idx)
  const n = src.vmstat.node
  let free_pcp = 0
  let free = 0
  for (const z of src.zones) if (z.populated) free += z.vm_stat[NR_FREE_PAGES]
  for (const z of zones) free_pcp += pcp_count(z)
  printk.pr_warn(
    `active_anon:${n[NODE_STAT.nr_active_anon]} inactive_anon:${n[NODE_STAT.nr_inactive_anon]} isolated_anon:${n[NODE_STAT.nr_isolated_anon]}\n` +
      ` active_file:${n[NODE_STAT.nr_active_file]} inactive_file:${n[NODE_STAT.nr_inactive_file]} isolated_file:${n[NODE_STAT.nr_isolated_file]}\n` +
      ` unevictable:${n[NODE_STAT.nr_unevictable]} dirty:${n[NODE_STAT.nr_dirty]} writeback:${n[NODE_STAT.nr_writeback]}\n` +
      ` slab_reclaimable:${Math.floor(n[NR_SLAB_RECLAIMABLE_B] / 4096)} slab_unreclaimable:${Math.floor(n[NR_SLAB_UNRECLAIMABLE_B] / 4096)}\n` +
      ` mapped:${n[NODE_STAT.nr_mapped]} shmem:${n[NODE_STAT.nr_shmem]} pagetables:${n[NODE_STAT.nr_page_table_pages]}\n` +
      ` sec_pagetables:${n[NODE_STAT.nr_sec_page_table_pages]} bounce:0\n` +
      ` kernel_misc_reclaimable:${n[NODE_STAT.nr_kernel_misc_reclaimable]}\n` +
      ` free:${free} free_pcp:${free_pcp} free_cma:0`,
  )
  if (zones.some((z) => z.managed_pages > 0)) {
    const nk = (item: number): string => `${K(n[item])}kB`
    printk.pr_warn(
      `Node 0 active_anon:${nk(NODE_STAT.nr_active_anon)} inactive_anon:${nk(NODE_STAT.nr_inactive_anon)} active_file:${nk(NODE_STAT.nr_active_file)} ` +
        `inactive_file:${nk(NODE_STAT.nr_inactive_file)} unevictable:${nk(NODE_STAT.nr_unevictable)} isolated(anon):${nk(NODE_STAT.nr_isolated_anon)} ` +
        `isolated(file):${nk(NODE_STAT.nr_isolated_file)} mapped:${nk(NODE_STAT.nr_mapped)} dirty:${nk(NODE_STAT.nr_dirty)} writeback:${nk(NODE_STAT.nr_writeback)} ` +
        `shmem:${nk(NODE_STAT.nr_shmem)} shmem_thp:${nk(NODE_STAT.nr_shmem_hugepages)} shmem_pmdmapped:${nk(NODE_STAT.nr_shmem_pmdmapped)} ` +
        `anon_thp:${nk(NODE_STAT.nr_anon_transparent_hugepages)} kernel_stack:${n[NODE_STAT.nr_kernel_stack]}kB ` +
        `pagetables:${nk(NODE_STAT.nr_page_table_pages)} sec_pagetables:${nk(NODE_STAT.nr_sec_page_table_pages)} all_unreclaimable? no ` +
        `Balloon:${nk(NODE_STAT.nr_balloon_pages)}`,
    )
  }
  for (const z of zones) {
    const v = z.vm_stat
    const local = z.per_cpu_pageset[src.cpu]?.count ?? 0
    printk.pr_warn(
      `Node 0 ${z.name} free:${K(v[NR_FREE_PAGES])}kB boost:${K(z.watermark_boost)}kB min:${K(z.min_wmark_pages())}kB ` +
        `low:${K(z.low_wmark_pages())}kB high:${K(z.high_wmark_pages())}kB reserved_highatomic:${K(z.nr_reserved_highatomic)}KB ` +
        `free_highatomic:${K(highatomic_free(z))}KB active_anon:${K(v[NR_ZONE_ACTIVE_ANON])}kB inactive_anon:${K(v[NR_ZONE_INACTIVE_ANON])}kB ` +
        `active_file:${K(v[NR_ZONE_ACTIVE_FILE])}kB inactive_file:${K(v[NR_ZONE_INACTIVE_FILE])}kB unevictable:${K(v[NR_ZONE_UNEVICTABLE])}kB ` +
        `writepending:${K(v[NR_ZONE_WRITE_PENDING])}kB zspages:${K(v[NR_ZSPAGES])}kB present:${K(z.present_pages)}kB managed:${K(z.managed_pages)}kB ` +
        `mlocked:${K(v[NR_MLOCK])}kB bounce:0kB free_pcp:${K(pcp_count(z))}kB local_pcp:${K(local)}kB free_cma:${K(v[NR_FREE_CMA_PAGES])}kB`,
    )
    printk.pr_warn(`lowmem_reserve[]: ${z.lowmem_reserve.join(' ')}`)
  }
  for (const z of zones) {
    let line = `Node 0 ${z.name}: `
    let total = 0
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const area = z.free_area[o]
      total += area.nr_free << o
      line += `${area.nr_free}*${K(1) << o}kB `
      if (area.nr_free) {
        let types = ''
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (!area.free_list[mt].empty) types += MIGRATE_LETTERS[mt]
        line += `(${types}) `
      }
    }
    printk.pr_warn(`${line}= ${K(total)}kB`)
  }
  // hugetlb_show_meminfo_node(): no huge page pools are configured, but the sizes are listed.
  printk.pr_warn('Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=1048576kB')
  printk.pr_warn('Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB')
  printk.pr_warn(`${n[NODE_STAT.nr_file_pages]} total pagecache pages`)
  // show_swap_cache_info()
  printk.pr_warn(`${n[NODE_STAT.nr_swapcached]} pages in swap cache`)
  printk.pr_warn(`Free swap  = ${K(src.free_swap_pages())}kB`)
  printk.pr_warn(`Total swap = ${K(src.total_swap_pages())}kB`)
}

/** zone->nr_free_highatomic: free pages on the highatomic lists. */
function highatomic_free(z: Zone): number {
  let n = 0
  for (let o = 0; o < NR_PAGE_ORDERS; o++) n += z.free_area[o].free_list[3].count << o
  return n
}
