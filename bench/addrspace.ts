/**
 * Address-space benchmarks, mmsim beside the real kernel in the same run:
 *  - anonymous write faults per second (THP off): each first store to a page
 *    of a fresh private anonymous mapping faults, allocates and maps a page;
 *  - mmap+munmap pairs per second;
 *  - user loads per second that hit the TLB (the same page again and again).
 * The real kernel's numbers come from bench/fault_bench.c, compiled here
 * with the system C compiler; without one they are left out.
 */
import { Machine } from '../src/index.js'
import { run_real } from './cc.js'
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../src/include/uapi/mman.js'

export interface RealKernel {
  faults_per_s: number
  mmap_munmap_pairs_per_s: number
}

/** Runs bench/fault_bench.c on this machine's kernel; null when no C compiler works. */
export function real_kernel(pages: number, rounds: number): RealKernel | null {
  return run_real<RealKernel>('fault_bench', [pages, rounds])
}

export interface SimRates {
  faults_per_s: number
  mmap_munmap_pairs_per_s: number
  tlb_hit_loads_per_s: number
}

export function mmsim_rates(pages: number, rounds: number): SimRates {
  const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
  const p = m.spawn({ name: 'bench' })
  const one = new Uint8Array([1])
  let faults = 0
  for (let r = 0; r < rounds; r++) {
    const a = p.mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const t0 = performance.now()
    for (let i = 0; i < pages; i++) p.store(a + i * 4096, one)
    const dt = performance.now() - t0
    p.munmap(a, pages * 4096)
    faults = Math.max(faults, (pages / dt) * 1000)
  }
  let pairs = 0
  for (let r = 0; r < rounds; r++) {
    const n = 20000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) p.munmap(p.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), 8192)
    pairs = Math.max(pairs, (n / (performance.now() - t0)) * 1000)
  }
  const a = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  p.store(a, one)
  let loads = 0
  for (let r = 0; r < rounds; r++) {
    const n = 200000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) p.load(a + (i & 4095), 1)
    loads = Math.max(loads, (n / (performance.now() - t0)) * 1000)
  }
  m.check()
  return { faults_per_s: faults, mmap_munmap_pairs_per_s: pairs, tlb_hit_loads_per_s: loads }
}
