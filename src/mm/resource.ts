/**
 * The physical address space as a tree of claimed ranges: iomem_resource
 * (Kernel: kernel/resource.c __request_resource, __request_region,
 * __release_region, iomem_is_exclusive, revoke_iomem, iomem=;
 * arch/x86/kernel/e820.c e820__reserve_resources, do_mark_busy;
 * arch/x86/kernel/setup.c the kernel image's resources). It lives beside
 * the memory map here, below the drivers that claim from it (Linux keeps it
 * in kernel/, which mmsim's layers put above drivers).
 *
 * Boot fills it from the e820 map: System RAM and what lies below 1 MiB are
 * busy (IORESOURCE_BUSY: no driver may claim inside them); a firmware
 * "Reserved" range above 1 MiB is not, so a driver of a device living
 * there may claim part of it. request_mem_region() puts a busy resource in
 * the tree (EBUSY on overlap with another busy one);
 * request_mem_region_exclusive() also marks it IORESOURCE_EXCLUSIVE.
 *
 * /dev/mem asks iomem_is_exclusive() for each page it reads or writes
 * (devmem_is_allowed), and exclusive_in() once for a whole mmap
 * (range_is_allowed): a
 * page inside an exclusive claim, or inside any busy one when the kernel
 * is built with CONFIG_IO_STRICT_DEVMEM, is refused above 1 MiB.
 * `iomem=relaxed` turns those checks off. With CONFIG_IO_STRICT_DEVMEM a
 * new claim also revokes what /dev/mem users mapped of it already
 * (revoke_iomem(): every /dev/mem file shares the iomem inode's
 * address_space, so one unmap_mapping_range() zaps them all; their next
 * access is SIGBUS). Without it, existing mappings stay (Linux 6.18:
 * revoke_iomem() is empty then) and only new mmaps are refused.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { Range } from './memblock.js'
import type { KernelImage } from './mm_init.js'

// include/linux/ioport.h
export const IORESOURCE_MEM = 0x00000200
export const IORESOURCE_SYSRAM = 0x01000000
export const IORESOURCE_SYSTEM_RAM = IORESOURCE_MEM + IORESOURCE_SYSRAM
export const IORESOURCE_EXCLUSIVE = 0x08000000
export const IORESOURCE_BUSY = 0x80000000

const MiB = 1024 * 1024

/** struct resource: [start, end] inclusive, its children in address order. */
export class Resource {
  parent: Resource | null = null
  readonly child: Resource[] = []
  constructor(
    readonly start: number,
    readonly end: number,
    readonly name: string,
    readonly flags: number,
  ) {}
  /** Kernel: resource_size(). */
  get size(): number {
    return this.end - this.start + 1
  }
  test(flag: number): boolean {
    // flags reach bit 31 (IORESOURCE_BUSY): tested arithmetically, not with a 32-bit signed &
    return Math.floor(this.flags / flag) % 2 === 1
  }
}

/** What the tree is built with (the kernel's configuration and command line). */
export interface IomemOptions {
  /** CONFIG_STRICT_DEVMEM with iomem=strict (its default) rather than iomem=relaxed: strict_iomem_checks. */
  readonly strict_iomem_checks: boolean
  /** CONFIG_IO_STRICT_DEVMEM: every busy claim is exclusive to /dev/mem, and a claim revokes existing mappings. */
  readonly io_strict_devmem: boolean
}

export class IomemResource {
  /** iomem_resource: the whole physical address space. */
  readonly root: Resource
  /**
   * revoke_iomem()'s work once a claim is in the tree: /dev/mem's side
   * (devmem_is_allowed and the iomem inode's mapping), installed when
   * /dev/mem is set up (iomem_init_inode: fs_initcall).
   */
  revoke: ((res: Resource) => void) | null = null

  constructor(
    max_phys: number,
    readonly opts: IomemOptions,
  ) {
    this.root = new Resource(0, max_phys - 1, 'PCI mem', IORESOURCE_MEM)
  }

  /** Kernel: __request_resource(): insert under root, or the resource in the way (root itself when out of its bounds). */
  private __request_resource(root: Resource, res: Resource): Resource | null {
    if (res.start < root.start || res.end > root.end || res.end < res.start) return root
    let i = 0
    for (; i < root.child.length; i++) {
      const c = root.child[i]
      if (c.start > res.end) break
      if (c.end < res.start) continue
      return c
    }
    root.child.splice(i, 0, res)
    res.parent = root
    this.exclusive = null
    return null
  }

  /** Kernel: request_resource() of a range boot knows (e820, the kernel image): false when it collides. */
  insert(parent: Resource, res: Resource): boolean {
    return this.__request_resource(parent, res) === null
  }

  /**
   * Kernel: __request_region() in iomem_resource: a busy resource [start,
   * start+n), nested inside whatever non-busy range holds it; null when it
   * overlaps a busy one or crosses a range's end (request_mem_region's
   * NULL, which drivers turn into EBUSY). Then revoke_iomem().
   */
  request_region(start: number, n: number, name: string, flags = 0): Resource | null {
    const res = new Resource(start, start + n - 1, name, IORESOURCE_MEM + IORESOURCE_BUSY + flags)
    let parent = this.root
    for (;;) {
      const conflict = this.__request_resource(parent, res)
      if (!conflict) break
      if (conflict !== parent && !conflict.test(IORESOURCE_BUSY)) {
        parent = conflict
        continue
      }
      return null
    }
    this.revoke?.(res)
    return res
  }

  /**
   * Kernel: __release_region(): remove the busy resource that is exactly
   * [start, start+n), looking through non-busy ranges; false when there is
   * none (Linux warns "Trying to free nonexistent resource").
   */
  release_region(start: number, n: number): boolean {
    const end = start + n - 1
    let list = this.root.child
    for (let i = 0; i < list.length; ) {
      const r = list[i]
      if (r.start <= start && r.end >= end) {
        if (!r.test(IORESOURCE_BUSY)) {
          list = r.child
          i = 0
          continue
        }
        if (r.start !== start || r.end !== end) return false
        list.splice(i, 1)
        r.parent = null
        this.exclusive = null
        return true
      }
      i++
    }
    return false
  }

  /** Every resource in address order, parents before their children (r_next()). */
  *walk(list: readonly Resource[] = this.root.child, depth = 0): Generator<[Resource, number]> {
    for (const r of list) {
      yield [r, depth]
      yield* this.walk(r.child, depth + 1)
    }
  }

  /**
   * Kernel: iomem_is_exclusive(): the page at addr is inside a busy
   * resource that is IORESOURCE_EXCLUSIVE (any busy one with
   * CONFIG_IO_STRICT_DEVMEM). Never with iomem=relaxed.
   */
  iomem_is_exclusive(addr: number): boolean {
    const start = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE
    return this.exclusive_in(start, start + PAGE_SIZE)
  }

  /**
   * iomem_is_exclusive() for some page of [start, end) (page-aligned bytes):
   * /dev/mem's range_is_allowed() asks once per mapping instead of once per page.
   */
  exclusive_in(start: number, end: number): boolean {
    if (!this.opts.strict_iomem_checks) return false
    // /dev/mem asks once per page of a read or write (up to millions): the tree walk's answer is
    // kept as the list of exclusive ranges until the tree changes
    const excl = (this.exclusive ??= this.exclusive_ranges())
    for (const p of excl) if (p.start < end && p.end >= start) return true
    return false
  }

  /** The busy resources iomem_is_exclusive() counts, in the walk's order. */
  private exclusive_ranges(): Resource[] {
    const out: Resource[] = []
    for (const [p] of this.walk()) {
      if (p.test(IORESOURCE_BUSY) && (this.opts.io_strict_devmem || p.test(IORESOURCE_EXCLUSIVE))) out.push(p)
    }
    return out
  }
  private exclusive: Resource[] | null = null
}

/**
 * Kernel: e820__reserve_resources() and the kernel image's resources
 * (setup_arch: code, rodata, data, bss inside System RAM), the first page
 * reserved (trim_bios_range) and the System ROM. do_mark_busy(): below
 * 1 MiB and System RAM are busy, a Reserved range above 1 MiB is not.
 */
export function e820__reserve_resources(iomem: IomemResource, e820: readonly Range[], img: KernelImage): void {
  const busy = (base: number, ram: boolean): number => (base < MiB || ram ? IORESOURCE_BUSY : 0)
  for (const r of e820) {
    const ram = r.name === 'usable'
    const type = ram ? IORESOURCE_SYSTEM_RAM : IORESOURCE_MEM
    const name = ram ? 'System RAM' : 'Reserved'
    if (r.base === 0 && ram) {
      iomem.insert(iomem.root, new Resource(0, 0xfff, 'Reserved', IORESOURCE_MEM + IORESOURCE_BUSY))
      iomem.insert(iomem.root, new Resource(0x1000, r.end - 1, name, type + busy(0x1000, ram)))
      continue
    }
    iomem.insert(iomem.root, new Resource(r.base, r.end - 1, name, type + busy(r.base, ram)))
  }
  const ram = iomem.root.child.find((r) => r.name === 'System RAM' && r.start <= img._text && r.end >= img._end)
  if (ram) {
    const sys = IORESOURCE_SYSTEM_RAM + IORESOURCE_BUSY
    iomem.insert(ram, new Resource(img._text, img._etext - 1, 'Kernel code', sys))
    iomem.insert(ram, new Resource(img.__start_rodata, img.__end_rodata - 1, 'Kernel rodata', sys))
    iomem.insert(ram, new Resource(img._sdata, img._edata - 1, 'Kernel data', sys))
    iomem.insert(ram, new Resource(img.__bss_start, img.__bss_stop - 1, 'Kernel bss', sys))
  }
  const rom = iomem.root.child.find((r) => r.start === 0xf0000)
  if (rom) iomem.insert(rom, new Resource(0xf0000, 0xfffff, 'System ROM', IORESOURCE_MEM + IORESOURCE_BUSY))
}
