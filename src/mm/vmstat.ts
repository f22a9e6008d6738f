/**
 * Node-wide page counters and VM events (Kernel: include/linux/mmzone.h
 * enum node_stat_item, include/linux/vm_event_item.h, mm/vmstat.c).
 * Subsystems account here; /proc/meminfo, /proc/vmstat and /proc/zoneinfo
 * read from here. Counters of bytes end in _B, as in the kernel.
 */
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

export class VmStat {
  /** Node counters (single node). */
  readonly node = new Float64Array(node_stat_names.length)
  /** VM event counters by name (pgalloc_normal, pgfree, pgfault, ...): one cell per event, one lookup per count. */
  private readonly cells = new Map<string, { n: number }>()
  /** VM events by name, in first-counted order, as /proc/vmstat prints them (a snapshot). */
  get events(): Map<string, number> {
    const m = new Map<string, number>()
    for (const [k, c] of this.cells) m.set(k, c.n)
    return m
  }

  mod_node_page_state(item: number, delta: number): void {
    this.node[item] += delta
  }
  node_page_state(item: number): number {
    return this.node[item]
  }
  count_vm_events(name: string, n = 1): void {
    const c = this.cells.get(name)
    if (c !== undefined) c.n += n
    else this.cells.set(name, { n })
  }
  /** The counter cell of an event, created at 0 on first use (hot paths keep it to count without a lookup). */
  vm_event_cell(name: string): { n: number } {
    let c = this.cells.get(name)
    if (c === undefined) this.cells.set(name, (c = { n: 0 }))
    return c
  }
  event(name: string): number {
    return this.cells.get(name)?.n ?? 0
  }
}
