/**
 * `--policy linux`: the trace through a simulated process under a memcg
 * limit. The misses are the kernel's own (major faults, swap-ins); these
 * tests hold them to what must be true of any replacement with that many
 * frames, and to the kernel's own counters.
 */
import { describe, expect, it } from 'vitest'
import { simulate_linux, type LinuxBacking } from '../../src/trace/linux.js'
import type { TraceInput } from '../../src/trace/read.js'
import { open_trace } from '../../src/cli/trace_source.js'
import { FIXTURE, fast_misses, fixture_pages } from './helpers.js'

/** A trace from page numbers (W: a store), as a TraceInput. */
function csv_input(refs: ReadonlyArray<readonly [number, 'R' | 'W']>): TraceInput {
  const bytes = new TextEncoder().encode(refs.map(([p, op]) => `${p},${op}\n`).join(''))
  return {
    name: 'refs.csv',
    compression: 'none',
    bytes: async function* () {
      yield bytes
    },
  }
}

const cyclic = (pages: number, rounds: number, op: 'R' | 'W'): Array<[number, 'R' | 'W']> =>
  Array.from({ length: pages * rounds }, (_, i) => [1000 + (i % pages) * 7, op])

describe('mmsim trace --policy linux', () => {
  it('with frames for every page, each page misses once (its first reference) and nothing is reclaimed', async () => {
    const r = await simulate_linux(open_trace(FIXTURE), { frames: 200, backing: 'file' })
    expect(r.distinct).toBe(137)
    expect(r.refs).toBe(5000)
    expect(r.misses).toBe(137)
    expect(r.linux.pgscan_file + r.linux.pgscan_anon).toBe(0)
  })

  it('under a limit: no fewer misses than OPT with every frame the group could hold, each refault found its shadow; more frames, fewer misses', async () => {
    const pages = await fixture_pages()
    const misses: number[] = []
    for (const frames of [24, 48, 96]) {
      const r = await simulate_linux(open_trace(FIXTURE), { frames, backing: 'file' })
      const l = r.linux
      expect(l.limit_pages).toBe(frames + l.kmem_pages)
      expect(l.kmem_pages).toBeGreaterThan(0)
      // A file page's first reference and each refault are major faults, and nothing else is.
      expect(r.misses).toBe(l.major_faults)
      expect(r.misses).toBeGreaterThanOrEqual(fast_misses('opt', pages, l.limit_pages))
      expect(r.misses).toBeGreaterThan(r.cold_misses)
      // A page refaults only after reclaim took it, and its eviction left a shadow in the page cache.
      const refaults = r.misses - r.cold_misses
      expect(l.workingset_refault_file).toBe(refaults)
      expect(l.pgsteal_file).toBeGreaterThanOrEqual(refaults)
      expect(l.pgscan_file).toBeGreaterThanOrEqual(l.pgsteal_file)
      misses.push(r.misses)
    }
    expect(misses[1]).toBeLessThan(misses[0])
    expect(misses[2]).toBeLessThan(misses[1])
  })

  it('the same run gives the same answer', async () => {
    const a = await simulate_linux(csv_input(cyclic(90, 3, 'W')), { frames: 40, backing: 'file' })
    const b = await simulate_linux(csv_input(cyclic(90, 3, 'W')), { frames: 40, backing: 'file' })
    expect(b).toEqual(a)
  })

  it('anonymous backing: stored pages are swapped out to zram and back in; every swap-in is a miss', async () => {
    const r = await simulate_linux(csv_input(cyclic(120, 4, 'W')), { frames: 64, backing: 'anon' })
    const l = r.linux
    expect(r.cold_misses).toBe(120)
    expect(l.pswpout).toBeGreaterThan(0)
    expect(l.pswpin).toBeGreaterThan(0)
    expect(l.pswpin).toBeLessThanOrEqual(l.pswpout)
    expect(r.misses).toBe(r.cold_misses + l.major_faults)
    expect(l.major_faults).toBe(l.pswpin)
    expect(l.workingset_refault_anon).toBe(l.pswpin)
  })

  it('anonymous backing: loads of pages never stored map the zero page, which takes no frame', async () => {
    const r = await simulate_linux(csv_input(cyclic(150, 3, 'R')), { frames: 20, backing: 'anon' })
    expect(r.misses).toBe(150)
    expect(r.linux.pgscan_anon + r.linux.pswpout).toBe(0)
  })

  it('stores to a file mapping dirty its pages, which the flusher writes back before reclaim frees them', async () => {
    for (const backing of ['file'] as LinuxBacking[]) {
      const r = await simulate_linux(csv_input(cyclic(120, 3, 'W')), { frames: 48, backing })
      expect(r.misses).toBe(r.linux.major_faults)
      expect(r.misses).toBeGreaterThan(120)
      expect(r.linux.pgsteal_file).toBeGreaterThan(0)
    }
  })
})
