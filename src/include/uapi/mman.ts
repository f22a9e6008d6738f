/**
 * Memory-management constants of the user ABI, with the values Linux uses on
 * x86_64 (include/uapi/asm-generic/mman-common.h, mman.h,
 * arch/x86/include/uapi/asm/mman.h, include/uapi/linux/mman.h).
 * These are the numbers a C program passes to mmap(2) & co.; the simulator's
 * kernel side interprets them exactly as Linux does.
 */

/* prot */
export const PROT_NONE = 0x0
export const PROT_READ = 0x1
export const PROT_WRITE = 0x2
export const PROT_EXEC = 0x4
export const PROT_SEM = 0x8
export const PROT_GROWSDOWN = 0x01000000
export const PROT_GROWSUP = 0x02000000

/* mmap flags */
export const MAP_FILE = 0
export const MAP_SHARED = 0x01
export const MAP_PRIVATE = 0x02
export const MAP_SHARED_VALIDATE = 0x03
export const MAP_DROPPABLE = 0x08
export const MAP_TYPE = 0x0f
export const MAP_FIXED = 0x10
export const MAP_ANONYMOUS = 0x20
export const MAP_ANON = MAP_ANONYMOUS
export const MAP_32BIT = 0x40
export const MAP_GROWSDOWN = 0x0100
export const MAP_DENYWRITE = 0x0800
export const MAP_EXECUTABLE = 0x1000
export const MAP_LOCKED = 0x2000
export const MAP_NORESERVE = 0x4000
export const MAP_POPULATE = 0x8000
export const MAP_NONBLOCK = 0x10000
export const MAP_STACK = 0x20000
export const MAP_HUGETLB = 0x40000
export const MAP_SYNC = 0x80000
export const MAP_FIXED_NOREPLACE = 0x100000
/** x86: only map above 4 GiB (arch/x86/include/uapi/asm/mman.h). */
export const MAP_ABOVE4G = 0x80
export const MAP_UNINITIALIZED = 0x4000000
export const MAP_HUGE_SHIFT = 26
export const MAP_HUGE_MASK = 0x3f
export const MAP_HUGE_2MB = 21 * 2 ** MAP_HUGE_SHIFT
export const MAP_HUGE_1GB = 30 * 2 ** MAP_HUGE_SHIFT

/* mremap flags */
export const MREMAP_MAYMOVE = 1
export const MREMAP_FIXED = 2
export const MREMAP_DONTUNMAP = 4

/* madvise advice */
export const MADV_NORMAL = 0
export const MADV_RANDOM = 1
export const MADV_SEQUENTIAL = 2
export const MADV_WILLNEED = 3
export const MADV_DONTNEED = 4
export const MADV_FREE = 8
export const MADV_REMOVE = 9
export const MADV_DONTFORK = 10
export const MADV_DOFORK = 11
export const MADV_MERGEABLE = 12
export const MADV_UNMERGEABLE = 13
export const MADV_HUGEPAGE = 14
export const MADV_NOHUGEPAGE = 15
export const MADV_DONTDUMP = 16
export const MADV_DODUMP = 17
export const MADV_WIPEONFORK = 18
export const MADV_KEEPONFORK = 19
export const MADV_COLD = 20
export const MADV_PAGEOUT = 21
export const MADV_POPULATE_READ = 22
export const MADV_POPULATE_WRITE = 23
export const MADV_DONTNEED_LOCKED = 24
export const MADV_COLLAPSE = 25
export const MADV_HWPOISON = 100
export const MADV_SOFT_OFFLINE = 101
export const MADV_GUARD_INSTALL = 102
export const MADV_GUARD_REMOVE = 103

/* msync flags */
export const MS_ASYNC = 1
export const MS_INVALIDATE = 2
export const MS_SYNC = 4

/* mlockall flags */
export const MCL_CURRENT = 1
export const MCL_FUTURE = 2
export const MCL_ONFAULT = 4

/* mlock2 flags */
export const MLOCK_ONFAULT = 0x01

/* pkey_alloc access rights */
export const PKEY_DISABLE_ACCESS = 0x1
export const PKEY_DISABLE_WRITE = 0x2

/** MAP_FAILED as mmap(2) returns it: (void *)-1. */
export const MAP_FAILED = -1
