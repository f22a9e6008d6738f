/**
 * One CPU's translation lookaside buffer (the first-level data TLB of an
 * x86 core, 4 KiB entries), with PCID tags (Kernel counterpart: the
 * hardware behind arch/x86/include/asm/tlbflush.h — invlpg, invpcid,
 * CR3 writes; Intel SDM vol. 3 §4.10).
 *
 * Organisation: `entries` entries in `entries / ways` sets of `ways` ways
 * (default 64 entries, 4-way: 16 sets, like an L1 dTLB). A translation of
 * virtual page `vpn` lives in set `vpn mod sets`. Each entry caches what the
 * page walk found: the PFN, the effective permissions (writable, user,
 * executable: RW and US ANDed over every level, NX ORed), whether the PTE's
 * Dirty bit was already set, and the Global bit.
 *
 * Replacement policy: per-set round robin (FIFO): a miss fills an invalid way
 * if the set has one, otherwise the way the set's victim pointer names, and
 * the pointer moves on. Hits do not reorder anything (cheap, deterministic,
 * and close to the pseudo-LRU of real parts for the tests' purposes).
 *
 * Tags: an entry belongs to a PCID (0..5, TLB_NR_DYN_ASIDS in Linux, +1 as
 * the hardware PCID is kern_pcid(asid) = asid + 1) or is global (kernel
 * mappings with G set match under every PCID). Invalid entries have tag -1.
 *
 * Paging-structure cache (SDM §4.10.3, the "PDE cache"): `pde_entries`
 * (default 32) direct-mapped entries, each remembering for a PCID and a
 * region (the span of one pte table: 2 MiB, 4 MiB on i386) the pte table's
 * frame and the permissions the upper levels allowed, so a walk can start at
 * the last level. INVLPG and PCID flushes drop every paging-structure entry
 * of the PCID (as the SDM specifies), which is why Linux must flush after
 * freeing page tables (mmu_gather's freed_tables) even when no PTE changed.
 *
 * Invariants: at most one valid entry per (pcid, vpn) — insert() replaces an
 * existing one; the hit and miss counters only count lookups.
 */

/** Cached permission bits of an entry. */
export const TLB_W = 1
export const TLB_U = 2
/** Executable (NX clear on every level). */
export const TLB_X = 4
/** The PTE's Dirty bit was set when the entry was filled (a store needs no walk to set it). */
export const TLB_D = 8
/** Global translation (G set on the leaf): survives CR3 writes and matches every PCID. */
export const TLB_G = 16

/** The PCID tag a global entry carries. */
const PCID_GLOBAL = -2

export interface TlbOptions {
  /** Number of entries (a multiple of `ways`, sets a power of two). Default 64. */
  readonly entries?: number
  /** Associativity. Default 4. */
  readonly ways?: number
  /** Paging-structure (PDE) cache entries, a power of two. Default 32. */
  readonly pde_entries?: number
}

export class Tlb {
  readonly nr_entries: number
  readonly ways: number
  readonly sets: number
  private readonly set_mask: number
  /** Virtual page number tag per entry; -1 when invalid. */
  readonly tag_vpn: Float64Array
  /** PCID per entry (PCID_GLOBAL for global entries). */
  readonly tag_pcid: Int16Array
  readonly pfn: Float64Array
  readonly perm: Uint8Array
  /** Round-robin victim way per set. */
  private readonly victim: Uint8Array
  hits = 0
  misses = 0
  /** Entries invalidated by flushes (for teaching output). */
  invalidated = 0

  constructor(o: TlbOptions = {}) {
    const entries = o.entries ?? 64
    const ways = Math.min(o.ways ?? 4, entries)
    const sets = entries / ways
    if (!Number.isInteger(entries) || entries < 1 || !Number.isInteger(sets) || (sets & (sets - 1)) !== 0 || ways > 255) {
      throw new RangeError(`tlb: ${entries} entries in ${ways} ways does not give a power-of-two number of sets`)
    }
    this.nr_entries = entries
    this.ways = ways
    this.sets = sets
    this.set_mask = sets - 1
    const pde = o.pde_entries ?? 32
    if (!Number.isInteger(pde) || pde < 1 || (pde & (pde - 1)) !== 0) throw new RangeError(`tlb: ${pde} paging-structure cache entries is not a power of two`)
    this.pde_entries = pde
    // All the arrays in one ArrayBuffer (the 8-byte ones first, so each view is aligned): a
    // machine boots a TLB per CPU, and ten buffers each cost an allocation outside the JS heap
    // and the collector's bookkeeping.
    const buf = new ArrayBuffer((entries + pde) * 2 * 8 + (entries + pde) * 2 + entries + sets + pde)
    let off = 0
    const f64 = (n: number): Float64Array => new Float64Array(buf, (off += n * 8) - n * 8, n)
    const i16 = (n: number): Int16Array => new Int16Array(buf, (off += n * 2) - n * 2, n)
    const u8 = (n: number): Uint8Array => new Uint8Array(buf, (off += n) - n, n)
    this.tag_vpn = f64(entries).fill(-1)
    this.pfn = f64(entries)
    this.pde_region = f64(pde).fill(-1)
    this.pde_table = f64(pde)
    this.tag_pcid = i16(entries)
    this.pde_pcid = i16(pde)
    this.perm = u8(entries)
    this.victim = u8(sets)
    this.pde_perm = u8(pde)
  }

  /**
   * The slot holding a translation of `vpn` usable under `pcid`, or -1.
   * Counts a hit or a miss. `vpn` is a non-negative integer page number
   * (below 2^36); `vpn & mask` is exactly vpn mod sets because ToInt32 is
   * reduction modulo 2^32 and sets divides 2^32.
   */
  lookup(pcid: number, vpn: number): number {
    const ways = this.ways
    let i = (vpn & this.set_mask) * ways
    const end = i + ways
    const tv = this.tag_vpn
    const tp = this.tag_pcid
    for (; i < end; i++) {
      if (tv[i] === vpn && (tp[i] === pcid || tp[i] === PCID_GLOBAL)) {
        this.hits++
        return i
      }
    }
    this.misses++
    return -1
  }

  /** Like lookup() without counting (for inspection and tests). */
  probe(pcid: number, vpn: number): number {
    const ways = this.ways
    const base = (vpn & this.set_mask) * ways
    for (let i = base; i < base + ways; i++) {
      if (this.tag_vpn[i] === vpn && (this.tag_pcid[i] === pcid || this.tag_pcid[i] === PCID_GLOBAL)) return i
    }
    return -1
  }

  /** Fill a translation (after a successful walk); returns its slot. */
  insert(pcid: number, vpn: number, pfn: number, perm: number): number {
    const ways = this.ways
    const set = vpn & this.set_mask
    const base = set * ways
    const tag = perm & TLB_G ? PCID_GLOBAL : pcid
    let slot = -1
    for (let i = base; i < base + ways; i++) {
      const v = this.tag_vpn[i]
      if (v === vpn && (this.tag_pcid[i] === tag || this.tag_pcid[i] === PCID_GLOBAL || tag === PCID_GLOBAL)) {
        slot = i
        break
      }
      if (v === -1 && slot < 0) slot = i
    }
    if (slot < 0) {
      slot = base + this.victim[set]
      this.victim[set] = (this.victim[set] + 1) % ways
    }
    this.tag_vpn[slot] = vpn
    this.tag_pcid[slot] = tag
    this.pfn[slot] = pfn
    this.perm[slot] = perm
    return slot
  }

  // ---------------------------------------------------------- paging-structure cache

  readonly pde_entries: number
  /** Region (vpn / pages per pte table) per entry; -1 when invalid. */
  readonly pde_region: Float64Array
  readonly pde_pcid: Int16Array
  /** Frame of the pte table. */
  readonly pde_table: Float64Array
  /** TLB_W / TLB_U / TLB_X as the upper levels allow. */
  readonly pde_perm: Uint8Array
  pde_hits = 0

  /** The paging-structure-cache slot for `region` under `pcid`, or -1. */
  pde_lookup(pcid: number, region: number): number {
    const i = region & (this.pde_entries - 1)
    if (this.pde_region[i] === region && this.pde_pcid[i] === pcid) {
      this.pde_hits++
      return i
    }
    return -1
  }

  /** Remember the pte table of `region` (after a walk through present upper levels). */
  pde_insert(pcid: number, region: number, table: number, perm: number): void {
    const i = region & (this.pde_entries - 1)
    this.pde_region[i] = region
    this.pde_pcid[i] = pcid
    this.pde_table[i] = table
    this.pde_perm[i] = perm
  }

  /** Drop the paging-structure entries of `pcid` (-1: all). */
  pde_flush(pcid: number): void {
    for (let i = 0; i < this.pde_entries; i++) if (pcid < 0 || this.pde_pcid[i] === pcid) this.pde_region[i] = -1
  }

  /** Drop one slot. */
  invalidate_slot(slot: number): void {
    if (this.tag_vpn[slot] === -1) return
    this.tag_vpn[slot] = -1
    this.invalidated++
  }

  /** INVLPG: the entries for `vpn` under `pcid`, global ones included, and the PCID's paging-structure entries. */
  flush_one(pcid: number, vpn: number): void {
    this.pde_flush(pcid)
    const base = (vpn & this.set_mask) * this.ways
    for (let i = base; i < base + this.ways; i++) {
      if (this.tag_vpn[i] === vpn && (this.tag_pcid[i] === pcid || this.tag_pcid[i] === PCID_GLOBAL)) this.invalidate_slot(i)
    }
  }

  /** INVPCID single-context / a flushing CR3 write: every non-global entry of `pcid`. */
  flush_pcid(pcid: number): void {
    this.pde_flush(pcid)
    for (let i = 0; i < this.nr_entries; i++) {
      if (this.tag_vpn[i] !== -1 && this.tag_pcid[i] === pcid) this.invalidate_slot(i)
    }
  }

  /** Global entries for `vpn` (flush_tlb_one_kernel()). */
  flush_global_one(vpn: number): void {
    this.pde_flush(-1)
    const base = (vpn & this.set_mask) * this.ways
    for (let i = base; i < base + this.ways; i++) {
      if (this.tag_vpn[i] === vpn && this.tag_pcid[i] === PCID_GLOBAL) this.invalidate_slot(i)
    }
  }

  /** __flush_tlb_all(): everything, global entries included. */
  flush_all(): void {
    this.pde_flush(-1)
    for (let i = 0; i < this.nr_entries; i++) this.invalidate_slot(i)
  }

  /** Valid entries (for teaching output and tests). */
  get nr_valid(): number {
    let n = 0
    for (let i = 0; i < this.nr_entries; i++) if (this.tag_vpn[i] !== -1) n++
    return n
  }
}
