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
 * (counted in slab inuse) and is in exactly one sheaf (simulator state 3).
 */
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
