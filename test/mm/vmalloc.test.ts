import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ArchName } from '../../src/arch/profile.js'
import { _PAGE_PCD, PAGE_KERNEL_RO, pte_flag_names } from '../../src/arch/pte.js'
import { GFP_HIGHUSER, GFP_KERNEL, __GFP_NOWARN } from '../../src/mm/gfp.js'
import { Machine } from '../../src/machine.js'
import { NODE_STAT } from '../../src/mm/vmstat.js'

const free_now = (m: Machine): number => {
  m.page_alloc.drain_all_pages()
  return m.page_alloc.nr_free_pages()
}
/** Pages vmalloc may legitimately keep after vfree: kernel page tables, and slab pages its objects came from. */
const pgtables = (m: Machine): number =>
  m.vmstat.node_page_state(NODE_STAT.nr_page_table_pages) +
  (m.vmstat.node_page_state(NODE_STAT.nr_slab_reclaimable) + m.vmstat.node_page_state(NODE_STAT.nr_slab_unreclaimable)) / 4096
/** Fast byte equality (vitest's deep equality is slow on big typed arrays). */
const same = (a: Uint8Array, b: Uint8Array | undefined): boolean => b !== undefined && a.length === b.length && a.every((x, i) => x === b[i])
/**
 * expect(got).toEqual(want) for byte arrays, with the element-by-element deep
 * equality (~40 ns a byte) run only when a fast compare finds a difference,
 * for its report.
 */
const expect_bytes = (got: Uint8Array, want: Uint8Array): void => {
  if (!same(got, want)) expect(got).toEqual(want)
}
const meminfo = (m: Machine, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(m.proc('/proc/meminfo'))?.[1])

describe('vmalloc', () => {
  for (const [arch, ram] of [['x86_64', '64M'], ['i386', '1G'], ['i386-pae', '1G']] as [ArchName, string][]) {
    it(`${arch}: bytes written through a vmalloc address are the page's bytes`, () => {
      const m = new Machine({ arch, ram, debug_vm: true })
      const k = m.kernel
      const size = 5 * 4096 + 100
      const va = k.vmalloc(size)
      expect(va).not.toBe(0)
      expect(k.is_vmalloc_addr(va)).toBe(true)
      const data = new Uint8Array(size).map((_, i) => (i * 7 + 3) & 0xff)
      k.kernel_write(va, data)
      expect_bytes(k.kernel_read(va, size), data)
      for (let i = 0; i < 6; i++) {
        const page = k.vmalloc_to_page(va + i * 4096 + 17)
        expect(page).not.toBeNull()
        if (page === null) continue
        // through the page's own kernel address (kmap for HIGHMEM pages on i386)
        const kva = k.kmap(page)
        const n = Math.min(4096, size - i * 4096)
        expect_bytes(k.kernel_read(kva, n), data.subarray(i * 4096, i * 4096 + n))
        k.kunmap(page)
      }
      // the guard page after the area is not mapped: an oops, with Linux's words in the log
      expect(() => k.kernel_read(va + 6 * 4096, 1)).toThrow(/unable to handle page fault/)
      expect(m.dmesg()).toMatch(/BUG: unable to handle page fault for address: /)
      expect(k.copy_from_kernel_nofault(va + 6 * 4096, 1)).toBe(-14)
      expect(meminfo(m, 'VmallocUsed')).toBe(6 * 4)
      k.vfree(va)
      expect(meminfo(m, 'VmallocUsed')).toBe(0)
      expect(k.vmalloc_to_page(va)).toBeNull()
      m.check()
    })
  }

  it('i386: vmalloc pages come from HIGHMEM when lowmem is not preferred', () => {
    const m = new Machine({ arch: 'i386', ram: '1G', debug_vm: true })
    const k = m.kernel
    const va = k.vmalloc(64 * 4096)
    const pfns = Array.from({ length: 64 }, (_, i) => k.page_to_pfn(k.vmalloc_to_page(va + i * 4096) as never))
    expect(pfns.some((p) => p >= m.page_alloc.max_low_pfn)).toBe(true)
    k.vfree(va)
    m.check()
  })

  it('vzalloc zeroes pages that held stale bytes; vfree gives every page back', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const k = m.kernel
    const pages = Array.from({ length: 32 }, () => k.alloc_pages(GFP_KERNEL, 0))
    for (const p of pages) k.kernel_write(k.page_address(p as never), new Uint8Array(4096).fill(0xab))
    for (const p of pages) k.__free_pages(p as never, 0)
    const free0 = free_now(m)
    const pt0 = pgtables(m)
    const va = k.vzalloc(32 * 4096)
    expect(k.kernel_read(va, 32 * 4096).every((b) => b === 0)).toBe(true)
    k.vfree(va)
    // the pages are back; only the kernel page tables made for the range stay, as in Linux
    expect(free0 - free_now(m)).toBe(pgtables(m) - pt0)
    m.check()
  })

  it('freed areas stay unpurged (no address reuse) until lazy_max_pages, then get purged', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', cpus: 1, debug_vm: true })
    const k = m.kernel
    const v = m.vmalloc
    const events: string[] = []
    m.trace.on((e) => events.push(`${e.name}: ${e.text}`))
    expect(v.va.lazy_max_pages()).toBe(8192) // fls(1) * 32 MiB of pages
    const seen: number[] = []
    let purged_at = -1
    for (let i = 0; i < 40 && purged_at < 0; i++) {
      const a = k.vmalloc(1024 * 1024)
      expect(a).not.toBe(0)
      if (seen.length) expect(a).toBeGreaterThan(seen[seen.length - 1])
      seen.push(a)
      k.vfree(a)
      if (v.va.nr_purges > 0) purged_at = i
      else expect(m.proc('/proc/vmallocinfo')).toContain(' unpurged vm_area')
      m.check()
    }
    // 257 pages wait per cycle: the 32nd vfree pushes vmap_lazy_nr past 8192
    expect(purged_at).toBe(31)
    expect(m.pgtables.nr_kernel_tlb_flushes).toBe(1) // one flush_tlb_kernel_range for the whole purge
    expect(m.proc('/proc/vmallocinfo')).toBe('')
    expect(events).toContain('alloc_vmap_area: va_start=18446683600570023936 size=1052672 align=4096 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0')
    expect(events).toContain('free_vmap_area_noflush: va_start=18446683600570023936 nr_lazy=257 nr_lazy_max=8192')
    expect(events.filter((e) => e.startsWith('purge_vmap_area_lazy: start=0xffffc90000000000 end=0xffffc90002020000 num_purged=32')).length).toBe(1)
    expect(k.vmalloc(1024 * 1024)).toBe(seen[0]) // lowest fit again
    m.check()
  })

  it('x86_64 with 2 CPUs: purged areas go to the per-CPU node pool of their size', () => {
    for (const cpus of [1, 2]) {
      const m = new Machine({ arch: 'x86_64', ram: '64M', cpus, debug_vm: true })
      const k = m.kernel
      const x = k.vmalloc(8192) // 12288 with its guard page
      const y = k.vmalloc(4096)
      k.vfree(x)
      m.vmalloc.purge_vmap_area_lazy(false) // drain_vmap_work
      const z = k.vmalloc(4096)
      if (cpus === 1) expect(z).toBe(x) // one node: no pools, lowest fit
      else expect(z).toBe(y + 8192) // x's range waits in node 0's 3-page pool
      const w = k.vmalloc(8192)
      if (cpus === 2) expect(w).toBe(x) // same size on the same CPU: taken from the pool
      m.check()
      for (const a of [y, z, w]) k.vfree(a)
      m.check()
    }
  })

  it('reports failures like Linux and leaks nothing', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const k = m.kernel
    const free0 = free_now(m)
    expect(k.vmalloc(128 * 1024 * 1024)).toBe(0)
    expect(m.dmesg()).toMatch(/vmalloc error: size 134217728, exceeds total pages, mode:0xcc0\(GFP_KERNEL\)/)
    const pt0 = pgtables(m)
    const big = (m.page_alloc.totalram_pages() - 1) * 4096 // allowed, but more than is free
    expect(k.vmalloc(big)).toBe(0)
    expect(m.dmesg()).toContain(`vmalloc error: size ${big}, failed to allocate pages, mode:0xcc0(GFP_KERNEL)`)
    m.vmalloc.purge_vmap_area_lazy(true)
    expect(free0 - free_now(m)).toBe(pgtables(m) - pt0)
    expect(k.__vmalloc(big, GFP_KERNEL | __GFP_NOWARN)).toBe(0)
    expect(m.dmesg().match(/vmalloc error/g)?.length).toBe(2)
    k.vfree(0)
    k.vfree(m.vmalloc.layout.VMALLOC_START + 0x100000)
    expect(m.dmesg()).toMatch(/Trying to vfree\(\) nonexistent vm area \(ffffc90000100000\)/)
    m.check()
  })

  it('vmap maps existing pages; vunmap leaves them allocated', () => {
    const m = new Machine({ arch: 'i386', ram: '1G', debug_vm: true })
    const k = m.kernel
    const pages = [k.alloc_pages(GFP_HIGHUSER, 0), k.alloc_pages(GFP_KERNEL, 0), k.alloc_pages(GFP_HIGHUSER, 0)].map((p) => p as NonNullable<typeof p>)
    const va = k.vmap(pages, 3, 0)
    expect(va).not.toBe(0)
    k.kernel_write(va + 4090, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    const lo = k.kernel_read(k.page_address(pages[1]), 4)
    expect(Array.from(lo)).toEqual([7, 8, 9, 10])
    expect(m.proc('/proc/vmallocinfo')).toMatch(/^0x[0-9a-f]{8}-0x[0-9a-f]{8} {3}16384 vmap_caller\+0x0\/0x0 vmap\n$/)
    // a read-only mapping of the same pages: reads work, a write oopses as a permissions violation
    const ro = k.vmap(pages, 3, 0, PAGE_KERNEL_RO)
    expect(Array.from(k.kernel_read(ro + 4094, 4))).toEqual([5, 6, 7, 8])
    expect(() => k.kernel_write(ro, new Uint8Array([1]))).toThrow(/unable to handle page fault/)
    expect(m.dmesg()).toContain('#PF: error_code(0x0003) - permissions violation')
    k.vunmap(ro)
    k.vunmap(va)
    expect(k.page_count(pages[0])).toBe(1)
    for (const p of pages) k.__free_pages(p, 0)
    m.check()
  })

  it('ioremap maps device memory UC- and refuses RAM', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const k = m.kernel
    expect(k.ioremap(0x100010, 4096)).toBe(0)
    expect(m.dmesg()).toMatch(/ioremap on RAM at 0x0000000000100010 - 0x000000000010100f/)
    expect(k.ioremap(0x200000, 4096)).toBe(0)
    expect(m.dmesg().match(/ioremap on RAM/g)?.length).toBe(1) // WARN_ONCE
    const va = k.ioremap(0xfebf1010, 0x2000, 'vp_modern_map_capability+0x12d/0x1c0')
    expect((va - m.vmalloc.layout.VMALLOC_START) % 4096).toBe(0x10)
    const line = m.proc('/proc/vmallocinfo')
    expect(line).toMatch(/^0xffffc900000[0-9a-f]{5}-0xffffc900000[0-9a-f]{5} {3}16384 vp_modern_map_capability\+0x12d\/0x1c0 phys=0x00000000febf1000 ioremap\n$/)
    // the ioremap alignment: size 3 pages rounds to a 16 KiB boundary
    expect((va - 0x10 - m.vmalloc.layout.VMALLOC_START) % 16384).toBe(0)
    const steps = m.pgtables.walk_levels(m.pgtables.init_mm, va)
    const pte = steps[steps.length - 1].val
    expect(pte & _PAGE_PCD).toBe(_PAGE_PCD)
    expect(pte_flag_names(pte)).toEqual(['P', 'RW', 'PCD', 'A', 'D', 'G', 'NX'])
    k.iounmap(va)
    m.check()
  })
})

describe('vmalloc objects', () => {
  it('vm_struct, small page arrays and vmap_area objects go through the hooks and all come back', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const k = m.kernel
    const live = new Map<number, [string, number]>()
    let next = 0x1000
    m.vmalloc.set_object_hooks({
      alloc: (what, bytes) => {
        live.set((next += 0x100), [what, bytes])
        return next
      },
      free: (what, obj) => {
        expect(live.get(obj)?.[0]).toBe(what)
        live.delete(obj)
      },
    })
    const count = (w: string): number => [...live.values()].filter(([x]) => x === w).length
    expect(count('vmap_area')).toBe(1) // the initial free space
    const a = k.vmalloc(3 * 4096)
    const b = k.vmalloc(600 * 4096) // its page array is vmalloc'd
    const c = k.vmap([k.alloc_pages(GFP_KERNEL, 0) as never], 1, 0)
    expect(count('vm_struct')).toBe(4) // a, b, b's page array, c
    expect(count('pages_array')).toBe(2) // a's and b's array: a kmalloc'd array for the vmalloc'd array
    expect([...live.values()].find(([w]) => w === 'vm_struct')?.[1]).toBe(72)
    expect(count('vmap_area')).toBe(4 + 1) // four areas and the free space after them
    k.vfree(a)
    expect(count('vmap_area')).toBe(5) // a is lazy now
    m.vmalloc.purge_vmap_area_lazy(true)
    expect(count('vmap_area')).toBe(5) // a's range is a free fragment of its own
    m.check()
    k.vfree(b)
    k.vunmap(c)
    m.vmalloc.purge_vmap_area_lazy(true)
    expect(count('vm_struct')).toBe(0)
    expect(count('pages_array')).toBe(0)
    expect(count('vmap_area')).toBe(1)
    m.check()
  })
})

describe('property: random vmalloc/vfree against a model', () => {
  for (const arch of ['x86_64', 'i386'] as ArchName[]) {
    it(`${arch}: contents survive, areas stay disjoint, everything comes back`, () => {
      const m = new Machine({ arch, ram: '64M', debug_vm: true })
      const k = m.kernel
      // Up to 75 kernel calls a run: the whole-machine check runs at the end of each block (Machine.deferred_check).
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 40000 }), fc.boolean(), fc.nat()), { minLength: 1, maxLength: 25 }), (ops) => {
          const free0 = free_now(m)
          const pt0 = pgtables(m)
          const live = new Map<number, Uint8Array>()
          let seed = 1
          m.deferred_check(() => {
            for (const [size, free, pick] of ops) {
              if (free && live.size) {
                const keys = [...live.keys()]
                const a = keys[pick % keys.length]
                expect(same(k.kernel_read(a, live.get(a)?.length ?? 0), live.get(a))).toBe(true)
                k.vfree(a)
                live.delete(a)
              } else {
                const a = k.vmalloc(size)
                expect(a).not.toBe(0)
                const data = new Uint8Array(size)
                for (let i = 0; i < size; i++) data[i] = (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff
                k.kernel_write(a, data)
                live.set(a, data)
              }
            }
          })
          m.deferred_check(() => {
            for (const [a, d] of live) {
              expect(same(k.kernel_read(a, d.length), d)).toBe(true)
              k.vfree(a)
            }
          })
          m.vmalloc.purge_vmap_area_lazy(true)
          expect(m.vmalloc.nr_vmalloc_pages).toBe(0)
          expect(m.proc('/proc/vmallocinfo')).toBe('')
          expect(free0 - free_now(m)).toBe(pgtables(m) - pt0)
          m.check()
        }),
        { numRuns: 30 },
      )
    })
  }
})

describe('vmalloc_32 and remap_vmalloc_range', () => {
  it('vmalloc_32 stays below 4 GiB (x86_64) and in lowmem (i386); only VM_USERMAP areas can be remapped', () => {
    for (const [arch, ram] of [['x86_64', '8G'], ['i386', '1G']] as [ArchName, string][]) {
      const m = new Machine({ arch, ram, debug_vm: true })
      const k = m.kernel
      const a = k.vmalloc_32(64 * 4096)
      const limit = arch === 'x86_64' ? 2 ** 32 / 4096 : m.page_alloc.max_low_pfn
      for (let i = 0; i < 64; i++) expect(k.vmalloc_to_pfn(a + i * 4096)).toBeLessThan(limit)
      expect(k.remap_vmalloc_range_pages(a, 0, 4096)).toBe(-22)
      const u = k.vmalloc_32_user(3 * 4096)
      const pages = k.remap_vmalloc_range_pages(u, 1, 2 * 4096)
      expect(pages).toEqual([k.vmalloc_to_page(u + 4096), k.vmalloc_to_page(u + 8192)])
      expect(k.remap_vmalloc_range_pages(u, 1, 3 * 4096)).toBe(-22) // past the end (the guard page is not part of it)
      expect(m.proc('/proc/vmallocinfo')).toMatch(/pages=3 vmalloc user/)
      k.vfree(a)
      k.vfree(u)
      m.check()
    }
  })
})
