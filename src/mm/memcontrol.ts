/**
 * Memory cgroups: charging pages and kernel memory to a group, per-CPU
 * charge stocks, limits that reclaim (Kernel: mm/memcontrol.c,
 * mm/memcontrol-v1.c, include/linux/memcontrol.h).
 *
 * A page's memcg_data is its group's id (0: never charged). The root group
 * (id 1) is charged nothing on its counter, as in Linux, but keeps stats.
 * try_charge_memcg() takes pages from this CPU's stock, else charges
 * MEMCG_CHARGE_BATCH pages at once and stocks the rest; when the group is
 * at its limit it charges single pages, then reclaims from the group
 * (try_to_free_mem_cgroup_pages, wired in by the machine: vmscan calls
 * back into this file, so the call goes through MemcgSubsys.reclaim).
 * Kernel objects are charged in bytes through a per-CPU object stock that
 * charges whole pages (obj_cgroup_charge()).
 */
import { ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { __GFP_DIRECT_RECLAIM, __GFP_NOFAIL, __GFP_NORETRY } from './gfp.js'
import { Lruvec } from './lruvec.js'
import type { Replacement } from './replacement.js'
import { PageCounter } from './page_counter.js'
import type { PageArray } from './page.js'

/** MEMCG_CHARGE_BATCH: pages a charge takes ahead into the per-CPU stock. */
export const MEMCG_CHARGE_BATCH = 64
/** MAX_RECLAIM_RETRIES. */
export const MAX_RECLAIM_RETRIES = 16
/** PAGE_ALLOC_COSTLY_ORDER. */
const PAGE_ALLOC_COSTLY_ORDER = 3

/** The memcg statistics mmsim keeps, in memory.stat (v1) order. */
export const memcg1_stat_names = [
  'cache',
  'rss',
  'rss_huge',
  'shmem',
  'mapped_file',
  'dirty',
  'writeback',
  'workingset_refault_anon',
  'workingset_refault_file',
  'swap',
  'swapcached',
] as const
export const MEMCG_CACHE = 0
export const MEMCG_RSS = 1
export const MEMCG_SHMEM = 3
export const MEMCG_MAPPED_FILE = 4
export const MEMCG_DIRTY = 5
export const MEMCG_WRITEBACK = 6
export const MEMCG_WORKINGSET_REFAULT_ANON = 7
export const MEMCG_SWAP = 9
export const MEMCG_SWAPCACHED = 10
/** memcg1_events: pgpgin, pgpgout, pgfault, pgmajfault. */
export const memcg1_event_names = ['pgpgin', 'pgpgout', 'pgfault', 'pgmajfault'] as const
export const MEMCG_PGPGIN = 0
export const MEMCG_PGPGOUT = 1
export const MEMCG_PGFAULT = 2
export const MEMCG_PGMAJFAULT = 3

/** Reclaim for a group over its limit (vmscan.ts try_to_free_mem_cgroup_pages). */
export type MemcgReclaim = (memcg: MemCgroup, nr_pages: number, gfp: number, may_swap: boolean) => number

/** Kernel: count_memcg_event_mm(): an event (memcg1_events index) of the group an mm is charged to. */
export function count_memcg_event_mm(mm: { readonly memcg: MemCgroup | null; readonly env: { readonly memcg: MemcgSubsys } }, idx: number): void {
  const memcg = mm.memcg ?? mm.env.memcg.root
  memcg.events[idx]++
}

export class MemCgroup {
  readonly children: MemCgroup[] = []
  readonly memory: PageCounter
  readonly memsw: PageCounter
  readonly kmem: PageCounter
  swappiness = 60
  readonly lruvec: Lruvec
  /** Local statistics (memcg1_stat_names); memory.stat's total_ lines sum the subtree. */
  readonly stat = new Float64Array(memcg1_stat_names.length)
  readonly events = new Float64Array(memcg1_event_names.length)
  /** Reclaim events counted for the group (memcg's PGSCAN_* / PGSTEAL_*: direct, by type). */
  pgscan = 0
  pgsteal = 0
  online = true
  /** obj_cgroup->nr_charged_bytes: the sub-page rest of a drained object stock, still charged. */
  nr_charged_bytes = 0
  constructor(
    readonly id: number,
    readonly name: string,
    readonly parent: MemCgroup | null,
    pending: { updates: number },
    replacement: Replacement | null,
  ) {
    this.memory = new PageCounter(parent ? parent.memory : null)
    this.memsw = new PageCounter(parent ? parent.memsw : null)
    this.kmem = new PageCounter(parent ? parent.kmem : null)
    this.lruvec = new Lruvec(id, pending, replacement)
    if (parent) {
      parent.children.push(this)
      this.swappiness = parent.swappiness
    }
  }

  /** Kernel: mem_cgroup_is_root(). */
  get is_root(): boolean {
    return this.parent === null
  }

  /** The group and every descendant, pre-order (mem_cgroup_iter() over a subtree). */
  *subtree(): Generator<MemCgroup> {
    yield this
    for (const c of this.children) yield* c.subtree()
  }

  /** The cgroup path ("/" for the root, "/a/b" below it). */
  get path(): string {
    if (!this.parent) return '/'
    const up = this.parent.path
    return up === '/' ? `/${this.name}` : `${up}/${this.name}`
  }
}

/** A per-CPU charge stock (struct memcg_stock_pcp, one cached group) and object stock (struct obj_stock_pcp). */
class MemcgStock {
  cached: MemCgroup | null = null
  nr_pages = 0
  obj_cached: MemCgroup | null = null
  nr_bytes = 0
}

/** The memory controller's global state: the group tree, the stocks, who is charging. */
export class MemcgSubsys {
  readonly root: MemCgroup
  readonly by_id = new Map<number, MemCgroup>()
  /** The same groups indexed by id (mem_cgroup_from_id()): the lookup of every page charge, uncharge and LRU move. */
  private readonly id_table: MemCgroup[] = []
  /** The group charges go to now: the running task's (set at system-call and access entry). */
  active: MemCgroup
  /** The CPU the running task is on (its stocks are used). */
  cpu = 0
  readonly stocks: MemcgStock[]
  /** try_to_free_mem_cgroup_pages, wired in by the machine (null: no reclaim). */
  reclaim: MemcgReclaim | null = null
  /** Statistics changes since the last flush (memcg_vmstats->stats_updates). */
  readonly pending = { updates: 0 }
  /** Kernel: mem_cgroup_oom() -> out_of_memory() for the group, wired in by the machine: true when a task was killed. */
  oom: ((memcg: MemCgroup, gfp: number) => boolean) | null = null
  /** Kernel: mem_cgroup_get_nr_swap_pages(): swap slots the group may still use (wired in with swap). */
  get_nr_swap_pages: (memcg: MemCgroup) => number = () => 0
  private next_id = 1

  constructor(
    readonly pages: PageArray,
    nr_cpus: number,
    /** The machine's page-replacement policy when it is not Linux's (replacement.ts): every lruvec follows it. */
    readonly replacement: Replacement | null = null,
  ) {
    this.root = new MemCgroup(this.next_id++, '', null, this.pending, replacement)
    this.by_id.set(this.root.id, this.root)
    this.id_table[this.root.id] = this.root
    this.active = this.root
    this.stocks = Array.from({ length: nr_cpus }, () => new MemcgStock())
  }

  /** mkdir in the v1 memory hierarchy: a new child group of `parent`. */
  create(name: string, parent: MemCgroup = this.root): MemCgroup {
    const g = new MemCgroup(this.next_id++, name, parent, this.pending, this.replacement)
    this.by_id.set(g.id, g)
    this.id_table[g.id] = g
    return g
  }

  /** Kernel: folio_memcg(): the page's group (the root for a page never charged). */
  folio_memcg(pfn: number): MemCgroup {
    const id = this.pages.memcg_data[pfn]
    return id === 0 ? this.root : this.id_table[id]
  }

  /** Kernel: mem_cgroup_from_id(). */
  from_id(id: number): MemCgroup | undefined {
    return this.id_table[id]
  }

  /** Kernel: folio_lruvec(). */
  folio_lruvec(pfn: number): Lruvec {
    const id = this.pages.memcg_data[pfn]
    return (id === 0 ? this.root : this.id_table[id]).lruvec
  }

  // ---- statistics (rstat) ----

  /** Kernel: memcg_vmstats_needs_flush(): more than MEMCG_CHARGE_BATCH updates per CPU pending. */
  private needs_flush(): boolean {
    return this.pending.updates > MEMCG_CHARGE_BATCH * this.stocks.length
  }

  /** Kernel: mem_cgroup_flush_stats(): flush when enough has changed. */
  flush_stats_if_needed(): void {
    if (this.needs_flush()) this.flush_stats()
  }

  /** Kernel: do_flush_stats(): every group's flushed statistics become exact (hierarchical sums). */
  flush_stats(): void {
    const walk = (g: MemCgroup): void => {
      const lv = g.lruvec
      for (let i = 0; i < lv.flushed.length; i++) lv.flushed[i] = lv.size(i)
      lv.flushed_activate[0] = lv.stat.workingset_activate[0]
      lv.flushed_activate[1] = lv.stat.workingset_activate[1]
      for (const c of g.children) {
        walk(c)
        for (let i = 0; i < lv.flushed.length; i++) lv.flushed[i] += c.lruvec.flushed[i]
        lv.flushed_activate[0] += c.lruvec.flushed_activate[0]
        lv.flushed_activate[1] += c.lruvec.flushed_activate[1]
      }
    }
    walk(this.root)
    this.pending.updates = 0
  }

  /** A task enters the kernel: charges go to its group, from its CPU's stock. */
  enter(memcg: MemCgroup | null, cpu: number): void {
    this.active = memcg ?? this.root
    this.cpu = cpu
  }

  // ---- per-CPU charge stock ----

  /** Kernel: consume_stock(). */
  private consume_stock(memcg: MemCgroup, nr_pages: number): boolean {
    if (nr_pages > MEMCG_CHARGE_BATCH) return false
    const s = this.stocks[this.cpu]
    if (s.cached !== memcg || s.nr_pages < nr_pages) return false
    s.nr_pages -= nr_pages
    return true
  }

  /** Kernel: drain_stock(): return a stock's pages to its group's counters. */
  private drain_stock(s: MemcgStock): void {
    const old = s.cached
    if (old && s.nr_pages) {
      old.memory.uncharge(s.nr_pages)
      old.memsw.uncharge(s.nr_pages)
    }
    s.nr_pages = 0
    s.cached = null
  }

  /** Kernel: refill_stock(). */
  private refill_stock(memcg: MemCgroup, nr_pages: number): void {
    const s = this.stocks[this.cpu]
    if (s.cached !== memcg) {
      this.drain_stock(s)
      s.cached = memcg
    }
    s.nr_pages += nr_pages
    if (s.nr_pages > MEMCG_CHARGE_BATCH) this.drain_stock(s)
  }

  /** Kernel: drain_all_stock(): every CPU's stock of `root` or a descendant goes back. */
  drain_all_stock(root: MemCgroup): void {
    for (const s of this.stocks) {
      for (let g = s.cached; g; g = g.parent) {
        if (g === root) {
          this.drain_stock(s)
          break
        }
      }
    }
  }

  /** Pages held in the stocks for `memcg` (they count in its usage). */
  stocked(memcg: MemCgroup): number {
    let n = 0
    for (const s of this.stocks) if (s.cached === memcg) n += s.nr_pages
    return n
  }

  /** Kernel: mem_cgroup_margin(): pages that still fit under the limit. */
  mem_cgroup_margin(memcg: MemCgroup): number {
    const m = memcg.memory.max - memcg.memory.usage
    const s = memcg.memsw.max - memcg.memsw.usage
    return Math.max(0, Math.min(m, s))
  }

  /**
   * Kernel: try_charge_memcg(): charge nr_pages to memcg (reclaiming from
   * the group that is at its limit when gfp allows): 0 or -ENOMEM.
   */
  try_charge(memcg: MemCgroup, gfp: number, nr_pages: number): number {
    if (memcg.is_root) return 0
    let batch = Math.max(MEMCG_CHARGE_BATCH, nr_pages)
    let retries = MAX_RECLAIM_RETRIES
    // Linux loops until the victim is gone; a victim that cannot exit here must not loop forever.
    let oom_rounds = MAX_RECLAIM_RETRIES
    let drained = false
    for (;;) {
      if (this.consume_stock(memcg, nr_pages)) return 0
      let over = memcg.memsw.try_charge(batch)
      if (over === null) {
        over = memcg.memory.try_charge(batch)
        if (over === null) {
          if (batch > nr_pages) this.refill_stock(memcg, batch - nr_pages)
          return 0
        }
        memcg.memsw.uncharge(batch)
      }
      if (batch > nr_pages) {
        batch = nr_pages
        continue
      }
      const over_limit = this.memcg_of_counter(memcg, over)
      if ((gfp & __GFP_DIRECT_RECLAIM) === 0) break
      const reclaimed = this.reclaim ? this.reclaim(over_limit, nr_pages, gfp, true) : 0
      if (this.mem_cgroup_margin(over_limit) >= nr_pages) continue
      if (!drained) {
        this.drain_all_stock(over_limit)
        drained = true
        continue
      }
      if (gfp & __GFP_NORETRY) break
      if (reclaimed && nr_pages <= 1 << PAGE_ALLOC_COSTLY_ORDER) continue
      if (retries-- > 0) continue
      // mem_cgroup_oom(): kill a task of the group; its memory uncharges, so try again.
      if (oom_rounds-- > 0 && this.oom !== null && this.oom(over_limit, gfp)) {
        retries = MAX_RECLAIM_RETRIES
        continue
      }
      break
    }
    if (gfp & __GFP_NOFAIL) {
      memcg.memory.charge(nr_pages)
      memcg.memsw.charge(nr_pages)
      return 0
    }
    return -ENOMEM
  }

  /** The group in memcg's ancestry whose counter refused (mem_cgroup_from_counter()). */
  private memcg_of_counter(memcg: MemCgroup, c: PageCounter): MemCgroup {
    for (let g: MemCgroup | null = memcg; g; g = g.parent) if (g.memory === c || g.memsw === c) return g
    return memcg
  }

  /**
   * Kernel: mem_cgroup_charge() / charge_memcg(): charge a new order-0 folio
   * to `memcg` (the active group when omitted) and commit it: 0 or -ENOMEM.
   */
  mem_cgroup_charge(pfn: number, gfp: number, memcg: MemCgroup = this.active): number {
    const r = this.try_charge(memcg, gfp, 1)
    if (r < 0) return r
    this.pages.memcg_data[pfn] = memcg.id
    memcg.events[MEMCG_PGPGIN]++
    return 0
  }

  /** Kernel: mem_cgroup_uncharge(): the folio is being freed. */
  mem_cgroup_uncharge(pfn: number): void {
    const id = this.pages.memcg_data[pfn]
    if (id === 0) return
    const memcg = this.id_table[id]
    if (!memcg.is_root) {
      memcg.memory.uncharge(1)
      memcg.memsw.uncharge(1)
    }
    memcg.events[MEMCG_PGPGOUT]++
    this.pages.memcg_data[pfn] = 0
  }

  // ---- swap (cgroup v1 memsw accounting: a swapped-out page stays charged to memsw) ----

  /** Kernel: swap_cgroup: the group each swap entry was charged to (entry -> memcg id). */
  readonly swap_cgroup = new Map<number, number>()

  /**
   * Kernel: mem_cgroup_swapout(): the folio leaves memory for swap entry
   * `entry`: its memory charge goes, the entry keeps the memsw charge and
   * counts in the group's swap.
   */
  mem_cgroup_swapout(pfn: number, entry: number): void {
    const id = this.pages.memcg_data[pfn]
    if (id === 0) return
    const memcg = this.by_id.get(id)!
    this.swap_cgroup.set(entry, id)
    if (!memcg.is_root) memcg.memory.uncharge(1)
    memcg.stat[MEMCG_SWAP]++
    memcg.events[MEMCG_PGPGOUT]++
    this.pages.memcg_data[pfn] = 0
  }

  /** Kernel: mem_cgroup_uncharge_swap(): the entry is freed (or its page came back in). */
  mem_cgroup_uncharge_swap(entry: number): void {
    const id = this.swap_cgroup.get(entry)
    if (id === undefined) return
    this.swap_cgroup.delete(entry)
    const memcg = this.by_id.get(id)
    if (!memcg) return
    if (!memcg.is_root) memcg.memsw.uncharge(1)
    memcg.stat[MEMCG_SWAP]--
  }

  /**
   * Kernel: mem_cgroup_swapin_charge_folio() + mem_cgroup_swapin_uncharge_swap():
   * a page read back from swap is charged to the group the entry belonged
   * to (else `fallback`, the faulting mm's), and the entry's own charge ends.
   */
  mem_cgroup_swapin_charge_folio(pfn: number, gfp: number, entry: number, fallback: MemCgroup | null): number {
    const id = this.swap_cgroup.get(entry)
    const owner = id === undefined ? undefined : this.by_id.get(id)
    const memcg = owner && owner.online ? owner : (fallback ?? this.root)
    const r = this.mem_cgroup_charge(pfn, gfp, memcg)
    if (r < 0) return r
    this.mem_cgroup_uncharge_swap(entry)
    return 0
  }

  /** Kernel: __mod_memcg_page_state() / __lruvec_stat_mod_folio()'s memcg half. */
  mod_memcg_page_state(pfn: number, item: number, delta: number): void {
    this.folio_memcg(pfn).stat[item] += delta
  }

  // ---- kernel memory (obj_cgroup) ----

  /** Kernel: obj_cgroup_charge_pages(): kmem pages charged like user pages, counted as kmem. */
  private charge_kmem_pages(memcg: MemCgroup, gfp: number, nr_pages: number): number {
    const r = this.try_charge(memcg, gfp, nr_pages)
    if (r < 0) return r
    memcg.kmem.charge(nr_pages)
    return 0
  }

  private uncharge_kmem_pages(memcg: MemCgroup, nr_pages: number): void {
    memcg.kmem.uncharge(nr_pages)
    if (memcg.is_root) return
    memcg.memory.uncharge(nr_pages)
    memcg.memsw.uncharge(nr_pages)
  }

  /**
   * Kernel: obj_cgroup_uncharge_pages(): whole pages an object stock gives
   * back leave kmem but go to this CPU's charge stock (refill_stock), so the
   * group's usage stays until the stock drains or is used again.
   */
  private obj_cgroup_uncharge_pages(memcg: MemCgroup, nr_pages: number): void {
    if (memcg.is_root) return this.uncharge_kmem_pages(memcg, nr_pages)
    memcg.kmem.uncharge(nr_pages)
    this.refill_stock(memcg, nr_pages)
  }

  /**
   * Kernel: __memcg_kmem_charge_page(): a kernel page (a user page table)
   * charged to the running task's group; the root group pays nothing.
   */
  charge_kmem_page(pfn: number, gfp: number): number {
    const memcg = this.active
    if (memcg.is_root) return 0
    const r = this.charge_kmem_pages(memcg, gfp, 1)
    if (r < 0) return r
    this.pages.memcg_data[pfn] = memcg.id
    return 0
  }

  /** Kernel: __memcg_kmem_uncharge_page(). */
  uncharge_kmem_page(pfn: number): void {
    const id = this.pages.memcg_data[pfn]
    if (id === 0) return
    this.pages.memcg_data[pfn] = 0
    this.uncharge_kmem_pages(this.id_table[id], 1)
  }

  /** Kernel: drain_obj_stock(): whole pages in the object stock go back; the rest stays with the group. */
  private drain_obj_stock(s: MemcgStock): void {
    const old = s.obj_cached
    if (old && s.nr_bytes) {
      const nr_pages = Math.floor(s.nr_bytes / PAGE_SIZE)
      if (nr_pages) this.uncharge_kmem_pages(old, nr_pages)
      // The sub-page rest stays charged to the group (obj_cgroup->nr_charged_bytes).
      old.nr_charged_bytes += s.nr_bytes % PAGE_SIZE
    }
    s.nr_bytes = 0
    s.obj_cached = null
  }

  /** Kernel: refill_obj_stock(). */
  private refill_obj_stock(memcg: MemCgroup, nr_bytes: number, allow_uncharge: boolean): void {
    const s = this.stocks[this.cpu]
    if (s.obj_cached !== memcg) {
      this.drain_obj_stock(s)
      s.obj_cached = memcg
      // Bytes the group left behind when its stock was drained come back with it (obj_cgroup->nr_charged_bytes).
      const left = memcg.nr_charged_bytes
      if (left) {
        memcg.nr_charged_bytes = 0
        nr_bytes += left
        allow_uncharge = true
      }
    }
    s.nr_bytes += nr_bytes
    if (allow_uncharge && s.nr_bytes > PAGE_SIZE) {
      const nr_pages = Math.floor(s.nr_bytes / PAGE_SIZE)
      s.nr_bytes %= PAGE_SIZE
      this.obj_cgroup_uncharge_pages(memcg, nr_pages)
    }
  }

  /** Kernel: obj_cgroup_charge(): size bytes of a slab object charged to memcg; 0 or -ENOMEM. */
  obj_cgroup_charge(memcg: MemCgroup, gfp: number, size: number): number {
    const s = this.stocks[this.cpu]
    if (s.obj_cached === memcg && s.nr_bytes >= size) {
      s.nr_bytes -= size
      return 0
    }
    const nr_pages = Math.ceil(size / PAGE_SIZE)
    const r = this.charge_kmem_pages(memcg, gfp, nr_pages)
    if (r < 0) return r
    const rest = nr_pages * PAGE_SIZE - size
    if (rest) this.refill_obj_stock(memcg, rest, false)
    return 0
  }

  /** Kernel: obj_cgroup_uncharge(). */
  obj_cgroup_uncharge(memcg: MemCgroup, size: number): void {
    this.refill_obj_stock(memcg, size, true)
  }
}
