/**
 * cachestat(2): the simulated process runs test/fixtures/probes/cachestat.c's
 * steps and prints its lines, which must equal the real kernel's; then the
 * evicted counts, from shadow entries and shmem swap entries.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MADV_PAGEOUT, MAP_SHARED, O_CREAT, O_RDWR, O_TRUNC, POSIX_FADV_DONTNEED, PROT_READ, errno_name, type Cachestat } from '../../src/index.js'
import { boot } from '../helpers.js'

const recorded = readFileSync(new URL('../fixtures/probes/cachestat.txt', import.meta.url), 'utf8')

describe('cachestat(2)', () => {
  it('prints what cachestat.c printed on Linux 6.18.44', () => {
    const m = boot()
    const p = m.spawn({ name: 'cachestat' })
    const out: string[] = []
    const show = (label: string, fd: number, off: number, len: number, flags: number): void => {
      const r = p.sys_cachestat(fd, off, len, flags)
      out.push(typeof r === 'number' ? `${label}: -1 ${errno_name(-r)}` : `${label}: cache=${r.nr_cache} dirty=${r.nr_dirty} writeback=${r.nr_writeback} evicted=${r.nr_evicted}`)
    }
    const buf = new Uint8Array(4 * 4096).fill(0x63)
    for (const [path, name] of [['/var/tmp/cachestat_probe', 'ext4'], ['/dev/shm/cachestat_probe', 'tmpfs']]) {
      const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
      show(`${name} empty`, fd, 0, 0, 0)
      p.pwrite(fd, buf, 0)
      show(`${name} written`, fd, 0, 0, 0)
      show(`${name} pages 1-2`, fd, 4096, 2 * 4096, 0)
      show(`${name} bytes 4095-4096`, fd, 4095, 2, 0)
      p.sys_fsync(fd)
      show(`${name} fsynced`, fd, 0, 0, 0)
      p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
      show(`${name} DONTNEED`, fd, 0, 0, 0)
      show(`${name} flags 1`, fd, 0, 0, 1)
      p.close(fd)
    }
    show('bad fd', 999, 0, 0, 0)
    show('bad fd, flags 1', 999, 0, 0, 1)
    expect(out).toEqual(recorded.trimEnd().split('\n'))
  })

  it('reclaimed pages are evicted (shadows), recently evicted while their refault distance is short; swapped shmem pages are evicted', () => {
    const m = boot({ swap: '8M' })
    const g = m.cgroup_create('box', { limit: '1M' })
    const p = m.spawn({ name: 'r' })
    g.attach(p)
    const fd = p.open('/var/tmp/big', O_CREAT | O_RDWR)
    m.deferred_check(() => {
      p.pwrite(fd, new Uint8Array(2 << 20), 0)
      p.sys_fsync(fd)
      for (let i = 0; i < 512; i++) p.pread(fd, 4096, i * 4096)
    })
    const cs = p.cachestat(fd)
    expect(cs.nr_cache + cs.nr_evicted).toBe(512)
    expect(cs.nr_evicted).toBeGreaterThan(0)
    expect(cs.nr_recently_evicted).toBeLessThanOrEqual(cs.nr_evicted)
    const s = p.open('/dev/shm/s', O_CREAT | O_RDWR)
    p.pwrite(s, new Uint8Array(8 * 4096).fill(1), 0)
    const a = p.mmap(0, 8 * 4096, PROT_READ, MAP_SHARED, s, 0)
    p.load(a, 8 * 4096)
    p.madvise(a, 8 * 4096, MADV_PAGEOUT)
    const ss: Cachestat = p.cachestat(s)
    expect(ss.nr_cache + ss.nr_evicted).toBe(8)
    expect(ss.nr_evicted).toBeGreaterThan(0)
  })

  it('property: nr_cache + nr_evicted over a range is the sum over any split of it', () => {
    const m = boot()
    const p = m.spawn({ name: 'p' })
    const fd = p.open('/var/tmp/f', O_CREAT | O_RDWR)
    p.pwrite(fd, new Uint8Array(40 * 4096).fill(2), 0)
    p.fadvise(fd, 8 * 4096, 8 * 4096, POSIX_FADV_DONTNEED)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 * 4096 }), fc.integer({ min: 1, max: 50 * 4096 }), fc.integer({ min: 0, max: 50 * 4096 }), (off, len, cut) => {
        const split = Math.min(Math.max(cut, off), off + len)
        const whole = p.cachestat(fd, off, len)
        const pageA = Math.floor(off / 4096)
        const pageEnd = Math.floor((off + len - 1) / 4096)
        const pageSplit = Math.floor(split / 4096)
        // count the pages of [pageA, pageSplit) and [pageSplit, pageEnd] separately
        const left = pageSplit > pageA ? p.cachestat(fd, pageA * 4096, (pageSplit - pageA) * 4096) : { nr_cache: 0 }
        const right = pageSplit <= pageEnd ? p.cachestat(fd, pageSplit * 4096, (pageEnd - pageSplit + 1) * 4096) : { nr_cache: 0 }
        expect(left.nr_cache + right.nr_cache).toBe(whole.nr_cache)
        expect(whole.nr_cache).toBeLessThanOrEqual(pageEnd - pageA + 1)
      }),
      { numRuns: 100 },
    )
  })
})
