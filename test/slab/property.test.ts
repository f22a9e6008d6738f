import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { boot } from '../helpers.js'
import { GFP_KERNEL, GFP_DMA, GFP_KERNEL_ACCOUNT, __GFP_RECLAIMABLE } from '../../src/index.js'
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from '../../src/mm/vmstat.js'

type Op = { kind: 'alloc'; size: number; gfp: number } | { kind: 'free'; pick: number } | { kind: 'cache_alloc'; cache: number } | { kind: 'cpu'; cpu: number }

const GFPS = [GFP_KERNEL, GFP_KERNEL | GFP_DMA, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_KERNEL_ACCOUNT]
const CACHES = ['task_struct', 'vm_area_struct', 'dentry', 'anon_vma', 'radix_tree_node', 'names_cache']

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 8193, max: 40000 })), gfp: fc.constantFrom(...GFPS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cache_alloc' as const), cache: fc.nat({ max: CACHES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cpu' as const), cpu: fc.nat({ max: 1 }) }) },
)

interface AnySlab {
  readonly cache: { readonly name: string }
  readonly state: Uint8Array
}

/** Allocated objects per cache, counted from the slabs; and the number of slabs holding none. */
function census(m: ReturnType<typeof boot>): { objects: Map<string, number>; empty_slabs: number } {
  const objects = new Map<string, number>()
  let empty_slabs = 0
  const reg = (m.slab.backend as unknown as { registry: { live(): IterableIterator<AnySlab> } }).registry
  for (const slab of reg.live()) {
    const n = slab.state.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0)
    if (!n) empty_slabs++
    objects.set(slab.cache.name, (objects.get(slab.cache.name) ?? 0) + n)
  }
  return { objects, empty_slabs }
}

/**
 * Naive model: a list of live allocations [addr, len, fill byte, cache?].
 * Properties: no two live objects overlap, ksize >= requested, every object
 * keeps the bytes written into it, and after freeing everything and
 * shrinking every cache, every cache holds as many objects as after boot,
 * no slab is left empty, and every page is either free or a slab page (none
 * leaked). SLUB sheaves are kmalloc objects that may move to other slabs,
 * so the slab pages themselves need not be the boot ones.
 */
function run(slab: 'slub' | 'slab', ops: Op[], slub_debug?: string, arch: 'x86_64' | 'i386' | 'i386-pae' = 'x86_64'): void {
  const m = boot({ slab, slub_debug, arch, ram: arch === 'x86_64' ? '64M' : '128M' })
  const k = m.kernel
  const mem = m.slab.env.mem
  k.drain_all_pages()
  const slab_pages = (): number => (m.vmstat.node_page_state(NR_SLAB_RECLAIMABLE_B) + m.vmstat.node_page_state(NR_SLAB_UNRECLAIMABLE_B)) / 4096
  const pages0 = m.page_alloc.nr_free_pages() + slab_pages()
  const census0 = census(m)
  const live: { addr: number; len: number; fill: number; cache: string | null }[] = []
  let fill = 1
  let n = 0
  // Up to 300 operations a run: the whole-machine check runs every 25 of them and at the end of
  // each block (Machine.deferred_check), not after each kernel call.
  m.deferred_check(() => {
    for (const o of ops) {
      if (o.kind === 'alloc' || o.kind === 'cache_alloc') {
        let addr: number
        let len: number
        let cache: string | null = null
        if (o.kind === 'alloc') {
          addr = k.kmalloc(o.size, o.gfp)
          len = o.size
          const ksize = k.ksize(addr)
          if (!(ksize >= o.size)) expect(ksize).toBeGreaterThanOrEqual(o.size)
        } else {
          cache = CACHES[o.cache]
          const s = k.find_cache(cache)
          if (!s) throw new Error(cache)
          addr = k.kmem_cache_alloc(s, GFP_KERNEL)
          len = s.object_size
        }
        // The per-operation assertions call expect() only when they fail (for its report): ~45,000
        // passing expect() calls were most of this test's time.
        if (addr === 0) expect(addr).not.toBe(0)
        const clash = live.find((x) => !(addr + len <= x.addr || x.addr + x.len <= addr))
        if (clash) expect(clash, 'objects overlap').toBeUndefined()
        fill = (fill % 250) + 1
        mem.memset(addr, fill, len)
        live.push({ addr, len, fill, cache })
      } else if (o.kind === 'free') {
        if (!live.length) continue
        const [x] = live.splice(o.pick % live.length, 1)
        const b = mem.read(x.addr, x.len)
        const intact = b[0] === x.fill && b[x.len - 1] === x.fill
        if (!intact) expect(intact, 'object bytes changed while allocated').toBe(true)
        if (x.cache) k.kmem_cache_free(k.find_cache(x.cache) as NonNullable<ReturnType<typeof k.find_cache>>, x.addr)
        else k.kfree(x.addr)
      } else {
        m.page_alloc.cpu = o.cpu
      }
      if (++n % 25 === 0) m.check()
    }
  })
  m.deferred_check(() => {
    for (const x of live) {
      if (x.cache) k.kmem_cache_free(k.find_cache(x.cache) as NonNullable<ReturnType<typeof k.find_cache>>, x.addr)
      else k.kfree(x.addr)
    }
    m.page_alloc.cpu = 0
    for (const s of m.slab.slab_caches) k.kmem_cache_shrink(s)
  })
  const census1 = census(m)
  expect(census1.objects).toEqual(census0.objects)
  expect(census1.empty_slabs).toBe(0)
  k.drain_all_pages()
  expect(m.page_alloc.nr_free_pages() + slab_pages()).toBe(pages0)
  expect(m.dmesg()).not.toMatch(/BUG|WARNING/)
}

describe('slab allocators against a naive model', () => {
  it('SLUB: any alloc/free sequence keeps objects disjoint and intact, and shrinking returns every page', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 40, maxLength: 300, size: "max" }), (ops) => run('slub', ops)), { numRuns: 50, seed: 42 })
  })
  it('SLUB with full slub_debug behaves the same for correct code', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 40, maxLength: 200, size: "max" }), (ops) => run('slub', ops, '')), { numRuns: 20, seed: 7 })
  })
  it('i386 and i386-pae (4-byte pointers, lowmem only): same properties for SLUB and SLAB', () => {
    for (const arch of ['i386', 'i386-pae'] as const) {
      fc.assert(fc.property(fc.array(op, { minLength: 40, maxLength: 150, size: 'max' }), (ops) => run('slub', ops, undefined, arch)), { numRuns: 8, seed: 5 })
      fc.assert(fc.property(fc.array(op, { minLength: 40, maxLength: 150, size: 'max' }), (ops) => run('slab', ops, undefined, arch)), { numRuns: 8, seed: 6 })
    }
  })
  it('classic SLAB: same properties', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 40, maxLength: 300, size: "max" }), (ops) => run('slab', ops)), { numRuns: 50, seed: 43 })
  })
})
