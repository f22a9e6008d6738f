/**
 * Resource limits: the RLIMIT_* numbers, RLIM_INFINITY and the limits a
 * task starts with (Kernel: include/uapi/asm-generic/resource.h,
 * include/asm-generic/resource.h INIT_RLIMITS, include/linux/sched/signal.h
 * signal_struct.rlim, kernel/fork.c fork_init()).
 *
 * Limits live in the signal_struct shared by a thread group; fork copies the
 * parent's array (copy_signal()), execve keeps it. RLIM_INFINITY (~0UL) is
 * kept as Infinity: every finite limit is an exact integer below 2^53.
 *
 * Defaults are the kernel's INIT_RLIMITS (what init starts with and, unless
 * a login manager changes them, every process inherits): RLIMIT_STACK 8 MiB
 * soft / unlimited hard (_STK_LIM), RLIMIT_MEMLOCK 8 MiB / 8 MiB
 * (MLOCK_LIMIT since 5.16), RLIMIT_NOFILE 1024 / 4096 (INR_OPEN_CUR /
 * INR_OPEN_MAX), RLIMIT_CORE 0 / unlimited, RLIMIT_MSGQUEUE 819200
 * (MQ_BYTES_MAX), RLIMIT_NICE and RLIMIT_RTPRIO 0, the rest unlimited;
 * RLIMIT_NPROC and RLIMIT_SIGPENDING are max_threads / 2, which fork_init()
 * derives from the RAM size (set_max_threads()).
 *
 * Leaf module: imports only the uapi numbers and the cred type.
 */
import type { Cred } from './cred.js'
import { RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIM_INFINITY } from './uapi/resource.js'

export * from './uapi/resource.js'

/** Names by resource number (as prlimit(1) and the uapi header spell them). */
export const RLIMIT_NAMES: readonly string[] = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC',
  'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
]

/** _STK_LIM: the default stack limit (8 MiB). */
export const _STK_LIM = 8 * 1024 * 1024
/** MLOCK_LIMIT: the default RLIMIT_MEMLOCK (8 MiB since 5.16). */
export const MLOCK_LIMIT = 8 * 1024 * 1024
/** INR_OPEN_CUR / INR_OPEN_MAX (include/uapi/linux/fs.h). */
export const INR_OPEN_CUR = 1024
export const INR_OPEN_MAX = 4096
/** MQ_BYTES_MAX (include/linux/mqueue... ipc/mqueue.c). */
export const MQ_BYTES_MAX = 819200
/** sysctl fs.nr_open default (1024 * 1024): RLIMIT_NOFILE's hard limit cannot exceed it. */
export const NR_OPEN_DEFAULT = 1024 * 1024

/** struct rlimit. */
export interface Rlimit {
  rlim_cur: number
  rlim_max: number
}

/** signal->flags: a fatal signal (SIGKILL) was sent to the whole thread group; it dies on its way back to user mode. */
export const SIGNAL_GROUP_EXIT = 0x00000004

/** The parts of struct signal_struct mmsim keeps: the limits, the group-exit flag and the OOM killer's adjustments. */
export interface SignalStruct {
  readonly rlim: Rlimit[]
  /** signal->flags (SIGNAL_GROUP_EXIT). */
  flags: number
  /** /proc/<pid>/oom_score_adj: -1000 (never kill) .. 1000; fork copies it. */
  oom_score_adj: number
  /** The lowest value an unprivileged write may set (raised only by a writer with CAP_SYS_RESOURCE). */
  oom_score_adj_min: number
  /** signal->tty as tty_devnum() gives it: the controlling terminal's device number, 0 for none. */
  tty: number
}

/** A fresh signal_struct (init's): the limits given, no flags, oom_score_adj 0. */
export function new_signal_struct(rlim: Rlimit[]): SignalStruct {
  return { rlim, flags: 0, oom_score_adj: 0, oom_score_adj_min: 0, tty: 0 }
}

/** THREAD_SIZE on x86-64 (16 KiB kernel stacks), for set_max_threads(). */
const THREAD_SIZE = 16384
const MIN_THREADS = 20
const FUTEX_TID_MASK = 0x3fffffff

/**
 * Kernel: set_max_threads(): the default thread limit from the RAM size
 * (pages * PAGE_SIZE / (THREAD_SIZE * 8), clamped to [20, FUTEX_TID_MASK]).
 */
export function set_max_threads(nr_pages: number): number {
  const threads = Math.floor((nr_pages * 4096) / (THREAD_SIZE * 8))
  return Math.min(Math.max(threads, MIN_THREADS), FUTEX_TID_MASK)
}

/**
 * INIT_RLIMITS as fork_init() completes them: init_task's limits, which
 * every process inherits. `max_threads` (set_max_threads()) gives
 * RLIMIT_NPROC and RLIMIT_SIGPENDING (max_threads / 2).
 */
export function init_rlimits(max_threads: number): Rlimit[] {
  const inf = (): Rlimit => ({ rlim_cur: RLIM_INFINITY, rlim_max: RLIM_INFINITY })
  const half = Math.floor(max_threads / 2)
  const r: Rlimit[] = []
  r[RLIMIT_CPU] = inf()
  r[RLIMIT_FSIZE] = inf()
  r[RLIMIT_DATA] = inf()
  r[RLIMIT_STACK] = { rlim_cur: _STK_LIM, rlim_max: RLIM_INFINITY }
  r[RLIMIT_CORE] = { rlim_cur: 0, rlim_max: RLIM_INFINITY }
  r[RLIMIT_RSS] = inf()
  r[RLIMIT_NPROC] = { rlim_cur: half, rlim_max: half }
  r[RLIMIT_NOFILE] = { rlim_cur: INR_OPEN_CUR, rlim_max: INR_OPEN_MAX }
  r[RLIMIT_MEMLOCK] = { rlim_cur: MLOCK_LIMIT, rlim_max: MLOCK_LIMIT }
  r[RLIMIT_AS] = inf()
  r[RLIMIT_LOCKS] = inf()
  r[RLIMIT_SIGPENDING] = { rlim_cur: half, rlim_max: half }
  r[RLIMIT_MSGQUEUE] = { rlim_cur: MQ_BYTES_MAX, rlim_max: MQ_BYTES_MAX }
  r[RLIMIT_NICE] = { rlim_cur: 0, rlim_max: 0 }
  r[RLIMIT_RTPRIO] = { rlim_cur: 0, rlim_max: 0 }
  r[RLIMIT_RTTIME] = inf()
  return r
}

/** Kernel: copy_signal()'s copy of the limits (fork). */
export function copy_rlimits(src: readonly Rlimit[]): Rlimit[] {
  return src.map((l) => ({ rlim_cur: l.rlim_cur, rlim_max: l.rlim_max }))
}

/**
 * What the mm layer sees of `current`: its pid and comm (for messages), its
 * cred and its limits. A TaskStruct is one.
 */
export interface CurrentTask {
  readonly pid: number
  readonly comm: string
  readonly cred: Cred
  readonly signal: SignalStruct
}
