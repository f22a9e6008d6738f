/**
 * How the bench runner's rows are recorded: one flat metrics object, each
 * simulator rate next to the real kernel's rate measured in the same run
 * and their ratio (sim / real: higher is better, 1 is the real kernel's
 * speed on this machine).
 */
import { readFileSync } from 'node:fs'

export type Metrics = Record<string, number>

/** Four significant digits: rates run from 0.5/s (smaps at 60,000 VMAs) to millions. */
export function sig(x: number): number {
  return Number(x.toPrecision(4))
}

/**
 * sim_<name><unit>, real_<name><unit> and <name>_sim_vs_real; the real
 * rate and the ratio only when the real kernel was measured (no C
 * compiler, or a row skipped for lack of memory, leaves them out).
 */
export function put_rate(metrics: Metrics, name: string, sim: number, real: number | null | undefined, unit = '_per_s'): void {
  metrics[`sim_${name}${unit}`] = sig(sim)
  if (real == null) return
  metrics[`real_${name}${unit}`] = sig(real)
  metrics[`${name}_sim_vs_real`] = sig(sim / real)
}

/** MemAvailable of the host, in GiB: the 8 GiB rows run only when it leaves room for other jobs. */
export function mem_available_gib(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))
  return m ? Number(m[1]) / 1048576 : 0
}
