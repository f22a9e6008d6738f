/**
 * /proc/diskstats and /sys/block/<dev>/stat: the layout of block/genhd.c,
 * and the requests the root disk sees, against test/fixtures/probes/
 * diskstats.py's recording on Linux 6.18.44 (a virtio disk with
 * read_ahead_kb 8192, max_sectors_kb 4096, max_segments 254, ext4 without a
 * journal): reads of a file made cold with POSIX_FADV_DONTNEED in several
 * sizes and strides, and write + fsync.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MachineConfigError, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, POSIX_FADV_DONTNEED, type Machine, type Process } from '../../src/index.js'
import { boot, fill_bytes } from '../helpers.js'

interface ReadCase { read: number; chunk: number; stride: number; runs: number[][] }
interface WriteCase { write_fsync: number; runs: number[][] }
interface FsyncCase { case: string; runs: number[][] }
const recorded = readFileSync(new URL('../fixtures/probes/diskstats.txt', import.meta.url), 'utf8')
  .trimEnd()
  .split('\n')
  .map((l) => JSON.parse(l) as ReadCase | WriteCase | FsyncCase | { note: string })

const vda = (m: Machine): number[] => m.proc('/sys/block/vda/stat').trim().split(/\s+/).map(Number)
const bytes = (n: number, seed = 7): Uint8Array => fill_bytes(n, (i) => (i * 31 + seed) & 255)

/** A file of `size` bytes on the disk, written back and dropped from the cache: the probe's setup. */
function cold_file(m: Machine, p: Process, size: number): number {
  const fd = p.open('/probe', O_RDWR | O_CREAT | O_TRUNC, 0o644)
  p.pwrite(fd, bytes(size), 0)
  p.fsync(fd)
  p.close(fd)
  const rd = p.open('/probe', O_RDONLY)
  p.fadvise(rd, 0, 0, POSIX_FADV_DONTNEED)
  return rd
}

describe('/proc/diskstats', () => {
  it('prints one line per disk in genhd.c\'s layout: major, minor, name and 17 counters', () => {
    const m = boot({ swap: '8M' })
    const lines = m.proc('/proc/diskstats').trimEnd().split('\n')
    expect(lines.map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([['254', '0', 'vda'], ['252', '0', 'zram0']])
    for (const l of lines) {
      expect(l).toMatch(/^ {1}254 {7}0 vda( \d+){17}$|^ {1}252 {7}0 zram0( \d+){17}$/)
      expect(l.trim().split(/\s+/)).toHaveLength(20)
    }
    // /sys/block/<dev>/stat: the same counters, "%8lu" each
    const stat = m.proc('/sys/block/vda/stat')
    expect(stat).toMatch(/^( {0,7}\d{1,8} ){16} {0,7}\d{1,8}\n$/)
    expect(stat.trim().split(/\s+/)).toEqual(lines[0].trim().split(/\s+/).slice(3))
  })

  it('counts page-cache reads as the real kernel\'s block layer did, request for request', () => {
    for (const c of recorded) {
      if (!('read' in c)) continue
      const m = boot({ ram: '128M', read_ahead_kb: 8192 })
      const p = m.spawn({ name: 'probe' })
      const fd = cold_file(m, p, c.read)
      const a = vda(m)
      for (let off = 0; off < c.read; off += c.stride) p.pread(fd, c.chunk, off)
      m.clock.sleep_until(m.clock.now() + 1e9)
      const z = vda(m)
      const got = [z[0] - a[0], z[2] - a[2]]
      // The one 1 MiB read() splits or not at 254 segments as the frames happen to lie (see the recording's note).
      if (c.read === c.chunk && c.read === 1 << 20) expect([[1, 2048], [2, 2048]]).toContainEqual(got)
      else expect(got, JSON.stringify(c)).toEqual(c.runs[0])
      for (const r of c.runs) expect(r).toEqual(c.runs[0])
    }
  })

  it('counts writeback and fsync writes as the real kernel did: data runs, the inode block, the flush', () => {
    const m = boot({ ram: '128M' })
    const p = m.spawn({ name: 'probe' })
    // [writes, sectors written, ms discarding] as diskstats.py recorded them (its third value is not the flush count: fdatasync.test.ts counts flushes)
    const d = (a: number[], z: number[]): number[] => [z[4] - a[4], z[6] - a[6], z[14] - a[14]]
    for (const c of recorded) {
      if (!('write_fsync' in c)) continue
      const fd = p.open('/probe', O_RDWR | O_CREAT | O_TRUNC, 0o644)
      p.fsync(fd)
      const a = vda(m)
      p.pwrite(fd, bytes(c.write_fsync), 0)
      p.fsync(fd)
      expect(d(a, vda(m)), `write_fsync ${c.write_fsync}`).toEqual(c.runs[0])
      p.close(fd)
    }
    const by = new Map(recorded.filter((c): c is FsyncCase => 'case' in c).map((c) => [c.case, c.runs[0]]))
    const fd = p.open('/probe2', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(fd, bytes(1 << 20), 0)
    p.fsync(fd)
    let a = vda(m)
    p.fsync(fd)
    expect(d(a, vda(m))).toEqual(by.get('fsync_clean'))
    a = vda(m)
    p.pwrite(fd, bytes(1 << 20, 9), 0)
    p.fsync(fd)
    expect(d(a, vda(m))).toEqual(by.get('overwrite_fsync'))
    a = vda(m)
    p.pwrite(fd, bytes(4096, 1), 0)
    p.pwrite(fd, bytes(4096, 2), 8192)
    p.fsync(fd)
    expect(d(a, vda(m))).toEqual(by.get('two_pages_gap_fsync'))
  })

  it('a read(2) that misses waits for its request: in_flight is 0 after it, time reading is the device\'s', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'r' })
    const fd = cold_file(m, p, 4096)
    const t0 = m.clock.now()
    const a = vda(m)
    p.pread(fd, 4096, 0)
    const z = vda(m)
    expect(z[0] - a[0]).toBe(1)
    expect(z[8]).toBe(0)
    // one 4 KiB read: the clock's disk_read_page (80 us) passed while the task waited
    expect(m.clock.now() - t0).toBeGreaterThanOrEqual(80_000)
  })

  it('swap in and out on zram count one request of 8 sectors per page', () => {
    const m = boot({ ram: '64M', swap: '16M' })
    const p = m.spawn({ name: 's' })
    const zram = (): number[] => m.proc('/sys/block/zram0/stat').trim().split(/\s+/).map(Number)
    const before = zram()
    const vm = (k: string): number => Number(/^(\S+) (\d+)$/m.exec(m.proc('/proc/vmstat').split('\n').find((l) => l.startsWith(`${k} `)) ?? '')?.[2] ?? 0)
    const out0 = vm('pswpout')
    const in0 = vm('pswpin')
    const addr = p.mmap(0, 1 << 20, 3, 0x22)
    for (let i = 0; i < 256; i++) p.store(addr + i * 4096, [(i % 250) + 1, i >> 8, 7])
    p.madvise(addr, 1 << 20, 21) // MADV_PAGEOUT
    for (let i = 0; i < 256; i++) p.load(addr + i * 4096, 1)
    const after = zram()
    const outs = vm('pswpout') - out0
    const ins = vm('pswpin') - in0
    expect(outs).toBeGreaterThan(0)
    expect(after[4] - before[4]).toBe(outs)
    expect(after[6] - before[6]).toBe(8 * outs)
    expect(after[0] - before[0]).toBe(ins)
    expect(after[2] - before[2]).toBe(8 * ins)
  })

  it('property: counters only grow, and every page read cold was read once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 16 })), { minLength: 1, maxLength: 12 }), (reads) => {
        const m = boot({ ram: '64M' })
        const p = m.spawn({ name: 'r' })
        const fd = cold_file(m, p, 64 * 4096)
        const start = vda(m)
        let prev = start
        for (const [page, n] of reads) {
          p.pread(fd, n * 4096, page * 4096)
          const now = vda(m)
          for (let i = 0; i < now.length; i++) if (i !== 8) expect(now[i]).toBeGreaterThanOrEqual(prev[i])
          prev = now
        }
        m.clock.sleep_until(m.clock.now() + 1e9)
        const end = vda(m)
        const cached = p.cachestat(fd, 0, 0).nr_cache
        // every page cached was read from the disk exactly once (the file was cold and stays cached), none twice
        return end[8] === 0 && cached * 8 === end[2] - start[2]
      }),
      { numRuns: 15 },
    )
  })
})

describe('the root disk\'s speed (Machine option root_disk)', () => {
  it('a cold one-page read waits for the virtio disk (80 us) or for zram (2 us); the requests are the same', () => {
    const wait = (root_disk: 'virtio' | 'zram'): { ns: number; stat: number[] } => {
      const m = boot({ ram: '64M', read_ahead_kb: 0, root_disk })
      const p = m.spawn()
      const fd = cold_file(m, p, 4096)
      const before = vda(m)
      const t0 = m.clock.now()
      expect(p.pread(fd, 4096, 0)).toEqual(bytes(4096).subarray(0, 4096))
      const stat = vda(m).map((v, i) => v - before[i])
      return { ns: m.clock.now() - t0, stat }
    }
    const virtio = wait('virtio')
    const zram = wait('zram')
    // One read request of 8 sectors either way; only the time it takes differs.
    expect(virtio.stat.slice(0, 3)).toEqual([1, 0, 8])
    expect(zram.stat.slice(0, 3)).toEqual([1, 0, 8])
    expect(virtio.ns).toBeGreaterThanOrEqual(80_000)
    expect(zram.ns).toBeGreaterThanOrEqual(2_000)
    expect(zram.ns).toBeLessThan(10_000)
  })

  it('another value is a machine configuration error naming it', () => {
    expect(() => boot({ root_disk: 'nvme' as 'zram' })).toThrow(new MachineConfigError("root_disk: 'nvme' is not virtio or zram"))
  })
})
