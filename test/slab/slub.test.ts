import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { GFP_KERNEL, GFP_DMA, GFP_KERNEL_ACCOUNT, __GFP_RECLAIMABLE, __GFP_NOWARN } from '../../src/index.js'
import { PGTY_large_kmalloc, PGTY_slab } from '../../src/mm/page.js'
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from '../../src/mm/vmstat.js'
import { SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT, SLAB_TYPESAFE_BY_RCU } from '../../src/mm/slab_h.js'
import type { SlubCache } from '../../src/mm/slub_cache.js'

function meminfo(m: ReturnType<typeof boot>, key: string): number {
  const line = m.proc('/proc/meminfo').split('\n').find((l) => l.startsWith(key + ':'))
  return Number(/(\d+) kB/.exec(line ?? '')?.[1])
}

describe('kmalloc / kfree (SLUB)', () => {
  it('returns distinct direct-map objects of the size class, and kfree(NULL) is fine', () => {
    const m = boot()
    const k = m.kernel
    const a = k.kmalloc(100, GFP_KERNEL)
    const b = k.kmalloc(100, GFP_KERNEL)
    expect(a).not.toBe(0)
    expect(Math.abs(a - b)).toBeGreaterThanOrEqual(128)
    expect(k.ksize(a)).toBe(128)
    expect(m.page_alloc.virt_to_pfn(a)).toBeGreaterThanOrEqual(0)
    expect(m.pages.page_type[m.page_alloc.compound_head(m.page_alloc.virt_to_pfn(a))]).toBe(PGTY_slab)
    k.kfree(0)
    expect(k.kmalloc(0, GFP_KERNEL)).toBe(16)
    k.kfree(16)
    k.kfree(a)
    k.kfree(b)
    m.check()
  })

  it('keeps the free pointer inside the freed object (stale data), at the middle of the object', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-64') as SlubCache
    const a = k.kmalloc(64, GFP_KERNEL)
    const b = k.kmalloc(64, GFP_KERNEL)
    m.slab.env.mem.memset(a, 0x41, 64)
    k.kfree(a)
    expect(s.offset).toBe(32)
    // The freed object still holds 'A's, except the free pointer word, which points at the next free object.
    const bytes = m.slab.env.mem.read(a, 64)
    expect(bytes[0]).toBe(0x41)
    expect(bytes[63]).toBe(0x41)
    const fp = m.slab.env.mem.read_ptr(a + 32)
    expect(fp === 0 || m.slab.virt_to_slab(fp) !== null).toBe(true)
    expect(m.slab.env.mem.read(a + 32, 8).every((x) => x === 0x41)).toBe(false)
    // LIFO: the next allocation on this CPU gets the object back, stale bytes included.
    const c = k.kmalloc(64, GFP_KERNEL)
    expect(c).toBe(a)
    expect(m.slab.env.mem.read(c, 1)[0]).toBe(0x41)
    k.kfree(b)
    k.kfree(c)
    m.check()
  })

  it('kzalloc and kcalloc zero the object; kcalloc fails on overflow', () => {
    const m = boot()
    const k = m.kernel
    const a = k.kmalloc(200, GFP_KERNEL)
    m.slab.env.mem.memset(a, 0xff, 200)
    k.kfree(a)
    const z = k.kzalloc(200, GFP_KERNEL)
    expect(z).toBe(a)
    expect([...m.slab.env.mem.read(z, 192)].every((x) => x === 0)).toBe(true)
    const c = k.kcalloc(10, 12, GFP_KERNEL)
    expect([...m.slab.env.mem.read(c, 120)].every((x) => x === 0)).toBe(true)
    expect(k.kcalloc(2 ** 40, 2 ** 40, GFP_KERNEL)).toBe(0)
    k.kfree(z)
    k.kfree(c)
    m.check()
  })

  it('krealloc keeps the contents when moving to a bigger class and stays in place when it fits', () => {
    const m = boot()
    const k = m.kernel
    const a = k.kmalloc(20, GFP_KERNEL)
    m.slab.env.mem.write(a, new Uint8Array([1, 2, 3, 4, 5]))
    expect(k.krealloc(a, 30, GFP_KERNEL)).toBe(a)
    const b = k.krealloc(a, 300, GFP_KERNEL)
    expect(b).not.toBe(a)
    expect([...m.slab.env.mem.read(b, 5)]).toEqual([1, 2, 3, 4, 5])
    expect(k.ksize(b)).toBe(512)
    expect(k.krealloc(b, 0, GFP_KERNEL)).toBe(16)
    m.check()
  })

  it('selects dma-kmalloc, kmalloc-rcl and kmalloc-cg by GFP, and DMA objects live below 16 MiB', () => {
    const m = boot()
    const k = m.kernel
    const d = k.kmalloc(64, GFP_KERNEL | GFP_DMA)
    expect(m.slab.virt_to_slab(d)?.cache.name).toBe('dma-kmalloc-64')
    expect(m.page_alloc.virt_to_pfn(d)).toBeLessThan(4096)
    const r = k.kmalloc(64, GFP_KERNEL | __GFP_RECLAIMABLE)
    expect(m.slab.virt_to_slab(r)?.cache.name).toBe('kmalloc-rcl-64')
    const c = k.kmalloc(64, GFP_KERNEL_ACCOUNT)
    expect(m.slab.virt_to_slab(c)?.cache.name).toBe('kmalloc-cg-64')
    const before = m.vmstat.node_page_state(NR_SLAB_RECLAIMABLE_B)
    expect(before).toBeGreaterThanOrEqual(4096)
    for (const x of [d, r, c]) k.kfree(x)
    m.check()
  })

  it('sends kmalloc above 8 KiB to the page allocator as PGTY_large_kmalloc compound pages', () => {
    const m = boot()
    const k = m.kernel
    const unrec = m.vmstat.node_page_state(NR_SLAB_UNRECLAIMABLE_B)
    const free = m.page_alloc.nr_free_pages()
    const p = k.kmalloc(8193, GFP_KERNEL)
    const pfn = m.page_alloc.virt_to_pfn(p)
    expect(Math.abs(p % 4096)).toBe(0)
    expect(m.pages.page_type[pfn]).toBe(PGTY_large_kmalloc)
    expect(m.page_alloc.compound_order(pfn)).toBe(2)
    expect(k.ksize(p)).toBe(16384)
    expect(m.vmstat.node_page_state(NR_SLAB_UNRECLAIMABLE_B)).toBe(unrec + 16384)
    k.kfree(p)
    expect(m.vmstat.node_page_state(NR_SLAB_UNRECLAIMABLE_B)).toBe(unrec)
    k.drain_all_pages()
    expect(m.page_alloc.nr_free_pages()).toBeGreaterThanOrEqual(free)
    expect(k.kmalloc(8 << 20, GFP_KERNEL | __GFP_NOWARN)).toBe(0)
    m.check()
  })

  it('accounts slab pages in /proc/meminfo Slab/SReclaimable/SUnreclaim', () => {
    const m = boot()
    const k = m.kernel
    const su = meminfo(m, 'SUnreclaim')
    const sr = meminfo(m, 'SReclaimable')
    const objs: number[] = []
    for (let i = 0; i < 64; i++) objs.push(k.kmalloc(1000, GFP_KERNEL))
    // 64 objects of kmalloc-1k = 4 slabs of order 2 (16 KiB each).
    expect(meminfo(m, 'SUnreclaim')).toBe(su + 64)
    const d = k.kmem_cache_alloc(k.find_cache('dentry') as NonNullable<ReturnType<typeof k.find_cache>>, GFP_KERNEL)
    expect(meminfo(m, 'SReclaimable')).toBe(sr + 4)
    expect(meminfo(m, 'Slab')).toBe(meminfo(m, 'SReclaimable') + meminfo(m, 'SUnreclaim'))
    for (const o of objs) k.kfree(o)
    k.kfree(d)
    for (const s of m.slab.slab_caches) k.kmem_cache_shrink(s)
    expect(meminfo(m, 'SUnreclaim')).toBe(su)
    expect(meminfo(m, 'SReclaimable')).toBe(sr)
    m.check()
  })

  it('moves a freed-into full slab to the per-cpu partial list, then the node partial list (SLUB lists)', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-256') as SlubCache
    const objs: number[] = []
    for (let i = 0; i < 16 * 3; i++) objs.push(k.kmalloc(256, GFP_KERNEL))
    const c = s.cpu_slab[0]
    expect(c.slab?.inuse).toBe(16)
    // Free one object of the first (full, unlisted) slab: it goes to the cpu partial list.
    k.kfree(objs[0])
    expect(c.partial).not.toBeNull()
    expect(c.partial?.cpu_partial).toBe(0)
    // Flushing moves it to the node partial list.
    k.kmem_cache_shrink(s)
    expect(s.node.nr_partial).toBeGreaterThanOrEqual(1)
    for (const o of objs.slice(1)) k.kfree(o)
    k.kmem_cache_shrink(s)
    expect(s.node.nr_slabs).toBe(0)
    m.check()
  })

  it('runs the constructor once per object when a slab is created, not at every allocation', () => {
    const m = boot()
    const k = m.kernel
    let calls = 0
    const s = k.kmem_cache_create('mmsim_ctor', 40, 0, SLAB_HWCACHE_ALIGN, (p) => {
      calls++
      m.slab.env.mem.memset(p, 0x77, 40)
    })
    expect(s).not.toBeNull()
    if (!s) return
    expect(s.size).toBe(64 + 0) // free pointer after the object (ctor): 48 -> HWCACHE align 64
    const a = k.kmem_cache_alloc(s, GFP_KERNEL)
    expect(calls).toBe(s.objects)
    expect(m.slab.env.mem.read(a, 1)[0]).toBe(0x77)
    m.slab.env.mem.memset(a, 0x11, 40)
    k.kmem_cache_free(s, a)
    const b = k.kmem_cache_alloc(s, GFP_KERNEL)
    expect(b).toBe(a)
    expect(calls).toBe(s.objects)
    // A ctor cache's free pointer is outside the object: the object's bytes survive free.
    expect(m.slab.env.mem.read(b, 40).every((x) => x === 0x11)).toBe(true)
    k.kmem_cache_free(s, b)
    k.kmem_cache_destroy(s)
    expect(k.find_cache('mmsim_ctor')).toBeNull()
    m.check()
  })

  it('complains like Linux when a cache is destroyed with objects left, and keeps it', () => {
    const m = boot()
    const k = m.kernel
    const s = k.kmem_cache_create('mmsim_leaky', 100, 0, 0, null)
    if (!s) throw new Error('no cache')
    const a = k.kmem_cache_alloc(s, GFP_KERNEL)
    k.kmem_cache_alloc(s, GFP_KERNEL)
    k.kmem_cache_free(s, a)
    k.kmem_cache_destroy(s, 'mydrv_exit+0x1c/0x30')
    const log = m.dmesg()
    expect(log).toMatch(/BUG mmsim_leaky \(Not tainted\): Objects remaining on __kmem_cache_shutdown\(\)/)
    expect(log).toMatch(/Object 0x[0-9a-f]{16} @offset=\d+/)
    expect(log).toMatch(/kmem_cache_destroy mmsim_leaky: Slab cache still has objects when called from mydrv_exit\+0x1c\/0x30/)
    expect(log).toMatch(/WARNING: CPU: 0 PID: 0 at mm\/slab_common.c kmem_cache_destroy/)
    expect(k.find_cache('mmsim_leaky')).not.toBeNull()
    m.check()
  })

  it('reports a double free and a bad pointer without corrupting the allocator', () => {
    const m = boot()
    const k = m.kernel
    const a = k.kmalloc(32, GFP_KERNEL)
    k.kfree(a)
    k.kfree(a)
    expect(m.dmesg()).toMatch(/BUG kmalloc-32 \(Not tainted\): Object already free/)
    const b = k.kmalloc(32, GFP_KERNEL)
    k.kfree(b + 4)
    expect(m.dmesg()).toMatch(/Invalid object pointer 0x[0-9a-f]{16}/)
    k.kfree(b)
    m.check()
  })

  it('emits the kmem tracepoints with the kernel format', () => {
    const m = boot()
    const k = m.kernel
    const ev: string[] = []
    m.trace.on((e) => ev.push(`${e.name}: ${e.text}`))
    const a = k.kmalloc(100, GFP_KERNEL, 'mydrv_probe+0x10/0x80')
    k.kfree(a, 'mydrv_remove+0x8/0x20')
    const s = k.find_cache('filp')
    if (!s) throw new Error('no filp')
    const f = k.kmem_cache_alloc(s, GFP_KERNEL, 'alloc_empty_file+0x4b/0x120')
    k.kmem_cache_free(s, f, '__fput+0x1a2/0x2b0')
    const hex = (x: number): string => m.slab.env.mem.px(x)
    expect(ev).toContain(`kmalloc: call_site=mydrv_probe+0x10/0x80 ptr=${hex(a)} bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false`)
    expect(ev).toContain(`kfree: call_site=mydrv_remove+0x8/0x20 ptr=${hex(a)}`)
    expect(ev).toContain(`kmem_cache_alloc: call_site=alloc_empty_file+0x4b/0x120 ptr=${hex(f)} bytes_req=184 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=true`)
    expect(ev).toContain(`kmem_cache_free: call_site=__fput+0x1a2/0x2b0 ptr=${hex(f)} name=filp`)
    m.check()
  })

  it('computes SLUB layouts: RCU caches keep the free pointer outside the object, others in the middle', () => {
    const m = boot()
    const k = m.kernel
    const rcu = k.kmem_cache_create('mmsim_rcu', 96, 0, SLAB_TYPESAFE_BY_RCU, null) as SlubCache
    expect([rcu.offset, rcu.size]).toEqual([96, 104])
    const plain = k.kmem_cache_create('mmsim_plain', 100, 0, SLAB_RECLAIM_ACCOUNT, null) as SlubCache
    expect([plain.offset, plain.size, plain.objects, plain.order]).toEqual([48, 104, 39, 0])
    expect(k.kmem_cache_create('mmsim_too_big', 8 << 20, 0, 0, null)).toBeNull()
    expect(m.dmesg()).toMatch(/__kmem_cache_create_args\(mmsim_too_big\) failed with error -22/)
    k.kmem_cache_destroy(rcu)
    k.kmem_cache_destroy(plain)
    m.check()
  })

  it('init_on_free wipes freed objects and init_on_alloc zeroes new ones', () => {
    const m = boot({ init_on_free: true, init_on_alloc: true })
    const k = m.kernel
    const a = k.kmalloc(64, GFP_KERNEL)
    m.slab.env.mem.memset(a, 0x55, 64)
    k.kfree(a)
    const bytes = m.slab.env.mem.read(a, 64)
    expect(bytes.filter((x) => x === 0x55).length).toBe(0)
    const b = k.kmalloc(64, GFP_KERNEL)
    expect(m.slab.env.mem.read(b, 64).every((x) => x === 0)).toBe(true)
    k.kfree(b)
    m.check()
  })

  it('works on i386 with 4-byte free pointers', () => {
    const m = boot({ arch: 'i386', ram: '128M' })
    const k = m.kernel
    const objs = Array.from({ length: 100 }, (_, i) => k.kmalloc(8 + i * 10, GFP_KERNEL))
    expect(objs.every((x) => x >= 0xc0000000)).toBe(true)
    for (const o of objs) k.kfree(o)
    const s = k.find_cache('kmalloc-64') as SlubCache
    expect(s.offset).toBe(32)
    m.check()
  })

  it('hardened freelists store obfuscated pointers that still decode', () => {
    const m = boot({ freelist_hardened: true })
    const k = m.kernel
    const objs = Array.from({ length: 200 }, () => k.kmalloc(64, GFP_KERNEL))
    for (const o of objs) k.kfree(o)
    const raw = m.slab.env.mem.read_ptr(objs[5] + 32)
    expect(m.slab.virt_to_slab(raw)).toBeNull()
    const again = Array.from({ length: 200 }, () => k.kmalloc(64, GFP_KERNEL))
    expect(new Set(again).size).toBe(200)
    for (const o of again) k.kfree(o)
    m.check()
  })
})

describe('GFP handling', () => {
  it('fixes up GFP_DMA32/__GFP_HIGHMEM in kmalloc with Linux\'s warning', () => {
    const m = boot()
    const k = m.kernel
    const p = k.kmalloc(64, GFP_KERNEL | 0x04)
    expect(m.slab.virt_to_slab(p)?.cache.name).toBe('kmalloc-64')
    expect(m.dmesg()).toMatch(/Unexpected gfp: 0x4 \(GFP_DMA32\)\. Fixing up to gfp: 0xcc0 \(GFP_KERNEL\)\. Fix your code!/)
    k.kfree(p)
    m.check()
  })
})

describe('SLUB under memory pressure and across CPUs', () => {
  it('fails cleanly with Linux\'s warnings when memory runs out, and gets every page back', () => {
    const m = boot({ ram: '32M' })
    const k = m.kernel
    k.drain_all_pages()
    const free0 = m.page_alloc.nr_free_pages()
    const objs: number[] = []
    // Thousands of kmallocs and kfrees: the whole-machine check runs at the end of each block (Machine.deferred_check).
    m.deferred_check(() => {
      for (;;) {
        const p = k.kmalloc(4096, GFP_KERNEL)
        if (!p) break
        objs.push(p)
      }
    })
    expect(objs.length).toBeGreaterThan(1000)
    const log = m.dmesg()
    expect(log).toMatch(/page allocation failure: order:0, mode:0x40cc0\(GFP_KERNEL\|__GFP_COMP\)/)
    expect(log).toMatch(/SLUB: Unable to allocate memory on CPU 0 \(of node 0\) on node -1, gfp=0xcc0\(GFP_KERNEL\)/)
    expect(log).toMatch(/ {2}cache: kmalloc-4k, object size: 4096, buffer size: 4096, default order: 3, min order: 0/)
    m.check()
    m.deferred_check(() => {
      for (const p of objs) k.kfree(p)
    })
    k.kmem_cache_shrink(k.find_cache('kmalloc-4k') as NonNullable<ReturnType<typeof k.find_cache>>)
    k.drain_all_pages()
    expect(m.page_alloc.nr_free_pages()).toBe(free0)
    m.check()
  })

  it('frees from another CPU go to the slab freelist of a frozen cpu slab and come back through get_freelist', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-192') as SlubCache
    const a = k.kmalloc(150, GFP_KERNEL)
    const b = k.kmalloc(150, GFP_KERNEL)
    const slab = s.cpu_slab[0].slab
    m.page_alloc.cpu = 1
    k.kfree(a)
    expect(slab?.freelist).toBe(a)
    expect(s.cpu_slab[1].slab).toBeNull()
    m.page_alloc.cpu = 0
    // Drain cpu 0's lockless freelist so the next allocation takes the remote frees.
    const rest: number[] = []
    while (s.cpu_slab[0].freelist) rest.push(k.kmalloc(150, GFP_KERNEL))
    expect(k.kmalloc(150, GFP_KERNEL)).toBe(a)
    for (const x of [...rest, a, b]) k.kfree(x)
    m.check()
  })
})

describe('SLUB per-cpu sheaves (6.18: maple_node, vm_area_struct)', () => {
  it('refills a whole sheaf from the slabs, serves LIFO from it, and keeps freed objects in it until a flush', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('vm_area_struct') as SlubCache
    expect(s.sheaf_capacity).toBe(32)
    expect(s.cpu_sheaves?.length).toBe(2)
    const a = k.kmem_cache_alloc(s, GFP_KERNEL)
    const main = s.cpu_sheaves?.[0].main
    // One allocation pulled 32 objects through the cpu slab into the sheaf and popped one.
    expect(main?.size).toBe(31)
    expect(s.node.total_objects).toBe(42)
    k.kmem_cache_free(s, a)
    expect(main?.size).toBe(32)
    expect(main?.objects.at(-1)).toBe(a)
    // The sheaf array lives in its kmalloc-512 object.
    expect(m.slab.virt_to_slab(main?.addr ?? 0)?.cache.name).toBe('kmalloc-512')
    expect(m.slab.env.mem.read_ptr((main?.addr ?? 0) + 32 + 31 * 8)).toBe(a)
    expect(k.kmem_cache_alloc(s, GFP_KERNEL)).toBe(a)
    k.kmem_cache_free(s, a)
    // A double free hits an object that sits in a sheaf.
    k.kmem_cache_free(s, a)
    expect(m.dmesg()).toMatch(/BUG vm_area_struct \(Not tainted\): Object already free/)
    k.kmem_cache_shrink(s)
    expect(main?.size).toBe(0)
    expect(s.node.nr_slabs).toBe(0)
    m.check()
  })

  it('trades full and empty sheaves with the barn when frees outrun the main and spare sheaves', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('maple_node') as SlubCache
    const objs = Array.from({ length: 200 }, () => k.kmem_cache_alloc(s, GFP_KERNEL))
    m.check()
    for (const o of objs) k.kmem_cache_free(s, o)
    const pcs = s.cpu_sheaves?.[0]
    expect(pcs?.main.size).toBeGreaterThan(0)
    expect(pcs?.spare?.size).toBe(32)
    expect(s.barn?.nr_full).toBeGreaterThan(0)
    m.check()
    k.kmem_cache_shrink(s)
    expect(s.barn?.nr_full).toBe(0)
    expect(s.node.nr_slabs).toBe(0)
    m.check()
  })

  it('has no sheaves when the cache debugs', () => {
    const m = boot({ slub_debug: 'P,vm_area_struct' })
    const s = m.kernel.find_cache('vm_area_struct') as SlubCache
    expect(s.cpu_sheaves).toBeNull()
    m.check()
  })
})
