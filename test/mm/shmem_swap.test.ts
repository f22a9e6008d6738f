import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, type Machine } from '../../src/index.js'
import { boot } from '../helpers.js'

const vmstat = (m: Machine, key: string): number => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(m.proc('/proc/vmstat'))![1])
const meminfo = (m: Machine, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(m.proc('/proc/meminfo'))![1])
const bytes = (n: number, seed: number): Uint8Array => {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 12)) & 0xff
  return b
}
/** toEqual on megabytes is slow: compare as Buffers. */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

describe('shmem pages go to swap (shmem_writeout) and come back', () => {
  it('truncation to the middle of a page out on swap reads it back and zeroes its tail (shmem_get_partial_folio): growing the file again shows zeros, not the old bytes', () => {
    const m = boot({ ram: '64M', swap: '32M' })
    const g = m.cgroup_create('box', { limit: '1M' })
    const p = m.spawn({ name: 't' })
    g.attach(p)
    const fd = p.open('/dev/shm/partial', O_CREAT | O_RDWR)
    // Four times the group's limit: the first pages written are out on swap.
    m.deferred_check(() => {
      for (let off = 0; off < 4 << 20; off += 1 << 18) p.pwrite(fd, new Uint8Array(1 << 18).fill(0xc8), off)
    })
    expect(m.proc(`/proc/meminfo`)).toMatch(/SwapCached|SwapFree/)
    const swapped = vmstat(m, 'pswpout')
    expect(swapped).toBeGreaterThan(256)
    const pswpin = vmstat(m, 'pswpin')
    p.ftruncate(fd, 3923)
    // Page 0 came back from swap to have its tail zeroed.
    expect(vmstat(m, 'pswpin')).toBeGreaterThan(pswpin)
    p.pwrite(fd, [1], 9000)
    const back = p.pread(fd, 9001, 0)
    expect(back.subarray(0, 3923).every((b) => b === 0xc8)).toBe(true)
    expect(back.subarray(3923, 9000).every((b) => b === 0)).toBe(true)
    expect(back[9000]).toBe(1)
    m.check()
  })

  it('a tmpfs file larger than its cgroup limit is swapped out under the limit and reads back whole', () => {
    const m = boot({ ram: '64M', swap: '32M' })
    const g = m.cgroup_create('box', { limit: '2M' })
    const p = m.spawn({ name: 'w' })
    g.attach(p)
    const fd = p.open('/dev/shm/f', O_CREAT | O_RDWR)
    const data = bytes(6 << 20, 3)
    m.deferred_check(() => {
      for (let off = 0; off < data.length; off += 1 << 20) expect(p.pwrite(fd, data.subarray(off, off + (1 << 20)), off)).toBe(1 << 20)
    })
    expect(vmstat(m, 'pswpout')).toBeGreaterThan(0)
    // Shmem counts the pages in memory only; the tmpfs still holds every block.
    expect(meminfo(m, 'Shmem')).toBeLessThan(6 << 10)
    const st = p.statfs('/dev/shm')
    expect(st.f_blocks - st.f_bfree).toBe((6 << 20) / 4096)
    expect(g.stat().shmem).toBeLessThanOrEqual(2 << 20)
    const pswpin = vmstat(m, 'pswpin')
    let back: Uint8Array = new Uint8Array(0)
    m.deferred_check(() => {
      back = p.pread(fd, data.length, 0)
    })
    expect(same(back, data)).toBe(true)
    expect(vmstat(m, 'pswpin')).toBeGreaterThan(pswpin)
  })

  it('MADV_PAGEOUT of a shared anonymous mapping: smaps Swap, a major fault brings the bytes back, Dirty never counts shmem', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn({ name: 's' })
    const n = 16
    const a = p.mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    const data = bytes(n * 4096, 5)
    const dirty0 = meminfo(m, 'Dirty')
    p.store(a, data)
    // tmpfs pages are dirty without NR_FILE_DIRTY (noop_dirty_folio)
    expect(meminfo(m, 'Dirty')).toBe(dirty0)
    const shmem = meminfo(m, 'Shmem')
    p.madvise(a, n * 4096, MADV_PAGEOUT)
    expect(meminfo(m, 'Shmem')).toBe(shmem - n * 4)
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps).toMatch(new RegExp(`^Swap:\\s+${n * 4} kB`, 'm'))
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/^RssShmem:\s+0 kB/m)
    const maj = vmstat(m, 'pgmajfault')
    expect(p.load(a, n * 4096)).toEqual(data)
    expect(vmstat(m, 'pgmajfault') - maj).toBe(n)
    expect(meminfo(m, 'Shmem')).toBe(shmem)
    expect(m.proc(`/proc/${p.pid}/smaps`)).toMatch(/^Swap:\s+0 kB/m)
  })

  it('without swap a shmem folio stays (activated); truncating a swapped file frees its slots; swapoff brings pages back', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn({ name: 't' })
    const fd = p.open('/tmp/t', O_CREAT | O_RDWR)
    const data = bytes(8 * 4096, 9)
    p.pwrite(fd, data, 0)
    const a = p.mmap(0, 8 * 4096, PROT_READ, MAP_SHARED, fd, 0)
    p.load(a, 8 * 4096)
    p.madvise(a, 8 * 4096, MADV_PAGEOUT)
    expect(m.proc('/proc/swaps')).toMatch(/\s32\s/)
    p.ftruncate(fd, 4 * 4096)
    expect(m.proc('/proc/swaps')).toMatch(/\s16\s/)
    p.swapoff('/dev/zram0')
    expect(p.pread(fd, 4 * 4096, 0)).toEqual(data.subarray(0, 4 * 4096))
    // No swap now: MADV_PAGEOUT leaves the pages in memory.
    const shmem = meminfo(m, 'Shmem')
    p.madvise(a, 4 * 4096, MADV_PAGEOUT)
    expect(meminfo(m, 'Shmem')).toBe(shmem)
  })

  it('property: shared file, shared anonymous and private mappings of tmpfs read back as written across page-out and fork', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 255 }), fc.boolean()), { maxLength: 15 }), (ops) => {
        const m = boot({ swap: '8M' })
        const p = m.spawn({ name: 'p' })
        const fd = p.open('/dev/shm/p', O_CREAT | O_RDWR)
        p.ftruncate(fd, 12 * 4096)
        const maps = [
          p.mmap(0, 12 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
          p.mmap(0, 12 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS),
          p.mmap(0, 12 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
        ]
        const model = maps.map(() => new Uint8Array(12 * 4096))
        m.deferred_check(() => {
          for (const [which, page, val, pageout] of ops) {
            p.store(maps[which] + page * 4096 + val, [val])
            model[which][page * 4096 + val] = val
            if (pageout) for (const a of maps) p.madvise(a, 12 * 4096, MADV_PAGEOUT)
          }
        })
        const c = p.fork()
        expect(c.load(maps[1], 12 * 4096)).toEqual(model[1])
        expect(p.load(maps[0], 12 * 4096)).toEqual(p.pread(fd, 12 * 4096, 0))
        expect(p.load(maps[1], 12 * 4096)).toEqual(model[1])
        c.exit(0)
      }),
      { numRuns: 5 },
    )
  }, 120_000)
})
