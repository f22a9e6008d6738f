/**
 * Error numbers of Linux on x86_64 (include/uapi/asm-generic/errno-base.h and
 * errno.h), their names, and a short description in the style of Node/libuv
 * error messages. Kernel-side functions return -ENOMEM etc.; the user side
 * turns them into ErrnoError (src/user/errors.ts).
 */

export const EPERM = 1
export const ENOENT = 2
export const ESRCH = 3
export const EINTR = 4
export const EIO = 5
export const ENXIO = 6
export const E2BIG = 7
export const ENOEXEC = 8
export const EBADF = 9
export const ECHILD = 10
export const EAGAIN = 11
export const ENOMEM = 12
export const EACCES = 13
export const EFAULT = 14
export const ENOTBLK = 15
export const EBUSY = 16
export const EEXIST = 17
export const EXDEV = 18
export const ENODEV = 19
export const ENOTDIR = 20
export const EISDIR = 21
export const EINVAL = 22
export const ENFILE = 23
export const EMFILE = 24
export const ENOTTY = 25
export const ETXTBSY = 26
export const EFBIG = 27
export const ENOSPC = 28
export const ESPIPE = 29
export const EROFS = 30
export const EMLINK = 31
export const EPIPE = 32
export const EDOM = 33
export const ERANGE = 34
export const EDEADLK = 35
export const ENAMETOOLONG = 36
export const ENOLCK = 37
export const ENOSYS = 38
export const ENOTEMPTY = 39
export const ELOOP = 40
export const ENOMSG = 42
export const EIDRM = 43
export const ECHRNG = 44
export const EL2NSYNC = 45
export const EL3HLT = 46
export const EL3RST = 47
export const ELNRNG = 48
export const EUNATCH = 49
export const ENOCSI = 50
export const EL2HLT = 51
export const EBADE = 52
export const EBADR = 53
export const EXFULL = 54
export const ENOANO = 55
export const EBADRQC = 56
export const EBADSLT = 57
export const EBFONT = 59
export const ENOSTR = 60
export const ENODATA = 61
export const ETIME = 62
export const ENOSR = 63
export const ENONET = 64
export const ENOPKG = 65
export const EREMOTE = 66
export const ENOLINK = 67
export const EADV = 68
export const ESRMNT = 69
export const ECOMM = 70
export const EPROTO = 71
export const EMULTIHOP = 72
export const EDOTDOT = 73
export const EBADMSG = 74
export const EOVERFLOW = 75
export const ENOTUNIQ = 76
export const EBADFD = 77
export const EREMCHG = 78
export const ELIBACC = 79
export const ELIBBAD = 80
export const ELIBSCN = 81
export const ELIBMAX = 82
export const ELIBEXEC = 83
export const EILSEQ = 84
export const ERESTART = 85
export const ESTRPIPE = 86
export const EUSERS = 87
export const ENOTSOCK = 88
export const EDESTADDRREQ = 89
export const EMSGSIZE = 90
export const EPROTOTYPE = 91
export const ENOPROTOOPT = 92
export const EPROTONOSUPPORT = 93
export const ESOCKTNOSUPPORT = 94
export const EOPNOTSUPP = 95
export const EPFNOSUPPORT = 96
export const EAFNOSUPPORT = 97
export const EADDRINUSE = 98
export const EADDRNOTAVAIL = 99
export const ENETDOWN = 100
export const ENETUNREACH = 101
export const ENETRESET = 102
export const ECONNABORTED = 103
export const ECONNRESET = 104
export const ENOBUFS = 105
export const EISCONN = 106
export const ENOTCONN = 107
export const ESHUTDOWN = 108
export const ETOOMANYREFS = 109
export const ETIMEDOUT = 110
export const ECONNREFUSED = 111
export const EHOSTDOWN = 112
export const EHOSTUNREACH = 113
export const EALREADY = 114
export const EINPROGRESS = 115
export const ESTALE = 116
export const EUCLEAN = 117
export const ENOTNAM = 118
export const ENAVAIL = 119
export const EISNAM = 120
export const EREMOTEIO = 121
export const EDQUOT = 122
export const ENOMEDIUM = 123
export const EMEDIUMTYPE = 124
export const ECANCELED = 125
export const ENOKEY = 126
export const EKEYEXPIRED = 127
export const EKEYREVOKED = 128
export const EKEYREJECTED = 129
export const EOWNERDEAD = 130
export const ENOTRECOVERABLE = 131
export const ERFKILL = 132
export const EHWPOISON = 133
/** Aliases. */
export const EWOULDBLOCK = EAGAIN
export const EDEADLOCK = EDEADLK
export const ENOTSUP = EOPNOTSUPP

/** Name of each errno number (EAGAIN for 11, EDEADLK for 35). */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  7: 'E2BIG',
  8: 'ENOEXEC',
  9: 'EBADF',
  10: 'ECHILD',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  15: 'ENOTBLK',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  25: 'ENOTTY',
  26: 'ETXTBSY',
  27: 'EFBIG',
  28: 'ENOSPC',
  29: 'ESPIPE',
  30: 'EROFS',
  31: 'EMLINK',
  32: 'EPIPE',
  33: 'EDOM',
  34: 'ERANGE',
  35: 'EDEADLK',
  36: 'ENAMETOOLONG',
  37: 'ENOLCK',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  40: 'ELOOP',
  42: 'ENOMSG',
  43: 'EIDRM',
  44: 'ECHRNG',
  45: 'EL2NSYNC',
  46: 'EL3HLT',
  47: 'EL3RST',
  48: 'ELNRNG',
  49: 'EUNATCH',
  50: 'ENOCSI',
  51: 'EL2HLT',
  52: 'EBADE',
  53: 'EBADR',
  54: 'EXFULL',
  55: 'ENOANO',
  56: 'EBADRQC',
  57: 'EBADSLT',
  59: 'EBFONT',
  60: 'ENOSTR',
  61: 'ENODATA',
  62: 'ETIME',
  63: 'ENOSR',
  64: 'ENONET',
  65: 'ENOPKG',
  66: 'EREMOTE',
  67: 'ENOLINK',
  68: 'EADV',
  69: 'ESRMNT',
  70: 'ECOMM',
  71: 'EPROTO',
  72: 'EMULTIHOP',
  73: 'EDOTDOT',
  74: 'EBADMSG',
  75: 'EOVERFLOW',
  76: 'ENOTUNIQ',
  77: 'EBADFD',
  78: 'EREMCHG',
  79: 'ELIBACC',
  80: 'ELIBBAD',
  81: 'ELIBSCN',
  82: 'ELIBMAX',
  83: 'ELIBEXEC',
  84: 'EILSEQ',
  85: 'ERESTART',
  86: 'ESTRPIPE',
  87: 'EUSERS',
  88: 'ENOTSOCK',
  89: 'EDESTADDRREQ',
  90: 'EMSGSIZE',
  91: 'EPROTOTYPE',
  92: 'ENOPROTOOPT',
  93: 'EPROTONOSUPPORT',
  94: 'ESOCKTNOSUPPORT',
  95: 'EOPNOTSUPP',
  96: 'EPFNOSUPPORT',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN',
  101: 'ENETUNREACH',
  102: 'ENETRESET',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  105: 'ENOBUFS',
  106: 'EISCONN',
  107: 'ENOTCONN',
  108: 'ESHUTDOWN',
  109: 'ETOOMANYREFS',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  112: 'EHOSTDOWN',
  113: 'EHOSTUNREACH',
  114: 'EALREADY',
  115: 'EINPROGRESS',
  116: 'ESTALE',
  117: 'EUCLEAN',
  118: 'ENOTNAM',
  119: 'ENAVAIL',
  120: 'EISNAM',
  121: 'EREMOTEIO',
  122: 'EDQUOT',
  123: 'ENOMEDIUM',
  124: 'EMEDIUMTYPE',
  125: 'ECANCELED',
  126: 'ENOKEY',
  127: 'EKEYEXPIRED',
  128: 'EKEYREVOKED',
  129: 'EKEYREJECTED',
  130: 'EOWNERDEAD',
  131: 'ENOTRECOVERABLE',
  132: 'ERFKILL',
  133: 'EHWPOISON',
}

/** Description of each errno number. */
export const ERRNO_DESCRIPTIONS: Readonly<Record<number, string>> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  3: 'no such process',
  4: 'interrupted system call',
  5: 'i/o error',
  6: 'no such device or address',
  7: 'argument list too long',
  8: 'exec format error',
  9: 'bad file descriptor',
  10: 'no child processes',
  11: 'resource temporarily unavailable',
  12: 'not enough memory',
  13: 'permission denied',
  14: 'bad address in system call argument',
  15: 'block device required',
  16: 'resource busy or locked',
  17: 'file already exists',
  18: 'cross-device link not permitted',
  19: 'no such device',
  20: 'not a directory',
  21: 'illegal operation on a directory',
  22: 'invalid argument',
  23: 'file table overflow',
  24: 'too many open files',
  25: 'inappropriate ioctl for device',
  26: 'text file is busy',
  27: 'file too large',
  28: 'no space left on device',
  29: 'invalid seek',
  30: 'read-only file system',
  31: 'too many links',
  32: 'broken pipe',
  33: 'numerical argument out of domain',
  34: 'result too large',
  35: 'resource deadlock avoided',
  36: 'name too long',
  37: 'no locks available',
  38: 'function not implemented',
  39: 'directory not empty',
  40: 'too many symbolic links encountered',
  42: 'no message of desired type',
  43: 'identifier removed',
  44: 'channel number out of range',
  45: 'level 2 not synchronized',
  46: 'level 3 halted',
  47: 'level 3 reset',
  48: 'link number out of range',
  49: 'protocol driver not attached',
  50: 'no csi structure available',
  51: 'level 2 halted',
  52: 'invalid exchange',
  53: 'invalid request descriptor',
  54: 'exchange full',
  55: 'no anode',
  56: 'invalid request code',
  57: 'invalid slot',
  59: 'bad font file format',
  60: 'device not a stream',
  61: 'no data available',
  62: 'timer expired',
  63: 'out of streams resources',
  64: 'machine is not on the network',
  65: 'package not installed',
  66: 'object is remote',
  67: 'link has been severed',
  68: 'advertise error',
  69: 'srmount error',
  70: 'communication error on send',
  71: 'protocol error',
  72: 'multihop attempted',
  73: 'rfs specific error',
  74: 'bad message',
  75: 'value too large for defined data type',
  76: 'name not unique on network',
  77: 'file descriptor in bad state',
  78: 'remote address changed',
  79: 'can not access a needed shared library',
  80: 'accessing a corrupted shared library',
  81: '.lib section in a.out corrupted',
  82: 'attempting to link in too many shared libraries',
  83: 'cannot exec a shared library directly',
  84: 'illegal byte sequence',
  85: 'interrupted system call should be restarted',
  86: 'streams pipe error',
  87: 'too many users',
  88: 'socket operation on non-socket',
  89: 'destination address required',
  90: 'message too long',
  91: 'protocol wrong type for socket',
  92: 'protocol not available',
  93: 'protocol not supported',
  94: 'socket type not supported',
  95: 'operation not supported on socket',
  96: 'protocol family not supported',
  97: 'address family not supported',
  98: 'address already in use',
  99: 'address not available',
  100: 'network is down',
  101: 'network is unreachable',
  102: 'network dropped connection on reset',
  103: 'connection aborted',
  104: 'connection reset by peer',
  105: 'no buffer space available',
  106: 'socket is already connected',
  107: 'socket is not connected',
  108: 'cannot send after transport endpoint shutdown',
  109: 'too many references',
  110: 'connection timed out',
  111: 'connection refused',
  112: 'host is down',
  113: 'host is unreachable',
  114: 'connection already in progress',
  115: 'operation in progress',
  116: 'stale file handle',
  117: 'structure needs cleaning',
  118: 'not a xenix named type file',
  119: 'no xenix semaphores available',
  120: 'is a named type file',
  121: 'remote i/o error',
  122: 'disk quota exceeded',
  123: 'no medium found',
  124: 'wrong medium type',
  125: 'operation canceled',
  126: 'required key not available',
  127: 'key has expired',
  128: 'key has been revoked',
  129: 'key was rejected by service',
  130: 'owner died',
  131: 'state not recoverable',
  132: 'operation not possible due to rf-kill',
  133: 'memory page has hardware error',
}

/** 'EINVAL' for 22; `E<n>` for a number without a name (as the oracle prints it). */
export function errno_name(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`
}

/** 22 for 'EINVAL'; undefined when unknown. */
export function errno_number(name: string): number | undefined {
  for (const [v, n] of Object.entries(ERRNO_NAMES)) if (n === name) return Number(v)
  if (name === 'EWOULDBLOCK') return EAGAIN
  if (name === 'EDEADLOCK') return EDEADLK
  if (name === 'ENOTSUP') return EOPNOTSUPP
  return undefined
}

/** Kernel: IS_ERR_VALUE() for a returned long: -4095..-1 are -errno. */
export function IS_ERR_VALUE(v: number): boolean {
  return v < 0 && v >= -4095
}

/** glibc's strerror() text of each errno, as strace and perror print it. */
export const STRERROR: Readonly<Record<number, string>> = {
  1: 'Operation not permitted', 2: 'No such file or directory', 3: 'No such process', 4: 'Interrupted system call',
  5: 'Input/output error', 6: 'No such device or address', 7: 'Argument list too long', 8: 'Exec format error',
  9: 'Bad file descriptor', 10: 'No child processes', 11: 'Resource temporarily unavailable', 12: 'Cannot allocate memory',
  13: 'Permission denied', 14: 'Bad address', 15: 'Block device required', 16: 'Device or resource busy',
  17: 'File exists', 18: 'Invalid cross-device link', 19: 'No such device', 20: 'Not a directory', 21: 'Is a directory',
  22: 'Invalid argument', 23: 'Too many open files in system', 24: 'Too many open files', 25: 'Inappropriate ioctl for device',
  26: 'Text file busy', 27: 'File too large', 28: 'No space left on device', 29: 'Illegal seek', 30: 'Read-only file system',
  31: 'Too many links', 32: 'Broken pipe', 33: 'Numerical argument out of domain', 34: 'Numerical result out of range',
  35: 'Resource deadlock avoided', 36: 'File name too long', 37: 'No locks available', 38: 'Function not implemented',
  39: 'Directory not empty', 40: 'Too many levels of symbolic links', 75: 'Value too large for defined data type',
  95: 'Operation not supported',
}
