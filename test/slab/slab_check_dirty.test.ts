/**
 * The per-call slab check recounts only the caches the slab layer was called
 * on since the last check (SlabAllocator.debug_dirty, src/mm/slab_check.ts).
 * That is sound only if every backend call on a cache notes the cache: the
 * property test records every call the backend gets (alloc, free, shrink,
 * shutdown, setup_cache) during random kernel traffic, process life cycles
 * included, and finds each cache in the dirty set. The examples show what
 * the per-call check then catches at once and what waits for the full
 * recount.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { GFP_KERNEL, type Machine } from '../../src/index.js'
import type { KmemCache, SlabBackend } from '../../src/mm/slab_common.js'
import type { SlubCache } from '../../src/mm/slub_cache.js'
import { boot } from '../helpers.js'

const CACHES = ['vm_area_struct', 'kmalloc-64', 'kmalloc-192', 'dentry']

/** Every cache the backend is called on, recorded by wrapping its methods. */
function record_backend_calls(m: Machine): Set<unknown> {
  const calls = new Set<unknown>()
  const b = m.slab.backend as unknown as Record<string, unknown>
  for (const name of ['alloc', 'free', 'shrink', 'shutdown', 'setup_cache'] as const satisfies readonly (keyof SlabBackend)[]) {
    const f = b[name] as ((s: unknown, ...rest: unknown[]) => unknown) | undefined
    if (!f) continue
    b[name] = function (this: unknown, s: unknown, ...rest: unknown[]): unknown {
      calls.add(s)
      return f.call(this, s, ...rest)
    }
  }
  return calls
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('kmalloc' as const), size: fc.integer({ min: 1, max: 9000 }) }),
  fc.record({ kind: fc.constant('cache_alloc' as const), cache: fc.nat({ max: CACHES.length - 1 }) }),
  fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('shrink' as const), cache: fc.nat({ max: CACHES.length - 1 }) }),
  fc.record({ kind: fc.constant('new_cache' as const), size: fc.integer({ min: 8, max: 600 }) }),
  fc.record({ kind: fc.constant('destroy_cache' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('process' as const), pages: fc.integer({ min: 1, max: 40 }) }),
)

describe('slab check: the dirty set', () => {
  it('holds every cache the backend was called on, after any mix of kernel and process traffic', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat({ max: 1 }), (ops, cpu) => {
        const m = boot({ debug_vm: false })
        const calls = record_backend_calls(m)
        m.slab.debug_dirty = new Set()
        const k = m.kernel
        const live: number[] = []
        const made: KmemCache[] = []
        let n = 0
        for (const o of ops) {
          calls.clear()
          m.slab.debug_dirty.clear()
          m.page_alloc.cpu = cpu
          if (o.kind === 'kmalloc') {
            const x = k.kmalloc(o.size, GFP_KERNEL)
            if (x) live.push(x)
          } else if (o.kind === 'cache_alloc') {
            const x = k.kmem_cache_alloc(k.find_cache(CACHES[o.cache]) as KmemCache, GFP_KERNEL)
            if (x) live.push(x)
          } else if (o.kind === 'free') {
            if (live.length) k.kfree(live.splice(o.pick % live.length, 1)[0])
          } else if (o.kind === 'shrink') {
            k.kmem_cache_shrink(k.find_cache(CACHES[o.cache]) as KmemCache)
          } else if (o.kind === 'new_cache') {
            const s = k.kmem_cache_create(`dirty_test_${n++}`, o.size, 0, 0, null)
            if (s) made.push(s)
          } else if (o.kind === 'destroy_cache') {
            if (made.length) k.kmem_cache_destroy(made.splice(o.pick % made.length, 1)[0])
          } else {
            const p = m.spawn({})
            const a = p.mmap(0, o.pages * 4096, 3, 0x22, -1, 0)
            p.store(a, [1])
            p.fork().exit(0)
            p.exit(0)
          }
          for (const s of calls) expect(m.slab.debug_dirty.has(s as KmemCache), (s as KmemCache).name).toBe(true)
        }
        m.page_alloc.cpu = 0
        for (const x of live) k.kfree(x)
        m.check()
      }),
      { numRuns: 40 },
    )
  })

  it('the per-call check catches a broken cache at the next call on it', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-192') as unknown as SlubCache
    const x = k.kmalloc(150, GFP_KERNEL)
    s.node.nr_slabs++
    try {
      expect(() => k.kfree(x)).toThrow(/check_slab: kmalloc-192: nr_slabs/)
    } finally {
      s.node.nr_slabs--
    }
  })

  it('a cache broken without a slab call on it is left to the full recount', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-192') as unknown as SlubCache
    s.node.nr_slabs++
    try {
      // kmalloc-64 is recounted after these calls; kmalloc-192 is not
      k.kfree(k.kmalloc(40, GFP_KERNEL))
      expect(() => m.check()).toThrow(/check_slab: kmalloc-192: nr_slabs/)
    } finally {
      s.node.nr_slabs--
    }
  })
})
