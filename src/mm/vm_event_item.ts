/**
 * The VM event counters (Kernel: include/linux/vm_event_item.h enum
 * vm_event_item, 6.18, as configured on the reference x86-64 machine; the
 * names are mm/vmstat.c vmstat_text's, the order /proc/vmstat prints them
 * in). Not configured there, so absent here: CONFIG_CMA (cma_alloc_*),
 * CONFIG_DEBUG_TLBFLUSH (nr_tlb_* are kept by src/hw/mmu.ts and not
 * printed), CONFIG_PER_VMA_LOCK_STATS, CONFIG_DEBUG_STACK_USAGE.
 *
 * The zone groups (FOR_ALL_ZONES) have one slot per zone of the profile in
 * zone_idx order: x86-64's five zones (DMA, DMA32, Normal, Movable, Device)
 * are the widest, so i386 (DMA, Normal, HighMem, Movable) uses the first
 * four, named by vm_event_text_for() as the kernel's TEXTS_FOR_ZONES() would.
 * VmStat (vmstat.ts) keeps the counters in one array indexed by these items.
 */

export const PGPGIN = 0
export const PGPGOUT = 1
export const PSWPIN = 2
export const PSWPOUT = 3
// FOR_ALL_ZONES(PGALLOC): one slot per zone, in zone_idx order
export const PGALLOC_DMA = 4
export const PGALLOC_DMA32 = 5
export const PGALLOC_NORMAL = 6
export const PGALLOC_MOVABLE = 7
export const PGALLOC_DEVICE = 8
// FOR_ALL_ZONES(ALLOCSTALL)
export const ALLOCSTALL_DMA = 9
export const ALLOCSTALL_DMA32 = 10
export const ALLOCSTALL_NORMAL = 11
export const ALLOCSTALL_MOVABLE = 12
export const ALLOCSTALL_DEVICE = 13
// FOR_ALL_ZONES(PGSCAN_SKIP)
export const PGSCAN_SKIP_DMA = 14
export const PGSCAN_SKIP_DMA32 = 15
export const PGSCAN_SKIP_NORMAL = 16
export const PGSCAN_SKIP_MOVABLE = 17
export const PGSCAN_SKIP_DEVICE = 18
export const PGFREE = 19
export const PGACTIVATE = 20
export const PGDEACTIVATE = 21
export const PGLAZYFREE = 22
export const PGFAULT = 23
export const PGMAJFAULT = 24
export const PGLAZYFREED = 25
export const PGREFILL = 26
export const PGREUSE = 27
export const PGSTEAL_KSWAPD = 28
export const PGSTEAL_DIRECT = 29
export const PGSTEAL_KHUGEPAGED = 30
export const PGSTEAL_PROACTIVE = 31
export const PGSCAN_KSWAPD = 32
export const PGSCAN_DIRECT = 33
export const PGSCAN_KHUGEPAGED = 34
export const PGSCAN_PROACTIVE = 35
export const PGSCAN_DIRECT_THROTTLE = 36
export const PGSCAN_ANON = 37
export const PGSCAN_FILE = 38
export const PGSTEAL_ANON = 39
export const PGSTEAL_FILE = 40
// CONFIG_NUMA
export const PGSCAN_ZONE_RECLAIM_SUCCESS = 41
export const PGSCAN_ZONE_RECLAIM_FAILED = 42
export const PGINODESTEAL = 43
export const SLABS_SCANNED = 44
export const KSWAPD_INODESTEAL = 45
export const KSWAPD_LOW_WMARK_HIT_QUICKLY = 46
export const KSWAPD_HIGH_WMARK_HIT_QUICKLY = 47
export const PAGEOUTRUN = 48
export const PGROTATED = 49
export const DROP_PAGECACHE = 50
export const DROP_SLAB = 51
export const OOM_KILL = 52
// CONFIG_NUMA_BALANCING
export const NUMA_PTE_UPDATES = 53
export const NUMA_HUGE_PTE_UPDATES = 54
export const NUMA_HINT_FAULTS = 55
export const NUMA_HINT_FAULTS_LOCAL = 56
export const NUMA_PAGE_MIGRATE = 57
// CONFIG_MIGRATION
export const PGMIGRATE_SUCCESS = 58
export const PGMIGRATE_FAIL = 59
export const THP_MIGRATION_SUCCESS = 60
export const THP_MIGRATION_FAIL = 61
export const THP_MIGRATION_SPLIT = 62
// CONFIG_COMPACTION
export const COMPACTMIGRATE_SCANNED = 63
export const COMPACTFREE_SCANNED = 64
export const COMPACTISOLATED = 65
export const COMPACTSTALL = 66
export const COMPACTFAIL = 67
export const COMPACTSUCCESS = 68
export const KCOMPACTD_WAKE = 69
export const KCOMPACTD_MIGRATE_SCANNED = 70
export const KCOMPACTD_FREE_SCANNED = 71
// CONFIG_HUGETLB_PAGE
export const HTLB_BUDDY_PGALLOC = 72
export const HTLB_BUDDY_PGALLOC_FAIL = 73
export const UNEVICTABLE_PGCULLED = 74
export const UNEVICTABLE_PGSCANNED = 75
export const UNEVICTABLE_PGRESCUED = 76
export const UNEVICTABLE_PGMLOCKED = 77
export const UNEVICTABLE_PGMUNLOCKED = 78
export const UNEVICTABLE_PGCLEARED = 79
export const UNEVICTABLE_PGSTRANDED = 80
// CONFIG_TRANSPARENT_HUGEPAGE
export const THP_FAULT_ALLOC = 81
export const THP_FAULT_FALLBACK = 82
export const THP_FAULT_FALLBACK_CHARGE = 83
export const THP_COLLAPSE_ALLOC = 84
export const THP_COLLAPSE_ALLOC_FAILED = 85
export const THP_FILE_ALLOC = 86
export const THP_FILE_FALLBACK = 87
export const THP_FILE_FALLBACK_CHARGE = 88
export const THP_FILE_MAPPED = 89
export const THP_SPLIT_PAGE = 90
export const THP_SPLIT_PAGE_FAILED = 91
export const THP_DEFERRED_SPLIT_PAGE = 92
export const THP_UNDERUSED_SPLIT_PAGE = 93
export const THP_SPLIT_PMD = 94
export const THP_SCAN_EXCEED_NONE_PTE = 95
export const THP_SCAN_EXCEED_SWAP_PTE = 96
export const THP_SCAN_EXCEED_SHARED_PTE = 97
// CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD
export const THP_SPLIT_PUD = 98
// CONFIG_TRANSPARENT_HUGEPAGE
export const THP_ZERO_PAGE_ALLOC = 99
export const THP_ZERO_PAGE_ALLOC_FAILED = 100
export const THP_SWPOUT = 101
export const THP_SWPOUT_FALLBACK = 102
// CONFIG_MEMORY_BALLOON (CONFIG_BALLOON_COMPACTION for balloon_migrate)
export const BALLOON_INFLATE = 103
export const BALLOON_DEFLATE = 104
export const BALLOON_MIGRATE = 105
// CONFIG_SWAP (CONFIG_KSM for ksm_swpin_copy)
export const SWAP_RA = 106
export const SWAP_RA_HIT = 107
export const SWPIN_ZERO = 108
export const SWPOUT_ZERO = 109
export const KSM_SWPIN_COPY = 110
// CONFIG_KSM
export const COW_KSM = 111
// CONFIG_ZSWAP
export const ZSWPIN = 112
export const ZSWPOUT = 113
export const ZSWPWB = 114
// CONFIG_X86
export const DIRECT_MAP_LEVEL2_SPLIT = 115
export const DIRECT_MAP_LEVEL3_SPLIT = 116
export const DIRECT_MAP_LEVEL2_COLLAPSE = 117
export const DIRECT_MAP_LEVEL3_COLLAPSE = 118
export const NR_VM_EVENT_ITEMS = 119

/** Zones per FOR_ALL_ZONES() group (MAX_NR_ZONES of the x86-64 build). */
export const NR_ZONE_EVENT_SLOTS = 5

/** Kernel: the vm event part of vmstat_text[] (x86-64 zone names), indexed by enum vm_event_item. */
export const vm_event_text: readonly string[] = [
  'pgpgin',
  'pgpgout',
  'pswpin',
  'pswpout',
  'pgalloc_dma',
  'pgalloc_dma32',
  'pgalloc_normal',
  'pgalloc_movable',
  'pgalloc_device',
  'allocstall_dma',
  'allocstall_dma32',
  'allocstall_normal',
  'allocstall_movable',
  'allocstall_device',
  'pgskip_dma',
  'pgskip_dma32',
  'pgskip_normal',
  'pgskip_movable',
  'pgskip_device',
  'pgfree',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pgfault',
  'pgmajfault',
  'pglazyfreed',
  'pgrefill',
  'pgreuse',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_khugepaged',
  'pgsteal_proactive',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgscan_khugepaged',
  'pgscan_proactive',
  'pgscan_direct_throttle',
  'pgscan_anon',
  'pgscan_file',
  'pgsteal_anon',
  'pgsteal_file',
  'zone_reclaim_success',
  'zone_reclaim_failed',
  'pginodesteal',
  'slabs_scanned',
  'kswapd_inodesteal',
  'kswapd_low_wmark_hit_quickly',
  'kswapd_high_wmark_hit_quickly',
  'pageoutrun',
  'pgrotated',
  'drop_pagecache',
  'drop_slab',
  'oom_kill',
  'numa_pte_updates',
  'numa_huge_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgmigrate_success',
  'pgmigrate_fail',
  'thp_migration_success',
  'thp_migration_fail',
  'thp_migration_split',
  'compact_migrate_scanned',
  'compact_free_scanned',
  'compact_isolated',
  'compact_stall',
  'compact_fail',
  'compact_success',
  'compact_daemon_wake',
  'compact_daemon_migrate_scanned',
  'compact_daemon_free_scanned',
  'htlb_buddy_alloc_success',
  'htlb_buddy_alloc_fail',
  'unevictable_pgs_culled',
  'unevictable_pgs_scanned',
  'unevictable_pgs_rescued',
  'unevictable_pgs_mlocked',
  'unevictable_pgs_munlocked',
  'unevictable_pgs_cleared',
  'unevictable_pgs_stranded',
  'thp_fault_alloc',
  'thp_fault_fallback',
  'thp_fault_fallback_charge',
  'thp_collapse_alloc',
  'thp_collapse_alloc_failed',
  'thp_file_alloc',
  'thp_file_fallback',
  'thp_file_fallback_charge',
  'thp_file_mapped',
  'thp_split_page',
  'thp_split_page_failed',
  'thp_deferred_split_page',
  'thp_underused_split_page',
  'thp_split_pmd',
  'thp_scan_exceed_none_pte',
  'thp_scan_exceed_swap_pte',
  'thp_scan_exceed_share_pte',
  'thp_split_pud',
  'thp_zero_page_alloc',
  'thp_zero_page_alloc_failed',
  'thp_swpout',
  'thp_swpout_fallback',
  'balloon_inflate',
  'balloon_deflate',
  'balloon_migrate',
  'swap_ra',
  'swap_ra_hit',
  'swpin_zero',
  'swpout_zero',
  'ksm_swpin_copy',
  'cow_ksm',
  'zswpin',
  'zswpout',
  'zswpwb',
  'direct_map_level2_splits',
  'direct_map_level3_splits',
  'direct_map_level2_collapses',
  'direct_map_level3_collapses',
]

/** Kernel: TEXT_FOR_DMA() ... TEXT_FOR_DEVICE(): a zone's suffix in the zone groups' names. */
const ZONE_TEXT: Readonly<Record<string, string>> = { DMA: 'dma', DMA32: 'dma32', Normal: 'normal', HighMem: 'high', Movable: 'movable', Device: 'device' }

/** The first slot of each FOR_ALL_ZONES() group, with the name prefix TEXTS_FOR_ZONES() gives it. */
const ZONE_GROUPS: readonly (readonly [number, string])[] = [
  [PGALLOC_DMA, 'pgalloc'],
  [ALLOCSTALL_DMA, 'allocstall'],
  [PGSCAN_SKIP_DMA, 'pgskip'],
]

/**
 * vmstat_text's event names for a profile with these zones (zone_idx
 * order): the zone groups named after its zones, null for a slot the
 * profile has no zone for (not printed).
 */
export function vm_event_text_for(zone_names: readonly string[]): (string | null)[] {
  const text: (string | null)[] = [...vm_event_text]
  for (const [first, prefix] of ZONE_GROUPS) {
    for (let z = 0; z < NR_ZONE_EVENT_SLOTS; z++) text[first + z] = z < zone_names.length ? `${prefix}_${ZONE_TEXT[zone_names[z]]}` : null
  }
  return text
}
