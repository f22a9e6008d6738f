/**
 * free(1): procps-ng's layout byte for byte (the reference output of a real
 * 6.18 machine, test/fixtures/reference/free*.txt), and its columns computed
 * from a /proc/meminfo as procps 4 computes them.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { free } from '../../src/user/free.js'
import { Machine } from '../../src/index.js'

const ref = (f: string): string => readFileSync(new URL(`../fixtures/reference/${f}`, import.meta.url), 'utf8')

/** A /proc/meminfo with the fields free reads, chosen to give the reference numbers. */
function meminfo(v: Record<string, number>): string {
  return Object.entries(v).map(([k, n]) => `${(k + ':').padEnd(16)}${String(n).padStart(8)} kB`).join('\n') + '\n'
}

describe('free', () => {
  // The reference free.txt: total 24684096, used 389896 (= total - available), free 23783104,
  // shared 8788, buff/cache 757772, available 24294200.
  const mi = meminfo({ MemTotal: 24684096, MemFree: 23783104, MemAvailable: 24294200, Buffers: 14808, Cached: 685816, Shmem: 8788, SReclaimable: 57148, SwapTotal: 0, SwapFree: 0 })

  it('prints procps-ng 4 layout and columns', () => {
    expect(free(mi)).toBe(ref('free.txt'))
    expect(free(mi, 'm')).toBe(ref('free-m.txt'))
  })

  it('reads a simulated machine', () => {
    const m = new Machine({ ram: '256M' })
    const out = free(m.proc('/proc/meminfo')).split('\n')
    const total = Number(/MemTotal:\s+(\d+)/.exec(m.proc('/proc/meminfo'))?.[1])
    expect(out[1]).toMatch(new RegExp(`^Mem: +${total} `))
    expect(out[2]).toBe('Swap:              0           0           0')
  })
})
