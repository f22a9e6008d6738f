/**
 * kswapd, the node's background reclaim thread (Kernel: mm/vmscan.c
 * wakeup_kswapd(), kswapd(), kswapd_try_to_sleep(), prepare_kswapd_sleep(),
 * pgdat_balanced(), balance_pgdat(), kswapd_shrink_node()).
 *
 * An allocation that finds a zone below its low watermark wakes kswapd and
 * goes on with the min watermark; kswapd reclaims until some eligible zone
 * is above its high watermark again (plus any watermark boost a
 * fragmenting fallback added), then naps for HZ/10 and, if nothing woke it
 * and the node is still balanced, sleeps until the next wakeup.
 *
 * kswapd runs on a CPU of its own beside the task that woke it. mmsim has
 * one thread of control, so the thread's steps are clock timers: a wakeup
 * schedules its run for the next safe point (the return to user mode of the
 * current system call or fault). A run takes time on kswapd's CPU
 * (COST_NS.reclaim_scan_page for each page it looked at), not on the task's:
 * its nap, or its next run when the node is still not balanced, begins when
 * that time has passed on the clock, so a kswapd that cannot balance the
 * node runs as often as its CPU allows and never starves the task that woke
 * it. There is no kswapd0 task in the process list: pids stay those of a
 * machine without kernel threads.
 */
import { COST_NS, type Clock, type Timer } from '../hw/clock.js'
import { __GFP_DIRECT_RECLAIM, GFP_KERNEL } from './gfp.js'
import { LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, WORKINGSET_ANON, WORKINGSET_FILE } from './lruvec.js'
import { MAX_RECLAIM_RETRIES } from './memcontrol.js'
import type { KswapdState, MmEnv } from './mm_types.js'
import { ZONE_RECLAIM_ACTIVE, type Zone } from './mmzone.js'
import { SWAP_CLUSTER_MAX } from './swap.js'
import { KSWAPD_HIGH_WMARK_HIT_QUICKLY, KSWAPD_LOW_WMARK_HIT_QUICKLY, PAGEOUTRUN } from './vm_event_item.js'
import { DEF_PRIORITY, type NodeState, type ScanControl, inactive_is_low, scan_control, shrink_active_list, shrink_node } from './vmscan.js'
import { HZ, NS_PER_JIFFY } from '../include/jiffies.js'

/** The node's zones and the allocator's watermark test, as kswapd reads them. */
export interface KswapdNode extends NodeState {
  readonly zones: readonly Zone[]
  /** Kernel: zone_watermark_ok_safe(). */
  zone_watermark_ok(z: Zone, order: number, mark: number, highest_zoneidx: number, alloc_flags: number): boolean
}

/** MAX_NR_ZONES as kswapd_highest_zoneidx: no request pending. */
const NO_ZONE = -1
/** HZ/10: kswapd's nap before it sleeps for good. */
const KSWAPD_NAP_NS = (HZ / 10) * NS_PER_JIFFY

/** Kernel: managed_zone(). */
const managed_zone = (z: Zone): boolean => z.managed_pages > 0

/** What the thread is doing: on the wait queue (asleep or napping), woken, or running. */
type KswapdTask = 'sleeping' | 'napping' | 'woken'

export class Kswapd implements KswapdState {
  kswapd_failures = 0
  nr_writeback_throttled = 0
  nr_reclaim_start = 0
  /** pgdat->kswapd_order / kswapd_highest_zoneidx: the largest request since kswapd last looked. */
  kswapd_order = 0
  kswapd_highest_zoneidx = NO_ZONE
  /** The zone index kswapd last balanced for (its local highest_zoneidx). */
  private highest_zoneidx: number
  private task: KswapdTask = 'sleeping'
  private timer: Timer | null = null
  /** Runs of balance_pgdat() (for tests and `why`). */
  runs = 0
  /** LRU pages balance_pgdat() has looked at, all runs together. */
  scanned = 0

  /** The node's mm environment: set once at boot (the env holds this kswapd too). */
  private env!: MmEnv

  constructor(
    /** The node it balances; direct reclaim reads the same one (try_to_free_pages). */
    readonly node: KswapdNode,
    private readonly clock: Clock,
  ) {
    this.highest_zoneidx = node.zones.length - 1
  }

  attach(env: MmEnv): void {
    this.env = env
  }

  /** Kernel: wakeup_kswapd(): an allocation found `zone` below its low watermark (or boosted). */
  wakeup(zone: Zone, gfp: number, order: number, highest_zoneidx: number): void {
    if (!managed_zone(zone)) return
    if (this.kswapd_highest_zoneidx === NO_ZONE || this.kswapd_highest_zoneidx < highest_zoneidx) this.kswapd_highest_zoneidx = highest_zoneidx
    if (this.kswapd_order < order) this.kswapd_order = order
    // waitqueue_active(): a running kswapd will see the request when it looks again.
    if (this.task === 'woken') return
    // A hopeless node is left to direct reclaim; a balanced one needs nothing.
    if (this.kswapd_failures >= MAX_RECLAIM_RETRIES || (this.pgdat_balanced(order, highest_zoneidx) && !this.pgdat_watermark_boosted(highest_zoneidx))) return
    const trace = this.env.trace
    if (trace.enabled) trace.emit('mm_vmscan_wakeup_kswapd', () => `nid=0 order=${order} gfp_flags=0x${(gfp >>> 0).toString(16)}${gfp & __GFP_DIRECT_RECLAIM ? '' : ' (atomic)'}`)
    const napping = this.task === 'napping'
    this.cancel_timer()
    this.task = 'woken'
    // Woken in its nap: the nap was cut short (kswapd_low_wmark_hit_quickly).
    this.schedule(this.clock.now(), () => this.kswapd(napping))
  }

  /**
   * Kernel: kswapd()'s loop body after a wakeup: take the pending request,
   * balance the node, then kswapd_try_to_sleep(). `nap_cut` when the wakeup
   * ended its HZ/10 nap early.
   */
  private kswapd(nap_cut: boolean): void {
    if (nap_cut) this.env.vmstat.count_vm_event(KSWAPD_LOW_WMARK_HIT_QUICKLY)
    const alloc_order = this.kswapd_order
    this.highest_zoneidx = this.pending_zoneidx()
    this.kswapd_order = 0
    this.kswapd_highest_zoneidx = NO_ZONE
    const trace = this.env.trace
    if (trace.enabled) trace.emit('mm_vmscan_kswapd_wake', () => `nid=0 order=${alloc_order}`)
    const scanned = this.scanned
    const reclaim_order = this.balance_pgdat(alloc_order, this.highest_zoneidx)
    // kswapd's CPU is busy for the pages it looked at (at least a nanosecond: time must move).
    const done = this.clock.now() + Math.max(1, (this.scanned - scanned) * COST_NS.reclaim_scan_page)
    // Asked for an order it gave up on: sleep judged by the order it reached.
    if (this.try_to_sleep(Math.min(reclaim_order, alloc_order), done)) return
    // Not balanced after balance_pgdat(): straight round again, once its CPU is free.
    this.env.vmstat.count_vm_event(KSWAPD_HIGH_WMARK_HIT_QUICKLY)
    this.task = 'woken'
    this.schedule(done, () => this.kswapd(false))
  }

  /**
   * Kernel: kswapd_try_to_sleep(), its first half: a balanced (or hopeless)
   * node lets kswapd nap for HZ/10 on the wait queue. False when kswapd must
   * go on reclaiming.
   */
  private try_to_sleep(reclaim_order: number, from: number): boolean {
    if (!this.prepare_kswapd_sleep(reclaim_order, this.highest_zoneidx)) return false
    this.task = 'napping'
    this.schedule(from + KSWAPD_NAP_NS, () => this.nap_over(reclaim_order))
    return true
  }

  /** The nap ran out without a wakeup: sleep for good if the node is still balanced. */
  private nap_over(reclaim_order: number): void {
    this.timer = null
    if (this.prepare_kswapd_sleep(reclaim_order, this.highest_zoneidx)) {
      this.task = 'sleeping'
      return
    }
    this.env.vmstat.count_vm_event(KSWAPD_HIGH_WMARK_HIT_QUICKLY)
    this.task = 'woken'
    this.kswapd(false)
  }

  /** Kernel: kswapd_highest_zoneidx(). */
  private pending_zoneidx(): number {
    return this.kswapd_highest_zoneidx === NO_ZONE ? this.highest_zoneidx : this.kswapd_highest_zoneidx
  }

  /** Kernel: prepare_kswapd_sleep(). */
  private prepare_kswapd_sleep(order: number, highest_zoneidx: number): boolean {
    return this.kswapd_failures >= MAX_RECLAIM_RETRIES || this.pgdat_balanced(order, highest_zoneidx)
  }

  /** Kernel: pgdat_balanced(): some eligible zone is above its high watermark for `order`. */
  pgdat_balanced(order: number, highest_zoneidx: number): boolean {
    let managed = false
    for (const z of this.node.zones) {
      if (z.idx > highest_zoneidx || !managed_zone(z)) continue
      managed = true
      if (this.node.zone_watermark_ok(z, order, z.high_wmark_pages(), highest_zoneidx, 0)) return true
    }
    return !managed
  }

  /** Kernel: pgdat_watermark_boosted(). */
  private pgdat_watermark_boosted(highest_zoneidx: number): boolean {
    return this.node.zones.some((z) => z.idx <= highest_zoneidx && managed_zone(z) && z.watermark_boost !== 0)
  }

  /**
   * Kernel: balance_pgdat(): reclaim from the node until a zone up to
   * highest_zoneidx is balanced, raising the priority while passes fall
   * short. A boost is paid off first without writeback or swap; if the node
   * is not balanced even so, the boost is dropped and real reclaim begins.
   * Returns the order reclaim ended at.
   */
  private balance_pgdat(order: number, highest_zoneidx: number): number {
    const env = this.env
    this.runs++
    env.vmstat.count_vm_event(PAGEOUTRUN)
    const eligible = this.node.zones.filter((z) => z.idx <= highest_zoneidx && managed_zone(z))
    const zone_boosts = eligible.map((z) => z.watermark_boost)
    let nr_boost_reclaim = zone_boosts.reduce((a, b) => a + b, 0)
    const boosted = nr_boost_reclaim !== 0
    const sc = scan_control(null, 0, GFP_KERNEL, true, this.node)
    sc.kswapd = true
    let sc_order = order
    // set_reclaim_active(): the per-CPU lists keep less while reclaim runs (nr_pcp_high()).
    for (const z of eligible) z.flags |= ZONE_RECLAIM_ACTIVE
    restart: for (;;) {
      sc.priority = DEF_PRIORITY
      do {
        const nr_reclaimed = sc.nr_reclaimed
        let raise_priority = true
        const balanced = this.pgdat_balanced(sc_order, highest_zoneidx)
        if (!balanced && nr_boost_reclaim) {
          nr_boost_reclaim = 0
          continue restart
        }
        if (!nr_boost_reclaim && balanced) break restart
        // Boost reclaim stops raising the priority early: it must not end up writing.
        if (nr_boost_reclaim && sc.priority === DEF_PRIORITY - 2) raise_priority = false
        sc.may_writepage = !nr_boost_reclaim
        sc.may_swap = !nr_boost_reclaim
        this.age_active_anon(sc)
        if (sc.priority < DEF_PRIORITY - 2) sc.may_writepage = true
        sc.nr_scanned = 0
        // kswapd_shrink_node(): aim for every eligible zone's high watermark.
        sc.nr_to_reclaim = eligible.reduce((n, z) => n + Math.max(z.high_wmark_pages(), SWAP_CLUSTER_MAX), 0)
        shrink_node(env, sc)
        this.scanned += sc.nr_scanned
        // compact_gap(): enough freed for compaction to build the block; go on at order 0.
        if (sc_order && sc.nr_reclaimed >= 2 << sc_order) sc_order = 0
        if (sc.nr_scanned >= sc.nr_to_reclaim) raise_priority = false
        const freed = sc.nr_reclaimed - nr_reclaimed
        nr_boost_reclaim -= Math.min(nr_boost_reclaim, freed)
        // A boost that frees nothing gives up: it may not write or swap to make progress.
        if (nr_boost_reclaim && !freed) break
        if (raise_priority || !freed) sc.priority--
      } while (sc.priority >= 1)
      if (!sc.nr_reclaimed) this.kswapd_failures++
      break
    }
    for (const z of eligible) z.flags &= ~ZONE_RECLAIM_ACTIVE
    if (boosted) eligible.forEach((z, i) => (z.watermark_boost -= Math.min(z.watermark_boost, zone_boosts[i])))
    // snapshot_refaults(): the root's refault counts as reclaim last saw them.
    const root = env.memcg.root.lruvec
    root.refaults[WORKINGSET_ANON] = root.flushed_activate[WORKINGSET_ANON]
    root.refaults[WORKINGSET_FILE] = root.flushed_activate[WORKINGSET_FILE]
    return sc_order
  }

  /** Kernel: age_active_anon(): keep the inactive anon list from running short, in every group. */
  private age_active_anon(sc: ScanControl): void {
    const env = this.env
    // can_age_anon_pages(): aging anon is worth it only with swap to send it to.
    if (env.swap.total_swap_pages === 0) return
    if (!inactive_is_low(env.memcg.root.lruvec, LRU_INACTIVE_ANON)) return
    for (const memcg of env.memcg.root.subtree()) shrink_active_list(env, SWAP_CLUSTER_MAX, memcg.lruvec, sc, LRU_ACTIVE_ANON)
  }

  private schedule(at: number, fn: () => void): void {
    this.cancel_timer()
    this.timer = this.clock.add_timer(at, () => {
      this.timer = null
      fn()
    })
  }

  private cancel_timer(): void {
    if (this.timer) this.clock.del_timer(this.timer)
    this.timer = null
  }
}
