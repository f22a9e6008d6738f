/**
 * The simulator's side of the exit rows, in a fresh process:
 * `node dist/bench/vma_exit.js <vmas> <reps>`. Each rep spawns a process,
 * gives it n one-page VMAs with the read-write pages resident
 * (bench/vma_layout.ts), and times only its exit(2) and the parent's wait
 * (exit_mmap, the page and page-table frees, release_task), in CPU time.
 * Prints the median, as `scale_bench exit` does: one JSON object.
 *
 * An exit runs the exit path once, so the first few in a fresh process
 * measure V8's tier-up more than mmsim (1,000 VMAs: 13-86 ms for the first
 * five, 2 ms from the tenth on): untimed warm-up exits of 1,000 VMAs come
 * first, as the real kernel's exit code is always hot.
 */
import { Machine } from '../src/index.js'
import { cpu_us, median } from './cpu.js'
import { make_vmas, touch_vmas } from './vma_layout.js'

const n = Number(process.argv[2] ?? 1000)
const reps = Number(process.argv[3] ?? 3)
const WARM_UP = 10

function exit_cpu_us(m: Machine, vmas: number): number {
  const p = m.spawn({ name: 'vmas' })
  touch_vmas(m, p, make_vmas(m, p, vmas), vmas)
  const t0 = cpu_us()
  p.exit(0)
  const status = p.wait()
  const dt = cpu_us() - t0
  if (status !== 'exit:0') throw new Error(`vma_exit: status ${status}`)
  return dt
}

const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
for (let r = 0; r < WARM_UP; r++) exit_cpu_us(m, 1000)
const us: number[] = []
for (let r = 0; r < reps; r++) us.push(exit_cpu_us(m, n))
m.check()
process.stdout.write(JSON.stringify({ vmas: n, exit_cpu_us: median(us), all_us: us.map(Math.round) }) + '\n')
