/**
 * PhysMem against a naive model (one zeroed 4 KiB array per frame): the
 * dirty-extent shortcut (zero-filling touches only bytes that may be
 * non-zero) must never change a byte any reader sees.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { PhysMem } from '../../src/hw/physmem.js'

const PAGE = 4096
const FRAMES = 4

/** Pages to share (physmem.share()): never modified, whatever the frames sharing them go through. */
const SHARED = [new Uint8Array(PAGE).map((_, i) => (i * 7 + 0x90) & 255), new Uint8Array(PAGE).fill(0x5a)]
const SHARED_COPY = SHARED.map((p) => p.slice())

const range = fc.tuple(fc.integer({ min: 0, max: PAGE - 1 }), fc.integer({ min: 0, max: PAGE })).map(([a, b]) => [a, Math.min(b, PAGE - a)] as const)
const op = fc.oneof(
  fc.record({ k: fc.constant('frame' as const), pfn: fc.nat(FRAMES - 1), off: fc.nat(PAGE - 1), v: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ k: fc.constant('write_at' as const), pfn: fc.nat(FRAMES - 1), r: range, v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant('fill' as const), pfn: fc.nat(FRAMES - 1), r: range, v: fc.constantFrom(0, 0, 0, 7) }),
  fc.record({ k: fc.constant('copy' as const), pfn: fc.nat(FRAMES - 1), src: fc.nat(FRAMES - 1) }),
  fc.record({ k: fc.constant('or_u8' as const), pfn: fc.nat(FRAMES - 1), off: fc.nat(PAGE - 1), v: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ k: fc.constant('poke' as const), pfn: fc.nat(FRAMES - 1), off: fc.nat(PAGE - 8), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ k: fc.constant('share' as const), pfn: fc.nat(FRAMES - 1), page: fc.nat(SHARED.length - 1) }),
  fc.record({ k: fc.constant('u32' as const), pfn: fc.nat(FRAMES - 1), off: fc.nat(PAGE - 4), v: fc.nat() }),
)

describe('PhysMem', () => {
  it('never-written frames read as zeros and write_at/fill/copy/frame/share agree with a naive model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const pm = new PhysMem(FRAMES)
        const model = Array.from({ length: FRAMES }, () => new Uint8Array(PAGE))
        for (const o of ops) {
          if (o.k === 'frame') {
            pm.frame(o.pfn)[o.off] = o.v
            model[o.pfn][o.off] = o.v
          } else if (o.k === 'write_at') {
            const [off, n] = o.r
            const src = new Uint8Array(n + 3).map((_, i) => (o.v + i) & 255)
            pm.write_at(o.pfn, off, src, 3, n)
            model[o.pfn].set(src.subarray(3, 3 + n), off)
          } else if (o.k === 'fill') {
            const [off, n] = o.r
            pm.fill(o.pfn, o.v, off, n)
            model[o.pfn].fill(o.v, off, off + n)
          } else if (o.k === 'or_u8') {
            pm.or_u8(o.pfn, o.off, o.v)
            model[o.pfn][o.off] |= o.v
          } else if (o.k === 'poke') {
            const at = pm.poke(o.pfn, o.off, 8) + o.off
            const buf = pm.peek_buf(o.pfn)
            for (let i = 0; i < 8; i++) buf[at + i] = (o.v + i) & 255
            for (let i = 0; i < 8; i++) model[o.pfn][o.off + i] = (o.v + i) & 255
          } else if (o.k === 'share') {
            pm.share(o.pfn, SHARED[o.page])
            model[o.pfn].set(SHARED[o.page])
          } else if (o.k === 'u32') {
            pm.write_u32(o.pfn, o.off, o.v)
            for (let i = 0; i < 4; i++) model[o.pfn][o.off + i] = (o.v >>> (8 * i)) & 255
            expect(pm.read_u32(o.pfn, o.off)).toBe(o.v >>> 0)
          } else {
            pm.copy(o.pfn, o.src)
            model[o.pfn].set(model[o.src])
          }
          for (let p = 0; p < FRAMES; p++) {
            const got = pm.peek(p)
            const want = model[p]
            for (let i = 0; i < PAGE; i++) if (got[i] !== want[i]) expect([p, i, got[i]]).toEqual([p, i, want[i]])
            const buf = pm.peek_buf(p)
            const at = pm.peek_off(p)
            // nonzero_start/end bound every non-zero byte (page-table scans skip the rest)
            const lo = pm.nonzero_start(p)
            const hi = pm.nonzero_end(p)
            const outside = (i: number): void => {
              if (want[i] !== 0) expect([p, i, lo, hi]).toEqual([p, i, 'outside the non-zero extent'])
            }
            if (pm.is_backed(p)) {
              for (let i = 0; i < Math.min(lo, PAGE); i++) outside(i)
              for (let i = Math.max(hi, lo, 0); i < PAGE; i++) outside(i)
            }
            const out = new Uint8Array(PAGE + 2)
            pm.copy_out(p, 0, out, 1, PAGE)
            for (let i = 0; i < PAGE; i++) {
              if (buf[at + i] !== want[i] || out[1 + i] !== want[i]) expect([p, i, buf[at + i], out[1 + i]]).toEqual([p, i, want[i], want[i]])
            }
          }
        }
        for (let j = 0; j < SHARED.length; j++) {
          for (let i = 0; i < PAGE; i++) if (SHARED[j][i] !== SHARED_COPY[j][i]) expect([j, i, SHARED[j][i]]).toEqual([j, i, SHARED_COPY[j][i]])
        }
      }),
      { numRuns: 150 },
    )
  })

  it('write() and read() span frames', () => {
    const pm = new PhysMem(3)
    const data = new Uint8Array(5000).map((_, i) => (i % 251) + 1)
    pm.write(PAGE - 100, data)
    expect(pm.read(PAGE - 100, 5000)).toEqual(data)
    pm.fill(1, 0)
    expect(pm.read(PAGE, PAGE)).toEqual(new Uint8Array(PAGE))
    expect(pm.read(PAGE - 100, 100)).toEqual(data.subarray(0, 100))
  })

  it('frames in many groups and chunks keep their own bytes and extents', () => {
    const n = 2000 // slots across eight 256-frame groups in four chunks (1, 2, 4, 1 MiB)
    const pm = new PhysMem(n)
    const b = new Uint8Array([0, 0])
    for (let pfn = n - 1; pfn >= 0; pfn--) {
      b[0] = (pfn % 255) + 1
      b[1] = b[0]
      pm.write_at(pfn, pfn % (PAGE - 1), b, 0, 2)
    }
    for (let pfn = 0; pfn < n; pfn += 3) pm.fill(pfn, 0)
    for (let pfn = 0; pfn < n; pfn++) {
      const got = pm.peek(pfn)
      const off = pfn % (PAGE - 1)
      const v = pfn % 3 === 0 ? 0 : (pfn % 255) + 1
      let sum = 0
      for (let i = 0; i < PAGE; i++) sum += got[i]
      expect([pfn, got[off], got[off + 1], sum]).toEqual([pfn, v, v, 2 * v])
    }
  })
})
