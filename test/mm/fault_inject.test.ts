import { describe, expect, it } from 'vitest'
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT, __GFP_NOFAIL, __GFP_NOWARN, type Page } from '../../src/index.js'
import { boot } from '../helpers.js'

describe('fail_page_alloc', () => {
  it('is off by default, and with its defaults spares order 0 and allocations that may reclaim', () => {
    const m = boot()
    const f = m.fail_page_alloc
    for (let i = 0; i < 50; i++) {
      const p = m.kernel.alloc_pages(GFP_KERNEL, 1)
      expect(p).not.toBeNull()
      m.kernel.__free_pages(p as Page, 1)
    }
    f.probability = 100
    expect(f.min_order).toBe(1)
    expect(f.ignore_gfp_reclaim).toBe(true)
    const p = m.kernel.alloc_pages(GFP_KERNEL, 1) // may reclaim: spared
    const q = m.kernel.alloc_pages(GFP_ATOMIC, 0) // order 0: spared
    expect(p).not.toBeNull()
    expect(q).not.toBeNull()
    expect(m.kernel.alloc_pages(GFP_ATOMIC, 1)).toBeNull()
    m.kernel.__free_pages(p as Page, 1)
    m.kernel.__free_pages(q as Page, 0)
  })

  it('fails the interval-th eligible call, `times` times, never a __GFP_NOFAIL one, without warn_alloc()', () => {
    const m = boot()
    const f = m.fail_page_alloc
    Object.assign(f, { probability: 100, interval: 3, times: 2, min_order: 0, ignore_gfp_reclaim: false })
    const got: boolean[] = []
    const held: Page[] = []
    for (let i = 0; i < 9; i++) {
      const p = m.kernel.alloc_pages(GFP_KERNEL, 0)
      got.push(p !== null)
      if (p) held.push(p)
    }
    expect(got).toEqual([true, true, false, true, true, false, true, true, true])
    expect(f.times).toBe(0)
    f.times = -1
    f.interval = 1
    const nofail = m.kernel.alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0)
    expect(nofail).not.toBeNull()
    held.push(nofail as Page)
    for (const p of held) m.kernel.__free_pages(p, 0)
    const log = m.dmesg()
    expect(log).toContain('FAULT_INJECTION: forcing a failure.')
    expect(log).toContain('name fail_page_alloc, interval 3, probability 100, space 0, times 2')
    expect(log).not.toContain('page allocation failure')
  })

  it('stays quiet for __GFP_NOWARN and with verbose 0, and replays from the machine seed', () => {
    const run = (): boolean[] => {
      const m = boot({ seed: 7 })
      Object.assign(m.fail_page_alloc, { probability: 30, min_order: 0, ignore_gfp_reclaim: false })
      const out: boolean[] = []
      for (let i = 0; i < 40; i++) {
        const p = m.kernel.alloc_pages(GFP_NOWAIT | __GFP_NOWARN, 0)
        out.push(p !== null)
        if (p) m.kernel.__free_pages(p, 0)
      }
      expect(m.dmesg()).not.toContain('FAULT_INJECTION')
      return out
    }
    const a = run()
    expect(a).toEqual(run())
    expect(a.filter((x) => !x).length).toBeGreaterThan(4)
    expect(a.filter((x) => x).length).toBeGreaterThan(15)
  })
})

describe('failslab', () => {
  it('fails kmalloc and kmem_cache_alloc, never the bootstrap kmem_cache, only SLAB_FAILSLAB caches with cache_filter', () => {
    const m = boot()
    const f = m.failslab
    Object.assign(f, { probability: 100, ignore_gfp_reclaim: false, verbose: 0 })
    expect(m.kernel.kmalloc(64, GFP_KERNEL)).toBe(0)
    // kmem_cache_create() allocates its struct kmem_cache from the bootstrap cache: not failed.
    const c = m.kernel.kmem_cache_create('fi_test', 100, 0, 0)
    expect(c).not.toBeNull()
    expect(m.kernel.kmem_cache_alloc(c!, GFP_KERNEL)).toBe(0)
    f.cache_filter = true
    const x = m.kernel.kmem_cache_alloc(c!, GFP_KERNEL)
    expect(x).not.toBe(0)
    m.kernel.kmem_cache_free(c!, x)
    f.probability = 0
    m.kernel.kmem_cache_destroy(c)
  })
})

describe('vmalloc under failslab', () => {
  it('a failed vmap_area or vm_struct allocation fails vmalloc with the free space untouched', () => {
    const outcomes = new Set<boolean>()
    for (let k = 1; k <= 8; k++) {
      const m = boot()
      // Fragment the vmalloc space so that allocations split free fragments.
      const held = [1, 2, 3, 4].map((n) => m.kernel.vmalloc(n * 4096))
      m.kernel.vfree(held[1])
      Object.assign(m.failslab, { probability: 100, interval: k, times: 1, ignore_gfp_reclaim: false, verbose: 0 })
      for (const n of [1, 3, 5]) {
        const a = m.kernel.vmalloc(n * 4096)
        outcomes.add(a !== 0)
        if (a) m.kernel.vfree(a)
      }
      m.failslab.probability = 0
      m.check()
    }
    expect(outcomes).toEqual(new Set([true, false]))
  })
})
