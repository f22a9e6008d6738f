/**
 * /proc/sys/vm/drop_caches (Kernel: fs/drop_caches.c
 * drop_caches_sysctl_handler(), drop_pagecache_sb(); mm/vmscan.c
 * drop_slab(); mm/workingset.c's shadow-node shrinker).
 *
 * Writing 1 drops the clean page cache: every inode's mapping is
 * invalidated over its whole range (invalidate_mapping_pages(), the
 * function fadvise DONTNEED uses): a clean page that nobody maps, locks or
 * holds leaves the cache, a dirty, under-writeback or mapped one stays and
 * is moved towards reclaim, and the shadow entries go too, so their
 * radix_tree_node objects are freed with them. Writing 2 runs the slab
 * shrinkers (drop_slab()): in mmsim the only reclaimable slab objects a
 * shrinker owns are the page cache's xarray nodes that hold nothing but
 * shadow entries (workingset_nodereclaim counts each one freed); dentries
 * and inodes are not slab objects here. 3 does both; 4 only silences the
 * log line from then on. Each write counts drop_pagecache / drop_slab in
 * /proc/vmstat and logs "<comm> (<pid>): drop_caches: <n>" at KERN_INFO
 * until a write with bit 2 (4) has been made.
 */
import type { AddressSpace, MmEnv } from '../mm/mm_types.js'
import { mapping_try_invalidate } from '../mm/fadvise.js'
import { page_cache_slot_erase } from '../mm/filemap_xa.js'
import { XA_CHUNK_SHIFT } from '../mm/xarray.js'
import { DROP_PAGECACHE, DROP_SLAB } from '../mm/vm_event_item.js'
import { NODE_STAT } from '../mm/vmstat.js'

/** The task that writes the sysctl (current). */
export interface DropCachesWriter {
  readonly comm: string
  readonly pid: number
}

/** Kernel: drop_pagecache_sb() over every superblock: each inode with pages in its mapping. Returns the pages dropped. */
export function drop_pagecache(env: MmEnv): number {
  let dropped = 0
  for (const mapping of [...env.mappings.values()]) {
    if (mapping.i_pages.size === 0 && mapping.i_shadows.size === 0) continue
    dropped += mapping_try_invalidate(env, mapping, 0, Number.MAX_SAFE_INTEGER)
  }
  return dropped
}

/**
 * The shadow-node shrinker's scan (scan_shadow_nodes() -> shadow_lru_isolate()):
 * a leaf xarray node whose every entry is a shadow (no page, no swap entry)
 * is deleted with its shadows. Returns the nodes freed.
 */
function shrink_shadow_nodes(env: MmEnv, mapping: AddressSpace): number {
  const leaves = new Map<number, number[]>()
  for (const index of mapping.i_shadows.keys()) {
    const leaf = Math.floor(index / 2 ** XA_CHUNK_SHIFT)
    const l = leaves.get(leaf)
    if (l) l.push(index)
    else leaves.set(leaf, [index])
  }
  let freed = 0
  for (const [leaf, indices] of leaves) {
    const first = leaf * 2 ** XA_CHUNK_SHIFT
    let busy = false
    for (let i = first; i < first + 2 ** XA_CHUNK_SHIFT && !busy; i++) busy = mapping.i_pages.has(i) || mapping.i_swap.has(i)
    if (busy) continue
    for (const index of indices) {
      mapping.i_shadows.delete(index)
      page_cache_slot_erase(env, mapping, index)
    }
    env.vmstat.mod_node_page_state(NODE_STAT.workingset_nodereclaim, 1)
    freed++
  }
  return freed
}

/** Kernel: drop_slab(): every shrinker until little is freed (here one pass frees all it can). Returns the objects freed. */
export function drop_slab(env: MmEnv): number {
  let freed = 0
  for (const mapping of [...env.mappings.values()]) if (mapping.i_shadows.size) freed += shrink_shadow_nodes(env, mapping)
  return freed
}

/** The sysctl's state: the last value written and whether the log line is silenced (stfu). */
export class DropCaches {
  sysctl_drop_caches = 0
  private stfu = false

  constructor(
    private readonly env: MmEnv,
    private readonly pr_info: (text: string) => void,
  ) {}

  /** Kernel: drop_caches_sysctl_handler()'s write side, for a value proc_dointvec_minmax accepted (1..4). */
  write(value: number, current: DropCachesWriter): void {
    this.sysctl_drop_caches = value
    if (value & 1) {
      // lru_add_drain_all(): mmsim puts folios on their LRU at once, there are no per-CPU batches to drain.
      drop_pagecache(this.env)
      this.env.vmstat.count_vm_event(DROP_PAGECACHE)
    }
    if (value & 2) {
      drop_slab(this.env)
      this.env.vmstat.count_vm_event(DROP_SLAB)
    }
    if (!this.stfu) this.pr_info(`${current.comm} (${current.pid}): drop_caches: ${value}`)
    if (value & 4) this.stfu = true
  }
}
