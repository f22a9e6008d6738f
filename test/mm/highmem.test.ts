import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ArchName } from '../../src/arch/profile.js'
import { GFP_HIGHUSER, GFP_KERNEL } from '../../src/mm/gfp.js'
import type { Page } from '../../src/mm/page.js'
import { Machine } from '../../src/machine.js'

function highpage(m: Machine): Page {
  const p = m.kernel.alloc_pages(GFP_HIGHUSER, 0)
  if (p === null || m.kernel.page_to_pfn(p) < m.page_alloc.max_low_pfn) throw new Error('no HIGHMEM page')
  return p
}

describe('kmap on i386 HIGHMEM', () => {
  for (const arch of ['i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: kmap gives a pkmap address that page_address() reports; bytes agree with kmap_local`, () => {
      const m = new Machine({ arch, ram: '1G', debug_vm: true })
      const k = m.kernel
      const h = m.highmem
      const low = k.alloc_pages(GFP_KERNEL, 0) as Page
      expect(k.kmap(low)).toBe(k.page_address(low))
      k.kunmap(low)
      const p = highpage(m)
      expect(k.page_address(p)).toBe(0)
      const va = k.kmap(p)
      expect(va).toBeGreaterThanOrEqual(h.PKMAP_BASE)
      expect(va).toBeLessThan(h.PKMAP_BASE + h.LAST_PKMAP * 4096)
      expect(va).toBe(h.PKMAP_BASE + 4096) // last_pkmap_nr starts at 0 and is incremented first
      expect(k.page_address(p)).toBe(va)
      expect(k.kmap(p)).toBe(va) // a second user shares the slot
      expect(h.pkmap_count[1]).toBe(3)
      k.kernel_write(va + 100, new Uint8Array([9, 8, 7]))
      const lva = k.kmap_local_page(p)
      expect(lva).not.toBe(va)
      expect(Array.from(k.kernel_read(lva + 100, 3))).toEqual([9, 8, 7])
      k.kunmap_local(lva)
      expect(() => k.kernel_read(lva, 1)).toThrow(/unable to handle page fault/)
      k.kunmap(p)
      k.kunmap(p)
      // unused but not flushed: count 1, the pte and page_address stay until the wrap
      expect(h.pkmap_count[1]).toBe(1)
      expect(k.page_address(p)).toBe(va)
      expect(() => k.kunmap(p)).toThrow(/unbalanced kunmap/)
      m.check()
    })

    it(`${arch}: a full pkmap area is reported, and the wrap flushes unused slots`, () => {
      const m = new Machine({ arch, ram: '1G', debug_vm: true })
      const k = m.kernel
      const h = m.highmem
      const pages: Page[] = []
      // 2 x 1024 calls: the whole-machine check runs at the end of the block (Machine.deferred_check)
      m.deferred_check(() => {
        for (let i = 0; i < h.LAST_PKMAP; i++) pages.push(highpage(m))
        // slot 0 is only reached after a wrap: LAST_PKMAP - 1 kmaps fit before the wrap, the wrap frees nothing
        for (let i = 0; i < h.LAST_PKMAP; i++) k.kmap(pages[i])
      })
      expect(h.nr_pkmap_flushes).toBe(0)
      const extra = highpage(m)
      expect(() => k.kmap(extra)).toThrow(/all \d+ LAST_PKMAP entries in use/)
      m.check()
      k.kunmap(pages[5])
      expect(h.nr_pkmap_flushes).toBe(0)
      const va = k.kmap(extra) // the next wrap clears slot 6 (pages[5]'s) and reuses it
      expect(h.nr_pkmap_flushes).toBe(1)
      expect(k.page_address(pages[5])).toBe(0)
      expect(va).toBe(h.PKMAP_ADDR(h.PKMAP_NR(va)))
      m.check()
    })

    it(`${arch}: kmap_local is a per-CPU stack`, () => {
      const m = new Machine({ arch, ram: '1G', debug_vm: true })
      const k = m.kernel
      const p = [highpage(m), highpage(m), highpage(m)]
      const a = p.map((x) => k.kmap_local_page(x))
      expect(a[1]).toBe(a[0] - 4096) // fixmap slots grow downwards
      // Out of order: WARN_ON_ONCE, and the unmap is refused (the stack is unchanged).
      k.kunmap_local(a[0])
      expect(m.dmesg()).toMatch(/WARNING: CPU: 0 PID: 0 at mm\/highmem.c kunmap_local_indexed/)
      k.kunmap_local(a[2])
      k.kunmap_local(a[1])
      const at = k.kmap_atomic(p[2])
      expect(at).toBe(a[1])
      expect(m.highmem.in_kmap_atomic()).toBe(1)
      k.kunmap_atomic(at)
      expect(() => k.kunmap_atomic(a[0])).toThrow(/no kmap_atomic/)
      k.kunmap_local(a[0])
      for (let i = 0; i < 16; i++) k.kmap_local_page(p[0])
      expect(() => k.kmap_local_page(p[0])).toThrow(/KM_MAX_IDX/)
      m.check()
    })
  }

  it('i386 with 16 CPUs: each CPU has its own kmap_local slots', () => {
    const m = new Machine({ arch: 'i386', ram: '1G', cpus: 16, debug_vm: true })
    const k = m.kernel
    const p = highpage(m)
    m.page_alloc.cpu = 15
    const a = k.kmap_local_page(p)
    m.page_alloc.cpu = 0
    const b = k.kmap_local_page(p)
    expect(b - a).toBe(15 * 16 * 4096) // 16 slots per CPU, growing downwards
    expect(k.kernel_read(a, 8)).toEqual(k.kernel_read(b, 8))
    k.kunmap_local(b)
    m.page_alloc.cpu = 15
    k.kunmap_local(a)
    m.page_alloc.cpu = 0
    m.check()
  })

  it('x86_64: no HIGHMEM, every kmap is the direct map', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const k = m.kernel
    const p = k.alloc_pages(GFP_HIGHUSER, 0) as Page
    expect(k.kmap(p)).toBe(k.page_address(p))
    expect(k.kmap_local_page(p)).toBe(k.page_address(p))
    expect(k.kmap_atomic(p)).toBe(k.page_address(p))
    k.kunmap_atomic(k.page_address(p))
    k.kunmap_local(k.page_address(p))
    k.kunmap(p)
    m.check()
  })

  it('property: random kmap/kunmap keeps pkmap_count equal to a model', () => {
    const m = new Machine({ arch: 'i386-pae', ram: '1G', debug_vm: true })
    const k = m.kernel
    const h = m.highmem
    const pages = m.deferred_check(() => Array.from({ length: 600 }, () => highpage(m)))
    // Up to 300 kmap/kunmap calls a run: the whole-machine check runs at the end of each block (Machine.deferred_check).
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 599 }), fc.boolean()), { maxLength: 300 }), (ops) => {
        const users = new Map<Page, number>()
        m.deferred_check(() => {
          for (const [i, map] of ops) {
            const p = pages[i]
            const n = users.get(p) ?? 0
            if (map) {
              const mapped = [...users.values()].filter((x) => x > 0).length
              if (n === 0 && mapped >= h.LAST_PKMAP - 1) continue
              const va = k.kmap(p)
              expect(k.page_address(p)).toBe(va)
              users.set(p, n + 1)
            } else if (n > 0) {
              k.kunmap(p)
              users.set(p, n - 1)
            }
          }
        })
        for (const [p, n] of users) {
          if (n > 0) expect(h.pkmap_count[h.PKMAP_NR(k.page_address(p))]).toBe(n + 1)
        }
        m.deferred_check(() => {
          for (const [p, n] of users) for (let j = 0; j < n; j++) k.kunmap(p)
        })
      }),
      { numRuns: 30 },
    )
  })
})
