/**
 * Swap slots: allocation, reference counts and freeing (Kernel:
 * mm/swapfile.c folio_alloc_swap, swap_alloc_fast/slow,
 * cluster_alloc_swap_entry, alloc_swap_scan_cluster, relocate_cluster,
 * swap_duplicate, swap_free, swap_entries_free, free_swap_and_cache,
 * __swap_count, swp_swapcount).
 *
 * Which offset a page gets (what /proc/<pid>/pagemap shows) follows the
 * 6.18 cluster allocator: each CPU keeps a current cluster of its current
 * area and takes the next free slot at or after its next offset; a cluster
 * it finishes goes to the full list. A new cluster comes from the area's
 * nonfull list (clusters where something was freed), then the free list,
 * then the frag list (clusters partly used by a CPU that moved on), each
 * scanned from its first slot. A rotational area keeps one allocation
 * point for every CPU instead. The areas are tried by priority; an area is
 * moved behind the others of its priority each time the slow path uses
 * it, so equal priorities take turns per cluster (per page for rotational
 * ones, which have no per-CPU cluster).
 *
 * Invariants (check_swap() proves them): swap_map[o] is the references
 * (PTEs, plus `continued`) | SWAP_HAS_CACHE when cache[o] holds a folio;
 * inuse_pages counts the non-zero good slots; cluster_count the non-zero
 * slots of each cluster (the header and bad ones included); a cluster's
 * list matches its flag; nr_swap_pages is the free slots of writable areas.
 */
import { KernelBug } from '../include/bug.js'
import type { MmEnv } from './mm_types.js'
import {
  CLUSTER_FLAG_FRAG,
  CLUSTER_FLAG_FREE,
  CLUSTER_FLAG_FULL,
  CLUSTER_FLAG_NONE,
  CLUSTER_FLAG_NONFULL,
  COUNT_CONTINUED,
  SWAP_HAS_CACHE,
  SWAP_MAP_BAD,
  SWAP_MAP_MAX,
  SWAPFILE_CLUSTER,
  SWP_SOLIDSTATE,
  SWP_WRITEOK,
  type SwapInfoStruct,
  type SwapState,
  swp_entry,
  swp_offset,
} from './swap_h.js'

function list_of(si: SwapInfoStruct, flag: number): number[] | null {
  switch (flag) {
    case CLUSTER_FLAG_FREE:
      return si.free_clusters
    case CLUSTER_FLAG_NONFULL:
      return si.nonfull_clusters
    case CLUSTER_FLAG_FRAG:
      return si.frag_clusters
    case CLUSTER_FLAG_FULL:
      return si.full_clusters
    default:
      return null
  }
}

/** Kernel: move_cluster(): take ci off its list and put it at the tail of `flag`'s list. */
function move_cluster(si: SwapInfoStruct, ci: number, flag: number): void {
  const from = list_of(si, si.cluster_flags[ci])
  if (from) {
    const i = from.indexOf(ci)
    if (i < 0) throw new KernelBug(`move_cluster: cluster ${ci} is not on its list`)
    from.splice(i, 1)
  }
  si.cluster_flags[ci] = flag
  list_of(si, flag)?.push(ci)
}

/** Kernel: isolate_lock_cluster(): take the first cluster of a list off it (flag NONE), or -1. */
function isolate_cluster(si: SwapInfoStruct, list: number[]): number {
  const ci = list.shift()
  if (ci === undefined) return -1
  si.cluster_flags[ci] = CLUSTER_FLAG_NONE
  return ci
}

/** Kernel: relocate_cluster(): after an allocation or free, the list a cluster's count says. */
function relocate_cluster(si: SwapInfoStruct, ci: number): void {
  const n = si.cluster_count[ci]
  if (n === 0) {
    if (si.cluster_flags[ci] !== CLUSTER_FLAG_FREE) move_cluster(si, ci, CLUSTER_FLAG_FREE)
  } else if (n !== SWAPFILE_CLUSTER) {
    if (si.cluster_flags[ci] !== CLUSTER_FLAG_FRAG) move_cluster(si, ci, CLUSTER_FLAG_FRAG)
  } else if (si.cluster_flags[ci] !== CLUSTER_FLAG_FULL) {
    move_cluster(si, ci, CLUSTER_FLAG_FULL)
  }
}

/** Kernel: cluster_is_usable() for order 0: not full (a full cluster is on no CPU). */
function cluster_is_usable(si: SwapInfoStruct, ci: number): boolean {
  return si.cluster_flags[ci] !== CLUSTER_FLAG_FULL
}

/** Kernel: swap_range_alloc() / swap_range_free(): the area's free-slot accounting. */
function swap_range_alloc(state: SwapState, si: SwapInfoStruct): void {
  si.inuse_pages++
  if (si.flags & SWP_WRITEOK) state.nr_swap_pages--
  // del_from_avail_list(): a full area is not tried again until a slot is freed.
  if (si.inuse_pages === si.pages) {
    const i = state.avail.indexOf(si)
    if (i >= 0) state.avail.splice(i, 1)
  }
}
function swap_range_free(state: SwapState, si: SwapInfoStruct): void {
  if (si.inuse_pages === si.pages && si.flags & SWP_WRITEOK) add_to_avail_list(state, si)
  si.inuse_pages--
  if (si.flags & SWP_WRITEOK) state.nr_swap_pages++
}

/** Kernel: add_to_avail_list(): by priority, behind the areas of the same priority. */
export function add_to_avail_list(state: SwapState, si: SwapInfoStruct): void {
  if (state.avail.includes(si)) return
  let i = 0
  while (i < state.avail.length && state.avail[i].prio >= si.prio) i++
  state.avail.splice(i, 0, si)
}

/**
 * Kernel: alloc_swap_scan_cluster() for one slot: the first free slot of
 * cluster ci at or after `start`, marked SWAP_HAS_CACHE; records where the
 * next allocation starts (the CPU's, or a rotational area's). The offset, or 0.
 */
function alloc_swap_scan_cluster(state: SwapState, si: SwapInfoStruct, ci: number, start: number): number {
  const end = Math.min(si.max, (ci + 1) * SWAPFILE_CLUSTER)
  let found = 0
  let next = 0
  for (let off = start; off < end; off++) {
    if (si.swap_map[off] !== 0) continue
    si.swap_map[off] = SWAP_HAS_CACHE
    si.cluster_count[ci]++
    swap_range_alloc(state, si)
    found = off
    if (si.cluster_count[ci] < SWAPFILE_CLUSTER && off + 1 < end) next = off + 1
    break
  }
  relocate_cluster(si, ci)
  if (si.flags & SWP_SOLIDSTATE) {
    const cpu = state.this_cpu()
    state.pcp_offset[cpu] = next
    state.pcp_si[cpu] = si
  } else {
    si.global_next = next
  }
  return found
}

/** Kernel: cluster_alloc_swap_entry() for order 0: a slot of si, or 0 when it has none. */
function cluster_alloc_swap_entry(state: SwapState, si: SwapInfoStruct): number {
  if (!(si.flags & SWP_SOLIDSTATE) && si.global_next !== 0) {
    const ci = Math.floor(si.global_next / SWAPFILE_CLUSTER)
    if (cluster_is_usable(si, ci)) {
      const start = si.cluster_count[ci] === 0 ? ci * SWAPFILE_CLUSTER : si.global_next
      const found = alloc_swap_scan_cluster(state, si, ci, start)
      if (found) return found
    }
  }
  // new_cluster: clusters something was freed in, then free ones, then one fragmented one.
  for (;;) {
    const ci = isolate_cluster(si, si.nonfull_clusters)
    if (ci < 0) break
    const found = alloc_swap_scan_cluster(state, si, ci, ci * SWAPFILE_CLUSTER)
    if (found) return found
  }
  let ci = isolate_cluster(si, si.free_clusters)
  if (ci >= 0) {
    const found = alloc_swap_scan_cluster(state, si, ci, ci * SWAPFILE_CLUSTER)
    if (found) return found
  }
  ci = isolate_cluster(si, si.frag_clusters)
  if (ci >= 0) {
    const found = alloc_swap_scan_cluster(state, si, ci, ci * SWAPFILE_CLUSTER)
    if (found) return found
  }
  return 0
}

/** Kernel: swap_alloc_fast(): the CPU's current cluster, whatever the priorities now say. */
function swap_alloc_fast(state: SwapState): number {
  const cpu = state.this_cpu()
  const si = state.pcp_si[cpu]
  const offset = state.pcp_offset[cpu]
  if (!si || !offset || !(si.flags & SWP_WRITEOK)) return 0
  const ci = Math.floor(offset / SWAPFILE_CLUSTER)
  if (!cluster_is_usable(si, ci)) return 0
  const start = si.cluster_count[ci] === 0 ? ci * SWAPFILE_CLUSTER : offset
  const found = alloc_swap_scan_cluster(state, si, ci, start)
  return found ? swp_entry(si.type, found) : 0
}

/** Kernel: swap_alloc_slow(): the areas by priority, each moved behind its equals when tried. */
function swap_alloc_slow(state: SwapState): number {
  for (const si of [...state.avail]) {
    if (!state.avail.includes(si)) continue
    // plist_requeue(): behind the other areas of the same priority.
    const i = state.avail.indexOf(si)
    state.avail.splice(i, 1)
    add_to_avail_list(state, si)
    const offset = cluster_alloc_swap_entry(state, si)
    if (offset) return swp_entry(si.type, offset)
  }
  return 0
}

/**
 * Kernel: folio_alloc_swap() for an order-0 folio: a slot marked
 * SWAP_HAS_CACHE (the caller adds the folio to the swap cache), or 0
 * when every area is full.
 */
export function get_swap_page_of_type(env: MmEnv): number {
  const state = env.swap
  if (state.nr_swap_pages <= 0) return 0
  return swap_alloc_fast(state) || swap_alloc_slow(state)
}

function si_checked(env: MmEnv, entry: number, fn: string): SwapInfoStruct {
  const si = env.swap.si_of(entry)
  const off = swp_offset(entry)
  if (!si || off === 0 || off >= si.max) throw new KernelBug(`${fn}: bad swap entry 0x${entry.toString(16)}`)
  return si
}

/** Kernel: swap_count(): the references of a map byte (without SWAP_HAS_CACHE). */
export function swap_count(si: SwapInfoStruct, offset: number): number {
  const v = si.swap_map[offset] & ~SWAP_HAS_CACHE & ~COUNT_CONTINUED
  return v + (si.continued.get(offset) ?? 0)
}

/** Kernel: __swap_count(): how many page-table (and shmem) references hold entry. */
export function __swap_count(env: MmEnv, entry: number): number {
  const si = env.swap.si_of(entry)
  if (!si) return 0
  return swap_count(si, swp_offset(entry))
}

/** Kernel: swap_entry_has_cache() / the SWAP_HAS_CACHE bit of the slot. */
export function swap_has_cache(env: MmEnv, entry: number): boolean {
  const si = env.swap.si_of(entry)
  return si !== null && (si.swap_map[swp_offset(entry)] & SWAP_HAS_CACHE) !== 0
}

/**
 * Kernel: swap_duplicate() / __swap_duplicate(entry, 1): one more reference
 * (fork's copy of a swap PTE, try_to_unmap's PTE). 0, or -ENOENT when the
 * slot is not in use.
 */
export function swap_duplicate(env: MmEnv, entry: number): number {
  const si = si_checked(env, entry, 'swap_duplicate')
  const off = swp_offset(entry)
  const v = si.swap_map[off]
  if (v === 0 || v === SWAP_MAP_BAD) return -2
  const count = v & ~SWAP_HAS_CACHE & ~COUNT_CONTINUED
  if (count === 0 && !(v & SWAP_HAS_CACHE)) return -2
  if (count < SWAP_MAP_MAX) si.swap_map[off] = v + 1
  else {
    // add_swap_count_continuation(): the overflow is counted on the side.
    si.swap_map[off] = v | COUNT_CONTINUED
    si.continued.set(off, (si.continued.get(off) ?? 0) + 1)
  }
  return 0
}

/**
 * Kernel: swapcache_prepare(): claim SWAP_HAS_CACHE on a slot that has
 * references but no cache yet (swap-in). 0, -EEXIST when another folio is
 * being read for it, -ENOENT when the slot is free.
 */
export function swapcache_prepare(env: MmEnv, entry: number): number {
  const si = si_checked(env, entry, 'swapcache_prepare')
  const off = swp_offset(entry)
  const v = si.swap_map[off]
  if (v & SWAP_HAS_CACHE) return -17
  if (swap_count(si, off) === 0) return -2
  si.swap_map[off] = v | SWAP_HAS_CACHE
  return 0
}

/** Kernel: swap_entries_free(): the slot is unused; give it back to its cluster and area. */
function swap_entries_free(env: MmEnv, si: SwapInfoStruct, off: number): void {
  const state = env.swap
  si.swap_map[off] = 0
  env.memcg.mem_cgroup_uncharge_swap(swp_entry(si.type, off))
  // The swap table's shadow goes with the slot (__swap_cache_clear_shadow()).
  si.shadow[off] = 0
  si.bdev?.discard(off)
  const ci = Math.floor(off / SWAPFILE_CLUSTER)
  si.cluster_count[ci]--
  swap_range_free(state, si)
  // partial_free_cluster() / free_cluster(): a cluster nobody is scanning goes to nonfull or free.
  // (A CPU's current cluster goes on a list too; the CPU still allocates from it, and
  // relocate_cluster() then moves it where its count says.)
  if (si.cluster_count[ci] === 0) move_cluster(si, ci, CLUSTER_FLAG_FREE)
  else if (si.cluster_flags[ci] !== CLUSTER_FLAG_NONFULL) {
    move_cluster(si, ci, CLUSTER_FLAG_NONFULL)
  }
}

/** Drop `usage` (1 reference, or SWAP_HAS_CACHE) from a slot; frees it at zero. Kernel: swap_entry_put_locked(). */
function swap_entry_put(env: MmEnv, si: SwapInfoStruct, off: number, usage: number): void {
  let v = si.swap_map[off]
  if (usage === SWAP_HAS_CACHE) {
    if (!(v & SWAP_HAS_CACHE)) throw new KernelBug(`swap_entry_put: offset ${off} of type ${si.type} has no cache`)
    v &= ~SWAP_HAS_CACHE
  } else {
    const extra = si.continued.get(off) ?? 0
    if (extra > 0) {
      if (extra === 1) {
        si.continued.delete(off)
        v &= ~COUNT_CONTINUED
      } else si.continued.set(off, extra - 1)
    } else {
      if ((v & ~SWAP_HAS_CACHE) === 0) throw new KernelBug(`swap_free: offset ${off} of type ${si.type} has no references (Unused swap offset entry)`)
      v--
    }
  }
  if (v === 0) swap_entries_free(env, si, off)
  else si.swap_map[off] = v
}

/** Kernel: swap_free() / swap_free_nr(entry, 1): drop one page-table reference. */
export function swap_free(env: MmEnv, entry: number): void {
  const si = si_checked(env, entry, 'swap_free')
  swap_entry_put(env, si, swp_offset(entry), 1)
}

/** Kernel: put_swap_folio() / swapcache_clear(): drop SWAP_HAS_CACHE (the folio left the swap cache). */
export function put_swap_folio(env: MmEnv, entry: number): void {
  const si = si_checked(env, entry, 'put_swap_folio')
  swap_entry_put(env, si, swp_offset(entry), SWAP_HAS_CACHE)
}

/** Kernel: get_nr_swap_pages(): free slots of the writable areas (reclaim scans anon only while some are left). */
export function get_nr_swap_pages(env: MmEnv): number {
  return env.swap.nr_swap_pages
}

/** Kernel: vm_swap_full(): more than half of the swap space is used. */
export function vm_swap_full(env: MmEnv): boolean {
  return env.swap.nr_swap_pages * 2 < env.swap.total_swap_pages
}
