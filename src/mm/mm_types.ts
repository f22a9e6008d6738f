/**
 * Process address-space types: mm_struct, vm_area_struct, anon_vma,
 * anon_vma_chain, and the vm_flags bits with Linux 6.18's values
 * (Kernel: include/linux/mm_types.h, include/linux/mm.h, include/linux/rmap.h).
 *
 * API note for the user side (Process API, /proc formatters, replay runner)
 * -------------------------------------------------------------------------
 * Every kernel-side entry point returns a number: >= 0 (or an address) on
 * success, -errno on failure, with the checks in Linux's order:
 *   mmap.ts     sys_mmap(mm, addr, len, prot, flags, fd, off, fget) (the syscall: offset,
 *               fd and MAP_HUGETLB checks), vm_mmap_pgoff(mm, file, addr, len, prot, flags, pgoff)
 *               (do_mmap + MAP_POPULATE/VM_LOCKED populate), do_mmap(), do_munmap(mm, start, len),
 *               sys_brk(mm, brk) (returns the new or the old break), get_unmapped_area()
 *   mprotect.ts do_mprotect_pkey(mm, start, len, prot)
 *   mremap.ts   do_mremap(mm, addr, old_len, new_len, flags, new_addr)
 *   madvise.ts  do_madvise(mm, start, len, advice)
 *   mlock.ts    do_mlock(mm, start, len, vm_flags), sys_mlock2(mm, start, len, flags),
 *               do_munlock(mm, start, len), do_mlockall(mm, flags), do_munlockall(mm)
 *   msync.ts    do_msync(mm, start, len, flags)
 *   mincore.ts  do_mincore(mm, start, len, out: Uint8Array) (0 or -errno)
 *   mseal.ts    do_mseal(mm, start, len, flags)
 *   uaccess.ts  access_user(mm, addr, len, write, src?) -> {data, done, fault: {signal, si_code, addr} | null}
 *               (a CPU's loads/stores through the MMU; never throws), copy_to_user / copy_from_user
 *               (bytes NOT copied, like Linux), get_user / put_user (0 or -EFAULT)
 *   file_rw.ts  vfs_pread / vfs_pwrite / vfs_ftruncate (kernel buffers), file_read_to_user /
 *               file_write_from_user (read(2)/write(2) into/from user memory, EFAULT and short counts)
 *   shmem.ts    shmem_file_setup(env, name, size, 'shmem' | 'disk') (tmpfs file or disk-like file)
 *   smaps.ts    smaps_walk(mm, vma) -> MemSizeStats as fs/proc/task_mmu.c computes them (kB(), pss_kB())
 *   vmflags.ts  vm_flags_string(flags) -> the smaps VmFlags mnemonics
 *   kernel/fork.ts mm_alloc(env, task_size), dup_mm(oldmm) (fork's copy);
 *   kernel/exit.ts mmput / mmget / mmgrab / mmdrop, exit_mmap
 *   tlbflush.ts attach_mmu(env, MmuSet) wires the per-CPU TLBs (src/hw) in; switch_mm()
 * Addresses are plain numbers (user addresses are < TASK_SIZE, exact). Lengths
 * are unsigned 64-bit values carried in numbers (exact below 2^53; values near
 * 2^64 keep their wrap-around meaning for the argument checks).
 * The VMAs of an mm are `mm.mm_mt`, a MapleTree of VmArea in address order
 * (maple_tree.ts: a B+tree with gap tracking); iterate it or use vma.ts (find_vma, find_vma_prev,
 * find_vma_intersection, vma_lookup, vmas_in_range). VmArea / MmStruct
 * fields keep the kernel's names and stay stable.
 *
 * vm_flags use bits above 31 (VM_SEALED is bit 42 on x86-64), so they are
 * a vm_flags_t: an exact JS number branded as a flag word (src/include/wide.ts).
 * Every bit operation goes through vm_flags_or / vm_flags_and / vm_flags_andnot /
 * vm_flags_xor / vm_flags_test / vm_flags_shr; `npm run lint` refuses a raw
 * `|`, `&`, `^`, `~`, shift or compound assignment on one (lint/flag-word-ops.js),
 * and the compiler refuses a plain number where a vm_flags_t is expected
 * (constants are written `0x2000 as vm_flags_t`, masks with flags_union()).
 */
import type { DiskBlocks } from '../hw/block_store.js'
import type { MemCgroup, MemcgSubsys } from './memcontrol.js'
import type { XaNodes } from './xarray.js'
import { PAGE_SHIFT, PAGE_SIZE } from '../include/page_types.js'
import { MapleTree } from './maple_tree.js'
import type { PageArray } from './page.js'
import type { PhysMem } from '../hw/physmem.js'
import type { VmStat } from './vmstat.js'
import type { Tracer } from '../include/trace.js'
import type { ArchProfile } from '../arch/profile.js'
import type { MmContext } from '../arch/x86/tlb.js'
import type { CurrentTask } from '../include/resource.js'
import type { FramePageTables } from './pgtable_mm.js'
import type { Clock } from '../hw/clock.js'
import type { SwapState } from './swap_h.js'
import { flags_and, flags_andnot, flags_or, flags_shr, flags_test, flags_union, flags_xor, type vm_flags_t } from '../include/wide.js'

export type { vm_flags_t } from '../include/wide.js'

// ---- vm_flags (include/linux/mm.h, 6.18, x86-64) ----
export const VM_NONE = 0 as vm_flags_t
export const VM_READ = 0x1 as vm_flags_t
export const VM_WRITE = 0x2 as vm_flags_t
export const VM_EXEC = 0x4 as vm_flags_t
export const VM_SHARED = 0x8 as vm_flags_t
export const VM_MAYREAD = 0x10 as vm_flags_t
export const VM_MAYWRITE = 0x20 as vm_flags_t
export const VM_MAYEXEC = 0x40 as vm_flags_t
export const VM_MAYSHARE = 0x80 as vm_flags_t
export const VM_GROWSDOWN = 0x100 as vm_flags_t
export const VM_UFFD_MISSING = 0x200 as vm_flags_t
export const VM_PFNMAP = 0x400 as vm_flags_t
export const VM_MAYBE_GUARD = 0x800 as vm_flags_t
export const VM_UFFD_WP = 0x1000 as vm_flags_t
export const VM_LOCKED = 0x2000 as vm_flags_t
export const VM_IO = 0x4000 as vm_flags_t
export const VM_SEQ_READ = 0x8000 as vm_flags_t
export const VM_RAND_READ = 0x10000 as vm_flags_t
export const VM_DONTCOPY = 0x20000 as vm_flags_t
export const VM_DONTEXPAND = 0x40000 as vm_flags_t
export const VM_LOCKONFAULT = 0x80000 as vm_flags_t
export const VM_ACCOUNT = 0x100000 as vm_flags_t
export const VM_NORESERVE = 0x200000 as vm_flags_t
export const VM_HUGETLB = 0x400000 as vm_flags_t
export const VM_SYNC = 0x800000 as vm_flags_t
export const VM_ARCH_1 = 0x1000000 as vm_flags_t
export const VM_WIPEONFORK = 0x2000000 as vm_flags_t
export const VM_DONTDUMP = 0x4000000 as vm_flags_t
/** CONFIG_MEM_SOFT_DIRTY is off on the reference kernel: VM_SOFTDIRTY is 0. */
export const VM_SOFTDIRTY = 0 as vm_flags_t
export const VM_MIXEDMAP = 0x10000000 as vm_flags_t
export const VM_HUGEPAGE = 0x20000000 as vm_flags_t
export const VM_NOHUGEPAGE = 0x40000000 as vm_flags_t
export const VM_MERGEABLE = 0x80000000 as vm_flags_t
export const VM_PKEY_BIT0 = (2 ** 32) as vm_flags_t
export const VM_PKEY_BIT1 = (2 ** 33) as vm_flags_t
export const VM_PKEY_BIT2 = (2 ** 34) as vm_flags_t
export const VM_PKEY_BIT3 = (2 ** 35) as vm_flags_t
/** x86 shadow stack (VM_HIGH_ARCH_5). */
export const VM_SHADOW_STACK = (2 ** 37) as vm_flags_t
export const VM_DROPPABLE = (2 ** 40) as vm_flags_t
export const VM_UFFD_MINOR = (2 ** 41) as vm_flags_t
export const VM_SEALED = (2 ** 42) as vm_flags_t

export const VM_STACK = VM_GROWSDOWN
export const VM_ACCESS_FLAGS = flags_union(VM_READ, VM_WRITE, VM_EXEC)
export const VM_SPECIAL = flags_union(VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP)
export const VM_LOCKED_MASK = flags_union(VM_LOCKED, VM_LOCKONFAULT)
/** VM_STACK_DEFAULT_FLAGS on x86-64 for a 64-bit task: VM_DATA_DEFAULT_FLAGS | VM_STACK | VM_ACCOUNT... see exec. */
export const VM_DATA_DEFAULT_FLAGS = flags_union(VM_READ, VM_WRITE, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC)
/** Flags that do not prevent a merge (VM_IGNORE_MERGE): soft-dirty (0 here) and maybe-guard. */
export const VM_IGNORE_MERGE = flags_union(VM_SOFTDIRTY, VM_MAYBE_GUARD)
/** VMA flags that are sticky: kept by a merge when either side has them (VM_STICKY). */
export const VM_STICKY = flags_union(VM_SOFTDIRTY, VM_MAYBE_GUARD)
/** Flags copied to the new VMA on fork only if not cleared (VM_COPY_ON_FORK in 6.18: guard hint). */
export const VM_COPY_ON_FORK = VM_MAYBE_GUARD
export const VM_UFFD_FLAGS = flags_union(VM_UFFD_MISSING, VM_UFFD_WP, VM_UFFD_MINOR)

/** a | b on vm_flags (the bit operation of Kernel: vm_flags_set(); exact above bit 31, see include/wide.ts). */
export const vm_flags_or = flags_or<vm_flags_t>
/** a & ~b on vm_flags (Kernel: vm_flags_clear()'s bit operation). */
export const vm_flags_andnot = flags_andnot<vm_flags_t>
/** a & b on vm_flags. */
export const vm_flags_and = flags_and<vm_flags_t>
/** a ^ b on vm_flags. */
export const vm_flags_xor = flags_xor<vm_flags_t>
/** True when a and b share any bit. */
export const vm_flags_test = flags_test<vm_flags_t>
/** a >> n on vm_flags. */
export const vm_flags_shr = flags_shr<vm_flags_t>

const COW_MASK = flags_union(VM_SHARED, VM_MAYWRITE)
/** Kernel: is_cow_mapping(): private and may become writable (VM_MAYWRITE without VM_SHARED). */
export function is_cow_mapping(flags: vm_flags_t): boolean {
  return vm_flags_and(flags, COW_MASK) === VM_MAYWRITE
}
const EXEC_MASK = flags_union(VM_EXEC, VM_WRITE, VM_STACK)
/** Kernel: is_exec_mapping() (mm/internal.h): executable, not writable, not a stack. */
export function is_exec_mapping(flags: vm_flags_t): boolean {
  return vm_flags_and(flags, EXEC_MASK) === VM_EXEC
}
/** Kernel: is_stack_mapping(). */
export function is_stack_mapping(flags: vm_flags_t): boolean {
  return vm_flags_test(flags, VM_STACK)
}
const DATA_MASK = flags_union(VM_WRITE, VM_SHARED, VM_STACK)
/** Kernel: is_data_mapping(): private writable, not a stack. */
export function is_data_mapping(flags: vm_flags_t): boolean {
  return vm_flags_and(flags, DATA_MASK) === VM_WRITE
}

// ---- file / address_space seen from the mm side ----
export const FMODE_READ = 0x1
export const FMODE_WRITE = 0x2
/** FMODE_RANDOM: POSIX_FADV_RANDOM was given; readahead reads only what is asked for. */
export const FMODE_RANDOM = 0x1000

/**
 * struct backing_dev_info, the readahead part: what the device's queue
 * says (/sys/block/<dev>/queue/read_ahead_kb and max_sectors_kb).
 */
export type { BackingDevInfo } from './backing_dev.js'
import type { BackingDevInfo } from './backing_dev.js'

/**
 * struct file_ra_state (include/linux/fs.h): one open file's readahead
 * window, shared by read(2) and the faults of every mapping of that file.
 */
export interface FileRaState {
  /** Where the last readahead window started (page index). */
  start: number
  /** Its size in pages. */
  size: number
  /** Pages of it left when the next readahead should start (the PG_readahead page is at start + size - async_size). */
  async_size: number
  /** Preferred folio order of the next window (ext4 has large folios). */
  order: number
  /** The most pages one window reads (the device's ra_pages when opened; 0: no readahead). */
  ra_pages: number
  /** Cache misses minus hits of mmap faults (read-around stops past MMAP_LOTSAMISS). */
  mmap_miss: number
  /** The byte after the last one the previous read(2) returned (-1: none yet). */
  prev_pos: number
}

/** The inode an address_space belongs to (mapping->host) as the mm sees it: its number, device and backing device. */
export interface MappingHost {
  readonly i_ino: number
  readonly i_sb: { readonly s_dev: number; readonly s_bdi?: BackingDevInfo }
}

/**
 * The page-cache side an mm needs (Kernel: struct address_space). Implemented
 * by shmem.ts (ShmemMapping); the page-cache issue extends it.
 */
export interface AddressSpace {
  readonly id: number
  /** Page index -> pfn of the cached page. */
  readonly i_pages: Map<number, number>
  /** Page index -> shadow entry (workingset.ts) of a page reclaim evicted from the slot. */
  readonly i_shadows: Map<number, number>
  /** shmem: page index -> the swap entry its slot holds while the page is out (shmem_writeout()). */
  readonly i_swap: Map<number, number>
  /** The node structure an xarray with these pages and shadows would have (xarray.ts). */
  readonly xa: XaNodes
  /** VMAs mapping this object (i_mmap). */
  readonly i_mmap: Set<VmArea>
  /** File size in bytes (i_size). */
  i_size: number
  /** Backing: 'shmem' (tmpfs / shared anon, no writeback) or 'disk' (writeback on sync). */
  readonly backing: 'shmem' | 'disk'
  /**
   * A disk file's blocks on the simulated disk (4 KiB blocks, by page index): what writeback
   * wrote, what a page read in is filled from. Empty for shmem.
   */
  readonly disk_blocks: DiskBlocks
  /**
   * inode->dirtied_when: clock ns when the inode went from clean to having
   * dirty pages (__mark_inode_dirty()); kupdate writeback takes inodes
   * dirtied longer than dirty_expire_centisecs ago. Meaningful while the
   * mapping is on its wb's b_dirty.
   */
  dirtied_when: number
  /** PAGECACHE_TAG_DIRTY of a disk file's xarray: the indexes of its dirty pages (writeback finds them without a walk). */
  readonly dirty_tag: Set<number>
  /** mapping->writeback_index: where range-cyclic writeback of this file goes on. */
  writeback_index: number
  /**
   * inode->i_state's I_DIRTY_SYNC | I_DIRTY_DATASYNC bits (fs_writeback.ts):
   * SYNC when only the times changed, DATASYNC too when the size did (what
   * fdatasync must write). Cleared by sync_inode_metadata() (fsync, and
   * fdatasync when DATASYNC is set).
   */
  i_state: number
  /**
   * The inode-table block holding this inode is dirty in the disk's buffer
   * cache: no-journal ext4 copies every inode change into it at once
   * (ext4_mark_inode_dirty()), also the block allocation of writeback, which
   * does not set i_state. fsync and fdatasync write it (ext4_write_inode()),
   * sync(2) and syncfs(2) with the device's other dirty buffers.
   */
  itable_dirty: boolean
  /** The inode (null for the kernel's internal shmem objects: MAP_SHARED|MAP_ANONYMOUS memory). */
  host: MappingHost | null
  /**
   * Large folios readahead marked PG_readahead (first index -> pages): the
   * cache holds order-0 pages, so the mark's folio extent is kept here
   * (readahead.ts) while the mark lives.
   */
  readonly ra_folios: Map<number, number>
  /** A tmpfs inode's super block limits (shmem_sb_info), null for an internal object (shm_mnt: no limit) or a disk file. */
  readonly sbinfo?: ShmemSbInfo | null
  /** Kernel: shmem_inode_info.seals (F_SEAL_*): memfd's seals; F_SEAL_SEAL alone for every other file. */
  seals?: number
}

/**
 * Kernel: struct shmem_sb_info, the size limits of one tmpfs instance:
 * max_blocks pages (0: unlimited), used_blocks pages its inodes hold in
 * memory or in swap; max_inodes inodes.
 */
export interface ShmemSbInfo {
  max_blocks: number
  used_blocks: number
  /** max_inodes (0: unlimited) and the inodes still free (free_ispace / BOGO_INODE_SIZE). */
  max_inodes: number
  free_inodes: number
}

/** struct file as the mm sees it. */
export interface VmFile {
  /** FMODE_* bits (fadvise sets FMODE_RANDOM / FMODE_NOREUSE). */
  f_mode: number
  readonly f_mapping: AddressSpace
  /** Kernel: file_inode(): the file's own inode, when f_mapping is not its page cache (/dev/mem: the iomem inode's). */
  readonly f_inode?: MappingHost
  /** Path or name printed in /proc/<pid>/maps. */
  readonly name: string
  /** True for the object behind MAP_SHARED|MAP_ANONYMOUS (shmem_zero_setup; maps prints no name). */
  readonly anon_shared: boolean
  /** An fd that supports MAP_SYNC (DAX) — false for tmpfs and ext4 without DAX. */
  readonly supports_map_sync?: boolean
  /** Reference count (get_file/fput). */
  f_count: number
  /** f_ra: the readahead state of this open file. */
  readonly f_ra: FileRaState
  /**
   * Kernel: f_op->mmap of a file whose mapping is not the page cache's (a
   * character device): called on the new VMA before it is linked, 0 or
   * -errno; null when the file has no mmap (do_mmap: ENODEV). Absent for
   * regular files (generic_file_mmap is implied).
   */
  readonly f_mmap?: ((vma: VmArea) => number) | null
  /** FMODE_UNSIGNED_OFFSET (/dev/mem): positions are unsigned, file_mmap_ok() puts no ceiling. */
  readonly f_unsigned_offset?: boolean
  /** Kernel: __fput(): what dropping the last reference runs (the file's release). */
  __fput?(): void
}

/**
 * Kernel: struct vm_fault, the part a fault handler reads and fills: the
 * page-aligned address, the page offset in the mapped object
 * (vm_pgoff + (address - vm_start) / PAGE_SIZE), FAULT_FLAG_* bits, and
 * `page`: the frame the handler hands back with a reference it took
 * (get_page), -1 when it hands back none.
 */
export interface VmFault {
  readonly vma: VmArea
  readonly address: number
  readonly pgoff: number
  readonly flags: number
  page: number
}

/** struct vm_operations_struct (the parts the core calls). */
export interface VmOperations {
  /** Kernel: name(): the /proc/<pid>/maps label (a string for the kernel's fixed names). */
  readonly name?: string | ((vma: VmArea) => string | null)
  /** A new VMA refers to the object: fork's copy, a split piece, mremap's move (not the first mmap). */
  open?(vma: VmArea): void
  close?(vma: VmArea): void
  /** Return 0 to allow a split at addr or -errno. */
  may_split?(vma: VmArea, addr: number): number
  /**
   * Kernel: fault(): a vm_fault_t. 0 with vmf.page set (a referenced
   * page the core maps), VM_FAULT_NOPAGE after installing the PTE itself
   * (vmf_insert_pfn), or VM_FAULT_SIGBUS / SIGSEGV / OOM.
   */
  fault?(vmf: VmFault): number
  /** Kernel: map_pages(): fault-around on a read fault, [start_pgoff, end_pgoff] of the object. */
  map_pages?(vmf: VmFault, start_pgoff: number, end_pgoff: number): number
  /** Kernel: page_mkwrite(): a shared mapping's page is about to become writable; 0 or VM_FAULT_* error. */
  page_mkwrite?(vmf: VmFault): number
  /** Kernel: access(): access_process_vm() on a VM_IO/VM_PFNMAP VMA; bytes copied or -errno. */
  access?(vma: VmArea, addr: number, buf: Uint8Array, write: boolean): number
}

/**
 * Kernel: the empty vm_operations_struct (vma_init()'s dummy_vm_ops) a
 * file VMA gets before f_op->mmap: a device VMA whose driver installs no
 * fault handler keeps it, and its faults are SIGBUS (do_fault()).
 */
export const dummy_vm_ops: VmOperations = Object.freeze({})

/**
 * What the driver layer asks the mm to tell it (src/drivers/mmap_check.ts):
 * each new device VMA after f_op->mmap succeeded, and each page a fault
 * handler handed back before it is mapped. Empty on a machine without it.
 */
export interface DriverMmHooks {
  mmap_done?(vma: VmArea): void
  /** vm_area_dup() copied a file VMA (fork, split, mremap's move): the copy is the same mapping. */
  vma_dup?(from: VmArea, to: VmArea): void
  fault_page?(vmf: VmFault): void
  /** A WARN()/pr_err() of the mm about a driver's call (the kernel log). */
  warn?(text: string): void
}

/** struct anon_vma. */
export class AnonVma {
  root: AnonVma
  parent: AnonVma
  refcount = 1
  /** Number of child anon_vmas (and VMAs) that have this one as parent. */
  num_children = 0
  /** Number of VMAs whose vma->anon_vma is this one. */
  num_active_vmas = 0
  /** Address of the slab object (anon_vma cache), 0 without slab. */
  slab_obj = 0
  /** The anon_vma_chains linking VMAs to this anon_vma (rb_root). */
  readonly rb_root = new Set<AnonVmaChain>()
  constructor(readonly id: number) {
    this.root = this
    this.parent = this
  }
}

/** struct anon_vma_chain. */
export interface AnonVmaChain {
  readonly vma: VmArea
  readonly anon_vma: AnonVma
  /** Address of the slab object (anon_vma_chain cache), 0 without slab. */
  readonly slab_obj: number
}

/** struct vm_area_struct. */
export class VmArea {
  vm_start = 0
  vm_end = 0
  vm_flags: vm_flags_t = VM_NONE
  /** Offset in PAGE_SIZE units within vm_file (or the anonymous linear index). */
  vm_pgoff = 0
  vm_file: VmFile | null = null
  anon_vma: AnonVma | null = null
  /** List of anon_vma_chains (anon_vma_chain). */
  anon_vma_chain: AnonVmaChain[] = []
  vm_ops: VmOperations | null = null
  /**
   * vma_set_anonymous() was called on a file VMA (a private /dev/zero
   * mapping): its faults are anonymous though it keeps vm_file. Linux needs
   * no mark (a file VMA always has vm_ops there); mmsim's page-cache VMAs
   * carry none, so the mark is explicit.
   */
  vm_anonymous = false
  /** prctl(PR_SET_VMA_ANON_NAME) name, or null. */
  anon_name: string | null = null
  /** userfaultfd context, or null. */
  vm_userfaultfd_ctx: object | null = null
  /** Private data of a driver mapping. */
  vm_private_data: unknown = null
  /** Special-mapping name ([vdso], [vvar], [heap] is derived from brk). */
  special_name: string | null = null
  /** Address of the slab object (vm_area_struct cache), 0 without slab. */
  slab_obj = 0
  /** Kernel: swap_readahead_info: the last swap fault's address | window << 6 | hits (swap_state.ts). */
  swap_readahead_info = 0
  constructor(readonly vm_mm: MmStruct) {}
}

// rss_stat counters (enum)
export const MM_FILEPAGES = 0
export const MM_ANONPAGES = 1
export const MM_SWAPENTS = 2
export const MM_SHMEMPAGES = 3

/** Kernel sysctls the address-space code reads (vm.* and friends). */
export interface MmSysctl {
  max_map_count: number
  /** 0 heuristic, 1 always, 2 never. */
  overcommit_memory: 0 | 1 | 2
  overcommit_ratio: number
  overcommit_kbytes: number
  admin_reserve_kbytes: number
  user_reserve_kbytes: number
  mmap_min_addr: number
  /** stack_guard_gap in bytes (256 pages by default). */
  stack_guard_gap: number
  /** Fault-around bytes (64 KiB default). */
  fault_around_bytes: number
  /** Boot option ignore_rlimit_data (off): RLIMIT_DATA only warns when set. */
  ignore_rlimit_data: boolean
  /** Number of huge pages reserved (nr_hugepages): 0 makes MAP_HUGETLB ENOMEM. */
  nr_hugepages: number
  /** vm.swappiness (60): the root group's anon-versus-file balance in reclaim. */
  swappiness: number
  /** vm.dirty_ratio (20) and vm.dirty_bytes (0): the dirty limit, as a share of dirtyable memory or in bytes (one of them is 0). */
  dirty_ratio: number
  dirty_bytes: number
  /** vm.dirty_background_ratio (10) and vm.dirty_background_bytes (0): where background writeback starts. */
  dirty_background_ratio: number
  dirty_background_bytes: number
  /** vm.dirty_expire_centisecs (3000): a dirty inode older than this is written by the periodic flush. */
  dirty_expire_centisecs: number
  /** vm.dirty_writeback_centisecs (500): the flusher's period (0: no periodic writeback). */
  dirty_writeback_centisecs: number
}

export function default_sysctl(): MmSysctl {
  return {
    max_map_count: 65530,
    overcommit_memory: 0,
    overcommit_ratio: 50,
    overcommit_kbytes: 0,
    admin_reserve_kbytes: 8192,
    user_reserve_kbytes: 131072,
    mmap_min_addr: 65536,
    stack_guard_gap: 256 * PAGE_SIZE,
    fault_around_bytes: 65536,
    ignore_rlimit_data: false,
    nr_hugepages: 0,
    swappiness: 60,
    dirty_ratio: 20,
    dirty_background_ratio: 10,
    dirty_bytes: 0,
    dirty_background_bytes: 0,
    dirty_expire_centisecs: 3000,
    dirty_writeback_centisecs: 500,
  }
}

/**
 * What the mm layer needs from the rest of the machine. The foundation's
 * PageAllocator satisfies the allocator part structurally.
 */
export interface MmEnv {
  /** The architecture profile (NX availability, TASK_SIZE). */
  readonly arch: ArchProfile
  readonly pages: PageArray
  readonly physmem: PhysMem
  readonly vmstat: VmStat
  readonly trace: Tracer
  /** Kernel: alloc_pages(); -1 on failure. */
  alloc_pages(gfp: number, order: number): number
  /** Kernel: __free_pages(). */
  __free_pages(pfn: number, order: number): void
  /** Page tables for a new mm (pgd_alloc); null when out of memory. */
  pgd_alloc(): FramePageTables | null
  /** The shared zero page's pfn (ZERO_PAGE(0)). */
  readonly zero_pfn: number
  readonly sysctl: MmSysctl
  /** Total RAM pages (totalram_pages()) for CommitLimit. */
  totalram_pages(): number
  /** Free + reclaimable pages for the overcommit heuristic (mode 0). */
  available_pages(): number
  /** Kernel: global_dirtyable_memory() (page_writeback.ts), over the machine's zones. */
  global_dirtyable_memory(): number
  /** vm_committed_as, in pages. */
  vm_committed_as: number
  /**
   * The kernel-object caches: an object is allocated from / freed to its
   * cache ("mm_struct", "vm_area_struct", "anon_vma", "anon_vma_chain");
   * kmem_alloc returns the object's kernel address (0 when out of memory),
   * which the object keeps in `slab_obj` for kmem_free. `gfp` defaults to
   * GFP_KERNEL (anon_vma_clone() tries GFP_NOWAIT first).
   */
  kmem_alloc(cache: string, gfp?: number): number
  kmem_free(cache: string, obj: number): void
  /**
   * Kernel: call_rcu(): `fn` runs on this CPU once a grace period has
   * passed (src/kernel/rcu.ts), for objects RCU readers may still hold.
   */
  call_rcu(fn: () => void): void
  /**
   * Kernel: flush_tlb_range(): flush [start,end) of mm on every CPU;
   * `freed_tables`: page tables were freed too (lazy CPUs and
   * paging-structure caches must drop them).
   */
  flush_tlb_range(mm: MmStruct, start: number, end: number, freed_tables?: boolean): void
  /** Kernel: flush_tlb_mm(): the whole mm on every CPU, page tables possibly freed (fork, exit). */
  flush_tlb_mm(mm: MmStruct): void
  /**
   * The machine's MMU (src/hw/mmu.ts): a user access to vpn on the
   * executing CPU; the pfn, or -1 when it faults.
   */
  mmu_translate(mm: MmStruct, vpn: number, write: boolean, exec?: boolean): number
  /** The machine's clock (src/hw/clock.ts): faults, zeroing and copies are charged to it. */
  readonly clock: Clock
  /** Kernel: pr_warn() (the kernel log). */
  pr_warn(msg: string): void
  /** Kernel: pr_warn_once() at call site `key` (the kernel log). */
  pr_warn_once(key: string, msg: string): void
  /** Next id for anon_vma / address_space objects. */
  next_id(): number
  /** Live anon_vmas by id (page->mapping of an anonymous page is -id). */
  readonly anon_vmas: Map<number, AnonVma>
  /** Live address_spaces by id (page->mapping of a page-cache page is +id). */
  readonly mappings: Map<number, AddressSpace>
  /** The driver layer's view of device mappings (src/drivers/mmap_check.ts). */
  readonly driver_hooks: DriverMmHooks
  /** Memory cgroups: charges, stocks, and the lruvecs every LRU page is on (memcontrol.ts). */
  readonly memcg: MemcgSubsys
  /** Swap areas, slots and the swap cache (src/mm/swap.ts). */
  readonly swap: SwapState
  /** The node's kswapd (src/mm/kswapd.ts). */
  readonly kswapd: KswapdState
}

/** What reclaim and the allocator see of the node's kswapd (struct pglist_data; src/mm/kswapd.ts). */
/** What global reclaim reads of the node (vmscan.ts: file_is_tiny). */
export interface NodeState {
  nr_free_pages(): number
  total_high_wmark(): number
}

export interface KswapdState {
  /** balance_pgdat() runs in a row that freed nothing; at MAX_RECLAIM_RETRIES the node is left to direct reclaim. */
  kswapd_failures: number
  /** The node kswapd balances; direct reclaim reads the same one. */
  readonly node: NodeState
  /** pgdat->nr_writeback_throttled: reclaimers sleeping until the flusher's writes progress (vmscan_throttle.ts). */
  nr_writeback_throttled: number
  /** pgdat->nr_reclaim_start: nr_throttled_written when the first of them went to sleep. */
  nr_reclaim_start: number
}

/** struct mm_struct. */
export class MmStruct {
  /** The VMAs in address order, with gap tracking (Kernel: mm->mm_mt, the maple tree). */
  mm_mt = new MapleTree<VmArea>()
  pgd: FramePageTables
  /** Users of the address space (threads, get_task_mm); mmput frees the mappings at 0. */
  mm_users = 1
  /** References to the struct itself (mm_users counts as one); mmdrop frees it at 0. */
  mm_count = 1
  map_count = 0
  mmap_base = 0
  mmap_legacy_base = 0
  task_size: number
  start_code = 0
  end_code = 0
  start_data = 0
  end_data = 0
  start_brk = 0
  brk = 0
  start_stack = 0
  arg_start = 0
  arg_end = 0
  env_start = 0
  env_end = 0
  /** Pages counters (not bytes), as in the kernel. */
  total_vm = 0
  locked_vm = 0
  pinned_vm = 0
  data_vm = 0
  exec_vm = 0
  stack_vm = 0
  /** mm->def_flags (VM_LOCKED|VM_LOCKONFAULT after mlockall(MCL_FUTURE)). */
  def_flags: vm_flags_t = VM_NONE
  hiwater_rss = 0
  hiwater_vm = 0
  readonly rss_stat = [0, 0, 0, 0]
  /** Task statistics charged by faults of this mm (the faulting task's min_flt/maj_flt). */
  min_flt = 0
  maj_flt = 0
  /** CPUs that ran this mm (mm_cpumask), for TLB shootdowns. */
  readonly cpu_bitmap = new Set<number>()
  /** Kernel: mm->context (ctx_id, tlb_gen), kept by the MMU (src/hw/mmu.ts). */
  readonly context: MmContext = { ctx_id: 0, tlb_gen: 1 }
  /** Set at exit_mmap. */
  dead = false
  /**
   * mm->flags: the MMF_* bits: dumpable (bits 0-1, SUID_DUMP_USER as exec
   * leaves it), the core dump filter (bits 2-10, /proc/<pid>/coredump_filter,
   * 0x33 by default: fs/coredump.ts), MMF_OOM_SKIP, MMF_OOM_REAP_QUEUED.
   */
  flags = MMF_DUMP_FILTER_DEFAULT * 2 ** MMF_DUMP_FILTER_SHIFT + SUID_DUMP_USER
  /** Address of the slab object (mm_struct cache), 0 without slab. */
  slab_obj = 0
  /**
   * Kernel: mm->owner (CONFIG_MEMCG): the task using this address space.
   * Every simulated task is single-threaded and only enters the kernel for
   * its own mm, so the owner is `current` whenever mm code runs: its cred
   * (capable()) and limits (rlimit()) are read through this field (util.ts).
   * null for an address space no task owns yet: root with INIT_RLIMITS.
   */
  owner: CurrentTask | null = null
  /** The memory cgroup of mm->owner (null: the root group); charges for this mm go there. */
  memcg: MemCgroup | null = null
  /**
   * The owner task's dirty throttling state (Kernel: task_struct
   * nr_dirtied, nr_dirtied_pause, dirty_paused_when; copy_process() starts
   * them at 0, 128 KiB of pages, 0). On the mm because every simulated task
   * is single-threaded (see owner).
   */
  readonly dirty_throttle = { nr_dirtied: 0, nr_dirtied_pause: 128 >> (PAGE_SHIFT - 10), dirty_paused_when: 0 }
  constructor(
    readonly env: MmEnv,
    readonly id: number,
    task_size: number,
    pgd: FramePageTables,
  ) {
    this.task_size = task_size
    this.pgd = pgd
  }
}

/** get_dumpable(): SUID_DUMP_USER (1) for every mm of mmsim (no setuid execve, no prctl(PR_SET_DUMPABLE)). */
export const SUID_DUMP_USER = 1
/** The core dump filter's place in mm->flags and width (MMF_DUMP_FILTER_SHIFT, MMF_DUMP_FILTER_BITS). */
export const MMF_DUMP_FILTER_SHIFT = 2
export const MMF_DUMP_FILTER_BITS = 9
/** MMF_DUMP_FILTER_DEFAULT with CONFIG_CORE_DUMP_DEFAULT_ELF_HEADERS: anon private and shared, ELF headers, hugetlb private. */
export const MMF_DUMP_FILTER_DEFAULT = 0x33
/** The bits fork copies into the child's mm (MMF_INIT_MASK: dumpable and the filter). */
export const MMF_INIT_BITS = MMF_DUMP_FILTER_SHIFT + MMF_DUMP_FILTER_BITS

/** mm->flags bits (include/linux/mm_types.h): hidden from the OOM killer; the reaper is queued. */
export const MMF_OOM_SKIP = 21
export const MMF_OOM_REAP_QUEUED = 25

/** Kernel: test_bit(bit, &mm->flags). */
export function mm_flags_test(mm: MmStruct, bit: number): boolean {
  return (Math.floor(mm.flags / 2 ** bit) & 1) === 1
}
/** Kernel: set_bit(bit, &mm->flags). */
export function mm_flags_set(mm: MmStruct, bit: number): void {
  if (!mm_flags_test(mm, bit)) mm.flags += 2 ** bit
}

/** get_mm_rss(). */
export function get_mm_rss(mm: MmStruct): number {
  return mm.rss_stat[MM_FILEPAGES] + mm.rss_stat[MM_ANONPAGES] + mm.rss_stat[MM_SHMEMPAGES]
}
