/**
 * /proc/buddyinfo, /proc/pagetypeinfo and /proc/zoneinfo (Kernel:
 * mm/vmstat.c frag_show, pagetypeinfo_show, zoneinfo_show), byte for byte.
 */
import { migratetype_names, MIGRATE_ISOLATE, MIGRATE_TYPES } from '../../mm/gfp.js'
import { NR_FREE_PAGES, NR_PAGE_ORDERS, pageblock_nr_pages, pageblock_order, zone_stat_names, type Zone } from '../../mm/mmzone.js'
import { node_stat_names } from '../../mm/vmstat.js'
import { calculate_normal_threshold } from '../../mm/watermark.js'
import type { ProcView } from './internal.js'

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
