/**
 * struct page as struct-of-arrays, one slot per page frame (Kernel:
 * include/linux/mm_types.h, include/linux/page-flags.h).
 *
 *   flags      Uint32  PG_* bits below (page-flags.h order)
 *   page_type  Uint8   PGTY_* (buddy, table, slab, ...) or 0
 *   order      Uint8   buddy order while PageBuddy (page->private in Linux);
 *                      compound order on a head page (folio_order)
 *   _refcount  Int32   Linux's _refcount
 *   _mapcount  Int32   number of page-table mappings (Linux stores this - 1)
 *   mapping    Int32   id of the owning address_space / anon_vma (0: NULL)
 *   index      Float64 page offset in the mapping (pgoff_t)
 *   lru_next/lru_prev  Int32 intrusive list links (buddy free lists, pcp
 *                      lists, LRU lists); -1 is NULL. Meaningful only while
 *                      the page is on a list, as in the kernel.
 *   private    Int32   page->private for the owner (slab id, swap entry, ...)
 *   memcg_data Uint16  id of the memory cgroup the page is charged to (0: none)
 *   owner_order Int8   page_owner: order of the allocation a head page starts,
 *                      -1 otherwise (CONFIG_PAGE_OWNER; the checker uses it)
 *
 * Arrays are zero-filled by the host lazily, so a 64 GiB machine only pays
 * host memory for the struct pages the simulation touches.
 */
export type Pfn = number
/** A page handle as the kernel API hands it out: the frame's PFN, branded. */
export type Page = number & { readonly __brand: 'struct page' }

// enum pageflags (6.18 order)
export const PG_locked = 0
export const PG_writeback = 1
export const PG_referenced = 2
export const PG_uptodate = 3
export const PG_dirty = 4
export const PG_lru = 5
export const PG_head = 6
export const PG_waiters = 7
export const PG_active = 8
export const PG_workingset = 9
export const PG_owner_priv_1 = 10
export const PG_owner_2 = 11
export const PG_arch_1 = 12
export const PG_reserved = 13
export const PG_private = 14
export const PG_private_2 = 15
export const PG_reclaim = 16
export const PG_swapbacked = 17
export const PG_unevictable = 18
export const PG_dropbehind = 19
export const PG_mlocked = 20
export const PG_swapcache = PG_owner_priv_1
export const PG_mappedtodisk = PG_owner_2
export const PG_anon_exclusive = PG_owner_2

// enum pagetype (stored as a small integer here)
export const PGTY_none = 0
export const PGTY_buddy = 1
export const PGTY_offline = 2
export const PGTY_table = 3
export const PGTY_guard = 4
export const PGTY_hugetlb = 5
export const PGTY_slab = 6
export const PGTY_zsmalloc = 7
export const PGTY_unaccepted = 8
export const PGTY_large_kmalloc = 9

export class PageArray {
  readonly nr: number
  readonly flags: Uint32Array
  readonly page_type: Uint8Array
  readonly order: Uint8Array
  readonly _refcount: Int32Array
  readonly _mapcount: Int32Array
  readonly mapping: Int32Array
  readonly index: Float64Array
  readonly lru_next: Int32Array
  readonly lru_prev: Int32Array
  readonly private: Int32Array
  readonly memcg_data: Uint16Array
  readonly owner_order: Int8Array

  constructor(nr: number) {
    this.nr = nr
    // One host allocation carved into the arrays (widest first, so every view is aligned):
    // eleven large ArrayBuffers per machine cost the host allocator and V8's GC more than one.
    const buf = new ArrayBuffer(nr * HOST_BYTES_PER_PAGE)
    let off = 0
    const take = <T>(make: (b: ArrayBuffer, off: number, n: number) => T, bytes: number): T => {
      const a = make(buf, off, nr)
      off += nr * bytes
      return a
    }
    this.index = take((b, o, n) => new Float64Array(b, o, n), 8)
    this.flags = take((b, o, n) => new Uint32Array(b, o, n), 4)
    this._refcount = take((b, o, n) => new Int32Array(b, o, n), 4)
    this._mapcount = take((b, o, n) => new Int32Array(b, o, n), 4)
    this.mapping = take((b, o, n) => new Int32Array(b, o, n), 4)
    this.lru_next = take((b, o, n) => new Int32Array(b, o, n), 4)
    this.lru_prev = take((b, o, n) => new Int32Array(b, o, n), 4)
    this.private = take((b, o, n) => new Int32Array(b, o, n), 4)
    this.memcg_data = take((b, o, n) => new Uint16Array(b, o, n), 2)
    this.page_type = take((b, o, n) => new Uint8Array(b, o, n), 1)
    this.order = take((b, o, n) => new Uint8Array(b, o, n), 1)
    this.owner_order = take((b, o, n) => new Int8Array(b, o, n), 1)
  }

  test(pfn: Pfn, bit: number): boolean {
    return (this.flags[pfn] & (1 << bit)) !== 0
  }
  set(pfn: Pfn, bit: number): void {
    this.flags[pfn] |= 1 << bit
  }
  clear(pfn: Pfn, bit: number): void {
    this.flags[pfn] &= ~(1 << bit)
  }
  /** Kernel: PageReserved(). */
  PageReserved(pfn: Pfn): boolean {
    return this.test(pfn, PG_reserved)
  }
  /** Kernel: PageBuddy(). */
  PageBuddy(pfn: Pfn): boolean {
    return this.page_type[pfn] === PGTY_buddy
  }
  /** Kernel: PageSlab(). */
  PageSlab(pfn: Pfn): boolean {
    return this.page_type[pfn] === PGTY_slab
  }
  /** Kernel: PageTable(). */
  PageTable(pfn: Pfn): boolean {
    return this.page_type[pfn] === PGTY_table
  }
  /** Kernel: page_count(). */
  page_count(pfn: Pfn): number {
    return this._refcount[pfn]
  }
  /** Kernel: get_page(). */
  get_page(pfn: Pfn): void {
    this._refcount[pfn]++
  }
  /** Kernel: put_page_testzero(): drop a reference, true when it was the last. */
  put_page_testzero(pfn: Pfn): boolean {
    return --this._refcount[pfn] === 0
  }
  /** Kernel: page_mapcount() (as the count of mappings, not Linux's biased field). */
  page_mapcount(pfn: Pfn): number {
    return this._mapcount[pfn]
  }
}

/** Host bytes the struct-page arrays take per frame (for the boot message and benchmarks). */
export const HOST_BYTES_PER_PAGE = 4 + 1 + 1 + 4 + 4 + 4 + 8 + 4 + 4 + 4 + 2 + 1
/** sizeof(struct page) on the simulated kernel (what mem_map costs in simulated RAM). */
export function sizeof_struct_page(bits: 32 | 64): number {
  return bits === 64 ? 64 : 32
}
