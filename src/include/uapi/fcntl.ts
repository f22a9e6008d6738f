/** open(2) flags with Linux's x86-64 values (include/uapi/asm-generic/fcntl.h). */
export const O_ACCMODE = 3
export const O_RDONLY = 0
export const O_WRONLY = 1
export const O_RDWR = 2
export const O_CREAT = 0o100
export const O_EXCL = 0o200
export const O_TRUNC = 0o1000
export const O_APPEND = 0o2000
export const O_NONBLOCK = 0o4000
/** lseek(2) whence values (include/uapi/linux/fs.h). */
export const SEEK_SET = 0
export const SEEK_CUR = 1
export const SEEK_END = 2
/** posix_fadvise(2) advice (include/uapi/linux/fadvise.h, x86-64). */
export const POSIX_FADV_NORMAL = 0
export const POSIX_FADV_RANDOM = 1
export const POSIX_FADV_SEQUENTIAL = 2
export const POSIX_FADV_WILLNEED = 3
export const POSIX_FADV_DONTNEED = 4
export const POSIX_FADV_NOREUSE = 5
