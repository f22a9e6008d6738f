/**
 * Open files of a task: the descriptor table (Kernel: struct files_struct,
 * fs/file.c alloc_fd(), fd_install(), close_fd(), dup_fd(), put_files_struct();
 * fs/file_table.c fput()).
 *
 * A descriptor names a struct file (an open file description); fork copies
 * the table and takes a reference on every file (dup_fd), so parent and
 * child share offsets and modes as in Linux. Descriptors 0-2 are taken as
 * the standard streams a process starts with (they are not modelled), so
 * the first open() returns 3, as in a program started from a shell.
 *
 * Invariants: every file in a table has f_count >= 1 and holds one of those
 * references per descriptor naming it; a closed table is empty.
 */
import { fput, type File } from './fs.js'
import { EBADF, EMFILE } from '../include/errno.js'

/** The first descriptor open() can return (0, 1, 2: the standard streams). */
const FIRST_FREE_FD = 3

export class FilesStruct {
  /** fdtable->fd: descriptor -> file. */
  readonly fdt = new Map<number, File>()
  /** fdtable->close_on_exec: the descriptors with FD_CLOEXEC. */
  readonly close_on_exec = new Set<number>()
}

/** Kernel: get_unused_fd_flags() / alloc_fd(): the lowest free descriptor, or -EMFILE at `nofile` (RLIMIT_NOFILE). */
export function get_unused_fd_flags(files: FilesStruct, nofile: number): number {
  let fd = FIRST_FREE_FD
  while (files.fdt.has(fd)) fd++
  return fd >= nofile ? -EMFILE : fd
}

/** Kernel: fd_install(): the descriptor now names `file` (the caller's reference moves into the table). */
export function fd_install(files: FilesStruct, fd: number, file: File, cloexec = false): void {
  files.fdt.set(fd, file)
  if (cloexec) files.close_on_exec.add(fd)
  else files.close_on_exec.delete(fd)
}

/** Kernel: fget() without the extra reference: the file behind `fd`, or null. */
export function fget(files: FilesStruct, fd: number): File | null {
  return files.fdt.get(fd) ?? null
}

/** Kernel: close_fd(): 0 or -EBADF. */
export function close_fd(files: FilesStruct, fd: number): number {
  const file = files.fdt.get(fd)
  if (!file) return -EBADF
  files.fdt.delete(fd)
  files.close_on_exec.delete(fd)
  fput(file)
  return 0
}

/** Kernel: dup_fd(): fork's copy of the table; every file gains a reference. */
export function dup_fd(old: FilesStruct): FilesStruct {
  const files = new FilesStruct()
  for (const [fd, file] of old.fdt) {
    file.f_count++
    files.fdt.set(fd, file)
  }
  for (const fd of old.close_on_exec) files.close_on_exec.add(fd)
  return files
}

/** Kernel: put_files_struct() at exit: every descriptor is closed. */
export function put_files_struct(files: FilesStruct): void {
  for (const fd of [...files.fdt.keys()]) close_fd(files, fd)
}
