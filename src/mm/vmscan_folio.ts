/**
 * What reclaim does with each folio it took off an inactive list (Kernel:
 * mm/vmscan.c shrink_folio_list(), folio_check_references(),
 * __remove_mapping(), pageout(), and move_folios_to_lru() for the folios
 * it kept).
 *
 * A folio whose mappings were used since the last look is kept or
 * activated; one referenced only through PG_referenced (a read()) is
 * reclaimed if clean. Anonymous folios need swap (add_to_swap), shmem
 * folios are written to swap by shmem_writeout(); mapped
 * folios are unmapped first. A file folio under writeback gets PG_reclaim
 * and goes back active (rotated to the inactive tail when its write ends),
 * or, for cgroup v1 reclaim finding it already marked, is waited for
 * (docs/writeback.md). A dirty file folio is not written here: it gets
 * PG_reclaim and goes back active until the flusher has written it
 * (vmscan.ts wakes the flusher; vmscan_throttle.ts waits for it). A clean
 * unmapped page-cache folio leaves a shadow entry in its
 * slot (workingset_eviction) and is freed.
 */
import { __GFP_FS, __GFP_IO } from './gfp.js'
import { type Lruvec, folio_is_file_lru, lruvec_add_folio } from './lruvec.js'
import type { MemCgroup } from './memcontrol.js'
import { type AddressSpace, type MmEnv, VM_EXEC, VM_LOCKED, vm_flags_test } from './mm_types.js'
import { PG_active, PG_dirty, PG_lru, PG_mlocked, PG_reclaim, PG_referenced, PG_swapbacked, PG_swapcache, PG_writeback } from './page.js'
import { folio_referenced, put_page } from './rmap.js'
import { try_to_unmap } from './rmap_unmap.js'
import { swap_writepage } from './page_io.js'
import { __delete_from_swap_cache, add_to_swap, folio_free_swap } from './swap_state.js'
import { put_swap_folio, vm_swap_full } from './swapfile.js'
import { remove_mapping_for_reclaim, shmem_writeout } from './shmem.js'
import { inode_to_bdi, type BackingDevInfo } from './backing_dev.js'
import { filemap_write_and_wait_range } from './fs_writeback.js'
import { NODE_STAT } from './vmstat.js'
import { folio_wait_writeback } from './page_writeback.js'
import { folio_add_lru, folio_evictable } from './swap.js'
import { PGACTIVATE, PGLAZYFREED } from './vm_event_item.js'
import { workingset_age_nonresident, workingset_eviction } from './workingset.js'
import { page_ptr } from './mm_trace.js'

/** One reclaim explanation: pfn, what it is, the verdict (reclaim, activate, keep) and why. */
function xp_verdict(env: MmEnv, pfn: number, verdict: string, why: string): void {
  const pages = env.pages
  env.trace.explain('reclaim', () =>
    `shrink_folio_list: pfn 0x${pfn.toString(16)} (${pages.mapping[pfn] < 0 ? 'anon' : 'file'}, mapcount ${Math.max(0, pages._mapcount[pfn])}${pages.test(pfn, PG_dirty) ? ', dirty' : ''}): ${verdict}: ${why}`,
  )
}

/** enum folio_references. */
export const FOLIOREF_RECLAIM = 0
export const FOLIOREF_RECLAIM_CLEAN = 1
export const FOLIOREF_KEEP = 2
export const FOLIOREF_ACTIVATE = 3

/** The part of struct scan_control shrink_folio_list() reads and updates. */
export interface FolioScan {
  gfp_mask: number
  may_unmap: boolean
  may_writepage: boolean
  target_mem_cgroup: MemCgroup | null
  nr_scanned: number
}

/** struct reclaim_stat. */
export interface ReclaimStat {
  nr_dirty: number
  nr_unqueued_dirty: number
  nr_congested: number
  nr_writeback: number
  nr_immediate: number
  nr_pageout: number
  nr_activate: [number, number]
  nr_ref_keep: number
  nr_unmap_fail: number
  /** The disks of the dirty folios not yet queued for I/O (whose flushers a scan of nothing else wakes); null: none. */
  dirty_bdis: Set<BackingDevInfo> | null
}

export function reclaim_stat(): ReclaimStat {
  return { nr_dirty: 0, nr_unqueued_dirty: 0, nr_congested: 0, nr_writeback: 0, nr_immediate: 0, nr_pageout: 0, nr_activate: [0, 0], nr_ref_keep: 0, nr_unmap_fail: 0, dirty_bdis: null }
}

/** Kernel: folio_mapping(): the page-cache object of a file folio (a negative id is an anon_vma's); undefined for none. */
function folio_mapping(env: MmEnv, pfn: number): AddressSpace | undefined {
  const id = env.pages.mapping[pfn]
  return id > 0 ? env.mappings.get(id) : undefined
}

/**
 * Kernel: writeback_throttling_sane(): global reclaim, or cgroup reclaim on
 * the v2 hierarchy, is throttled by the dirty limits and may skip folios
 * under writeback; cgroup v1 reclaim (every memcg here) is not.
 */
export function writeback_throttling_sane(sc: FolioScan): boolean {
  return sc.target_mem_cgroup === null
}

/** Kernel: folio_check_references(). */
export function folio_check_references(env: MmEnv, pfn: number, sc: FolioScan): number {
  const pages = env.pages
  const { referenced, vm_flags } = folio_referenced(env, pfn, sc.target_mem_cgroup)
  const referenced_folio = pages.test(pfn, PG_referenced)
  pages.clear(pfn, PG_referenced)
  if (vm_flags_test(vm_flags, VM_LOCKED)) return FOLIOREF_ACTIVATE
  if (referenced) {
    // Every mapped folio starts with a reference from its fault: look twice before activating.
    pages.set(pfn, PG_referenced)
    if (referenced_folio || referenced > 1) return FOLIOREF_ACTIVATE
    if (vm_flags_test(vm_flags, VM_EXEC) && folio_is_file_lru(pages, pfn)) return FOLIOREF_ACTIVATE
    return FOLIOREF_KEEP
  }
  if (referenced_folio && folio_is_file_lru(pages, pfn)) return FOLIOREF_RECLAIM_CLEAN
  return FOLIOREF_RECLAIM
}

/**
 * Kernel: shrink_folio_list(): try to free each folio of `list` (oldest
 * first). Returns the number reclaimed; the folios kept are left in
 * `kept`, in the order they were processed, to go back on the LRU.
 * `write_dirty_file`: a dirty file folio is written and waited for here
 * (the page-replacement studies' reclaim, vmscan_replacement.ts), where
 * Linux's reclaim leaves it to the flusher.
 */
export function shrink_folio_list(env: MmEnv, list: readonly number[], sc: FolioScan, stat: ReclaimStat, ignore_references: boolean, kept: number[], write_dirty_file = false): number {
  const pages = env.pages
  let nr_reclaimed = 0
  let pgactivate = 0
  const xp = env.trace.explaining
  // A folio whose writeback legacy memcg reclaim waited for is tried again, at the end (case 3 below).
  const queue = [...list]
  for (let qi = 0; qi < queue.length; qi++) {
    const pfn = queue[qi]
    sc.nr_scanned++
    let activate = false
    // For explanations: the verdict's reason (set on every path; only read when someone listens).
    let why = ''
    outcome: {
      if (!folio_evictable(env, pfn)) {
        why = 'unevictable (mlocked or on an unevictable mapping)'
        activate = true
        break outcome
      }
      const mapped = pages._mapcount[pfn] > 0
      if (!sc.may_unmap && mapped) {
        why = 'mapped, and this reclaim may not unmap'
        break outcome
      }
      const file = folio_is_file_lru(pages, pfn)
      const anon = pages.mapping[pfn] < 0
      const lazyfree = anon && !pages.test(pfn, PG_swapbacked)
      const dirty = file && !lazyfree && pages.test(pfn, PG_dirty)
      const writeback = file && !lazyfree && pages.test(pfn, PG_writeback)
      if (dirty || writeback) stat.nr_dirty++
      if (dirty && !writeback) {
        stat.nr_unqueued_dirty++
        const m = folio_mapping(env, pfn)
        if (m) (stat.dirty_bdis ??= new Set()).add(inode_to_bdi(m))
      }
      if (writeback && pages.test(pfn, PG_reclaim)) stat.nr_congested++
      if (writeback) {
        // A file folio under writeback at the tail of the LRU. Case 1 (kswapd meeting many of them,
        // PGDAT_WRITEBACK) is not modelled: kswapd takes case 2.
        const may_enter_fs = (sc.gfp_mask & __GFP_FS) !== 0
        if (writeback_throttling_sane(sc) || !pages.test(pfn, PG_reclaim) || !may_enter_fs) {
          // Case 2: mark it for immediate reclaim when its write ends (folio_rotate_reclaimable()) and move on.
          pages.set(pfn, PG_reclaim)
          stat.nr_writeback++
          why = 'under writeback: PG_reclaim set, to the inactive tail when the write ends'
          activate = true
          break outcome
        }
        // Case 3: cgroup v1 reclaim has no dirty throttling of its own: it waits for a folio it had
        // marked on an earlier pass, then tries it again.
        folio_wait_writeback(env, pfn)
        if (xp) xp_verdict(env, pfn, 'keep', 'under writeback, marked on an earlier pass: legacy memcg reclaim waits for the write and tries it again')
        queue.push(pfn)
        continue
      }
      const was_referenced = xp && pages.test(pfn, PG_referenced)
      const references = ignore_references ? FOLIOREF_RECLAIM : folio_check_references(env, pfn, sc)
      if (references === FOLIOREF_ACTIVATE) {
        if (xp) why = `folio_check_references: referenced ${was_referenced ? 'again (PG_referenced was set)' : 'through more than one PTE, an executable file page or VM_LOCKED'}`
        activate = true
        break outcome
      }
      if (references === FOLIOREF_KEEP) {
        why = 'folio_check_references: young PTE seen for the first time, PG_referenced set, kept for one more round'
        stat.nr_ref_keep++
        break outcome
      }
      if (anon && !lazyfree && !pages.test(pfn, PG_swapcache)) {
        if ((sc.gfp_mask & __GFP_IO) === 0) {
          why = 'anonymous and the allocation may not do I/O (no __GFP_IO)'
          break outcome
        }
        if (!add_to_swap(env, pfn)) {
          why = 'anonymous and add_to_swap found no swap slot'
          activate = true
          break outcome
        }
      }
      if (mapped) {
        // try_to_unmap(): anonymous pages become swap entries; a clean lazily freed one goes
        // with its last mapping; a dirty one is swap-backed again and stays.
        const unmapped = try_to_unmap(env, pfn)
        if (lazyfree && unmapped) {
          env.vmstat.count_vm_event(PGLAZYFREED)
          nr_reclaimed++
          if (xp) xp_verdict(env, pfn, 'reclaim', 'clean MADV_FREE page: freed with its last mapping')
          continue
        }
        if (!unmapped || pages._mapcount[pfn] > 0) {
          why = 'try_to_unmap could not remove every mapping'
          stat.nr_unmap_fail++
          activate = true
          break outcome
        }
      }
      const shmem = !anon && pages.test(pfn, PG_swapbacked)
      if (pages.test(pfn, PG_dirty) && file && write_dirty_file) {
        // A study policy's victim (vmscan_replacement.ts, `write_dirty_file`) is written and waited
        // for here, so what goes is the policy's choice, not whatever the flusher cleaned first.
        const m = folio_mapping(env, pfn)
        if (m && m.backing === 'disk') filemap_write_and_wait_range(env, m, pages.index[pfn], pages.index[pfn])
        if (pages.test(pfn, PG_dirty)) {
          why = 'dirty file page still dirty after writeback: PG_reclaim, back to the young end'
          pages.set(pfn, PG_reclaim)
          activate = true
          break outcome
        }
      } else if (pages.test(pfn, PG_dirty) && file) {
        // Reclaim does not write file folios: marked for immediate reclaim when the flusher's
        // write of it ends (folio_rotate_reclaimable() puts it at the inactive tail), it goes
        // back to the active list meanwhile. shrink_inactive_list() wakes the flusher.
        env.vmstat.mod_node_page_state(NODE_STAT.nr_vmscan_immediate_reclaim, 1)
        pages.set(pfn, PG_reclaim)
        why = 'dirty file page: reclaim does not write it; PG_reclaim, back to the active list until the flusher has written it'
        activate = true
        break outcome
      }
      if (pages.test(pfn, PG_dirty)) {
        if (references === FOLIOREF_RECLAIM_CLEAN || !sc.may_writepage) {
          why = references === FOLIOREF_RECLAIM_CLEAN ? 'dirty, and only clean pages may go (referenced through read())' : 'dirty, and this pass may not write pages yet'
          break outcome
        }
        if (shmem && !pages.test(pfn, PG_swapcache)) {
          // may_enter_fs(), is_page_cache_freeable(), then pageout() -> shmem_writeout(): the
          // folio moves to the swap cache and is written; without swap it is redirtied and
          // activated (AOP_WRITEPAGE_ACTIVATE).
          if ((sc.gfp_mask & __GFP_FS) === 0 || pages._refcount[pfn] !== 1) {
            why = 'dirty shmem page: this pass may not enter the filesystem, or the page is in use'
            break outcome
          }
          if (!shmem_writeout(env, pfn)) {
            why = 'dirty shmem page with no swap to go to: its writepage keeps it (AOP_WRITEPAGE_ACTIVATE)'
            activate = true
            break outcome
          }
        } else {
          // pageout(): the swap-cache folio is written; an asynchronous device keeps it under writeback.
          if (env.trace.enabled) env.trace.emit('mm_vmscan_write_folio', () => `page=${page_ptr(env, pfn)} pfn=0x${pfn.toString(16)} flags=${file ? 'RECLAIM_WB_FILE' : 'RECLAIM_WB_ANON'}|RECLAIM_WB_ASYNC`)
          swap_writepage(env, pfn)
        }
        stat.nr_pageout++
        const si = env.swap.si_of(pages.private[pfn])
        if (!si?.bdev?.synchronous || pages.test(pfn, PG_dirty)) {
          why = 'written to swap (pageout); the device is asynchronous: under writeback, freed on a later pass'
          break outcome
        }
      }
      if (pages._refcount[pfn] !== 1) {
        if (xp) why = `someone else holds a reference (refcount ${pages._refcount[pfn]})`
        break outcome
      }
      // __remove_mapping(): the slot keeps a shadow of the evicted folio.
      const shadow = workingset_eviction(env.memcg, pages, pfn, sc.target_mem_cgroup)
      if (xp) {
        const how = pages.test(pfn, PG_swapcache) ? `anonymous: swapped out to entry 0x${pages.private[pfn].toString(16)}, a shadow left in the swap cache` : 'clean page-cache page: dropped from the page cache, a shadow left in its slot'
        xp_verdict(env, pfn, 'reclaim', `${ignore_references ? 'references ignored (MADV_PAGEOUT); ' : 'not referenced since the last scan; '}${how}`)
      }
      if (pages.test(pfn, PG_swapcache)) {
        const entry = pages.private[pfn]
        __delete_from_swap_cache(env, pfn, entry, shadow)
        env.memcg.mem_cgroup_swapout(pfn, entry)
        put_swap_folio(env, entry)
        put_page(env, pfn)
      } else {
        const mapping = folio_mapping(env, pfn)
        if (!mapping) {
          why = 'no mapping to remove it from'
          break outcome
        }
        remove_mapping_for_reclaim(env, mapping, pages.index[pfn], pfn, shadow)
      }
      nr_reclaimed++
      continue
    }
    if (xp) xp_verdict(env, pfn, activate ? 'activate' : 'keep', why)
    // Not a candidate for swapping after all: give back its slot when swap runs short.
    if (activate && pages.test(pfn, PG_swapcache) && (vm_swap_full(env) || pages.test(pfn, PG_mlocked))) folio_free_swap(env, pfn)
    if (activate && !pages.test(pfn, PG_mlocked)) {
      pages.set(pfn, PG_active)
      stat.nr_activate[folio_is_file_lru(pages, pfn) ? 1 : 0]++
      pgactivate++
    }
    kept.push(pfn)
  }
  if (pgactivate) env.vmstat.count_vm_events(PGACTIVATE, pgactivate)
  return nr_reclaimed
}

/**
 * Kernel: move_folios_to_lru(): put folios back, each at the head of its
 * list, in the order given (so the last one ends up youngest). Returns how
 * many went on the list; active ones tick the workingset clock.
 */
export function move_folios_to_lru(env: MmEnv, lruvec: Lruvec, folios: readonly number[]): number {
  const pages = env.pages
  let moved = 0
  for (const pfn of folios) {
    if (!folio_evictable(env, pfn)) {
      folio_add_lru(env, pfn)
      continue
    }
    pages.set(pfn, PG_lru)
    lruvec_add_folio(lruvec, pages, env.vmstat, pfn)
    moved++
    if (pages.test(pfn, PG_active)) workingset_age_nonresident(env.memcg, lruvec, 1)
  }
  return moved
}
