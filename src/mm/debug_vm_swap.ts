/**
 * The swap side of the invariant checker, recounted from the page tables
 * (Kernel: the checks swapoff and check_mm()'s rss report would trip over).
 * Why: a swap PTE whose slot has no reference reads someone else's page
 * after the slot is reused; a reference no PTE holds leaks the slot for
 * good; a swap-cache folio without PG_swapcache or with another entry in
 * page->private is found for the wrong slot.
 *
 *  - every swap PTE names a slot of a live area, and the slot's count is
 *    exactly the number of swap PTEs and shmem page-cache slots naming it;
 *    an exclusive swap PTE is the slot's only reference;
 *  - SWAP_HAS_CACHE is set exactly where the swap cache holds a folio, and
 *    that folio has PG_swapcache, private = its entry and a reference;
 *  - inuse_pages, the cluster counts and lists, nr_swap_pages and
 *    total_swap_pages agree with the maps; nr_swapcached counts the cache;
 *  - each mm's MM_SWAPENTS equals its swap PTEs.
 */
import { KernelBug } from '../include/bug.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { is_swap_pte, pte_swp_exclusive, pte_swp_offset, pte_swp_type } from '../arch/pte.js'
import { MM_SWAPENTS, type MmEnv, type MmStruct } from './mm_types.js'
import { PG_swapcache } from './page.js'
import { is_pte_marker } from './swapops.js'
import { CLUSTER_FLAG_FRAG, CLUSTER_FLAG_FREE, CLUSTER_FLAG_FULL, CLUSTER_FLAG_NONFULL, SWAP_HAS_CACHE, SWAP_MAP_BAD, SWAPFILE_CLUSTER, SWP_USED, SWP_WRITEOK, swp_entry, swp_offset } from './swap_h.js'
import { swap_count } from './swapfile.js'
import { NODE_STAT } from './vmstat.js'

export function check_swap(env: MmEnv, mms: Iterable<MmStruct>, nonpresent?: ReadonlyMap<MmStruct, readonly number[]>): void {
  const state = env.swap
  const refs = state.swap_info.map((si) => new Uint32Array(si.max))
  const exclusive = state.swap_info.map(() => new Set<number>())
  // Each address space once, however many of its threads are listed.
  for (const mm of new Set(mms)) {
    let n = 0
    const entry = (vpn: number, pte: number): void => {
      if (!is_swap_pte(pte) || is_pte_marker(pte)) return
      const type = pte_swp_type(pte)
      const off = pte_swp_offset(pte)
      const si = state.swap_info[type] as (typeof state.swap_info)[number] | undefined
      if (!si || !(si.flags & SWP_USED) || off === 0 || off >= si.max) throw new KernelBug(`check_swap: mm ${mm.id} maps 0x${(vpn * PAGE_SIZE).toString(16)} to swap type ${type} offset ${off}, not a slot`)
      refs[type][off]++
      if (pte_swp_exclusive(pte)) exclusive[type].add(off)
      n++
    }
    // The non-present entries check_rmap_counts() collected in its walk, or a walk of our own.
    const given = nonpresent?.get(mm)
    if (given) for (let i = 0; i < given.length; i += 2) entry(given[i], given[i + 1])
    else if (mm.pgd.nr_ptes > 0) mm.pgd.each(0, Math.ceil(mm.task_size / PAGE_SIZE), entry)
    if (mm.rss_stat[MM_SWAPENTS] !== n) throw new KernelBug(`check_swap: mm ${mm.id} has ${n} swap PTEs but MM_SWAPENTS ${mm.rss_stat[MM_SWAPENTS]}`)
  }
  // A shmem object's page-cache slot holding a swap entry is one reference on it.
  for (const mapping of env.mappings.values()) {
    for (const [index, entry] of mapping.i_swap) {
      const si = state.si_of(entry)
      const off = swp_offset(entry)
      if (!si || !(si.flags & SWP_USED) || off === 0 || off >= si.max) throw new KernelBug(`check_swap: mapping ${mapping.id} index ${index} holds swap entry 0x${entry.toString(16)}, not a slot`)
      if (mapping.i_pages.has(index)) throw new KernelBug(`check_swap: mapping ${mapping.id} index ${index} holds both a page and a swap entry`)
      refs[si.type][off]++
    }
  }
  let free = 0
  let total = 0
  let cached = 0
  for (const si of state.swap_info) {
    if (!(si.flags & SWP_USED)) continue
    let inuse = 0
    const ccount = new Uint16Array(si.cluster_count.length)
    const r = refs[si.type]
    const excl = exclusive[si.type]
    // The checks of one slot that is not bad; returns whether it holds a swap-cache folio.
    const check_slot = (off: number, v: number): boolean => {
      const c = swap_count(si, off)
      if (c !== r[off]) throw new KernelBug(`check_swap: swap type ${si.type} offset ${off} has count ${c} but ${r[off]} swap PTEs`)
      if (excl.has(off) && c !== 1) throw new KernelBug(`check_swap: exclusive swap PTE for type ${si.type} offset ${off} whose count is ${c}`)
      const pfn = si.cache[off] - 1
      if (((v & SWAP_HAS_CACHE) !== 0) !== pfn >= 0) throw new KernelBug(`check_swap: swap type ${si.type} offset ${off}: SWAP_HAS_CACHE ${(v & SWAP_HAS_CACHE) !== 0} but cached folio ${pfn}`)
      if (pfn >= 0) {
        const pages = env.pages
        if (!pages.test(pfn, PG_swapcache) || pages.private[pfn] !== swp_entry(si.type, off) || pages._refcount[pfn] < 1) {
          throw new KernelBug(`check_swap: swap-cache pfn 0x${pfn.toString(16)} at type ${si.type} offset ${off} has PG_swapcache ${pages.test(pfn, PG_swapcache)}, private 0x${pages.private[pfn].toString(16)}, refcount ${pages._refcount[pfn]}`)
        }
      }
      if (v === 0 && si.shadow[off] !== 0) throw new KernelBug(`check_swap: free slot ${off} of type ${si.type} keeps a shadow`)
      return pfn >= 0
    }
    for (let off = 0; off < si.max; off++) {
      const v = si.swap_map[off]
      // Most slots of a large area are free: no reference (so no exclusive PTE), no folio, no
      // shadow. Their continuation counts are checked below, from the (small) map that holds them.
      if (v === 0 && r[off] === 0 && si.cache[off] === 0 && si.shadow[off] === 0) continue
      if (v !== 0) ccount[Math.floor(off / SWAPFILE_CLUSTER)]++
      if (v === SWAP_MAP_BAD) continue
      if (v !== 0) inuse++
      if (check_slot(off, v)) cached++
    }
    for (const off of si.continued.keys()) if (si.swap_map[off] === 0) check_slot(off, 0)
    if (inuse !== si.inuse_pages) throw new KernelBug(`check_swap: swap type ${si.type} has ${inuse} slots in use but inuse_pages ${si.inuse_pages}`)
    const tail = ccount.length * SWAPFILE_CLUSTER - si.max
    if (tail) ccount[ccount.length - 1] += tail
    const lists: [number[], number][] = [[si.free_clusters, CLUSTER_FLAG_FREE], [si.nonfull_clusters, CLUSTER_FLAG_NONFULL], [si.frag_clusters, CLUSTER_FLAG_FRAG], [si.full_clusters, CLUSTER_FLAG_FULL]]
    for (let ci = 0; ci < ccount.length; ci++) {
      if (ccount[ci] !== si.cluster_count[ci]) throw new KernelBug(`check_swap: cluster ${ci} of type ${si.type} counts ${si.cluster_count[ci]}, its slots ${ccount[ci]}`)
      const on = lists.filter(([l]) => l.includes(ci))
      const flag = si.cluster_flags[ci]
      if (on.length > 1 || (on.length === 1 && on[0][1] !== flag) || (on.length === 0 && flag !== 0)) throw new KernelBug(`check_swap: cluster ${ci} of type ${si.type} has flag ${flag} but is on ${on.length} lists`)
      if (flag === CLUSTER_FLAG_FREE && ccount[ci] !== 0) throw new KernelBug(`check_swap: cluster ${ci} of type ${si.type} is on the free list with ${ccount[ci]} slots used`)
    }
    if (si.flags & SWP_WRITEOK) {
      free += si.pages - si.inuse_pages
      total += si.pages
    }
  }
  if (free !== state.nr_swap_pages || total !== state.total_swap_pages) throw new KernelBug(`check_swap: areas have ${free}/${total} free/total slots, counters say ${state.nr_swap_pages}/${state.total_swap_pages}`)
  const stat = env.vmstat.node_page_state(NODE_STAT.nr_swapcached)
  if (stat !== cached) throw new KernelBug(`check_swap: ${cached} folios in the swap cache but nr_swapcached ${stat}`)
}
