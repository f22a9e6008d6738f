/**
 * A cgroup v1 memory cgroup and writeback: v1 has no per-memcg writeback
 * domain (docs/writeback.md), so the dirty limits are the machine's and a
 * group's own reclaim meets its dirty pages. A writer much larger than its
 * group's limit still completes, its data reads back, and the group never
 * holds more than its limit.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { O_CREAT, O_RDWR, O_TRUNC, type Cgroup, type Machine, type Process } from '../../src/index.js'
import { boot, fill_bytes } from '../helpers.js'
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { _PAGE_DIRTY, _PAGE_RW } from '../../src/arch/pte.js'

const vm = (text: string, key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN)

/** A debug_vm machine of `ram` with a v1 group `group` of `limit`, and a process `name` in it. */
function in_group(ram: string, group: string, limit: string, name: string): { m: Machine; g: Cgroup; p: Process } {
  const m = boot({ ram })
  const g = m.cgroup_create(group, { limit })
  const p = m.spawn({ name })
  g.attach(p)
  return { m, g, p }
}

describe('cgroup v1 memcg and writeback', () => {
  it('a 16 MiB write in a 2 MiB group completes, stays within the limit, and reads back', () => {
    const { m, g, p } = in_group('128M', 'w', '2M', 'writer')
    const fd = p.open('/big', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    const chunk = (i: number): Uint8Array => fill_bytes(65536, (j) => (i * 13 + j) & 255)
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
        const { g, p } = in_group('64M', 'p', '1M', 'w')
        const fd = p.open('/f', O_RDWR | O_CREAT | O_TRUNC, 0o644)
        const model = new Uint8Array(501 * 4096 + 40000)
        let size = 0
        for (const [page, len, seed] of writes) {
          const data = fill_bytes(len, (j) => (seed + j * 7) & 255)
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

describe('reclaim meeting folios under writeback (shrink_folio_list\'s writeback cases)', () => {
  const rotated = (m: ReturnType<typeof boot>): number => vm(m.proc('/proc/vmstat'), 'pgrotated')

  it('POSIX_FADV_DONTNEED marks the folios it starts writing PG_reclaim (lru_deactivate_file): they rotate to the inactive tail when the write ends', () => {
    const m = boot({ ram: '128M' })
    const p = m.spawn({ name: 'r' })
    const a = p.open('/a', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(a, new Uint8Array(1 << 20).fill(0x5a), 0)
    const r0 = rotated(m)
    p.fadvise(a, 0, 0, 4)
    expect(p.cachestat(a, 0, 0).nr_writeback).toBe(256)
    expect(rotated(m)).toBe(r0)
    m.clock.sleep_until(m.clock.now() + 1e9)
    expect(p.cachestat(a, 0, 0).nr_writeback).toBe(0)
    expect(rotated(m) - r0).toBe(256)
  })

  it('v1 memcg reclaim waits for a folio under writeback it finds marked PG_reclaim, then frees it (case 3)', () => {
    const { m, g, p } = in_group('128M', 'wb', '2M', 'r')
    const a = p.open('/a', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(a, new Uint8Array(1 << 20).fill(0x5a), 0)
    p.fadvise(a, 0, 0, 4)
    expect(p.cachestat(a, 0, 0).nr_writeback).toBe(256)
    const r0 = rotated(m)
    const b = p.open('/b', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(b, new Uint8Array(1536 << 10).fill(1), 0)
    // without any sleep, the group's reclaim waited for /a's writes and freed what it needed of them
    const left = p.cachestat(a, 0, 0)
    expect(left.nr_writeback).toBe(0)
    expect(left.nr_cache).toBeLessThan(256)
    // the folio waited for was isolated when its request ended and does not rotate; the request's
    // other folios, marked by DONTNEED and still on a list, do
    const n = rotated(m) - r0
    expect(n).toBeGreaterThan(0)
    expect(n).toBeLessThan(256)
    expect(g.usage()).toBeLessThanOrEqual(2 << 20)
    expect(p.pread(a, 1 << 20, 0).every((x) => x === 0x5a)).toBe(true)
  })

  it('v1 memcg reclaim marks a folio the flusher is writing, or a dirty one it leaves to the flusher, PG_reclaim and activates it; it rotates when the write ends', () => {
    const m = boot({ ram: '128M' })
    m.proc_write('/proc/sys/vm/dirty_background_bytes', '1048576')
    const g = m.cgroup_create('wb', { limit: '4M' })
    const p = m.spawn({ name: 'r' })
    g.attach(p)
    const a = p.open('/a', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    // past the background threshold: the flusher writes /a in the background between the calls
    for (let i = 0; i < 32; i++) p.pwrite(a, new Uint8Array(65536).fill(0x5a), i * 65536)
    const r0 = rotated(m)
    const i0 = vm(m.proc('/proc/vmstat'), 'nr_vmscan_immediate_reclaim')
    const b = p.open('/b', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(b, new Uint8Array(3 << 20).fill(1), 0)
    m.clock.sleep_until(m.clock.now() + 2e9)
    expect(p.cachestat(a, 0, 0).nr_writeback).toBe(0)
    // only reclaim marks a folio: each rotation is one it found under writeback (case 2) or dirty
    // (nr_vmscan_immediate_reclaim: it does not write file folios), of /a's 512 pages and /b's 768
    const n = rotated(m) - r0
    const immediate = vm(m.proc('/proc/vmstat'), 'nr_vmscan_immediate_reclaim') - i0
    expect(n).toBeGreaterThan(0)
    expect(immediate).toBeGreaterThan(0)
    expect(n).toBeLessThanOrEqual(512 + 768)
    expect(g.usage()).toBeLessThanOrEqual(4 << 20)
    expect(p.pread(a, 2 << 20, 0).every((x) => x === 0x5a)).toBe(true)
  })

  it('reclaim writes no file folio: stores through a shared mapping larger than the group wait for the flusher (reclaim_throttle) and all read back', () => {
    const { m, g, p } = in_group('128M', 'mw', '256K', 'w')
    const fd = p.open('/m', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.ftruncate(fd, 200 * 4096)
    const a = p.mmap(0, 200 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    const throttled: string[] = []
    m.trace.on((e) => {
      if (e.name === 'mm_vmscan_throttled') throttled.push(e.text)
    })
    const before = m.proc('/proc/vmstat')
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 200; i++) {
        p.store(a + i * 4096 + (i % 4000), [(round * 7 + i) & 255])
        expect(g.usage()).toBeLessThanOrEqual(256 << 10)
      }
    }
    const after = m.proc('/proc/vmstat')
    const d = (k: string): number => vm(after, k) - vm(before, k)
    // every dirty page reclaim met was left to the flusher, and it wrote them
    expect(d('nr_vmscan_write')).toBe(0)
    expect(d('nr_vmscan_immediate_reclaim')).toBeGreaterThan(0)
    expect(d('nr_written')).toBeGreaterThanOrEqual(3 * 200 - 64)
    expect(d('oom_kill')).toBe(0)
    expect(throttled.length).toBeGreaterThan(0)
    expect(throttled[0]).toMatch(/^nid=0 usec_timeout=100000 usect_delayed=\d+ reason=VMSCAN_THROTTLE_WRITEBACK$/)
    // each wait ended within HZ/10 (by the flusher's progress, or the timeout)
    for (const t of throttled) expect(Number(/usect_delayed=(\d+)/.exec(t)?.[1])).toBeLessThanOrEqual(100000)
    for (let i = 0; i < 200; i++) expect(p.load(a + i * 4096 + (i % 4000), 1)[0]).toBe((3 * 7 + i) & 255)
    p.fsync(fd)
    const back = p.pread(fd, 200 * 4096, 0)
    for (let i = 0; i < 200; i++) expect(back[i * 4096 + (i % 4000)]).toBe((3 * 7 + i) & 255)
  })

  it('writing back a mapped page cleans and write-protects its shared PTE (folio_mkclean): the next store dirties it again', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    const fd = p.open('/k', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.ftruncate(fd, 4096)
    const a = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    p.store(a + 10, [1])
    const pte = (): number => p.mm.pgd.get(a / 4096)
    expect(pte() & _PAGE_DIRTY).toBe(_PAGE_DIRTY)
    expect(p.cachestat(fd, 0, 0).nr_dirty).toBe(1)
    p.fsync(fd)
    expect(p.cachestat(fd, 0, 0).nr_dirty).toBe(0)
    expect(pte() & (_PAGE_DIRTY | _PAGE_RW)).toBe(0)
    const dirtied = vm(m.proc('/proc/vmstat'), 'nr_dirtied')
    p.store(a + 11, [2])
    // the store faulted (page_mkwrite) and the page is dirty and accounted again
    expect(pte() & (_PAGE_DIRTY | _PAGE_RW)).toBe(_PAGE_DIRTY | _PAGE_RW)
    expect(p.cachestat(fd, 0, 0).nr_dirty).toBe(1)
    expect(vm(m.proc('/proc/vmstat'), 'nr_dirtied')).toBe(dirtied + 1)
    p.fsync(fd)
    expect([...p.pread(fd, 2, 10)]).toEqual([1, 2])
  })
})
