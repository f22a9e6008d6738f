/**
 * Memory-management constants for the kernel side: the user-visible ones
 * come from src/uapi/mman.ts (as kernel code includes the uapi headers),
 * plus what only the kernel defines (include/linux/mman.h).
 */
import {
  MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_UNINITIALIZED,
  MAP_GROWSDOWN, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB, MAP_32BIT,
  MAP_ABOVE4G, MAP_HUGE_2MB, MAP_HUGE_1GB,
} from '../include/uapi/mman.js'

export * from '../include/uapi/mman.js'

/** Flags mmap accepts with MAP_SHARED_VALIDATE (include/linux/mman.h LEGACY_MAP_MASK; MAP_SYNC via the file). */
export const LEGACY_MAP_MASK =
  MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED |
  MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT |
  MAP_ABOVE4G | MAP_HUGE_2MB | MAP_HUGE_1GB
