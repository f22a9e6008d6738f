/**
 * The slab checker (src/mm/slab_check.ts) against the reference it
 * replaced (slab_check_reference.ts): after random kmalloc / cache / sheaf
 * traffic on two CPUs, then random corruptions of object states, sheaves,
 * freelists, list membership and counters, both give the same verdict,
 * and the same KernelBug message when they fail. The test breaks the slab
 * state on purpose and runs the checkers itself (debug_vm off).
 */
import { expect, it } from 'vitest'
import fc from 'fast-check'
import { GFP_KERNEL, type Machine } from '../../src/index.js'
import { check_slab } from '../../src/mm/slab_check.js'
import type { KmemCache } from '../../src/mm/slab_common.js'
import type { Slab, SlubCache } from '../../src/mm/slub_cache.js'
import { boot } from '../helpers.js'
import { check_slab_reference } from './slab_check_reference.js'

function outcome(f: () => void): string {
  try {
    f()
    return 'ok'
  } catch (e) {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }
}

const CACHES = ['vm_area_struct', 'maple_node', 'kmalloc-64', 'kmalloc-192', 'dentry']

const op = fc.record({ alloc: fc.boolean(), cache: fc.nat({ max: CACHES.length - 1 }), pick: fc.nat(), cpu: fc.nat({ max: 1 }) })
const corruption = fc.record({ kind: fc.nat({ max: 12 }), pick: fc.nat(), value: fc.integer({ min: -1, max: 3 }) })

it('the slab checker agrees with the reference checker on random and corrupted SLUB states', () => {
  let m: Machine | null = null
  const seen = new Set<string>()
  let runs = 0
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), fc.array(corruption, { minLength: 1, maxLength: 2 }), (ops, corruptions) => {
      m ??= boot({ debug_vm: false })
      const k = m.kernel
      const caches = CACHES.map((n) => k.find_cache(n) as KmemCache)
      const live: { s: KmemCache; obj: number }[] = []
      for (const o of ops) {
        m.page_alloc.cpu = o.cpu
        if (o.alloc || !live.length) {
          const s = caches[o.cache]
          const obj = k.kmem_cache_alloc(s, GFP_KERNEL)
          if (obj) live.push({ s, obj })
        } else {
          const [x] = live.splice(o.pick % live.length, 1)
          k.kmem_cache_free(x.s, x.obj)
        }
      }
      m.page_alloc.cpu = 0
      expect(outcome(() => check_slab(m?.slab as never))).toBe('ok')
      const undo: (() => void)[] = []
      const set = <T extends object, K extends keyof T>(o: T, key: K, v: T[K]): void => {
        const old = o[key]
        undo.push(() => (o[key] = old))
        o[key] = v
      }
      for (const c of corruptions) {
        const s = caches[c.pick % caches.length] as unknown as SlubCache
        const slabs: Slab[] = []
        for (const sl of (m.slab.backend as unknown as { registry: { live(): Iterable<Slab> } }).registry.live()) if (sl.cache === s) slabs.push(sl)
        const slab = slabs.length ? slabs[c.pick % slabs.length] : null
        const sheaves = (s.cpu_sheaves ?? []).flatMap((p) => (p.spare ? [p.main, p.spare] : [p.main])).concat(s.barn?.sheaves_full ?? [], s.barn?.sheaves_empty ?? [])
        const sheaf = sheaves.length ? sheaves[c.pick % sheaves.length] : null
        const cpu = s.cpu_slab[c.pick % s.cpu_slab.length]
        const d = c.value < 0 ? -1 : 1
        switch (c.kind) {
          case 0: if (slab) { const i = c.pick % slab.objects; const old = slab.state[i]; undo.push(() => (slab.state[i] = old)); slab.state[i] = Math.max(0, c.value) } break
          case 1: if (sheaf?.objects.length) { const o = sheaf.objects.pop() as number; undo.push(() => sheaf.objects.push(o)) } break
          case 2: if (sheaf && live.length) { sheaf.objects.push(live[c.pick % live.length].obj); undo.push(() => sheaf.objects.pop()) } break
          case 3: if (sheaf?.objects.length) { sheaf.objects.push(sheaf.objects[0]); undo.push(() => sheaf.objects.pop()) } break
          case 4: if (live.length) set(cpu, 'freelist', c.value < 0 ? cpu.freelist + 8 : live[c.pick % live.length].obj); break
          case 5: if (slab && live.length) set(slab, 'freelist', c.value < 0 ? 0 : live[c.pick % live.length].obj); break
          case 6: set(s.node.partial, 'count', s.node.partial.count + d); break
          case 7: if (slab) set(slab, 'inuse', slab.inuse + d); break
          case 8: set(s.node, 'nr_slabs', s.node.nr_slabs + d); break
          case 9: if (slab) set(slab, 'cpu_partial', c.value < 0 ? -1 : c.value % 2); break
          case 10: if (slab) set(slab, 'frozen', !slab.frozen); break
          case 11: if (slab) set(slab, 'node_partial', !slab.node_partial); break
          default: set(s.node, 'total_objects', s.node.total_objects + d)
        }
      }
      const want = outcome(() => check_slab_reference(m?.slab as never))
      expect(outcome(() => check_slab(m?.slab as never))).toBe(want)
      runs++
      seen.add(want.replace(/0x[0-9a-f]+|\d+/g, 'N'))
      for (const u of undo.reverse()) u()
      for (const x of live) k.kmem_cache_free(x.s, x.obj)
    }),
    { numRuns: 150 },
  )
  // the corruptions break the slab invariants in many different ways (the messages compared)

  expect(seen.size).toBeGreaterThan(10)
  expect(runs).toBe(150)
})
