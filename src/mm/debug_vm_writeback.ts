/**
 * The dirty and writeback counts, recounted (Kernel: the accounting that
 * folio_account_dirtied(), folio_clear_dirty_for_io(),
 * folio_start_writeback() and folio_end_writeback() keep in step).
 * Why: a counter that drifts from the page flags skews the dirty limits
 * every writer is throttled by, and meminfo's Dirty and Writeback.
 *
 * After each call only the counters against each other (cheap); the full
 * check walks every frame.
 */
import { KernelBug } from '../include/bug.js'
import { type BdiWriteback, inode_to_bdi } from './backing_dev.js'
import { NR_ZONE_WRITE_PENDING, type Zone } from './mmzone.js'
import { PG_dirty, PG_swapbacked, PG_writeback, type PageArray } from './page.js'
import { NODE_STAT, type VmStat } from './vmstat.js'
import type { AddressSpace } from './mm_types.js'

/** `wb`: the one disk with writeback (every disk file's dirty page is its). */
export function check_writeback(pages: PageArray, vmstat: VmStat, zones: readonly Zone[], wb: BdiWriteback | null, full: boolean, mappings: ReadonlyMap<number, AddressSpace>): void {
  const dirty = vmstat.node_page_state(NODE_STAT.nr_dirty)
  const writeback = vmstat.node_page_state(NODE_STAT.nr_writeback)
  if (dirty < 0 || writeback < 0) throw new KernelBug(`check_writeback: nr_dirty ${dirty}, nr_writeback ${writeback}`)
  // (index loops, no closures: the part above runs after every call)
  let pending = 0
  for (let i = 0; i < zones.length; i++) pending += zones[i].vm_stat[NR_ZONE_WRITE_PENDING]
  if (zones.length && pending !== dirty + writeback) throw new KernelBug(`check_writeback: the zones count ${pending} pages pending write, the node ${dirty} dirty + ${writeback} under writeback`)
  if (wb && (wb.reclaimable !== dirty || wb.writeback !== writeback)) throw new KernelBug(`check_writeback: the disk's wb counts ${wb.reclaimable} dirty and ${wb.writeback} under writeback, the node ${dirty} and ${writeback}`)
  let inflight = 0
  if (wb) for (let i = 0; i < wb.inflight.length; i++) inflight += wb.inflight[i].pfns.length
  if (wb && inflight < writeback) throw new KernelBug(`check_writeback: ${writeback} pages under writeback, fewer in the requests in flight`)
  if (!full) return
  let d = 0
  let w = 0
  const flags = pages.flags
  const dirty_bit = 1 << PG_dirty
  const wb_bit = 1 << PG_writeback
  const sb_bit = 1 << PG_swapbacked
  for (let pfn = 0; pfn < pages.nr; pfn++) {
    const f = flags[pfn]
    // A page-cache page of a file on a disk (mapping_can_writeback()), not shmem: the ones NR_FILE_DIRTY counts.
    if (f & dirty_bit && !(f & sb_bit) && pages.mapping[pfn] > 0) {
      const m = mappings.get(pages.mapping[pfn])
      if (m && m.backing === 'disk' && inode_to_bdi(m).wb) d++
    }
    if (f & wb_bit) w++
  }
  if (d !== dirty) throw new KernelBug(`check_writeback: ${d} dirty file pages, nr_dirty says ${dirty}`)
  if (w !== writeback) throw new KernelBug(`check_writeback: ${w} pages under writeback, nr_writeback says ${writeback}`)
  // A disk file's dirty tag holds exactly its dirty pages; a file with any is on its wb's dirty list.
  for (const mapping of mappings.values()) {
    if (mapping.backing !== 'disk') continue
    let n = 0
    // (forEach: a for-of over the entries made an [index, pfn] pair per cached page)
    mapping.i_pages.forEach((pfn, index) => {
      if (!(flags[pfn] & dirty_bit)) return
      n++
      if (!mapping.dirty_tag.has(index)) throw new KernelBug(`check_writeback: dirty page ${index} of mapping ${mapping.id} is not tagged dirty`)
    })
    if (n !== mapping.dirty_tag.size) throw new KernelBug(`check_writeback: mapping ${mapping.id} tags ${mapping.dirty_tag.size} pages dirty, has ${n}`)
    if (n && wb && !wb.b_dirty.has(mapping.id)) throw new KernelBug(`check_writeback: mapping ${mapping.id} has dirty pages but is not on its wb's dirty list`)
  }
}
