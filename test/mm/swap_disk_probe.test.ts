/**
 * MADV_PAGEOUT to a rotational swap area, as the real kernel did it:
 * test/fixtures/probes/swap_disk.{c,sh} ran on Linux 6.18.44 with a 32 MiB
 * area on a loop device marked rotational and recorded swap_disk.txt. The
 * writes are asynchronous, so every page stays in the swap cache
 * (SwapCached, mincore 1), reads back without a major fault, and keeps its
 * slot (/proc/swaps Used).
 */
import { expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { boot } from '../helpers.js'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../../src/index.js'

const PG = 4096
const N = 64
const recorded = readFileSync(new URL('../fixtures/probes/swap_disk.txt', import.meta.url), 'utf8')

it('a rotational area keeps paged-out pages in the swap cache, as Linux 6.18 did', () => {
  const m = boot({ ram: '128M', swap: { size: '32M', kind: 'disk' } })
  const out: string[] = ['1'] // /sys/block/loop0/queue/rotational
  const meminfo = (k: string): number => Number(new RegExp(`^${k}: +(\\d+) kB$`, 'm').exec(m.proc('/proc/meminfo'))![1])
  const p = m.spawn()
  const a = p.mmap(0, (N + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS) + PG
  p.mprotect(a, N * PG, PROT_READ | PROT_WRITE)
  for (let i = 0; i < N; i++) p.store(a + i * PG, new Uint8Array(100).fill(i + 1))
  const cached0 = meminfo('SwapCached')
  p.madvise(a, N * PG, MADV_PAGEOUT)
  out.push(`SwapCached grew by ${meminfo('SwapCached') - cached0} kB`)
  out.push('mincore:' + [...p.mincore(a, N * PG)].map((v) => String(v & 1)).join(''))
  out.push('pagemap:' + p.pagemap(a, 8).map((e) => ` ${(e >> 62n) & 1n ? 'S' : '?'}${(e & ((1n << 55n) - 1n)) >> 5n}`).join(''))
  const maj0 = p.task.mm!.maj_flt
  let sum = 0
  for (let i = 0; i < N; i++) sum += p.load(a + i * PG, 1)[0]
  out.push(`read back ${sum}, major faults ${p.task.mm!.maj_flt - maj0}`)
  out.push(...m.proc('/proc/swaps').split('\n').slice(0, -1))
  out.push('device was /dev/loop0')
  expect(out.join('\n') + '\n').toBe(recorded.replace('/dev/loop0                              partition', '/dev/vdb                                partition'))
})
