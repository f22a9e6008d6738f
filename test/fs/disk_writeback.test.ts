import { describe, expect, it } from 'vitest'
import { MADV_PAGEOUT, MAP_PRIVATE, MAP_SHARED, MS_SYNC, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { boot, fill_bytes } from '../helpers.js'

/**
 * A disk file's data survives its page cache: writeback puts the bytes on the simulated disk,
 * a clean page can then be reclaimed (MADV_PAGEOUT drops it), and the page read back in comes
 * from the disk. Before, writeback only cleared PG_dirty and the page read back was zeros.
 */
describe('ext4 writeback keeps the data', () => {
  const bytes = (n: number, seed: number): Uint8Array => fill_bytes(n, (i) => (i * 7 + seed) & 0xff)

  it('pwrite, fsync, MADV_PAGEOUT of a mapping, pread returns the data', () => {
    const m = boot()
    const p = m.spawn({ name: 'db' })
    const fd = p.open('/data/f', O_CREAT | O_RDWR)
    const data = bytes(3 * 4096 + 100, 1)
    p.pwrite(fd, data, 0)
    expect(p.sys_fsync(fd)).toBe(0)
    const a = p.mmap(0, 4 * 4096, PROT_READ, MAP_PRIVATE, fd, 0)
    p.load(a, 4 * 4096 - 1)
    const cached = m.proc('/proc/meminfo').match(/^Cached:\s+(\d+)/m)![1]
    p.madvise(a, 4 * 4096, MADV_PAGEOUT)
    // The clean pages left the page cache ...
    expect(Number(m.proc('/proc/meminfo').match(/^Cached:\s+(\d+)/m)![1])).toBeLessThan(Number(cached))
    // ... and come back from the disk, through read(2) and through the mapping.
    expect(p.pread(fd, data.length, 0)).toEqual(data)
    expect(p.load(a, data.length)).toEqual(data)
  })

  it('msync(MS_SYNC) of a shared mapping writes the stores back; truncation frees the blocks past EOF', () => {
    const m = boot()
    const p = m.spawn({ name: 'db' })
    const fd = p.open('/data/g', O_CREAT | O_RDWR)
    p.ftruncate(fd, 2 * 4096)
    const a = p.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    const data = bytes(2 * 4096, 9)
    p.store(a, data)
    p.msync(a, 2 * 4096, MS_SYNC)
    p.munmap(a, 2 * 4096)
    const b = p.mmap(0, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 0)
    p.load(b, 2 * 4096)
    p.madvise(b, 2 * 4096, MADV_PAGEOUT)
    expect(p.pread(fd, 2 * 4096, 0)).toEqual(data)
    // Shrink to 5000 bytes (written back), drop the cache, grow again: the bytes past 5000 are zeros.
    p.ftruncate(fd, 5000)
    expect(p.sys_fsync(fd)).toBe(0)
    p.load(b, 4096)
    p.madvise(b, 2 * 4096, MADV_PAGEOUT)
    p.ftruncate(fd, 2 * 4096)
    const want = data.slice()
    want.fill(0, 5000)
    expect(p.pread(fd, 2 * 4096, 0)).toEqual(want)
  })
})
