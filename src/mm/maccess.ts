/**
 * Kernel-side access to kernel virtual addresses (Kernel: mm/maccess.c
 * copy_from_kernel_nofault()/copy_to_kernel_nofault(), arch/x86/mm/pat/
 * set_memory.c slow_virt_to_phys(), lookup_address()).
 *
 * A kernel address reaches a frame the way the CPU would reach it: the
 * direct map by arithmetic (__pa(); its large-page tables are not modelled
 * as frames), everything else (vmalloc, vmap, ioremap, pkmap, fixmap) by
 * walking init_mm's page tables in frames. So a byte written through a
 * vmalloc or kmap address is read back through the page's direct-map
 * address, and the other way round.
 *
 * An access to an unmapped kernel address is an oops: the KernelBug carries
 * Linux's "BUG: unable to handle page fault for address" text, which also
 * goes to the kernel log. The _nofault variants return -EFAULT instead.
 */
import { EFAULT } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { hex_addr } from '../arch/profile.js'
import { pte_pfn, _PAGE_PRESENT, _PAGE_RW } from '../arch/pte.js'
import { KernelBug } from '../include/bug.js'
import type { PageAllocator } from './page_alloc.js'
import type { PgTables } from './pgtable.js'


export class KernelMemory {
  constructor(
    private readonly page_alloc: PageAllocator,
    private readonly pgtables: PgTables,
  ) {}

  /**
   * The pfn behind a kernel virtual address, or -1 when nothing maps it.
   * `write` also requires a writable mapping (else -2).
   */
  virt_to_pfn_any(va: number, write = false): number {
    const direct = this.page_alloc.virt_to_pfn(va)
    if (direct >= 0) return direct
    const pt = this.pgtables
    const ptep = pt.walk(pt.init_mm, Math.floor(va / PAGE_SIZE) * PAGE_SIZE)
    if (ptep === 0) return -1
    const pte = pt.ptep_get(ptep)
    if ((pte & _PAGE_PRESENT) === 0) return -1
    if (write && (pte & _PAGE_RW) === 0) return -2
    const pfn = pte_pfn(pte)
    return pfn < this.page_alloc.physmem.nr_frames ? pfn : -1
  }

  /** Kernel: slow_virt_to_phys(): the physical address, or -1. */
  slow_virt_to_phys(va: number): number {
    const pfn = this.virt_to_pfn_any(va)
    if (pfn < 0) return -1
    return pfn * PAGE_SIZE + offset_in_page(va)
  }

  private oops(fn: string, va: number, write: boolean, why: number): never {
    const bits = this.page_alloc.arch.bits
    const pr = this.page_alloc.printk
    pr.pr_err(`BUG: unable to handle page fault for address: ${hex_addr(va, bits)}`)
    pr.pr_err(`#PF: supervisor ${write ? 'write' : 'read'} access in kernel mode`)
    pr.pr_err(why === -2 ? `#PF: error_code(0x0003) - permissions violation` : `#PF: error_code(0x000${write ? 2 : 0}) - not-present page`)
    throw new KernelBug(`${fn}: BUG: unable to handle page fault for address: ${hex_addr(va, bits)}`)
  }

  /** Walk [va, va+len) page by page; returns -EFAULT (nofault) or throws an oops at the first hole. */
  private each(fn: string, va: number, len: number, write: boolean, nofault: boolean, cb: (pfn: number, off: number, n: number, done: number) => void): number {
    for (let done = 0, n = 0; done < len; done += n) {
      const a = va + done
      n = page_chunk(a, len - done)
      const pfn = this.virt_to_pfn_any(a, write)
      if (pfn < 0) {
        if (nofault) return -EFAULT
        this.oops(fn, a, write, pfn)
      }
      cb(pfn, offset_in_page(a), n, done)
    }
    return 0
  }

  /** Read `len` bytes at a kernel virtual address (memcpy from kernel memory). Oopses on a hole. */
  kernel_read(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len)
    const pm = this.page_alloc.physmem
    this.each('kernel_read', va, len, false, false, (pfn, off, n, done) => pm.copy_out(pfn, off, out, done, n))
    return out
  }

  /** Write bytes at a kernel virtual address. Oopses on a hole or a read-only mapping. */
  kernel_write(va: number, data: Uint8Array): void {
    const pm = this.page_alloc.physmem
    this.each('kernel_write', va, data.length, true, false, (pfn, off, n, done) => pm.write_at(pfn, off, data, done, n))
  }

  /** Kernel: copy_from_kernel_nofault(): the bytes, or -EFAULT. */
  copy_from_kernel_nofault(va: number, len: number): Uint8Array | number {
    const out = new Uint8Array(len)
    const pm = this.page_alloc.physmem
    const r = this.each('copy_from_kernel_nofault', va, len, false, true, (pfn, off, n, done) => pm.copy_out(pfn, off, out, done, n))
    return r < 0 ? r : out
  }

  /** Kernel: copy_to_kernel_nofault(): 0 or -EFAULT (nothing written on failure). */
  copy_to_kernel_nofault(va: number, data: Uint8Array): number {
    const r = this.each('copy_to_kernel_nofault', va, data.length, true, true, () => undefined)
    if (r < 0) return r
    this.kernel_write(va, data)
    return 0
  }
}
