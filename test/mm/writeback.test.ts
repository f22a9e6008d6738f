/**
 * Dirty pages and writeback on the simulated clock (mm/page-writeback.c,
 * fs/fs-writeback.c): the dirty limits, the sysctls, the periodic flush of
 * expired inodes, background writeback past the background threshold, the
 * pacing of a writer past the freerun ceiling, and what /proc/vmstat and
 * /proc/meminfo say meanwhile.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MAP_SHARED, O_CREAT, O_RDWR, O_TRUNC, POSIX_FADV_DONTNEED, PROT_READ, PROT_WRITE, type Machine, type Process } from '../../src/index.js'
import { global_dirty_limits } from '../../src/mm/page_writeback.js'
import { dirty_freerun_ceiling, dirty_poll_interval, pos_ratio_polynom } from '../../src/mm/page_writeback_throttle.js'
import { boot, fill_bytes } from '../helpers.js'

const SEC = 1_000_000_000
const defaults = { dirty_ratio: 20, dirty_bytes: 0, dirty_background_ratio: 10, dirty_background_bytes: 0 }

function vmstat(m: Machine): Record<string, number> {
  return Object.fromEntries(m.proc('/proc/vmstat').trimEnd().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]))
}
function meminfo_kb(m: Machine, key: string): number {
  return Number(new RegExp(`^${key}: +(\\d+) kB$`, 'm').exec(m.proc('/proc/meminfo'))?.[1])
}
const bytes = (n: number, seed = 5): Uint8Array => fill_bytes(n, (i) => (i * 13 + seed) & 255)

/** A file of `pages` dirty pages written at the current time. */
function dirty_file(p: Process, path: string, pages: number, seed = 5): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
  p.pwrite(fd, bytes(pages * 4096, seed), 0)
  return fd
}

describe('the dirty limits (domain_dirty_limits)', () => {
  it('worked example: 100000 dirtyable pages at 20 % / 10 % give 19995 / 9985 (ratios in 1/4096ths: 819 and 409)', () => {
    // thresh = 819 * 100000 / 4096 = 19995.1..., bg = 409 * 100000 / 4096 = 9985.3...
    expect(global_dirty_limits(100000, defaults)).toEqual({ thresh: 19995, bg_thresh: 9985 })
    // _bytes win: 10 MiB is 2560 pages; a background limit not below it is halved
    expect(global_dirty_limits(100000, { ...defaults, dirty_ratio: 0, dirty_bytes: 10 << 20, dirty_background_ratio: 0, dirty_background_bytes: 20 << 20 })).toEqual({ thresh: 2560, bg_thresh: 1280 })
    // DIV_ROUND_UP of bytes
    expect(global_dirty_limits(100000, { ...defaults, dirty_ratio: 0, dirty_bytes: 8193 }).thresh).toBe(3)
  })

  it('property: bg_thresh stays below thresh (or both 0), and both grow with the dirtyable memory', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e8 }), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (avail, more, r, bg) => {
        const s = { ...defaults, dirty_ratio: r, dirty_background_ratio: bg }
        const a = global_dirty_limits(avail, s)
        const b = global_dirty_limits(avail + more, s)
        return (a.bg_thresh < a.thresh || (a.thresh === 0 && a.bg_thresh === 0)) && b.thresh >= a.thresh && b.bg_thresh >= a.bg_thresh
      }),
    )
  })

  it('/proc/vmstat\'s thresholds are the formula over the machine\'s own free pages, reserves and file LRU', () => {
    const m = boot({ ram: '128M' })
    const zi = m.proc('/proc/zoneinfo')
    let free = 0
    let reserve = 0
    const names = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device']
    for (const z of zi.split(/^Node 0, zone +/m).slice(1)) {
      const name = z.split(/\s/)[0]
      const num = (re: RegExp): number => Number(re.exec(z)?.[1] ?? 0)
      free += num(/pages free +(\d+)/)
      const prot = /protection: \(([^)]*)\)/.exec(z)?.[1].split(',').map(Number) ?? [0]
      const idx = names.indexOf(name)
      reserve += Math.min(Math.max(0, ...prot.slice(idx)) + num(/\n +high +(\d+)/), num(/\n +managed +(\d+)/))
    }
    const v = vmstat(m)
    const avail = free - Math.min(free, reserve) + v.nr_inactive_file + v.nr_active_file + 1
    expect(v.nr_dirty_threshold).toBe(Math.floor((819 * avail) / 4096))
    expect(v.nr_dirty_background_threshold).toBe(Math.floor((409 * avail) / 4096))
  })

  it('the throttle curve: freerun ceiling, pos_ratio ~2 at freerun, 1 at the setpoint, ~0 at the limit; poll interval ~sqrt', () => {
    expect(dirty_freerun_ceiling(20000, 10000)).toBe(15000)
    const limit = 20000
    const freerun = 15000
    const setpoint = (freerun + limit) / 2
    // x = (2500 << 10) / (2500 | 1) = 1023; 1023 * 1023 >> 10 = 1022; 1022 * 1023 >> 10 = 1021; + 1024
    expect(pos_ratio_polynom(setpoint, freerun, limit)).toBe(2045)
    expect(pos_ratio_polynom(setpoint, setpoint, limit)).toBe(1024)
    // at the limit the cubic is all but 0 (wb_position_ratio() returns 0 there before using it)
    expect(pos_ratio_polynom(setpoint, limit, limit)).toBe(2)
    // 1 << (ilog2(thresh - dirty) >> 1): 10000 pages of headroom -> ilog2 13 -> 1 << 6
    expect(dirty_poll_interval(10000, 20000)).toBe(64)
    expect(dirty_poll_interval(20000, 20000)).toBe(1)
    fc.assert(fc.property(fc.integer({ min: 15000, max: 19999 }), fc.integer({ min: 0, max: 4999 }), (d, k) => pos_ratio_polynom(setpoint, d, limit) >= pos_ratio_polynom(setpoint, Math.min(limit, d + k), limit)))
  })
})

describe('/proc/sys/vm/dirty_*', () => {
  it('dirty_bytes and dirty_ratio exclude each other, and nr_dirty_threshold follows', () => {
    const m = boot({ ram: '64M' })
    m.proc_write('/proc/sys/vm/dirty_bytes', String(4 << 20))
    expect(m.proc('/proc/sys/vm/dirty_ratio')).toBe('0\n')
    expect(vmstat(m).nr_dirty_threshold).toBe(1024)
    m.proc_write('/proc/sys/vm/dirty_background_bytes', '1000000')
    expect(m.proc('/proc/sys/vm/dirty_background_ratio')).toBe('0\n')
    expect(vmstat(m).nr_dirty_background_threshold).toBe(245) // DIV_ROUND_UP(1000000, 4096)
    m.proc_write('/proc/sys/vm/dirty_ratio', '15')
    expect(m.proc('/proc/sys/vm/dirty_bytes')).toBe('0\n')
    m.proc_write('/proc/sys/vm/dirty_background_ratio', '5')
    expect(m.proc('/proc/sys/vm/dirty_background_bytes')).toBe('0\n')
    // writing the same ratio again leaves dirty_bytes alone (dirty_ratio_handler acts on a change only)
    m.proc_write('/proc/sys/vm/dirty_bytes', '65536')
    m.proc_write('/proc/sys/vm/dirty_ratio', '0')
    expect(m.proc('/proc/sys/vm/dirty_bytes')).toBe('65536\n')
  })
})

describe('periodic writeback (kupdate)', () => {
  // test/fixtures/probes/kupdate.py: on the real kernel the file was clean at 34.66 s (between 30 and 35 s: flushes every 5 s)
  it('a file dirtied at t stays dirty until the first flush after t + dirty_expire_centisecs, then is written back', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    // let the boot's own dirty files (program images) expire first
    m.clock.sleep_until(m.clock.now() + 40 * SEC)
    expect(vmstat(m).nr_dirty).toBe(0)
    const t0 = m.clock.now()
    const fd = dirty_file(p, '/data', 50)
    const w0 = vmstat(m).nr_written
    expect(p.cachestat(fd).nr_dirty).toBe(50)
    expect(meminfo_kb(m, 'Dirty')).toBe(200)
    m.clock.sleep_until(t0 + 29.9 * SEC)
    expect(p.cachestat(fd).nr_dirty).toBe(50)
    // flushes run every 5 s: the first one at or after t0 + 30 s writes the file
    m.clock.sleep_until(t0 + 35.1 * SEC)
    const v = vmstat(m)
    expect(p.cachestat(fd).nr_dirty).toBe(0)
    expect(v.nr_dirty).toBe(0)
    expect(v.nr_writeback).toBe(0)
    expect(v.nr_written - w0).toBe(50)
    expect(meminfo_kb(m, 'Dirty')).toBe(0)
  })

  it('dirty_writeback_centisecs 0 stops the periodic flush; a new non-zero value flushes everything at once', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    m.proc_write('/proc/sys/vm/dirty_writeback_centisecs', '0')
    m.clock.sleep_until(m.clock.now() + 10 * SEC) // a flush armed before the write still runs, and does not come back
    const fd = dirty_file(p, '/data', 20)
    m.clock.sleep_until(m.clock.now() + 120 * SEC)
    expect(p.cachestat(fd).nr_dirty).toBe(20)
    m.proc_write('/proc/sys/vm/dirty_writeback_centisecs', '1000')
    m.clock.sleep_until(m.clock.now() + SEC / 10)
    expect(p.cachestat(fd).nr_dirty).toBe(0)
    expect(vmstat(m).nr_dirty).toBe(0)
  })

  it('dirty_expire_centisecs is read at each flush: a shorter expiry writes sooner', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    m.proc_write('/proc/sys/vm/dirty_expire_centisecs', '500')
    const t0 = m.clock.now()
    const fd = dirty_file(p, '/data', 10)
    m.clock.sleep_until(t0 + 10.1 * SEC)
    expect(p.cachestat(fd).nr_dirty).toBe(0)
  })
})

describe('background writeback and throttling (balance_dirty_pages)', () => {
  it('a writer past the thresholds starts background writeback and is paced on the clock; dirty memory stays near the limit', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'dd' })
    const v0 = vmstat(m)
    const thresh = v0.nr_dirty_threshold
    const fd = p.open('/big', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    const chunk = bytes(64 * 1024)
    const t0 = m.clock.now()
    let peak = 0
    const total = 3 * thresh * 4096
    for (let off = 0; off < total; off += chunk.length) {
      p.pwrite(fd, chunk, off)
      const v = vmstat(m)
      peak = Math.max(peak, v.nr_dirty + v.nr_writeback)
    }
    const v = vmstat(m)
    // background writeback wrote while the task was writing (no fsync yet)
    expect(v.nr_written - v0.nr_written).toBeGreaterThan(thresh)
    // never far past the hard limit: the last ratelimit's worth of pages at most
    expect(peak).toBeLessThanOrEqual(thresh + 64)
    // the writer slept: far more simulated time than copying the pages costs
    expect(m.clock.now() - t0).toBeGreaterThan(10_000_000)
    // the disk saw the writes as requests
    const disk = m.proc('/sys/block/vda/stat').trim().split(/\s+/).map(Number)
    expect(disk[6]).toBeGreaterThanOrEqual((v.nr_written - v0.nr_written) * 8)
    p.fsync(fd)
    expect(vmstat(m).nr_writeback).toBe(0)
  })

  it('stores into a shared file mapping are paced too (fault_dirty_shared_page), and every byte stays right', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'mm' })
    const v0 = vmstat(m)
    const n = 3 * v0.nr_dirty_threshold
    const fd = p.open('/shared', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.ftruncate(fd, n * 4096)
    const a = p.mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    let peak = 0
    m.deferred_check(() => {
      for (let i = 0; i < n; i++) {
        p.store(a + i * 4096, [i & 255, (i >> 8) & 255])
        if (i % 256 === 0) {
          const v = vmstat(m)
          peak = Math.max(peak, v.nr_dirty + v.nr_writeback)
        }
      }
    })
    expect(vmstat(m).nr_written - v0.nr_written).toBeGreaterThan(v0.nr_dirty_threshold)
    expect(peak).toBeLessThanOrEqual(v0.nr_dirty_threshold + 64)
    for (let i = 0; i < n; i += 97) expect([...p.load(a + i * 4096, 2)]).toEqual([i & 255, (i >> 8) & 255])
  })

  it('a writer under the freerun ceiling is never paused', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    const v0 = vmstat(m)
    const pages = Math.floor(dirty_freerun_ceiling(v0.nr_dirty_threshold, v0.nr_dirty_background_threshold) / 2) - v0.nr_dirty
    const t0 = m.clock.now()
    dirty_file(p, '/small', pages)
    // only CPU costs: well under a millisecond per 100 pages
    expect(m.clock.now() - t0).toBeLessThan(pages * 10_000)
    expect(vmstat(m).nr_dirty).toBeGreaterThanOrEqual(pages)
  })
})

describe('POSIX_FADV_DONTNEED on dirty pages (test/fixtures/probes/fadvise_dirty.py on Linux 6.18.44)', () => {
  it('starts their writeback and keeps them; once written, a second DONTNEED drops them: the same cachestat lines', () => {
    const recorded = readFileSync(new URL('../fixtures/probes/fadvise_dirty.txt', import.meta.url), 'utf8').trimEnd().split('\n')
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'f' })
    const out: string[] = []
    for (let rep = 0; rep < 3; rep++) {
      const cs = (fd: number): string => {
        const c = p.cachestat(fd)
        return `(${c.nr_cache}, ${c.nr_dirty}, ${c.nr_writeback})`
      }
      const fd = dirty_file(p, '/fadv', 50)
      const a = cs(fd)
      p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
      const b = cs(fd)
      m.clock.sleep_until(m.clock.now() + 0.2 * SEC)
      const c = cs(fd)
      p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
      out.push(`written ${a} after DONTNEED ${b} 0.2s later ${c} second DONTNEED ${cs(fd)}`)
      p.close(fd)
    }
    expect(out).toEqual(recorded)
  })
})

describe('data integrity through writeback', () => {
  it('property: writes, flushes, fsync and eviction: every byte reads back as last written', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), page: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 1, max: 40 }), seed: fc.integer({ min: 0, max: 255 }) }),
            fc.record({ op: fc.constant('sleep' as const), s: fc.integer({ min: 1, max: 40 }) }),
            fc.record({ op: fc.constant('fsync' as const) }),
            fc.record({ op: fc.constant('drop' as const) }),
          ),
          { minLength: 1, maxLength: 25 },
        ),
        (ops) => {
          const m = boot({ ram: '32M' })
          const p = m.spawn({ name: 'w' })
          const fd = p.open('/file', O_RDWR | O_CREAT | O_TRUNC, 0o644)
          const model = new Uint8Array(341 * 4096)
          let size = 0
          for (const o of ops) {
            if (o.op === 'write') {
              const data = bytes(o.n * 4096, o.seed)
              p.pwrite(fd, data, o.page * 4096)
              model.set(data, o.page * 4096)
              size = Math.max(size, (o.page + o.n) * 4096)
            } else if (o.op === 'sleep') m.clock.sleep_until(m.clock.now() + o.s * SEC)
            else if (o.op === 'fsync') p.fsync(fd)
            else p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
          }
          const back = p.pread(fd, size, 0)
          m.check()
          return back.length === size && back.every((b, i) => b === model[i])
        },
      ),
      { numRuns: 20 },
    )
  })
})
