/**
 * Throttling of tasks that dirty pages (Kernel: mm/page-writeback.c
 * balance_dirty_pages_ratelimited(), balance_dirty_pages(),
 * wb_position_ratio(), pos_ratio_polynom(), wb_max_pause(), wb_min_pause(),
 * dirty_poll_interval(), the bandwidth estimators
 * wb_update_write_bandwidth() / wb_update_dirty_ratelimit() /
 * update_dirty_limit(), and wb_over_bg_thresh()).
 *
 * A writer checks in every nr_dirtied_pause pages. Below the freerun
 * ceiling, (background + dirty threshold) / 2, it goes on (and starts
 * background writeback once past the background threshold). Above it the
 * task is paced: it may dirty at task_ratelimit = dirty_ratelimit *
 * pos_ratio pages per second, where pos_ratio falls along a cubic from 2 at
 * freerun through 1 at the setpoint to 0 at the hard limit, so it pauses
 * (sleeps on the simulated clock: io_schedule_timeout()) long enough to keep
 * that rate, at most 200 ms at a time. During the pause the flusher and the
 * disk's completions run, as they would on the other CPUs.
 *
 * One disk, one bdi_writeback, no memcg writeback domains: the wb's share of
 * the threshold (__wb_calc_thresh(), from its fraction of the writeout
 * completions) is the whole threshold once the wb has completions in the
 * proportion and 0 before, which is what the proportion gives with a single
 * wb (its aging never drops the last event). Counters
 * are exact, so wb_stat_error() is 0; ratelimit_pages' per-CPU backstop is
 * not modelled.
 */
import { type BdiWriteback } from './backing_dev.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { env_dirty_limits, jiffies, mapping_wb, set_page_dirty, wb_start_background_writeback } from './page_writeback.js'
import { NODE_STAT } from './vmstat.js'
import { HZ, NS_PER_JIFFY } from '../include/jiffies.js'

/** MAX_PAUSE: at most 200 ms of sleep at a time. */
const MAX_PAUSE = Math.max(HZ / 5, 1)
/** DIRTY_POLL_THRESH: 128 KiB of pages. */
const DIRTY_POLL_THRESH = 128 >> 2
/** BANDWIDTH_INTERVAL: estimates are refreshed every 200 ms. */
const BANDWIDTH_INTERVAL = Math.max(HZ / 5, 1)
/** RATELIMIT_CALC_SHIFT: pos_ratio is a fixed-point number with 10 fraction bits. */
const RC_SHIFT = 10
const RC_ONE = 1 << RC_SHIFT

/** The dirty throttle state of the task doing the write (on its mm: see MmStruct.dirty_throttle). */
export interface DirtyThrottleTask {
  nr_dirtied: number
  nr_dirtied_pause: number
  dirty_paused_when: number
}

/** struct dirty_throttle_control of the global domain. */
interface Dtc {
  avail: number
  dirty: number
  thresh: number
  bg_thresh: number
  wb_dirty: number
  wb_thresh: number
  wb_bg_thresh: number
  pos_ratio: number
  dirty_exceeded: boolean
}

const ilog2 = (n: number): number => (n >= 1 ? Math.floor(Math.log2(n)) : 0)
const roundup_pow_of_two = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)))
/** `x | 1` for a count that may pass 2^31. */
const or1 = (x: number): number => (x % 2 === 0 ? x + 1 : x)

/** Kernel: dirty_freerun_ceiling(). */
export function dirty_freerun_ceiling(thresh: number, bg_thresh: number): number {
  return Math.floor((thresh + bg_thresh) / 2)
}

/** Kernel: hard_dirty_limit(): the threshold, or the domain's slowly-falling dirty_limit when higher. */
function hard_dirty_limit(wb: BdiWriteback, thresh: number): number {
  return Math.max(thresh, wb.dirty_limit)
}

/** Kernel: dirty_poll_interval(): pages a task may dirty before it checks again, near-sqrt of the headroom. */
export function dirty_poll_interval(dirty: number, thresh: number): number {
  return thresh > dirty ? 2 ** (ilog2(thresh - dirty) >> 1) : 1
}

/** Kernel: __wb_calc_thresh() with one wb: all of `thresh` once the wb has writeout completions, else nothing. */
function wb_calc_thresh(wb: BdiWriteback, thresh: number): number {
  return wb.has_completions ? thresh : 0
}

/** Kernel: domain_dirty_avail() + domain_dirty_limits() of the global domain. */
function global_dtc(env: MmEnv, wb: BdiWriteback, include_writeback: boolean): Dtc {
  const { bg_thresh, thresh } = env_dirty_limits(env)
  let dirty = env.vmstat.node[NODE_STAT.nr_dirty]
  if (include_writeback) dirty += env.vmstat.node[NODE_STAT.nr_writeback]
  const wb_thresh = wb_calc_thresh(wb, thresh)
  return {
    avail: 0,
    dirty,
    thresh,
    bg_thresh,
    wb_dirty: wb.reclaimable + wb.writeback,
    wb_thresh,
    wb_bg_thresh: thresh ? Math.floor((wb_thresh * bg_thresh) / thresh) : 0,
    pos_ratio: 0,
    dirty_exceeded: false,
  }
}

/**
 * Kernel: pos_ratio_polynom(): 1 + ((setpoint - dirty) / (limit - setpoint))^3
 * in RC_SHIFT fixed point, clamped to [0, 2].
 */
export function pos_ratio_polynom(setpoint: number, dirty: number, limit: number): number {
  const x = Math.trunc(((setpoint - dirty) * RC_ONE) / or1(limit - setpoint))
  let pos_ratio = x
  pos_ratio = Math.floor((pos_ratio * x) / RC_ONE)
  pos_ratio = Math.floor((pos_ratio * x) / RC_ONE)
  pos_ratio += RC_ONE
  return Math.min(Math.max(pos_ratio, 0), 2 * RC_ONE)
}

/** Kernel: wb_position_ratio() (no strictlimit): the global control line scaled by the wb's. */
function wb_position_ratio(wb: BdiWriteback, dtc: Dtc): number {
  const write_bw = wb.avg_write_bandwidth
  const freerun = dirty_freerun_ceiling(dtc.thresh, dtc.bg_thresh)
  const limit = hard_dirty_limit(wb, dtc.thresh)
  if (dtc.dirty >= limit) return 0
  const setpoint = Math.floor((freerun + limit) / 2)
  let pos_ratio = pos_ratio_polynom(setpoint, dtc.dirty, limit)
  let wb_thresh = Math.min(dtc.wb_thresh, dtc.thresh)
  // An idle wb is still given a fair threshold so occasional writes are not blocked.
  wb_thresh = Math.max(wb_thresh, Math.floor((limit - dtc.dirty) / 8))
  const x = Math.floor((wb_thresh * 65536) / or1(dtc.thresh))
  const wb_setpoint = Math.floor((setpoint * x) / 65536)
  const span = Math.floor(((dtc.thresh - wb_thresh + 8 * write_bw) * x) / 65536)
  let x_intercept = wb_setpoint + span
  if (dtc.wb_dirty < x_intercept - Math.floor(span / 4)) pos_ratio = Math.floor((pos_ratio * (x_intercept - dtc.wb_dirty)) / or1(x_intercept - wb_setpoint))
  else pos_ratio = Math.floor(pos_ratio / 4)
  // The wb reserve area: a wb far below its share is let go faster, so the disk never idles.
  x_intercept = Math.floor(wb_thresh / 2)
  if (dtc.wb_dirty < x_intercept) {
    if (dtc.wb_dirty > Math.floor(x_intercept / 8)) pos_ratio = Math.floor((pos_ratio * x_intercept) / dtc.wb_dirty)
    else pos_ratio *= 8
  }
  return pos_ratio
}

/** Kernel: wb_update_write_bandwidth(): a smoothed pages-per-second write rate over a ~3 s window. */
function wb_update_write_bandwidth(wb: BdiWriteback, elapsed: number, written: number): void {
  const period = roundup_pow_of_two(3 * HZ)
  let avg = wb.avg_write_bandwidth
  const old = wb.write_bandwidth
  let bw = (written - Math.min(written, wb.written_stamp)) * HZ
  if (elapsed > period) {
    bw = Math.floor(bw / elapsed)
    avg = bw
  } else {
    bw += old * (period - elapsed)
    bw = Math.floor(bw / period)
    if (avg > old && old >= bw) avg -= (avg - old) >> 3
    if (avg < old && old <= bw) avg += (old - avg) >> 3
  }
  wb.write_bandwidth = bw
  wb.avg_write_bandwidth = Math.max(avg, 1)
}

/** Kernel: update_dirty_limit(): follow a rising threshold at once, a falling one slowly (1/32 per step). */
function domain_update_dirty_limit(wb: BdiWriteback, dtc: Dtc, now: number): void {
  if (now < wb.dirty_limit_tstamp + BANDWIDTH_INTERVAL) return
  wb.dirty_limit_tstamp = now
  let limit = wb.dirty_limit
  if (limit < dtc.thresh) {
    wb.dirty_limit = dtc.thresh
    return
  }
  const thresh = Math.max(dtc.thresh, dtc.dirty)
  if (limit > thresh) {
    limit -= (limit - thresh) >> 5
    wb.dirty_limit = limit
  }
}

/** Kernel: wb_update_dirty_ratelimit(): move the base rate toward write_bw / (number of dirtiers), in small filtered steps. */
function wb_update_dirty_ratelimit(wb: BdiWriteback, dtc: Dtc, dirtied: number, elapsed: number): void {
  const freerun = dirty_freerun_ceiling(dtc.thresh, dtc.bg_thresh)
  const limit = hard_dirty_limit(wb, dtc.thresh)
  const setpoint = Math.floor((freerun + limit) / 2)
  const write_bw = wb.avg_write_bandwidth
  let dirty_ratelimit = wb.dirty_ratelimit
  const dirty_rate = Math.floor(((dirtied - wb.dirtied_stamp) * HZ) / elapsed)
  const task_ratelimit = Math.floor((dirty_ratelimit * dtc.pos_ratio) / RC_ONE) + 1
  let balanced = Math.floor((task_ratelimit * write_bw) / or1(dirty_rate))
  if (balanced > write_bw) balanced = write_bw
  let step = 0
  if (dtc.dirty < setpoint) {
    const x = Math.min(wb.balanced_dirty_ratelimit, balanced, task_ratelimit)
    if (dirty_ratelimit < x) step = x - dirty_ratelimit
  } else {
    const x = Math.max(wb.balanced_dirty_ratelimit, balanced, task_ratelimit)
    if (dirty_ratelimit > x) step = dirty_ratelimit - x
  }
  const shift = Math.floor(dirty_ratelimit / (2 * step + 1))
  step = shift < 64 ? Math.ceil(Math.floor(step / 2 ** shift) / 8) : 0
  if (dirty_ratelimit < balanced) dirty_ratelimit += step
  else dirty_ratelimit -= step
  wb.dirty_ratelimit = Math.max(dirty_ratelimit, 1)
  wb.balanced_dirty_ratelimit = balanced
}

/** Kernel: __wb_update_bandwidth(): refresh the estimates from the counts since the last sample. */
export function wb_update_bandwidth(env: MmEnv, wb: BdiWriteback, dtc: Dtc | null = null): void {
  const now = jiffies(env)
  const elapsed = Math.max(now - wb.bw_time_stamp, 1)
  if (dtc) {
    domain_update_dirty_limit(wb, dtc, now)
    wb_update_dirty_ratelimit(wb, dtc, wb.dirtied, elapsed)
  }
  wb_update_write_bandwidth(wb, elapsed, wb.written)
  wb.dirtied_stamp = wb.dirtied
  wb.written_stamp = wb.written
  wb.bw_time_stamp = now
}

/** Kernel: wb_bandwidth_estimate_start(): after a second idle, start the estimate afresh. */
export function wb_bandwidth_estimate_start(env: MmEnv, wb: BdiWriteback): void {
  const now = jiffies(env)
  if (now - wb.bw_time_stamp > HZ && wb.writeback === 0) {
    wb.dirtied_stamp = wb.dirtied
    wb.written_stamp = wb.written
    wb.bw_time_stamp = now
  }
}

/** Kernel: wb_max_pause(): short pauses for a small dirty pool, so the disk does not run dry; at most 200 ms. */
function wb_max_pause(wb: BdiWriteback, wb_dirty: number): number {
  const bw = wb.avg_write_bandwidth
  const t = Math.floor(wb_dirty / (1 + Math.floor(bw / roundup_pow_of_two(1 + Math.floor(HZ / 8))))) + 1
  return Math.min(t, MAX_PAUSE)
}

/** Kernel: wb_min_pause(): the shortest pause worth taking, and how many pages to dirty before the next check. */
function wb_min_pause(wb: BdiWriteback, max_pause: number, task_ratelimit: number, dirty_ratelimit: number): { min_pause: number; nr_dirtied_pause: number } {
  const hi = ilog2(wb.avg_write_bandwidth)
  const lo = ilog2(wb.dirty_ratelimit)
  let t = Math.max(1, Math.floor(HZ / 100))
  if (hi > lo) t += Math.floor(((hi - lo) * 10 * HZ) / 1024)
  t = Math.min(t, 1 + Math.floor(max_pause / 2))
  const hz2 = roundup_pow_of_two(HZ)
  let pages = Math.floor((dirty_ratelimit * t) / hz2)
  if (pages < DIRTY_POLL_THRESH) {
    t = max_pause
    pages = Math.floor((dirty_ratelimit * t) / hz2)
    if (pages > DIRTY_POLL_THRESH) {
      pages = DIRTY_POLL_THRESH
      t = Math.floor((HZ * DIRTY_POLL_THRESH) / dirty_ratelimit)
    }
  }
  const pause = Math.floor((HZ * pages) / (task_ratelimit + 1))
  if (pause > max_pause) {
    t = max_pause
    pages = Math.floor((task_ratelimit * t) / hz2)
  }
  return { min_pause: pages >= DIRTY_POLL_THRESH ? 1 + Math.floor(t / 2) : t, nr_dirtied_pause: pages }
}

/** Kernel: writeback_in_progress(): the flusher is running. */
function writeback_in_progress(wb: BdiWriteback): boolean {
  return wb.running
}

/**
 * Kernel: balance_dirty_pages(): the task dirtied `pages_dirtied` pages
 * since it last checked. Returns the simulated ns it slept.
 */
export function balance_dirty_pages(env: MmEnv, wb: BdiWriteback, task: DirtyThrottleTask, pages_dirtied: number): number {
  const clock = env.clock
  const slept_from = clock.now()
  for (;;) {
    let now = jiffies(env)
    const nr_dirty = env.vmstat.node[NODE_STAT.nr_dirty]
    const dtc = global_dtc(env, wb, true)
    if (nr_dirty > dtc.bg_thresh && !writeback_in_progress(wb)) wb_start_background_writeback(env, wb)
    if (dtc.dirty <= dirty_freerun_ceiling(dtc.thresh, dtc.bg_thresh)) {
      task.dirty_paused_when = now
      task.nr_dirtied = 0
      task.nr_dirtied_pause = dirty_poll_interval(dtc.dirty, dtc.thresh)
      break
    }
    dtc.dirty_exceeded = dtc.wb_dirty > dtc.wb_thresh && dtc.dirty > dtc.thresh
    dtc.pos_ratio = wb_position_ratio(wb, dtc)
    wb.dirty_exceeded = dtc.dirty_exceeded
    if (wb.bw_time_stamp + BANDWIDTH_INTERVAL < now) wb_update_bandwidth(env, wb, dtc)
    const dirty_ratelimit = wb.dirty_ratelimit
    const task_ratelimit = Math.floor((dirty_ratelimit * dtc.pos_ratio) / RC_ONE)
    const max_pause = wb_max_pause(wb, dtc.wb_dirty)
    const { min_pause, nr_dirtied_pause } = wb_min_pause(wb, max_pause, task_ratelimit, dirty_ratelimit)
    let pause: number
    if (task_ratelimit === 0) {
      pause = max_pause
    } else {
      const period = Math.floor((HZ * pages_dirtied) / task_ratelimit)
      pause = period
      if (task.dirty_paused_when) pause -= now - task.dirty_paused_when
      if (pause < min_pause) {
        // A short pause is owed to the future: the virtual time moves on instead.
        if (pause < -HZ) {
          task.dirty_paused_when = now
          task.nr_dirtied = 0
        } else if (period) {
          task.dirty_paused_when += period
          task.nr_dirtied = 0
        } else if (task.nr_dirtied_pause <= pages_dirtied) task.nr_dirtied_pause += pages_dirtied
        break
      }
      if (pause > max_pause) {
        now += Math.min(pause - max_pause, max_pause)
        pause = max_pause
      }
    }
    if (env.trace.enabled) {
      // trace_balance_dirty_pages(): rates in KB/s, times in ms.
      const p = pause
      const limit = hard_dirty_limit(wb, dtc.thresh)
      const setpoint = Math.floor((limit + dirty_freerun_ceiling(dtc.thresh, dtc.bg_thresh)) / 2)
      const j = jiffies(env)
      const think = task.dirty_paused_when ? j - task.dirty_paused_when : 0
      env.trace.emit('balance_dirty_pages', () => `bdi 254:0: limit=${limit} setpoint=${setpoint} dirty=${dtc.dirty} wb_setpoint=${Math.floor((setpoint * dtc.wb_thresh) / (dtc.thresh + 1))} wb_dirty=${dtc.wb_dirty} dirty_ratelimit=${dirty_ratelimit * 4} task_ratelimit=${task_ratelimit * 4} dirtied=${pages_dirtied} dirtied_pause=${task.nr_dirtied_pause} paused=${Math.floor((clock.now() - slept_from) / NS_PER_JIFFY)} pause=${p} period=${task_ratelimit ? Math.floor((HZ * pages_dirtied) / task_ratelimit) : p} think=${think} cgroup_ino=1`)
    }
    // io_schedule_timeout(pause): the task sleeps; the flusher and the disk's completions run meanwhile.
    const inflight = wb.inflight.length
    clock.sleep_until(clock.now() + pause * NS_PER_JIFFY)
    task.dirty_paused_when = now + pause
    task.nr_dirtied = 0
    task.nr_dirtied_pause = nr_dirtied_pause
    if (task_ratelimit) break
    // The kernel waits on here until writeback brings the pages down (or a fatal signal):
    // stop when nothing is left that could ever complete.
    if (dtc.wb_dirty <= 0 || (inflight === 0 && wb.inflight.length === 0 && !wb.dwork && wb.reclaimable === 0)) break
  }
  return clock.now() - slept_from
}

/**
 * Kernel: balance_dirty_pages_ratelimited(): the task just dirtied pages
 * of `mapping` (counted in task.nr_dirtied); every nr_dirtied_pause of them
 * (8 when the wb is over its limit) it balances. The ns it slept.
 */
export function balance_dirty_pages_ratelimited(env: MmEnv, mapping: AddressSpace, task: DirtyThrottleTask): number {
  const wb = mapping_wb(mapping)
  if (!wb) return 0
  let ratelimit = task.nr_dirtied_pause
  if (wb.dirty_exceeded) ratelimit = Math.min(ratelimit, 32 >> 2)
  if (task.nr_dirtied < ratelimit) return 0
  return balance_dirty_pages(env, wb, task, task.nr_dirtied)
}

/**
 * Kernel: wb_over_bg_thresh(): should background writeback go on? Dirty
 * pages (not those already under writeback) above the background
 * threshold, globally or over the wb's share of it.
 */
export function wb_over_bg_thresh(env: MmEnv, wb: BdiWriteback): boolean {
  const dtc = global_dtc(env, wb, false)
  if (dtc.dirty > dtc.bg_thresh) return true
  return wb.reclaimable > wb_calc_thresh(wb, dtc.bg_thresh)
}

/**
 * Kernel: fault_dirty_shared_page(): a write fault on a shared file mapping
 * dirtied `pfn`; the faulting task balances as a writer does (after the
 * fault has mapped the page, as the kernel does once the page is unlocked).
 */
export function fault_dirty_shared_page(env: MmEnv, task: DirtyThrottleTask, pfn: number): void {
  if (!set_page_dirty(env, pfn)) return
  const mapping = env.mappings.get(env.pages.mapping[pfn])
  if (!mapping || !mapping_wb(mapping)) return
  task.nr_dirtied++
  balance_dirty_pages_ratelimited(env, mapping, task)
}
