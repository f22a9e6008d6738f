/**
 * The simulator's side of the reclaim rows, in a fresh process:
 * `node dist/bench/reclaim_child.js stream FILE_MIB LIMIT_MIB PASSES` reads
 * a file larger than a memory cgroup's limit from start to end PASSES
 * times, 64 KiB per read(2), as bench/reclaim_bench.c does on the real
 * kernel; `... anon MIB LIMIT_MIB PASSES` writes every page of an anonymous
 * mapping larger than the limit PASSES times on a machine with zram swap.
 * Prints one JSON object: pages reclaimed (pgsteal of that type) per CPU
 * second of the loop, and for anon the pages swapped out.
 */
import { Machine, O_CREAT, O_RDWR, POSIX_FADV_DONTNEED } from '../src/index.js'
import { PGSTEAL_ANON, PGSTEAL_FILE, PSWPOUT } from '../src/mm/vm_event_item.js'
import { cpu_us } from './cpu.js'
import { ANON, RW } from './vma_layout.js'

const [mode, a1, a2, a3] = process.argv.slice(2)
const mib = Number(a1 ?? 128)
const limit = Number(a2 ?? 32)
const passes = Number(a3 ?? 3)
const CHUNK = 64 * 1024

const m = new Machine({ arch: 'x86_64', ram: '256M', seed: 1, ...(mode === 'anon' ? { swap: `${mib + 64}M` } : {}) })
const ev = m.vmstat.vm_event_states
const p = m.spawn({ name: 'reclaim' })
const g = m.cgroup_create('bench')
let t0: number, steal0: number, out0: number
if (mode === 'anon') {
  g.attach(p)
  g.set_limit(`${limit}M`)
  const a = p.mmap(0, mib << 20, RW, ANON)
  const one = new Uint8Array([1])
  ;[t0, steal0, out0] = [cpu_us(), ev[PGSTEAL_ANON], ev[PSWPOUT]]
  for (let r = 0; r < passes; r++) for (let o = 0; o < mib << 20; o += 4096) p.store(a + o, one)
} else {
  // Written outside the group and dropped from the page cache, as the C side does.
  const buf = p.mmap(0, CHUNK, RW, ANON)
  p.store(buf, new Uint8Array(CHUNK).fill(0x5a))
  const fd = p.open('/var/tmp/bench', O_RDWR | O_CREAT, 0o600)
  for (let o = 0; o < mib << 20; o += CHUNK) p.write(fd, buf, CHUNK)
  p.sys_fsync(fd)
  p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
  g.set_limit(`${limit}M`)
  g.attach(p)
  ;[t0, steal0, out0] = [cpu_us(), ev[PGSTEAL_FILE], 0]
  for (let r = 0; r < passes; r++) for (let o = 0; o < mib << 20; o += CHUNK) p.sys_pread_user(fd, buf, CHUNK, o)
}
const dt = (cpu_us() - t0) / 1e6
const stolen = ev[mode === 'anon' ? PGSTEAL_ANON : PGSTEAL_FILE] - steal0
m.check()
process.stdout.write(JSON.stringify({ pages_reclaimed: stolen, swapped_out: ev[PSWPOUT] - out0, cpu_s: dt, pages_per_s: stolen / dt }) + '\n')
