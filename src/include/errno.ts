/**
 * Error numbers for the kernel side: the uapi values (include/uapi/asm-generic/
 * errno-base.h, errno.h) that kernel functions return negated.
 */
export * from './uapi/errno.js'

/**
 * include/linux/errno.h: a sleep interrupted by a signal. Never seen by
 * user space: the way back from the system call turns it into EINTR (no
 * SA_RESTART is modelled).
 */
export const ERESTARTSYS = 512
