import { describe, expect, it } from 'vitest'
import { GFP_HIGHUSER, GFP_KERNEL, Machine, type Page } from '../../src/index.js'
import { boot } from '../helpers.js'

/**
 * Kernel-API misuse gets the kernel's report in the log, the offending operation is refused
 * or neutralised as Linux does, and the machine stays usable with the checker passing (the
 * end-of-test recount of test/setup.ts included).
 */
describe('kernel-side misuse', () => {
  const still_usable = (m: Machine): void => {
    const k = m.kernel
    const pages = Array.from({ length: 64 }, () => k.alloc_pages(GFP_KERNEL, 0) as Page)
    const x = k.kmalloc(100, GFP_KERNEL)
    expect(x).not.toBe(0)
    k.kfree(x)
    for (const p of pages) k.__free_pages(p, 0)
    const p = m.spawn({ name: 'after' })
    p.store(p.mmap(0, 8192, 3, 0x22), [1, 2, 3])
    p.exit(0)
    m.check()
  }

  it('__free_pages(page, 3) of an order-0 page: "Bad page state" for each neighbour in use, and none is freed', () => {
    const m = boot()
    const k = m.kernel
    const held = Array.from({ length: 64 }, () => k.alloc_pages(GFP_KERNEL, 0) as Page)
    // An 8-aligned page whose 7 neighbours are held too.
    const pfns = new Set(held.map((p) => k.page_to_pfn(p)))
    const victim = held.find((p) => {
      const pfn = k.page_to_pfn(p)
      return pfn % 8 === 0 && [1, 2, 3, 4, 5, 6, 7].every((i) => pfns.has(pfn + i))
    }) as Page
    const base = k.page_to_pfn(victim)
    const free_before = k.nr_free_pages()
    k.__free_pages(victim, 3)
    const log = m.dmesg()
    for (let i = 1; i < 8; i++) expect(log).toContain(`BUG: Bad page state in process swapper/0  pfn:${(base + i).toString(16).padStart(5, '0')}`)
    expect(log).toContain('page dumped because: nonzero _refcount')
    // Nothing went back: the neighbours are not handed out again, the victim leaked.
    expect(k.nr_free_pages()).toBe(free_before)
    for (let n = 0; n < 200; n++) {
      const p = k.alloc_pages(GFP_KERNEL, 0) as Page
      expect(k.page_to_pfn(p) >= base && k.page_to_pfn(p) < base + 8).toBe(false)
      k.__free_pages(p, 0)
    }
    for (const p of held) if (p !== victim) k.__free_pages(p, 0)
    still_usable(m)
  })

  it('freeing a PG_reserved page (the zero page in the kernel image): PAGE_FLAGS_CHECK_AT_FREE, not freed', () => {
    const m = boot()
    const k = m.kernel
    const free_before = k.nr_free_pages()
    k.__free_pages(k.pfn_to_page(m.zero_pfn), 0)
    expect(m.dmesg()).toContain('page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set')
    expect(k.nr_free_pages()).toBe(free_before)
    still_usable(m)
  })

  it('__free_pages() of a slab page: "non-NULL mapping", the slab keeps its page', () => {
    const m = boot()
    const k = m.kernel
    const objs = Array.from({ length: 10 }, () => k.kmalloc(64, GFP_KERNEL))
    const page = k.virt_to_page(objs[0]) as Page
    k.__free_pages(page, 0)
    expect(m.dmesg()).toContain('page dumped because: non-NULL mapping')
    k.kernel_write(objs[0], new Uint8Array([5, 6, 7]))
    expect([...k.kernel_read(objs[0], 3)]).toEqual([5, 6, 7])
    for (const o of objs) k.kfree(o)
    still_usable(m)
  })

  it('kmem_cache_destroy twice, then alloc and free: KASAN slab-use-after-free, each call does nothing', () => {
    const m = boot()
    const k = m.kernel
    const c = k.kmem_cache_create('misuse', 100, 0, 0)
    const before = m.slab.slab_caches.length
    k.kmem_cache_destroy(c)
    expect(m.slab.slab_caches.length).toBe(before - 1)
    k.kmem_cache_destroy(c)
    expect(m.slab.slab_caches.length).toBe(before - 1)
    expect(k.kmem_cache_alloc(c!, GFP_KERNEL)).toBe(0)
    const log = m.dmesg()
    expect(log).toContain('BUG: KASAN: slab-use-after-free in kmem_cache_destroy')
    expect(log).toContain('BUG: KASAN: slab-use-after-free in kmem_cache_alloc_noprof')
    still_usable(m)
  })

  it('kmem_cache_create with size 0 fails with EINVAL in the kernel\'s words', () => {
    const m = boot()
    expect(m.kernel.kmem_cache_create('zero', 0, 0, 0)).toBeNull()
    expect(m.dmesg()).toContain('__kmem_cache_create_args(zero) failed with error -22')
    still_usable(m)
  })

  it('i386: kunmap_local of a user address WARNs; with the kmap_local stack empty it is the BUG_ON, and nothing changes', () => {
    const m = boot({ arch: 'i386', ram: '1G' })
    const k = m.kernel
    k.kunmap_local(0x12345000)
    expect(m.dmesg()).toContain('WARNING: CPU: 0 PID: 0 at mm/highmem.c kunmap_local_indexed')
    const hp = k.alloc_pages(GFP_HIGHUSER, 0) as Page
    const a = k.kmap_local_page(hp)
    k.kunmap_local(a)
    k.kunmap_local(a)
    expect(m.dmesg()).toContain('kernel BUG at mm/highmem.c!')
    const b = k.kmap_local_page(hp)
    expect(b).toBe(a)
    k.kunmap_local(b)
    k.__free_pages(hp, 0)
    still_usable(m)
  })
})
