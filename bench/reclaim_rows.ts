/**
 * Issue 8's full-system reclaim rows: pages reclaimed per CPU second
 * (bench/reclaim_child.ts in a fresh process) under a streaming file read
 * through a memory cgroup smaller than the file, beside the real kernel
 * doing the same (bench/reclaim_bench.c: it needs root and the cgroup v1
 * memory controller, else the real side is left out); and under anonymous
 * pressure with zram swap, simulator only (the real side would need swap
 * on this shared host, which stays off).
 */
import { run_child, run_real } from './cc.js'
import { put_rate, type Metrics } from './rows.js'

interface Reclaim {
  pages_reclaimed: number
  swapped_out?: number
  pages_per_s: number
}

export function reclaim_rows(metrics: Metrics): void {
  const sim = run_child<Reclaim>('reclaim_child.js', ['stream', 128, 32, 3])
  const real = run_real<Reclaim>('reclaim_bench', [128, 32, 3])
  put_rate(metrics, 'reclaim_stream_pages', sim.pages_per_s, real?.pages_per_s)
  metrics.sim_reclaim_stream_pages = sim.pages_reclaimed
  if (real) metrics.real_reclaim_stream_pages = real.pages_reclaimed
  const anon = run_child<Reclaim>('reclaim_child.js', ['anon', 96, 32, 2])
  put_rate(metrics, 'reclaim_anon_swap_pages', anon.pages_per_s, null)
  metrics.sim_reclaim_anon_swapped_out = anon.swapped_out ?? 0
}
