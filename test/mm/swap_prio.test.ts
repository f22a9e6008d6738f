/**
 * Swap areas of one priority, and the clusters CPUs take, as the real
 * kernel did: test/fixtures/probes/swap_prio.{c,sh} ran on Linux 6.18.44
 * with two 16 MiB zram areas at priority 5 and recorded swap_prio.txt. A
 * process on CPU 0 pages out 600 pages: the first area's first cluster
 * (offsets 1-511, 0 is the header), then the second area (the slow path
 * moved the first behind it); a process on CPU 1 then gets a cluster of
 * its own (512-519 of the first area). Default priorities are -2, -3, and
 * swapoff of the first moves the second up to -2.
 */
import { expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { boot } from '../helpers.js'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE, SWAP_FLAG_PREFER } from '../../src/index.js'
import type { Machine, Process } from '../../src/index.js'

const PG = 4096
const recorded = readFileSync(new URL('../fixtures/probes/swap_prio.txt', import.meta.url), 'utf8')

const procs: Process[] = []

function run(m: Machine, cpu: number, n: number): string {
  const p = m.spawn()
  procs.push(p)
  p.run_on(cpu)
  const a = p.mmap(0, (n + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS) + PG
  p.mprotect(a, n * PG, PROT_READ | PROT_WRITE)
  for (let i = 0; i < n; i++) p.store(a + i * PG, new Uint8Array(64).fill((i + 1) & 0xff))
  p.madvise(a, n * PG, MADV_PAGEOUT)
  const e = p.pagemap(a, n)
  let s = `cpu ${cpu}:`
  let pt = -1n
  let first = -1n
  let last = -1n
  for (let i = 0; i <= n; i++) {
    let t = -1n
    let o = -1n
    if (i < n && (e[i] >> 62n) & 1n) {
      t = e[i] & 31n
      o = (e[i] & ((1n << 55n) - 1n)) >> 5n
    }
    if (i < n && t === pt && o === last + 1n) {
      last = o
      continue
    }
    if (pt >= 0n || first >= 0n) s += ` ${pt}:${first}-${last}`
    pt = t
    first = last = o
  }
  return s
}

it('areas of one priority take turns by cluster; each CPU has its cluster; default priorities close up', () => {
  const m = boot({ ram: '128M' })
  const A = m.add_swap_device('16M')
  const B = m.add_swap_device('16M')
  const root = m.spawn()
  root.swapon(A, SWAP_FLAG_PREFER | 5)
  root.swapon(B, SWAP_FLAG_PREFER | 5)
  const out: string[] = ['== same priority (zram1 then zram2)']
  m.deferred_check(() => {
    out.push(run(m, 0, 600), run(m, 1, 8))
  })
  out.push(...m.proc('/proc/swaps').split('\n').slice(0, -1))
  // The probe's processes exit before swapoff; these are killed so swapoff has nothing to read.
  for (const p of procs) p.exit(0)
  root.swapoff(A)
  root.swapoff(B)
  out.push('== default priorities')
  root.swapon(A)
  root.swapon(B)
  out.push(...m.proc('/proc/swaps').split('\n').slice(0, -1))
  root.swapoff(A)
  out.push('== after swapoff zram1')
  out.push(...m.proc('/proc/swaps').split('\n').slice(0, -1))
  root.swapoff(B)
  const want = recorded.replaceAll('/dev/zram2', '/dev/zramB').replaceAll('/dev/zram1', '/dev/zram0').replaceAll('/dev/zramB', '/dev/zram1')
  expect(out.join('\n') + '\n').toBe(want)
  expect(m.proc('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')
})
