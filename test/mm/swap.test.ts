import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'

const PAGE = 4096

describe('swap to zram', () => {
  it('MADV_PAGEOUT swaps anonymous pages out and faults them back', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn()
    const a = p.mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 8; i++) p.store(a + i * PAGE, [i + 1, 2, 3])
    p.madvise(a, 8 * PAGE, MADV_PAGEOUT)
    expect(m.proc('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t16380\t\t32\t\t-2\n')
    expect([...p.mincore(a, 8 * PAGE)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    for (let i = 0; i < 8; i++) expect([...p.load(a + i * PAGE, 3)]).toEqual([i + 1, 2, 3])
    m.check()
  })
})

import { MADV_DONTNEED, MREMAP_MAYMOVE, PROT_NONE } from '../../src/index.js'
import type { Machine } from '../../src/index.js'
import { reclaim_pages } from '../../src/mm/vmscan.js'

function vmstat(m: Machine, name: string): number {
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(m.proc('/proc/vmstat'))![1])
}
function meminfo(m: Machine, name: string): number {
  return Number(new RegExp(`^${name}: +(\\d+) kB$`, 'm').exec(m.proc('/proc/meminfo'))![1])
}

describe('swap I/O accounting', () => {
  it('zram: pswpout/pgpgout on page-out, a major fault with pswpin per page read back, no swap cache left', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn()
    const a = p.mmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 16; i++) p.store(a + i * PAGE, [i + 1])
    const out0 = vmstat(m, 'pswpout')
    const pgout0 = vmstat(m, 'pgpgout')
    p.madvise(a, 16 * PAGE, MADV_PAGEOUT)
    expect(vmstat(m, 'pswpout') - out0).toBe(16)
    expect(vmstat(m, 'pgpgout') - pgout0).toBe(64) // kB
    expect(meminfo(m, 'SwapFree')).toBe(16380 - 64)
    expect(meminfo(m, 'SwapCached')).toBe(0)
    const in0 = vmstat(m, 'pswpin')
    const maj0 = vmstat(m, 'pgmajfault')
    const flt0 = p.task.mm!.maj_flt
    expect(p.load(a + 3 * PAGE, 1)[0]).toBe(4)
    expect(vmstat(m, 'pswpin') - in0).toBe(1)
    expect(vmstat(m, 'pgmajfault') - maj0).toBe(1)
    expect(p.task.mm!.maj_flt - flt0).toBe(1)
    // The slot was freed with the read (its only reference): no swap cache, 4 kB more free.
    expect(meminfo(m, 'SwapCached')).toBe(0)
    expect(meminfo(m, 'SwapFree')).toBe(16380 - 60)
  })
  it('disk: the write is still in flight after MADV_PAGEOUT, the page stays in the swap cache and reads back without I/O', () => {
    const m = boot({ swap: { size: '16M', kind: 'disk' } })
    expect(m.proc('/proc/swaps')).toContain('/dev/vdb ')
    const bdev = [...m.mm_env.swap.bdevs.values()][0]
    const p = m.spawn()
    const a = p.mmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 16; i++) p.store(a + i * PAGE, [i + 1])
    const w0 = bdev.writes
    p.madvise(a, 16 * PAGE, MADV_PAGEOUT)
    expect(bdev.writes - w0).toBe(16)
    expect(meminfo(m, 'SwapCached')).toBe(64)
    expect([...p.mincore(a, 16 * PAGE)]).toEqual(new Array(16).fill(1))
    const r0 = bdev.reads
    const maj0 = vmstat(m, 'pgmajfault')
    expect(p.load(a + 5 * PAGE, 1)[0]).toBe(6)
    expect(bdev.reads - r0).toBe(0)
    expect(vmstat(m, 'pgmajfault') - maj0).toBe(0)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+60 kB/)
    m.check()
  })
  it('disk: reads around a fault by swap offset (vm.page-cluster 3), the window growing with readahead hits', () => {
    const m = boot({ swap: { size: '16M', kind: 'disk' } })
    const env = m.mm_env
    const bdev = [...env.swap.bdevs.values()][0]
    const p = m.spawn()
    const a = p.mmap(0, 64 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 64; i++) p.store(a + i * PAGE, [i + 1])
    p.madvise(a, 64 * PAGE, MADV_PAGEOUT)
    // The writes completed: the next reclaim frees the cached pages (what the LRU scan would hand over).
    const si = env.swap.swap_info[0]
    const cached = Array.from({ length: 64 }, (_, i) => si.cache[i + 1] - 1)
    expect(reclaim_pages(env, cached)).toBe(64)
    expect(meminfo(m, 'SwapCached')).toBe(0)
    const r0 = bdev.reads
    const maj0 = vmstat(m, 'pgmajfault')
    const ra0 = vmstat(m, 'swap_ra')
    const hit0 = vmstat(m, 'swap_ra_hit')
    // Pages 10..15 (offsets 11..16): 1 read, then 12-13, a hit, 14-15 (12-13 cached), a hit, 16-19.
    for (let i = 10; i <= 15; i++) expect(p.load(a + i * PAGE, 1)[0]).toBe(i + 1)
    expect(bdev.reads - r0).toBe(9)
    expect(vmstat(m, 'pgmajfault') - maj0).toBe(4)
    expect(vmstat(m, 'swap_ra') - ra0).toBe(5)
    expect(vmstat(m, 'swap_ra_hit') - hit0).toBe(2)
    // The last window, offsets 16-19, is pages 15-18.
    expect([...p.mincore(a + 15 * PAGE, 5 * PAGE)]).toEqual([1, 1, 1, 1, 0])
  })
})

describe('swap PTEs elsewhere', () => {
  it('mremap moves them, mprotect keeps them, MADV_DONTNEED and munmap free their slots', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn()
    const a = p.mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 8; i++) p.store(a + i * PAGE, [i + 10])
    p.madvise(a, 8 * PAGE, MADV_PAGEOUT)
    p.mprotect(a, 8 * PAGE, PROT_NONE)
    p.mprotect(a, 8 * PAGE, PROT_READ | PROT_WRITE)
    const b = p.mremap(a, 8 * PAGE, 16 * PAGE, MREMAP_MAYMOVE)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+32 kB/)
    expect(p.load(b + 2 * PAGE, 1)[0]).toBe(12)
    p.madvise(b + 4 * PAGE, 2 * PAGE, MADV_DONTNEED)
    expect(p.load(b + 4 * PAGE, 1)[0]).toBe(0)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+20 kB/)
    expect(meminfo(m, 'SwapFree')).toBe(16380 - 20)
    p.munmap(b, 16 * PAGE)
    expect(meminfo(m, 'SwapFree')).toBe(16380)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+0 kB/)
  })
})

describe('get_user_pages on swapped memory', () => {
  it('mlock and MADV_POPULATE_READ fault swapped pages back in; mlocked pages are not paged out', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn()
    const a = p.mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 8; i++) p.store(a + i * PAGE, [i + 1])
    p.madvise(a, 8 * PAGE, MADV_PAGEOUT)
    p.madvise(a, 4 * PAGE, 22) // MADV_POPULATE_READ
    expect([...p.mincore(a, 8 * PAGE)]).toEqual([1, 1, 1, 1, 0, 0, 0, 0])
    p.mlock(a + 4 * PAGE, 4 * PAGE)
    expect([...p.mincore(a, 8 * PAGE)]).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+0 kB/)
    // MADV_PAGEOUT refuses the locked VMA; the unlocked half goes out again.
    expect(() => p.madvise(a, 8 * PAGE, MADV_PAGEOUT)).toThrow(/EINVAL/)
    p.madvise(a, 4 * PAGE, MADV_PAGEOUT)
    expect([...p.mincore(a, 8 * PAGE)]).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
    for (let i = 0; i < 8; i++) expect(p.load(a + i * PAGE, 1)[0]).toBe(i + 1)
  })
})

describe('swap on every profile', () => {
  // The parent reads every shared page through the swap cache; when the last mapping of such a
  // page goes (exit's zap), free_swap_cache() drops the cached copy: every slot comes back.
  for (const arch of ['x86_64', 'i386', 'i386-pae'] as const) {
    it(`${arch}: pages go out and come back, fork shares the entries, exit frees every slot`, () => {
      const m = boot({ arch, ram: '64M', swap: '8M' })
      const p = m.spawn()
      const a = p.mmap(0, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      for (let i = 0; i < 16; i++) p.store(a + i * PAGE, [i + 1, 7])
      p.madvise(a, 16 * PAGE, MADV_PAGEOUT)
      expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+64 kB/)
      const c = p.fork()
      c.store(a + 3 * PAGE, [99])
      for (let i = 0; i < 16; i++) expect([...p.load(a + i * PAGE, 2)]).toEqual([i + 1, 7])
      expect(c.load(a + 3 * PAGE, 1)[0]).toBe(99)
      c.exit(0)
      p.exit(0)
      expect(meminfo(m, 'SwapFree')).toBe(meminfo(m, 'SwapTotal'))
    })
  }
})

import { try_to_unmap } from '../../src/mm/rmap_unmap.js'
import { add_to_swap } from '../../src/mm/swap_state.js'
import { MAP_SHARED } from '../../src/index.js'

describe('try_to_unmap', () => {
  it('clears every PTE of a shmem page (fork included), the dirty bit going to the page; a locked mapping stops it', () => {
    const m = boot({ swap: '4M' })
    const env = m.mm_env
    const p = m.spawn()
    const a = p.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
    p.store(a, [42])
    const c = p.fork()
    expect(c.load(a, 1)[0]).toBe(42)
    const pfn = Number((p.pagemap(a, 1)[0] & ((1n << 55n) - 1n)))
    const shmem = (q: typeof p): number => Number(/RssShmem:\s+(\d+) kB/.exec(m.proc(`/proc/${q.pid}/status`))![1])
    expect([shmem(p), shmem(c)]).toEqual([4, 4])
    m.deferred_check(() => expect(try_to_unmap(env, pfn)).toBe(true))
    expect(env.pages._mapcount[pfn]).toBe(0)
    expect([shmem(p), shmem(c)]).toEqual([0, 0])
    expect([...p.mincore(a, PAGE)]).toEqual([1]) // still in the page cache
    expect(c.load(a, 1)[0]).toBe(42)
    // A VM_LOCKED mapping: nothing is unmapped past it, and the walk reports failure.
    p.mlock(a, PAGE)
    m.deferred_check(() => expect(try_to_unmap(env, pfn)).toBe(false))
    expect(env.pages._mapcount[pfn]).toBeGreaterThan(0)
  })
  it('refuses an anonymous page that has no swap slot yet, and leaves an exclusive swap PTE when it has one', () => {
    const m = boot({ swap: '4M' })
    const env = m.mm_env
    const p = m.spawn()
    const a = p.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    p.store(a, [7])
    const pfn = Number((p.pagemap(a, 1)[0] & ((1n << 55n) - 1n)))
    m.deferred_check(() => {
      expect(try_to_unmap(env, pfn)).toBe(false)
      expect(add_to_swap(env, pfn)).toBe(true)
      expect(try_to_unmap(env, pfn)).toBe(true)
    })
    const pte = p.task.mm!.pgd.get(a / PAGE)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmSwap:\s+4 kB/)
    // In the swap cache and mapped by nobody: the fault maps it back without reading (a minor fault).
    expect([...p.mincore(a, PAGE)]).toEqual([1])
    expect((pte & 8) !== 0).toBe(true) // _PAGE_SWP_EXCLUSIVE
    const maj = p.task.mm!.maj_flt
    expect(p.load(a, 1)[0]).toBe(7)
    expect(p.task.mm!.maj_flt).toBe(maj)
  })
})
