/**
 * Zone watermarks, lowmem reserves and per-CPU list sizes (Kernel:
 * mm/page_alloc.c: calculate_min_free_kbytes, __setup_per_zone_wmarks,
 * setup_per_zone_lowmem_reserve, zone_batchsize, zone_highsize; mm/vmstat.c:
 * calculate_normal_threshold).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { ArchProfile } from '../arch/profile.js'
import { PerCpuPages, WMARK_HIGH, WMARK_LOW, WMARK_MIN, WMARK_PROMO, type Zone } from './mmzone.js'

/** sysctl vm.watermark_scale_factor default. */
export const WATERMARK_SCALE_FACTOR = 10
/** sysctl vm.lowmem_reserve_ratio defaults per zone name. */
const LOWMEM_RESERVE_RATIO: Record<string, number> = { DMA: 256, DMA32: 256, Normal: 32, HighMem: 0, Movable: 0, Device: 0 }
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION. */
const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8

function int_sqrt(x: number): number {
  return Math.floor(Math.sqrt(x))
}

function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1
}

function rounddown_pow_of_two(x: number): number {
  return x <= 0 ? 0 : 2 ** Math.floor(Math.log2(x))
}

function is_highmem(arch: ArchProfile, z: Zone): boolean {
  return z.idx === arch.zones.ZONE_HIGHMEM
}

/**
 * Kernel: calculate_min_free_kbytes(): sqrt(lowmem_kbytes * 16), clamped to
 * [128, 262144]. lowmem_kbytes is nr_free_buffer_pages(): managed pages of
 * the zones GFP_USER may use, above their high watermark (0 at boot).
 */
export function calculate_min_free_kbytes(arch: ArchProfile, zones: Zone[]): number {
  let pages = 0
  for (const z of zones) {
    if (z.idx > arch.zones.ZONE_NORMAL) continue
    pages += Math.max(0, z.managed_pages - z._watermark[WMARK_HIGH])
  }
  const k = int_sqrt(pages * 4 * 16)
  return Math.min(Math.max(k, 128), 262144)
}

/** Kernel: __setup_per_zone_wmarks(). */
export function setup_per_zone_wmarks(arch: ArchProfile, zones: Zone[], min_free_kbytes: number): void {
  const pages_min = min_free_kbytes >> 2
  let lowmem_pages = 0
  for (const z of zones) if (!is_highmem(arch, z) && z.idx !== arch.zones.ZONE_MOVABLE) lowmem_pages += z.managed_pages
  for (const z of zones) {
    const managed = z.managed_pages
    let tmp = lowmem_pages ? Math.floor((pages_min * managed) / lowmem_pages) : 0
    if (is_highmem(arch, z) || z.idx === arch.zones.ZONE_MOVABLE) {
      // HIGHMEM/MOVABLE keep only a token reserve: __GFP_HIGH cannot use them anyway.
      z._watermark[WMARK_MIN] = Math.min(Math.max(Math.floor(managed / 1024), 32), 128)
    } else {
      z._watermark[WMARK_MIN] = tmp
    }
    tmp = Math.max(tmp >> 2, Math.floor((managed * WATERMARK_SCALE_FACTOR) / 10000))
    z.watermark_boost = 0
    z._watermark[WMARK_LOW] = z._watermark[WMARK_MIN] + tmp
    z._watermark[WMARK_HIGH] = z._watermark[WMARK_LOW] + tmp
    z._watermark[WMARK_PROMO] = z._watermark[WMARK_HIGH] + tmp
  }
}

/** Kernel: setup_per_zone_lowmem_reserve(). */
export function setup_per_zone_lowmem_reserve(zones: Zone[]): void {
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i]
    const ratio = LOWMEM_RESERVE_RATIO[z.name] ?? 0
    z.lowmem_reserve = new Array<number>(zones.length).fill(0)
    let managed = 0
    for (let j = i + 1; j < zones.length; j++) {
      managed += zones[j].managed_pages
      z.lowmem_reserve[j] = ratio ? Math.floor(managed / ratio) : 0
    }
  }
}

/** Kernel: zone_batchsize(). */
export function zone_batchsize(z: Zone): number {
  let batch = Math.min(z.managed_pages >> 10, (1024 * 1024) / PAGE_SIZE)
  batch = Math.floor(batch / 4)
  if (batch < 1) batch = 1
  return rounddown_pow_of_two(batch + Math.floor(batch / 2)) - 1
}

/** Kernel: zone_highsize() (no memoryless nodes: the zone's CPUs are all CPUs). */
export function zone_highsize(z: Zone, batch: number, nr_cpus: number, high_fraction: number): number {
  const total = high_fraction ? Math.floor(z.managed_pages / high_fraction) : z._watermark[WMARK_LOW]
  return Math.max(Math.floor(total / nr_cpus), batch << 2)
}

/** Kernel: zone_set_pageset_high_and_batch() / zone_pcp_update(). */
export function zone_pcp_update(z: Zone, nr_cpus: number): void {
  const batch = Math.max(1, zone_batchsize(z))
  const high_min = zone_highsize(z, batch, nr_cpus, 0)
  const high_max = zone_highsize(z, batch, nr_cpus, MIN_PERCPU_PAGELIST_HIGH_FRACTION)
  z.pageset_batch = batch
  z.pageset_high_min = high_min
  z.pageset_high_max = high_max
  for (const pcp of z.per_cpu_pageset) {
    pcp.batch = batch
    pcp.high_min = high_min
    pcp.high_max = high_max
    if (pcp.high < high_min || pcp.high > high_max) pcp.high = high_min
  }
}

/** The boot pageset: high 0, batch 1, so every page goes straight to and from the buddy lists. */
export function boot_pagesets(z: Zone, nr_cpus: number): void {
  // A loop, not Array.from({ length }, ...) (~8x slower, and every boot runs this per zone).
  const sets: PerCpuPages[] = []
  for (let c = 0; c < nr_cpus; c++) {
    const p = new PerCpuPages()
    p.batch = 1
    sets.push(p)
  }
  z.per_cpu_pageset = sets
}

/** Kernel: calculate_normal_threshold() (mm/vmstat.c): the per-CPU vmstat drift threshold. */
export function calculate_normal_threshold(z: Zone, nr_cpus: number): number {
  const mem = z.managed_pages >> (27 - 12)
  return Math.min(125, 2 * fls(nr_cpus) * (1 + fls(mem)))
}
