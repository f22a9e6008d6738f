import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { GFP_KERNEL } from '../../src/index.js'
import type { SlubCache } from '../../src/mm/slub_cache.js'
import { SLAB_CONSISTENCY_CHECKS, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER } from '../../src/index.js'

describe('slub_debug', () => {
  it('lays out red zones, tracks and padding as calculate_sizes() does', () => {
    const m = boot({ slub_debug: 'FZPU,kmalloc-64' })
    const s = m.kernel.find_cache('kmalloc-64') as SlubCache
    // 64 + 8 (right red zone word) | fp 8 | 2 tracks of 32 | orig_size 4 | pad word 8 | left red zone 64 (align 64) -> 224 -> 256.
    expect([s.red_left_pad, s.inuse, s.offset, s.size, s.objects, s.order]).toEqual([64, 72, 72, 256, 16, 0])
    const plain = m.kernel.find_cache('kmalloc-128') as SlubCache
    expect(plain.size).toBe(128)
    m.check()
  })

  it('poisons free objects and catches a use-after-free write at the next allocation', () => {
    const m = boot({ slub_debug: 'FZPU,kmalloc-64' })
    const k = m.kernel
    const mem = m.slab.env.mem
    const a = k.kmalloc(64, GFP_KERNEL, 'mydrv_open+0x20/0x90')
    expect(mem.read(a - 8, 8).every((x) => x === 0xcc)).toBe(true)
    k.kfree(a, 'mydrv_release+0x11/0x40')
    const poisoned = mem.read(a, 64)
    expect(poisoned.slice(0, 63).every((x) => x === 0x6b)).toBe(true)
    expect(poisoned[63]).toBe(0xa5)
    mem.write(a + 10, new Uint8Array([1, 2, 3]))
    const b = k.kmalloc(64, GFP_KERNEL)
    expect(b).not.toBe(0)
    expect(b).not.toBe(a)
    const log = m.dmesg()
    expect(log).toMatch(/\[Poison overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\d+\. First byte 0x1 instead of 0x6b/)
    expect(log).toMatch(/BUG kmalloc-64 \(Not tainted\): Object corrupt/)
    expect(log).toMatch(/Allocated in mydrv_open\+0x20\/0x90 age=\d+ cpu=0 pid=0/)
    expect(log).toMatch(/Freed in mydrv_release\+0x11\/0x40 age=\d+ cpu=0 pid=0/)
    expect(log).toMatch(/Slab 0x[0-9a-f]+ objects=16 used=\d+ fp=0x[0-9a-f]{16} flags=0x/)
    expect(log).toMatch(/Object {3}[0-9a-f]{16}: 6b 6b 6b 6b 6b 6b 6b 6b 6b 6b 01 02 03 6b 6b 6b {2}kkkkkkkkkk\.\.\.kkk/)
    expect(log).toMatch(/FIX kmalloc-64: Restoring Poison 0x[0-9a-f]{16}-0x[0-9a-f]{16}=0x6b/)
    expect(log).toMatch(/FIX kmalloc-64: Marking all objects used/)
    k.kfree(b)
    m.check()
  })

  it('catches a right red zone overwrite at kfree and does not free the object', () => {
    const m = boot({ slub_debug: 'FZPU,kmalloc-64' })
    const k = m.kernel
    const a = k.kmalloc(64, GFP_KERNEL)
    m.slab.env.mem.write(a + 64, new Uint8Array([0x42]))
    k.kfree(a)
    const log = m.dmesg()
    expect(log).toMatch(/\[Right Redzone overwritten\] 0x[0-9a-f]{16}-0x[0-9a-f]{16} @offset=\d+\. First byte 0x42 instead of 0xcc/)
    expect(log).toMatch(/Redzone {2}[0-9a-f]{16}: 42 cc cc cc cc cc cc cc/)
    expect(log).toMatch(/FIX kmalloc-64: Object at 0x[0-9a-f]{16} not freed/)
    m.check()
  })

  it('catches writes past the requested kmalloc size (kmalloc Redzone)', () => {
    const m = boot({ slub_debug: 'FZPU,kmalloc-64' })
    const k = m.kernel
    const a = k.kmalloc(50, GFP_KERNEL)
    m.slab.env.mem.write(a + 52, new Uint8Array([9]))
    k.kfree(a)
    expect(m.dmesg()).toMatch(/\[kmalloc Redzone overwritten\] .* First byte 0x9 instead of 0xcc/)
    m.check()
  })

  it('reports a double free as "Object already free"', () => {
    const m = boot({ slub_debug: '' })
    const k = m.kernel
    const a = k.kmalloc(100, GFP_KERNEL)
    const b = k.kmalloc(100, GFP_KERNEL)
    k.kfree(a)
    k.kfree(a)
    expect(m.dmesg()).toMatch(/BUG kmalloc-128 \(Not tainted\): Object already free/)
    expect(m.dmesg()).toMatch(/Tainted: G {4}B/)
    k.kfree(b)
    m.check()
  })

  it('debug flags given to kmem_cache_create() work without the boot option', () => {
    const m = boot()
    const k = m.kernel
    const s = k.kmem_cache_create('mydrv_buf', 48, 0, SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER, null)
    if (!s) throw new Error('no cache')
    const a = k.kmem_cache_alloc(s, GFP_KERNEL, 'mydrv_ioctl+0x44/0x120')
    k.kmem_cache_free(s, a, 'mydrv_ioctl+0x90/0x120')
    m.slab.env.mem.write(a, new Uint8Array([0]))
    k.kmem_cache_alloc(s, GFP_KERNEL)
    expect(m.dmesg()).toMatch(/\[Poison overwritten\] .* First byte 0x0 instead of 0x6b/)
    expect(m.dmesg()).toMatch(/BUG mydrv_buf \(Not tainted\): Object corrupt/)
    expect(m.dmesg()).toMatch(/Freed in mydrv_ioctl\+0x90\/0x120/)
    m.check()
  })

  it('slub_debug=P poisons without red zones, and the Alignment padding is checked', () => {
    const m = boot({ slub_debug: 'P' })
    const s = m.kernel.find_cache('vmap_area') as SlubCache
    expect(s.red_left_pad).toBe(0)
    const k = m.kernel
    const a = k.kmalloc(24, GFP_KERNEL)
    k.kfree(a)
    expect(m.slab.env.mem.read(a, 24).slice(0, 23).every((x) => x === 0x6b)).toBe(true)
    m.check()
  })
})
