/**
 * The rows of cost against the number of VMAs (issue 7: cost that stays
 * flat as the work grows), each in the simulator (bench/vma_scale.ts,
 * bench/vma_exit.ts, a fresh process each) and in the real kernel
 * (bench/scale_bench.c), the same address-space layout on both sides:
 *  - mmap+munmap pairs of one anonymous page with 100, 10,000 and 60,000
 *    one-page VMAs already in the process;
 *  - munmap + MAP_FIXED re-mmap of a page in the middle of 60,000 VMAs;
 *  - reads of /proc/<pid>/smaps with 60,000 VMAs;
 *  - exits (exit + wait) of a process with 1,000 and with 30,000 VMAs.
 */
import { run_child, run_real } from './cc.js'
import { put_rate, type Metrics } from './rows.js'

interface VmaRates {
  mmap_munmap_pairs_per_s: number
  mid_remap_pairs_per_s: number
  smaps_reads_per_s: number
}

interface ExitCost {
  exit_cpu_us: number
}

const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n))

export function vma_rows(metrics: Metrics, min_ms = 300): void {
  for (const n of [100, 10000, 60000]) {
    const sim = run_child<VmaRates>('vma_scale.js', [n, min_ms])
    const real = run_real<VmaRates>('scale_bench', ['vmas', n, min_ms])
    put_rate(metrics, `mmap_munmap_at_${k(n)}_vmas`, sim.mmap_munmap_pairs_per_s, real?.mmap_munmap_pairs_per_s)
    if (n !== 60000) continue
    put_rate(metrics, `mid_remap_at_${k(n)}_vmas`, sim.mid_remap_pairs_per_s, real?.mid_remap_pairs_per_s)
    put_rate(metrics, `smaps_read_at_${k(n)}_vmas`, sim.smaps_reads_per_s, real?.smaps_reads_per_s)
  }
  // One exit is one sample: the median of a few (the simulator's after untimed warm-up exits).
  for (const [n, reps] of [
    [1000, 5],
    [30000, 3],
  ]) {
    const sim = run_child<ExitCost>('vma_exit.js', [n, reps])
    const real = run_real<ExitCost>('scale_bench', ['exit', n, reps])
    put_rate(metrics, `exit_${k(n)}_vmas`, 1e6 / sim.exit_cpu_us, real && 1e6 / real.exit_cpu_us)
  }
}
