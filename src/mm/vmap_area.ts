/**
 * The vmap-area allocator of mm/vmalloc.c: kernel virtual address ranges
 * handed out for vmalloc/vmap/ioremap (Kernel: alloc_vmap_area(),
 * __alloc_vmap_area(), find_vmap_lowest_match(), va_clip(),
 * merge_or_add_vmap_area(), free_vmap_area_noflush(), __purge_vmap_area_lazy(),
 * purge_vmap_node(), node_alloc()/node_pool_*(), decay_va_pool_node(),
 * vmap_init_nodes(), addr_to_node()).
 *
 * Model (as in Linux 6.18):
 *  - free space: address-sorted, merged free ranges; an allocation takes the
 *    lowest aligned fit inside [vstart, vend) (find_vmap_lowest_match);
 *  - busy areas live in "vmap nodes": nr_vmap_nodes = the CPU count (1..128)
 *    on 64-bit when there is more than one CPU, else 1; an area belongs to
 *    node (va_start / vmap_zone_size) % nr_vmap_nodes with vmap_zone_size 16
 *    pages; /proc/vmallocinfo walks node by node, each in address order;
 *  - freeing is lazy: a freed area goes to its node's lazy list and keeps
 *    its addresses ("unpurged vm_area") until vmap_lazy_nr exceeds
 *    lazy_max_pages() = fls(cpus) * 32 MiB of pages, or an allocation fails;
 *  - a purge returns areas that node_alloc() tagged with a node id (only in
 *    the vmalloc range, only with more than one node, at most 256 pages) to
 *    that node's per-size pool, where the next allocation of the same size
 *    on that CPU takes them first; pools decay by a quarter per purge, fully
 *    when purging for a failed allocation; other areas go back to free space.
 *
 * Invariants (check()): free ranges and busy and lazy areas are pairwise
 * disjoint, sorted, page aligned; free ranges are merged (no two touch);
 * busy areas lie inside the range they were allocated from.
 *
 * Addresses are the profile's numbers (x86_64 kernel addresses negative,
 * signed canonical); ordering and +/- arithmetic are exact on them.
 */
import { EBUSY, ERANGE } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { KernelBug } from '../include/bug.js'

/** Kernel: MAX_VA_SIZE_PAGES. */
const MAX_VA_SIZE_PAGES = 256

/** Kernel: struct vmap_area. */
export interface VmapArea {
  va_start: number
  va_end: number
  /** The vm_struct using the range (null for a bare area). */
  vm: unknown
  /** Encoded node id from node_alloc() (0: none), kept in va->flags in Linux. */
  vn_id: number
}

interface VmapNode {
  busy: VmapArea[]
  lazy: VmapArea[]
  /** pool[pages - 1]: areas of that size, most recently purged first. */
  pool: VmapArea[][]
}

export interface VmapAreaOptions {
  bits: 32 | 64
  nr_cpus: number
  VMALLOC_START: number
  VMALLOC_END: number
  /** The CPU the caller runs on (raw_smp_processor_id()). */
  cpu: () => number
  /** Kernel: flush_tlb_kernel_range() of the purged span. */
  flush?: (start: number, end: number) => void
  /** Tracepoints (include/trace/events/vmalloc.h): name and lazily formatted text. */
  trace?: (name: string, text: () => string) => void
}

/** %lu of an address (unsigned). */
function ulong(addr: number, bits: 32 | 64): string {
  return addr < 0 ? (BigInt(addr) + (bits === 64 ? 1n << 64n : 1n << 32n)).toString() : String(addr)
}
function hexl(addr: number, bits: 32 | 64): string {
  return '0x' + (addr < 0 ? BigInt(addr) + (bits === 64 ? 1n << 64n : 1n << 32n) : BigInt(addr)).toString(16)
}

function lower_bound(arr: VmapArea[], addr: number): number {
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (arr[mid].va_start < addr) lo = mid + 1
    else hi = mid
  }
  return lo
}

function insert_sorted(arr: VmapArea[], va: VmapArea): void {
  arr.splice(lower_bound(arr, va.va_start), 0, va)
}

/** Kernel: fls(). */
function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x)
}

export class VmapAreaAllocator {
  readonly nr_vmap_nodes: number
  readonly vmap_zone_size: number
  /** Kernel: vmap_lazy_nr (pages). */
  vmap_lazy_nr = 0
  /** Number of purges done (for tests and tracing). */
  nr_purges = 0
  /** Bumped by every call that may change the areas (the per-call vmalloc check's "nothing changed"). */
  gen = 0
  private readonly nodes: VmapNode[]
  /** Kernel: free_vmap_area_root/list: sorted, merged [start, end) ranges. */
  private free: [number, number][]
  private readonly opts: VmapAreaOptions

  constructor(opts: VmapAreaOptions) {
    this.opts = opts
    const n = opts.bits === 64 ? Math.min(Math.max(opts.nr_cpus, 1), 128) : 1
    this.nr_vmap_nodes = n
    this.vmap_zone_size = n > 1 ? 16 * PAGE_SIZE : 0
    this.nodes = []
    for (let i = 0; i < n; i++) this.nodes.push({ busy: [], lazy: [], pool: [] })
    // vmap_init_free_space(): everything is free (nothing was vmapped before vmalloc_init here).
    // x86_64's VMALLOC_END is the last byte: an area must end at or below it, so the last page never fits.
    this.free = [[opts.VMALLOC_START, this.floor_end()]]
  }

  private floor_end(): number {
    return Math.floor(this.opts.VMALLOC_END / PAGE_SIZE) * PAGE_SIZE
  }

  /** Kernel: lazy_max_pages(). */
  lazy_max_pages(): number {
    return fls(this.opts.nr_cpus) * ((32 * 1024 * 1024) / PAGE_SIZE)
  }

  /** Kernel: addr_to_node_id(): (addr / vmap_zone_size) % nr_vmap_nodes on the unsigned address. */
  addr_to_node_id(addr: number): number {
    const n = this.nr_vmap_nodes
    if (n === 1) return 0
    const q = Math.floor(addr / this.vmap_zone_size) // exact; negative for x86_64 kernel addresses
    const wrap = this.opts.bits === 64 ? 2 ** 64 / this.vmap_zone_size : 2 ** 32 / this.vmap_zone_size
    // (wrap + q) mod n without losing precision: wrap mod n is computed by repeated halving.
    const wrap_mod = q < 0 ? pow2_mod(Math.log2(wrap), n) : 0
    return (((q % n) + n + wrap_mod) % n + n) % n
  }

  /** Kernel: id_to_node() for an encoded vn_id. */
  private id_to_node(vn_id: number): VmapNode {
    return this.nodes[(vn_id - 1) % this.nr_vmap_nodes]
  }

  private addr_to_node(addr: number): VmapNode {
    return this.nodes[this.addr_to_node_id(addr)]
  }

  /**
   * Kernel: alloc_vmap_area(). Returns the new busy area, or -EBUSY when no
   * range fits even after a purge (then warns unless `nowarn`).
   */
  alloc_vmap_area(size: number, align: number, vstart: number, vend: number, nowarn: boolean, warn: (s: string) => void): VmapArea | number {
    this.gen++
    if (size <= 0 || size % PAGE_SIZE !== 0) throw new KernelBug(`alloc_vmap_area: bad size ${size}`)
    if (align <= 0 || (align & (align - 1)) !== 0) throw new KernelBug(`alloc_vmap_area: bad align ${align}`)
    // node_alloc(): the per-CPU node's pool first.
    let vn_id = 0
    let va: VmapArea | null = null
    if (vstart === this.opts.VMALLOC_START && vend === this.opts.VMALLOC_END && this.nr_vmap_nodes > 1) {
      const id = this.opts.cpu() % this.nr_vmap_nodes
      va = this.node_pool_del_va(this.nodes[id], size, align, vstart, vend)
      vn_id = id + 1
    }
    const b = this.opts.bits
    if (va === null) {
      let purged = false
      for (;;) {
        const addr = this.__alloc_vmap_area(size, align, vstart, vend)
        this.opts.trace?.('alloc_vmap_area', () => `va_start=${addr === null ? ulong(-ERANGE, b) : ulong(addr, b)} size=${size} align=${align} vstart=${hexl(vstart, b)} vend=${hexl(vend, b)} failed=${addr === null ? 1 : 0}`)
        if (addr !== null) {
          va = { va_start: addr, va_end: addr + size, vm: null, vn_id }
          break
        }
        if (!purged) {
          this.purge(true) // reclaim_and_purge_vmap_areas()
          purged = true
          continue
        }
        if (!nowarn) warn(`vmap allocation for size ${size} failed: use vmalloc=<size> to increase size`)
        return -EBUSY
      }
    } else {
      va.vn_id = vn_id
    }
    insert_sorted(this.addr_to_node(va.va_start).busy, va)
    return va
  }

  /** Kernel: node_pool_del_va(). */
  private node_pool_del_va(vn: VmapNode, size: number, align: number, vstart: number, vend: number): VmapArea | null {
    const idx = (size - 1) / PAGE_SIZE
    if (idx >= MAX_VA_SIZE_PAGES) return null
    const pool = vn.pool[Math.floor(idx)]
    if (pool === undefined || pool.length === 0) return null
    const va = pool[0]
    if (va.va_start % align !== 0) {
      pool.push(pool.shift() as VmapArea) // list_move_tail()
      return null
    }
    if (va.va_end - va.va_start !== size || va.va_start < vstart || va.va_end > vend) return null
    pool.shift()
    return va
  }

  /** Kernel: __alloc_vmap_area(): lowest fit, then va_clip(). Returns the address or null. */
  private __alloc_vmap_area(size: number, align: number, vstart: number, vend: number): number | null {
    const free = this.free
    for (let i = 0; i < free.length; i++) {
      const [s, e] = free[i]
      if (e <= vstart) continue
      const nva = Math.ceil((s > vstart ? s : vstart) / align) * align
      if (nva + size > e) continue
      if (nva + size > vend) return null
      // va_clip(): FL / LE / RE / NE fit.
      if (nva === s && nva + size === e) free.splice(i, 1)
      else if (nva === s) free[i] = [nva + size, e]
      else if (nva + size === e) free[i] = [s, nva]
      else free.splice(i, 1, [s, nva], [nva + size, e])
      return nva
    }
    return null
  }

  /** Kernel: merge_or_add_vmap_area() into the global free space. */
  private free_space_add(start: number, end: number): void {
    const free = this.free
    let lo = 0
    let hi = free.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (free[mid][0] < start) lo = mid + 1
      else hi = mid
    }
    const prev = lo > 0 ? free[lo - 1] : null
    const next = lo < free.length ? free[lo] : null
    if ((prev && prev[1] > start) || (next && next[0] < end)) {
      throw new KernelBug(`merge_or_add_vmap_area: [${start}, ${end}) overlaps free space`)
    }
    if (prev && prev[1] === start && next && next[0] === end) {
      prev[1] = next[1]
      free.splice(lo, 1)
    } else if (prev && prev[1] === start) prev[1] = end
    else if (next && next[0] === end) next[0] = start
    else free.splice(lo, 0, [start, end])
  }

  /** Kernel: find_vmap_area(): the busy area containing addr, or null. */
  find_vmap_area(addr: number): VmapArea | null {
    const id = this.addr_to_node_id(addr)
    // The area may start in another node's zone (it spans zones): look in every node, own first.
    for (let k = 0; k < this.nr_vmap_nodes; k++) {
      const busy = this.nodes[(id + k) % this.nr_vmap_nodes].busy
      const i = lower_bound(busy, addr + 1) - 1
      if (i >= 0 && addr >= busy[i].va_start && addr < busy[i].va_end) return busy[i]
    }
    return null
  }

  /** Kernel: find_unlink_vmap_area(): find and take out of the busy tree. */
  find_unlink_vmap_area(addr: number): VmapArea | null {
    this.gen++
    const va = this.find_vmap_area(addr)
    if (va === null) return null
    const busy = this.addr_to_node(va.va_start).busy
    busy.splice(lower_bound(busy, va.va_start), 1)
    return va
  }

  /**
   * Kernel: free_vmap_area_noflush(): the (already unmapped) area goes to a
   * lazy list; a purge runs when too many pages wait (drain_vmap_work).
   */
  free_vmap_area_noflush(va: VmapArea): void {
    this.gen++
    this.vmap_lazy_nr += (va.va_end - va.va_start) / PAGE_SIZE
    const vn = va.vn_id !== 0 ? this.id_to_node(va.vn_id) : this.addr_to_node(va.va_start)
    insert_sorted(vn.lazy, va)
    this.opts.trace?.('free_vmap_area_noflush', () => `va_start=${ulong(va.va_start, this.opts.bits)} nr_lazy=${this.vmap_lazy_nr} nr_lazy_max=${this.lazy_max_pages()}`)
    if (this.vmap_lazy_nr > this.lazy_max_pages()) this.purge(false)
  }

  /** Kernel: free_vmap_area(): back to free space at once (error paths). */
  free_vmap_area(va: VmapArea): void {
    this.gen++
    const busy = this.addr_to_node(va.va_start).busy
    const i = lower_bound(busy, va.va_start)
    if (busy[i] === va) busy.splice(i, 1)
    this.free_space_add(va.va_start, va.va_end)
  }

  /**
   * Kernel: __purge_vmap_area_lazy() + purge_vmap_node(): decay the pools
   * (fully when `full_pool_decay`), then hand every lazy area to its node's
   * pool or back to free space. Returns the pages purged.
   */
  purge(full_pool_decay: boolean): number {
    this.gen++
    this.nr_purges++
    let purged = 0
    let nr_purged_areas = 0
    let start = Infinity
    let end = -Infinity
    for (const vn of this.nodes) for (const va of vn.lazy) {
      if (va.va_start < start) start = va.va_start
      if (va.va_end > end) end = va.va_end
    }
    if (end > start) this.opts.flush?.(start, end) // flush_tlb_kernel_range() before the ranges are reused
    for (const vn of this.nodes) {
      this.decay_va_pool_node(vn, full_pool_decay)
      const list = vn.lazy
      vn.lazy = []
      for (const va of list) {
        const nr = (va.va_end - va.va_start) / PAGE_SIZE
        purged += nr
        nr_purged_areas++
        if (va.vn_id !== 0 && !full_pool_decay && nr <= MAX_VA_SIZE_PAGES) {
          const p = (vn.pool[nr - 1] ??= [])
          p.unshift(va) // node_pool_add_va(): list_add() at the head
          continue
        }
        this.free_space_add(va.va_start, va.va_end)
      }
    }
    this.vmap_lazy_nr -= purged
    if (end > start) this.opts.trace?.('purge_vmap_area_lazy', () => `start=${hexl(start, this.opts.bits)} end=${hexl(end, this.opts.bits)} num_purged=${nr_purged_areas}`)
    return purged
  }

  /** Kernel: decay_va_pool_node(): give back ~25% of each pool (all of it on a full decay). */
  private decay_va_pool_node(vn: VmapNode, full: boolean): void {
    for (let i = 0; i < vn.pool.length; i++) {
      const pool = vn.pool[i]
      if (pool === undefined || pool.length === 0) continue
      const n_decay = full ? pool.length : pool.length >>> 2
      for (const va of pool.splice(0, n_decay)) this.free_space_add(va.va_start, va.va_end)
    }
  }

  /** Busy areas in /proc/vmallocinfo order: node by node, each by address. */
  busy_areas(): VmapArea[] {
    return this.nodes.flatMap((vn) => vn.busy)
  }

  /** Lazily freed areas not yet purged, node by node. */
  lazy_areas(): VmapArea[] {
    return this.nodes.flatMap((vn) => vn.lazy)
  }

  /** Areas parked in node pools (free, but not in the global free space). */
  pooled_areas(): VmapArea[] {
    return this.nodes.flatMap((vn) => vn.pool.flatMap((p) => p ?? []))
  }

  /** vmap_area objects Linux would hold: busy, lazy and pooled areas plus free-space fragments. */
  nr_objects(): number {
    let n = this.free.length
    for (const vn of this.nodes) {
      n += vn.busy.length + vn.lazy.length
      for (const p of vn.pool) n += p?.length ?? 0
    }
    return n
  }

  /** Free ranges (copies), ascending. */
  free_ranges(): [number, number][] {
    return this.free.map(([s, e]) => [s, e])
  }

  /** DEBUG_VM: everything disjoint, merged, aligned, inside [VMALLOC_START, VMALLOC_END). */
  check(): void {
    const all: [number, number, string][] = []
    for (const [s, e] of this.free) all.push([s, e, 'free'])
    for (const va of this.busy_areas()) all.push([va.va_start, va.va_end, 'busy'])
    for (const va of this.lazy_areas()) all.push([va.va_start, va.va_end, 'lazy'])
    for (const va of this.pooled_areas()) all.push([va.va_start, va.va_end, 'pool'])
    all.sort((a, b) => a[0] - b[0])
    let lazy = 0
    for (const va of this.lazy_areas()) lazy += (va.va_end - va.va_start) / PAGE_SIZE
    if (lazy !== this.vmap_lazy_nr) throw new KernelBug(`vmalloc check: vmap_lazy_nr ${this.vmap_lazy_nr} but ${lazy} lazy pages`)
    for (let i = 0; i < all.length; i++) {
      const [s, e, what] = all[i]
      if (s % PAGE_SIZE !== 0 || e % PAGE_SIZE !== 0 || e <= s) throw new KernelBug(`vmalloc check: bad ${what} range ${s}..${e}`)
      if (s < this.opts.VMALLOC_START || e > this.floor_end()) throw new KernelBug(`vmalloc check: ${what} range outside the vmalloc area`)
      if (i > 0) {
        const [, pe, pwhat] = all[i - 1]
        if (pe > s) throw new KernelBug(`vmalloc check: ${pwhat} and ${what} ranges overlap`)
        if (pe === s && pwhat === 'free' && what === 'free') throw new KernelBug('vmalloc check: unmerged free ranges')
      }
    }
    for (let id = 0; id < this.nr_vmap_nodes; id++) {
      for (const va of this.nodes[id].busy) {
        if (this.addr_to_node_id(va.va_start) !== id) throw new KernelBug('vmalloc check: busy area on the wrong vmap node')
      }
    }
  }
}

/** 2^k mod n, exactly. */
function pow2_mod(k: number, n: number): number {
  let r = 1 % n
  for (let i = 0; i < k; i++) r = (r * 2) % n
  return r
}
