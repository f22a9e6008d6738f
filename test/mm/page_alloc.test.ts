import { host_memory_problem } from '../../src/machine.js'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER,
  GFP_KERNEL,
  GFP_NOWAIT,
  __GFP_NOFAIL,
  __GFP_NOWARN,
  __GFP_ZERO,
  __GFP_HIGHMEM,
  __GFP_DMA32,
  type Page,
} from '../../src/index.js'
import { boot } from '../helpers.js'

const MiB = 1024 * 1024

describe('boot', () => {
  it('lays out x86_64 zones as Linux does: DMA below 16M, DMA32 below 4G, Normal above', () => {
    const m = boot({ ram: '8G' })
    const [dma, dma32, normal, movable] = m.page_alloc.zones
    expect(dma.zone_start_pfn).toBe(1)
    expect(dma.zone_end_pfn).toBe(4096)
    expect(dma.present_pages).toBe(158 + 3840)
    expect(dma.managed_pages).toBe(3840) // the first MiB is reserved
    expect(dma32.zone_start_pfn).toBe(4096)
    expect(normal.zone_start_pfn).toBe((4 * 1024 * MiB) / 4096)
    expect(movable.populated).toBe(false)
    expect(m.dmesg()).toMatch(/Memory: \d+K\/\d+K available \(\d+K kernel code, .* 0K cma-reserved\)/)
  })

  it('lays out i386 zones with HIGHMEM above MAXMEM (just under 896M)', () => {
    const m = boot({ arch: 'i386', ram: '2G' })
    const names = m.page_alloc.zones.map((z) => z.name)
    expect(names).toEqual(['DMA', 'Normal', 'HighMem', 'Movable'])
    // MAXMEM = VMALLOC_END - PAGE_OFFSET - 128 MiB, with the fixmap of a 2-CPU kernel
    expect(m.page_alloc.zones[1].zone_end_pfn).toBe(0x373fe000 / 4096)
    expect(m.page_alloc.zones[2].populated).toBe(true)
    expect(m.dmesg()).toMatch(/K highmem\)/)
  })

  it('computes watermarks from min_free_kbytes = sqrt(lowmem_kbytes * 16)', () => {
    const m = boot({ ram: '1G' })
    let lowmem = 0
    for (const z of m.page_alloc.zones) lowmem += z.managed_pages
    // Boot memory (init sections) is freed after the watermarks were computed, as in Linux.
    expect(m.min_free_kbytes).toBeGreaterThanOrEqual(128)
    expect(Math.abs(m.min_free_kbytes - Math.floor(Math.sqrt(lowmem * 4 * 16)))).toBeLessThan(10)
    let mins = 0
    for (const z of m.page_alloc.zones.slice(0, 3)) mins += z._watermark[0]
    expect(Math.abs(mins - m.min_free_kbytes / 4)).toBeLessThan(3)
    const dma = m.page_alloc.zones[0]
    expect(dma._watermark[1] - dma._watermark[0]).toBe(Math.max(dma._watermark[0] >> 2, Math.floor((dma.managed_pages * 10) / 10000)))
    // lowmem_reserve was computed before free_initmem() handed the init sections back (as in Linux).
    const initmem = (m.boot.image.__init_end - m.boot.image.__init_begin) / 4096
    expect(dma.lowmem_reserve[1]).toBe(Math.floor((m.page_alloc.zones[1].managed_pages - initmem) / 256))
  })

  it('rejects bad options with one clear line', () => {
    expect(() => boot({ ram: 'lots' })).toThrow(/^ram: 'lots' is not a size/)
    expect(() => boot({ arch: 'sparc' as never })).toThrow(/^arch: 'sparc'/)
    expect(() => boot({ cpus: 0 })).toThrow(/^cpus:/)
    // More page frames than a typed array holds: refused before any allocation (not a RangeError).
    expect(() => boot({ ram: '16T' })).toThrow(/^ram: 16T is more than mmsim can simulate/)
  })

  it('estimates the host memory a machine needs (the CLI refuses what its host cannot hold)', () => {
    expect(host_memory_problem('1G', 2 ** 34)).toBeNull()
    expect(host_memory_problem('4T', 24 * 2 ** 30)).toMatch(/^ram: 4T needs 41\.0 GiB of host memory for its struct pages, this host has 24\.0 GiB \(the largest it can boot is about 1T\)$/)
  })

  it('boots a 64 GiB machine', () => {
    const m = boot({ ram: '64G' })
    // mem_map alone costs 1 GiB (64-byte struct pages) of the 64.
    expect(m.page_alloc.totalram_pages()).toBeGreaterThan((62 * 1024 * MiB) / 4096)
  })
})

describe('zone placement', () => {
  it('honours GFP zone modifiers', () => {
    const m = boot({ ram: '8G' })
    const k = m.kernel
    const zone = (p: Page | null): string => m.page_alloc.page_zone(p as number).name
    expect(zone(k.alloc_pages(GFP_DMA, 0))).toBe('DMA')
    expect(zone(k.alloc_pages(GFP_DMA32, 2))).toBe('DMA32')
    expect(zone(k.alloc_pages(GFP_KERNEL, 0))).toBe('Normal')
  })

  it('never gives lowmem-only requests HIGHMEM pages on i386', () => {
    const m = boot({ arch: 'i386', ram: '2G' })
    const k = m.kernel
    for (let i = 0; i < 50; i++) expect(m.page_alloc.page_zone(k.alloc_page(GFP_KERNEL) as number).name).not.toBe('HighMem')
    const hp = k.alloc_page(GFP_HIGHUSER) as Page
    expect(m.page_alloc.page_zone(hp).name).toBe('HighMem')
    expect(k.page_address(hp)).toBe(0) // not kmapped
    const va = k.__get_free_pages(GFP_KERNEL | __GFP_HIGHMEM, 0) // __get_free_pages strips __GFP_HIGHMEM
    expect(va).toBeGreaterThanOrEqual(0xc0000000)
  })

  it('falls back DMA32 -> DMA when DMA32 is exhausted, never upwards', () => {
    const m = boot({ ram: '64M' })
    const k = m.kernel
    let p: Page | null
    const seen = new Set<string>()
    while ((p = k.alloc_pages(GFP_DMA32 | __GFP_NOWARN, 10)) !== null) seen.add(m.page_alloc.page_zone(p).name)
    // ~2300 allocations: the whole-machine check runs once at the end (Machine.deferred_check).
    m.deferred_check(() => {
      while ((p = k.alloc_pages(__GFP_DMA32 | __GFP_NOWARN, 0)) !== null) seen.add(m.page_alloc.page_zone(p).name)
    })
    expect([...seen].sort()).toEqual(['DMA', 'DMA32'])
  })
})

describe('page contents', () => {
  it('keeps stale bytes in freed frames; __GFP_ZERO clears them', () => {
    const m = boot()
    const k = m.kernel
    const p = k.alloc_page(GFP_KERNEL) as Page
    m.physmem.frame(p).fill(0x5a)
    k.__free_page(p)
    const q = k.alloc_page(GFP_KERNEL) as Page
    expect(q).toBe(p) // LIFO pcp list: the hot page comes back
    expect(m.physmem.peek(q)[100]).toBe(0x5a)
    k.__free_page(q)
    const z = k.alloc_page(GFP_KERNEL | __GFP_ZERO) as Page
    expect(z).toBe(p)
    expect(m.physmem.peek(z).every((b) => b === 0)).toBe(true)
    const va = k.get_zeroed_page(GFP_KERNEL)
    expect(m.physmem.peek(m.page_alloc.virt_to_pfn(va)).every((b) => b === 0)).toBe(true)
  })

  it('init_on_free and init_on_alloc clear pages like the boot options', () => {
    for (const opt of [{ init_on_free: true }, { init_on_alloc: true }]) {
      const m = boot(opt)
      const k = m.kernel
      const p = k.alloc_page(GFP_KERNEL) as Page
      m.physmem.frame(p).fill(0x77)
      k.__free_page(p)
      if (opt.init_on_free) expect(m.physmem.peek(p)[0]).toBe(0)
      const q = k.alloc_page(GFP_KERNEL) as Page
      expect(q).toBe(p)
      expect(m.physmem.peek(q)[0]).toBe(0)
    }
  })
})

describe('failures and reserves', () => {
  it('fails orders above MAX_PAGE_ORDER', () => {
    const m = boot()
    expect(m.kernel.alloc_pages(GFP_KERNEL, 11)).toBeNull()
    expect(m.dmesg()).toMatch(/WARNING: CPU: 0 PID: 0 at mm\/page_alloc.c/)
  })

  it('logs the page allocation failure warning unless __GFP_NOWARN', () => {
    const m = boot()
    const k = m.kernel
    // ~11500 allocations: the whole-machine check runs once at the end (Machine.deferred_check).
    m.deferred_check(() => {
      while (k.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) !== null);
    })
    expect(m.dmesg()).not.toMatch(/page allocation failure/)
    expect(k.alloc_pages(GFP_KERNEL, 0)).toBeNull()
    expect(m.dmesg()).toMatch(/swapper\/0: page allocation failure: order:0, mode:0xcc0\(GFP_KERNEL\), nodemask=\(null\)/)
  })

  it('lets GFP_ATOMIC dip below the min watermark where GFP_KERNEL and GFP_NOWAIT stop', () => {
    const m = boot()
    const k = m.kernel
    m.deferred_check(() => {
      while (k.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) !== null);
    })
    expect(k.alloc_pages(GFP_NOWAIT, 0)).toBeNull()
    // __GFP_NOFAIL gets a page from the reserves GFP_KERNEL may not touch.
    expect(k.alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0)).not.toBeNull()
    const free_at_kernel_stop = m.page_alloc.nr_free_pages()
    let atomic = 0
    while (k.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0) !== null) atomic++
    expect(atomic).toBeGreaterThan(0)
    expect(m.page_alloc.nr_free_pages()).toBeLessThan(free_at_kernel_stop)
  })
})

describe('highatomic reserve', () => {
  it('reserves a pageblock for high-order atomic allocations once memory is tight, and gives it back before failing', () => {
    const m = boot({ ram: '1G' })
    const k = m.kernel
    m.deferred_check(() => {
      while (k.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 10) !== null);
      while (k.alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0) !== null);
    })
    expect(k.alloc_pages(GFP_ATOMIC, 1)).not.toBeNull()
    const blocks = (): number[] => {
      const line = m.proc('/proc/pagetypeinfo').split('\n').find((l) => l.startsWith('Node 0, zone    DMA32')) as string
      return line.trim().split(/\s+/).slice(4).map(Number)
    }
    expect(blocks()[3]).toBe(1) // HighAtomic
    expect(m.page_alloc.zones[1].nr_reserved_highatomic).toBe(512)
    m.check()
  })
})

describe('freeing', () => {
  it('puts order-0 frees on the per-CPU list first; drain_all_pages returns them', () => {
    const m = boot()
    const k = m.kernel
    const p = k.alloc_page(GFP_KERNEL) as Page
    const free = m.page_alloc.nr_free_pages()
    k.__free_page(p)
    expect(m.page_alloc.nr_free_pages()).toBe(free) // on a pcp list, not counted free
    k.drain_all_pages()
    expect(m.page_alloc.nr_free_pages()).toBeGreaterThan(free)
  })

  it('frees the tail parts of a non-compound block whose head is still referenced', () => {
    const m = boot()
    const k = m.kernel
    k.drain_all_pages()
    const p = k.alloc_pages(GFP_KERNEL, 2) as Page
    k.get_page(p)
    k.__free_pages(p, 2)
    expect(k.page_count(p)).toBe(1)
    k.put_page(p)
    k.drain_all_pages()
    m.check()
  })

  it('merges buddies back to the boot state after any sequence of allocations and frees', () => {
    const gfps = [GFP_KERNEL, GFP_ATOMIC, GFP_DMA, GFP_DMA32, GFP_HIGHUSER, GFP_KERNEL | __GFP_ZERO]
    fc.assert(
      fc.property(
        fc.array(fc.record({ alloc: fc.boolean(), order: fc.integer({ min: 0, max: 6 }), gfp: fc.constantFrom(...gfps), pick: fc.nat() }), {
          maxLength: 120,
        }),
        fc.constantFrom('x86_64' as const, 'i386' as const),
        fc.integer({ min: 1, max: 3 }),
        (ops, arch, cpus) => {
          const m = boot({ arch, ram: arch === 'i386' ? '1G' : '96M', cpus })
          const k = m.kernel
          // Boot's last allocations leave order-0 pages on the per-CPU lists: compare drained states.
          k.drain_all_pages()
          const before = m.proc('/proc/buddyinfo')
          const live: { p: Page; order: number }[] = []
          for (const op of ops) {
            m.page_alloc.cpu = op.pick % cpus
            if (op.alloc || live.length === 0) {
              const p = k.alloc_pages(op.gfp | __GFP_NOWARN, op.order)
              if (p !== null) {
                const z = m.page_alloc.page_zone(p)
                if (op.gfp === GFP_DMA) expect(z.name).toBe('DMA')
                if (!(op.gfp & __GFP_HIGHMEM)) expect(z.name).not.toBe('HighMem')
                expect(live.find((l) => !(p + (1 << op.order) <= l.p || l.p + (1 << l.order) <= p)), 'blocks overlap').toBeUndefined()
                live.push({ p, order: op.order })
              }
            } else {
              const [x] = live.splice(op.pick % live.length, 1)
              k.__free_pages(x.p, x.order)
            }
          }
          for (const x of live) k.__free_pages(x.p, x.order)
          k.drain_all_pages()
          expect(m.proc('/proc/buddyinfo')).toBe(before)
        },
      ),
      { numRuns: 40 },
    )
  })
})
