/**
 * The mm and file entry points the rest of the kernel calls with an mm or a
 * file in hand: the system-call table (syscalls.ts), exec (exec.ts).
 * Each is the kernel function of the same name in src/mm/*.ts or
 * src/fs/*.ts; mm_syscalls.ts binds one MmEntry per machine.
 *
 * Contract: every function returns >= 0 (or an address) on success and
 * -errno on failure, exactly like the kernel function; nothing throws except
 * a KernelBug for a broken invariant.
 */
import type { Kstatfs } from '../mm/shmem.js'
import type { Cachestat } from '../mm/filemap_cachestat.js'
import type { DirtyThrottleTask } from '../mm/page_writeback_throttle.js'
import type { MemcgSubsys } from '../mm/memcontrol.js'
import type { ArchProfile } from '../arch/profile.js'
import type { MmStruct, VmArea, VmFile, vm_flags_t } from '../mm/mm_types.js'
import type { File } from '../fs/fs.js'
import type { Cred } from '../include/cred.js'
import type { Loff, UlongArg } from '../include/ulong.js'

/** A user access that the MMU answered with a signal (si_signo, si_code, si_addr). */
export interface UserFault {
  readonly signal: number
  readonly si_code: number
  /** si_addr: exact (a bigint for a kernel-half address at or above 2^53). */
  readonly addr: number | bigint
}

/** Result of access_user(): `data` holds the bytes read (loads) up to the fault. */
export interface AccessResult {
  readonly ok: boolean
  readonly data?: Uint8Array
  readonly fault?: UserFault
}

/** The smaps counters of one VMA (Kernel: struct mem_size_stats): defined by the mm side, src/mm/smaps.ts. */
export type { MemSizeStats } from '../mm/smaps.js'
import type { MemSizeStats } from '../mm/smaps.js'

export interface MmEntry {
  readonly arch: ArchProfile
  /** The memory controller: a task entering the kernel makes its group the one charged. */
  readonly memcg: MemcgSubsys

  /** Kernel: alloc_task_struct_node(): the task_struct object's kernel address (0 when out of memory). */
  alloc_task_struct(): number
  /** Kernel: free_task_struct(). */
  free_task_struct(addr: number): void
  /** Kernel: kmem_cache_alloc(cred_jar): a struct cred object's address (0 when out of memory). */
  alloc_cred(): number
  /** Kernel: kmem_cache_free(cred_jar). */
  free_cred(addr: number): void
  /** Bytes of kernel memory at a direct-map address (a slab object's fields), into `out` when given (its first len bytes). */
  kmem_read(addr: number, len: number, out?: Uint8Array): Uint8Array
  kmem_write(addr: number, data: Uint8Array): void
  /** Kernel: alloc_thread_stack_node(): the task's kernel stack address, 0 on failure. */
  alloc_thread_stack(): number
  /** Kernel: free_thread_stack() (put_task_stack() once the dead task is switched away). */
  free_thread_stack(stack: number): void
  /** Kernel: mm_alloc() (allocate_mm + mm_init with fresh page tables); null on -ENOMEM. */
  mm_alloc(): MmStruct | null
  /** Kernel: totalram_pages() (fork_init()'s default RLIMIT_NPROC / RLIMIT_SIGPENDING derive from it). */
  totalram_pages(): number
  /** Kernel: dup_mm() for fork; null on failure. */
  dup_mm(oldmm: MmStruct): MmStruct | null
  /** Kernel: mmput(): drop a user; the last one tears the address space down. */
  mmput(mm: MmStruct): void

  /**
   * Kernel: ksys_mmap_pgoff() with a byte offset (the whole mmap(2) syscall). Address,
   * length and offset arguments here and below, and the prot/flags of mmap, mprotect and
   * mremap, are unsigned longs (src/include/ulong.ts: a number or a bigint; -1 is ULONG_MAX).
   */
  ksys_mmap_pgoff(mm: MmStruct, addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, file: VmFile | null, off: UlongArg): number
  /** Kernel: __vm_munmap() (munmap(2)). */
  do_munmap(mm: MmStruct, start: UlongArg, len: UlongArg): number
  do_mprotect_pkey(mm: MmStruct, start: UlongArg, len: UlongArg, prot: UlongArg): number
  do_mremap(mm: MmStruct, addr: UlongArg, old_len: UlongArg, new_len: UlongArg, flags: UlongArg, new_addr: UlongArg): number
  do_madvise(mm: MmStruct, start: UlongArg, len: UlongArg, advice: number): number
  /** Kernel: do_mlock() with VM_LOCKONFAULT-style flags (0 for mlock(2)). */
  do_mlock(mm: MmStruct, start: UlongArg, len: UlongArg, flags: number): number
  /** Kernel: sys_mlock2(): MLOCK_ONFAULT or EINVAL for unknown flags. */
  sys_mlock2(mm: MmStruct, start: UlongArg, len: UlongArg, flags: number): number
  do_munlock(mm: MmStruct, start: UlongArg, len: UlongArg): number
  do_mlockall(mm: MmStruct, flags: number): number
  do_munlockall(mm: MmStruct): number
  do_msync(mm: MmStruct, start: UlongArg, len: UlongArg, flags: number): number
  do_mincore(mm: MmStruct, start: UlongArg, len: UlongArg, vec: Uint8Array): number
  /** Kernel: sys_swapon(path, swap_flags) after the capability check: 0 or -errno. */
  sys_swapon(path: string, swap_flags: number): number
  /** Kernel: sys_swapoff(path): 0 or -errno (cap: CAP_SYS_ADMIN of the caller). */
  sys_swapoff(path: string, cap_sys_admin: boolean): number
  do_mseal(mm: MmStruct, start: UlongArg, len: UlongArg, flags: UlongArg): number
  /** Kernel: sys_brk(): returns the new (or unchanged) break. */
  sys_brk(mm: MmStruct, brk: UlongArg): number

  /** A user-mode load (write=false) or store (write=true, data given) through the MMU. */
  access_user(mm: MmStruct, addr: number, len: number, write: boolean, data?: Uint8Array): AccessResult
  /** A user-mode instruction fetch through the MMU (NX pages fault with SEGV_ACCERR). */
  fetch_user(mm: MmStruct, addr: number, len: number): AccessResult
  /** Kernel: copy_to_user(): bytes NOT copied. */
  copy_to_user(mm: MmStruct, addr: number, src: Uint8Array): number
  /** Kernel: copy_from_user(): bytes NOT copied (dst gets the copied prefix). */
  copy_from_user(mm: MmStruct, dst: Uint8Array, addr: number): number

  /** Kernel: smap_gather_stats() for one VMA: adds its pages to `mss` (a fresh one when not given) and returns it. */
  smaps_walk(mm: MmStruct, vma: VmArea, mss?: MemSizeStats): MemSizeStats
  /** The PTE word of a user page (0 when none), for /proc/pid/pagemap. */
  pte_of(mm: MmStruct, addr: number): number
  /** Kernel: PageAnon() of a mapped page (pagemap's PM_FILE bit). */
  PageAnon(pfn: number): boolean
  /** True when the PTE word is a guard-region marker (MADV_GUARD_INSTALL). */
  is_guard_pte(pte: number): boolean

  /** Files on the in-memory filesystem (tmpfs / disk-like). Positions and sizes are exact loff_t values (src/include/ulong.ts). */
  filp_open(path: string, flags: number, mode: number, cred: Cred | null): File | number
  /** Kernel: vfs_mknod() of a character device (dev: the kernel's dev_t); `cred` is checked for CAP_MKNOD. */
  mknod(path: string, mode: number, dev: number, cred: Cred | null): number
  /** Kernel: vfs_read() into a kernel buffer (a fresh one, or a view of `into`): the bytes read (short at EOF), or -errno. */
  kernel_read(file: VmFile, off: Loff, len: number, into?: Uint8Array): Uint8Array | number
  /** Kernel: vfs_fadvise() -> generic_fadvise(): 0 or -errno. */
  fadvise(file: VmFile, offset: number, len: number, advice: number): number
  /** Kernel: kernel_write(): bytes written or -errno; a task's write passes its dirty throttle state. */
  kernel_write(file: VmFile, off: Loff, data: Uint8Array, throttle?: DirtyThrottleTask): number
  /**
   * kernel_write() of `nr` copies of one page from page index `index` (a
   * program image's bytes): bytes written or -errno. The page cache frames
   * share `page` until written, so the caller never modifies it.
   */
  kernel_write_shared_pages(file: VmFile, index: number, nr: number, page: Uint8Array): number
  /** Kernel: filemap_read() into user memory: bytes read (short at a hole), or -errno (EFAULT). */
  file_read_to_user(mm: MmStruct, file: VmFile, pos: Loff, uaddr: number, len: number): number
  /** Kernel: generic_perform_write() from user memory: bytes written, or -errno. */
  file_write_from_user(mm: MmStruct, file: VmFile, pos: Loff, uaddr: number, len: number): number
  /** Kernel: do_truncate() / vfs_truncate(). */
  do_truncate(file: VmFile, size: Loff): number
  /** Kernel: shmem_file_setup() of a memfd named `name` (its inode mode given): the file or -errno. */
  memfd_file_setup(name: string, mode: number): File | number
  /** Kernel: memfd_fcntl() (F_ADD_SEALS, F_GET_SEALS) of a file whose inode has mode `i_mode`. */
  memfd_fcntl(file: VmFile, cmd: number, arg: number, i_mode: number): number
  /** Kernel: sys_cachestat() of a file's range (u64 off and len): struct cachestat or -errno. */
  cachestat(file: VmFile, off: bigint, len: bigint, flags: number): Cachestat | number
  /** Kernel: ksys_sync(): every filesystem written back and flushed. */
  sync(): void
  /** Kernel: sync_filesystem() of the file's super block (syncfs(2)): 0. */
  syncfs(file: File): number
  /** Kernel: vfs_statfs() of the filesystem `path` is on (tmpfs only), or -errno. */
  statfs(path: string): Kstatfs | number
  /** Kernel: vfs_fallocate() (`regular`: S_ISREG of the inode): 0 or -errno. */
  fallocate(file: VmFile, mode: number, offset: number, len: number, regular: boolean): number

  /** Kernel: _install_special_mapping() ([vvar], [vdso]); 0 or -errno. */
  _install_special_mapping(mm: MmStruct, addr: number, len: number, vm_flags: vm_flags_t, name: string): number
}
