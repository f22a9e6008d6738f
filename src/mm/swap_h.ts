/**
 * Swap areas and entries: struct swap_info_struct, swp_entry_t, the swap
 * map's count bytes and the machine-wide swap state (Kernel:
 * include/linux/swap.h, include/linux/swapops.h, mm/swap.h).
 *
 * A swp_entry_t here is a number: type * 2^26 + offset (type 0..31, offset
 * below 2^26 pages, so a device is at most 256 GiB; swapon truncates a
 * bigger one as Linux truncates an area past swapfile_maximum_size). 0 is
 * never a valid entry (offset 0 of every device is its header), and the
 * value fits page->private (Int32). The PTE form is src/arch/pte.ts's.
 *
 * Per device, one byte per slot (swap_map): the number of references held
 * by page tables (and shmem mappings) in the low bits, SWAP_HAS_CACHE when
 * a folio for the slot is in the swap cache. Counts past SWAP_MAP_MAX go to
 * `continued` (Linux chains continuation pages; mmsim does not charge them).
 * The swap cache of a device is two arrays by offset: the folio (pfn + 1, 0
 * none) and the shadow a reclaimed folio left (0 none). Clusters of
 * SWAPFILE_CLUSTER slots carry a use count and the list they are on, which
 * decides the offsets allocation hands out (swapfile.ts).
 */
import type { SwapBlockDevice } from '../hw/swap_bdev.js'

/**
 * Kernel: MAX_SWAPFILES: 32 types minus the reserved ones of the reference
 * kernel's configuration (3 migration types, the PTE marker; no
 * CONFIG_DEVICE_PRIVATE, no CONFIG_MEMORY_FAILURE).
 */
export const MAX_SWAPFILES = 28
/** Offset bits of mmsim's swp_entry_t (see the top of the file). */
export const SWP_OFFSET_BITS = 26
const OFFSET_SCALE = 2 ** SWP_OFFSET_BITS

/** Kernel: SWAPFILE_CLUSTER (HPAGE_PMD_NR with CONFIG_THP_SWAP). */
export const SWAPFILE_CLUSTER = 512

// swap_map byte values (include/linux/swap.h)
/** Kernel: SWAP_HAS_CACHE: the slot's folio is in the swap cache. */
export const SWAP_HAS_CACHE = 0x40
/** Kernel: SWAP_MAP_MAX: the most references a map byte counts. */
export const SWAP_MAP_MAX = 0x3e
/** Kernel: SWAP_MAP_BAD: a bad page (and the header). */
export const SWAP_MAP_BAD = 0x3f
/** Kernel: COUNT_CONTINUED: more references are counted elsewhere. */
export const COUNT_CONTINUED = 0x80

// swap_info_struct.flags (enum in include/linux/swap.h)
export const SWP_USED = 1 << 0
export const SWP_WRITEOK = 1 << 1
export const SWP_DISCARDABLE = 1 << 2
export const SWP_DISCARDING = 1 << 3
export const SWP_SOLIDSTATE = 1 << 4
export const SWP_CONTINUED = 1 << 5
export const SWP_BLKDEV = 1 << 6
export const SWP_ACTIVATED = 1 << 7
export const SWP_FS_OPS = 1 << 8
export const SWP_AREA_DISCARD = 1 << 9
export const SWP_PAGE_DISCARD = 1 << 10
export const SWP_STABLE_WRITES = 1 << 11
export const SWP_SYNCHRONOUS_IO = 1 << 12

// swapon(2) flags (include/uapi/linux/swap.h via linux/swap.h)
export const SWAP_FLAG_PREFER = 0x8000
export const SWAP_FLAG_PRIO_MASK = 0x7fff
export const SWAP_FLAG_DISCARD = 0x10000
export const SWAP_FLAG_DISCARD_ONCE = 0x20000
export const SWAP_FLAG_DISCARD_PAGES = 0x40000
export const SWAP_FLAGS_VALID = SWAP_FLAG_PRIO_MASK | SWAP_FLAG_PREFER | SWAP_FLAG_DISCARD | SWAP_FLAG_DISCARD_ONCE | SWAP_FLAG_DISCARD_PAGES

/** Which list a cluster is on (enum of CLUSTER_FLAG_*: the list is the flag). */
export const CLUSTER_FLAG_NONE = 0 // isolated: being scanned, or a CPU's current cluster
export const CLUSTER_FLAG_FREE = 1
export const CLUSTER_FLAG_NONFULL = 2
export const CLUSTER_FLAG_FRAG = 3
export const CLUSTER_FLAG_FULL = 4

/** Kernel: swp_entry(). */
export function swp_entry(type: number, offset: number): number {
  return type * OFFSET_SCALE + offset
}
/** Kernel: swp_type(). */
export function swp_type(entry: number): number {
  return Math.floor(entry / OFFSET_SCALE)
}
/** Kernel: swp_offset(). */
export function swp_offset(entry: number): number {
  return entry % OFFSET_SCALE
}

/** What the swap state knows of an mm_struct (mm_types.ts's MmStruct, without importing it). */
export interface SwapMm {
  readonly dead: boolean
}

/** struct swap_info_struct: one swap area. */
export class SwapInfoStruct {
  flags = 0
  /** Priority: higher is used first (a negative default is given in swapon order). */
  prio = 0
  /** The area's slots, header included (si->max). */
  max = 0
  /** Usable slots (si->pages: max minus the header and bad pages). */
  pages = 0
  /** Slots with a count or SWAP_HAS_CACHE (si->inuse_pages). */
  inuse_pages = 0
  /** One byte per slot (si->swap_map). */
  swap_map: Uint8Array = new Uint8Array(0)
  /** References past SWAP_MAP_MAX, by offset (the continuation pages' counts). */
  readonly continued = new Map<number, number>()
  /** The swap cache of this area: pfn + 1 of the folio at each offset, 0 for none. */
  cache: Int32Array = new Int32Array(0)
  /** The shadow entry a reclaimed folio left at each offset (workingset), 0 for none. */
  shadow: Float64Array = new Float64Array(0)
  /** Per cluster: slots in use (bad ones included) and the list it is on. */
  cluster_count: Uint16Array = new Uint16Array(0)
  cluster_flags: Uint8Array = new Uint8Array(0)
  /** The cluster lists, cluster indexes in list order (free, nonfull, frag, full). */
  readonly free_clusters: number[] = []
  readonly nonfull_clusters: number[] = []
  readonly frag_clusters: number[] = []
  readonly full_clusters: number[] = []
  /** A rotational device's allocation point (si->global_cluster->next[0]); 0 when none. */
  global_next = 0
  /** The device (si->bdev) and the name swapon was given (si->swap_file's path). */
  bdev: SwapBlockDevice | null = null
  swap_file = ''
  constructor(readonly type: number) {}
}

/**
 * The machine's swap: swap_info[], the priority-ordered lists and the
 * totals (Kernel: the statics of mm/swapfile.c and mm/swap_state.c).
 */
export class SwapState {
  /** Kernel: swap_info[MAX_SWAPFILES]; nr_swapfiles is its length. */
  readonly swap_info: SwapInfoStruct[] = []
  /** Kernel: swap_active_head: areas swapped on, by priority (highest first, equal ones in insertion order). */
  readonly active: SwapInfoStruct[] = []
  /** Kernel: swap_avail_head: the active areas that are not full, same order, rotated on use. */
  readonly avail: SwapInfoStruct[] = []
  /** Kernel: nr_swap_pages (free slots of writable areas) and total_swap_pages. */
  nr_swap_pages = 0
  total_swap_pages = 0
  /** Kernel: least_priority: the last default priority handed out. */
  least_priority = -1
  /** Kernel: nr_rotate_swap: active areas on rotational devices (then readahead is by swap offset). */
  nr_rotate_swap = 0
  /** Kernel: percpu_swap_cluster: each CPU's current area and next offset (order 0). */
  readonly pcp_si: (SwapInfoStruct | null)[]
  readonly pcp_offset: Int32Array
  /** Kernel: swapin_readahead_hits, and swapin_nr_pages()'s prev_offset / last_readahead_pages. */
  readahead_hits = 0
  ra_prev_offset = 0
  ra_last_pages = 0
  /** Kernel: vm.page-cluster (log2 of the readahead window). */
  page_cluster = 3
  /** Block devices swapon can open, by dev_t (the machine's zram and disk devices). */
  readonly bdevs = new Map<number, SwapBlockDevice>()
  /**
   * Kernel: init_mm.mmlist: the address spaces that may hold swap entries
   * (try_to_unuse() walks them). An mm joins at its first swap entry; dead
   * ones are dropped when the list is walked.
   */
  readonly mmlist = new Set<SwapMm>()

  constructor(
    nr_cpus: number,
    /** The CPU the calling code runs on (percpu_swap_cluster is per CPU). */
    readonly this_cpu: () => number,
    /** The kernel log: printk(level, text) (3 KERN_ERR, 4 KERN_WARNING, 6 KERN_INFO). */
    readonly printk: (level: number, text: string) => void,
  ) {
    this.pcp_si = new Array<SwapInfoStruct | null>(nr_cpus).fill(null)
    this.pcp_offset = new Int32Array(nr_cpus)
  }

  /** Kernel: swap_type_to_swap_info() / __swap_entry_to_info(): the area of an entry, or null. */
  si_of(entry: number): SwapInfoStruct | null {
    const si = this.swap_info[swp_type(entry)] as SwapInfoStruct | undefined
    return si && (si.flags & SWP_USED) !== 0 ? si : null
  }
}
