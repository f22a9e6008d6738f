/**
 * One measurement for bench/ab.ts, in a process of its own:
 *
 *   node dist/bench/ab_child.js DIST BENCH
 *
 * loads mmsim from DIST (a build's dist directory: DIST/src/index.js), runs
 * BENCH once to warm it up and once measured (only its timed part), and prints
 * {"rate": operations per CPU second, "wall_rate": per wall second}.
 * CPU time (process.cpuUsage, every thread of the process) is what a
 * machine shared with other jobs measures best: wall time counts the
 * moments another job had the core.
 *
 * The benchmarks are bench/addrspace.ts's and bench/slab.ts's loops, written
 * here against the public API both builds share (Machine, spawn, mmap,
 * store, load, munmap, kernel.kmalloc/kfree), so the same code measures
 * an old build and a new one.
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

/** What the benchmarks use of mmsim's public API (the same in every build measured). */
interface Mmsim {
  Machine: new (o: { arch: string; ram: string; seed: number }) => {
    spawn(o: { name: string }): {
      mmap(addr: number, len: number, prot: number, flags: number): number
      munmap(addr: number, len: number): void
      store(addr: number, data: Uint8Array): void
      load(addr: number, len: number): Uint8Array
    }
    kernel: { kmalloc(size: number, gfp: number): number; kfree(p: number): void }
    check(): void
  }
  GFP_KERNEL: number
}
type MachineT = InstanceType<Mmsim['Machine']>
type ProcessT = ReturnType<MachineT['spawn']>

// uapi values (include/uapi/asm-generic/mman-common.h), the same in every build.
const PROT_RW = 1 | 2
const MAP_PRIVATE_ANON = 0x02 | 0x20

/** Accumulates the CPU and wall time of the timed parts of a run. */
class Clock {
  cpu_us = 0
  wall_ms = 0
  private c0 = 0
  private w0 = 0
  start(): void {
    this.c0 = cpu_us()
    this.w0 = performance.now()
  }
  stop(): void {
    this.cpu_us += cpu_us() - this.c0
    this.wall_ms += performance.now() - this.w0
  }
}

/**
 * A benchmark: `prepare` sets up what every run needs and returns the run,
 * which does `ops` operations and times them (only them) on the clock.
 */
interface Bench {
  readonly ops: number
  prepare(lib: Mmsim, m: MachineT, p: ProcessT): (clock: Clock) => void
}

const FAULT_PAGES = 16384

const BENCHES: Record<string, Bench> = {
  /** Anonymous write faults: the first store to each page of a fresh 64 MiB private mapping (mmap and munmap untimed, as in bench/addrspace.ts). */
  fault: {
    ops: 16 * FAULT_PAGES,
    prepare: (_lib, _m, p) => (clock) => {
      const one = new Uint8Array([1])
      for (let r = 0; r < 16; r++) {
        const a = p.mmap(0, FAULT_PAGES * 4096, PROT_RW, MAP_PRIVATE_ANON)
        clock.start()
        for (let i = 0; i < FAULT_PAGES; i++) p.store(a + i * 4096, one)
        clock.stop()
        p.munmap(a, FAULT_PAGES * 4096)
      }
    },
  },
  /** mmap(8 KiB) + munmap pairs. */
  mmap: {
    ops: 100_000,
    prepare: (_lib, _m, p) => (clock) => {
      clock.start()
      for (let i = 0; i < 100_000; i++) p.munmap(p.mmap(0, 8192, PROT_RW, MAP_PRIVATE_ANON), 8192)
      clock.stop()
    },
  },
  /** kmalloc(64) + kfree pairs. */
  kmalloc: {
    ops: 3_000_000,
    prepare: (lib, m) => (clock) => {
      const k = m.kernel
      const gfp = lib.GFP_KERNEL
      clock.start()
      for (let i = 0; i < 3_000_000; i++) k.kfree(k.kmalloc(64, gfp))
      clock.stop()
    },
  },
  /** One-byte user loads that hit the TLB (the same page over and over). */
  tlb: {
    ops: 5_000_000,
    prepare: (_lib, _m, p) => {
      const a = p.mmap(0, 4096, PROT_RW, MAP_PRIVATE_ANON)
      p.store(a, new Uint8Array([1]))
      return (clock) => {
        clock.start()
        for (let i = 0; i < 5_000_000; i++) p.load(a + (i & 4095), 1)
        clock.stop()
      }
    },
  },
}

function cpu_us(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

async function main(): Promise<void> {
  const [dist, name] = process.argv.slice(2)
  const bench = BENCHES[name]
  if (!dist || !bench) {
    process.stderr.write(`usage: ab_child.js DIST ${Object.keys(BENCHES).join('|')}\n`)
    process.exit(2)
  }
  const lib = (await import(pathToFileURL(resolve(dist, 'src/index.js')).href)) as Mmsim
  const m = new lib.Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
  const p = m.spawn({ name: 'bench' })
  const run = bench.prepare(lib, m, p)
  run(new Clock()) // warm-up: the JIT has compiled the loop before it is timed
  const clock = new Clock()
  run(clock)
  m.check()
  process.stdout.write(JSON.stringify({ rate: (bench.ops / clock.cpu_us) * 1e6, wall_rate: (bench.ops / clock.wall_ms) * 1e3 }) + '\n')
}

await main()
