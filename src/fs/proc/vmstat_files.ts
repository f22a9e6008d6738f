/**
 * /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo and /proc/vmstat
 * (Kernel: mm/vmstat.c frag_show, pagetypeinfo_show, zoneinfo_show,
 * vmstat_start/vmstat_show), byte for byte.
 */
import { PAGE_SIZE } from '../../include/page_types.js'
import { migratetype_names, MIGRATE_ISOLATE, MIGRATE_TYPES } from '../../mm/gfp.js'
import { NR_FREE_PAGES, NR_PAGE_ORDERS, pageblock_nr_pages, pageblock_order, zone_stat_names, type Zone } from '../../mm/mmzone.js'
import { node_stat_names } from '../../mm/vmstat.js'
import { PGPGIN, PGPGOUT, vm_event_text_for } from '../../mm/vm_event_item.js'
import { global_dirty_limits, global_dirtyable_memory } from '../../mm/page_writeback.js'
import { calculate_normal_threshold } from '../../mm/watermark.js'
import type { ProcView } from './internal.js'
import { totalreserve_pages } from './meminfo.js'

const pad = (v: string | number, w: number): string => String(v).padStart(w)

/** Kernel: frag_show_print(). Populated zones only. */
export function buddyinfo_show(m: ProcView): string {
  let out = ''
  for (const z of m.page_alloc.zones) {
    if (!z.populated) continue
    out += `Node 0, zone ${pad(z.name, 8)} `
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${pad(z.free_area[o].nr_free, 6)} `
    out += '\n'
  }
  return out
}

/** Kernel: pagetypeinfo_showblockcount_print(): one step per pageblock from the zone start. */
function blocks_by_type(m: ProcView, z: Zone): number[] {
  const count = new Array<number>(MIGRATE_TYPES).fill(0)
  for (let pfn = z.zone_start_pfn; pfn < z.zone_end_pfn; pfn += pageblock_nr_pages) {
    count[m.page_alloc.get_pfnblock_migratetype(pfn)]++
  }
  return count
}

/** Kernel: pagetypeinfo_show(). */
export function pagetypeinfo_show(m: ProcView): string {
  let out = `Page block order: ${pageblock_order}\nPages per block:  ${pageblock_nr_pages}\n\n`
  out += 'Free pages count per migrate type at order'.padEnd(43) + ' '
  for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${pad(o, 6)} `
  out += '\n'
  const zones = m.page_alloc.zones.filter((z) => z.populated)
  for (const z of zones) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      out += `Node ${pad(0, 4)}, zone ${pad(z.name, 8)}, type ${pad(migratetype_names[mt], 12)} `
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const n = z.free_area[o].free_list[mt].count
        out += n >= 100000 ? `>${pad(100000, 6)} ` : `${pad(n, 6)} `
      }
      out += '\n'
    }
  }
  out += '\n' + 'Number of blocks type '.padEnd(23)
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${pad(migratetype_names[mt], 12)} `
  out += '\n'
  for (const z of zones) {
    out += `Node 0, zone ${pad(z.name, 8)} `
    for (const c of blocks_by_type(m, z)) out += `${pad(c, 12)} `
    out += '\n'
  }
  return out
}

/** NR_FREE_PAGES_BLOCKS: free pages in blocks of at least a pageblock (not isolated). */
function nr_free_pages_blocks(z: Zone): number {
  let n = 0
  for (let o = pageblock_order; o < NR_PAGE_ORDERS; o++) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (mt !== MIGRATE_ISOLATE) n += z.free_area[o].free_list[mt].count << o
  }
  return n
}

/** Kernel: zoneinfo_show_print(), for every zone of the node. */
export function zoneinfo_show(m: ProcView): string {
  let out = ''
  const zones = m.page_alloc.zones
  const first_populated = zones.find((z) => z.populated)
  for (const z of zones) {
    out += `Node 0, zone ${pad(z.name, 8)}`
    if (z === first_populated) {
      out += '\n  per-node stats'
      for (let i = 0; i < node_stat_names.length; i++) {
        let v = m.vmstat.node[i]
        if (node_stat_names[i] === 'nr_slab_reclaimable' || node_stat_names[i] === 'nr_slab_unreclaimable') v = Math.floor(v / 4096)
        out += `\n      ${node_stat_names[i].padEnd(12)} ${v}`
      }
    }
    out +=
      `\n  pages free     ${z.vm_stat[NR_FREE_PAGES]}` +
      `\n        boost    ${z.watermark_boost}` +
      `\n        min      ${z._watermark[0]}` +
      `\n        low      ${z._watermark[1]}` +
      `\n        high     ${z._watermark[2]}` +
      `\n        promo    ${z._watermark[3]}` +
      `\n        spanned  ${z.spanned_pages}` +
      `\n        present  ${z.present_pages}` +
      `\n        managed  ${z.managed_pages}` +
      `\n        cma      0` +
      `\n        protection: (${z.lowmem_reserve.join(', ')})`
    if (!z.populated) {
      out += '\n'
      continue
    }
    for (let i = 0; i < zone_stat_names.length; i++) {
      const v = i === 1 ? nr_free_pages_blocks(z) : z.vm_stat[i]
      out += `\n      ${zone_stat_names[i].padEnd(12)} ${v}`
    }
    const numa: [string, number][] = [
      ['numa_hit', z.numa_hit],
      ['numa_miss', 0],
      ['numa_foreign', 0],
      ['numa_interleave', 0],
      ['numa_local', z.numa_local],
      ['numa_other', 0],
    ]
    for (const [n, v] of numa) out += `\n      ${n.padEnd(12)} ${v}`
    out += '\n  pagesets'
    const threshold = calculate_normal_threshold(z, m.cpus)
    z.per_cpu_pageset.forEach((pcp, cpu) => {
      out +=
        `\n    cpu: ${cpu}` +
        `\n              count:    ${pcp.count}` +
        `\n              high:     ${pcp.high}` +
        `\n              batch:    ${pcp.batch}` +
        `\n              high_min: ${pcp.high_min}` +
        `\n              high_max: ${pcp.high_max}` +
        `\n  vm stats threshold: ${threshold}`
    })
    out += `\n  node_unreclaimable:  0\n  start_pfn:           ${z.zone_start_pfn}\n`
  }
  return out
}

/** Kernel: vmstat_item_print_in_thp(): node items /proc/vmstat and zoneinfo count in huge pages. */
const THP_ITEMS = new Set(['nr_anon_transparent_hugepages', 'nr_shmem_hugepages', 'nr_shmem_pmdmapped', 'nr_file_hugepages', 'nr_file_pmdmapped'])
/** HPAGE_PMD_NR on every profile's 4 KiB pages with 2 MiB (PAE, x86_64) pmd pages; i386 has no THP and counts none. */
const HPAGE_PMD_NR = 512

/**
 * Kernel: vmstat_start() + vmstat_show(): the zone counters summed over
 * zones, the NUMA events, the node counters (byte items in pages), the
 * dirty limits, the memmap counters, then every vm event in enum
 * vm_event_item order (pgpgin/pgpgout in kB, as the kernel halves its
 * sector counts), and the deprecated "nr_unstable 0" line.
 */
export function vmstat_show(m: ProcView): string {
  const zones = m.page_alloc.zones
  let out = ''
  const line = (name: string, v: number): void => {
    out += `${name} ${v}\n`
  }
  for (let i = 0; i < zone_stat_names.length; i++) {
    let v = 0
    for (const z of zones) v += i === 1 ? nr_free_pages_blocks(z) : z.vm_stat[i]
    line(zone_stat_names[i], v)
  }
  let hit = 0
  let local = 0
  for (const z of zones) {
    hit += z.numa_hit
    local += z.numa_local
  }
  const numa: [string, number][] = [
    ['numa_hit', hit],
    ['numa_miss', 0],
    ['numa_foreign', 0],
    ['numa_interleave', 0],
    ['numa_local', local],
    ['numa_other', 0],
  ]
  for (const [n, v] of numa) line(n, v)
  for (let i = 0; i < node_stat_names.length; i++) {
    const name = node_stat_names[i]
    let v = m.vmstat.node[i]
    if (name === 'nr_slab_reclaimable' || name === 'nr_slab_unreclaimable') v = Math.floor(v / PAGE_SIZE)
    if (THP_ITEMS.has(name)) v = Math.floor(v / HPAGE_PMD_NR)
    line(name, v)
  }
  const dirty = global_dirty_limits(global_dirtyable_memory(zones, m.arch.zones.ZONE_HIGHMEM, m.vmstat, totalreserve_pages(m)), m.sysctl)
  line('nr_dirty_threshold', dirty.thresh)
  line('nr_dirty_background_threshold', dirty.bg_thresh)
  line('nr_memmap_pages', 0)
  line('nr_memmap_boot_pages', Math.ceil(m.boot.memmap_bytes / PAGE_SIZE))
  const text = vm_event_text_for(m.arch.zones.names)
  const ev = m.vmstat.vm_event_states
  for (let i = 0; i < text.length; i++) {
    const name = text[i]
    if (name !== null) line(name, i === PGPGIN || i === PGPGOUT ? Math.floor(ev[i] / 2) : ev[i])
  }
  return out + 'nr_unstable 0\n'
}
