/**
 * ioctl(2) on an open file (Kernel: fs/ioctl.c vfs_ioctl()). The file's
 * unlocked_ioctl gets the command; a file without one answers ENOTTY, as
 * does a driver that returns -ENOIOCTLCMD for a command it does not know.
 * do_vfs_ioctl()'s generic commands (FIOCLEX, FIONBIO, FIONREAD...) are not
 * modelled yet: they reach the driver like any other.
 */
import { ENOTTY } from '../include/errno.js'
import type { MmStruct } from '../mm/mm_types.js'
import type { File } from './fs.js'

/** ENOIOCTLCMD: the kernel-internal "no such ioctl" a driver may return (include/linux/errno.h). */
export const ENOIOCTLCMD = 515

/** Kernel: vfs_ioctl(). `mm` is the caller's address space (where a pointer argument points). */
export function vfs_ioctl(file: File, cmd: number, arg: number, mm: MmStruct): number {
  if (!file.f_op.unlocked_ioctl) return -ENOTTY
  const error = file.f_op.unlocked_ioctl(file, cmd, arg, mm)
  return error === -ENOIOCTLCMD ? -ENOTTY : error
}
