/**
 * The driver-mmap checker: the bug classes of a driver's mmap handler
 * (../shared/drivers/SECURITY.md) caught at run time, where the driver
 * hands memory to user space, and reported as a kernel warning naming the
 * module and the address, plus a machine-readable finding tests assert.
 * Linux has no such checker; what it checks is what a reviewer would:
 *
 *  - every frame a driver maps (remap_pfn_range, vm_insert_page) or hands
 *    back from a fault handler must be memory the driver allocated through
 *    the driver API (alloc_pages, __get_free_pages, vmalloc...) and still
 *    holds. A slab page is never the driver's alone (S-D1: the neighbours'
 *    objects go with it); a run that starts in the driver's memory and
 *    leaves it is an unchecked size (S-A2); anything else is somebody
 *    else's memory (S-A1 when mapped, S-D4 when a fault handed it out);
 *  - a fault at an offset past the range the VMA had when f_op->mmap
 *    accepted it, on a VMA without VM_DONTEXPAND, that the driver then
 *    served: the mapping grew with mremap and only the handler's own bound
 *    stands between the offset and whatever lies past the object (S-E1, a
 *    warning: scullp's size check makes it safe, faulty's off-by-one not);
 *  - at a successful mmap: a handler that installed neither a fault
 *    handler nor a single PTE (S-A6, warning: every touch is SIGBUS), a
 *    VM_PFNMAP VMA whose VM_DONTEXPAND the driver cleared (S-E3), a
 *    VM_IO VMA with vm_ops->name, which makes core dumps read the device
 *    (S-K3), an executable VM_IO/VM_PFNMAP mapping (S-H4, warning);
 *  - a fault handler that hands back a page without the reference the
 *    PTE will own (S-F5: the unmap's put_page would then free the
 *    driver's page under it);
 *  - what the driver API's free and get_page calls see (driver_api.ts):
 *    freeing frames a user PTE still maps (S-I1), freeing frames that are
 *    not the module's (S-G5), get_page on a tail page of a non-compound
 *    block (S-I2), and a physical-memory driver whose node others can
 *    open (S-H5).
 *
 * Frames without a struct page (MMIO above RAM) are not RAM anybody owns
 * and pass. A physical-memory driver (/dev/mem) declares itself with
 * raw_physical_access and answers for its mappings with the devmem policy
 * instead.
 */
import { KERN_WARNING, type Printk } from '../include/printk.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { type MmEnv, type VmArea, type VmFault, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_PFNMAP, vm_flags_test } from '../mm/mm_types.js'
import { File } from '../fs/fs.js'
import { format_addr } from '../include/hex.js'

/**
 * One finding: the SECURITY.md case, the module, what it did. An 'error'
 * is memory handed out that is not the driver's to give; a 'warning' is a
 * pattern that is safe only if the driver's own checks hold (S-E1: a fault
 * past what mmap saw, which scullp answers with SIGBUS past its size).
 */
/** The cases that are patterns to review rather than memory handed out. */
const WARNINGS = new Set(['S-E1', 'S-A6', 'S-H4'])

export interface DriverFinding {
  readonly id: string
  readonly severity: 'error' | 'warning'
  readonly module: string
  readonly message: string
  /** The user address involved, or -1. */
  readonly addr: number
  /** The frame involved, or -1. */
  readonly pfn: number
}

function hex(n: number): string {
  return format_addr(n)
}

export class DriverMmapCheck {
  /** pfn -> the module that allocated it through the driver API. */
  private readonly owner = new Map<number, string>()
  /** Modules that map physical memory by design, under the devmem policy. */
  private readonly raw_physical = new Set<string>()
  /** The page-offset range each device VMA had when its driver's mmap accepted it. */
  private readonly validated = new WeakMap<VmArea, { start: number; end: number }>()
  readonly findings: DriverFinding[] = []
  /** Head pfn -> order of the non-compound blocks of more than one page modules allocated. */
  private readonly blocks = new Map<number, number>()
  /** owner module -> frameworks allowed to map its memory (UIO maps its drivers' regions). */
  private readonly grants = new Map<string, Set<string>>()

  constructor(
    private readonly env: MmEnv,
    private readonly printk: Printk,
  ) {
    env.driver_hooks.mmap_done = (vma) => this.mmap_done(vma)
    env.driver_hooks.fault_page = (vmf) => this.fault_page(vmf)
    env.driver_hooks.vma_dup = (from, to) => {
      const v = this.validated.get(from)
      if (v) this.validated.set(to, v)
    }
    env.driver_hooks.warn = (text) => this.printk.printk(KERN_WARNING, text)
  }

  /** Frames [pfn, pfn+n) now belong to module. */
  own(module: string, pfn: number, n: number): void {
    for (let i = 0; i < n; i++) this.owner.set(pfn + i, module)
  }
  /** Frames [pfn, pfn+n) were given back. */
  disown(pfn: number, n: number): void {
    for (let i = 0; i < n; i++) this.owner.delete(pfn + i)
    this.blocks.delete(pfn)
  }
  /** alloc_pages() of order > 0 without __GFP_COMP: only the head page is refcounted. */
  own_block(pfn: number, order: number): void {
    if (order > 0) this.blocks.set(pfn, order)
  }
  /** split_page(): the block's pages are each refcounted now. */
  disown_block(pfn: number): void {
    this.blocks.delete(pfn)
  }
  is_raw_physical(module: string): boolean {
    return this.raw_physical.has(module)
  }

  /**
   * `module` frees [pfn, pfn+n) (__free_pages, vfree, dma_free_coherent):
   * frames that are not its own are S-G5 (the wrong object released; the
   * free is refused, false); frames a user PTE still maps are S-I1 (the
   * free goes ahead, as Linux's would: the pages live on through the PTEs'
   * references, but the driver has let go of memory a process still uses).
   */
  check_free(module: string, helper: string, pfn: number, n: number): boolean {
    const pages = this.env.pages
    for (let i = 0; i < n; i++) {
      const p = pfn + i
      if (p < 0 || p >= pages.nr || this.owner.get(p) !== module) {
        this.report('S-G5', module, `${helper} of pfn ${hex(p)} (${p >= 0 && p < pages.nr ? this.describe(p) : 'no struct page'}): not memory this module allocated; refused`, -1, p)
        return false
      }
    }
    for (let i = 0; i < n; i++) {
      if (pages.page_mapcount(pfn + i) > 0) {
        this.report('S-I1', module, `${helper} of pfn ${hex(pfn + i)} while ${pages.page_mapcount(pfn + i)} user PTE(s) still map it (the mapping outlives the object)`, -1, pfn + i)
        break
      }
    }
    return true
  }

  /** get_page() by `module`: a tail page of a non-compound block has no refcount of its own (S-I2). */
  check_get_page(module: string, pfn: number): void {
    for (const [head, order] of this.blocks) {
      if (pfn > head && pfn < head + 2 ** order) {
        this.report('S-I2', module, `get_page on pfn ${hex(pfn)}, page ${pfn - head} of an order-${order} block that is not compound: only its first page is refcounted`, -1, pfn)
        return
      }
    }
  }

  /** A node the load script or device_create makes: a physical-memory driver's must be root's alone (S-H5). */
  check_node(module: string, path: string, mode: number): void {
    if (this.raw_physical.has(module) && mode & 0o066) {
      this.report('S-H5', module, `${path} is mode ${(mode & 0o7777).toString(8).padStart(4, '0')}: a physical-memory device open to group or others`)
    }
  }
  owner_of(pfn: number): string | null {
    return this.owner.get(pfn) ?? null
  }
  /** `framework` (the uio core) maps memory that `from` owns on its behalf. */
  grant(from: string, framework: string): void {
    const g = this.grants.get(from) ?? new Set<string>()
    g.add(framework)
    this.grants.set(from, g)
  }
  /** Is the frame `module`'s, or granted to it by its owner? */
  private mine(module: string, pfn: number): boolean {
    const o = this.owner.get(pfn)
    return o === module || (o !== undefined && (this.grants.get(o)?.has(module) ?? false))
  }
  declare_raw_physical(module: string): void {
    this.raw_physical.add(module)
  }

  /** Kernel log + finding. */
  report(id: string, module: string, message: string, addr = -1, pfn = -1): void {
    this.findings.push({ id, severity: WARNINGS.has(id) ? 'warning' : 'error', module, message, addr, pfn })
    this.printk.printk(KERN_WARNING, `mmsim driver check: ${module}: ${message} [${id}]`)
  }

  /** What a frame is, for the message: slab page, free, or whose. */
  private describe(pfn: number): string {
    const pages = this.env.pages
    if (pages.PageSlab(pfn)) return 'a slab page'
    const o = this.owner.get(pfn)
    if (o) return `memory of module ${o}`
    if (pages._refcount[pfn] === 0) return 'a free page'
    return pages.mapping[pfn] < 0 ? 'an anonymous page of a process' : 'kernel memory'
  }

  /**
   * remap_pfn_range / vm_insert_page by `module` of the frames
   * [pfn, pfn+n) at user address addr: the first frame that is not the
   * module's is reported (once per call). False when one was found.
   */
  check_map(module: string, helper: string, addr: number, pfn: number, n: number): boolean {
    if (this.raw_physical.has(module)) return true
    const nr = this.env.pages.nr
    let some_own = false
    for (let i = 0; i < n; i++) {
      const p = pfn + i
      if (p >= nr) continue
      if (this.env.pages.PageSlab(p)) {
        this.report('S-D1', module, `${helper} maps pfn ${hex(p)} (${this.describe(p)}) at ${hex(addr + i * PAGE_SIZE)}: slab memory is shared with other objects`, addr + i * PAGE_SIZE, p)
        return false
      }
      if (this.mine(module, p)) {
        some_own = true
        continue
      }
      const id = some_own ? 'S-A2' : 'S-A1'
      const why = some_own ? 'past the end of its own allocation (size not checked against the buffer)' : 'memory the driver does not own'
      this.report(id, module, `${helper} maps pfn ${hex(p)} (${this.describe(p)}) at ${hex(addr + i * PAGE_SIZE)}: ${why}`, addr + i * PAGE_SIZE, p)
      return false
    }
    return true
  }

  /** The module behind a device VMA (its file's f_op owner), or null. */
  private module_of(vma: VmArea): string | null {
    const f = vma.vm_file
    return f instanceof File ? (f.f_op.owner?.name ?? null) : null
  }

  private mmap_done(vma: VmArea): void {
    this.validated.set(vma, { start: vma.vm_pgoff, end: vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE })
    const module = this.module_of(vma)
    if (module === null) return
    const at = vma.vm_start
    const flags = vma.vm_flags
    const ops = vma.vm_ops
    if (ops !== null && !ops.fault && !this.populated(vma)) {
      this.report('S-A6', module, `mmap at ${hex(at)} succeeded with no fault handler and no page mapped: every access will be SIGBUS`, at)
    }
    if (vm_flags_test(flags, VM_PFNMAP) && !vm_flags_test(flags, VM_DONTEXPAND)) {
      this.report('S-E3', module, `VM_PFNMAP mapping at ${hex(at)} without VM_DONTEXPAND: the driver cleared it, a grown VMA would have pages it never remapped`, at)
    }
    if (vm_flags_test(flags, VM_IO) && ops?.name !== undefined) {
      this.report('S-K3', module, `VM_IO mapping at ${hex(at)} has vm_ops->name: a core dump would include it and read the device`, at)
    }
    if (vm_flags_test(flags, VM_EXEC) && (vm_flags_test(flags, VM_IO) || vm_flags_test(flags, VM_PFNMAP)) && !this.raw_physical.has(module)) {
      this.report('S-H4', module, `device memory mapped executable at ${hex(at)} (VM_EXEC on a VM_IO/VM_PFNMAP VMA; clear VM_MAYEXEC)`, at)
    }
  }

  /** Some page of the VMA has a PTE (the handler populated it at mmap time). */
  private populated(vma: VmArea): boolean {
    for (let a = vma.vm_start; a < vma.vm_end; a += PAGE_SIZE) if (vma.vm_mm.pgd.get(a / PAGE_SIZE) !== 0) return true
    return false
  }

  private fault_page(vmf: VmFault): void {
    const vma = vmf.vma
    const module = this.module_of(vma)
    if (module === null || this.raw_physical.has(module)) return
    const v = this.validated.get(vma)
    if (v && !vm_flags_test(vma.vm_flags, VM_DONTEXPAND) && (vmf.pgoff < v.start || vmf.pgoff >= v.end)) {
      this.report(
        'S-E1', module,
        `fault handler served pgoff ${hex(vmf.pgoff)} at ${hex(vmf.address)}, outside the pages [${hex(v.start)}, ${hex(v.end)}) its mmap accepted; the VMA grew (no VM_DONTEXPAND) and the handler did not bound the offset`,
        vmf.address, vmf.page,
      )
      return
    }
    if (!this.mine(module, vmf.page)) {
      this.report('S-D4', module, `fault handler returned pfn ${hex(vmf.page)} (${this.describe(vmf.page)}) for ${hex(vmf.address)}: not memory the driver owns (offset not bounded?)`, vmf.address, vmf.page)
      return
    }
    // Each PTE owns one reference and the driver keeps its own: the handler's get_page is the new PTE's.
    const pages = this.env.pages
    if (pages.page_count(vmf.page) < pages.page_mapcount(vmf.page) + 2) {
      this.report('S-F5', module, `fault handler returned pfn ${hex(vmf.page)} for ${hex(vmf.address)} without taking a reference (count ${pages.page_count(vmf.page)}, ${pages.page_mapcount(vmf.page)} mappings): the unmap would free the driver's page`, vmf.address, vmf.page)
    }
  }
}
