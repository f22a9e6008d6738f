/**
 * Cold anonymous write faults as resident memory grows, in a fresh process:
 * `node dist/bench/cold_faults.js <ram> <resident MiB> [window MiB, default 64]`.
 * One private anonymous mapping of the whole resident size; each first store
 * to a page faults, allocates a never-used frame and maps it. Reports, for
 * the windows ending at 256 MiB, at 2 GiB and at the end, CPU time
 * (process.cpuUsage, not wall time: the host is shared) and GC time per
 * fault in that window, CPU time per fault over every window up to it
 * (cum_us_per_fault: the cost of faulting in the first 256 MiB, 2 GiB...),
 * the median over the last four windows up to it (med_us_per_fault: one
 * 64 MiB window is 80 ms of CPU, at the mercy of the shared host; runs of
 * the same build put the 8 GiB window at 0.55x to 1.6x the 256 MiB one),
 * plus host RSS per resident simulated page. `scale_bench cold` measures
 * the same windows in the real kernel. Prints one JSON object.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { Machine } from '../src/index.js'
import { median } from './cpu.js'
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE } from '../src/include/uapi/mman.js'

const ram = process.argv[2] ?? '64G'
const resident_mib = Number(process.argv[3] ?? 8192)
const window_mib = Number(process.argv[4] ?? 64)

const gcs: { start: number; dur: number }[] = []
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, dur: e.duration })
})
obs.observe({ entryTypes: ['gc'] })
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

const m = new Machine({ arch: 'x86_64', ram, seed: 1 })
const p = m.spawn({ name: 'cold' })
const pages = (resident_mib * 1048576) / 4096
const per_window = (window_mib * 1048576) / 4096
const a = p.mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)
if (a < 0) throw new Error(`mmap: ${a}`)
const one = new Uint8Array([1])
await tick()
const rss0 = process.memoryUsage().rss
const windows: Record<
  string,
  { us_per_fault: number; cum_us_per_fault: number; med_us_per_fault: number; sys_us_per_fault: number; gc_us_per_fault: number; wall_us_per_fault: number }
> = {}
const marks = new Set([Math.min(pages, (256 * 1048576) / 4096), Math.min(pages, (2048 * 1048576) / 4096), pages])
let first = 0
let cum_us = 0
const recent: number[] = []
while (first < pages) {
  const end = Math.min(pages, first + per_window)
  const c0 = process.cpuUsage()
  const w0 = performance.now()
  for (let i = first; i < end; i++) p.store(a + i * 4096, one)
  const w1 = performance.now()
  const c = process.cpuUsage(c0)
  cum_us += c.user + c.system
  recent.push((c.user + c.system) / (end - first))
  await tick()
  if (marks.has(end)) {
    let gc = 0
    for (const g of gcs) if (g.start >= w0 && g.start < w1) gc += g.dur
    const n = end - first
    windows[`${(end * 4096) / 1048576}MiB`] = {
      us_per_fault: Number(((c.user + c.system) / n).toFixed(3)),
      cum_us_per_fault: Number((cum_us / end).toFixed(3)),
      med_us_per_fault: Number(median(recent.slice(-4)).toFixed(3)),
      sys_us_per_fault: Number((c.system / n).toFixed(3)),
      gc_us_per_fault: Number(((gc * 1000) / n).toFixed(3)),
      wall_us_per_fault: Number((((w1 - w0) * 1000) / n).toFixed(3)),
    }
  }
  first = end
}
const rss = process.memoryUsage().rss
obs.disconnect()
process.stdout.write(
  JSON.stringify({ ram, resident_mib, windows, host_bytes_per_page: Math.round((rss - rss0) / pages), rss_mib: Math.round(rss / 1048576) }) + '\n',
)
