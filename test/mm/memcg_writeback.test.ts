/**
 * A cgroup v1 memory cgroup and writeback: v1 has no per-memcg writeback
 * domain (docs/writeback.md), so the dirty limits are the machine's and a
 * group's own reclaim meets its dirty pages. A writer much larger than its
 * group's limit still completes, its data reads back, and the group never
 * holds more than its limit.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { O_CREAT, O_RDWR, O_TRUNC } from '../../src/index.js'
import { boot } from '../helpers.js'

const vm = (text: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)

describe('cgroup v1 memcg and writeback', () => {
  it('a 16 MiB write in a 2 MiB group completes, stays within the limit, and reads back', () => {
    const m = boot({ ram: '128M' })
    const g = m.cgroup_create('w', { limit: '2M' })
    const p = m.spawn({ name: 'writer' })
    g.attach(p)
    const fd = p.open('/big', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    const chunk = (i: number): Uint8Array => Uint8Array.from({ length: 65536 }, (_, j) => (i * 13 + j) & 255)
    let peak = 0
    for (let i = 0; i < 256; i++) {
      expect(p.pwrite(fd, chunk(i), i * 65536)).toBe(65536)
      peak = Math.max(peak, g.usage())
      const st = g.stat()
      // memory.stat's dirty and writeback are the group's pages, never more than it holds
      expect(st.dirty + st.writeback).toBeLessThanOrEqual(st.cache)
    }
    expect(peak).toBeLessThanOrEqual(2 << 20)
    // the global dirty threshold (a fifth of ~120 MiB) is far above the group's 2 MiB: not what bounded it
    expect(vm(m.proc('/proc/vmstat'), 'nr_dirty_threshold')).toBeGreaterThan(2 * 512)
    // the group's reclaim took its pages, written back first
    expect(vm(m.proc('/proc/vmstat'), 'nr_written')).toBeGreaterThanOrEqual(256 * 16 - 512)
    for (let i = 0; i < 256; i += 17) expect(Buffer.compare(Buffer.from(p.pread(fd, 65536, i * 65536)), Buffer.from(chunk(i)))).toBe(0)
    p.fsync(fd)
    expect(g.stat().dirty).toBe(0)
  })

  it('property: random writes through a small group read back byte for byte', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 40000 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 40 }), (writes) => {
        const m = boot({ ram: '64M' })
        const g = m.cgroup_create('p', { limit: '1M' })
        const p = m.spawn({ name: 'w' })
        g.attach(p)
        const fd = p.open('/f', O_RDWR | O_CREAT | O_TRUNC, 0o644)
        const model = new Uint8Array(501 * 4096 + 40000)
        let size = 0
        for (const [page, len, seed] of writes) {
          const data = Uint8Array.from({ length: len }, (_, j) => (seed + j * 7) & 255)
          p.pwrite(fd, data, page * 4096)
          model.set(data, page * 4096)
          size = Math.max(size, page * 4096 + len)
          if (g.usage() > 1 << 20) return false
        }
        // the ranges written, in the order written (each read may evict what the last one brought in)
        for (const [page, len] of writes) {
          const back = p.pread(fd, len, page * 4096)
          if (Buffer.compare(Buffer.from(back), Buffer.from(model.subarray(page * 4096, page * 4096 + len)))) return false
        }
        return size > 0
      }),
      { numRuns: 10 },
    )
  })
})
