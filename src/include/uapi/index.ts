/** The user ABI: every constant a C program would take from <sys/mman.h>, <errno.h>, <signal.h>. */
export * from './mman.js'
export * from './errno.js'
export * from './signal.js'
export * from './resource.js'
export * from './ioctl.js'
export * from './poll.js'
