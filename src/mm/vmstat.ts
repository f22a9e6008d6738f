/**
 * Node-wide page counters and VM events (Kernel: include/linux/mmzone.h
 * enum node_stat_item, include/linux/vm_event_item.h, mm/vmstat.c).
 * Subsystems account here; /proc/meminfo, /proc/vmstat and /proc/zoneinfo
 * read from here. Counters of bytes end in _B, as in the kernel. Events are
 * counted by their enum vm_event_item index (vm_event_item.ts): no names,
 * no lookups on the paths that count.
 */
import { NR_VM_EVENT_ITEMS } from './vm_event_item.js'
import { pageblock_order } from './mmzone.js'

export const node_stat_names = [
  'nr_inactive_anon',
  'nr_active_anon',
  'nr_inactive_file',
  'nr_active_file',
  'nr_unevictable',
  'nr_slab_reclaimable',
  'nr_slab_unreclaimable',
  'nr_isolated_anon',
  'nr_isolated_file',
  'workingset_nodes',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_restore_anon',
  'workingset_restore_file',
  'workingset_nodereclaim',
  'nr_anon_pages',
  'nr_mapped',
  'nr_file_pages',
  'nr_dirty',
  'nr_writeback',
  'nr_shmem',
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_hugepages',
  'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages',
  'nr_vmscan_write',
  'nr_vmscan_immediate_reclaim',
  'nr_dirtied',
  'nr_written',
  'nr_throttled_written',
  'nr_kernel_misc_reclaimable',
  'nr_foll_pin_acquired',
  'nr_foll_pin_released',
  'nr_kernel_stack',
  'nr_page_table_pages',
  'nr_sec_page_table_pages',
  'nr_iommu_pages',
  'nr_swapcached',
  'pgpromote_success',
  'pgpromote_candidate',
  'pgpromote_candidate_nrl',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
  'pgdemote_proactive',
  'nr_hugetlb',
  'nr_balloon_pages',
  'nr_kernel_file_pages',
] as const
export type NodeStatItem = (typeof node_stat_names)[number]

/** Index of every node_stat_item by name, e.g. NODE_STAT.nr_anon_pages. */
export const NODE_STAT = Object.fromEntries(node_stat_names.map((n, i) => [n, i])) as Record<NodeStatItem, number>

/** Byte-valued items are kept in bytes; the rest in pages (NR_KERNEL_STACK_KB in kB). */
export const NR_SLAB_RECLAIMABLE_B = NODE_STAT.nr_slab_reclaimable
export const NR_SLAB_UNRECLAIMABLE_B = NODE_STAT.nr_slab_unreclaimable

/** The zone counters of an allocator-less VmStat (unit tests): written, never read. */
const NO_ZONE_STAT = new Float64Array(16)

export class VmStat {
  /** Node counters (single node). */
  readonly node = new Float64Array(node_stat_names.length)
  /**
   * Kernel: vm_event_states.event[], indexed by enum vm_event_item
   * (vm_event_item.ts). Per CPU in the kernel; one array here, which is the
   * sum all_vm_events() makes.
   */
  readonly vm_event_states = new Float64Array(NR_VM_EVENT_ITEMS)
  /**
   * The zone counters (vm_stat) of the zone a page is in (Kernel:
   * page_zone(page)->vm_stat), for the per-zone LRU sizes: the zone index
   * of each pageblock (zones are pageblock aligned) and each zone's
   * counters, which the machine fills in at boot. Data, not a callback: an
   * LRU move updates them on every fault.
   */
  zone_of_block: Int8Array = new Int8Array(0)
  zone_vm_stat: Float64Array[] = []

  /** Kernel: page_zone(page)->vm_stat (an allocator-less VmStat's counters are written, never read). */
  page_zone_stat(pfn: number): Float64Array {
    return this.zone_vm_stat[this.zone_of_block[pfn >>> pageblock_order]] ?? NO_ZONE_STAT
  }

  mod_node_page_state(item: number, delta: number): void {
    this.node[item] += delta
  }
  node_page_state(item: number): number {
    return this.node[item]
  }
  /** Kernel: count_vm_event(). */
  count_vm_event(item: number): void {
    this.vm_event_states[item]++
  }
  /** Kernel: count_vm_events(). */
  count_vm_events(item: number, delta: number): void {
    this.vm_event_states[item] += delta
  }
  /**
   * Kernel: __count_zid_vm_events(item, zid, delta) for a FOR_ALL_ZONES()
   * group given by its first slot (PGALLOC_DMA, ...): the slots are in
   * zone_idx order, as the kernel's item##_NORMAL - ZONE_NORMAL + zid.
   */
  __count_zid_vm_events(first: number, zid: number, delta: number): void {
    this.vm_event_states[first + zid] += delta
  }
}
