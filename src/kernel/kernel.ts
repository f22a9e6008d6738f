/**
 * The kernel-side API of a simulated machine (`machine.kernel`): the
 * functions a driver or kernel subsystem calls, with the kernel's names and
 * argument order. Pages are handed out as `Page` handles (branded PFNs),
 * kernel memory as kernel virtual addresses (numbers; 0 is NULL).
 */
import { KernelBug } from '../include/bug.js'
import { __GFP_HIGHMEM, __GFP_ZERO, type gfp_t } from '../mm/gfp.js'
import type { Page, Pfn } from '../mm/page.js'
import type { PageAllocator } from '../mm/page_alloc.js'
import type { Highmem } from '../mm/highmem.js'
import type { KernelMemory } from '../mm/maccess.js'
import type { Vmalloc } from '../mm/vmalloc.js'
import type { KmemCache, SlabAllocator } from '../mm/slab_common.js'
import type { KmemCacheArgs, slab_flags_t } from '../mm/slab_h.js'
import { format_addr } from '../include/hex.js'

export class Kernel {
  /** Called after every API call when the machine runs with debug_vm. */
  after_op: (() => void) | null = null
  /** The slab allocator; the Machine installs it at boot. */
  slab: SlabAllocator | null = null

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
    if (pfn < 0) throw new KernelBug(`free_pages: ${format_addr(addr, this.page_alloc.arch.bits)} is not a direct-map address`)
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

  // ---------------------------------------------------------------- vmalloc, kmap, kernel memory
  private vm: { vmalloc: Vmalloc; highmem: Highmem; kmem: KernelMemory } | null = null

  /** Machine wires the vmalloc, highmem and kernel-memory subsystems in at boot. */
  attach_vm(vmalloc: Vmalloc, highmem: Highmem, kmem: KernelMemory): void {
    this.vm = { vmalloc, highmem, kmem }
  }
  private get v(): { vmalloc: Vmalloc; highmem: Highmem; kmem: KernelMemory } {
    if (this.vm === null) throw new KernelBug('kernel: vmalloc is not initialised (vmalloc_init)')
    return this.vm
  }

  /** Kernel: vmalloc(): a vmalloc address, or 0. `caller` is what /proc/vmallocinfo shows (%pS). */
  vmalloc(size: number, caller?: string): number {
    return this.done(this.v.vmalloc.vmalloc(size, caller))
  }
  /** Kernel: vzalloc(). */
  vzalloc(size: number, caller?: string): number {
    return this.done(this.v.vmalloc.vzalloc(size, caller))
  }
  /** Kernel: __vmalloc(size, gfp_mask). */
  __vmalloc(size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.v.vmalloc.__vmalloc(size, gfp, caller))
  }
  /** Kernel: vmalloc_user(): zeroed, VM_USERMAP (for remap_vmalloc_range). */
  vmalloc_user(size: number, caller?: string): number {
    return this.done(this.v.vmalloc.vmalloc_user(size, caller))
  }
  /** Kernel: vmalloc_32(). */
  vmalloc_32(size: number, caller?: string): number {
    return this.done(this.v.vmalloc.vmalloc_32(size, caller))
  }
  /** Kernel: vmalloc_32_user(). */
  vmalloc_32_user(size: number, caller?: string): number {
    return this.done(this.v.vmalloc.vmalloc_32_user(size, caller))
  }
  /** Kernel: remap_vmalloc_range() checks: the pages to map for a VM_USERMAP area, or -EINVAL. */
  remap_vmalloc_range_pages(kaddr: number, pgoff: number, size: number): Page[] | number {
    return this.v.vmalloc.remap_vmalloc_range_pages(kaddr, pgoff, size) as Page[] | number
  }
  /** Kernel: vfree(); 0 is fine. */
  vfree(addr: number): void {
    this.v.vmalloc.vfree(addr)
    this.done(undefined)
  }
  /** Kernel: vmalloc_to_page(): the page behind a vmalloc/vmap address, or null. */
  vmalloc_to_page(addr: number): Page | null {
    const pfn = this.v.vmalloc.vmalloc_to_page(addr)
    return pfn === null ? null : (pfn as Page)
  }
  /** Kernel: vmalloc_to_pfn(). */
  vmalloc_to_pfn(addr: number): Pfn {
    return this.v.vmalloc.vmalloc_to_pfn(addr)
  }
  /** Kernel: is_vmalloc_addr(). */
  is_vmalloc_addr(addr: number): boolean {
    return this.v.vmalloc.is_vmalloc_addr(addr)
  }
  /** Kernel: vmap(pages, count, flags, prot): 0 on failure. */
  vmap(pages: readonly Page[], count: number, flags = 0, prot?: number, caller?: string): number {
    for (const p of pages) this.check_page(p, 'vmap')
    return this.done(this.v.vmalloc.vmap(pages, count, flags, prot, caller))
  }
  /** Kernel: vunmap(). */
  vunmap(addr: number): void {
    this.v.vmalloc.vunmap(addr)
    this.done(undefined)
  }
  /** Kernel: ioremap(): map device memory (not RAM), UC-. 0 on failure. */
  ioremap(phys_addr: number, size: number, caller?: string): number {
    return this.done(this.v.vmalloc.ioremap(phys_addr, size, caller))
  }
  /** Kernel: iounmap(). */
  iounmap(addr: number): void {
    this.v.vmalloc.iounmap(addr)
    this.done(undefined)
  }
  /** Kernel: kmap(): direct-map address, or a pkmap address for a HIGHMEM page. */
  kmap(page: Page): number {
    return this.done(this.v.highmem.kmap(this.check_page(page, 'kmap')))
  }
  /** Kernel: kunmap(). */
  kunmap(page: Page): void {
    this.v.highmem.kunmap(this.check_page(page, 'kunmap'))
    this.done(undefined)
  }
  /** Kernel: kmap_local_page(). */
  kmap_local_page(page: Page): number {
    return this.done(this.v.highmem.kmap_local_page(this.check_page(page, 'kmap_local_page')))
  }
  /** Kernel: kunmap_local(). */
  kunmap_local(addr: number): void {
    this.v.highmem.kunmap_local(addr)
    this.done(undefined)
  }
  /** Kernel: kmap_atomic(). */
  kmap_atomic(page: Page): number {
    return this.done(this.v.highmem.kmap_atomic(this.check_page(page, 'kmap_atomic')))
  }
  /** Kernel: kunmap_atomic(). */
  kunmap_atomic(addr: number): void {
    this.v.highmem.kunmap_atomic(addr)
    this.done(undefined)
  }
  /** Read bytes through any kernel virtual address (direct map, vmalloc, kmap); an unmapped one oopses. */
  kernel_read(addr: number, len: number): Uint8Array {
    return this.v.kmem.kernel_read(addr, len)
  }
  /** Write bytes through any kernel virtual address; an unmapped or read-only one oopses. */
  kernel_write(addr: number, data: Uint8Array): void {
    this.v.kmem.kernel_write(addr, data)
  }
  /** Kernel: copy_from_kernel_nofault(): bytes or -EFAULT. */
  copy_from_kernel_nofault(addr: number, len: number): Uint8Array | number {
    return this.v.kmem.copy_from_kernel_nofault(addr, len)
  }

  // ------------------------------------------------------------ slab (mm/slab_common.c, mm/slub.c)

  private get sa(): SlabAllocator {
    if (!this.slab) throw new KernelBug('kmalloc: the slab allocator is not up yet')
    return this.slab
  }

  /** Kernel: kmem_cache_create(). The cache, or null (with Linux's warning) on failure. */
  kmem_cache_create(name: string, size: number, align: number, flags: slab_flags_t, ctor: ((objp: number) => void) | null = null, args: KmemCacheArgs = {}): KmemCache | null {
    return this.done(this.sa.kmem_cache_create(name, size, align, flags, ctor, args))
  }
  /** Kernel: kmem_cache_alloc(). An object address, or 0 on failure. */
  kmem_cache_alloc(s: KmemCache, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kmem_cache_alloc(s, gfp, caller))
  }
  /** Kernel: kmem_cache_zalloc(). */
  kmem_cache_zalloc(s: KmemCache, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kmem_cache_zalloc(s, gfp, caller))
  }
  /** Kernel: kmem_cache_free(). */
  kmem_cache_free(s: KmemCache, objp: number, caller?: string): void {
    this.sa.kmem_cache_free(s, objp, caller)
    this.done(undefined)
  }
  /** Kernel: kmem_cache_destroy(). Logs Linux's complaint and keeps the cache if objects remain. */
  kmem_cache_destroy(s: KmemCache | null, caller?: string): void {
    this.sa.kmem_cache_destroy(s, caller)
    this.done(undefined)
  }
  /** Kernel: kmem_cache_shrink(). 1 if slabs remain. */
  kmem_cache_shrink(s: KmemCache): number {
    return this.done(this.sa.kmem_cache_shrink(s))
  }
  /** A live cache by name (task_struct, mm_struct, kmalloc-64, ...), or null. */
  find_cache(name: string): KmemCache | null {
    return this.sa.find_cache(name)
  }
  /** Kernel: kmalloc(). An address, ZERO_SIZE_PTR (16) for size 0, or 0 on failure. */
  kmalloc(size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kmalloc(size, gfp, caller))
  }
  /** Kernel: kzalloc(). */
  kzalloc(size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kzalloc(size, gfp, caller))
  }
  /** Kernel: kcalloc(). 0 on overflow. */
  kcalloc(n: number, size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kcalloc(n, size, gfp, caller))
  }
  /** Kernel: kmalloc_array(). 0 on overflow. */
  kmalloc_array(n: number, size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.kmalloc_array(n, size, gfp, caller))
  }
  /** Kernel: krealloc(). 0 on failure (the old object stays). */
  krealloc(p: number, new_size: number, gfp: gfp_t, caller?: string): number {
    return this.done(this.sa.krealloc(p, new_size, gfp, caller))
  }
  /** Kernel: kfree(). NULL and ZERO_SIZE_PTR are fine. */
  kfree(objp: number, caller?: string): void {
    this.sa.kfree(objp, caller)
    this.done(undefined)
  }
  /** Kernel: ksize(). */
  ksize(objp: number): number {
    return this.sa.ksize(objp)
  }
  /** Kernel: kmalloc_size_roundup(). */
  kmalloc_size_roundup(size: number): number {
    return this.sa.kmalloc_size_roundup(size)
  }

  private check_page(page: Page, fn: string): Pfn {
    if (!Number.isInteger(page) || page < 0 || page >= this.page_alloc.pages.nr) {
      // A kernel address given where a page (a pfn handle) belongs: say so, in the kernel's hex.
      const what = Number.isInteger(page) && page < 0 ? `${format_addr(page, this.page_alloc.arch.bits)} (an address)` : String(page)
      throw new KernelBug(`${fn}: ${what} is not a page (a page is the pfn alloc_pages returned)`)
    }
    return page
  }
}
