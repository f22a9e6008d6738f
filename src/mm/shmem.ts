/**
 * A minimal in-memory file object with a page cache: the shmem/tmpfs file
 * behind MAP_SHARED|MAP_ANONYMOUS and tmpfs files, and (backing 'disk') a
 * file whose dirty pages are cleaned by writeback (msync/fsync)
 * (Kernel: mm/shmem.c, mm/filemap.c, mm/page-writeback.c).
 *
 * The page cache is address_space.i_pages (index -> pfn). A cached page has
 * refcount 1 for the cache plus one per PTE mapping it, page->mapping = +id,
 * page->index = its index, PG_uptodate, PG_swapbacked for shmem, and
 * PG_dirty while it differs from the backing store (always for shmem pages
 * written by write(), as tmpfs has no writeback without swap).
 * The page-cache issue extends this file (readahead, LRU, real writeback);
 * truncation that must zap mappings lives in truncate.ts.
 */
import { DiskBlocks } from '../hw/block_store.js'
import { shmem_write_seals } from './memfd.js'
import { ENOMEM, ENOSPC } from '../include/errno.js'
import { F_SEAL_SEAL } from '../include/uapi/fcntl.js'
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { type AddressSpace, type FileRaState, type MappingHost, type MmEnv, type ShmemSbInfo, type VmArea, type VmFile, FMODE_READ, FMODE_WRITE } from './mm_types.js'
import { PG_mappedtodisk, PG_swapbacked, PG_uptodate } from './page.js'
import { NODE_STAT } from './vmstat.js'
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from './gfp.js'
import { MEMCG_CACHE, MEMCG_SHMEM } from './memcontrol.js'
import { folio_add_lru, folio_refault } from './swap.js'
import { XaNodes } from './xarray.js'
import { clear_shadow_entries, page_cache_slot_erase, page_cache_slot_store } from './filemap_xa.js'
import { put_page } from './rmap.js'
import { trace_mm_filemap } from './mm_trace.js'
import { add_to_swap, delete_from_swap_cache, free_swap_and_cache, __read_swap_cache_async, swap_cache_get_folio } from './swap_state.js'
import { swap_duplicate, swap_free } from './swapfile.js'
import { swap_writepage } from './page_io.js'
import { swp_type } from './swap_h.js'
import { PGMAJFAULT } from './vm_event_item.js'
import { clear_page_dirty, folio_wait_writeback, i_size_grow, mapping_wb, set_page_dirty } from './page_writeback.js'
import { mpage_read_block } from './mpage.js'
import { COST_NS } from '../hw/clock.js'

/** The dirty-page calls moved to page_writeback.ts; many callers still import them from here. */
export { clear_page_dirty, set_page_dirty }


/** struct address_space of an in-memory file. */
export class ShmemMapping implements AddressSpace {
  readonly i_pages = new Map<number, number>()
  readonly i_shadows = new Map<number, number>()
  readonly i_swap = new Map<number, number>()
  readonly xa = new XaNodes()
  readonly i_mmap = new Set<VmArea>()
  readonly ra_folios = new Map<number, number>()
  readonly disk_blocks = new DiskBlocks()
  readonly dirty_tag = new Set<number>()
  dirtied_when = 0
  writeback_index = 0
  i_state = 0
  itable_dirty = false
  i_size = 0
  host: MappingHost | null = null
  /** shmem_get_inode() starts every shmem inode sealed against sealing (memfd_create may lift it). */
  seals = F_SEAL_SEAL
  constructor(
    readonly id: number,
    readonly backing: 'shmem' | 'disk',
    /** The tmpfs instance's limits (null: the kernel's internal shm_mnt, or a disk file). */
    readonly sbinfo: ShmemSbInfo | null = null,
  ) {}
}

/** add_to_page_cache()'s failures: past EOF (shmem_get_page only), out of memory, tmpfs full. */
export const PAGE_EOF = -1
export const PAGE_ENOMEM = -2
export const PAGE_ENOSPC = -3

/** The errno of an add_to_page_cache() failure code. */
export function page_errno(code: number): number {
  return code === PAGE_ENOSPC ? -ENOSPC : -ENOMEM
}

/**
 * Kernel: shmem_default_max_blocks() / shmem_default_max_inodes(): a tmpfs
 * mounted without size= or nr_inodes= holds half of RAM (totalram_pages() / 2
 * pages) and as many inodes (no highmem on x86-64; min with INT_MAX). The
 * root directory's inode is taken at mount (shmem_fill_super()).
 */
export function shmem_sb_info(env: MmEnv): ShmemSbInfo {
  const half = Math.floor(env.totalram_pages() / 2)
  const max_inodes = Math.min(2 ** 31 - 1, half)
  return { max_blocks: half, used_blocks: 0, max_inodes, free_inodes: max_inodes - 1 }
}

/** Kernel: shmem_reserve_inode(): take an inode of the instance; false (ENOSPC) when none is left. */
export function shmem_reserve_inode(sbinfo: ShmemSbInfo): boolean {
  if (!sbinfo.max_inodes) return true
  if (sbinfo.free_inodes < 1) return false
  sbinfo.free_inodes--
  return true
}

/** struct kstatfs as shmem_statfs() fills it (TMPFS_MAGIC, page-sized blocks, NAME_MAX names). */
export interface Kstatfs {
  f_type: number
  f_bsize: number
  f_blocks: number
  f_bfree: number
  f_bavail: number
  f_files: number
  f_ffree: number
  f_namelen: number
  f_frsize: number
}

export const TMPFS_MAGIC = 0x01021994

/** Kernel: shmem_statfs(): the limits are reported only when set (0 otherwise). */
export function shmem_statfs(sbinfo: ShmemSbInfo): Kstatfs {
  const free = sbinfo.max_blocks ? sbinfo.max_blocks - sbinfo.used_blocks : 0
  return {
    f_type: TMPFS_MAGIC,
    f_bsize: PAGE_SIZE,
    f_blocks: sbinfo.max_blocks,
    f_bfree: free,
    f_bavail: free,
    f_files: sbinfo.max_inodes,
    f_ffree: sbinfo.max_inodes ? sbinfo.free_inodes : 0,
    f_namelen: 255,
    f_frsize: PAGE_SIZE,
  }
}

/**
 * Kernel: shmem_inode_acct_blocks(): take `pages` blocks of the inode's
 * tmpfs; false (ENOSPC) when they would pass max_blocks.
 */
export function shmem_inode_acct_blocks(mapping: AddressSpace, pages: number): boolean {
  const sbinfo = mapping.sbinfo
  if (!sbinfo || mapping.backing !== 'shmem') return true
  if (sbinfo.max_blocks && sbinfo.used_blocks + pages > sbinfo.max_blocks) return false
  sbinfo.used_blocks += pages
  return true
}

/** Kernel: shmem_inode_unacct_blocks(): give `pages` blocks back. */
export function shmem_inode_unacct_blocks(mapping: AddressSpace, pages: number): void {
  const sbinfo = mapping.sbinfo
  if (sbinfo && mapping.backing === 'shmem') sbinfo.used_blocks -= pages
}

/** struct file for a ShmemMapping. */
export class ShmemFile implements VmFile {
  f_count = 1
  /** Internal objects sit on noop_backing_dev_info: ra_pages 0, never read ahead. */
  readonly f_ra: FileRaState = { start: 0, size: 0, async_size: 0, order: 0, ra_pages: 0, mmap_miss: 0, prev_pos: -1 }
  constructor(
    readonly f_mapping: AddressSpace,
    readonly name: string,
    public f_mode: number,
    readonly anon_shared: boolean,
  ) {}
}

/** A new, empty page cache (an inode's i_data) of a tmpfs ('shmem', on the instance `sbinfo`) or disk file. */
export function address_space_create(env: MmEnv, backing: 'shmem' | 'disk', sbinfo: ShmemSbInfo | null = null): ShmemMapping {
  const m = new ShmemMapping(env.next_id(), backing, sbinfo)
  env.mappings.set(m.id, m)
  return m
}

/** Kernel: shmem_file_setup(): an unnamed in-memory object of `size` bytes (MAP_SHARED|MAP_ANONYMOUS, tests). */
export function shmem_file_setup(env: MmEnv, name: string, size: number, backing: 'shmem' | 'disk', anon_shared = false): ShmemFile {
  const m = address_space_create(env, backing)
  m.i_size = size
  return new ShmemFile(m, name, FMODE_READ | FMODE_WRITE, anon_shared)
}

/** Kernel: filemap_get_folio(): the cached page at index, or -1. */
export function find_get_page(mapping: AddressSpace, index: number): number {
  return mapping.i_pages.get(index) ?? -1
}

/**
 * Kernel: shmem_get_folio() / filemap_fault's page-cache read: the page at
 * index, allocating a zero-filled page for a hole inside i_size. PAGE_EOF
 * when index is past EOF, PAGE_ENOMEM / PAGE_ENOSPC when it cannot be added.
 */
export function shmem_get_page(env: MmEnv, mapping: AddressSpace, index: number, fault?: { major: boolean }): number {
  const have = mapping.i_pages.get(index)
  if (have !== undefined) return have
  const entry = mapping.i_swap.get(index)
  if (entry !== undefined) {
    // shmem_get_folio_gfp() with a fault type: a page read back from swap is a major fault.
    if (fault) {
      fault.major = true
      env.vmstat.count_vm_event(PGMAJFAULT)
    }
    return shmem_swapin_folio(env, mapping, index, entry)
  }
  const eof = Math.ceil(mapping.i_size / PAGE_SIZE)
  if (index >= eof) return PAGE_EOF
  return add_to_page_cache(env, mapping, index)
}

/** Kernel: shmem_get_folio(SGP_WRITE) / write_begin: the page at index, created even past EOF; PAGE_ENOMEM / PAGE_ENOSPC. */
export function grab_cache_page(env: MmEnv, mapping: AddressSpace, index: number): number {
  const have = mapping.i_pages.get(index)
  if (have !== undefined) return have
  const entry = mapping.i_swap.get(index)
  return entry !== undefined ? shmem_swapin_folio(env, mapping, index, entry) : add_to_page_cache(env, mapping, index)
}

/**
 * Kernel: shmem_swapin_folio(): the page at index is out on swap (its slot
 * holds `entry`): take its folio from the swap cache or read it, put it
 * back in the page-cache slot (shmem_add_to_page_cache() replacing the
 * swap entry), take it out of the swap cache and free the slot; the folio
 * is dirty (memory holds the only copy again). Its pfn, or PAGE_ENOMEM.
 * (Linux reads a synchronous device's page without the swap cache and a
 * disk's with cluster readahead; mmsim reads the one page through the cache.)
 */
export function shmem_swapin_folio(env: MmEnv, mapping: AddressSpace, index: number, entry: number): number {
  let pfn = swap_cache_get_folio(env, entry)
  if (pfn >= 0) env.pages.get_page(pfn)
  else {
    pfn = __read_swap_cache_async(env, entry).pfn
    if (pfn < 0) return PAGE_ENOMEM
  }
  // The reference taken above becomes the page cache's.
  const pages = env.pages
  mapping.i_swap.delete(index)
  pages.mapping[pfn] = mapping.id
  pages.index[pfn] = index
  mapping.i_pages.set(index, pfn)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_shmem, 1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_SHMEM, 1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, 1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_CACHE, 1)
  delete_from_swap_cache(env, pfn)
  set_page_dirty(env, pfn)
  swap_free(env, entry)
  return pfn
}

/**
 * Kernel: shmem_writeout() from reclaim's pageout(): a shmem folio (on the
 * anon LRU, unmapped, clean-for-I/O) gets a swap slot and enters the swap
 * cache; the slot's reference is the inode's (swap_duplicate_nr()); the
 * page-cache slot now holds the swap entry (shmem_delete_from_page_cache())
 * and the folio is written (swap_writeout()). False without swap or a
 * free slot: the folio is redirtied and reclaim activates it
 * (AOP_WRITEPAGE_ACTIVATE). Its blocks stay charged to the tmpfs instance.
 */
export function shmem_writeout(env: MmEnv, pfn: number): boolean {
  const pages = env.pages
  const mapping = env.mappings.get(pages.mapping[pfn])
  if (!mapping || !env.swap.total_swap_pages) return false
  if (!add_to_swap(env, pfn)) return false
  const entry = pages.private[pfn]
  swap_duplicate(env, entry)
  const index = pages.index[pfn]
  mapping.i_pages.delete(index)
  mapping.i_swap.set(index, entry)
  forget_readahead_folio(mapping, index)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_shmem, -1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_SHMEM, -1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, -1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_CACHE, -1)
  pages.mapping[pfn] = 0
  put_page(env, pfn)
  swap_writepage(env, pfn)
  return true
}

/**
 * Kernel: shmem_free_swap() over [first, last] (truncation, hole punch,
 * eviction): each swapped page's slot is freed (free_swap_and_cache()) and
 * its block given back to the instance.
 */
export function shmem_free_swap(env: MmEnv, mapping: AddressSpace, first: number, last: number): void {
  if (mapping.i_swap.size === 0) return
  for (const [index, entry] of [...mapping.i_swap]) {
    if (index < first || index > last) continue
    mapping.i_swap.delete(index)
    page_cache_slot_erase(env, mapping, index)
    free_swap_and_cache(env, entry)
    shmem_inode_unacct_blocks(mapping, 1)
  }
}

/**
 * Kernel: shmem_unuse(): swapoff brings every shmem page on swap area
 * `type` back into memory. 0, or -ENOMEM.
 */
export function shmem_unuse(env: MmEnv, type: number): number {
  for (const mapping of env.mappings.values()) {
    if (mapping.i_swap.size === 0) continue
    for (const [index, entry] of [...mapping.i_swap]) {
      if (swp_type(entry) !== type) continue
      if (shmem_swapin_folio(env, mapping, index, entry) < 0) return -ENOMEM
    }
  }
  return 0
}

/** Kernel: shmem_partial_swap_usage(): bytes of pages [first, last] of the object that are on swap. */
export function shmem_partial_swap_usage(mapping: AddressSpace, first: number, last: number): number {
  let n = 0
  for (const index of mapping.i_swap.keys()) if (index >= first && index <= last) n++
  return n * PAGE_SIZE
}

/**
 * Kernel: filemap_add_folio() of a new order-0 page at index (zero-filled,
 * uptodate): charge it to the running task's memory cgroup (which may
 * reclaim), put it in the cache slot (taking over a shadow entry, or
 * growing the xarray), note a refault, and add it to the LRU. A tmpfs
 * page first takes a block of its instance (shmem_alloc_and_add_folio():
 * ENOSPC before any allocation). Its pfn, or PAGE_ENOMEM / PAGE_ENOSPC.
 */
export function add_to_page_cache(env: MmEnv, mapping: AddressSpace, index: number): number {
  if (!shmem_inode_acct_blocks(mapping, 1)) return PAGE_ENOSPC
  // filemap_alloc_folio(): not zeroed by the allocator; the read fills it, or it is zeroed below.
  const pfn = env.alloc_pages(GFP_HIGHUSER_MOVABLE, 0)
  const fail = (): number => {
    if (pfn >= 0) put_page(env, pfn)
    shmem_inode_unacct_blocks(mapping, 1)
    return PAGE_ENOMEM
  }
  if (pfn < 0) return fail()
  const pages = env.pages
  if (env.memcg.mem_cgroup_charge(pfn, GFP_KERNEL) < 0) return fail()
  const shadow = mapping.i_shadows.get(index)
  if (shadow !== undefined) mapping.i_shadows.delete(index)
  else if (!page_cache_slot_store(env, mapping, index)) return fail()
  pages.mapping[pfn] = mapping.id
  pages.index[pfn] = index
  // A disk file's block that writeback wrote is read in (read_folio); a hole reads as zeros.
  const block = mapping.disk_blocks.get(index)
  if (block) {
    env.physmem.write_at(pfn, 0, block, 0, PAGE_SIZE)
    pages.set(pfn, PG_mappedtodisk)
    mpage_read_block(env, mapping, index, pfn)
  } else {
    // A hole or a page about to be written (ext4's folio_zero_segment / shmem's clear_highpage).
    env.physmem.fill(pfn, 0)
    env.clock.advance(COST_NS.clear_page)
  }
  pages.set(pfn, PG_uptodate)
  if (mapping.backing === 'shmem') {
    pages.set(pfn, PG_swapbacked)
    env.vmstat.mod_node_page_state(NODE_STAT.nr_shmem, 1)
    env.memcg.mod_memcg_page_state(pfn, MEMCG_SHMEM, 1)
  }
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, 1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_CACHE, 1)
  mapping.i_pages.set(index, pfn)
  if (env.trace.enabled) trace_mm_filemap(env, 'mm_filemap_add_to_page_cache', mapping, index, pfn)
  if (shadow !== undefined) folio_refault(env, pfn, shadow)
  folio_add_lru(env, pfn)
  return pfn
}

/**
 * Take the page out of its cache slot, leaving `shadow` there (0: none)
 * (Kernel: __filemap_remove_folio() / page_cache_delete()); the caller has
 * unmapped it and drops the cache's reference.
 */
function page_cache_delete(env: MmEnv, mapping: AddressSpace, index: number, pfn: number, shadow: number): void {
  if (env.trace.enabled) trace_mm_filemap(env, 'mm_filemap_delete_from_page_cache', mapping, index, pfn)
  mapping.i_pages.delete(index)
  if (shadow) mapping.i_shadows.set(index, shadow)
  else page_cache_slot_erase(env, mapping, index)
  forget_readahead_folio(mapping, index)
  // truncate_inode_pages(): a page under writeback is waited for before it goes.
  folio_wait_writeback(env, pfn)
  clear_page_dirty(env, pfn)
  if (env.pages.test(pfn, PG_swapbacked)) {
    env.vmstat.mod_node_page_state(NODE_STAT.nr_shmem, -1)
    env.memcg.mod_memcg_page_state(pfn, MEMCG_SHMEM, -1)
  }
  shmem_inode_unacct_blocks(mapping, 1)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_file_pages, -1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_CACHE, -1)
  env.pages.clear(pfn, PG_uptodate)
}

/** Remove a page from the page cache (caller has unmapped it). Kernel: filemap_remove_folio(). */
export function delete_from_page_cache(env: MmEnv, mapping: AddressSpace, index: number): void {
  const pfn = mapping.i_pages.get(index)
  if (pfn === undefined) return
  page_cache_delete(env, mapping, index, pfn, 0)
  put_page(env, pfn)
}

/**
 * Kernel: __remove_mapping() of a clean, unmapped page-cache page that
 * reclaim took off the LRU: the slot keeps `shadow`; the page is freed.
 */
export function remove_mapping_for_reclaim(env: MmEnv, mapping: AddressSpace, index: number, pfn: number, shadow: number): void {
  page_cache_delete(env, mapping, index, pfn, shadow)
  put_page(env, pfn)
}

/**
 * ext4 (4 KiB blocks) zeroing the page-cache tail of the block that holds
 * EOF `size`, [size, min(to, end of that block)), when i_size grows past it
 * (ext4_zero_partial_blocks() for a write starting beyond EOF, the whole
 * tail for a truncate up) or the block is written back
 * (ext4_bio_write_folio()). So bytes a MAP_SHARED store left beyond EOF
 * never reappear as file data on ext4 (tmpfs keeps them). Dirties the page
 * when `dirty`. No-op for shmem or a block-aligned i_size.
 */
export function ext4_zero_eof_tail(env: MmEnv, mapping: AddressSpace, size: number, to: number, dirty: boolean): void {
  const from = size % PAGE_SIZE
  if (mapping.backing !== 'disk' || from === 0) return
  const index = Math.floor(size / PAGE_SIZE)
  const pfn = mapping.i_pages.get(index)
  if (pfn === undefined) return
  const end = Math.min(to - index * PAGE_SIZE, PAGE_SIZE)
  if (end > from && env.physmem.is_backed(pfn)) env.physmem.fill(pfn, 0, from, end - from)
  if (dirty) set_page_dirty(env, pfn)
}

/** Kernel: generic_file_read_iter(): bytes [off, off+len) clipped to i_size. */
export function file_read(env: MmEnv, mapping: AddressSpace, off: number, len: number, into?: Uint8Array): Uint8Array {
  const end = Math.min(off + len, mapping.i_size)
  if (end <= off) return (into ?? new Uint8Array(0)).subarray(0, 0)
  const out = into ?? new Uint8Array(end - off)
  return out.subarray(0, file_read_into(env, mapping, off, end - off, out))
}

/**
 * file_read() into `out` from its byte 0 (len <= out.length, [off, off+len)
 * inside i_size): the bytes copied, fewer when a swapped-out tmpfs page
 * cannot be read back (no memory).
 */
export function file_read_into(env: MmEnv, mapping: AddressSpace, off: number, len: number, out: Uint8Array): number {
  const end = off + len
  for (let pos = off, n = 0; pos < end; pos += n) {
    const o = offset_in_page(pos)
    n = page_chunk(pos, end - pos)
    let pfn = mapping.i_pages.get(PFN_DOWN(pos))
    const entry = pfn === undefined ? mapping.i_swap.get(PFN_DOWN(pos)) : undefined
    if (entry !== undefined) {
      // shmem_file_read_iter() -> shmem_get_folio(SGP_READ): a swapped page is read back; without memory the read is short.
      pfn = shmem_swapin_folio(env, mapping, PFN_DOWN(pos), entry)
      if (pfn < 0) return pos - off
    }
    if (pfn !== undefined) env.physmem.copy_out(pfn, o, out, pos - off, n)
    else out.fill(0, pos - off, pos - off + n)
  }
  return len
}

/**
 * Kernel: generic_perform_write(): write data at off, extending i_size,
 * dirtying every page written. Returns bytes written or -ENOMEM / -ENOSPC
 * when nothing could be.
 */
export function file_write(env: MmEnv, mapping: AddressSpace, off: number, data: Uint8Array): number {
  // ext4_zero_partial_blocks() on the old EOF block when a write leaves a gap: the gap's part
  // of that block is zeroed and the page dirtied.
  if (off > mapping.i_size && data.length) ext4_zero_eof_tail(env, mapping, mapping.i_size, off, true)
  let done = 0
  for (let n = 0; done < data.length; done += n) {
    const pos = off + done
    const index = PFN_DOWN(pos)
    const o = offset_in_page(pos)
    n = page_chunk(pos, data.length - done)
    const sealed = shmem_write_seals(mapping, pos, n)
    if (sealed) return done > 0 ? done : sealed
    const pfn = grab_cache_page(env, mapping, index)
    if (pfn < 0) return done > 0 ? done : page_errno(pfn)
    env.physmem.write_at(pfn, o, data, done, n)
    set_page_dirty(env, pfn)
    if (pos + n > mapping.i_size) i_size_grow(mapping, pos + n)
  }
  return done
}

/**
 * file_write() of `nr` copies of one page at page index `index`: the same
 * page cache, flags, counters and i_size, but each frame shares `page`
 * (physmem.share(): read-only host bytes, copied on the frame's first
 * write) instead of receiving a copy. For program images, whose object
 * files are hundreds of identical pages (src/kernel/exec.ts). The caller
 * never modifies `page`. Returns bytes written or -ENOMEM.
 */
export function file_write_shared_pages(env: MmEnv, mapping: AddressSpace, index: number, nr: number, page: Uint8Array): number {
  const off = index * PAGE_SIZE
  if (off > mapping.i_size && nr > 0) ext4_zero_eof_tail(env, mapping, mapping.i_size, off, true)
  for (let i = 0; i < nr; i++) {
    const pfn = grab_cache_page(env, mapping, index + i)
    if (pfn < 0) return i > 0 ? i * PAGE_SIZE : page_errno(pfn)
    env.physmem.share(pfn, page)
    set_page_dirty(env, pfn)
    if (off + (i + 1) * PAGE_SIZE > mapping.i_size) i_size_grow(mapping, off + (i + 1) * PAGE_SIZE)
  }
  return nr * PAGE_SIZE
}

/** A page leaving the cache takes the large readahead folio it belonged to with it (the kernel splits or frees that folio). */
function forget_readahead_folio(mapping: AddressSpace, index: number): void {
  if (mapping.ra_folios.size === 0) return
  for (const [head, nr] of mapping.ra_folios) if (index >= head && index < head + nr) mapping.ra_folios.delete(head)
}

/** Kernel: shmem_evict_inode(): drop every page of an object nobody references any more. */
export function shmem_evict(env: MmEnv, mapping: AddressSpace): void {
  for (const index of [...mapping.i_pages.keys()]) delete_from_page_cache(env, mapping, index)
  shmem_free_swap(env, mapping, 0, Infinity)
  clear_shadow_entries(env, mapping, 0, Infinity)
  // inode_io_list_del(): off its wb's dirty list
  mapping_wb(mapping)?.b_dirty.delete(mapping.id)
  env.mappings.delete(mapping.id)
}
