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
/** fcntl(2) commands (include/uapi/linux/fcntl.h, asm-generic/fcntl.h). */
export const F_DUPFD = 0
export const F_GETFD = 1
export const F_SETFD = 2
export const F_GETFL = 3
export const F_LINUX_SPECIFIC_BASE = 1024
export const F_DUPFD_CLOEXEC = F_LINUX_SPECIFIC_BASE + 6
export const F_ADD_SEALS = F_LINUX_SPECIFIC_BASE + 9
export const F_GET_SEALS = F_LINUX_SPECIFIC_BASE + 10
/** FD_CLOEXEC: the descriptor flag F_GETFD/F_SETFD carry. */
export const FD_CLOEXEC = 1
/** O_CLOEXEC (x86-64). */
export const O_CLOEXEC = 0o2000000
/** File seals (F_ADD_SEALS / F_GET_SEALS). */
export const F_SEAL_SEAL = 0x0001
export const F_SEAL_SHRINK = 0x0002
export const F_SEAL_GROW = 0x0004
export const F_SEAL_WRITE = 0x0008
export const F_SEAL_FUTURE_WRITE = 0x0010
export const F_SEAL_EXEC = 0x0020
/** memfd_create(2) flags (include/uapi/linux/memfd.h). */
export const MFD_CLOEXEC = 0x0001
export const MFD_ALLOW_SEALING = 0x0002
export const MFD_HUGETLB = 0x0004
export const MFD_NOEXEC_SEAL = 0x0008
export const MFD_EXEC = 0x0010
