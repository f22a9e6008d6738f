/**
 * Explanations of slab allocations (mmsim's, for `--explain`): why kmalloc
 * picked its cache (the size class from kmalloc_index, the family from the
 * GFP flags as kmalloc_type decides it) and where the object came from
 * (the cpu slab, a sheaf, a partial slab, a new slab).
 */
import { __GFP_ACCOUNT, __GFP_DMA, __GFP_RECLAIMABLE, type gfp_t } from './gfp.js'
import { KMALLOC_CGROUP, KMALLOC_DMA, KMALLOC_RECLAIM, kmalloc_index, kmalloc_info, kmalloc_type } from './slab_h.js'

const SOURCES: Record<string, string> = {
  '': "the cpu slab's freelist (fast path)",
  sheaf: "the cpu's sheaf (per-cpu array of objects)",
  remote: "the cpu slab's own freelist (objects freed there from elsewhere; the cpu freelist was empty)",
  cpu_partial: 'a slab from the per-cpu partial list (the cpu slab was full)',
  node_partial: "a partial slab from the node's list (no cpu slab or per-cpu partial slab had room)",
  new_slab: 'a new slab from the page allocator (no partial slab had room)',
  debug_partial: "a partial slab of the node (a debug cache allocates one object at a time)",
  debug_new: 'a new slab (a debug cache with no partial slab)',
}

/** Where the object came from, by the backend's alloc_src (undefined: a backend that does not say). */
export function slab_source_text(src: string | undefined): string {
  return src === undefined ? "the cache's per-cpu array or slabs" : (SOURCES[src] ?? src)
}

/** Why kmalloc(size, flags) uses the cache it uses. */
export function kmalloc_cache_text(size: number, flags: gfp_t): string {
  const idx = kmalloc_index(size)
  const type = kmalloc_type(flags)
  const family =
    type === KMALLOC_DMA ? '__GFP_DMA selects the dma-kmalloc caches'
    : type === KMALLOC_RECLAIM ? '__GFP_RECLAIMABLE selects the kmalloc-rcl caches (reclaimable, grouped for fragmentation)'
    : type === KMALLOC_CGROUP ? '__GFP_ACCOUNT selects the kmalloc-cg caches (charged to the memory cgroup)'
    : `no __GFP_ACCOUNT, __GFP_RECLAIMABLE or __GFP_DMA (0x${(__GFP_ACCOUNT | __GFP_RECLAIMABLE | __GFP_DMA).toString(16)}): the normal kmalloc caches`
  return `size ${size} -> the ${kmalloc_info[idx].size}-byte size class (kmalloc_index ${idx}); ${family} -> ${kmalloc_info[idx].name[type]}`
}
