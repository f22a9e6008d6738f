/**
 * The errors the user-side API throws, shaped like Node's fs errors.
 *
 * ErrnoError: a system call returned -errno (`.code` 'EINVAL', `.errno` 22,
 *   `.syscall` 'mmap', message "EINVAL: invalid argument, mmap"). `.errno` is
 *   the positive C errno value (Node's own errors carry the negated libuv
 *   number; the C value is what a Linux learner compares with errno.h).
 * SignalError: a user-mode load or store that Linux answers with a signal
 *   (`.signal` 'SIGSEGV' | 'SIGBUS', `.signo` 11, `.code` 'SEGV_MAPERR' ...,
 *   `.si_code` 1, `.addr` the faulting address as si_addr reports it).
 */
import { ERRNO_DESCRIPTIONS, errno_name } from '../include/uapi/errno.js'
import { SIGNAL_NAMES, si_code_name } from '../include/uapi/signal.js'

export class ErrnoError extends Error {
  /** 'EINVAL', 'ENOMEM', ... ('E<n>' for an unnamed number). */
  readonly code: string
  /** The positive errno value (22 for EINVAL). */
  readonly errno: number
  /** The system call that failed ('mmap', 'munmap', ...). */
  readonly syscall: string

  constructor(errno: number, syscall: string) {
    const e = Math.abs(errno)
    const code = errno_name(e)
    super(`${code}: ${ERRNO_DESCRIPTIONS[e] ?? 'unknown error'}, ${syscall}`)
    this.name = 'ErrnoError'
    this.code = code
    this.errno = e
    this.syscall = syscall
  }
}

export class SignalError extends Error {
  /** 'SIGSEGV', 'SIGBUS', ... */
  readonly signal: string
  /** The signal number (11 for SIGSEGV). */
  readonly signo: number
  /** The si_code name: 'SEGV_MAPERR', 'SEGV_ACCERR', 'BUS_ADRERR', ... */
  readonly code: string
  /** The numeric si_code. */
  readonly si_code: number
  /** si_addr: the faulting address (a bigint when it is 2^53 or more: the kernel half of x86_64). */
  readonly addr: number | bigint

  constructor(signo: number, si_code: number, addr: number | bigint) {
    const signal = SIGNAL_NAMES[signo] ?? `SIG${signo}`
    const code = si_code_name(signo, si_code)
    super(`${signal} (${code}) at 0x${addr.toString(16)}`)
    this.name = 'SignalError'
    this.signal = signal
    this.signo = signo
    this.code = code
    this.si_code = si_code
    this.addr = addr
  }
}

/**
 * The process is asleep in a system call (a read of an empty pipe without
 * O_NONBLOCK): it makes no other call until something wakes it. `sleeping`
 * gets the call's result when it finishes; Process.begin_read and friends
 * return it instead of throwing.
 */
export class ProcessAsleep extends Error {
  constructor(
    readonly pid: number,
    readonly sleeping: { readonly syscall: string; readonly result: number | null },
  ) {
    super(`process ${pid} is asleep in ${sleeping.syscall}()`)
    this.name = 'ProcessAsleep'
  }
}

/**
 * Turn a kernel return value into a user-side result: a negative value in the
 * -errno range throws ErrnoError; anything else is returned.
 */
export function check_syscall(ret: number, syscall: string): number {
  if (ret < 0 && ret >= -4095) throw new ErrnoError(-ret, syscall)
  return ret
}
