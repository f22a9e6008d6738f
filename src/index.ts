/**
 * mmsim: the library entry. `Machine` boots a simulated Linux machine;
 * every GFP flag is exported with Linux's value.
 */
export { Machine, MachineConfigError, type MachineOptions } from './machine.js'
export { RECLAIM_POLICIES, type ReclaimPolicy } from './mm/replacement.js'
export { SWAP_FLAG_PREFER, SWAP_FLAG_PRIO_MASK, SWAP_FLAG_DISCARD, SWAP_FLAG_DISCARD_ONCE, SWAP_FLAG_DISCARD_PAGES } from './mm/swap_h.js'
export type { SwapOption } from './machine.js'
export { Kernel } from './kernel/kernel.js'
export { KernelBug } from './include/bug.js'
/** Print an address as the kernel does: format_addr(k.kmalloc(64, GFP_KERNEL)) is '0xffff8880...'. */
export { format_addr } from './include/hex.js'
export * from './mm/gfp.js'
export type { Page, Pfn } from './mm/page.js'
export { arch_profile, type ArchName, type ArchProfile } from './arch/profile.js'
export {
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_HWCACHE_ALIGN,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
  ZERO_SIZE_PTR,
} from './mm/slab_h.js'
export type { KmemCache } from './mm/slab_common.js'

// The user side of processes (issue 3): Process handles, their errors, and
// every PROT_*, MAP_*, MREMAP_*, MADV_*, MS_*, MCL_*, MLOCK_* constant, errno
// number and signal number with Linux's x86_64 value.
export * from './include/uapi/index.js'
export { ErrnoError, SignalError, ProcessAsleep } from './user/errors.js'
export { Process, type SpawnOptions, O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, SEEK_SET, SEEK_CUR, SEEK_END } from './user/process.js'
export { default_image, type ProgramImage, type SharedObject, type Segment } from './kernel/exec.js'
export { replay_scenario, ScenarioError, KERNEL_RELEASE } from './oracle/replay.js'
export { load_scenario, ScenarioFileError, type Scenario, type Step } from './scenario/load.js'
export { run_scenario, record_line, record_json, ScenarioExpectError, type StepRecord } from './scenario/run.js'
export { pmap, type PmapMode } from './user/pmap.js'
export { proc_pid_pagemap } from './fs/proc/task_mmu.js'

// Character-device drivers (issue 9): the API a driver programs against and what insmod loads.
export { DriverKernel } from './drivers/driver_api.js'
export type { KernelModule, DeviceNode, ModuleParamType, ModuleParamValue } from './drivers/module.js'
export type { FileOperations, File, Inode, UserPtr, Loff } from './fs/fs.js'
export { MKDEV, MAJOR, MINOR, S_IFCHR, new_encode_dev } from './fs/fs.js'
export type { Cdev } from './fs/char_dev.js'
export type { Module } from './include/module.js'
export type { VmArea, VmFault, VmOperations } from './mm/mm_types.js'
export {
  VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_FAULT_NOPAGE, VM_FAULT_LOCKED, FAULT_FLAG_WRITE,
  VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND, VM_DONTDUMP, VM_DONTCOPY, VM_SHARED, VM_WRITE, VM_MAYWRITE, VM_READ, VM_EXEC, VM_MAYEXEC,
} from './drivers/driver_api.js'
export type { DriverFinding } from './drivers/mmap_check.js'
export { scullp_module } from './drivers/scullp/main.js'
export { Cgroup, type CgroupOptions } from './user/cgroup.js'
export { POSIX_FADV_NORMAL, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE } from './include/uapi/fcntl.js'
export {
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_NO_HIDE_STALE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_ZERO_RANGE, FALLOC_FL_INSERT_RANGE,
  FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_WRITE_ZEROES,
} from './include/uapi/falloc.js'
export type { Kstatfs } from './mm/shmem.js'
export {
  F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS, FD_CLOEXEC, O_CLOEXEC,
  F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC,
  MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC,
} from './include/uapi/fcntl.js'
export type { Cachestat } from './mm/filemap_cachestat.js'
