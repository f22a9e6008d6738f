/**
 * ioctl command numbers (include/uapi/asm-generic/ioctl.h, the layout x86
 * uses): bits 0-7 the number, 8-15 the type ("magic"), 16-29 the size of
 * the argument, 30-31 the direction (_IOC_WRITE: user to kernel, _IOC_READ:
 * kernel to user, as seen from the application). Commands are 32-bit
 * unsigned values; the results here are non-negative numbers.
 */
export const _IOC_NRBITS = 8
export const _IOC_TYPEBITS = 8
export const _IOC_SIZEBITS = 14
export const _IOC_DIRBITS = 2

export const _IOC_NRSHIFT = 0
export const _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
export const _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
export const _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS

export const _IOC_NONE = 0
export const _IOC_WRITE = 1
export const _IOC_READ = 2

/** A magic given as a character ('k') or a number. */
type Magic = string | number
const magic = (t: Magic): number => (typeof t === 'string' ? t.charCodeAt(0) : t)

/** _IOC(dir, type, nr, size); >>> 0 keeps direction bit 31 unsigned. */
export function _IOC(dir: number, type: Magic, nr: number, size: number): number {
  return ((dir << _IOC_DIRSHIFT) | (magic(type) << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)) >>> 0
}
/** _IO(type, nr): no argument data. */
export function _IO(type: Magic, nr: number): number {
  return _IOC(_IOC_NONE, type, nr, 0)
}
/** _IOR(type, nr, size): the kernel writes `size` bytes to the user pointer (sizeof(int) is 4). */
export function _IOR(type: Magic, nr: number, size: number): number {
  return _IOC(_IOC_READ, type, nr, size)
}
/** _IOW(type, nr, size): the kernel reads `size` bytes from the user pointer. */
export function _IOW(type: Magic, nr: number, size: number): number {
  return _IOC(_IOC_WRITE, type, nr, size)
}
/** _IOWR(type, nr, size): both ways. */
export function _IOWR(type: Magic, nr: number, size: number): number {
  return _IOC(_IOC_READ | _IOC_WRITE, type, nr, size)
}
export function _IOC_DIR(cmd: number): number {
  return (cmd >>> _IOC_DIRSHIFT) & ((1 << _IOC_DIRBITS) - 1)
}
export function _IOC_TYPE(cmd: number): number {
  return (cmd >>> _IOC_TYPESHIFT) & ((1 << _IOC_TYPEBITS) - 1)
}
export function _IOC_NR(cmd: number): number {
  return (cmd >>> _IOC_NRSHIFT) & ((1 << _IOC_NRBITS) - 1)
}
export function _IOC_SIZE(cmd: number): number {
  return (cmd >>> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1)
}
