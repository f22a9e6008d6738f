/**
 * The memory devices of major 1 (Kernel: drivers/char/mem.c): /dev/null,
 * /dev/zero and /dev/full, registered at boot (chr_dev_init) with one
 * register_chrdev(MEM_MAJOR, "mem") whose open (memory_open) picks the
 * minor's file_operations; their nodes appear in /dev (devtmpfs).
 *
 *   null: read is EOF, write swallows everything, lseek always 0, no mmap;
 *   zero: read fills with zeros, write swallows, lseek 0, mmap: MAP_PRIVATE
 *         is anonymous memory (vma_set_anonymous), MAP_SHARED a new shmem
 *         object (shmem_zero_setup, "/dev/zero (deleted)" in maps);
 *   full: read fills with zeros, write is ENOSPC, lseek 0, no mmap.
 *
 *   mem:  physical memory (devmem.ts).
 *
 * Minors without a device here (4 port, 8 random, 9 urandom, 11 kmsg: not
 * modelled yet, and the removed 2 kmem) open with ENXIO, as memory_open
 * answers a minor missing from its table.
 *
 * Node order: Linux makes the nodes in minor order, mem first. The
 * reference machine has no /dev/mem (CONFIG_DEVMEM off) and numbers
 * null/zero/full 3/4/5 in devtmpfs, which its recorded /proc/<pid>/maps
 * lines show; mmsim keeps those numbers and makes /dev/mem's node last
 * (inode 6), so a mapping of /dev/zero prints what the real machine printed.
 */
import { EFAULT, ENOSPC, ENXIO } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { MINOR, MKDEV, S_IFCHR, type FileOperations, type File, type UserPtr } from '../fs/fs.js'
import { KernelBug } from '../include/bug.js'
import type { ChrdevRegistry } from '../fs/char_dev.js'
import { copy_to_user } from '../mm/uaccess.js'
import { vma_set_anonymous } from '../mm/memory.js'
import { shmem_zero_setup } from '../mm/mmap.js'
import { vm_flags_test, VM_SHARED } from '../mm/mm_types.js'
import type { DeviceNode } from './module.js'
import { devmem_fops, type DevmemHost } from './devmem.js'

export const MEM_MAJOR = 1

/** Kernel: null_lseek() / the zero and full files' noop llseek: the position stays 0. */
function null_lseek(file: File): number {
  file.f_pos = 0
  return 0
}

/** Kernel: read_iter_zero(): zeros, a page at a time; a bad buffer is EFAULT if nothing was copied. */
function read_zero(_file: File, buf: UserPtr, count: number): number {
  let written = 0
  const zeros = new Uint8Array(Math.min(count, PAGE_SIZE))
  while (written < count) {
    const chunk = Math.min(count - written, PAGE_SIZE)
    const left = copy_to_user(buf.mm, buf.addr + written, chunk === zeros.length ? zeros : zeros.subarray(0, chunk))
    written += chunk - left
    if (left) return written ? written : -EFAULT
  }
  return written
}

const null_fops: FileOperations = {
  llseek: null_lseek,
  read: () => 0,
  write: (_f, _b, count) => count,
}

const zero_fops: FileOperations = {
  llseek: null_lseek,
  read: read_zero,
  write: (_f, _b, count) => count,
  // Kernel: mmap_zero().
  mmap(_file, vma) {
    if (vm_flags_test(vma.vm_flags, VM_SHARED)) return shmem_zero_setup(vma)
    vma_set_anonymous(vma)
    return 0
  },
}

const full_fops: FileOperations = {
  llseek: null_lseek,
  read: read_zero,
  write: () => -ENOSPC,
}

type MemDev = { name: string; mode: number; fops: FileOperations }

/** Kernel: devlist[]: minor -> name, mode of the node (mem: root only), fops; in the order the nodes are made. */
function make_devlist(devmem: DevmemHost): ReadonlyMap<number, MemDev> {
  return new Map([
    [3, { name: 'null', mode: 0o666, fops: null_fops }],
    [5, { name: 'zero', mode: 0o666, fops: zero_fops }],
    [7, { name: 'full', mode: 0o666, fops: full_fops }],
    [1, { name: 'mem', mode: 0o600, fops: devmem_fops(devmem) }],
  ])
}

/** Kernel: memory_open(): the minor's fops replace memory_fops, then their open runs. */
function memory_fops(devlist: ReadonlyMap<number, MemDev>): FileOperations {
  return {
    open(inode, filp) {
      const dev = devlist.get(MINOR(inode.i_rdev))
      if (!dev) return -ENXIO
      filp.f_op = dev.fops
      return dev.fops.open ? dev.fops.open(inode, filp) : 0
    },
  }
}

/**
 * Kernel: chr_dev_init(): register major 1 as "mem" and make each device's
 * node (device_create -> devtmpfs), in minor order. Returns the nodes made.
 */
export function chr_dev_init(chrdevs: ChrdevRegistry, mknod: (path: string, mode: number, dev: number) => number, devmem: DevmemHost): DeviceNode[] {
  const devlist = make_devlist(devmem)
  // Major 1 is free at boot: a failure here is a broken registry.
  if (chrdevs.register_chrdev(MEM_MAJOR, 'mem', memory_fops(devlist))) throw new KernelBug(`unable to get major ${MEM_MAJOR} for memory devs`)
  const nodes: DeviceNode[] = []
  for (const [minor, d] of devlist) {
    const node = { name: d.name, dev: MKDEV(MEM_MAJOR, minor), mode: S_IFCHR | d.mode }
    mknod(`/dev/${d.name}`, node.mode, node.dev)
    nodes.push(node)
  }
  return nodes
}
