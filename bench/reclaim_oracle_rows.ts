/**
 * The reclaim oracle's scenarios as a reclaim rate, simulator beside the
 * real kernel (bench/reclaim_oracle_child.ts in a fresh process): pgsteal
 * per second of wall time per scenario, and the wall time per scenario on
 * both sides. The real kernel's times were recorded with the scenarios
 * (roracle, majority of 3 runs; test/fixtures/reclaim/wall_times.json).
 */
import { run_child } from './cc.js'
import { put_rate, type Metrics } from './rows.js'

interface OracleRate {
  scenarios: number
  sim_pages: number
  sim_wall_s: number
  sim_pages_per_s: number
  timed: number
  real_pages: number
  real_wall_s: number
  real_pages_per_s: number | null
  sim_wall_s_of_timed: number
}

/** The rows; returns notes on what was left out. */
export function reclaim_oracle_rows(metrics: Metrics): string[] {
  const r = run_child<OracleRate>('reclaim_oracle_child.js', [])
  put_rate(metrics, 'reclaim_oracle_pgsteal', r.sim_pages_per_s, r.real_pages_per_s)
  metrics.sim_reclaim_oracle_ms_per_scenario = Number(((r.sim_wall_s / r.scenarios) * 1000).toFixed(1))
  if (r.timed) {
    metrics.real_reclaim_oracle_ms_per_scenario = Number(((r.real_wall_s / r.timed) * 1000).toFixed(1))
    metrics.reclaim_oracle_scenario_time_sim_vs_real = Number((r.real_wall_s / r.sim_wall_s_of_timed).toFixed(3))
  }
  metrics.reclaim_oracle_scenarios = r.scenarios
  return r.timed < r.scenarios ? [`reclaim oracle rate: ${r.scenarios - r.timed} of ${r.scenarios} scenarios have no recorded real wall time`] : []
}
