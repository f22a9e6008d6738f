/**
 * range_is_allowed() (drivers/char/mem.c), which /dev/mem's and the simple
 * driver's mmap ask once per mapping: its answer is devmem_is_allowed() of
 * every page of the range, on machines with RAM holes (memmap=), claims
 * exclusive or not, CONFIG_IO_STRICT_DEVMEM, iomem=relaxed and no
 * STRICT_DEVMEM at all, for ranges around every boundary that matters.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { boot } from '../helpers.js'
import type { DriverKernel, KernelModule, MachineOptions } from '../../src/index.js'

const PG = 4096

function claimer(name: string, start: number, n: number, exclusive: boolean): KernelModule {
  return {
    name,
    init: (k: DriverKernel) => (exclusive ? k.request_mem_region_exclusive(start, n, name) : k.request_mem_region(start, n, name)),
    exit: (k: DriverKernel) => k.release_mem_region(start, n),
  }
}

const MACHINES: MachineOptions[] = [
  { memmap: '1M$0x2000000' },
  { memmap: '1M$0x2000000', io_strict_devmem: true },
  { memmap: '1M$0x2000000', iomem: 'relaxed' },
  { memmap: '1M$0x2000000', strict_devmem: false },
]

describe('range_is_allowed', () => {
  it('is devmem_is_allowed() of every page of the range', () => {
    for (const o of MACHINES) {
      const m = boot(o)
      // an exclusive claim and a plain one in the Reserved MiB (the hole in RAM), and one above RAM
      m.insmod(claimer('excl', 0x2000000, 16 * PG, true))
      m.insmod(claimer('plain', 0x2040000, 16 * PG, false))
      const top = m.page_alloc.pages.nr
      m.insmod(claimer('high', (top + 100) * PG, 4 * PG, true))
      const k = m.driver_kernel
      const per_page = (pfn: number, n: number): boolean => {
        for (let i = 0; i < n; i++) if (!k.devmem_is_allowed(pfn + i)) return false
        return true
      }
      const edges = [0, 1, 255, 256, 257, 0x2000, 0x2010, 0x2040, 0x2050, 0x2100, top - 1, top, top + 100, top + 104, top + 1000]
      const pfn = fc.oneof(fc.constantFrom(...edges).chain((e) => fc.integer({ min: Math.max(0, e - 3), max: e + 3 })), fc.integer({ min: 0, max: top + 2000 }))
      fc.assert(
        fc.property(pfn, fc.integer({ min: 0, max: 600 }), (p, n) => {
          expect(k.range_is_allowed(p, n), `${JSON.stringify(o)} [${p}, ${p + n})`).toBe(per_page(p, n))
        }),
        { numRuns: 400 },
      )
    }
  })
})
