/**
 * Error numbers for the kernel side: the uapi values (include/uapi/asm-generic/
 * errno-base.h, errno.h) that kernel functions return negated.
 */
export * from './uapi/errno.js'
