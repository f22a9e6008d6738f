/**
 * /proc/meminfo (Kernel: fs/proc/meminfo.c, mm/show_mem.c si_mem_available,
 * arch/x86/mm/pat/set_memory.c arch_report_meminfo), in 6.18's field order.
 */
import { calculate_totalreserve_pages } from '../../mm/page_writeback.js'
import { NR_FREE_PAGES, NR_MLOCK, WMARK_LOW } from '../../mm/mmzone.js'
import { NODE_STAT, NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from '../../mm/vmstat.js'
import type { ProcView } from './internal.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** show_val_kb(): the label padded to 16 columns, the value right-aligned in 8, then " kB". */
function kb(label: string, v: number): string {
  return `${(label + ':').padEnd(16)}${String(Math.floor(v)).padStart(8)} kB\n`
}
function num(label: string, v: number): string {
  return `${(label + ':').padEnd(16)}${String(v).padStart(8)}\n`
}

/** Kernel: calculate_totalreserve_pages(). */
export function totalreserve_pages(m: ProcView): number {
  return calculate_totalreserve_pages(m.page_alloc.zones)
}

/** Kernel: si_mem_available(). */
export function si_mem_available(m: ProcView): number {
  const node = m.vmstat.node
  let wmark_low = 0
  for (const z of m.page_alloc.zones) wmark_low += z._watermark[WMARK_LOW]
  let available = m.page_alloc.nr_free_pages() - totalreserve_pages(m)
  let pagecache = node[NODE_STAT.nr_active_file] + node[NODE_STAT.nr_inactive_file]
  pagecache -= Math.min(Math.floor(pagecache / 2), wmark_low)
  available += pagecache
  const reclaimable = Math.floor(node[NR_SLAB_RECLAIMABLE_B] / 4096) + node[NODE_STAT.nr_kernel_misc_reclaimable]
  available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmark_low)
  return Math.max(available, 0)
}

/** DirectMap4k/2M/1G: how init_memory_mapping() would map each RAM range (largest aligned pages). */
export function direct_map_sizes(m: ProcView): Map<number, number> {
  const sizes = m.arch.bits === 64 ? [GiB, 2 * MiB, 4096] : [m.arch.levels === 3 ? 2 * MiB : 4 * MiB, 4096]
  const out = new Map<number, number>(sizes.map((s) => [s, 0]))
  const limit = Math.min(m.arch.max_low_phys, Infinity)
  // The kernel maps from physical 0 (the first page and the ISA hole included).
  const ranges = m.boot.memblock.memory.map((r, i) => ({ base: i === 0 ? 0 : r.base, end: Math.min(r.end, limit) }))
  for (const r of ranges) {
    let a = r.base
    while (a < r.end) {
      for (const s of sizes) {
        if (a % s === 0 && a + s <= r.end) {
          out.set(s, (out.get(s) ?? 0) + s)
          a += s
          break
        }
      }
    }
  }
  return out
}

export function meminfo_show(m: ProcView): string {
  const n = m.vmstat.node
  const p = (item: number): number => n[item] * 4
  const zones = m.page_alloc.zones
  const totalram = m.page_alloc.totalram_pages()
  const free = m.page_alloc.nr_free_pages()
  const buffers = 0
  const swapcache = n[NODE_STAT.nr_swapcached]
  const cached = Math.max(0, n[NODE_STAT.nr_file_pages] - swapcache - buffers)
  const sreclaimable = n[NR_SLAB_RECLAIMABLE_B] / 1024
  const sunreclaim = n[NR_SLAB_UNRECLAIMABLE_B] / 1024
  let mlocked = 0
  for (const z of zones) mlocked += z.vm_stat[NR_MLOCK]
  let out = ''
  out += kb('MemTotal', totalram * 4)
  out += kb('MemFree', free * 4)
  out += kb('MemAvailable', si_mem_available(m) * 4)
  out += kb('Buffers', buffers * 4)
  out += kb('Cached', cached * 4)
  out += kb('SwapCached', swapcache * 4)
  out += kb('Active', p(NODE_STAT.nr_active_anon) + p(NODE_STAT.nr_active_file))
  out += kb('Inactive', p(NODE_STAT.nr_inactive_anon) + p(NODE_STAT.nr_inactive_file))
  out += kb('Active(anon)', p(NODE_STAT.nr_active_anon))
  out += kb('Inactive(anon)', p(NODE_STAT.nr_inactive_anon))
  out += kb('Active(file)', p(NODE_STAT.nr_active_file))
  out += kb('Inactive(file)', p(NODE_STAT.nr_inactive_file))
  out += kb('Unevictable', p(NODE_STAT.nr_unevictable))
  out += kb('Mlocked', mlocked * 4)
  const hz = m.arch.zones.ZONE_HIGHMEM
  if (hz >= 0) {
    const high = zones[hz]
    out += kb('HighTotal', high.managed_pages * 4)
    out += kb('HighFree', high.vm_stat[NR_FREE_PAGES] * 4)
    out += kb('LowTotal', (totalram - high.managed_pages) * 4)
    out += kb('LowFree', (free - high.vm_stat[NR_FREE_PAGES]) * 4)
  }
  out += kb('SwapTotal', m.swap_total_pages * 4)
  out += kb('SwapFree', m.swap_free_pages * 4)
  out += kb('Zswap', 0)
  out += kb('Zswapped', 0)
  out += kb('Dirty', p(NODE_STAT.nr_dirty))
  out += kb('Writeback', p(NODE_STAT.nr_writeback))
  out += kb('AnonPages', p(NODE_STAT.nr_anon_pages))
  out += kb('Mapped', p(NODE_STAT.nr_mapped))
  out += kb('Shmem', p(NODE_STAT.nr_shmem))
  out += kb('KReclaimable', sreclaimable + p(NODE_STAT.nr_kernel_misc_reclaimable))
  out += kb('Slab', sreclaimable + sunreclaim)
  out += kb('SReclaimable', sreclaimable)
  out += kb('SUnreclaim', sunreclaim)
  out += kb('KernelStack', n[NODE_STAT.nr_kernel_stack])
  out += kb('PageTables', p(NODE_STAT.nr_page_table_pages))
  out += kb('SecPageTables', p(NODE_STAT.nr_sec_page_table_pages))
  out += kb('NFS_Unstable', 0)
  out += kb('Bounce', 0)
  out += kb('WritebackTmp', 0)
  out += kb('CommitLimit', m.vm_commit_limit() * 4)
  out += kb('Committed_AS', m.vm_committed_as * 4)
  out += kb('VmallocTotal', m.vmalloc_total_bytes / 1024)
  out += kb('VmallocUsed', m.vmalloc_used_pages() * 4)
  out += kb('VmallocChunk', 0)
  out += kb('Percpu', m.boot.percpu_bytes / 1024)
  out += kb('AnonHugePages', 0)
  out += kb('ShmemHugePages', 0)
  out += kb('ShmemPmdMapped', 0)
  out += kb('FileHugePages', 0)
  out += kb('FilePmdMapped', 0)
  out += kb('Balloon', 0)
  out += num('HugePages_Total', 0)
  out += num('HugePages_Free', 0)
  out += num('HugePages_Rsvd', 0)
  out += num('HugePages_Surp', 0)
  out += kb('Hugepagesize', m.arch.bits === 64 || m.arch.levels === 3 ? 2048 : 4096)
  out += kb('Hugetlb', 0)
  const dm = direct_map_sizes(m)
  const label = (s: number): string => (s >= GiB ? `${s / GiB}G` : s >= MiB ? `${s / MiB}M` : `${s / 1024}k`)
  for (const s of [...dm.keys()].sort((a, b) => a - b)) out += kb(`DirectMap${label(s)}`, (dm.get(s) ?? 0) / 1024)
  return out
}
