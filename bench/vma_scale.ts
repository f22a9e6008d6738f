/**
 * The simulator's side of the VMA-count rows, in a fresh process (building
 * 60,000 VMAs takes seconds and a heap of its own):
 * `node dist/bench/vma_scale.js <vmas> <min CPU ms per rate>`.
 * With n one-page VMAs (bench/vma_layout.ts): mmap+munmap pairs of one
 * anonymous page per CPU second, munmap + MAP_FIXED re-mmap pairs in the
 * middle of the run, and reads of /proc/<pid>/smaps (through the machine's
 * /proc, proc_read) once the read-write pages are resident. The same keys
 * as `scale_bench vmas` prints. Prints one JSON object.
 */
import { Machine } from '../src/index.js'
import { MAP_FIXED } from '../src/include/uapi/mman.js'
import { cpu_rate } from './cpu.js'
import { ANON, RW, make_vmas, touch_vmas } from './vma_layout.js'

const n = Number(process.argv[2] ?? 60000)
const min_ms = Number(process.argv[3] ?? 300)

const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
const p = m.spawn({ name: 'vmas' })
const base = make_vmas(m, p, n)

const pairs = m.deferred_check(() => cpu_rate(() => p.munmap(p.mmap(0, 4096, RW, ANON), 4096), min_ms))
// The middle of the run: a read-write page between two read-only ones, so the re-mmap merges with nothing.
const mid = base + (Math.floor(n / 2) - (Math.floor(n / 2) % 2)) * 4096
const mid_remap = m.deferred_check(() =>
  cpu_rate(() => {
    p.munmap(mid, 4096)
    p.mmap(mid, 4096, RW, ANON | MAP_FIXED)
  }, min_ms),
)
touch_vmas(m, p, base, n)
const path = `/proc/${p.pid}/smaps`
let chars = 0
const smaps = cpu_rate(() => {
  chars = m.proc(path).length
}, min_ms)

process.stdout.write(
  JSON.stringify({ vmas: n, map_count: p.mm.map_count, mmap_munmap_pairs_per_s: pairs, mid_remap_pairs_per_s: mid_remap, smaps_reads_per_s: smaps, smaps_chars: chars }) + '\n',
)
