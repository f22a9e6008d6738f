/**
 * A per-CPU TLB: a fully associative cache of translations tagged with an
 * address-space id (PCID-like), LRU replacement, hit/miss/flush counters
 * (Kernel: arch/x86/mm/tlb.c is the software side; this is the hardware).
 *
 * An entry caches what the page walk found: the frame, whether the mapping
 * is writable, and whether the PTE's Dirty bit was already set (a store
 * through a clean entry walks again to set D, as x86 does).
 * Invariant: size() <= capacity.
 */
export interface TlbEntry {
  pfn: number
  writable: boolean
  dirty: boolean
}

export class Tlb {
  /** key -> packed entry: pfn * 4 + (writable ? 2 : 0) + (dirty ? 1 : 0). */
  private readonly map = new Map<number, number>()
  hits = 0
  misses = 0
  flushes = 0
  flushed_entries = 0

  constructor(readonly capacity = 64) {}

  private static key(asid: number, vpn: number): number {
    return asid * 2 ** 36 + vpn
  }

  size(): number {
    return this.map.size
  }

  /** Look a translation up (counts a hit or a miss); refreshes LRU order on a hit. */
  lookup(asid: number, vpn: number): TlbEntry | undefined {
    const v = this.lookup_packed(asid, vpn)
    return v < 0 ? undefined : { pfn: Math.floor(v / 4), writable: (v & 2) !== 0, dirty: (v & 1) !== 0 }
  }

  /** lookup() without allocating: the packed entry or -1. */
  lookup_packed(asid: number, vpn: number): number {
    const k = Tlb.key(asid, vpn)
    const e = this.map.get(k)
    if (e === undefined) {
      this.misses++
      return -1
    }
    this.hits++
    this.map.delete(k)
    this.map.set(k, e)
    return e
  }

  /** Fill an entry after a successful walk, evicting the least recently used one when full. */
  insert(asid: number, vpn: number, e: TlbEntry): void {
    this.insert_packed(asid, vpn, e.pfn * 4 + (e.writable ? 2 : 0) + (e.dirty ? 1 : 0))
  }

  insert_packed(asid: number, vpn: number, packed: number): void {
    const k = Tlb.key(asid, vpn)
    if (!this.map.delete(k) && this.map.size >= this.capacity) {
      for (const first of this.map.keys()) {
        this.map.delete(first)
        break
      }
    }
    this.map.set(k, packed)
  }

  /** Every cached translation as [asid, vpn, entry] (for checkers and teaching output). */
  entries(): [number, number, TlbEntry][] {
    const out: [number, number, TlbEntry][] = []
    for (const [k, v] of this.map) {
      const asid = Math.floor(k / 2 ** 36)
      out.push([asid, k - asid * 2 ** 36, { pfn: Math.floor(v / 4), writable: (v & 2) !== 0, dirty: (v & 1) !== 0 }])
    }
    return out
  }

  /** invlpg / flush of [start_vpn, end_vpn) of one address space. */
  flush_range(asid: number, start_vpn: number, end_vpn: number): void {
    this.flushes++
    if (end_vpn - start_vpn <= this.map.size) {
      for (let v = start_vpn; v < end_vpn; v++) if (this.map.delete(Tlb.key(asid, v))) this.flushed_entries++
      return
    }
    for (const k of [...this.map.keys()]) {
      const a = Math.floor(k / 2 ** 36)
      const v = k - a * 2 ** 36
      if (a === asid && v >= start_vpn && v < end_vpn) {
        this.map.delete(k)
        this.flushed_entries++
      }
    }
  }

  /** Flush every entry of one address space. */
  flush_asid(asid: number): void {
    this.flush_range(asid, 0, 2 ** 36)
  }

  /** Flush everything (CR3 reload without PCID). */
  flush_all(): void {
    this.flushes++
    this.flushed_entries += this.map.size
    this.map.clear()
  }
}
