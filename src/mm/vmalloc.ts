/**
 * vmalloc, vmap and ioremap (Kernel: mm/vmalloc.c __vmalloc_node_range(),
 * __get_vm_area_node(), __vmalloc_area_node(), vm_area_alloc_pages(),
 * vmap_pages_range(), vunmap_range_noflush(), remove_vm_area(), vfree(),
 * vmap(), vunmap(), vmalloc_to_page(), is_vmalloc_addr();
 * arch/x86/mm/ioremap.c __ioremap_caller(), iounmap()).
 *
 * A vm_struct (`VmStruct`) describes a mapped range; its vmap_area comes
 * from the VmapAreaAllocator (src/mm/vmap_area.ts). Its size includes one
 * guard page unless VM_NO_GUARD, as in Linux (so /proc/vmallocinfo shows
 * 20480 for a 16 KiB vmalloc). vmalloc backs the range with order-0 pages
 * (from HIGHMEM too on i386, as __vmalloc_area_node adds __GFP_HIGHMEM)
 * mapped PAGE_KERNEL through init_mm's page tables, which live in frames
 * (src/mm/pgtable.ts); kernel pte tables are never freed, as in Linux.
 *
 * Invariants (check()): every busy area's mapped pages are exactly the PTEs
 * present in its range (guard page unmapped); nr_vmalloc_pages equals the
 * pages of VM_ALLOC areas; each vmalloc page is referenced once.
 *
 * Not modelled: huge vmalloc mappings (vmalloc() never asks for them),
 * vm_map_ram per-CPU blocks, KASAN.
 *
 * Kernel objects: with `set_object_hooks()` (installed once slab is up) each
 * vm_struct is a kmalloc'd object (kzalloc_node(sizeof(struct vm_struct))),
 * a page array of at most a page is kmalloc'd, and the vmap_area objects
 * come from the "vmap_area" cache: one per busy, lazy and pooled area and
 * one per free-space fragment, as Linux keeps free space in vmap_areas too.
 */
import { EINVAL, ENOMEM } from '../include/errno.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { PAGE_KERNEL, PAGE_KERNEL_IO, _PAGE_PCD, arch_filter_pgprot, pfn_pte, pte_pfn, pte_present, type PgProt } from '../arch/pte.js'
import { hex_addr, type ArchProfile } from '../arch/profile.js'
import { kernel_layout, type KernelLayout } from '../arch/pgtable_areas.js'
import { KernelBug } from '../include/bug.js'
import { GFP_DMA, GFP_DMA32, GFP_KERNEL, __GFP_HIGHMEM, __GFP_NOWARN, __GFP_ZERO, format_gfp, type gfp_t } from './gfp.js'
import type { Pfn } from './page.js'
import type { PageAllocator } from './page_alloc.js'
import type { PgTables } from './pgtable.js'
import { VmapAreaAllocator, type VmapArea } from './vmap_area.js'


/** vm_struct flags (include/linux/vmalloc.h). */
export const VM_IOREMAP = 0x00000001
export const VM_ALLOC = 0x00000002
export const VM_MAP = 0x00000004
export const VM_USERMAP = 0x00000008
export const VM_DMA_COHERENT = 0x00000010
export const VM_UNINITIALIZED = 0x00000020
export const VM_NO_GUARD = 0x00000040
export const VM_KASAN = 0x00000080
export const VM_FLUSH_RESET_PERMS = 0x00000100
export const VM_MAP_PUT_PAGES = 0x00000200
export const VM_ALLOW_HUGE_VMAP = 0x00000400
export const VM_SPARSE = 0x00001000

/** Kernel: struct vm_struct. */
export interface VmStruct {
  addr: number
  /** Bytes, guard page included (get_vm_area_size() leaves it out). */
  size: number
  flags: number
  pages: Pfn[]
  nr_pages: number
  phys_addr: number
  /** %pS of the caller, e.g. "kernel_clone+0x94/0x3e0". */
  caller: string
  /** The vmalloc'd page array when it did not fit a page (" vpages"). */
  pages_area: VmStruct | null
  /** The vm_struct object's own address (0 without object hooks). */
  obj: number
  /** A kmalloc'd page array's address (0 when none or vmalloc'd). */
  pages_obj: number
}

/**
 * Where the objects of vmalloc itself come from (Kernel: kzalloc_node() for
 * vm_struct and small page arrays, kmem_cache_alloc(vmap_area_cachep)).
 * alloc returns an object address or 0 on failure.
 */
export interface VmStructHooks {
  alloc(what: 'vm_struct' | 'vmap_area' | 'pages_array', bytes: number, gfp: gfp_t): number
  free(what: 'vm_struct' | 'vmap_area' | 'pages_array', obj: number): void
}

/** sizeof(struct vm_struct) / sizeof(struct vmap_area) per word size (PAE: 64-bit phys_addr_t). */
export function vmalloc_object_sizes(bits: 32 | 64, pae: boolean): { vm_struct: number; vmap_area: number } {
  return bits === 64 ? { vm_struct: 72, vmap_area: 72 } : { vm_struct: pae ? 40 : 36, vmap_area: 36 }
}

export interface VmallocDeps {
  readonly page_alloc: PageAllocator
  readonly pgtables: PgTables
  readonly nr_cpus: number
  /** Whether a pfn is System RAM (ioremap refuses RAM). */
  is_ram(pfn: Pfn): boolean
}

/** Kernel: get_count_order_long(): ceil(log2(x)). */
function get_count_order(x: number): number {
  return Math.ceil(Math.log2(x))
}

export class Vmalloc {
  readonly layout: KernelLayout
  readonly va: VmapAreaAllocator
  /** Kernel: nr_vmalloc_pages (VmallocUsed). */
  nr_vmalloc_pages = 0
  /** Hooks for the objects' own memory; null until slab is wired in (set_object_hooks). */
  private hooks: VmStructHooks | null = null
  /** vmap_area objects held (interchangeable; their number follows the allocator). */
  private readonly va_objs: number[] = []
  private readonly sizes: { vm_struct: number; vmap_area: number }
  private readonly d: VmallocDeps
  readonly arch: ArchProfile
  private readonly prot: PgProt
  private readonly bits: 32 | 64
  private readonly IOREMAP_MAX_ORDER: number
  /** Width of phys_addr_t for %pa: 64 on x86_64 and PAE, 32 on i386. */
  private readonly phys_bits: 32 | 64
  private warned_ioremap_ram = false

  constructor(deps: VmallocDeps) {
    this.d = deps
    const arch = deps.page_alloc.arch
    this.arch = arch
    this.bits = arch.bits
    this.layout = kernel_layout(arch, deps.page_alloc.max_low_pfn, deps.nr_cpus)
    this.prot = arch_filter_pgprot(arch, PAGE_KERNEL)
    this.sizes = vmalloc_object_sizes(arch.bits, arch.name === 'i386-pae')
    this.IOREMAP_MAX_ORDER = arch.bits === 64 ? 30 : 7 + 12
    this.phys_bits = arch.pte_size === 8 ? 64 : 32
    this.va = new VmapAreaAllocator({
      bits: arch.bits,
      nr_cpus: deps.nr_cpus,
      VMALLOC_START: this.layout.VMALLOC_START,
      VMALLOC_END: this.layout.VMALLOC_END,
      cpu: () => deps.page_alloc.cpu,
      flush: (start, end) => deps.pgtables.flush_kernel(start, end),
      trace: (name, text) => deps.page_alloc.trace.emit(name, text),
    })
  }

  /**
   * Install the object allocators (slab). The vmap_area objects for what
   * exists already (at least the initial free space) are taken at once, as
   * vmalloc_init() does.
   */
  set_object_hooks(hooks: VmStructHooks | null): void {
    if (this.hooks) {
      for (const o of this.va_objs.splice(0)) this.hooks.free('vmap_area', o)
    }
    this.hooks = hooks
    this.sync_va_objs()
  }

  /** Keep one vmap_area object per area and free fragment (alloc_vmap_area/merge_or_add_vmap_area). */
  private sync_va_objs(): void {
    const h = this.hooks
    if (h === null) return
    const want = this.va.nr_objects()
    while (this.va_objs.length < want) {
      const o = h.alloc('vmap_area', this.sizes.vmap_area, GFP_KERNEL)
      if (o === 0) break
      this.va_objs.push(o)
    }
    while (this.va_objs.length > want) h.free('vmap_area', this.va_objs.pop() as number)
  }

  /** vmap_area objects currently held through the hooks. */
  get nr_vmap_area_objects(): number {
    return this.va_objs.length
  }

  /** PAGE_KERNEL as this profile stores it (no NX on i386). */
  get kernel_prot(): PgProt {
    return this.prot
  }

  /** Kernel: is_vmalloc_addr(). */
  is_vmalloc_addr(addr: number): boolean {
    return addr >= this.layout.VMALLOC_START && addr < this.layout.VMALLOC_END
  }

  private warn(text: string): void {
    const pa = this.d.page_alloc
    pa.printk.pr_warn(text)
  }

  /**
   * Kernel: __get_vm_area_node(): a vm_struct with a vmap area of `size`
   * (page aligned, plus the guard page) inside [start, end). null on failure.
   */
  __get_vm_area_node(size: number, align: number, flags: number, start: number, end: number, gfp: gfp_t, caller: string): VmStruct | null {
    size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE
    if (size === 0) return null
    if (flags & VM_IOREMAP) {
      align = 2 ** Math.min(Math.max(get_count_order(size), 12), this.IOREMAP_MAX_ORDER)
    }
    const area: VmStruct = { addr: 0, size, flags, pages: [], nr_pages: 0, phys_addr: 0, caller, pages_area: null, obj: 0, pages_obj: 0 }
    if (this.hooks) {
      area.obj = this.hooks.alloc('vm_struct', this.sizes.vm_struct, gfp & ~(__GFP_HIGHMEM | GFP_DMA | GFP_DMA32))
      if (area.obj === 0) return null
    }
    if (!(flags & VM_NO_GUARD)) area.size += PAGE_SIZE
    // alloc_vmap_area(): the area's vmap_area object comes first (kmem_cache_alloc_node()), and
    // a split of a free fragment needs a second one (the ne_fit_preload object, else a
    // GFP_NOWAIT allocation in va_clip()); without them the allocation fails with the free
    // space untouched.
    const pre: number[] = []
    for (let i = 0; this.hooks && i < 2; i++) {
      const o = this.hooks.alloc('vmap_area', this.sizes.vmap_area, GFP_KERNEL)
      if (o === 0) break
      pre.push(o)
    }
    if (this.hooks && pre.length === 0) {
      if (area.obj) this.hooks.free('vm_struct', area.obj)
      return null
    }
    const before = this.va.nr_objects()
    let va = this.va.alloc_vmap_area(area.size, Math.max(align, PAGE_SIZE), start, end, (gfp & __GFP_NOWARN) !== 0, (s) => this.warn(s))
    if (this.hooks && typeof va !== 'number' && this.va.nr_objects() - before > pre.length) {
      this.va.free_vmap_area(va)
      va = -ENOMEM
    }
    this.va_objs.push(...pre)
    this.sync_va_objs()
    if (typeof va === 'number') {
      if (this.hooks && area.obj) this.hooks.free('vm_struct', area.obj)
      return null
    }
    area.addr = va.va_start
    va.vm = area
    return area
  }

  /** Kernel: get_vm_area_caller(). */
  get_vm_area_caller(size: number, flags: number, caller: string): VmStruct | null {
    return this.__get_vm_area_node(size, 1, flags, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_KERNEL, caller)
  }

  /** Kernel: find_vm_area(): the vm_struct whose area contains addr, or null. */
  find_vm_area(addr: number): VmStruct | null {
    const va = this.va.find_vmap_area(addr)
    return va === null ? null : (va.vm as VmStruct | null)
  }

  /** Kernel: vmap_pages_range(): map `pages` at addr; 0 or -ENOMEM (page-table allocation). */
  private vmap_pages_range(addr: number, pages: readonly Pfn[], prot: PgProt): number {
    const pt = this.d.pgtables
    for (let i = 0; i < pages.length; i++) {
      const a = addr + i * PAGE_SIZE
      const ptep = pt.get_locked_pte(pt.init_mm, a)
      if (ptep === 0) return -ENOMEM
      if (pt.ptep_get(ptep) !== 0) throw new KernelBug(`vmap_pte_range: pte at 0x${hex_addr(a, this.bits)} is already set`)
      pt.set_pte_at(pt.init_mm, a, ptep, pfn_pte(pages[i], prot))
    }
    return 0
  }

  /** Kernel: vunmap_range_noflush(): clear the ptes of [start, end) (tables stay). */
  private vunmap_range_noflush(start: number, end: number): void {
    const pt = this.d.pgtables
    pt.for_each_pte(pt.init_mm, start, end, (a, ptep) => void pt.pte_clear(pt.init_mm, a, ptep))
  }

  /**
   * Kernel: __vmalloc_node_range(): allocate `size` bytes of virtually
   * contiguous memory in [start, end). Returns the address, or 0 on failure
   * (after Linux's "vmalloc error" warning unless __GFP_NOWARN).
   */
  __vmalloc_node_range(size: number, align: number, start: number, end: number, gfp: gfp_t, prot: PgProt, vm_flags: number, caller: string): number {
    const real_size = size
    const pa = this.d.page_alloc
    size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE
    if (size === 0) {
      this.warn(`WARNING: CPU: ${pa.cpu} PID: ${pa.pid} at mm/vmalloc.c __vmalloc_node_range_noprof`)
      return 0
    }
    if (size / PAGE_SIZE > pa.totalram_pages()) {
      this.warn_alloc(gfp, `vmalloc error: size ${real_size}, exceeds total pages`)
      return 0
    }
    const area = this.__get_vm_area_node(real_size, align, VM_ALLOC | VM_UNINITIALIZED | vm_flags, start, end, gfp, caller)
    if (area === null) {
      this.warn_alloc(gfp, `vmalloc error: size ${real_size}, vm_struct allocation failed`)
      return 0
    }
    if (this.__vmalloc_area_node(area, gfp, prot) < 0) {
      this.vfree(area.addr)
      return 0
    }
    area.flags &= ~VM_UNINITIALIZED // clear_vm_uninitialized_flag()
    return area.addr
  }

  /** Kernel: __vmalloc_area_node(): pages array, pages, mapping. 0 or -ENOMEM (area left for vfree). */
  private __vmalloc_area_node(area: VmStruct, gfp: gfp_t, prot: PgProt): number {
    const nr_pages = (area.size - (area.flags & VM_NO_GUARD ? 0 : PAGE_SIZE)) / PAGE_SIZE
    const ptr_size = this.bits / 8
    const array_size = nr_pages * ptr_size
    if (array_size > PAGE_SIZE) {
      // The page array itself is vmalloc'd (shown as " vpages").
      const nested = (gfp & ~(__GFP_HIGHMEM | GFP_DMA | GFP_DMA32)) | __GFP_ZERO
      const addr = this.__vmalloc_node_range(array_size, 1, this.layout.VMALLOC_START, this.layout.VMALLOC_END, nested, this.prot, 0, area.caller)
      if (addr === 0) {
        this.warn_alloc(gfp, `vmalloc error: size ${nr_pages * PAGE_SIZE}, page array size ${array_size} allocation failed`)
        return -ENOMEM
      }
      area.pages_area = this.find_vm_area(addr)
    } else if (this.hooks) {
      area.pages_obj = this.hooks.alloc('pages_array', array_size, (gfp & ~(__GFP_HIGHMEM | GFP_DMA | GFP_DMA32)) | __GFP_ZERO)
      if (area.pages_obj === 0) {
        this.warn_alloc(gfp, `vmalloc error: size ${nr_pages * PAGE_SIZE}, page array size ${array_size} allocation failed`)
        return -ENOMEM
      }
    }
    let page_gfp = gfp
    if (!(gfp & (GFP_DMA | GFP_DMA32))) page_gfp |= __GFP_HIGHMEM
    // vm_area_alloc_pages(): order-0 pages, bulk then one by one; failures are reported once below.
    for (let i = 0; i < nr_pages; i++) {
      const pfn = this.d.page_alloc.alloc_pages(page_gfp | __GFP_NOWARN, 0)
      if (pfn < 0) break
      area.pages.push(pfn)
    }
    area.nr_pages = area.pages.length
    this.nr_vmalloc_pages += area.nr_pages
    if (area.nr_pages !== nr_pages) {
      this.warn_alloc(gfp, `vmalloc error: size ${nr_pages * PAGE_SIZE}, failed to allocate pages`)
      return -ENOMEM
    }
    if (this.vmap_pages_range(area.addr, area.pages, prot) < 0) {
      this.warn_alloc(gfp, `vmalloc error: size ${nr_pages * PAGE_SIZE}, failed to map pages`)
      return -ENOMEM
    }
    return 0
  }

  /** Kernel: warn_alloc() with a vmalloc message. */
  private warn_alloc(gfp: gfp_t, msg: string): void {
    if (gfp & __GFP_NOWARN) return
    const pa = this.d.page_alloc
    this.warn(`${pa.comm}: ${msg}, mode:${format_gfp(gfp)}, nodemask=(null),cpuset=/,mems_allowed=0`)
  }

  /** Kernel: vmalloc(): 0 on failure. */
  vmalloc(size: number, caller = 'vmalloc_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, 1, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_KERNEL, this.prot, 0, caller)
  }

  /** Kernel: vzalloc(): zeroed. */
  vzalloc(size: number, caller = 'vzalloc_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, 1, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_KERNEL | __GFP_ZERO, this.prot, 0, caller)
  }

  /** Kernel: __vmalloc(size, gfp). */
  __vmalloc(size: number, gfp: gfp_t, caller = '__vmalloc_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, 1, this.layout.VMALLOC_START, this.layout.VMALLOC_END, gfp, this.prot, 0, caller)
  }

  /** Kernel: vmalloc_user(): zeroed, SHMLBA aligned (PAGE_SIZE on x86), VM_USERMAP (" user"). */
  vmalloc_user(size: number, caller = 'vmalloc_user_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, PAGE_SIZE, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_KERNEL | __GFP_ZERO, this.prot, VM_USERMAP, caller)
  }

  /** Kernel: vmalloc_32(): pages the device can address with 32 bits (GFP_VMALLOC32 = GFP_DMA32 | GFP_KERNEL). */
  vmalloc_32(size: number, caller = 'vmalloc_32_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, 1, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_DMA32 | GFP_KERNEL, this.prot, 0, caller)
  }

  /** Kernel: vmalloc_32_user(): zeroed, 32-bit addressable, VM_USERMAP. */
  vmalloc_32_user(size: number, caller = 'vmalloc_32_user_caller+0x0/0x0'): number {
    return this.__vmalloc_node_range(size, PAGE_SIZE, this.layout.VMALLOC_START, this.layout.VMALLOC_END, GFP_DMA32 | GFP_KERNEL | __GFP_ZERO, this.prot, VM_USERMAP, caller)
  }

  /**
   * Kernel: remap_vmalloc_range_partial()'s checks and page lookup: the pages
   * to insert (vm_insert_page) for `size` bytes from page `pgoff` of the
   * vmalloc_user()/vmalloc_32_user() area at kaddr, or -EINVAL (not a
   * VM_USERMAP area, unaligned, or beyond the area). The caller maps them
   * and sets VM_DONTEXPAND | VM_DONTDUMP on the VMA, as Linux does.
   */
  remap_vmalloc_range_pages(kaddr: number, pgoff: number, size: number): Pfn[] | number {
    if (kaddr % PAGE_SIZE !== 0 || pgoff < 0 || !Number.isInteger(pgoff)) return -EINVAL
    size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE
    const area = this.find_vm_area(kaddr)
    if (area === null || !(area.flags & (VM_USERMAP | VM_DMA_COHERENT))) return -EINVAL
    const usable = area.size - (area.flags & VM_NO_GUARD ? 0 : PAGE_SIZE) // get_vm_area_size()
    if (pgoff * PAGE_SIZE + size > usable - (kaddr - area.addr)) return -EINVAL
    const out: Pfn[] = []
    for (let off = 0; off < size; off += PAGE_SIZE) {
      const pfn = this.vmalloc_to_pfn(kaddr + pgoff * PAGE_SIZE + off)
      if (pfn < 0) return -EINVAL
      out.push(pfn)
    }
    return out
  }

  /**
   * Kernel: remove_vm_area() + free_unmap_vmap_area(): unlink the area that
   * contains addr, clear its ptes, free its range lazily. null when none.
   */
  remove_vm_area(addr: number): VmStruct | null {
    if (addr % PAGE_SIZE !== 0) {
      this.warn(`WARNING: remove_vm_area: unaligned address ${hex_addr(addr, this.bits)}`)
      return null
    }
    const va: VmapArea | null = this.va.find_unlink_vmap_area(addr)
    if (va === null || va.vm === null) return null
    const vm = va.vm as VmStruct
    va.vm = null
    this.vunmap_range_noflush(va.va_start, va.va_end)
    this.va.free_vmap_area_noflush(va)
    this.sync_va_objs()
    return vm
  }

  /**
   * Kernel: vfree(): free the area and its pages; NULL is fine; an address
   * that is no vm area gets Linux's "Trying to vfree() nonexistent vm area" warning.
   */
  vfree(addr: number): void {
    if (addr === 0) return
    const vm = this.remove_vm_area(addr)
    if (vm === null) {
      this.d.page_alloc.printk.pr_err(`Trying to vfree() nonexistent vm area (${hex_addr(addr, this.bits)})`)
      return
    }
    for (const pfn of vm.pages) this.d.page_alloc.__free_pages(pfn, 0)
    if (!(vm.flags & VM_MAP_PUT_PAGES)) this.nr_vmalloc_pages -= vm.nr_pages
    vm.pages = []
    vm.nr_pages = 0
    if (vm.pages_area !== null) this.vfree(vm.pages_area.addr)
    this.free_vm_struct(vm)
  }

  /** kvfree(vm->pages) of a kmalloc'd array and kfree(vm). */
  private free_vm_struct(vm: VmStruct): void {
    if (this.hooks === null) return
    if (vm.pages_obj) this.hooks.free('pages_array', vm.pages_obj)
    if (vm.obj) this.hooks.free('vm_struct', vm.obj)
    vm.pages_obj = 0
    vm.obj = 0
  }

  /** Kernel: vmap(): map existing pages contiguously; 0 on failure. The caller keeps the pages. */
  vmap(pages: readonly Pfn[], count: number, flags: number, prot: PgProt = PAGE_KERNEL, caller = 'vmap_caller+0x0/0x0'): number {
    if (count === 0 || count > pages.length) return 0
    const area = this.get_vm_area_caller(count * PAGE_SIZE, flags | VM_MAP, caller)
    if (area === null) return 0
    if (this.vmap_pages_range(area.addr, pages.slice(0, count), arch_filter_pgprot(this.d.page_alloc.arch, prot)) < 0) {
      this.vunmap(area.addr)
      return 0
    }
    if (flags & VM_MAP_PUT_PAGES) {
      area.pages = pages.slice(0, count)
      area.nr_pages = count
    }
    return area.addr
  }

  /** Kernel: vunmap(): unmap a vmap() area (pages untouched). */
  vunmap(addr: number): void {
    if (addr === 0) return
    const vm = this.remove_vm_area(addr)
    if (vm === null) this.d.page_alloc.printk.pr_err(`Trying to vunmap() nonexistent vm area (${hex_addr(addr, this.bits)})`)
    else this.free_vm_struct(vm)
  }

  /**
   * Kernel: ioremap() (x86 __ioremap_caller(), UC-): map a physical range
   * that is not RAM. Returns the virtual address of phys_addr, or 0.
   */
  ioremap(phys_addr: number, size: number, caller = 'ioremap_caller+0x0/0x0'): number {
    const last = phys_addr + size - 1
    if (size === 0 || last < phys_addr) return 0
    const offset = phys_addr % PAGE_SIZE
    const base = phys_addr - offset
    const mapsize = Math.ceil((last + 1) / PAGE_SIZE) * PAGE_SIZE - base
    for (let pfn = base / PAGE_SIZE; pfn < (base + mapsize) / PAGE_SIZE; pfn++) {
      if (this.d.is_ram(pfn)) {
        // WARN_ONCE(): the message (with its backtrace in Linux) comes once per boot
        if (!this.warned_ioremap_ram) this.warn(`ioremap on RAM at 0x${hex_addr(phys_addr, this.phys_bits)} - 0x${hex_addr(last, this.phys_bits)}`)
        this.warned_ioremap_ram = true
        return 0
      }
    }
    const area = this.get_vm_area_caller(mapsize, VM_IOREMAP, caller)
    if (area === null) return 0
    area.phys_addr = base
    const pfns: Pfn[] = []
    for (let i = 0; i < mapsize / PAGE_SIZE; i++) pfns.push(base / PAGE_SIZE + i)
    const prot = arch_filter_pgprot(this.d.page_alloc.arch, PAGE_KERNEL_IO + _PAGE_PCD)
    if (this.vmap_pages_range(area.addr, pfns, prot) < 0) {
      this.vunmap(area.addr)
      return 0
    }
    return area.addr + offset
  }

  /** Kernel: iounmap(). */
  iounmap(addr: number): void {
    if (addr === 0) return
    const vm = this.find_vm_area(addr)
    if (vm === null || !(vm.flags & VM_IOREMAP)) {
      this.warn(`iounmap: bad address ${hex_addr(addr, this.bits)}`)
      return
    }
    this.remove_vm_area(vm.addr)
    this.free_vm_struct(vm)
  }

  /** Kernel: vmalloc_to_pfn(): the pfn mapped at addr, or -1. */
  vmalloc_to_pfn(addr: number): Pfn {
    const pt = this.d.pgtables
    const ptep = pt.walk(pt.init_mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE)
    if (ptep === 0) return -1
    const pte = pt.ptep_get(ptep)
    return pte_present(pte) ? pte_pfn(pte) : -1
  }

  /** Kernel: vmalloc_to_page(): the page mapped at a vmalloc address, or null. */
  vmalloc_to_page(addr: number): Pfn | null {
    const pfn = this.vmalloc_to_pfn(addr)
    return pfn < 0 ? null : pfn
  }

  /** Kernel: purge_vmap_area_lazy() / vm_unmap_aliases(): give lazily freed ranges back now. */
  purge_vmap_area_lazy(full_pool_decay = false): number {
    const n = this.va.purge(full_pool_decay)
    this.sync_va_objs()
    return n
  }

  /** Kernel: vmalloc_nr_pages(): VmallocUsed in pages. */
  vmalloc_nr_pages(): number {
    return this.nr_vmalloc_pages
  }

  /** What the last complete check() saw; while none of it moves, the per-call check has nothing new to prove. */
  private checked: { va_gen: number; table_gen: number; leaf_gen: number; nr_pages: number; nr_objs: number; hooks: VmStructHooks | null; pages: Set<Pfn> } | null = null

  /**
   * DEBUG_VM check of the invariants at the top of the file. After a call
   * (`touched`: the frames it allocated or freed) it is skipped when no
   * area, no kernel page-table entry, no counter and none of the areas'
   * pages has changed since the last complete check; the whole recount
   * (touched null) always runs.
   */
  check(touched: readonly Pfn[] | null = null): void {
    const pt = this.d.pgtables
    const c = this.checked
    if (
      touched !== null &&
      c !== null &&
      c.va_gen === this.va.gen &&
      c.table_gen === pt.table_gen &&
      c.leaf_gen === pt.kernel_leaf_gen &&
      c.nr_pages === this.nr_vmalloc_pages &&
      c.nr_objs === this.va_objs.length &&
      c.hooks === this.hooks &&
      !touches(touched, c.pages)
    ) {
      return
    }
    this.checked = null
    this.va.check()
    if (this.hooks && this.va_objs.length !== this.va.nr_objects()) {
      throw new KernelBug(`vmalloc check: ${this.va_objs.length} vmap_area objects for ${this.va.nr_objects()} areas and fragments`)
    }
    let alloc_pages = 0
    const seen = new Set<Pfn>()
    for (const va of this.va.busy_areas()) {
      const vm = va.vm as VmStruct | null
      if (vm === null) continue
      if (vm.addr !== va.va_start || vm.addr + vm.size !== va.va_end) throw new KernelBug('vmalloc check: vm_struct and vmap_area disagree')
      const mapped: number[] = []
      pt.for_each_pte(pt.init_mm, va.va_start, va.va_end, (a, _p, pte) => void mapped.push(a, pte_pfn(pte)))
      const guard = vm.flags & VM_NO_GUARD ? 0 : PAGE_SIZE
      if (vm.flags & VM_ALLOC) {
        alloc_pages += vm.nr_pages
        if (mapped.length !== 2 * vm.nr_pages) throw new KernelBug(`vmalloc check: area ${hex_addr(vm.addr, this.bits)} maps ${mapped.length / 2} pages, has ${vm.nr_pages}`)
        for (let i = 0; i < vm.nr_pages; i++) {
          if (mapped[2 * i] !== vm.addr + i * PAGE_SIZE || mapped[2 * i + 1] !== vm.pages[i]) throw new KernelBug(`vmalloc check: page ${i} of ${hex_addr(vm.addr, this.bits)} is not mapped`)
          if (seen.has(vm.pages[i])) throw new KernelBug(`vmalloc check: pfn 0x${vm.pages[i].toString(16)} in two vmalloc areas`)
          seen.add(vm.pages[i])
          if (this.d.page_alloc.pages._refcount[vm.pages[i]] < 1) throw new KernelBug(`vmalloc check: vmalloc page 0x${vm.pages[i].toString(16)} has no reference`)
        }
      }
      if (mapped.length > 0 && mapped[mapped.length - 2] >= va.va_end - guard) throw new KernelBug(`vmalloc check: guard page of ${hex_addr(vm.addr, this.bits)} is mapped`)
    }
    for (const va of [...this.va.lazy_areas(), ...this.va.pooled_areas()]) {
      pt.for_each_pte(pt.init_mm, va.va_start, va.va_end, (a) => {
        throw new KernelBug(`vmalloc check: freed area still maps ${hex_addr(a, this.bits)}`)
      })
    }
    if (alloc_pages !== this.nr_vmalloc_pages) throw new KernelBug(`vmalloc check: nr_vmalloc_pages ${this.nr_vmalloc_pages} but areas hold ${alloc_pages}`)
    this.checked = { va_gen: this.va.gen, table_gen: pt.table_gen, leaf_gen: pt.kernel_leaf_gen, nr_pages: this.nr_vmalloc_pages, nr_objs: this.va_objs.length, hooks: this.hooks, pages: seen }
  }
}

/** Is any of the call's touched frames one of `pages`? (A loop: this runs after every call.) */
function touches(touched: readonly Pfn[], pages: ReadonlySet<Pfn>): boolean {
  for (let i = 0; i < touched.length; i++) if (pages.has(touched[i])) return true
  return false
}
