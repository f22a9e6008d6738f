/**
 * `npm run bench`: the numbers the issues name, each next to a reference
 * measured in the same run. `npm run bench --json` (npm's JSON mode, which
 * sends npm's own "> mmsim bench" banner to stderr) or
 * `npm run -s bench -- --json` print one JSON object and nothing else on
 * stdout. `--only boot,page_alloc,slab,vmalloc,addrspace,memory,vma,trace`
 * runs those groups of rows only. `--quick` times the page_alloc, slab,
 * vmalloc and vma rows over a tenth of their usual windows: a smoke run that
 * proves the bench and its output in a second or two, with noisier numbers.
 *
 *  - boot time and host RSS for 1 GiB, 16 GiB and 64 GiB machines (each in
 *    its own process);
 *  - order-0 alloc_pages+__free_pages pairs per second, against a plain
 *    Int32Array free-stack doing the same number of pairs (the fastest a JS
 *    allocator could be: the ratio is the price of being Linux's buddy);
 *  - kmalloc(64)+kfree pairs per second;
 *  - simulated anonymous write faults, mmap+munmap pairs and TLB-hit loads
 *    per second, next to the real kernel's rates from bench/fault_bench.c;
 *  - CPU time per cold anonymous fault at 2 GiB resident against 256 MiB,
 *    host bytes per resident page (bench/cold_faults.ts, its own process).
 *
 * Then the rows of issue 7 (cost that stays flat as the work grows), each
 * as sim_*, real_* and *_sim_vs_real (higher is better), CPU time on both
 * sides, the real kernel's from our bench/scale_bench.c in the same run:
 * mmap+munmap pairs with 100 / 10k / 60k VMAs, mid-space munmap + MAP_FIXED
 * re-mmap and /proc/<pid>/smaps reads with 60k VMAs, exit with 1k and 30k
 * VMAs (bench/vma_rows.ts); cold write faults over 256 MiB and over 2 GiB,
 * in the window at 8 GiB resident of a 64 GiB machine (and its cost against
 * the 256 MiB window's: goal within 1.3x; skipped when the host lacks
 * 12 GiB available), fork + COW-write of every page at 1 GiB resident, and
 * bytes per resident page (bench/memory_rows.ts). Each heavy row runs in
 * its own process, and slow rows are time-bounded (bench/cpu.ts).
 *
 * Then issue 8's reclaim rows (bench/reclaim_rows.ts): pages reclaimed per
 * CPU second under a streaming read through a memory cgroup smaller than
 * the file and under anonymous pressure with zram swap, each beside the real
 * kernel (bench/reclaim_bench.c, root and cgroup v1 only; the anonymous one
 * switches zram swap on for its run only, with the reclaim oracle's
 * setup.sh), and pgsteal per second of wall time on the reclaim oracle's
 * recorded scenarios beside the recorded real times.
 *
 * Then issue 8's trace rows (bench/trace.ts): references per second of
 * `mmsim trace`'s lru, fifo, clock and opt and their ratio to the lru-cache
 * package on the same key stream and capacity (LRU misses asserted equal),
 * and the LRU and OPT miss-ratio curves' references per second; with
 * LIBCACHESIM_CACHESIM naming libCacheSim's cachesim binary, `mmsim trace`
 * beside cachesim on the same oracleGeneral file (bench/libcachesim.ts).
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
// The simulator and each group's module load after the arguments are checked, and a group's
// module only when it runs: a usage error or `--only slab` does not load the trace readers,
// the oracle and the rest (~0.3 s of CPU).

// --json, or npm's own JSON mode (`npm run bench --json` exports npm_config_json).
const json = process.argv.includes('--json') || process.env.npm_config_json === 'true'
const GROUPS = ['boot', 'page_alloc', 'slab', 'vmalloc', 'addrspace', 'memory', 'vma', 'reclaim', 'trace'] as const
const only_arg = process.argv.indexOf('--only')
const only = only_arg >= 0 ? (process.argv[only_arg + 1] ?? '').split(',') : [...GROUPS]
for (const g of only) {
  if (!(GROUPS as readonly string[]).includes(g)) {
    process.stderr.write(`bench: --only: unknown group '${g}' (groups: ${GROUPS.join(', ')})\n`)
    process.exit(2)
  }
}
const want = (g: (typeof GROUPS)[number]): boolean => only.includes(g)
/** --quick: the timed windows below shrink to a tenth (a smoke run; the numbers are noisier). */
const scale = process.argv.includes('--quick') ? 0.1 : 1
const { Machine, GFP_KERNEL } = await import('../src/index.js')
const metrics: Record<string, number> = {}

function rate(fn: (n: number) => void, min_ms = 300 * scale): number {
  let n = 1000
  for (;;) {
    const t0 = performance.now()
    fn(n)
    const dt = performance.now() - t0
    if (dt >= min_ms) return (n / dt) * 1000
    n *= 2
  }
}

// Boot time and RSS, one process per size.
const child = fileURLToPath(new URL('./boot_child.js', import.meta.url))
for (const ram of want('boot') ? ['1G', '16G', '64G'] : []) {
  const r = JSON.parse(execFileSync(process.execPath, [child, ram], { encoding: 'utf8' })) as { boot_ms: number; rss_mb: number }
  metrics[`boot_ms_${ram}`] = Math.round(r.boot_ms)
  metrics[`boot_rss_mb_${ram}`] = Math.round(r.rss_mb)
}

// Order-0 alloc+free pairs.
const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
const k = m.kernel
const page_pairs = !want('page_alloc') && !want('slab') ? 0 : rate((n) => {
  for (let i = 0; i < n; i++) k.__free_pages(k.alloc_pages(GFP_KERNEL, 0) as never, 0)
})
if (want('page_alloc')) {
  const stack = new Int32Array(1 << 16).map((_, i) => i)
  let top = stack.length
  const ref_pairs = rate((n) => {
    for (let i = 0; i < n; i++) {
      const p = stack[--top]
      stack[top++] = p
    }
  })
  metrics.order0_pairs_per_s = Math.round(page_pairs)
  metrics.order0_vs_int32_stack = Number((page_pairs / ref_pairs).toFixed(4))

  // Batches of 64 live pages stress the pcp refill/drain paths too.
  const batch_pairs = rate((n) => {
    const live: number[] = []
    for (let i = 0; i < n; i++) {
      live.push(k.alloc_pages(GFP_KERNEL, 0) as number)
      if (live.length === 64) for (const p of live.splice(0)) k.__free_pages(p as never, 0)
    }
    for (const p of live) k.__free_pages(p as never, 0)
  })
  metrics.order0_batch64_pairs_per_s = Math.round(batch_pairs)
}

if (want('slab')) {
  const { bench_kmalloc } = await import('./slab.js')
  metrics.kmalloc64_pairs_per_s = Math.round(bench_kmalloc(0.5 * scale))
  metrics.kmalloc64_vs_order0 = Number((metrics.kmalloc64_pairs_per_s / page_pairs).toFixed(4))
}

if (want('vmalloc')) {
  const { bench_pte_map, bench_pte_walk, bench_vmalloc } = await import('./vmalloc.js')
  metrics.vmalloc16k_vfree_pairs_per_s = Math.round(bench_vmalloc(0.3 * scale))
  metrics.pte_map_per_s = Math.round(bench_pte_map(0.3 * scale))
  metrics.pte_walk_per_s = Math.round(bench_pte_walk(0.3 * scale))
}

// Address spaces: mmsim's simulated faults and mmap/munmap beside the real kernel's.
if (want('addrspace')) {
  const { mmsim_rates, real_kernel } = await import('./addrspace.js')
  const sim = mmsim_rates(16384, 5)
  metrics.sim_anon_faults_per_s = Math.round(sim.faults_per_s)
  metrics.sim_mmap_munmap_pairs_per_s = Math.round(sim.mmap_munmap_pairs_per_s)
  metrics.sim_tlb_hit_loads_per_s = Math.round(sim.tlb_hit_loads_per_s)
  const real = real_kernel(16384, 5)
  if (real) {
    metrics.real_anon_faults_per_s = Math.round(real.faults_per_s)
    metrics.real_mmap_munmap_pairs_per_s = Math.round(real.mmap_munmap_pairs_per_s)
    metrics.anon_faults_sim_vs_real = Number((sim.faults_per_s / real.faults_per_s).toFixed(4))
    metrics.mmap_munmap_sim_vs_real = Number((sim.mmap_munmap_pairs_per_s / real.mmap_munmap_pairs_per_s).toFixed(4))
}

}

// Cold faults as resident memory grows, fork + COW, and cost against the number of VMAs.
if (want('memory')) (await import('./memory_rows.js')).memory_rows(metrics)
if (want('vma')) (await import('./vma_rows.js')).vma_rows(metrics, 300 * scale)

// Trace-driven policies beside the lru-cache package on the same keys, and the miss-ratio curves.
if (want('reclaim')) {
  const reclaim_note = (await import('./reclaim_rows.js')).reclaim_rows(metrics)
  if (!json && reclaim_note) console.log(`reclaim rows: ${reclaim_note}`)
}
if (want('trace')) {
  const trace_note = await (await import('./trace.js')).trace_rows(metrics)
  if (!json) console.log(`trace rows: ${trace_note}`)
}

if (json) {
  process.stdout.write(JSON.stringify(metrics) + '\n')
} else {
  const w = Math.max(...Object.keys(metrics).map((s) => s.length))
  console.log('metric'.padEnd(w) + '  value')
  for (const [name, v] of Object.entries(metrics)) console.log(name.padEnd(w) + '  ' + String(v))
}
