/**
 * /dev/mem, major 1 minor 1 (Kernel: drivers/char/mem.c open_mem,
 * read_mem, write_mem, memory_lseek, mmap_mem; arch/x86/mm/init.c
 * devmem_is_allowed). The file is physical memory: its position is a
 * physical address.
 *
 *  - open needs CAP_SYS_RAWIO (EPERM) and marks the file
 *    FMODE_UNSIGNED_OFFSET: mmap puts no ceiling on its offsets;
 *  - STRICT_DEVMEM (the default; Machine option strict_devmem: false turns
 *    it off) decides per page: System RAM below 1 MiB reads as zeros and
 *    swallows writes (2), other System RAM is refused (0), what is not RAM
 *    (the legacy VGA/BIOS hole, firmware-reserved ranges, MMIO) is allowed
 *    (1) unless a driver claimed it exclusively (request_mem_region_exclusive,
 *    or any claim with CONFIG_IO_STRICT_DEVMEM: iomem_is_exclusive), which
 *    refuses it above 1 MiB (0; the low MiB bypasses the rule);
 *  - every /dev/mem file maps through the iomem inode's address_space
 *    (open_mem sets f_mapping): with CONFIG_IO_STRICT_DEVMEM a driver's
 *    claim revokes what /dev/mem users mapped of it (revoke_iomem: their
 *    PTEs are zapped, the next access is SIGBUS);
 *  - read and write reach only the direct-mapped RAM (valid_phys_addr_range:
 *    below high_memory, EFAULT past it), a page at a time; a refused page is
 *    EPERM;
 *  - mmap maps the physical range with remap_pfn_range (VM_IO|VM_PFNMAP|
 *    VM_DONTEXPAND|VM_DONTDUMP) after refusing an offset that wraps (EINVAL),
 *    a range past the CPU's physical address bits (EINVAL) or any refused
 *    page (EPERM); a failed remap is EAGAIN. Frames past RAM (MMIO) are not
 *    backed by the simulated hardware, so mapping them is refused with
 *    EINVAL rather than faking device registers.
 */
import { EAGAIN, EFAULT, EINVAL, EOVERFLOW, EPERM } from '../include/errno.js'
import { CAP_SYS_RAWIO } from '../include/cred.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { SEEK_CUR, SEEK_SET } from '../include/uapi/fcntl.js'
import type { File, FileOperations, Loff, UserPtr } from '../fs/fs.js'
import { copy_from_user, copy_to_user } from '../mm/uaccess.js'
import { remap_pfn_range } from '../mm/remap.js'
import { generic_access_phys } from '../mm/access_remote.js'
import type { AddressSpace, VmOperations } from '../mm/mm_types.js'
import type { IomemResource, Resource } from '../mm/resource.js'
import { unmap_mapping_pages } from '../mm/truncate.js'

/** What /dev/mem needs of the machine. */
export interface DevmemHost {
  /** capable() of the task in the system call. */
  capable(cap: number): boolean
  /** The pfn is in a System RAM range of the e820 map. */
  is_system_ram(pfn: number): boolean
  /** is_system_ram() holds for some pfn of [first, end). */
  system_ram_in(first: number, end: number): boolean
  /** Frames the simulated hardware backs (RAM and the holes between, below the last RAM frame). */
  readonly nr_frames: number
  /** __pa(high_memory): the end of the direct map of RAM. */
  readonly high_memory: number
  /** 2^x86_phys_bits. */
  readonly max_phys: number
  read_phys(pa: number, len: number): Uint8Array
  write_phys(pa: number, data: Uint8Array): void
  readonly strict_devmem: boolean
  /** The iomem resource tree (the claims iomem_is_exclusive() reads). */
  readonly iomem: IomemResource
  /** The iomem inode's address_space: every /dev/mem file's f_mapping (iomem_get_mapping()). */
  readonly iomem_mapping: AddressSpace
  /** The lockdown= level the machine booted with (security/lockdown/lockdown.c). */
  readonly lockdown: LockdownLevel
  /** current->comm of the running system call ('' outside one). */
  comm(): string
  /** pr_notice() to the kernel log. */
  notice(text: string): void
}

/** kernel_locked_down: none, integrity, or confidentiality (which includes integrity). */
export type LockdownLevel = 'none' | 'integrity' | 'confidentiality'

/**
 * Kernel: security_locked_down(LOCKDOWN_DEV_MEM) with the lockdown LSM:
 * /dev/mem is an integrity reason, refused at either level with the
 * LSM's notice; 0 or -EPERM.
 */
export function security_locked_down_dev_mem(h: DevmemHost): number {
  if (h.lockdown === 'none') return 0
  h.notice(`Lockdown: ${h.comm()}: /dev/mem,kmem,port is restricted; see man kernel_lockdown.7`)
  return -EPERM
}

/** Kernel: devmem_is_allowed() under CONFIG_STRICT_DEVMEM: 0 deny, 1 allow, 2 zeros for read/write. */
export function devmem_is_allowed(h: DevmemHost, pfn: number): 0 | 1 | 2 {
  if (!h.strict_devmem) return 1
  if (h.is_system_ram(pfn)) return pfn < 256 ? 2 : 0
  // after the RAM test: System RAM is itself a busy resource
  if (h.iomem.iomem_is_exclusive(pfn * PAGE_SIZE)) return pfn < 256 ? 1 : 0
  return 1
}

/**
 * Kernel: range_is_allowed() (drivers/char/mem.c): devmem_is_allowed() for
 * every page of [pfn, pfn + n). Answered per range, not per page (a mapping
 * can be millions of pages): below 256 every page is allowed (1 or 2);
 * from 256 up a page is refused exactly when it is System RAM or inside an
 * exclusive claim, so the range is allowed when neither meets its part
 * from 256 up.
 */
export function range_is_allowed(h: DevmemHost, pfn: number, n: number): boolean {
  if (!h.strict_devmem) return true
  const first = Math.max(pfn, 256)
  const end = pfn + n
  if (first >= end) return true
  if (h.system_ram_in(first, end)) return false
  return !h.iomem.exclusive_in(first * PAGE_SIZE, end * PAGE_SIZE)
}

/**
 * Kernel: revoke_iomem() (CONFIG_IO_STRICT_DEVMEM only): a driver claimed
 * res; unless /dev/mem still allows both its first and last page
 * (iomem=relaxed, the low MiB), zap every /dev/mem PTE of it and of COW
 * copies made from it (unmap_mapping_range(..., even_cows 1)).
 */
export function revoke_iomem(h: DevmemHost, res: Resource): void {
  if (!h.iomem.opts.io_strict_devmem) return
  const first = Math.floor(res.start / PAGE_SIZE)
  const last = Math.floor(res.end / PAGE_SIZE)
  if (devmem_is_allowed(h, first) && devmem_is_allowed(h, last)) return
  unmap_mapping_pages(h.iomem_mapping, first, last, true)
}

/** Kernel: size_inside_page(). */
function size_inside_page(p: number, count: number): number {
  return Math.min(PAGE_SIZE - (p % PAGE_SIZE), count)
}

/** Kernel: mmap_mem_ops: ptrace and /proc/<pid>/mem reach a /dev/mem mapping through the PTE's physical address. */
const mmap_mem_ops: VmOperations = Object.freeze({ access: generic_access_phys })

export function devmem_fops(h: DevmemHost): FileOperations {
  const valid_phys_addr_range = (p: number, count: number): boolean => p + count <= h.high_memory
  return {
    /** Kernel: open_mem(). */
    open(_inode, filp: File) {
      if (!h.capable(CAP_SYS_RAWIO)) return -EPERM
      const rc = security_locked_down_dev_mem(h)
      if (rc) return rc
      filp.f_unsigned_offset = true
      // open_port(): one address space for all, so a claim can revoke every mapping of its range
      filp.f_mapping = h.iomem_mapping
      return 0
    },
    /** Kernel: memory_lseek(): SET and CUR; a result among the top 4095 values is EOVERFLOW. */
    llseek(filp: File, off: number, whence: number) {
      let pos: number
      if (whence === SEEK_SET) pos = off
      else if (whence === SEEK_CUR) pos = filp.f_pos + off
      else return -EINVAL
      if (pos < 0 && pos >= -4095) return -EOVERFLOW
      filp.f_pos = pos
      return pos
    },
    /** Kernel: read_mem(). */
    read(_filp: File, buf: UserPtr, count: number, ppos: Loff) {
      let p = ppos.pos
      if (p < 0 || !valid_phys_addr_range(p, count)) return -EFAULT
      let read = 0
      while (count > 0) {
        const sz = size_inside_page(p, count)
        const allowed = devmem_is_allowed(h, Math.floor(p / PAGE_SIZE))
        if (!allowed) return -EPERM
        const bytes = allowed === 2 ? new Uint8Array(sz) : h.read_phys(p, sz)
        if (copy_to_user(buf.mm, buf.addr + read, bytes)) return -EFAULT
        p += sz
        count -= sz
        read += sz
      }
      ppos.pos += read
      return read
    },
    /** Kernel: write_mem(): a zeros-only page swallows its bytes (counted as written). */
    write(_filp: File, buf: UserPtr, count: number, ppos: Loff) {
      let p = ppos.pos
      if (p < 0 || !valid_phys_addr_range(p, count)) return -EFAULT
      let written = 0
      while (count > 0) {
        const sz = size_inside_page(p, count)
        const allowed = devmem_is_allowed(h, Math.floor(p / PAGE_SIZE))
        if (!allowed) return written ? written : -EPERM
        if (allowed === 1) {
          const bytes = new Uint8Array(sz)
          if (copy_from_user(buf.mm, bytes, buf.addr + written)) return written ? written : -EFAULT
          h.write_phys(p, bytes)
        }
        p += sz
        count -= sz
        written += sz
      }
      ppos.pos += written
      return written
    },
    /** Kernel: mmap_mem(). */
    mmap(_filp: File, vma) {
      const size = vma.vm_end - vma.vm_start
      const offset = vma.vm_pgoff * PAGE_SIZE
      // phys_addr_t is 64 bits: pgoff << PAGE_SHIFT cannot lose bits below 2^52 pages; the range must not wrap
      if (offset + size - 1 >= 2 ** 64) return -EINVAL
      // valid_mmap_phys_addr_range(): within the CPU's physical address bits
      if (offset + size > h.max_phys) return -EINVAL
      if (!range_is_allowed(h, vma.vm_pgoff, size / PAGE_SIZE)) return -EPERM
      if (vma.vm_pgoff + size / PAGE_SIZE > h.nr_frames) return -EINVAL
      vma.vm_ops = mmap_mem_ops
      if (remap_pfn_range(vma, vma.vm_start, vma.vm_pgoff, size)) return -EAGAIN
      return 0
    },
  }
}
