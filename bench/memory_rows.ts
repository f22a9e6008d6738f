/**
 * The rows of cost against resident memory, each in the simulator (a fresh
 * process each: bench/cold_faults.ts, bench/fork_cow.ts) and in the real
 * kernel (bench/scale_bench.c):
 *  - cold anonymous write faults over the first 256 MiB and over 2 GiB of a
 *    fresh machine, and at 8 GiB resident in a 64 GiB machine (the median
 *    of the four 64 MiB windows ending there); that cost against the same
 *    median at 256 MiB, on each side (issue 7's goal for the simulator:
 *    within 1.3x);
 *  - fork at 1 GiB resident, then a COW write by the child to every page;
 *  - memory per resident page: the simulator's host RSS against the real
 *    kernel's VmRSS + VmPTE (the ratio real / sim: higher is better here too).
 * The 8 GiB rows need about 9 GiB of host memory each (the simulator keeps
 * every simulated page's bytes), so they run only when the host has 12 GiB
 * available, and never both at once.
 */
import { run_child, run_real } from './cc.js'
import { mem_available_gib, put_rate, sig, type Metrics } from './rows.js'

interface Window {
  us_per_fault: number
  cum_us_per_fault: number
  med_us_per_fault: number
  gc_us_per_fault?: number
}

interface ColdSim {
  windows: Record<string, Window>
  host_bytes_per_page: number
}

interface ColdReal {
  windows: Record<string, Window>
  bytes_per_page: number
}

interface ForkCow {
  pages: number
  fork_cow_cpu_us: number
}

const BIG_ROW_GIB = 12

export function memory_rows(metrics: Metrics): void {
  const sim = run_child<ColdSim>('cold_faults.js', ['16G', 2048])
  const real = run_real<ColdReal>('scale_bench', ['cold', 2048, 64])
  const [small, large] = [sim.windows['256MiB'], sim.windows['2048MiB']]
  metrics.cold_fault_cpu_us_at_256M = small.us_per_fault
  metrics.cold_fault_cpu_us_at_2G = large.us_per_fault
  metrics.cold_fault_2G_vs_256M = sig(large.us_per_fault / small.us_per_fault)
  metrics.cold_fault_gc_us_at_2G = large.gc_us_per_fault ?? 0
  put_rate(metrics, 'cold_faults_over_256M', 1e6 / small.cum_us_per_fault, real && 1e6 / real.windows['256MiB'].cum_us_per_fault)
  put_rate(metrics, 'cold_faults_over_2G', 1e6 / large.cum_us_per_fault, real && 1e6 / real.windows['2048MiB'].cum_us_per_fault)

  metrics.cold_fault_host_bytes_per_page = sim.host_bytes_per_page
  if (real) {
    metrics.real_bytes_per_resident_page = sig(real.bytes_per_page)
    metrics.page_bytes_real_vs_sim = sig(real.bytes_per_page / sim.host_bytes_per_page)
  }

  if (mem_available_gib() >= BIG_ROW_GIB) {
    const sim8 = run_child<ColdSim>('cold_faults.js', ['64G', 8192])
    const real8 = mem_available_gib() >= BIG_ROW_GIB ? run_real<ColdReal>('scale_bench', ['cold', 8192, 64]) : null
    const growth = (w: Record<string, Window>): number => w['8192MiB'].med_us_per_fault / w['256MiB'].med_us_per_fault
    put_rate(metrics, 'cold_faults_at_8G', 1e6 / sim8.windows['8192MiB'].med_us_per_fault, real8 && 1e6 / real8.windows['8192MiB'].med_us_per_fault)
    metrics.sim_cold_fault_8G_vs_256M = sig(growth(sim8.windows))
    if (real8) metrics.real_cold_fault_8G_vs_256M = sig(growth(real8.windows))
    metrics.cold_fault_host_bytes_per_page_at_8G = sim8.host_bytes_per_page
  }

  const fc = run_child<ForkCow>('fork_cow.js', [1024, 3])
  const fc_real = run_real<ForkCow>('scale_bench', ['forkcow', 1024, 3])
  const pages_per_s = (r: ForkCow): number => (r.pages / r.fork_cow_cpu_us) * 1e6
  put_rate(metrics, 'fork_cow_at_1G', pages_per_s(fc), fc_real && pages_per_s(fc_real), '_pages_per_s')
}
