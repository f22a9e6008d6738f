/**
 * A simulated machine: physical memory, a booted kernel, its log and /proc.
 *
 *   const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1 })
 *   m.kernel.alloc_pages(GFP_KERNEL, 0); m.proc('/proc/buddyinfo'); m.dmesg()
 *
 * Boot follows start_kernel(): setup_arch (e820, memblock reservations),
 * free_area_init (zones), mem_init (memblock_free_all, the "Memory:" line),
 * then the per-CPU pagesets and watermarks (init_per_zone_wmark_min).
 */
import { arg_object, arg_string, ERR_INVALID_ARG_TYPE } from './user/args.js'
import { KernelRandom } from './include/random.js'
import { RECLAIM_POLICIES, Replacement, type ReclaimPolicy } from './mm/replacement.js'
import { oom_memcg } from './kernel/memcg_oom.js'
import { Cgroup, type CgroupOptions } from './user/cgroup.js'
import { memcg_create_files } from './kernel/memcg_v1_files.js'
import { try_to_free_pages } from './mm/vmscan.js'
import { check_lru } from './mm/debug_vm_lru.js'
import { MemcgSubsys } from './mm/memcontrol.js'
import { arch_profile, type ArchName, type ArchProfile } from './arch/profile.js'
import { PhysMem } from './hw/physmem.js'
import { cred_capable, cred_for_uid } from './include/cred.js'
import { KernelBug } from './include/bug.js'
import { Kernel } from './kernel/kernel.js'
import { LINUX_BANNER, UTS_RELEASE } from './include/version.js'
import { WATERMARK_SCALE_FACTOR } from './mm/watermark.js'
import type { MmSysctl } from './mm/mm_types.js'
import { KERN_NOTICE, Printk } from './include/printk.js'
import { Clock } from './hw/clock.js'
import { OomKiller, check_oom_task, oom_control } from './mm/oom_kill.js'
import { OOM_KILL } from './mm/vm_event_item.js'
import { make_oom_host } from './kernel/oom_host.js'
import { Tracer } from './include/trace.js'
import { check_page_alloc } from './mm/debug_vm.js'
import { check_page_alloc_touched } from './mm/debug_vm_touched.js'
import { free_area_init, free_pages_memory, kernel_image, memblock_free_all, parse_size, setup_memory, type BootMemory } from './mm/mm_init.js'
import { IomemResource, e820__reserve_resources } from './mm/resource.js'
import { check_creds } from './kernel/cred.js'
import type { CoredumpSysctl } from './kernel/fork.js'
import { ShmemMapping } from './mm/shmem.js'
import type { Range } from './mm/memblock.js'
import { PageArray } from './mm/page.js'
import { PageAllocator } from './mm/page_alloc.js'
import type { FailPageAlloc } from './mm/fail_page_alloc.js'
import type { FailSlab } from './mm/failslab.js'
import { VmStat } from './mm/vmstat.js'
import {
  boot_pagesets,
  calculate_min_free_kbytes,
  setup_per_zone_lowmem_reserve,
  setup_per_zone_wmarks,
  zone_pcp_update,
} from './mm/watermark.js'
import { proc_read, proc_write } from './fs/proc/root.js'
import { ProcAccessDenied, ProcNotFound, type ProcView } from './fs/proc/internal.js'
import { DropCaches } from './fs/drop_caches.js'
import { EACCES, EEXIST, EINVAL, ENOENT } from './include/errno.js'
import { kernel_layout } from './arch/pgtable_areas.js'
import { spawn_process, type Process, type SpawnOptions } from './user/process.js'
import { Syscalls } from './kernel/syscalls.js'
import type { MmEntry } from './kernel/mm_entry.js'
import type { TaskStruct } from './kernel/task.js'
import { FsNamespace } from './fs/namei.js'
import { make_mm_env, make_mm_entry, check_mms, check_mm_objects, KernelObjects, vdso_special_mappings } from './kernel/mm_syscalls.js'
import type { MmEnv, MmStruct } from './mm/mm_types.js'
import { PgTables } from './mm/pgtable.js'
import { PgtableChecker } from './mm/pgtable_debug.js'
import { check_rmap_counts } from './mm/debug_vm_rmap.js'
import { Vmalloc } from './mm/vmalloc.js'
import { Highmem } from './mm/highmem.js'
import { KernelMemory } from './mm/maccess.js'
import { ThreadStacks } from './kernel/thread_stack.js'
import { kernel_physical_mapping_init } from './mm/init_mapping.js'
import type { SlabAllocator } from './mm/slab_common.js'
import { slab_boot } from './mm/slab_caches.js'
import { check_slab } from './mm/slab_check.js'
import { Mmu } from './hw/mmu.js'
import { TlbFlush } from './arch/x86/tlb.js'
import { check_mmu, install_kernel_tlb_flush, mmu_sched } from './kernel/mmu_context.js'
import { ChrdevRegistry } from './fs/char_dev.js'
import { chr_dev_init } from './drivers/mem.js'
import { DriverKernel } from './drivers/driver_api.js'
import { DriverMmapCheck } from './drivers/mmap_check.js'
import { revoke_iomem, type DevmemHost, type LockdownLevel } from './drivers/devmem.js'
import { ModuleLoader, type KernelModule, type ModuleParamValue } from './drivers/module.js'
import { scull_module } from './drivers/scull/main.js'
import { scullc_module, scullp_module, scullv_module } from './drivers/scullp/main.js'
import { simple_module } from './drivers/simple.js'
import { UioCore, uio_module } from './drivers/uio.js'
import { uio_demo_module } from './drivers/uio_demo.js'
import { framegrab_module } from './drivers/framegrab.js'
import { IrqTable, NR_IRQS } from './drivers/irq.js'
import { Sysfs } from './fs/sysfs.js'
import { GFP_KERNEL } from './mm/gfp.js'
import { SwapBlockDevice, type SwapBdevKind } from './hw/swap_bdev.js'
import type { BlockDevice } from './hw/blkdev.js'
import { check_writeback } from './mm/debug_vm_writeback.js'
import { part_stat_show } from './fs/proc/diskstats.js'
import { wakeup_flusher_threads, writeback_set_ratelimit } from './mm/fs_writeback.js'
import { do_swapon, mkswap_header, swaps_show } from './mm/swapfile_swapon.js'
import { SWAP_FLAG_PREFER, SWAP_FLAG_PRIO_MASK } from './mm/swap_h.js'
import { check_swap } from './mm/debug_vm_swap.js'
import { MKDEV, S_IFBLK } from './fs/fs.js'
import { ErrnoError } from './user/errors.js'
import { MachineConfigError } from './machine_config.js'

// What the command line checks before it loads the machine (src/machine_config.ts), also the library's.
export { MachineConfigError, host_memory_problem } from './machine_config.js'

/** The `ldd3` preset's modules, in load order, with the parameters the book's load scripts and headers give. */
export const LDD3_MODULES: readonly (readonly [string, Readonly<Record<string, number>>])[] = [
  ['scull', { scull_quantum: 4000, scull_qset: 1000, scull_nr_devs: 4, scull_p_nr_devs: 4, scull_p_buffer: 4000 }],
  ['scullp', { scullp_order: 0, scullp_qset: 500, scullp_devs: 4 }],
  ['scullv', { scullv_order: 4, scullv_qset: 500, scullv_devs: 4 }],
  ['scullc', { scullc_quantum: 4000, scullc_qset: 500, scullc_devs: 4 }],
  ['simple', {}],
]

/** The drivers `insmod` loads by name. */
const BUILTIN_MODULES: ReadonlyMap<string, () => KernelModule> = new Map<string, () => KernelModule>([
  ['scull', scull_module],
  ['scullp', scullp_module],
  ['scullv', scullv_module],
  ['scullc', scullc_module],
  ['simple', simple_module],
  ['uio_demo', uio_demo_module],
  ['framegrab', framegrab_module],
])

/**
 * The profile as this machine's kernel sees it. On i386 the end of lowmem is
 * not a constant: MAXMEM = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE, and
 * VMALLOC_END sits below the fixmap, whose size grows with NR_CPUS
 * (arch/x86/include/asm/pgtable_32_areas.h). ZONE_NORMAL ends there.
 */
function machine_profile(arch: ArchProfile, cpus: number): ArchProfile {
  if (arch.bits === 64) return arch
  const MAXMEM = kernel_layout(arch, 0, cpus).MAXMEM
  const max_pfn = arch.zones.max_pfn.map((v, i) => (i === arch.zones.ZONE_NORMAL ? MAXMEM / 4096 : v))
  return { ...arch, max_low_phys: MAXMEM, zones: { ...arch.zones, max_pfn } }
}

export interface MachineOptions {
  arch?: ArchName
  /** RAM size: bytes, or '64M', '1G', ... */
  ram?: string | number
  cpus?: number
  seed?: number
  slab?: 'slub' | 'slab'
  init_on_alloc?: boolean
  init_on_free?: boolean
  /**
   * The slub_debug= boot option: undefined (off), '' (full debugging:
   * sanity checks, red zones, poisoning, user tracking), or Linux's syntax
   * such as 'FZP', 'P,kmalloc-64' or 'FZPU,kmalloc-*;P,dentry'.
   */
  slub_debug?: string
  /** CONFIG_SLAB_FREELIST_HARDENED: SLUB stores free pointers obfuscated (default false). */
  freelist_hardened?: boolean
  /** Run the invariant checker after every kernel API call (the simulator's DEBUG_VM). */
  debug_vm?: boolean
  /**
   * kernel.randomize_va_space: 2 (default, as on Linux: stack, mmap base,
   * PIE base and brk randomised, drawn from the machine's seed), 1 (all but
   * the brk), or 0 (the fixed layout, as with the norandmaps boot option or
   * `setarch -R`).
   */
  randomize_va_space?: 0 | 1 | 2
  /** TLB entries per CPU (default 64, like an L1 dTLB); see src/hw/tlb.ts. */
  tlb_entries?: number
  /** TLB associativity (default 4; tlb_entries / tlb_ways sets, a power of two). */
  tlb_ways?: number
  /** X86_FEATURE_PCID (default true): without it every switch to another mm flushes the TLB. */
  pcid?: boolean
  /** read_ahead_kb of the root disk's queue (default 128, the kernel's VM_READAHEAD_KB). */
  read_ahead_kb?: number
  /** The root disk's speed: 'virtio' (default, an NVMe-like disk) or 'zram' (a page read or written in about 2 us). */
  root_disk?: 'virtio' | 'zram'
  /** CONFIG_STRICT_DEVMEM's page policy for /dev/mem (default true; false: every page is allowed, as without the option). */
  strict_devmem?: boolean
  /**
   * CONFIG_IO_STRICT_DEVMEM (default false, the Kconfig default): every
   * region a driver claims is closed to /dev/mem above 1 MiB, and the claim
   * revokes the /dev/mem mappings of it that exist (src/mm/resource.ts).
   */
  io_strict_devmem?: boolean
  /** The iomem= boot parameter (default 'strict' with STRICT_DEVMEM): 'relaxed' lets /dev/mem reach claimed regions. */
  iomem?: 'strict' | 'relaxed'
  /**
   * The memmap= boot parameter's `nn$ss` form (comma-separated): reserve nn
   * bytes of RAM at ss ('1M$0x2000000'). The range becomes e820 Reserved:
   * not System RAM, still backed by the simulated hardware, so /dev/mem
   * may map it and a driver may claim it as its device's memory.
   */
  memmap?: string
  /**
   * A machine as a kind of reader met it: 'modern' (the default) is
   * today's; 'ldd3' also loads the book's modules at boot with the book's
   * module parameters (scull, scullp, scullv, scullc, simple: LDD3_MODULES),
   * as its load scripts would. Only the modules: the book's i386 with
   * HIGHMEM, the classic SLAB and `nopage` are not part of it.
   */
  preset?: 'modern' | 'ldd3'
  /** The lockdown= boot parameter (default 'none'): 'integrity' or 'confidentiality' refuse /dev/mem and its clones (EPERM). */
  lockdown?: LockdownLevel
  /**
   * Swap at boot: a size ('256M': a zram device of that size, swapped on
   * with the default priority), or one or several areas
   * `{ size, kind: 'zram' | 'disk', priority }` (priority as swapon -p).
   */
  swap?: string | number | SwapOption | SwapOption[]
  /**
   * The page-replacement policy of reclaim (src/mm/replacement.ts):
   * 'linux' (the default: the kernel's two-list LRU), or for studies
   * 'fifo', 'lru' (exact, every access counted), 'clock' (second chance on
   * the Accessed bits) or 'random' (seeded). Everything else about reclaim
   * stays Linux's: when it runs, how much it frees, swap and writeback.
   */
  reclaim?: ReclaimPolicy
}

/** One swap area of MachineOptions.swap. */
export interface SwapOption {
  size: string | number
  kind?: SwapBdevKind
  /** swapon -p: 0..32767; absent: the next default (negative) priority. */
  priority?: number
}

const MiB = 1024 * 1024

export class Machine {
  readonly arch: ArchProfile
  readonly ram: number
  readonly cpus: number
  readonly seed: number
  /** The machine's one source of randomness (get_random_u32() and friends), seeded by `seed`. */
  readonly random: KernelRandom
  readonly slab_kind: 'slub' | 'slab'
  readonly printk = new Printk()
  readonly trace = new Tracer()
  readonly vmstat = new VmStat()
  readonly physmem: PhysMem
  readonly pages: PageArray
  /** Memory cgroups (mm/memcontrol.c): the group tree, charges, and the lruvecs of every LRU page. */
  readonly memcg: MemcgSubsys
  readonly page_alloc: PageAllocator
  readonly kernel: Kernel
  /** The slab allocator (SLUB or the classic SLAB) with kmalloc and the named caches. */
  readonly slab: SlabAllocator
  readonly boot: BootMemory
  /** /proc/iomem's tree: the firmware map and the regions drivers claimed (src/mm/resource.ts). */
  readonly iomem: IomemResource
  /** Page tables in frames: init_mm (swapper_pg_dir) and every pgd (src/mm/pgtable.ts). */
  readonly pgtables: PgTables
  /** vmalloc/vmap/ioremap and the vmap-area allocator (src/mm/vmalloc.ts). */
  readonly vmalloc: Vmalloc
  /** kmap/kmap_local/kmap_atomic over the pkmap area and fixmap (src/mm/highmem.ts). */
  readonly highmem: Highmem
  /** Kernel-side reads and writes through any kernel virtual address (src/mm/maccess.ts). */
  readonly kmem: KernelMemory
  /** Each CPU's MMU: CR3, the TLB, the page walk (src/hw/mmu.ts, src/hw/tlb.ts). */
  readonly mmu: Mmu
  /** Linux's TLB-flush protocol over them: ASIDs, lazy TLB, shootdowns (src/arch/x86/tlb.ts). */
  readonly tlb: TlbFlush
  /** Tasks' kernel stacks: vmalloc'd on x86_64 (VMAP_STACK), order-1 pages on i386 (src/kernel/thread_stack.ts). */
  readonly thread_stacks: ThreadStacks
  /** The simulated clock (src/hw/clock.ts): ns since power-on, advanced by the cost model. */
  readonly clock = new Clock()
  /** Simulated time in ns (clock.now()). */
  get clock_ns(): number {
    return this.clock.now()
  }
  /** The OOM killer (src/mm/oom_kill.ts): vm.panic_on_oom, oom_kill_allocating_task, oom_dump_tasks and its kills. */
  readonly oom: OomKiller
  /** min_free_kbytes as computed at boot (vm.min_free_kbytes). */
  min_free_kbytes = 0
  /**
   * Extra invariant checks subsystems register (slab, vmalloc, ...). Each
   * gets the frames the call being checked touched (check_touched), or null
   * for the whole-machine recount (check()).
   */
  readonly checkers: ((touched: readonly number[] | null) => void)[] = []
  /** Size of the vmalloc area (VMALLOC_END - VMALLOC_START) for VmallocTotal; vmalloc sets it on i386. */
  vmalloc_total_bytes: number
  /** Pages in vmalloc areas (VmallocUsed); vmalloc installs the real count. */
  vmalloc_used_pages: () => number = () => 0
  /** vm_committed_as in pages (Committed_AS); mmap accounting maintains it in the mm env. */
  get vm_committed_as(): number {
    return this.mm_env.vm_committed_as
  }
  /** sysctl vm.overcommit_ratio. */
  overcommit_ratio = 50
  /** SwapTotal and SwapFree in pages (total_swap_pages, nr_swap_pages). */
  get swap_total_pages(): number {
    return this.mm_env.swap.total_swap_pages
  }
  get swap_free_pages(): number {
    return this.mm_env.swap.nr_swap_pages
  }
  /** PFN of empty_zero_page: a reserved frame of the kernel image's .bss, mapped by anonymous read faults. */
  readonly zero_pfn: number
  /** The slab objects of processes and address spaces (task_struct, mm_struct, vm_area_struct, anon_vma...). */
  readonly kernel_objects: KernelObjects
  /** The address-space layer's view of this machine (src/mm). */
  readonly mm_env: MmEnv
  /** vm.drop_caches (src/fs/drop_caches.ts). */
  readonly drop_caches: DropCaches
  /** The system-call table: tasks by pid, the scheduler, every sys_* entry (src/kernel/syscalls.ts). */
  readonly syscalls: Syscalls
  /** What /proc reads of this machine (src/fs/proc/internal.ts). */
  private readonly proc_view: ProcView
  /** The file namespace: mounts, /dev's nodes, path lookup (src/fs/namei.ts). */
  readonly fs: FsNamespace
  /** Character-device numbers and cdevs (src/fs/char_dev.ts). */
  readonly chrdevs: ChrdevRegistry
  /** The kernel API drivers program against (src/drivers/driver_api.ts). */
  readonly driver_kernel: DriverKernel
  /** The driver-mmap checker and its findings (src/drivers/mmap_check.ts, SECURITY.md cases). */
  readonly driver_check: DriverMmapCheck
  /** /sys files (attributes drivers create), read through proc(). */
  readonly sysfs = new Sysfs()
  /** The interrupt lines devices raise (raise_irq). */
  readonly irqs = new IrqTable()
  /** The UIO core (drivers/uio/uio.c), live while the 'uio' module is loaded. */
  readonly uio = new UioCore()
  /** Loaded modules (src/drivers/module.ts). */
  readonly modules: ModuleLoader

  constructor(opts: MachineOptions = {}) {
    const arch = opts.arch ?? 'x86_64'
    if (arch !== 'x86_64' && arch !== 'i386' && arch !== 'i386-pae') {
      throw new MachineConfigError(`arch: '${String(arch)}' is not one of x86_64, i386, i386-pae`)
    }
    this.arch = machine_profile(arch_profile(arch), opts.cpus ?? 2)
    const ram = parse_size(opts.ram ?? '256M')
    if (!Number.isFinite(ram)) throw new MachineConfigError(`ram: '${String(opts.ram)}' is not a size like 64M, 1G or a byte count`)
    if (ram < 32 * MiB) throw new MachineConfigError(`ram: ${String(opts.ram)} is too small (at least 32M)`)
    if (ram > this.arch.max_phys) throw new MachineConfigError(`ram: ${String(opts.ram)} is more than ${this.arch.name} can address`)
    if (ram % 4096 !== 0) throw new MachineConfigError(`ram: ${String(opts.ram)} is not a multiple of the page size`)
    // struct page is a set of typed arrays indexed by pfn: V8 caps their length below 2^32 (and the
    // buffer below the host's memory, which the CLI estimates first; see host_memory_problem()).
    if (ram / 4096 >= 2 ** 32 - 2 ** 20) throw new MachineConfigError(`ram: ${String(opts.ram)} is more than mmsim can simulate (page-frame arrays are limited to 2^32 entries: at most 15T)`)
    this.ram = ram
    const cpus = opts.cpus ?? 2
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new MachineConfigError(`cpus: '${String(opts.cpus)}' is not an integer in 1..64`)
    this.cpus = cpus
    this.vmalloc_total_bytes = this.arch.VMALLOC_SIZE ? this.arch.VMALLOC_SIZE - 1 : 0
    this.seed = opts.seed ?? 1
    if (!Number.isInteger(this.seed)) throw new MachineConfigError(`seed: '${String(opts.seed)}' is not an integer`)
    this.random = new KernelRandom(this.seed)
    const slab = opts.slab ?? 'slub'
    if (slab !== 'slub' && slab !== 'slab') throw new MachineConfigError(`slab: '${String(opts.slab)}' is not 'slub' or 'slab'`)
    this.slab_kind = slab

    const clock = this.clock
    this.printk.now = () => clock.now()
    this.trace.now = () => clock.now()
    this.printk.pr_info(LINUX_BANNER)
    this.printk.pr_info(`Command line: console=ttyS0 root=/dev/vda${opts.init_on_alloc ? ' init_on_alloc=1' : ''}${opts.init_on_free ? ' init_on_free=1' : ''}${opts.memmap !== undefined ? ` memmap=${String(opts.memmap)}` : ''}${opts.iomem !== undefined ? ` iomem=${String(opts.iomem)}` : ''}`)
    // setup_arch(): firmware map, memblock, early reservations.
    this.boot = setup_memory(this.arch, ram, cpus, this.printk, parse_memmap(opts.memmap, ram))
    const iomem_opt = opts.iomem ?? 'strict'
    if (iomem_opt !== 'strict' && iomem_opt !== 'relaxed') throw new MachineConfigError(`iomem: '${String(opts.iomem)}' is not 'strict' or 'relaxed'`)
    this.iomem = new IomemResource(this.arch.max_phys, {
      strict_iomem_checks: (opts.strict_devmem ?? true) && iomem_opt === 'strict',
      io_strict_devmem: (opts.strict_devmem ?? true) && (opts.io_strict_devmem ?? false),
    })
    e820__reserve_resources(this.iomem, this.boot.e820, this.boot.image)
    this.physmem = new PhysMem(this.boot.max_pfn)
    this.pages = new PageArray(this.boot.max_pfn)
    const zones = free_area_init(this.arch, this.boot, this.pages, this.printk)
    for (const z of zones) boot_pagesets(z, cpus)
    this.page_alloc = new PageAllocator(this.arch, this.pages, this.physmem, zones, this.vmstat, this.printk, this.trace, {
      init_on_alloc: opts.init_on_alloc ?? false,
      init_on_free: opts.init_on_free ?? false,
      nr_cpus: cpus,
    })
    this.page_alloc.clock = clock
    // The per-zone LRU counters (nr_zone_inactive_anon...) follow each page's zone.
    this.vmstat.zone_of_block = this.page_alloc.zone_of_block
    this.vmstat.zone_vm_stat = this.page_alloc.zones.map((z) => z.vm_stat)
    // mem_init(): the buddy allocator takes over.
    memblock_free_all(this.boot, this.page_alloc)
    // paging_init()/mem_init(): swapper_pg_dir, the preallocated vmalloc puds (x86_64),
    // the pkmap and fixmap tables (i386); then vmalloc_init().
    // The memory controller exists before the first user page table: those are charged to groups.
    const reclaim = opts.reclaim ?? 'linux'
    if (!RECLAIM_POLICIES.includes(reclaim)) throw new MachineConfigError(`reclaim: '${String(reclaim)}' is not one of ${RECLAIM_POLICIES.join(', ')}`)
    // Its own random stream: a random policy's draws do not move the address-space layouts.
    const replacement = reclaim === 'linux' ? null : new Replacement(reclaim, this.boot.max_pfn, new KernelRandom(this.seed + 0x7ec1a1))
    this.memcg = new MemcgSubsys(this.pages, cpus, replacement)
    if (replacement) this.printk.pr_info(`mmsim: page replacement: ${reclaim} (reclaim picks its victims by this policy, not by Linux's LRU lists)`)
    this.pgtables = new PgTables(this.page_alloc, this.memcg)
    kernel_physical_mapping_init(this.pgtables, this.boot.memblock.memory, this.page_alloc.max_low_pfn * 4096)
    this.vmalloc = new Vmalloc({ page_alloc: this.page_alloc, pgtables: this.pgtables, nr_cpus: cpus, is_ram: (pfn) => this.pfn_present(pfn) })
    this.highmem = new Highmem({ page_alloc: this.page_alloc, pgtables: this.pgtables, layout: this.vmalloc.layout, nr_cpus: cpus })
    this.kmem = new KernelMemory(this.page_alloc, this.pgtables)
    this.thread_stacks = new ThreadStacks(this.page_alloc, this.vmalloc, cpus)
    this.vmalloc_total_bytes = this.vmalloc.layout.VMALLOC_TOTAL
    this.vmalloc_used_pages = () => this.vmalloc.vmalloc_nr_pages()
    const pgtable_checker = new PgtableChecker(this.pgtables)
    this.checkers.push((touched) => {
      pgtable_checker.check(touched)
      this.vmalloc.check(touched)
      this.highmem.check()
      this.thread_stacks.check(touched !== null)
    })
    const populated = zones.filter((z) => z.populated).length
    this.printk.pr_info(`Built 1 zonelists, mobility grouping on.  Total pages: ${this.page_alloc.totalram_pages()}`)
    void populated
    if (opts.init_on_alloc || opts.init_on_free) {
      this.printk.pr_info(`mem auto-init: stack:off, heap alloc:${opts.init_on_alloc ? 'on' : 'off'}, heap free:${opts.init_on_free ? 'on' : 'off'}`)
    }
    this.mem_init_print_info()
    // kmem_cache_init() and the boot-time kmem_cache_create() calls.
    this.slab = slab_boot(this.page_alloc, {
      slab,
      nr_cpus: cpus,
      init_on_alloc: opts.init_on_alloc ?? false,
      init_on_free: opts.init_on_free ?? false,
      slub_debug: opts.slub_debug,
      freelist_hardened: opts.freelist_hardened ?? false,
      random32: () => this.random.get_random_u32(),
    })
    this.checkers.push((touched) => check_slab(this.slab, touched === null))
    // Fault injection draws from the machine's seed, so a failing run replays.
    this.page_alloc.fail_page_alloc.seed(this.seed)
    this.slab.failslab.seed(this.seed + 0x5eed)
    // vmalloc_init(): vmap_area objects from their cache, vm_struct and page arrays from kmalloc.
    const vmap_area_cachep = this.slab.find_cache('vmap_area')
    this.vmalloc.set_object_hooks({
      alloc: (what, bytes, gfp) =>
        what === 'vmap_area' && vmap_area_cachep
          ? this.slab.kmem_cache_alloc(vmap_area_cachep, gfp, 'alloc_vmap_area')
          : this.slab.kmalloc(bytes, gfp, what === 'vm_struct' ? '__get_vm_area_node' : '__vmalloc_area_node'),
      free: (what, obj) => {
        if (what === 'vmap_area' && vmap_area_cachep) this.slab.kmem_cache_free(vmap_area_cachep, obj, 'free_vmap_area')
        else this.slab.kfree(obj, what === 'vm_struct' ? 'remove_vm_area' : '__vfree')
      },
    })
    this.kernel = new Kernel(this.page_alloc)
    this.kernel.attach_vm(this.vmalloc, this.highmem, this.kmem)
    this.kernel.slab = this.slab
    // setup_per_cpu_pageset() + init_per_zone_wmark_min().
    this.min_free_kbytes = calculate_min_free_kbytes(this.arch, zones)
    setup_per_zone_wmarks(this.arch, zones, this.min_free_kbytes)
    setup_per_zone_lowmem_reserve(zones)
    for (const z of zones) zone_pcp_update(z, cpus)
    this.free_initmem()
    // The address-space layer: empty_zero_page lives in the kernel image's .bss.
    this.zero_pfn = Math.floor(this.boot.image.__bss_start / 4096)
    // Each CPU's MMU and TLB: user accesses translate through them, the mm layer flushes them.
    const tlb_entries = opts.tlb_entries ?? 64
    const tlb_ways = opts.tlb_ways ?? Math.min(4, tlb_entries)
    const sets = tlb_entries / tlb_ways
    if (!Number.isInteger(tlb_entries) || tlb_entries < 1 || !Number.isInteger(tlb_ways) || tlb_ways < 1 || !Number.isInteger(sets) || (sets & (sets - 1)) !== 0 || tlb_ways > 255) {
      throw new MachineConfigError(`tlb_entries/tlb_ways: ${String(opts.tlb_entries)}/${String(opts.tlb_ways)} must give a power-of-two number of sets of at most 255 ways`)
    }
    this.mmu = new Mmu({ arch: this.arch, physmem: this.physmem, cpus, init_pgd: this.pgtables.init_mm.pgd, tlb_entries, tlb_ways })
    this.tlb = new TlbFlush(this.mmu, opts.pcid ?? true)
    install_kernel_tlb_flush(this.tlb, this.pgtables)
    this.trace.cpu = () => this.mmu.this_cpu // tracepoints carry the executing CPU
    this.checkers.push(() => check_mmu(this.tlb))
    this.checkers.push((touched) => check_lru(this.memcg, this.pages, this.vmstat, touched === null, touched ?? [], this.page_alloc.zones))
    this.checkers.push((touched) => check_writeback(this.pages, this.vmstat, this.page_alloc.zones, this.fs.root_bdi.wb, touched === null, this.mm_env.mappings))
    const kobjs = (this.kernel_objects = new KernelObjects(this.slab))
    this.mm_env = make_mm_env(this, kobjs, this.tlb)
    this.drop_caches = new DropCaches(this.mm_env, (text) => this.printk.pr_info(text))
    const aslr = opts.randomize_va_space ?? 2
    if (aslr !== 0 && aslr !== 1 && aslr !== 2) throw new MachineConfigError(`randomize_va_space: '${String(aslr)}' is not 0, 1 or 2`)
    const img = this.boot.image
    const specials = vdso_special_mappings(this.mm_env, img.__start_rodata / 4096, img._sdata / 4096)
    // chrdev_init() and the VFS with /dev (devtmpfs), then the memory devices (chr_dev_init()).
    const slab_ = this.slab
    this.chrdevs = new ChrdevRegistry({
      kzalloc: (size, caller) => slab_.kzalloc(size, GFP_KERNEL, caller),
      kfree: (addr, caller) => slab_.kfree(addr, caller),
      pr_err: (text) => this.printk.pr_err(text),
    })
    if (opts.root_disk !== undefined && opts.root_disk !== 'virtio' && opts.root_disk !== 'zram') throw new MachineConfigError(`root_disk: '${String(opts.root_disk)}' is not virtio or zram`)
    const fs = (this.fs = new FsNamespace(this.mm_env, this.chrdevs, opts.read_ahead_kb, opts.root_disk))
    if (fs.root_bdi.disk) this.register_disk(fs.root_bdi.disk)
    const physmem = this.physmem
    const devmem: DevmemHost = {
      capable: (cap) => {
        const cur = this.syscalls.current
        return cur === null || cred_capable(cur.cred, cap)
      },
      is_system_ram: (pfn) => this.pfn_present(pfn),
      system_ram_in: (first, end) => this.pfn_present_in(first, end),
      nr_frames: this.page_alloc.pages.nr,
      high_memory: this.page_alloc.max_low_pfn * 4096,
      max_phys: this.arch.max_phys,
      read_phys: (pa, len) => physmem.read(pa, len),
      write_phys: (pa, data) => physmem.write(pa, data),
      strict_devmem: opts.strict_devmem ?? true,
      iomem: this.iomem,
      // iomem_init_inode(): the one address_space every /dev/mem file maps through
      iomem_mapping: new ShmemMapping(this.mm_env.next_id(), 'shmem'),
      lockdown: opts.lockdown ?? 'none',
      comm: () => this.syscalls.current?.comm ?? '',
      notice: (text) => this.printk.printk(KERN_NOTICE, text),
    }
    chr_dev_init(this.chrdevs, (path, mode, dev) => fs.mknod(path, mode, dev), devmem)
    this.iomem.revoke = (res) => revoke_iomem(devmem, res)
    const mm_entry = make_mm_entry(this.arch, this.mm_env, fs, kobjs, specials, this.thread_stacks)
    this.syscalls = new Syscalls(mm_entry, mmu_sched(this.tlb), { nr_cpus: cpus, random: this.random, randomize_va_space: aslr, clock }, (text) => this.printk.pr_warn(text))
    const sys = this.syscalls
    this.trace.task = () => (sys.current ? [sys.current.comm, sys.current.pid] : ['swapper', 0]) // ftrace's task-pid column
    // The OOM killer, over the tasks; the allocator calls it from its slow path.
    const pa = this.page_alloc
    const mmu = this.mmu
    this.oom = new OomKiller(
      make_oom_host(sys, () => mmu.this_cpu),
      this.printk,
      this.vmstat,
      {
        zones: pa.zones,
        vmstat: this.vmstat,
        get cpu() {
          return mmu.this_cpu
        },
        totalram_pages: () => pa.totalram_pages(),
        total_swap_pages: () => this.swap_total_pages,
        free_swap_pages: () => this.swap_free_pages,
      },
      clock,
      UTS_RELEASE,
    )
    pa.oom = this.oom
    // flush_memcg_stats_dwork: the memcg statistics reclaim reads are flushed every 2 s (and by
    // readers of memory.stat); between flushes reclaim works with the values of the last one.
    const FLUSH_TIME = 2_000_000_000
    const periodic_flush = (): void => {
      this.memcg.flush_stats()
      clock.add_timer(clock.now() + FLUSH_TIME, periodic_flush)
    }
    clock.add_timer(FLUSH_TIME, periodic_flush)
    // A charge that reclaim cannot fit under a group's limit: the OOM killer, inside the group.
    this.memcg.oom = (g, gfp) => this.oom.out_of_memory(oom_control(gfp, 0, this.arch.zones.ZONE_NORMAL, oom_memcg(g, () => sys.tasks.values(), () => this.swap_total_pages)))
    // Direct reclaim from the LRU lists (vmscan.ts) for allocations that may wait.
    // The node's state is the one kswapd reads.
    pa.try_to_free_pages = (gfp, order) => try_to_free_pages(this.mm_env, gfp, this.mm_env.kswapd.node, order)
    pa.oom_current_is_victim = () => sys.current !== null && sys.current.signal.oom_mm !== null
    this.checkers.push(() => {
      for (const t of sys.tasks.values()) check_oom_task(t)
      const events = this.vmstat.vm_event_states[OOM_KILL]
      if (events !== this.oom.kills) throw new KernelBug(`oom check: oom_kill counts ${events} events but ${this.oom.kills} kills`)
    })
    // The v1 memory hierarchy's root directory (its tasks: every process not in a group).
    memcg_create_files(this.sysfs, this.memcg.root, () => [...sys.tasks.values()].filter((t) => t.mm !== null && t.mm.memcg === null && t.pid === t.tgid).map((t) => t.pid), () => this.memcg.flush_stats_if_needed())
    this.driver_check = new DriverMmapCheck(this.mm_env, this.printk)
    this.driver_kernel = new DriverKernel({
      slab: this.slab,
      kmem: this.kmem,
      printk: this.printk,
      chrdevs: this.chrdevs,
      bits: this.arch.bits === 64 ? 64 : 32,
      current: () => sys.current,
      page_alloc: this.page_alloc,
      vmalloc: this.vmalloc,
      mm_env: this.mm_env,
      check: this.driver_check,
      devmem,
      prepare_to_wait: (wq) => sys.sleepers.prepare_to_wait(wq),
      signal_pending: () => (sys.current?.sigpending.size ?? 0) > 0,
      sysfs: this.sysfs,
      irqs: this.irqs,
      mknod: (path, mode, dev) => fs.mknod(path, mode, dev),
      unlink: (path) => fs.unlink(path),
      uio: () => (this.uio.loaded ? this.uio : null),
    })
    this.modules = new ModuleLoader(
      this.driver_kernel,
      { mknod: (path, mode, dev, gid) => fs.mknod(path, mode, dev, gid === undefined ? null : cred_for_uid(0, gid)), unlink: (path) => fs.unlink(path) },
      new Map([...BUILTIN_MODULES, ['uio', () => uio_module(this.uio)]]),
    )
    this.checkers.push(() => this.syscalls.sleepers.check())
    // every live cred object still holds its task's ids (kernel/cred.ts: a write into one is S-A1's critical event)
    this.checkers.push(() => check_creds(mm_entry, this.syscalls.tasks.values()))
    // The live address spaces, each once however many threads share it.
    const live_mms = (): Set<MmStruct> => {
      const mms = new Set<MmStruct>()
      for (const t of this.syscalls.tasks.values()) if (t.mm) mms.add(t.mm)
      return mms
    }
    this.checkers.push(() => {
      const mms = live_mms()
      check_mms(mms)
      check_mm_objects(kobjs, this.mm_env, mms)
    })
    // Mapcounts and swap references against the page tables: a whole-machine walk (one for both), so only in the full recount.
    this.checkers.push((touched) => {
      if (touched !== null) return
      const mms = live_mms()
      const nonpresent = new Map<MmStruct, number[]>()
      check_rmap_counts(this.pages, mms, nonpresent)
      check_swap(this.mm_env, mms, nonpresent)
    })
    this.proc_view = new MachineProcView(this)
    if (opts.swap !== undefined) {
      const list = Array.isArray(opts.swap) ? opts.swap : [typeof opts.swap === 'object' ? opts.swap : { size: opts.swap }]
      for (const o of list) {
        const name = this.add_swap_device(o.size, o.kind ?? 'zram')
        const prio = o.priority
        if (prio !== undefined && (!Number.isInteger(prio) || prio < 0 || prio > SWAP_FLAG_PRIO_MASK)) throw new MachineConfigError(`swap: priority '${String(prio)}' is not an integer in 0..32767`)
        const r = do_swapon(this.mm_env, name, this.mm_env.swap.bdevs.get((this.fs.lookup(name) as { i_rdev: number }).i_rdev) ?? null, prio === undefined ? 0 : SWAP_FLAG_PREFER | prio)
        if (r < 0) throw new MachineConfigError(`swap: swapon ${name} failed (errno ${-r})`)
      }
    }
    if (opts.preset === 'ldd3') {
      for (const [name, params] of LDD3_MODULES) this.insmod(name, params)
    } else if (opts.preset !== undefined && opts.preset !== 'modern') {
      throw new MachineConfigError(`preset: '${String(opts.preset)}' is not modern or ldd3`)
    }
    if (opts.debug_vm) {
      this.page_alloc.debug_touched = []
      this.slab.debug_dirty = new Set()
      this.kernel.after_op = () => this.check_touched()
      this.syscalls.after_syscall = () => this.check_touched()
    }
  }

  /** Kernel: mem_init_print_info(). */
  private mem_init_print_info(): void {
    const img = this.boot.image
    const k = (b: number): number => Math.floor(b / 1024)
    const physpages = this.boot.physpages
    const total = this.page_alloc.totalram_pages()
    const high = this.arch.zones.ZONE_HIGHMEM >= 0 ? this.page_alloc.zones[this.arch.zones.ZONE_HIGHMEM].managed_pages : -1
    this.printk.pr_info(
      `Memory: ${this.page_alloc.nr_free_pages() * 4}K/${physpages * 4}K available (` +
        `${k(img._etext - img._text)}K kernel code, ${k(img._edata - img._sdata)}K rwdata, ` +
        `${k(img.__end_rodata - img.__start_rodata)}K rodata, ${k(img.__init_end - img.__init_begin)}K init, ` +
        `${k(img.__bss_stop - img.__bss_start)}K bss, ${(physpages - total) * 4}K reserved, 0K cma-reserved` +
        (high >= 0 ? `, ${high * 4}K highmem)` : ')'),
    )
  }

  /** Kernel: free_initmem(): the init sections go back to the page allocator once boot is done. */
  private free_initmem(): void {
    const img = this.boot.image
    const start = img.__init_begin / 4096
    const end = img.__init_end / 4096
    this.boot.memblock.phys_free(img.__init_begin, img.__init_end - img.__init_begin)
    for (let pfn = start; pfn < end; pfn++) {
      this.pages.flags[pfn] = 0
      this.pages._refcount[pfn] = 0
    }
    free_pages_memory(this.page_alloc, start, end)
    this.printk.pr_info(`Freeing unused kernel image (initmem) memory: ${(end - start) * 4}K`)
  }

  /**
   * A swap block device of `size` (zram: /dev/zramN; disk: /dev/vdb, /dev/vdc...), formatted
   * by mkswap, not yet swapped on: its path, for swapon(2). Throws MachineConfigError for a bad size.
   */
  add_swap_device(size: string | number, kind: SwapBdevKind = 'zram'): string {
    const bytes = typeof size === 'number' ? size : parse_size(size)
    if (!Number.isFinite(bytes) || bytes < 40960 || bytes % 4096 !== 0) throw new MachineConfigError(`swap: size '${String(size)}' is not a multiple of 4096 of at least 40K`)
    if (kind !== 'zram' && kind !== 'disk') throw new MachineConfigError(`swap: kind '${String(kind)}' is not 'zram' or 'disk'`)
    const state = this.mm_env.swap
    const n = [...state.bdevs.values()].filter((b) => b.kind === kind).length
    // zram's major is dynamic (252 on the reference machine); virtio disks are 253, 16 minors each, vda being the root.
    const name = kind === 'zram' ? `/dev/zram${n}` : `/dev/vd${String.fromCharCode(98 + n)}`
    const dev = kind === 'zram' ? MKDEV(252, n) : MKDEV(253, 16 * (n + 1))
    const bdev = new SwapBlockDevice(kind, name, dev, bytes / 4096)
    bdev.write_page(0, mkswap_header(bdev.nr_pages))
    state.bdevs.set(dev, bdev)
    this.register_disk(bdev.disk)
    const r = this.fs.mknod(name, S_IFBLK | 0o660, dev)
    if (r < 0) throw new MachineConfigError(`swap: cannot create ${name} (errno ${-r})`)
    return name
  }

  /** Kernel: device_add_disk(): the disk's /sys/block/<name>/stat (its /proc/diskstats line comes from ProcView.block_devices()). */
  private register_disk(d: BlockDevice): void {
    this.sysfs.sysfs_create_file(`/sys/block/${d.name}/stat`, () => part_stat_show(d, this.clock.now()))
  }

  /** Kernel: vm_commit_limit(): (RAM * overcommit_ratio / 100) + swap, in pages. */
  vm_commit_limit(): number {
    return Math.floor((this.page_alloc.totalram_pages() * this.overcommit_ratio) / 100) + this.swap_total_pages
  }

  /**
   * A new process running a program image (the default one: a small PIE with
   * ld.so and libc) — what fork + execve from init would give. Throws
   * ErrnoError when the image cannot be mapped.
   */
  /**
   * mkdir /sys/fs/cgroup/memory/<name> (cgroup v1): a memory cgroup under the
   * root, with a limit and swappiness; attach processes to it. Its files are
   * readable with m.proc('/sys/fs/cgroup/memory/<name>/memory.stat').
   */
  cgroup_create(name: string, o: CgroupOptions = {}): Cgroup {
    arg_string('cgroup_create', 'name', name)
    arg_object('cgroup_create', 'o', o)
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') throw new ErrnoError(EINVAL, 'mkdir')
    if (this.memcg.root.children.some((g) => g.name === name)) throw new ErrnoError(EEXIST, 'mkdir')
    const memcg = this.memcg.create(name)
    const g = new Cgroup(memcg, this.memcg)
    memcg_create_files(this.sysfs, memcg, () => [...this.syscalls.tasks.values()].filter((t) => t.mm?.memcg === memcg && t.pid === t.tgid).map((t) => t.pid), () => this.memcg.flush_stats_if_needed())
    if (o.swappiness !== undefined) g.set_swappiness(o.swappiness)
    if (o.limit !== undefined) g.set_limit(o.limit)
    return g
  }

  spawn(o: SpawnOptions = {}): Process {
    return spawn_process(this.syscalls, o)
  }

  /**
   * insmod: load a built-in driver by name ('scull') or a module object,
   * with module parameters, and make its nodes under /dev as its load
   * script does. Throws ErrnoError (ENOENT: no such module, EEXIST:
   * loaded, EINVAL: a bad parameter, or what its init returned).
   */
  insmod(what: string | KernelModule, params: Readonly<Record<string, ModuleParamValue>> = {}): void {
    const r = this.modules.insmod(what, params)
    this.kernel.after_op?.()
    if (r < 0) throw new ErrnoError(-r, 'insmod')
  }

  /** rmmod: unload a module and remove its nodes. Throws ErrnoError (ENOENT, EBUSY while in use). */
  rmmod(name: string): void {
    const r = this.modules.rmmod(name)
    this.kernel.after_op?.()
    if (r < 0) throw new ErrnoError(-r, 'rmmod')
  }

  /**
   * Kernel: min_free_kbytes_sysctl_handler(): a new vm.min_free_kbytes,
   * the zones' watermarks recomputed and the per-CPU lists' batch and high
   * refitted to them (setup_per_zone_wmarks()).
   */
  set_min_free_kbytes(kbytes: number): void {
    this.min_free_kbytes = kbytes
    const zones = this.page_alloc.zones
    setup_per_zone_wmarks(this.arch, zones, kbytes)
    for (const z of zones) zone_pcp_update(z, this.cpus)
  }

  /**
   * Write `text` to a /proc/sys file, as `echo 1 > /proc/sys/vm/overcommit_memory`
   * does (see src/fs/proc/proc_sysctl.ts for the files). Throws ErrnoError
   * (EINVAL for a bad or out-of-range value, EACCES for a sysctl mmsim keeps
   * fixed) or ProcNotFound. The writer is process `p`, or else the task
   * running on the current CPU (the idle task swapper/N when none): it is
   * who vm.drop_caches' log line names.
   */
  proc_write(path: string, text: string, p?: Process): void {
    arg_string('proc_write', 'path', path)
    if (typeof text !== 'string' && typeof text !== 'number') throw new ERR_INVALID_ARG_TYPE('proc_write', 'text', 'of type string or number', text)
    const cpu = this.tlb.mmu.this_cpu
    const t = p?.task ?? this.syscalls.sched.current[cpu]
    const writer = t && t.exit_state === 0 ? { comm: t.comm, pid: t.pid } : { comm: `swapper/${cpu}`, pid: 0 }
    const r = proc_write(this.proc_view, path, text, writer)
    if (r < 0) throw new ErrnoError(-r, 'write')
  }

  /** The kernel log, as `dmesg` prints it. */
  dmesg(): string {
    return this.printk.dmesg()
  }

  /**
   * The text of a /proc file, e.g. m.proc('/proc/buddyinfo'), or of a /sys
   * attribute a driver made (m.proc('/sys/class/uio/uio0/maps/map0/addr')).
   * Throws for files mmsim does not have; a /sys attribute whose show()
   * fails throws ErrnoError with its errno.
   */
  proc(path: string): string {
    if (arg_string('proc', 'path', path).startsWith('/sys/')) {
      const r = this.sysfs.read(path)
      if (typeof r === 'number') {
        if (r === -ENOENT) throw new ProcNotFound(path)
        throw new ErrnoError(-r, 'read')
      }
      return r
    }
    try {
      return proc_read(this.proc_view, path)
    } catch (e) {
      if (e instanceof ProcAccessDenied) throw new ErrnoError(EACCES, 'open')
      throw e
    }
  }

  /**
   * A device raises interrupt line `irq`: its handlers run (outside any
   * process), then the processes they woke. Returns whether a handler
   * claimed it (false: no handler, IRQ_NONE, or the line is disabled and
   * the interrupt waits until enable_irq).
   */
  raise_irq(irq: number): boolean {
    const handled = this.irqs.handle_irq(irq)
    this.syscalls.sleepers.run_woken()
    this.kernel.after_op?.()
    return handled
  }

  /** Whether a PFN is backed by RAM (not a hole in the memory map). */
  pfn_present(pfn: number): boolean {
    const pa = pfn * 4096
    // (a loop, not some(): the checkers and /dev/mem ask per frame)
    for (const r of this.boot.memblock.memory) if (pa >= r.base && pa < r.end) return true
    return false
  }

  /** pfn_present() for some pfn of [first, end): a range's pfns p with base <= p * 4096 < end meet it. */
  pfn_present_in(first: number, end: number): boolean {
    for (const r of this.boot.memblock.memory) {
      if (Math.max(first, Math.ceil(r.base / 4096)) < Math.min(end, Math.ceil(r.end / 4096))) return true
    }
    return false
  }

  /**
   * Fault injection for the page allocator (Kernel: /sys/kernel/debug/fail_page_alloc):
   * set `probability` (percent) and the filters (min_order, ignore_gfp_reclaim, ...) to make
   * allocations fail at random, seeded points.
   */
  get fail_page_alloc(): FailPageAlloc {
    return this.page_alloc.fail_page_alloc
  }
  /** Fault injection for slab allocations (Kernel: /sys/kernel/debug/failslab). */
  get failslab(): FailSlab {
    return this.slab.failslab
  }

  /** The invariant checker (DEBUG_VM): the whole machine recounted; throws KernelBug at the first inconsistency. */
  check(): void {
    check_page_alloc(this.page_alloc, (pfn) => this.pfn_present(pfn))
    if (this.page_alloc.debug_touched) this.page_alloc.debug_touched.length = 0
    for (const c of this.checkers) c(null)
  }

  /**
   * The checker debug_vm runs after each call: the page allocator only
   * around the blocks the call touched (debug_vm_touched.ts: O(touched), not
   * O(RAM)), page tables by a walk of the live tables with only the touched
   * frames searched for leaks, the other subsystems whole (each is small).
   * check() recounts everything.
   */
  check_touched(): void {
    const touched = this.page_alloc.debug_touched
    if (!touched) return this.check()
    check_page_alloc_touched(this.page_alloc, touched, (pfn) => this.pfn_present(pfn))
    for (const c of this.checkers) c(touched)
    touched.length = 0
  }

  /**
   * Run `fn` with the per-call checker (debug_vm) suspended, then run the
   * full check() once when it ends, however it ends (a KernelBug from the
   * check replaces an exception of `fn`). For loops of thousands of calls
   * (running memory out page by page), where a whole-machine check after
   * each call is quadratic; the final state is still checked completely.
   * Nests; returns what `fn` returns.
   */
  deferred_check<T>(fn: () => T): T {
    const k = this.kernel.after_op
    const p = this.syscalls.after_syscall
    this.kernel.after_op = null
    this.syscalls.after_syscall = null
    try {
      return fn()
    } finally {
      this.kernel.after_op = k
      this.syscalls.after_syscall = p
      this.check()
    }
  }
}

/** The narrow view /proc formats its files from: the machine's parts, live values through getters. */
/**
 * The memmap= parameter's nn$ss ranges. Each must be page-aligned RAM above
 * 1 MiB clear of the kernel image (mmsim refuses what would break its boot).
 */
function parse_memmap(v: string | undefined, ram: number): Range[] {
  if (v === undefined) return []
  if (typeof v !== 'string') throw new MachineConfigError(`memmap: '${String(v)}' is not a string like 1M$0x2000000`)
  const num = (t: string): number => {
    const m = /^(0x[0-9a-f]+|\d+)([KMG]?)$/i.exec(t)
    if (!m) return NaN
    return Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G']
  }
  const img = kernel_image(ram)
  const low_ram_end = Math.min(ram, 3 * 1024 ** 3) - 0x20000
  return v.split(',').map((one) => {
    const [nn, ss, extra] = one.split('$')
    const size = num(nn ?? ''), base = num(ss ?? '')
    if (extra !== undefined || !(size > 0) || !(base >= 0)) throw new MachineConfigError(`memmap: '${one}' is not nn$ss (a size and an address, like 1M$0x2000000)`)
    if (size % 4096 || base % 4096) throw new MachineConfigError(`memmap: '${one}' is not page-aligned`)
    if (base < 1024 ** 2 || base + size > low_ram_end) throw new MachineConfigError(`memmap: '${one}' is not inside the RAM between 1 MiB and 0x${low_ram_end.toString(16)}`)
    if (base < img._end && base + size > img._text) throw new MachineConfigError(`memmap: '${one}' overlaps the kernel image (0x${img._text.toString(16)}-0x${(img._end - 1).toString(16)})`)
    return { base, end: base + size, name: 'reserved' }
  })
}

class MachineProcView implements ProcView {
  constructor(private readonly m: Machine) {}
  get arch(): ArchProfile { return this.m.arch }
  get cpus(): number { return this.m.cpus }
  get boot(): BootMemory { return this.m.boot }
  get iomem(): IomemResource { return this.m.iomem }
  get page_alloc(): PageAllocator { return this.m.page_alloc }
  get vmstat(): VmStat { return this.m.vmstat }
  get slab(): SlabAllocator { return this.m.slab }
  get vmalloc(): Vmalloc { return this.m.vmalloc }
  get vm_committed_as(): number { return this.m.vm_committed_as }
  vm_commit_limit(): number { return this.m.vm_commit_limit() }
  get swap_total_pages(): number { return this.m.swap_total_pages }
  get swap_free_pages(): number { return this.m.swap_free_pages }
  swaps_show(): string { return swaps_show(this.m.mm_env) }
  get vmalloc_total_bytes(): number { return this.m.vmalloc_total_bytes }
  vmalloc_used_pages(): number { return this.m.vmalloc_used_pages() }
  get tasks(): ReadonlyMap<number, TaskStruct> { return this.m.syscalls.tasks }
  get mm(): MmEntry { return this.m.syscalls.mm }
  chrdev_show(): string { return this.m.chrdevs.chrdev_show() }
  get sysctl(): MmSysctl { return this.m.mm_env.sysctl }
  get min_free_kbytes(): number { return this.m.min_free_kbytes }
  set_min_free_kbytes(kbytes: number): void { this.m.set_min_free_kbytes(kbytes) }
  get page_cluster(): number { return this.m.mm_env.swap.page_cluster }
  set page_cluster(v: number) { this.m.mm_env.swap.page_cluster = v }
  get watermark_scale_factor(): number { return WATERMARK_SCALE_FACTOR }
  get coredump(): CoredumpSysctl { return this.m.syscalls.coredump }
  now(): number { return this.m.clock.now() }
  block_devices(): BlockDevice[] {
    const root = this.m.fs.root_bdi.disk
    return [...(root ? [root] : []), ...[...this.m.mm_env.swap.bdevs.values()].map((b) => b.disk)]
  }
  wakeup_flusher_threads(): void { wakeup_flusher_threads(this.m.mm_env, this.m.fs.root_bdi) }
  writeback_set_ratelimit(): void { writeback_set_ratelimit(this.m.mm_env, this.m.fs.root_bdi) }
  get randomize_va_space(): number { return this.m.syscalls.randomize_va_space }
  set randomize_va_space(v: number) { this.m.syscalls.randomize_va_space = v }
  get cpustat(): ProcView['cpustat'] { const c = this.m.clock; return { now_ns: c.now(), system_ns: c.system_ns, iowait_ns: c.iowait_ns } }
  get nr_irqs(): number { return NR_IRQS }
  get pcid(): boolean { return this.m.tlb.pcid }
  get drop_caches(): DropCaches { return this.m.drop_caches }
  irq_count(irq: number): number { return this.m.irqs.count.get(irq) ?? 0 }
  get nr_switches(): number { return this.m.syscalls.sched.nr_switches }
  get total_forks(): number { return this.m.syscalls.pids.total_forks }
  // A task is running while it is some CPU's current task; nothing blocks across a step (the disk's waits end inside the fault).
  nr_running(): number { return this.m.syscalls.sched.current.filter((t) => t !== null && t.exit_state === 0).length }
  nr_iowait(): number { return 0 }
}

export { KernelBug }
