/**
 * Reclaim waiting for the flusher (Kernel: mm/vmscan.c reclaim_throttle()
 * with VMSCAN_THROTTLE_WRITEBACK, __acct_reclaim_writeback()).
 *
 * Reclaim does not write file folios: a scan whose every folio was dirty
 * and not yet queued for I/O wakes the flusher and, for cgroup v1 reclaim
 * (no dirty throttling of its own), sleeps on the node until the flusher's
 * writes have made progress: more than SWAP_CLUSTER_MAX pages per throttled
 * reclaimer written since the first went to sleep, or HZ/10. The sleep is
 * simulated time: the clock's timers (the flusher, write completions) run
 * in it, each at its own expiry, and the wait ends at the completion that
 * crosses the threshold.
 */
import type { MmEnv } from './mm_types.js'
import { SWAP_CLUSTER_MAX } from './swap.js'
import { NODE_STAT } from './vmstat.js'
import { HZ, NS_PER_JIFFY } from '../include/jiffies.js'

/** HZ/10, in ns: the writeback throttle's timeout. */
const WRITEBACK_TIMEOUT_NS = (HZ / 10) * NS_PER_JIFFY

/** Kernel: acct_reclaim_writeback(): a folio's write ended; counted while a reclaimer is throttled on writeback. */
export function acct_reclaim_writeback(env: MmEnv, nr_pages: number): void {
  if (env.kswapd.nr_writeback_throttled > 0) env.vmstat.mod_node_page_state(NODE_STAT.nr_throttled_written, nr_pages)
}

/** Kernel: reclaim_throttle(pgdat, VMSCAN_THROTTLE_WRITEBACK). */
export function reclaim_throttle_writeback(env: MmEnv): void {
  const node = env.kswapd
  const clock = env.clock
  const vm = env.vmstat
  if (node.nr_writeback_throttled++ === 0) node.nr_reclaim_start = vm.node_page_state(NODE_STAT.nr_throttled_written)
  const start = clock.now()
  const deadline = start + WRITEBACK_TIMEOUT_NS
  const written = (): number => vm.node_page_state(NODE_STAT.nr_throttled_written) - node.nr_reclaim_start
  try {
    while (written() <= SWAP_CLUSTER_MAX * node.nr_writeback_throttled) {
      const next = clock.next_expiry
      if (next > deadline) {
        clock.sleep_until(deadline)
        break
      }
      clock.sleep_until(Math.max(next, clock.now()))
    }
  } finally {
    node.nr_writeback_throttled--
  }
  if (env.trace.enabled) {
    const delayed = Math.round((clock.now() - start) / 1000)
    env.trace.emit('mm_vmscan_throttled', () => `nid=0 usec_timeout=${WRITEBACK_TIMEOUT_NS / 1000} usect_delayed=${delayed} reason=VMSCAN_THROTTLE_WRITEBACK`)
  }
}
