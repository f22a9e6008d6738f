/**
 * /proc/<pid>/mem (Kernel: fs/proc/base.c mem_open, mem_rw, mem_lseek,
 * proc_mem_open; the file is read and written at the target's virtual
 * addresses: the file position is the address).
 *
 * Opening it asks mm_access(PTRACE_MODE_ATTACH_FSCREDS): the caller must
 * be allowed to ptrace the target (src/kernel/ptrace.ts), else EACCES. A
 * task without an mm reads and writes nothing (0). Each read or write goes
 * a page at a time through access_remote_vm() with FOLL_FORCE (the
 * proc_mem.force_override default, "always"): pages through
 * get_user_pages, VM_IO/VM_PFNMAP mappings only through their
 * vm_ops->access. A transfer that moves no byte at all is EIO; one that
 * stops part way returns what it moved. In mmsim the open, the positioned
 * transfer and the close are one call (pread/pwrite of the file).
 */
import { EIO } from '../../include/errno.js'
import { PAGE_SIZE } from '../../include/page_types.js'
import { __access_remote_vm, FOLL_FORCE, FOLL_WRITE } from '../../mm/access_remote.js'
import type { MmStruct } from '../../mm/mm_types.js'
import { PTRACE_MODE_ATTACH_FSCREDS, mm_access } from '../../kernel/ptrace.js'
import type { TaskStruct } from '../../kernel/task.js'

/** Kernel: proc_mem_open() (mem_open): the mm the file will reach, null for none, or -errno. */
export function proc_mem_open(current: TaskStruct, task: TaskStruct): MmStruct | null | number {
  return mm_access(current, task, PTRACE_MODE_ATTACH_FSCREDS)
}

/**
 * Kernel: mem_rw(): move buf.length bytes at addr of mm (write: from buf
 * into mm). The bytes moved, or -EIO when not one could be.
 */
export function mem_rw(mm: MmStruct | null, addr: number, buf: Uint8Array, write: boolean): number {
  if (!mm) return 0
  // mmget_not_zero(): an address space already torn down reads nothing
  if (mm.mm_users === 0) return 0
  const flags = FOLL_FORCE | (write ? FOLL_WRITE : 0)
  let copied = 0
  while (copied < buf.length) {
    // the kernel bounces each chunk through one page of its own
    const this_len = Math.min(buf.length - copied, PAGE_SIZE)
    const n = __access_remote_vm(mm, addr + copied, buf.subarray(copied, copied + this_len), flags)
    if (!n) {
      if (!copied) return -EIO
      break
    }
    copied += n
  }
  return copied
}
