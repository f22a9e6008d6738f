/**
 * Switching swap areas on and off, and /proc/swaps (Kernel: mm/swapfile.c
 * sys_swapon, read_swap_header, setup_swap_info, _enable_swap_info,
 * sys_swapoff, try_to_unuse, unuse_pte, swap_show).
 *
 * swapon reads the area's header (mkswap's: "SWAPSPACE2" in the last ten
 * bytes of page 0, version 1, last_page, bad pages), sizes the swap map,
 * puts every cluster on the free list but the first (it holds the header,
 * so it starts on the nonfull list) and links the area by priority. Without
 * SWAP_FLAG_PREFER an area gets the next default priority (-2, -3, ...);
 * swapoff of such an area moves the ones below it up by one.
 *
 * swapoff first takes the area out of use (no new slots), then brings every
 * page back: each swap PTE of the area in every mm on the mmlist gets its
 * page read in and mapped again (read-only and old, as unuse_pte() maps
 * it), then what is left in the swap cache is dropped. Without the memory
 * for that, it fails with ENOMEM and the area stays on.
 */
import { shmem_unuse } from './shmem.js'
import { EBUSY, EINVAL, ENOMEM, EPERM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { pfn_pte, pte_mkold, pte_swp_exclusive, pte_swp_offset, pte_swp_type, is_swap_pte } from '../arch/pte.js'
import type { SwapBlockDevice } from '../hw/swap_bdev.js'
import { MM_ANONPAGES, MM_SWAPENTS, type MmEnv, type MmStruct, type VmArea } from './mm_types.js'
import { add_mm_counter, vm_page_prot } from './memory.js'
import { PG_anon_exclusive } from './page.js'
import { folio_add_new_anon_rmap, put_page } from './rmap.js'
import { is_pte_marker } from './swapops.js'
import {
  CLUSTER_FLAG_FREE,
  CLUSTER_FLAG_NONFULL,
  MAX_SWAPFILES,
  SWAP_FLAG_DISCARD,
  SWAP_FLAG_PREFER,
  SWAP_FLAG_PRIO_MASK,
  SWAP_FLAGS_VALID,
  SWAP_MAP_BAD,
  SWAPFILE_CLUSTER,
  SWP_BLKDEV,
  SWP_DISCARDABLE,
  SWP_OFFSET_BITS,
  SWP_SOLIDSTATE,
  SWP_SYNCHRONOUS_IO,
  SWP_USED,
  SWP_WRITEOK,
  SwapInfoStruct,
  swp_entry,
} from './swap_h.js'
import { folio_free_swap, swap_cache_get_folio, swapin_readahead } from './swap_state.js'
import { add_to_avail_list, swap_free } from './swapfile.js'
import { __vm_enough_memory, vm_unacct_memory } from './util.js'
import { NODE_STAT } from './vmstat.js'

const SWAP_SIGNATURE = 'SWAPSPACE2'

/** What mkswap(8) writes in page 0 of an area of `nr_pages` pages (no bad pages, no label). */
export function mkswap_header(nr_pages: number): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE)
  const dv = new DataView(page.buffer)
  dv.setUint32(1024, 1, true) // version
  dv.setUint32(1028, nr_pages - 1, true) // last_page
  dv.setUint32(1032, 0, true) // nr_badpages
  for (let i = 0; i < SWAP_SIGNATURE.length; i++) page[PAGE_SIZE - 10 + i] = SWAP_SIGNATURE.charCodeAt(i)
  return page
}

/** Kernel: read_swap_header(): the area's last usable slot + 1 (maxpages), or 0 when the header is not usable. */
function read_swap_header(env: MmEnv, bdev: SwapBlockDevice, hdr: Uint8Array): { maxpages: number; bad: number[] } | null {
  const log = env.swap.printk
  const sig = String.fromCharCode(...hdr.subarray(PAGE_SIZE - 10))
  if (sig !== SWAP_SIGNATURE) {
    log(3, 'Unable to find swap-space signature')
    return null
  }
  const dv = new DataView(hdr.buffer, hdr.byteOffset, PAGE_SIZE)
  const version = dv.getUint32(1024, true)
  if (version !== 1) {
    log(4, `Unable to handle swap header version ${version}`)
    return null
  }
  const last_page = dv.getUint32(1028, true)
  const nr_badpages = dv.getUint32(1032, true)
  if (last_page === 0) {
    log(4, 'Empty swap-file')
    return null
  }
  // swapfile_maximum_size: what an entry can address (a 2-level i386 PTE has 23 offset bits).
  const limit = env.arch.pte_size === 4 ? 2 ** 23 : 2 ** SWP_OFFSET_BITS
  let maxpages = limit
  if (last_page > maxpages) log(4, `Truncating oversized swap area, only using ${(maxpages - 1) * 4}k out of ${last_page * 4}k`)
  if (maxpages > last_page) maxpages = last_page + 1
  if (nr_badpages > (PAGE_SIZE - 1536) / 4) return null
  if (maxpages > bdev.nr_pages) {
    log(4, 'Swap area shorter than signature indicates')
    return null
  }
  const bad: number[] = []
  for (let i = 0; i < nr_badpages; i++) {
    const b = dv.getUint32(1536 + i * 4, true)
    if (b === 0 || b > last_page) return null
    if (b < maxpages) bad.push(b)
  }
  return { maxpages, bad }
}

/** Kernel: setup_clusters(): bad slots (the header first) counted, their clusters nonfull, the rest free. */
function setup_swap_map(si: SwapInfoStruct, maxpages: number, bad: number[]): void {
  si.max = maxpages
  si.swap_map = new Uint8Array(maxpages)
  si.cache = new Int32Array(maxpages)
  si.shadow = new Float64Array(maxpages)
  const nclusters = Math.ceil(maxpages / SWAPFILE_CLUSTER)
  si.cluster_count = new Uint16Array(nclusters)
  si.cluster_flags = new Uint8Array(nclusters)
  for (const off of [0, ...bad]) {
    if (si.swap_map[off] === SWAP_MAP_BAD) continue
    si.swap_map[off] = SWAP_MAP_BAD
    si.cluster_count[Math.floor(off / SWAPFILE_CLUSTER)]++
  }
  // Slots past the end of the last cluster count as used, so the cluster never reads as free.
  const tail = nclusters * SWAPFILE_CLUSTER - maxpages
  if (tail) si.cluster_count[nclusters - 1] += tail
  for (let ci = 0; ci < nclusters; ci++) {
    const flag = si.cluster_count[ci] ? CLUSTER_FLAG_NONFULL : CLUSTER_FLAG_FREE
    si.cluster_flags[ci] = flag
    ;(flag === CLUSTER_FLAG_FREE ? si.free_clusters : si.nonfull_clusters).push(ci)
  }
  si.pages = maxpages - 1 - bad.length
}

/** Kernel: alloc_swap_info()'s refusal, which comes before the path is opened: -EPERM when every type is taken. */
export function alloc_swap_info_check(env: MmEnv): number {
  const si = env.swap.swap_info
  return si.length >= MAX_SWAPFILES && si.every((s) => s.flags & SWP_USED) ? -EPERM : 0
}

/**
 * Kernel: sys_swapon() once the path resolved to a block device (`bdev`,
 * null when it named something else), the caller's capability checked:
 * 0 or -errno (EINVAL bad flags or header, EPERM no free type, EBUSY on
 * already).
 */
export function do_swapon(env: MmEnv, name: string, bdev: SwapBlockDevice | null, swap_flags: number): number {
  const state = env.swap
  if (swap_flags & ~SWAP_FLAGS_VALID) return -EINVAL
  // alloc_swap_info(): the first free type.
  let type = state.swap_info.findIndex((s) => !(s.flags & SWP_USED))
  if (type < 0) {
    if (state.swap_info.length >= MAX_SWAPFILES) return -EPERM
    type = state.swap_info.length
    state.swap_info.push(new SwapInfoStruct(type))
  }
  if (!bdev) return -EINVAL // claim_swapfile(): neither a block device nor a regular file mmsim can swap to
  if (state.active.some((s) => s.bdev === bdev)) return -EBUSY
  const hdr = new Uint8Array(PAGE_SIZE)
  bdev.peek(0, hdr)
  const h = read_swap_header(env, bdev, hdr)
  if (!h) return -EINVAL
  const si = new SwapInfoStruct(type)
  state.swap_info[type] = si
  setup_swap_map(si, h.maxpages, h.bad)
  if (si.pages === 0) {
    state.printk(4, 'Empty swap-file')
    return -EINVAL
  }
  si.bdev = bdev
  si.swap_file = name
  si.flags = SWP_USED | SWP_BLKDEV
  if (!bdev.rotational) si.flags |= SWP_SOLIDSTATE
  if (bdev.synchronous) si.flags |= SWP_SYNCHRONOUS_IO
  if (swap_flags & SWAP_FLAG_DISCARD && bdev.kind === 'zram') si.flags |= SWP_DISCARDABLE
  if (bdev.rotational) state.nr_rotate_swap++
  si.prio = swap_flags & SWAP_FLAG_PREFER ? swap_flags & SWAP_FLAG_PRIO_MASK : --state.least_priority
  // _enable_swap_info()
  si.flags |= SWP_WRITEOK
  state.nr_swap_pages += si.pages
  state.total_swap_pages += si.pages
  let i = 0
  while (i < state.active.length && state.active[i].prio >= si.prio) i++
  state.active.splice(i, 0, si)
  add_to_avail_list(state, si)
  const kb = si.pages * 4
  const ss = si.flags & SWP_SOLIDSTATE ? 'SS' : ''
  const d = si.flags & SWP_DISCARDABLE ? 'D' : ''
  state.printk(6, `Adding ${kb}k swap on ${name}.  Priority:${si.prio} extents:1 across:${kb}k ${ss}${d}`)
  return 0
}

/** Kernel: unuse_pte(): map the page back in place of the swap entry (read-only, old). */
function unuse_pte(mm: MmStruct, vma: VmArea, addr: number, pte: number, pfn: number): void {
  const env = mm.env
  const pages = env.pages
  add_mm_counter(mm, MM_SWAPENTS, -1)
  add_mm_counter(mm, MM_ANONPAGES, 1)
  pages.get_page(pfn)
  if (pages.mapping[pfn] >= 0) {
    folio_add_new_anon_rmap(env, pfn, vma, addr)
    if (!pte_swp_exclusive(pte)) pages.clear(pfn, PG_anon_exclusive)
  } else {
    if (++pages._mapcount[pfn] === 1) env.vmstat.mod_node_page_state(NODE_STAT.nr_anon_pages, 1)
    if (pte_swp_exclusive(pte)) pages.set(pfn, PG_anon_exclusive)
  }
  mm.pgd.set(addr / PAGE_SIZE, pte_mkold(pfn_pte(pfn, vm_page_prot(vma))))
  swap_free(env, swp_entry(pte_swp_type(pte), pte_swp_offset(pte)))
}

/** Kernel: unuse_mm(): every swap PTE of `type` in mm. 0 or -ENOMEM. */
function unuse_mm(mm: MmStruct, type: number): number {
  const env = mm.env
  for (const vma of mm.mm_mt) {
    if (!vma.anon_vma) continue
    const found: [number, number][] = []
    mm.pgd.each(vma.vm_start / PAGE_SIZE, vma.vm_end / PAGE_SIZE, (vpn, pte) => {
      if (is_swap_pte(pte) && !is_pte_marker(pte) && pte_swp_type(pte) === type) found.push([vpn, pte])
    })
    for (const [vpn, pte] of found) {
      if (mm.pgd.get(vpn) !== pte) continue // readahead of an earlier one mapped nothing, but stay exact
      const entry = swp_entry(type, pte_swp_offset(pte))
      let pfn = swap_cache_get_folio(env, entry)
      if (pfn >= 0) env.pages.get_page(pfn)
      else pfn = swapin_readahead(env, entry, vma, vpn * PAGE_SIZE)
      if (pfn < 0) return -ENOMEM
      unuse_pte(mm, vma, vpn * PAGE_SIZE, pte, pfn)
      folio_free_swap(env, pfn)
      put_page(env, pfn)
    }
  }
  return 0
}

/** Kernel: try_to_unuse(): bring every page of the area back. 0 or -ENOMEM. */
function try_to_unuse(env: MmEnv, si: SwapInfoStruct): number {
  const state = env.swap
  // shmem_unuse(): tmpfs and shared memory pages on the area come back first.
  const err = shmem_unuse(env, si.type)
  if (err) return err
  for (const mm of [...state.mmlist] as MmStruct[]) {
    if (mm.dead) {
      state.mmlist.delete(mm)
      continue
    }
    const r = unuse_mm(mm, si.type)
    if (r) return r
  }
  // What only the swap cache still holds (readahead, or pages unmapped since).
  for (let off = 1; off < si.max && si.inuse_pages > 0; off++) {
    const pfn = si.cache[off] - 1
    if (pfn >= 0) folio_free_swap(env, pfn)
  }
  return si.inuse_pages === 0 ? 0 : -ENOMEM
}

/** Kernel: sys_swapoff() for the area swapped on as `name`: 0 or -errno (EINVAL: not swapped on, ENOMEM). */
export function do_swapoff(env: MmEnv, name: string, cap_sys_admin: boolean): number {
  const state = env.swap
  if (!cap_sys_admin) return -EPERM
  const si = state.active.find((s) => s.swap_file === name)
  if (!si) return -EINVAL
  // The memory the area's pages will need must be committable without it.
  if (__vm_enough_memory(env, null, si.pages, cap_sys_admin)) return -ENOMEM
  vm_unacct_memory(env, si.pages)
  // del_from_avail_list(); the area takes no new slots.
  const ai = state.avail.indexOf(si)
  if (ai >= 0) state.avail.splice(ai, 1)
  state.nr_swap_pages -= si.pages - si.inuse_pages
  state.total_swap_pages -= si.pages
  si.flags &= ~SWP_WRITEOK
  const err = try_to_unuse(env, si)
  if (err) {
    // reinsert_swap_info()
    si.flags |= SWP_WRITEOK
    state.nr_swap_pages += si.pages - si.inuse_pages
    state.total_swap_pages += si.pages
    add_to_avail_list(state, si)
    return err
  }
  state.active.splice(state.active.indexOf(si), 1)
  if (si.prio < 0) {
    // Default priorities stay consecutive: the areas below move up.
    for (const s of state.active) if (s.prio < si.prio) s.prio++
    state.least_priority++
  }
  for (let cpu = 0; cpu < state.pcp_si.length; cpu++) {
    if (state.pcp_si[cpu] === si) {
      state.pcp_si[cpu] = null
      state.pcp_offset[cpu] = 0
    }
  }
  if (!(si.flags & SWP_SOLIDSTATE)) state.nr_rotate_swap--
  si.flags = 0
  si.swap_map = new Uint8Array(0)
  si.cache = new Int32Array(0)
  si.shadow = new Float64Array(0)
  si.bdev = null
  si.swap_file = ''
  return 0
}

/** Kernel: swap_show(): /proc/swaps. */
export function swaps_show(env: MmEnv): string {
  let out = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'
  for (const si of env.swap.swap_info) {
    if (!(si.flags & SWP_USED) || si.swap_map.length === 0) continue
    const bytes = si.pages * 4
    const inuse = si.inuse_pages * 4
    const len = si.swap_file.length
    out += si.swap_file + ' '.repeat(len < 40 ? 40 - len : 1)
    out += 'partition' + '\t' + String(bytes) + '\t' + (bytes < 10000000 ? '\t' : '') + String(inuse) + '\t' + (inuse < 10000000 ? '\t' : '') + String(si.prio) + '\n'
  }
  return out
}
