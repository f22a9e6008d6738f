import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { GFP_KERNEL } from '../../src/index.js'
import { CFLGS_OBJFREELIST_SLAB, CFLGS_OFF_SLAB, type ClassicSlab, type SlabCacheClassic } from '../../src/mm/slab.js'
import { SLAB_HWCACHE_ALIGN, SLAB_TYPESAFE_BY_RCU } from '../../src/mm/slab_h.js'

function cache(m: ReturnType<typeof boot>, name: string): SlabCacheClassic {
  return m.kernel.find_cache(name) as SlabCacheClassic
}

describe('classic SLAB', () => {
  it('computes num/gfporder with calculate_slab_order() and picks the freelist placement', () => {
    const m = boot({ slab: 'slab', ram: '64M' })
    // 64 MiB > 32 MiB: slab_max_order = 1.
    // kmalloc-64: a 64-entry freelist (128 bytes) does not fit in an object, so on-slab: 4096 / (64 + 2).
    const k64 = cache(m, 'kmalloc-64')
    expect([k64.num, k64.gfporder, k64.size]).toEqual([62, 0, 64])
    expect(k64.flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)).toBe(0)
    // kmalloc-256: 16 entries fit in one object: the freelist lives in the object allocated last.
    const k256 = cache(m, 'kmalloc-256')
    expect([k256.num, k256.gfporder]).toEqual([16, 0])
    expect(k256.flags & CFLGS_OBJFREELIST_SLAB).toBeTruthy()
    // A constructor forbids OBJFREELIST; a page-sized object leaves no room on-slab: off-slab freelist.
    const ctor = m.kernel.kmem_cache_create('mmsim_slab_ctor', 4096, 0, 0, () => undefined) as SlabCacheClassic
    expect(ctor.flags & CFLGS_OBJFREELIST_SLAB).toBe(0)
    expect(ctor.flags & CFLGS_OFF_SLAB).toBeTruthy()
    expect([ctor.num, ctor.gfporder]).toEqual([1, 0])
    const o = m.kernel.kmem_cache_alloc(ctor, GFP_KERNEL)
    m.kernel.kmem_cache_free(ctor, o)
    const small = m.kernel.kmem_cache_create('mmsim_slab_rcu', 40, 0, SLAB_TYPESAFE_BY_RCU, null) as SlabCacheClassic
    expect(small.flags & (CFLGS_OBJFREELIST_SLAB | CFLGS_OFF_SLAB)).toBe(0)
    // On-slab: 4096 / (40 + 2) = 97 objects, 22 bytes left, 0 colours of 64 bytes.
    expect([small.num, small.colour]).toEqual([97, 0])
    m.check()
  })

  it('colours successive slabs: s_mem moves by colour_off, wrapping after `colour` slabs', () => {
    const m = boot({ slab: 'slab' })
    const k = m.kernel
    const s = k.kmem_cache_create('mmsim_colour', 200, 0, SLAB_HWCACHE_ALIGN, null) as SlabCacheClassic
    // 256-byte slots, OBJFREELIST: 16 objects, no room to colour; use a size that leaves room.
    const t = k.kmem_cache_create('mmsim_colour2', 900, 0, 0, null) as SlabCacheClassic
    expect(t.colour_off).toBe(64)
    // 4 objects of 900 bytes leave 496 bytes: 7 colours of 64 bytes.
    expect([t.num, t.colour]).toEqual([4, 7])
    const b = m.slab.backend as ClassicSlab
    const offsets: number[] = []
    const objs: number[] = []
    for (let i = 0; i < t.num * (t.colour + 1); i++) objs.push(k.kmem_cache_alloc(t, GFP_KERNEL))
    for (const slab of b.registry.live()) if (slab.cache === t) offsets.push(slab.colour_off)
    expect(offsets.slice(0, t.colour + 1)).toEqual([...Array.from({ length: t.colour }, (_, i) => i * 64), 0])
    for (const o of objs) k.kmem_cache_free(t, o)
    k.kmem_cache_destroy(t)
    k.kmem_cache_destroy(s)
    m.check()
  })

  it('serves allocations from the per-CPU array cache, refilled batchcount at a time', () => {
    const m = boot({ slab: 'slab' })
    const k = m.kernel
    // kmalloc-192: a cache boot leaves untouched (the char devices' objects are in kmalloc-96/128).
    const s = cache(m, 'kmalloc-192')
    const ac = s.cpu_cache[0]
    const a = k.kmalloc(150, GFP_KERNEL)
    // The first refill is limited to BATCHREFILL_LIMIT (16) while the cache is untouched: 15 left.
    expect(ac.avail).toBe(15)
    const before = ac.avail
    const b = k.kmalloc(150, GFP_KERNEL)
    expect(ac.avail).toBe(before - 1)
    k.kfree(b)
    expect(ac.avail).toBe(before)
    expect(ac.entry[ac.avail - 1]).toBe(b)
    // The next allocation gets the hot object back (LIFO).
    expect(k.kmalloc(150, GFP_KERNEL)).toBe(b)
    // slabinfo counts objects in array caches as active.
    const line = m.proc('/proc/slabinfo').split('\n').find((l) => l.startsWith('kmalloc-192 '))
    expect(line).toMatch(/^kmalloc-192\s+16\s+21\s+192\s+21\s+1 : tunables\s+120\s+60\s+8 : slabdata\s+1\s+1\s+0$/)
    k.kfree(a)
    k.kfree(b)
    m.check()
  })

  it('flushes a full array cache into the shared array, then to the slabs, and shrink frees empty slabs', () => {
    const m = boot({ slab: 'slab' })
    const k = m.kernel
    const s = cache(m, 'kmalloc-2k')
    const objs = Array.from({ length: 200 }, () => k.kmalloc(2000, GFP_KERNEL))
    for (const o of objs) k.kfree(o)
    // limit 24: the array cache never holds more; the shared array holds 8 * 12.
    expect(s.cpu_cache[0].avail).toBeLessThanOrEqual(24)
    expect(s.node.shared?.avail).toBe(96)
    expect(s.node.total_slabs).toBeGreaterThan(0)
    k.kmem_cache_shrink(s)
    expect(s.node.total_slabs).toBe(0)
    expect(s.node.free_objects).toBe(0)
    m.check()
  })

  it('reports a double free instead of corrupting the freelist', () => {
    const m = boot({ slab: 'slab' })
    const k = m.kernel
    const a = k.kmalloc(64, GFP_KERNEL)
    k.kfree(a)
    k.kfree(a)
    expect(m.dmesg()).toMatch(/double free 0x[0-9a-f]{16} in cache kmalloc-64/)
    m.check()
  })
})
