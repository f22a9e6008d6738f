/**
 * SLUB per-cpu sheaves and the node barn (Kernel: mm/slub.c, 6.18: struct
 * slab_sheaf, struct slub_percpu_sheaves, struct node_barn,
 * alloc_from_pcs(), free_to_pcs(), __pcs_replace_empty_main(),
 * __pcs_replace_full_main(), barn_*(), pcs_flush_all(), barn_shrink()).
 *
 * Caches created with kmem_cache_args.sheaf_capacity (in 6.18: maple_node
 * and vm_area_struct) put an array layer in front of the cpu slab: each CPU
 * has a `main` and a `spare` sheaf (arrays of up to sheaf_capacity object
 * pointers), and the node barn keeps up to MAX_FULL_SHEAVES full and
 * MAX_EMPTY_SHEAVES empty sheaves to trade. Allocation pops from main, and
 * frees push to main; only when sheaves run empty or full do objects move
 * to and from slabs, in bulk. Sheaves and the barn are kmalloc objects, as
 * in Linux, and the sheaf's object array is written into its memory.
 *
 * Invariant: an object in a sheaf is allocated from its slab's point of view
 * (counted in slab inuse) and is in exactly one sheaf (simulator state OBJ_IN_SHEAF).
 */
import { __GFP_DIRECT_RECLAIM, type gfp_t } from './gfp.js'
import { type SlabGeometry, OBJ_ALLOCATED, OBJ_FREE, OBJ_IN_SHEAF } from './slab_h.js'
import type { SlabMem } from './slab_mem.js'

export const MAX_FULL_SHEAVES = 10
export const MAX_EMPTY_SHEAVES = 10

/** Kernel: struct slab_sheaf. */
export class SlabSheaf {
  readonly objects: number[] = []
  constructor(
    /** The sheaf's own kmalloc address. */
    readonly addr: number,
    readonly capacity: number,
  ) {}
  get size(): number {
    return this.objects.length
  }
}

/** Kernel: struct slub_percpu_sheaves. */
export class SlubPercpuSheaves {
  spare: SlabSheaf | null = null
  constructor(public main: SlabSheaf) {}
}

/** Kernel: struct node_barn. */
export class NodeBarn {
  readonly sheaves_full: SlabSheaf[] = []
  readonly sheaves_empty: SlabSheaf[] = []
  constructor(readonly addr: number) {}
  get nr_full(): number {
    return this.sheaves_full.length
  }
  get nr_empty(): number {
    return this.sheaves_empty.length
  }

  /** Kernel: barn_get_empty_sheaf(). */
  get_empty(): SlabSheaf | null {
    return this.sheaves_empty.shift() ?? null
  }
  /** Kernel: barn_put_empty_sheaf(). */
  put_empty(sheaf: SlabSheaf): void {
    this.sheaves_empty.unshift(sheaf)
  }
  /** Kernel: barn_put_full_sheaf(). */
  put_full(sheaf: SlabSheaf): void {
    this.sheaves_full.unshift(sheaf)
  }
  /** Kernel: barn_replace_empty_sheaf(): trade an empty sheaf for a full one, or null. */
  replace_empty(empty: SlabSheaf): SlabSheaf | null {
    const full = this.sheaves_full.shift()
    if (!full) return null
    this.sheaves_empty.unshift(empty)
    return full
  }
  /** Kernel: barn_replace_full_sheaf(): trade a full sheaf for an empty one; 'E2BIG' when the barn is full, 'ENOMEM' when it has no empty sheaf. */
  replace_full(full: SlabSheaf): SlabSheaf | 'E2BIG' | 'ENOMEM' {
    if (this.nr_full >= MAX_FULL_SHEAVES) return 'E2BIG'
    const empty = this.sheaves_empty.shift()
    if (!empty) return 'ENOMEM'
    this.sheaves_full.unshift(full)
    return empty
  }
}

/** sizeof(struct slab_sheaf) header: rcu_head/list_head, cache, size, node. */
export function sheaf_header_size(ptr_size: number): number {
  return 2 * ptr_size + ptr_size + 4 + 4
}
/** sizeof(struct node_barn): lock, two list heads, two counters. */
export function node_barn_size(ptr_size: number): number {
  return (ptr_size === 8 ? 8 : 4) + 4 * ptr_size + 8
}

/** Record object `i` of a sheaf in the sheaf's memory (objects[i]). */
export function sheaf_store(mem: SlabMem, sheaf: SlabSheaf, i: number): void {
  mem.write_ptr(sheaf.addr + sheaf_header_size(mem.ptr_size) + i * mem.ptr_size, sheaf.objects[i])
}

/** The cache fields the sheaf layer uses (struct kmem_cache). */
export interface SheafCache {
  readonly name: string
  sheaf_capacity: number
  cpu_sheaves: SlubPercpuSheaves[] | null
  barn: NodeBarn | null
}

/** What the sheaf layer needs from SLUB (slub.ts implements it). */
export interface SheafHost {
  readonly mem: SlabMem
  readonly geo: SlabGeometry
  cpu(): number
  kzalloc(size: number, caller: string): number
  kfree(x: number, caller: string): void
  /** One object from the cpu slab path (__slab_alloc_node()), 0 on failure. */
  slab_alloc(s: SheafCache, gfp: gfp_t, caller: string): number
  /** Give an object back to its slab (do_slab_free()). */
  slab_free(s: SheafCache, slab: unknown, x: number): void
  /** Set an object's simulator state; returns its slab. */
  set_state(s: SheafCache, x: number, state: number): unknown
}


/** Kernel: init_percpu_sheaves() + the barn of init_kmem_cache_nodes(). */
export function init_sheaves(h: SheafHost, s: SheafCache, capacity: number): boolean {
  const P = h.geo.ptr_size
  const barn_addr = h.kzalloc(node_barn_size(P), 'init_kmem_cache_nodes')
  if (!barn_addr) return false
  s.barn = new NodeBarn(barn_addr)
  s.sheaf_capacity = capacity
  const pcs: SlubPercpuSheaves[] = []
  for (let cpu = 0; cpu < h.geo.nr_cpus; cpu++) {
    const main = alloc_empty_sheaf(h, s)
    if (!main) return false
    pcs.push(new SlubPercpuSheaves(main))
  }
  s.cpu_sheaves = pcs
  return true
}


/** Kernel: alloc_empty_sheaf(). */
export function alloc_empty_sheaf(h: SheafHost, s: SheafCache): SlabSheaf | null {
  const addr = h.kzalloc(sheaf_header_size(h.geo.ptr_size) + s.sheaf_capacity * h.geo.ptr_size, 'alloc_empty_sheaf')
  return addr ? new SlabSheaf(addr, s.sheaf_capacity) : null
}
/** Kernel: free_empty_sheaf(). */
export function free_empty_sheaf(h: SheafHost, sheaf: SlabSheaf): void {
  h.kfree(sheaf.addr, 'free_empty_sheaf')
}

/** Kernel: refill_sheaf(): fill a sheaf from the slabs (__kmem_cache_alloc_bulk()). False when nothing could be had. */
export function refill_sheaf(h: SheafHost, s: SheafCache, sheaf: SlabSheaf, gfp: gfp_t, caller: string): boolean {
  let filled = 0
  while (sheaf.size < s.sheaf_capacity) {
    const o = h.slab_alloc(s, gfp, caller)
    if (!o) break
    h.set_state(s, o, OBJ_IN_SHEAF)
    sheaf.objects.push(o)
    sheaf_store(h.mem, sheaf, sheaf.size - 1)
    filled++
  }
  return filled > 0
}

/** Kernel: sheaf_flush_unused(): give every object of a sheaf back to its slab. */
export function sheaf_flush(h: SheafHost, s: SheafCache, sheaf: SlabSheaf): void {
  for (const o of sheaf.objects.splice(0)) {
    const slab = h.set_state(s, o, OBJ_FREE)
    h.slab_free(s, slab, o)
  }
}


/** Kernel: alloc_from_pcs(): pop from the main sheaf, refilling it first if empty. 0 when that fails. */
export function alloc_from_pcs(h: SheafHost, s: SheafCache, gfp: gfp_t, caller: string): number {
  const pcs = (s.cpu_sheaves as SlubPercpuSheaves[])[h.cpu()]
  if (pcs.main.size === 0 && !__pcs_replace_empty_main(h, s, pcs, gfp, caller)) return 0
  const object = pcs.main.objects.pop() as number
  h.set_state(s, object, OBJ_ALLOCATED)
  return object
}

/** Kernel: __pcs_replace_empty_main(). */
export function __pcs_replace_empty_main(h: SheafHost, s: SheafCache, pcs: SlubPercpuSheaves, gfp: gfp_t, caller: string): boolean {
  const barn = s.barn as NodeBarn
  if (pcs.spare && pcs.spare.size > 0) {
    const t = pcs.main
    pcs.main = pcs.spare
    pcs.spare = t
    return true
  }
  let full = barn.replace_empty(pcs.main)
  if (full) {
    pcs.main = full
    return true
  }
  let empty: SlabSheaf | null
  if (pcs.spare) {
    empty = pcs.spare
    pcs.spare = null
  } else {
    empty = barn.get_empty()
  }
  if (!(gfp & __GFP_DIRECT_RECLAIM)) {
    if (empty) barn.put_empty(empty)
    return false
  }
  if (empty) {
    if (refill_sheaf(h, s, empty, gfp, caller)) full = empty
    else free_empty_sheaf(h, empty)
  } else {
    const sheaf = alloc_empty_sheaf(h, s)
    if (sheaf && refill_sheaf(h, s, sheaf, gfp, caller)) full = sheaf
    else if (sheaf) free_empty_sheaf(h, sheaf)
  }
  if (!full) return false
  // The spare was taken above and nothing ran on this cpu since (Linux rechecks after relocking).
  if (pcs.main.size === 0) {
    barn.put_empty(pcs.main)
    pcs.main = full
  } else {
    pcs.spare = full
  }
  return true
}

/** Kernel: free_to_pcs(): push to the main sheaf, making room first if it is full. */
export function free_to_pcs(h: SheafHost, s: SheafCache, object: number): boolean {
  const pcs = (s.cpu_sheaves as SlubPercpuSheaves[])[h.cpu()]
  if (pcs.main.size === s.sheaf_capacity && !__pcs_replace_full_main(h, s, pcs)) return false
  pcs.main.objects.push(object)
  sheaf_store(h.mem, pcs.main, pcs.main.size - 1)
  return true
}

/** Kernel: __pcs_replace_full_main() and __pcs_install_empty_sheaf(). */
export function __pcs_replace_full_main(h: SheafHost, s: SheafCache, pcs: SlubPercpuSheaves): boolean {
  const barn = s.barn as NodeBarn
  let empty: SlabSheaf | null = null
  if (!pcs.spare) {
    empty = barn.get_empty()
    if (empty) {
      pcs.spare = pcs.main
      pcs.main = empty
      return true
    }
  } else {
    if (pcs.spare.size < s.sheaf_capacity) {
      const t = pcs.main
      pcs.main = pcs.spare
      pcs.spare = t
      return true
    }
    const r = barn.replace_full(pcs.main)
    if (r instanceof SlabSheaf) {
      pcs.main = r
      return true
    }
    if (r === 'E2BIG') {
      // The barn holds enough full sheaves: flush the (full) spare to the slabs and use it.
      const to_flush = pcs.spare
      pcs.spare = null
      sheaf_flush(h, s, to_flush)
      empty = to_flush
    }
  }
  if (!empty) empty = alloc_empty_sheaf(h, s)
  if (!empty) {
    // sheaf_flush_main(): no sheaf to be had, empty the main one instead.
    sheaf_flush(h, s, pcs.main)
    return true
  }
  if (!pcs.spare) {
    pcs.spare = pcs.main
    pcs.main = empty
  } else {
    barn.put_full(pcs.main)
    pcs.main = empty
  }
  return true
}

/** Kernel: pcs_flush_all() for every cpu: spare sheaves freed, main sheaves emptied. */
export function pcs_flush_all(h: SheafHost, s: SheafCache): void {
  for (const pcs of s.cpu_sheaves ?? []) {
    const spare = pcs.spare
    pcs.spare = null
    if (spare) {
      sheaf_flush(h, s, spare)
      free_empty_sheaf(h, spare)
    }
    sheaf_flush(h, s, pcs.main)
  }
}

/** Kernel: barn_shrink(): full sheaves flushed, all barn sheaves freed. */
export function barn_shrink(h: SheafHost, s: SheafCache): void {
  const barn = s.barn
  if (!barn) return
  for (const sheaf of barn.sheaves_full.splice(0)) {
    sheaf_flush(h, s, sheaf)
    free_empty_sheaf(h, sheaf)
  }
  for (const sheaf of barn.sheaves_empty.splice(0)) free_empty_sheaf(h, sheaf)
}

/** Kernel: __kmem_cache_release(): the main sheaves and the barn go back to kmalloc. */
export function release_sheaves(h: SheafHost, s: SheafCache): void {
  for (const pcs of s.cpu_sheaves ?? []) free_empty_sheaf(h, pcs.main)
  s.cpu_sheaves = null
  if (s.barn) h.kfree(s.barn.addr, 'free_kmem_cache_nodes')
  s.barn = null
}
