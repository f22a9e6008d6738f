/**
 * What /proc reads of a machine (Kernel: fs/proc/internal.h): a narrow view
 * of the kernel's state, so a /proc file cannot reach anything its seq_file
 * show function in Linux could not. The machine builds one at boot
 * (src/machine.ts); nothing here imports the machine.
 */
import type { ArchProfile } from '../../arch/profile.js'
import type { BootMemory } from '../../mm/mm_init.js'
import type { PageAllocator } from '../../mm/page_alloc.js'
import type { VmStat } from '../../mm/vmstat.js'
import type { SlabAllocator } from '../../mm/slab_common.js'
import type { Vmalloc } from '../../mm/vmalloc.js'
import type { MmEntry } from '../../kernel/mm_entry.js'
import type { TaskStruct } from '../../kernel/task.js'
import type { MmSysctl } from '../../mm/mm_types.js'
import type { BlockDevice } from '../../hw/blkdev.js'
import type { DropCaches } from '../drop_caches.js'
import type { IomemResource } from '../../mm/resource.js'
import type { CoredumpSysctl } from '../../kernel/fork.js'

export interface ProcView {
  readonly arch: ArchProfile
  /** nr_cpu_ids. */
  readonly cpus: number
  /** The firmware map, memblock and kernel image of the boot. */
  readonly boot: BootMemory
  /** The iomem resource tree (/proc/iomem). */
  readonly iomem: IomemResource
  readonly page_alloc: PageAllocator
  readonly vmstat: VmStat
  readonly slab: SlabAllocator
  readonly vmalloc: Vmalloc
  /** vm_committed_as in pages (Committed_AS). */
  readonly vm_committed_as: number
  /** Kernel: vm_commit_limit(), in pages. */
  vm_commit_limit(): number
  readonly swap_total_pages: number
  readonly swap_free_pages: number
  /** /proc/swaps (src/mm/swapfile_swapon.ts swaps_show). */
  swaps_show(): string
  /** VMALLOC_END - VMALLOC_START (VmallocTotal). */
  readonly vmalloc_total_bytes: number
  /** Pages in vmalloc areas (VmallocUsed). */
  vmalloc_used_pages(): number
  /** Every task not yet reaped, by pid. */
  readonly tasks: ReadonlyMap<number, TaskStruct>
  /** The mm entry points (smaps walks, pagemap entries, inode numbers). */
  readonly mm: MmEntry
  /** Kernel: chrdev_show() for every major: the "Character devices:" lines. */
  chrdev_show(): string
  /** The vm.* sysctls the mm code reads (overcommit, max_map_count, swappiness, reserves). */
  readonly sysctl: MmSysctl
  /** vm.min_free_kbytes; setting it recomputes the zones' watermarks (setup_per_zone_wmarks()). */
  readonly min_free_kbytes: number
  set_min_free_kbytes(kbytes: number): void
  /** vm.page-cluster: log2 of the pages swap readahead reads. */
  page_cluster: number
  /** The simulated clock, ns since boot. */
  now(): number
  /** The disks /proc/diskstats lists, in registration order (the root disk, then swap devices). */
  block_devices(): BlockDevice[]
  /** After a write to vm.dirty_writeback_centisecs: wake the flushers (wakeup_flusher_threads()). */
  wakeup_flusher_threads(): void
  /** After a write to vm.dirty_ratio / dirty_bytes (writeback_set_ratelimit()). */
  writeback_set_ratelimit(): void
  /** vm.watermark_scale_factor (fixed in mmsim). */
  readonly watermark_scale_factor: number
  /** kernel.core_pattern and kernel.core_uses_pid (fs/coredump.ts). */
  readonly coredump: CoredumpSysctl
  /** kernel.randomize_va_space. */
  randomize_va_space: number
  /** vm.drop_caches. */
  readonly drop_caches: DropCaches
  /** X86_FEATURE_PCID in use: the TLB tags entries with PCIDs (MachineOptions.pcid). */
  readonly pcid: boolean
  /** Per-CPU time accounting of the simulated clock (/proc/stat). */
  readonly cpustat: { readonly now_ns: number; readonly system_ns: readonly number[]; readonly iowait_ns: readonly number[] }
  /** Interrupt lines and how often each was handled (kstat_irqs_usr()). */
  readonly nr_irqs: number
  irq_count(irq: number): number
  /** Kernel: nr_context_switches(). */
  readonly nr_switches: number
  /** Kernel: total_forks. */
  readonly total_forks: number
  /** Kernel: nr_running(), nr_iowait(). */
  nr_running(): number
  nr_iowait(): number
}

/** A /proc file the reader may not open (a write-only sysctl): like open(2) it fails with EACCES. */
export class ProcAccessDenied extends Error {
  readonly code = 'EACCES'
  constructor(path: string) {
    super(`EACCES: permission denied, open '${path}'`)
    this.name = 'ProcAccessDenied'
  }
}

/** A /proc path mmsim does not have: like open(2) it fails with ENOENT. */
export class ProcNotFound extends Error {
  readonly code = 'ENOENT'
  constructor(path: string) {
    super(`ENOENT: no such file or directory, open '${path}'`)
    this.name = 'ProcNotFound'
  }
}
