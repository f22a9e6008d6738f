/**
 * Resource numbers for getrlimit/setrlimit and RLIM_INFINITY
 * (include/uapi/asm-generic/resource.h; x86_64 uses the generic values).
 */
export const RLIMIT_CPU = 0
export const RLIMIT_FSIZE = 1
export const RLIMIT_DATA = 2
export const RLIMIT_STACK = 3
export const RLIMIT_CORE = 4
export const RLIMIT_RSS = 5
export const RLIMIT_NPROC = 6
export const RLIMIT_NOFILE = 7
export const RLIMIT_MEMLOCK = 8
export const RLIMIT_AS = 9
export const RLIMIT_LOCKS = 10
export const RLIMIT_SIGPENDING = 11
export const RLIMIT_MSGQUEUE = 12
export const RLIMIT_NICE = 13
export const RLIMIT_RTPRIO = 14
export const RLIMIT_RTTIME = 15
export const RLIM_NLIMITS = 16

/** ~0UL: no limit. */
export const RLIM_INFINITY = Infinity

