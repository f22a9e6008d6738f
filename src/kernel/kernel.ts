/**
 * The kernel-side API of a simulated machine (`machine.kernel`): the
 * functions a driver or kernel subsystem calls, with the kernel's names and
 * argument order. Pages are handed out as `Page` handles (branded PFNs),
 * kernel memory as kernel virtual addresses (numbers; 0 is NULL).
 */
import { KernelBug } from './bug.js'
import { __GFP_HIGHMEM, __GFP_ZERO, type gfp_t } from '../mm/gfp.js'
import type { Page, Pfn } from '../mm/page.js'
import type { PageAllocator } from '../mm/page_alloc.js'

export class Kernel {
  /** Called after every API call when the machine runs with debug_vm. */
  after_op: (() => void) | null = null

  constructor(readonly page_alloc: PageAllocator) {}

  private done<T>(v: T): T {
    if (this.after_op) this.after_op()
    return v
  }

  /** Kernel: alloc_pages(). A page handle, or null on failure. */
  alloc_pages(gfp: gfp_t, order: number): Page | null {
    const pfn = this.page_alloc.alloc_pages(gfp, order)
    return this.done(pfn < 0 ? null : (pfn as Page))
  }

  /** Kernel: alloc_page(). */
  alloc_page(gfp: gfp_t): Page | null {
    return this.alloc_pages(gfp, 0)
  }

  /** Kernel: __free_pages(). */
  __free_pages(page: Page, order: number): void {
    this.page_alloc.__free_pages(this.check_page(page, '__free_pages'), order)
    this.done(undefined)
  }

  /** Kernel: __free_page(). */
  __free_page(page: Page): void {
    this.__free_pages(page, 0)
  }

  /** Kernel: __get_free_pages(): a kernel virtual address, or 0 on failure. HIGHMEM is never used. */
  __get_free_pages(gfp: gfp_t, order: number): number {
    const pfn = this.page_alloc.alloc_pages(gfp & ~__GFP_HIGHMEM, order)
    return this.done(pfn < 0 ? 0 : this.page_alloc.page_address(pfn))
  }

  /** Kernel: __get_free_page(). */
  __get_free_page(gfp: gfp_t): number {
    return this.__get_free_pages(gfp, 0)
  }

  /** Kernel: get_zeroed_page(). */
  get_zeroed_page(gfp: gfp_t): number {
    return this.__get_free_pages(gfp | __GFP_ZERO, 0)
  }

  /** Kernel: free_pages(): free by address; 0 is ignored. */
  free_pages(addr: number, order: number): void {
    if (addr === 0) return
    const pfn = this.page_alloc.virt_to_pfn(addr)
    if (pfn < 0) throw new KernelBug(`free_pages: 0x${addr.toString(16)} is not a direct-map address`)
    this.page_alloc.__free_pages(pfn, order)
    this.done(undefined)
  }

  /** Kernel: free_page(). */
  free_page(addr: number): void {
    this.free_pages(addr, 0)
  }

  /** Kernel: page_address(): the page's kernel virtual address, 0 for an unmapped HIGHMEM page. */
  page_address(page: Page): number {
    return this.page_alloc.page_address(page)
  }

  /** Kernel: virt_to_page(): the page of a direct-map address, or null when it is not one. */
  virt_to_page(addr: number): Page | null {
    const pfn = this.page_alloc.virt_to_pfn(addr)
    return pfn < 0 ? null : (pfn as Page)
  }

  /** Kernel: page_to_pfn(). */
  page_to_pfn(page: Page): Pfn {
    return page
  }

  /** Kernel: pfn_to_page(). */
  pfn_to_page(pfn: Pfn): Page {
    this.check_page(pfn as Page, 'pfn_to_page')
    return pfn as Page
  }

  /** Kernel: page_count(). */
  page_count(page: Page): number {
    return this.page_alloc.pages.page_count(page)
  }

  /** Kernel: get_page(). */
  get_page(page: Page): void {
    this.page_alloc.pages.get_page(page)
  }

  /** Kernel: put_page() on a non-compound order-0 page. */
  put_page(page: Page): void {
    this.__free_pages(page, this.page_alloc.compound_order(page))
  }

  /** Kernel: drain_all_pages(): empty the per-CPU lists back into the buddy lists. */
  drain_all_pages(): void {
    this.page_alloc.drain_all_pages()
    this.done(undefined)
  }

  /** Kernel: nr_free_pages(). */
  nr_free_pages(): number {
    return this.page_alloc.nr_free_pages()
  }

  private check_page(page: Page, fn: string): Pfn {
    if (!Number.isInteger(page) || page < 0 || page >= this.page_alloc.pages.nr) {
      throw new KernelBug(`${fn}: ${String(page)} is not a page`)
    }
    return page
  }
}
