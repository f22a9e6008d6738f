/**
 * The readahead state machine (src/mm/readahead.ts, filemap.ts) on a disk
 * file whose pages were all dropped (ftruncate to 0 and back: holes, as the
 * oracle makes them). Window sizes are derived from 6.18's rules:
 * get_init_ra_size(1, 32) = 4 with the mark one page in; the async window
 * after it get_next_ra_size(4) = 8, its end kept on the order-2 alignment.
 */
import { describe, expect, it } from 'vitest'
import { Machine, O_CREAT, O_RDWR, PROT_READ, MAP_SHARED, MADV_WILLNEED } from '../../src/index.js'
import { get_init_ra_size, get_next_ra_size } from '../../src/mm/readahead.js'

function setup(pages: number, read_ahead_kb?: number) {
  const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true, read_ahead_kb })
  const p = m.spawn({ name: 'ra', uid: 0 })
  const fd = p.open('/var/tmp/f', O_CREAT | O_RDWR)
  for (let i = 0; i < pages; i++) p.sys_pwrite(fd, new Uint8Array(4096).fill(1), i * 4096)
  p.sys_ftruncate(fd, 0)
  p.sys_ftruncate(fd, pages * 4096)
  const cache = p.file_of(fd)!.f_mapping.i_pages
  const cached = (): number[] => [...cache.keys()].sort((a, b) => a - b)
  return { m, p, fd, cached }
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i)

describe('readahead (6.18 rules)', () => {
  it('window sizes: initial and next', () => {
    expect([1, 2, 3, 4, 8, 16, 64].map((n) => get_init_ra_size(n, 32))).toEqual([4, 4, 8, 8, 16, 32, 32]) // 1-2 pages: 16 KiB, 3-4: 32 KiB, 5-8: 64 KiB, more: 128 KiB
    expect([1, 4, 16, 32].map((n) => get_init_ra_size(n, 2048))).toEqual([4, 16, 64, 128])
    expect([1, 4, 8, 16, 32].map((size) => get_next_ra_size({ size } as never, 32))).toEqual([4, 8, 16, 32, 32])
  })

  it('a sequential reader from offset 0: 4 pages, then the async window at the PG_readahead page', () => {
    const { p, fd, cached } = setup(256)
    p.sys_pread(fd, 4096, 0)
    expect(cached()).toEqual(range(0, 4))
    p.sys_pread(fd, 4096, 4096) // page 1 carries PG_readahead: [4, 12)
    expect(cached()).toEqual(range(0, 12))
    p.sys_pread(fd, 4096, 8192) // no mark on page 2: nothing more
    expect(cached()).toEqual(range(0, 12))
  })

  it('a sequential reader from the middle: read right after the previous one opens a window', () => {
    const { p, fd, cached } = setup(256)
    p.sys_pread(fd, 4096, 100 * 4096) // random: just the page
    expect(cached()).toEqual([100])
    p.sys_pread(fd, 4096, 101 * 4096) // prev_pos ends at page 101: a stream, 4 pages
    expect(cached()).toEqual(range(100, 105))
  })

  it('a random reader gets no readahead', () => {
    const { p, fd, cached } = setup(256)
    for (const i of [50, 7, 200, 90]) p.sys_pread(fd, 4096, i * 4096)
    expect(cached()).toEqual([7, 50, 90, 200])
  })

  it('MADV_WILLNEED reads the range whatever the window, up to max(io_pages, ra_pages)', () => {
    const { p, fd, cached } = setup(64)
    const a = p.sys_mmap(0, 64 * 4096, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.sys_madvise(a + 8 * 4096, 20 * 4096, MADV_WILLNEED)).toBe(0)
    expect(cached()).toEqual(range(8, 28))
  })

  it('read_ahead_kb is respected and windows stop at EOF', () => {
    const small = setup(256, 16) // ra_pages 4: get_init_ra_size(1, 4) = 2
    small.p.sys_pread(small.fd, 4096, 0)
    expect(small.cached()).toEqual([0, 1])
    const eof = setup(10) // a 16-page request opens a 32-page window, clipped to the 10 pages
    eof.p.sys_pread(eof.fd, 16 * 4096, 0)
    expect(eof.cached()).toEqual(range(0, 10))
  })
})

describe('a read batch under a small memory cgroup', () => {
  it('the pages a read is about to copy stay cached while its async readahead reclaims (the batch holds references)', () => {
    // The group's limit is about what one readahead window brings in: the async readahead a
    // batch triggers reclaims the group's oldest pages, which are that batch's own. Unpinned,
    // they were evicted before being copied and read back as zeros.
    for (const limit of ['512K', '1M']) {
      const m = new Machine({ ram: '64M', seed: 1, debug_vm: true })
      const p = m.spawn({ name: 'r' })
      const fd = p.open('/f', O_RDWR | O_CREAT, 0o644)
      for (let i = 0; i < 16; i++) p.pwrite(fd, new Uint8Array(1 << 19).fill(i + 1), i << 19)
      p.fsync(fd)
      p.fadvise(fd, 0, 0, 4)
      m.cgroup_create('g', { limit }).attach(p)
      for (let i = 0; i < 16; i++) expect(p.pread(fd, 1 << 19, i << 19).every((x) => x === i + 1), `${limit}: chunk ${i}`).toBe(true)
      m.check()
    }
  })
})
