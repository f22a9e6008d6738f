/**
 * shrink_lruvec() for a machine whose page-replacement policy is not
 * Linux's (MachineOptions.reclaim; the policies are in replacement.ts).
 *
 * Everything around it stays the kernel's: who reclaims and how much (a
 * memory cgroup over its limit asks for SWAP_CLUSTER_MAX pages at least,
 * kswapd until the high watermark, direct reclaim for an allocation), and
 * what freeing a page takes (shrink_folio_list(): unmapping it through
 * rmap, swapping an anonymous one out, leaving a shadow entry). A dirty
 * file page is written back and waited for in reclaim, where Linux's
 * reclaim leaves it to the flusher: the victim is the policy's choice. Only the order changes: one victim at a time,
 * the policy's, until the request is met or nothing evictable is left.
 * Anonymous pages are candidates when they could be swapped (swap space,
 * may_swap, and a swappiness above 0 in cgroup reclaim), as for Linux.
 * A page that cannot be freed now (under writeback, locked) goes back to
 * the young end, as Linux rotates it.
 */
import { LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, type Lruvec, folio_is_file_lru, lruvec_add_folio, lruvec_del_folio } from './lruvec.js'
import type { MemCgroup } from './memcontrol.js'
import type { MmEnv } from './mm_types.js'
import { PG_active, PG_lru, PG_referenced } from './page.js'
import type { Replacement } from './replacement.js'
import { folio_referenced } from './rmap.js'
import { type FolioScan, move_folios_to_lru, reclaim_stat, shrink_folio_list } from './vmscan_folio.js'
import { PGSCAN_ANON, PGSCAN_DIRECT, PGSCAN_KSWAPD, PGSTEAL_ANON, PGSTEAL_DIRECT, PGSTEAL_KSWAPD } from './vm_event_item.js'

/** What this reclaim reads and updates of struct scan_control. */
export interface ReplacementScan extends FolioScan {
  nr_to_reclaim: number
  nr_reclaimed: number
  kswapd: boolean
}

/**
 * The next victim of lruvec under `r`'s policy, taken off its list (PG_lru
 * cleared), or -1 when no candidate is left. `clock` gives referenced
 * pages their second chance here; `budget` bounds the sweep.
 */
function isolate_victim(env: MmEnv, r: Replacement, lruvec: Lruvec, anon: boolean, sc: FolioScan, budget: { n: number }): number {
  const pages = env.pages
  for (;;) {
    let pfn: number
    if (r.policy === 'random') pfn = r.draw(lruvec, anon)
    else {
      const a = anon ? lruvec.lists[LRU_INACTIVE_ANON].tail : -1
      const f = lruvec.lists[LRU_INACTIVE_FILE].tail
      pfn = a < 0 ? f : f < 0 ? a : r.seq[a] < r.seq[f] ? a : f
    }
    if (pfn < 0) return -1
    if (r.policy === 'clock' && budget.n-- > 0) {
      // Kernel-side test-and-clear of the Accessed bits (no TLB flush, as x86's
      // ptep_clear_flush_young), and of PG_referenced for read()/write() uses.
      const young = folio_referenced(env, pfn, sc.target_mem_cgroup).referenced
      const referenced = pages.test(pfn, PG_referenced)
      pages.clear(pfn, PG_referenced)
      if (young > 0 || referenced) {
        // The second chance: behind the hand.
        lruvec_del_folio(lruvec, pages, env.vmstat, pfn)
        lruvec_add_folio(lruvec, pages, env.vmstat, pfn)
        continue
      }
    }
    lruvec_del_folio(lruvec, pages, env.vmstat, pfn)
    pages.clear(pfn, PG_lru)
    return pfn
  }
}

/** Free up to nr_to_reclaim - nr_reclaimed pages of the lruvec, the policy's victims first. */
export function shrink_lruvec_replacement(env: MmEnv, lruvec: Lruvec, memcg: MemCgroup, sc: ReplacementScan, anon: boolean): void {
  const r = env.memcg.replacement as Replacement
  const pages = env.pages
  const vm = env.vmstat
  const global = sc.target_mem_cgroup === null
  // Every candidate once, and (clock) each one a second time after its second chance.
  const candidates = lruvec.size(LRU_INACTIVE_FILE) + (anon ? lruvec.size(LRU_INACTIVE_ANON) : 0)
  const budget = { n: candidates }
  const stat = reclaim_stat()
  for (let tries = 0; sc.nr_reclaimed < sc.nr_to_reclaim && tries < candidates; tries++) {
    const pfn = isolate_victim(env, r, lruvec, anon, sc, budget)
    if (pfn < 0) break
    const file = folio_is_file_lru(pages, pfn) ? 1 : 0
    if (global) vm.count_vm_events(sc.kswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT, 1)
    vm.count_vm_events(PGSCAN_ANON + file, 1)
    memcg.pgscan++
    const kept: number[] = []
    const freed = shrink_folio_list(env, [pfn], sc, stat, true, kept, true)
    // Back at the young end, never on an active list.
    for (const k of kept) pages.clear(k, PG_active)
    move_folios_to_lru(env, lruvec, kept)
    if (global) vm.count_vm_events(sc.kswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, freed)
    vm.count_vm_events(PGSTEAL_ANON + file, freed)
    memcg.pgsteal += freed
    sc.nr_reclaimed += freed
  }
}
