/**
 * Boot-time memory setup (Kernel: arch/x86/kernel/setup.c, mm/mm_init.c,
 * mm/sparse.c): the e820 map into memblock, early reservations (the first
 * MiB, the kernel image, mem_map, percpu), zone spans and present pages,
 * mem_map init, and memblock_free_all() handing free memory to the buddy
 * allocator in naturally aligned blocks of up to MAX_PAGE_ORDER, in address
 * order, each queued at the tail of its list (FPI_TO_TAIL), as Linux does.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { hex_addr, type ArchProfile } from '../arch/profile.js'
import type { Printk } from '../include/printk.js'
import { MIGRATE_MOVABLE } from './gfp.js'
import { e820_range_update, e820_table, Memblock, type Range } from './memblock.js'
import { MAX_PAGE_ORDER, pageblock_nr_pages, Zone } from './mmzone.js'
import { PG_reserved, sizeof_struct_page, type PageArray } from './page.js'
import type { PageAllocator } from './page_alloc.js'

const KiB = 1024
const MiB = 1024 * KiB
/** SPARSEMEM section size on x86 (128 MiB on x86_64, 64 MiB on i386 PAE... use 2^27 for both). */
const SECTION_SIZE_BITS = 27
const PAGES_PER_SECTION = 1 << (SECTION_SIZE_BITS - 12)

/** The simulated kernel image: a small x86 kernel, laid out like vmlinux's sections. */
export interface KernelImage {
  _text: number
  _etext: number
  __start_rodata: number
  __end_rodata: number
  _sdata: number
  _edata: number
  __init_begin: number
  __init_end: number
  __bss_start: number
  __bss_stop: number
  _end: number
}

export function kernel_image(ram: number): KernelImage {
  // CONFIG_PHYSICAL_START is 16 MiB; a machine too small for that loads the image at 1 MiB.
  const start = ram >= 64 * MiB ? 16 * MiB : 1 * MiB
  const _text = start
  const _etext = _text + 8 * MiB - 0x1f3c0
  const __start_rodata = Math.ceil(_etext / (2 * MiB)) * 2 * MiB
  const __end_rodata = __start_rodata + 3 * MiB - 0x4000
  const _sdata = Math.ceil(__end_rodata / (2 * MiB)) * 2 * MiB
  const _edata = _sdata + 1 * MiB - 0x3fc0
  const __init_begin = Math.ceil(_edata / PAGE_SIZE) * PAGE_SIZE
  const __init_end = __init_begin + 1 * MiB
  const __bss_start = __init_end
  const __bss_stop = __bss_start + 1 * MiB - 0x1000
  return {
    _text,
    _etext,
    __start_rodata,
    __end_rodata,
    _sdata,
    _edata,
    __init_begin,
    __init_end,
    __bss_start,
    __bss_stop,
    _end: Math.ceil(__bss_stop / PAGE_SIZE) * PAGE_SIZE,
  }
}

export interface BootMemory {
  e820: Range[]
  memblock: Memblock
  image: KernelImage
  max_pfn: number
  /** Total present pages (get_num_physpages()). */
  physpages: number
  /** Per-CPU area bytes (the "Percpu:" line). */
  percpu_bytes: number
  /** Bytes of the memory map (struct pages) reserved from RAM. */
  memmap_bytes: number
}

/** Parse '64M', '1G', '512K', a byte count, or a number. Returns NaN when malformed. */
export function parse_size(v: string | number): number {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : NaN
  const m = /^\s*(\d+)\s*([KMGT]?)i?B?\s*$/i.exec(v)
  if (!m) return NaN
  const mult: Record<string, number> = { '': 1, K: KiB, M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB }
  return Number(m[1]) * mult[m[2].toUpperCase()]
}

/** setup_arch() + memblock: the e820 map, memory, and the early reservations. */
export function setup_memory(arch: ArchProfile, ram: number, nr_cpus: number, printk: Printk, memmap: readonly Range[] = []): BootMemory {
  let e820 = e820_table(ram, arch.max_phys)
  printk.pr_info('BIOS-provided physical RAM map:')
  for (const r of e820) printk.pr_info(`BIOS-e820: [mem 0x${hex_addr(r.base, 64)}-0x${hex_addr(r.end - 1, 64)}] ${r.name}`)
  if (memmap.length) {
    // parse_memmap_one() for memmap=nn$ss: e820__range_update(ss, nn, E820_TYPE_RAM, E820_TYPE_RESERVED)
    for (const r of memmap) e820 = e820_range_update(e820, r.base, r.end, 'usable', 'reserved')
    printk.pr_info('user-defined physical RAM map:')
    for (const r of e820) printk.pr_info(`user: [mem 0x${hex_addr(r.base, 64)}-0x${hex_addr(r.end - 1, 64)}] ${r.name}`)
  }
  const memblock = new Memblock()
  for (const r of e820) if (r.name === 'usable') memblock.add(r.base, r.end)
  // e820: the first page is always reserved by the kernel (trim_bios_range()).
  printk.pr_info('e820: update [mem 0x00000000-0x00000fff] usable ==> reserved')
  printk.pr_info('e820: remove [mem 0x000a0000-0x000fffff] usable')
  memblock.memory[0].base = Math.max(memblock.memory[0].base, PAGE_SIZE)
  const max_pfn = Math.floor(memblock.memory[memblock.memory.length - 1].end / PAGE_SIZE)
  printk.pr_info(`last_pfn = 0x${max_pfn.toString(16)} max_arch_pfn = 0x${(arch.max_phys / PAGE_SIZE).toString(16)}`)
  if (arch.has_nx) printk.pr_info('NX (Execute Disable) protection: active')

  const image = kernel_image(ram)
  // x86 reserves the whole first MiB (BIOS data, real-mode trampoline) since 5.13.
  memblock.reserve(0, 1 * MiB, 'low 1M')
  memblock.reserve(image._text, image._end - image._text, 'kernel image')
  const low_limit = Math.min(arch.max_low_phys, memblock.memory[memblock.memory.length - 1].end)

  // mem_map: one struct page per frame, per present section (sparse vmemmap) on
  // x86_64; one flat array in lowmem on i386.
  const spp = sizeof_struct_page(arch.bits)
  let memmap_bytes = 0
  if (arch.bits === 64) {
    const sections = new Set<number>()
    for (const r of memblock.memory) {
      for (let s = Math.floor(r.base / 2 ** SECTION_SIZE_BITS); s * 2 ** SECTION_SIZE_BITS < r.end; s++) sections.add(s)
    }
    memmap_bytes = sections.size * PAGES_PER_SECTION * spp
    memblock.phys_alloc(memmap_bytes, 2 * MiB, 'mem_map', low_limit)
  } else {
    memmap_bytes = Math.ceil((max_pfn * spp) / PAGE_SIZE) * PAGE_SIZE
    memblock.phys_alloc(memmap_bytes, PAGE_SIZE, 'mem_map', low_limit)
  }
  // percpu first chunk: one 256 KiB unit per CPU.
  const percpu_bytes = nr_cpus * 256 * KiB
  memblock.phys_alloc(percpu_bytes, PAGE_SIZE, 'percpu', low_limit)

  let physpages = 0
  for (const r of memblock.memory) physpages += (r.end - r.base) / PAGE_SIZE
  return { e820, memblock, image, max_pfn, physpages, percpu_bytes, memmap_bytes }
}

/** Kernel: free_area_init(): zone spans, present pages, pageblock types, holes. */
export function free_area_init(arch: ArchProfile, boot: BootMemory, pages: PageArray, printk: Printk): Zone[] {
  const zl = arch.zones
  const zones = zl.names.map((n, i) => new Zone(n, i))
  const mem = boot.memblock.memory
  const node_start = Math.floor(mem[0].base / PAGE_SIZE)
  const node_end = boot.max_pfn
  printk.pr_info('Zone ranges:')
  let low = 0
  for (const z of zones) {
    const hi = zl.max_pfn[z.idx]
    if (hi === 0) continue
    const start = Math.min(Math.max(node_start, low), hi)
    const end = Math.min(Math.max(node_end, low), hi)
    z.zone_start_pfn = start
    z.spanned_pages = end - start
    for (const r of mem) {
      const a = Math.max(r.base / PAGE_SIZE, start)
      const b = Math.min(r.end / PAGE_SIZE, end)
      if (b > a) z.present_pages += b - a
    }
    const name = z.name.padEnd(8)
    if (z.spanned_pages) {
      printk.pr_info(`  ${name} [mem 0x${hex_addr(start * PAGE_SIZE, 64)}-0x${hex_addr(end * PAGE_SIZE - 1, 64)}]`)
    } else if (z.idx !== zl.ZONE_MOVABLE) {
      printk.pr_info(`  ${name} empty`)
    }
    z.pageblock_mt = new Uint8Array(Math.ceil(z.spanned_pages / pageblock_nr_pages) + 1).fill(MIGRATE_MOVABLE)
    if (hi !== Infinity) low = hi
  }
  printk.pr_info('Movable zone start for each node')
  printk.pr_info('Early memory node ranges')
  for (const r of mem) printk.pr_info(`  node   0: [mem 0x${hex_addr(r.base, 64)}-0x${hex_addr(r.end - 1, 64)}]`)
  printk.pr_info(`Initmem setup node 0 [mem 0x${hex_addr(mem[0].base, 64)}-0x${hex_addr(node_end * PAGE_SIZE - 1, 64)}]`)

  // memmap_init(): holes between memory ranges are "unavailable" and reserved.
  let hole_pfn = 0
  let last_zone = zones[0]
  const unavailable = (from: number, to: number, z: Zone): void => {
    for (let pfn = from; pfn < Math.min(to, pages.nr); pfn++) pages.flags[pfn] |= 1 << PG_reserved
    printk.pr_info(`On node 0, zone ${z.name}: ${to - from} pages in unavailable ranges`)
  }
  for (const r of mem) {
    for (const z of zones) {
      if (!z.present_pages) continue
      const a = Math.max(r.base / PAGE_SIZE, z.zone_start_pfn)
      const b = Math.min(r.end / PAGE_SIZE, z.zone_end_pfn)
      if (a >= b) continue
      if (hole_pfn < a) unavailable(hole_pfn, a, z)
      hole_pfn = b
      last_zone = z
    }
  }
  const end = Math.ceil(node_end / PAGES_PER_SECTION) * PAGES_PER_SECTION
  if (hole_pfn < end) unavailable(hole_pfn, end, last_zone)
  return zones
}

/**
 * Kernel: memblock_free_all(): reserved pages become PageReserved with one
 * reference; free ranges go to the buddy allocator in max-order aligned
 * chunks, lowest address first.
 */
export function memblock_free_all(boot: BootMemory, alloc: PageAllocator): void {
  const pages = alloc.pages
  for (const r of boot.memblock.reserved) {
    for (const m of boot.memblock.memory) {
      const a = Math.max(r.base, m.base) / PAGE_SIZE
      const b = Math.min(r.end, m.end) / PAGE_SIZE
      for (let pfn = Math.floor(a); pfn < Math.ceil(b); pfn++) {
        pages.flags[pfn] |= 1 << PG_reserved
        pages._refcount[pfn] = 1
      }
    }
  }
  for (const f of boot.memblock.free_ranges()) free_pages_memory(alloc, f.base / PAGE_SIZE, f.end / PAGE_SIZE)
}

/** Kernel: free_pages_memory() / __free_memory_core(). */
export function free_pages_memory(alloc: PageAllocator, start: number, end: number): void {
  while (start < end) {
    let order = Math.min(MAX_PAGE_ORDER, start === 0 ? MAX_PAGE_ORDER : ctz(start))
    while (start + (1 << order) > end) order--
    // A block must not straddle two zones.
    while (order > 0 && alloc.page_zone(start) !== alloc.page_zone(start + (1 << order) - 1)) order--
    alloc.__free_pages_core(start, order)
    start += 1 << order
  }
}

function ctz(x: number): number {
  let n = 0
  while (x % 2 === 0 && n < 52) {
    x /= 2
    n++
  }
  return n
}
