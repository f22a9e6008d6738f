/**
 * The simulator's side of the fork + COW row, in a fresh process (it holds
 * twice the resident size in simulated frames):
 * `node dist/bench/fork_cow.js <resident MiB> <reps>`. A process writes
 * every page of one private anonymous mapping; each rep times, in CPU time,
 * fork() (dup_mm, copy_page_range write-protecting every PTE) and then one
 * store by the child to every page (each a COW fault copying the page). The
 * child's exit is not counted. Prints the median, as `scale_bench forkcow`
 * does: one JSON object.
 */
import { Machine } from '../src/index.js'
import { cpu_us, median } from './cpu.js'
import { ANON, RW } from './vma_layout.js'

const mib = Number(process.argv[2] ?? 1024)
const reps = Number(process.argv[3] ?? 3)
const pages = mib * 256

// Room for the parent's pages, the child's copies and the page tables.
const m = new Machine({ arch: 'x86_64', ram: `${Math.ceil((mib * 2.5) / 1024)}G`, seed: 1 })
const p = m.spawn({ name: 'forkcow' })
const a = p.mmap(0, pages * 4096, RW, ANON)
const one = new Uint8Array([1])
const two = new Uint8Array([2])
for (let i = 0; i < pages; i++) p.store(a + i * 4096, one)

const us: number[] = []
for (let r = 0; r < reps; r++) {
  const t0 = cpu_us()
  const c = p.fork()
  for (let i = 0; i < pages; i++) c.store(a + i * 4096, two)
  us.push(cpu_us() - t0)
  c.exit(0)
  c.wait()
}
m.check()
process.stdout.write(JSON.stringify({ resident_mib: mib, pages, fork_cow_cpu_us: median(us), all_us: us.map(Math.round) }) + '\n')
