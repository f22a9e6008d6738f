/**
 * Early boot memory: the firmware memory map (e820) and memblock, the
 * boot-time allocator that hands out memory before the buddy allocator
 * exists (Kernel: arch/x86/kernel/e820.c, mm/memblock.c).
 *
 * memblock keeps two sorted lists of physical ranges: `memory` (usable RAM)
 * and `reserved` (taken: the first MiB, the kernel image, mem_map, percpu).
 * memblock_free_all() later releases memory minus reserved to the buddy
 * allocator. Ranges are half-open [base, end) in bytes.
 */
import { PAGE_SIZE } from '../include/page_types.js'
export interface Range {
  base: number
  end: number
  /** e820 type or reservation name. */
  name: string
}

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/** A QEMU-like BIOS e820 map for `ram` bytes of RAM (low RAM below 3 GiB, the rest above 4 GiB). */
export function e820_table(ram: number, max_phys: number): Range[] {
  const t: Range[] = [
    { base: 0, end: 0x9fc00, name: 'usable' },
    { base: 0x9fc00, end: 0xa0000, name: 'reserved' },
    { base: 0xf0000, end: 0x100000, name: 'reserved' },
  ]
  const below4g = Math.min(ram, 3 * GiB)
  // The firmware keeps the last 128 KiB of low RAM for itself (ACPI tables).
  t.push({ base: 0x100000, end: below4g - 0x20000, name: 'usable' })
  t.push({ base: below4g - 0x20000, end: below4g, name: 'reserved' })
  t.push({ base: 0xfeffc000, end: 0xff000000, name: 'reserved' })
  t.push({ base: 0xfffc0000, end: 0x100000000, name: 'reserved' })
  if (ram > below4g) {
    const end = Math.min(4 * GiB + (ram - below4g), max_phys)
    if (end > 4 * GiB) t.push({ base: 4 * GiB, end, name: 'usable' })
  }
  return t
}

/**
 * Kernel: e820__range_update(): the part of [base, end) that has type
 * `from` becomes `to` (ranges split around it), the table kept sorted.
 */
export function e820_range_update(table: readonly Range[], base: number, end: number, from: string, to: string): Range[] {
  const out: Range[] = []
  for (const r of table) {
    if (r.name !== from || r.end <= base || r.base >= end) {
      out.push(r)
      continue
    }
    if (r.base < base) out.push({ base: r.base, end: base, name: r.name })
    out.push({ base: Math.max(r.base, base), end: Math.min(r.end, end), name: to })
    if (r.end > end) out.push({ base: end, end: r.end, name: r.name })
  }
  return out.sort((a, b) => a.base - b.base)
}

export class Memblock {
  readonly memory: Range[] = []
  readonly reserved: Range[] = []
  /** memblock allocations go top-down below this limit (memblock.current_limit). */
  current_limit = Infinity

  /** Kernel: memblock_add(). Ranges are page-trimmed as e820__memblock_setup does. */
  add(base: number, end: number): void {
    base = Math.ceil(base / PAGE_SIZE) * PAGE_SIZE
    end = Math.floor(end / PAGE_SIZE) * PAGE_SIZE
    if (end > base) insert(this.memory, { base, end, name: 'memory' })
  }

  /** Kernel: memblock_reserve(). */
  reserve(base: number, size: number, name: string): void {
    if (size > 0) insert(this.reserved, { base, end: base + size, name })
  }

  /** Kernel: memblock_phys_free(): drop a reservation (e.g. freed init memory). */
  phys_free(base: number, size: number): void {
    const end = base + size
    const out: Range[] = []
    for (const r of this.reserved) {
      if (r.end <= base || r.base >= end) out.push(r)
      else {
        if (r.base < base) out.push({ ...r, end: base })
        if (r.end > end) out.push({ ...r, base: end })
      }
    }
    this.reserved.splice(0, this.reserved.length, ...out)
  }

  /** Free (unreserved) memory ranges in ascending order: for_each_free_mem_range(). */
  free_ranges(): Range[] {
    const out: Range[] = []
    for (const m of this.memory) {
      let cur = m.base
      for (const r of this.reserved) {
        if (r.end <= cur || r.base >= m.end) continue
        if (r.base > cur) out.push({ base: cur, end: r.base, name: 'free' })
        cur = Math.max(cur, r.end)
      }
      if (cur < m.end) out.push({ base: cur, end: m.end, name: 'free' })
    }
    return out
  }

  /**
   * Kernel: memblock_phys_alloc_range(): the highest free, aligned range of
   * `size` bytes below `limit` (memblock allocates top-down). Returns -1 when none fits.
   */
  phys_alloc(size: number, align: number, name: string, limit = this.current_limit): number {
    const free = this.free_ranges()
    for (let i = free.length - 1; i >= 0; i--) {
      const f = free[i]
      const top = Math.min(f.end, limit)
      const base = Math.floor((top - size) / align) * align
      if (base >= f.base && base + size <= top) {
        this.reserve(base, size, name)
        return base
      }
    }
    return -1
  }

  /** Bytes reserved inside [base, end). */
  reserved_in(base: number, end: number): number {
    let n = 0
    for (const r of this.reserved) n += Math.max(0, Math.min(end, r.end) - Math.max(base, r.base))
    return n
  }

  /** Total bytes of memory. */
  phys_mem_size(): number {
    return this.memory.reduce((a, r) => a + (r.end - r.base), 0)
  }
}

/** Insert keeping the list sorted and merging overlapping/adjacent ranges of the same name. */
function insert(list: Range[], r: Range): void {
  list.push(r)
  list.sort((a, b) => a.base - b.base)
  for (let i = 0; i + 1 < list.length; ) {
    const a = list[i]
    const b = list[i + 1]
    if (b.base <= a.end && (a.name === b.name || b.base < a.end)) {
      a.end = Math.max(a.end, b.end)
      if (a.name !== b.name) a.name = a.name + '+' + b.name
      list.splice(i + 1, 1)
    } else i++
  }
}
