/**
 * vmalloc and page-table rates for the bench runner (each returns operations
 * per second measured over at least `seconds` of wall time, after a warm-up):
 *  - bench_vmalloc: vmalloc(16 KiB)+vfree pairs (a kernel stack's size),
 *    lazy purges included;
 *  - bench_pte_map: get_locked_pte+set_pte_at on a process pgd (table
 *    allocation amortised over 512 entries per pte table);
 *  - bench_pte_walk: walks of mapped addresses (what an MMU does on a TLB miss).
 */
import { Machine } from '../src/index.js'
import type { PgtableMm } from '../src/mm/pgtable.js'

function timed(seconds: number, batch: number, fn: (i: number) => void): number {
  for (let i = 0; i < batch; i++) fn(i)
  let ops = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  let now = t0
  while (now < end) {
    for (let i = 0; i < batch; i++) fn(ops + i)
    ops += batch
    now = performance.now()
  }
  return (ops / (now - t0)) * 1000
}

export function bench_vmalloc(seconds: number): number {
  const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
  const k = m.kernel
  const r = timed(seconds, 1000, () => k.vfree(k.vmalloc(16384)))
  m.check()
  return r
}

function mapped_mm(m: Machine, pages: number): PgtableMm {
  const pt = m.pgtables
  const mm: PgtableMm = { pgd: 0, pgtables_bytes: 0 }
  pt.pgd_alloc(mm)
  for (let i = 0; i < pages; i++) pt.set_pte_at(mm, 0x400000 + i * 4096, pt.get_locked_pte(mm, 0x400000 + i * 4096), 0x1000067)
  return mm
}

export function bench_pte_map(seconds: number): number {
  const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
  const pt = m.pgtables
  const mm = mapped_mm(m, 0)
  return timed(seconds, 10000, (i) => {
    const a = 0x400000 + (i % 262144) * 4096
    pt.set_pte_at(mm, a, pt.get_locked_pte(mm, a), 0x1000067)
  })
}

export function bench_pte_walk(seconds: number): number {
  const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1 })
  const pt = m.pgtables
  const mm = mapped_mm(m, 65536)
  let sink = 0
  const r = timed(seconds, 10000, (i) => {
    sink += pt.walk(mm, 0x400000 + (i % 65536) * 4096)
  })
  if (sink === 0) throw new Error('bench_pte_walk: nothing mapped')
  return r
}
