/**
 * The page cache's xarray slots (Kernel: mm/filemap.c __filemap_add_folio()
 * with xas_nomem(), page_cache_delete(); lib/xarray.c xas_alloc()).
 *
 * A slot holds a page or, after reclaim, a shadow entry. Filling an empty
 * slot may need xarray nodes: radix_tree_node slab objects charged to the
 * running task's memory cgroup. As in Linux, the store first allocates
 * without reclaim (GFP_NOWAIT under the xarray lock); if a node cannot be
 * had that way, one node is allocated with the caller's gfp, which may
 * reclaim, and the store starts over.
 */
import { GFP_KERNEL, GFP_NOWAIT } from './gfp.js'
import type { AddressSpace, MmEnv } from './mm_types.js'
import { type XaNode, type XaNodeAlloc, XA_NODE_SIZE } from './xarray.js'

/** Kernel: xas_alloc() of a radix_tree_node with __GFP_ACCOUNT: the object, charged; null on failure. */
function xa_node_alloc(env: MmEnv, gfp: number): XaNode | null {
  const memcg = env.memcg.active
  const obj = env.kmem_alloc('radix_tree_node')
  if (obj === 0) return null
  if (env.memcg.obj_cgroup_charge(memcg, gfp, XA_NODE_SIZE) < 0) {
    env.kmem_free('radix_tree_node', obj)
    return null
  }
  return { count: 0, obj, memcg: memcg.id }
}

/**
 * Kernel: xa_node_free(): an unlinked node is freed after an RCU grace
 * period (radix_tree_node_rcu_free()), since lockless page-cache lookups may
 * still walk it: until then it stays in the slab and charged to the group
 * that paid, whose object stock (on the CPU that freed it) takes it back then.
 */
function xa_node_free(env: MmEnv, node: XaNode): void {
  env.call_rcu(() => {
    const memcg = env.memcg.by_id.get(node.memcg) ?? env.memcg.root
    env.memcg.obj_cgroup_uncharge(memcg, XA_NODE_SIZE)
    env.kmem_free('radix_tree_node', node.obj)
  })
}

/**
 * Kernel: xas_destroy(): a node never linked into the tree (an unused
 * preallocation, or one a failed store made) is freed at once: nobody can see it.
 */
function xa_node_destroy(env: MmEnv, node: XaNode): void {
  const memcg = env.memcg.by_id.get(node.memcg) ?? env.memcg.root
  env.memcg.obj_cgroup_uncharge(memcg, XA_NODE_SIZE)
  env.kmem_free('radix_tree_node', node.obj)
}

/** Node allocation for one store: a node preallocated by xas_nomem() first, then GFP_NOWAIT ones. */
class StoreAlloc implements XaNodeAlloc {
  held: XaNode | null = null
  constructor(private readonly env: MmEnv) {}
  alloc(): XaNode | null {
    const h = this.held
    if (h) {
      this.held = null
      return h
    }
    return xa_node_alloc(this.env, GFP_NOWAIT)
  }
  free(node: XaNode): void {
    xa_node_destroy(this.env, node)
  }
}

/**
 * Occupy the empty slot `index` of mapping's xarray. false when a node
 * cannot be allocated even with reclaim (-ENOMEM).
 */
export function page_cache_slot_store(env: MmEnv, mapping: AddressSpace, index: number): boolean {
  const a = new StoreAlloc(env)
  for (;;) {
    if (mapping.xa.store(index, a)) break
    // xas_nomem(): one node with the mapping's gfp (may reclaim), then try again.
    const node = xa_node_alloc(env, GFP_KERNEL)
    if (!node) return false
    if (a.held) a.free(a.held)
    a.held = node
  }
  if (a.held) a.free(a.held)
  return true
}

/** The slot `index` became empty (page removed without a shadow, or a shadow cleared). */
export function page_cache_slot_erase(env: MmEnv, mapping: AddressSpace, index: number): void {
  mapping.xa.erase(index, { alloc: () => null, free: (n) => xa_node_free(env, n) }, (i) => mapping.i_pages.has(i) || mapping.i_shadows.has(i) || mapping.i_swap.has(i))
}

/** Kernel: clear_shadow_entries(): drop shadows in [first, last] (truncation, invalidation). */
export function clear_shadow_entries(env: MmEnv, mapping: AddressSpace, first: number, last: number): void {
  if (mapping.i_shadows.size === 0) return
  for (const index of [...mapping.i_shadows.keys()]) {
    if (index < first || index > last) continue
    mapping.i_shadows.delete(index)
    page_cache_slot_erase(env, mapping, index)
  }
}
