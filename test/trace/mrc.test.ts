/** The one-pass curves equal the simulators run at every size. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LruStackDistances } from '../../src/trace/mrc.js'
import { OptStack } from '../../src/trace/opt_mrc.js'
import { PageIds } from '../../src/trace/intern.js'
import { curve_svg } from '../../src/trace/svg.js'
import { curve_file } from '../../src/cli/mrc.js'
import { simulate_file } from '../../src/cli/trace.js'
import { FIXTURE, fast_misses } from './helpers.js'
import { naive_misses } from './reference.js'

function curves(refs: number[], max: number): { lru: number[]; opt: number[] } {
  const pages = new PageIds()
  const ids = Int32Array.from(refs, (p) => pages.id(p))
  const next = new Float64Array(ids.length)
  const last = new Map<number, number>()
  for (let i = ids.length - 1; i >= 0; i--) {
    next[i] = last.get(ids[i]) ?? Infinity
    last.set(ids[i], i)
  }
  const l = new LruStackDistances()
  l.feed(ids, ids.length)
  const o = new OptStack(max)
  o.feed(ids, ids.length, next)
  return { lru: l.curve(max).misses, opt: o.curve().misses }
}

describe('miss-ratio curves', () => {
  it('on random traces, every point equals the naive LRU and OPT simulators at that size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((k) => fc.array(fc.integer({ min: 0, max: k }), { maxLength: 300, size: 'max' })),
        fc.integer({ min: 1, max: 35 }),
        (refs, max) => {
          const c = curves(refs, max)
          // Every point at once (index f - 1: f frames).
          const sizes = Array.from({ length: max }, (_, i) => i + 1)
          expect({ lru: [...c.lru.slice(0, max)], opt: [...c.opt.slice(0, max)] }).toEqual({ lru: sizes.map((f) => naive_misses('lru', refs, f)), opt: sizes.map((f) => naive_misses('opt', refs, f)) })
        },
      ),
      { numRuns: 150 },
    )
  })

  it('LRU stays exact across the renumbering of access times (more references than the tree has slots)', () => {
    const refs = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 300 ^ (i % 5))
    const c = curves(refs, 310)
    for (const f of [1, 2, 50, 299, 300, 310]) expect(c.lru[f - 1], `lru ${f}`).toBe(fast_misses('lru', refs, f))
  })

  it('the fixture slice: the LRU and OPT curves equal the simulators at each size, through the file path', async () => {
    const lru = await curve_file(FIXTURE, { policy: 'lru' })
    const opt = await curve_file(FIXTURE, { policy: 'opt', max_frames: 140 })
    expect(lru.misses).toHaveLength(137)
    expect(opt.misses).toHaveLength(140)
    for (let f = 1; f <= 140; f++) {
      if (f <= 137) expect(lru.misses[f - 1]).toBe((await simulate_file(FIXTURE, { policy: 'lru', frames: f })).misses)
      expect(opt.misses[f - 1]).toBe((await simulate_file(FIXTURE, { policy: 'opt', frames: f })).misses)
    }
    expect(lru.misses[136]).toBe(137)
  })

  it('the SVG has a title, axes, a decade grid and one polyline point per size', async () => {
    const c = await curve_file(FIXTURE, { policy: 'lru', max_frames: 100 })
    const svg = curve_svg(c, 'LRU <test>')
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('LRU &lt;test&gt;')
    expect(svg).toContain('cache size (frames)')
    expect((/points="([^"]*)"/.exec(svg) as RegExpExecArray)[1].split(' ')).toHaveLength(100)
    expect(svg).toMatch(/>1<\/text>/) // the top decade (miss ratio 1 at one frame)
  })
})
