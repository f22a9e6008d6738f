import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { XaNodes, type XaNode, type XaNodeAlloc } from '../../src/mm/xarray.js'

const key = (level: number, index: number): number => Math.floor(index / 64 ** (level + 1)) * 16 + level

/**
 * What the nodes of an xarray holding exactly `occupied` must satisfy: every entry's path of
 * nodes exists (or the lone index 0 is in the head), and each node counts its occupied
 * slots: the entries of a leaf, the child nodes of an inner node. A node nobody counts is
 * a leaked radix_tree_node object; a count too low frees a node still in use.
 */
function check(xa: XaNodes, occupied: Set<number>): string | null {
  if (xa.height === 0) {
    if (xa.nodes.size) return `height 0 with ${xa.nodes.size} nodes`
    if (occupied.size > 1 || (occupied.size === 1 && !occupied.has(0))) return `height 0 holding ${[...occupied].join(',')}`
    if (xa.head !== occupied.has(0)) return `head ${xa.head} but index 0 ${occupied.has(0) ? '' : 'not '}occupied`
    return null
  }
  for (const i of occupied) for (let l = 0; l < xa.height; l++) if (!xa.nodes.has(key(l, i))) return `index ${i}: no node at level ${l}`
  for (const [k, node] of xa.nodes) {
    const level = k % 16
    const base = Math.floor(k / 16)
    let want = 0
    if (level >= xa.height) return `node at level ${level} above the root (height ${xa.height})`
    if (level === 0) for (const i of occupied) want += Math.floor(i / 64) === base ? 1 : 0
    else for (const k2 of xa.nodes.keys()) want += k2 % 16 === level - 1 && Math.floor(Math.floor(k2 / 16) / 64) === base ? 1 : 0
    if (node.count !== want) return `node level ${level} base ${base}: count ${node.count}, holds ${want}`
  }
  return null
}

describe('xarray nodes (lib/xarray.c xas_expand/xas_create/xas_delete_node)', () => {
  it('stores and erases keep every count right, also when a node allocation fails part way (nothing changes)', () => {
    const index = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 20 }), fc.constantFrom(0, 63, 64, 4095, 4096, 2 ** 41, 2 ** 44 - 1))
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), index, fc.integer({ min: 0, max: 9 })), { maxLength: 60 }), (steps) => {
        const xa = new XaNodes()
        const occupied = new Set<number>()
        let live = 0
        for (const [store, i, fail_after] of steps) {
          let left = fail_after
          // The fail_after-th allocation of this store fails (9: none fails).
          const a: XaNodeAlloc = {
            alloc: (): XaNode | null => (fail_after < 9 && left-- === 0 ? null : (live++, { count: 0, obj: 1, memcg: 0 })),
            free: () => void live--,
          }
          if (store && !occupied.has(i)) {
            if (xa.store(i, a)) occupied.add(i)
          } else if (!store && occupied.has(i)) {
            occupied.delete(i)
            xa.erase(i, a, (j) => occupied.has(j))
          }
          const bad = check(xa, occupied)
          if (bad) throw new Error(`${store ? 'store' : 'erase'} ${i} (fail_after ${fail_after}): ${bad}`)
          if (live !== xa.nodes.size) throw new Error(`${live} node objects allocated for ${xa.nodes.size} nodes`)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('an entry far out in an empty tree makes only the nodes of its path', () => {
    const xa = new XaNodes()
    const a: XaNodeAlloc = { alloc: () => ({ count: 0, obj: 1, memcg: 0 }), free: () => {} }
    expect(xa.store(2 ** 41, a)).toBe(true)
    expect(xa.height).toBe(7)
    expect(xa.nodes.size).toBe(7)
    xa.erase(2 ** 41, a, () => false)
    expect(xa.nodes.size).toBe(0)
    expect(xa.height).toBe(0)
  })
})
