/**
 * kmalloc(64)+kfree pairs per second on a default machine (SLUB or SLAB),
 * for the bench runner: `bench_kmalloc(seconds)` returns pairs/s measured
 * over at least `seconds` of wall time, after a short warm-up.
 */
import { Machine, GFP_KERNEL } from '../src/index.js'

export function bench_kmalloc(seconds: number, slab: 'slub' | 'slab' = 'slub'): number {
  const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1, slab })
  const k = m.kernel
  for (let i = 0; i < 10000; i++) k.kfree(k.kmalloc(64, GFP_KERNEL))
  let pairs = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let now = t0
  while (now < end) {
    for (let i = 0; i < 10000; i++) k.kfree(k.kmalloc(64, GFP_KERNEL))
    pairs += 10000
    now = performance.now()
  }
  m.check()
  return (pairs / (now - t0)) * 1000
}
