/**
 * A tiny stand-in for the PageAllocator used only by the page-table unit
 * tests while src/mm/page_alloc.ts is not on main: order-0 frames from a
 * free stack, refcount 1 on allocation, __GFP_ZERO honoured, stale bytes kept.
 */
import { arch_profile, type ArchName, type ArchProfile } from '../../src/arch/profile.js'
import { PhysMem } from '../../src/hw/physmem.js'
import { __GFP_ZERO } from '../../src/mm/gfp.js'
import { PageArray, PGTY_none, type Pfn } from '../../src/mm/page.js'
import { VmStat } from '../../src/mm/vmstat.js'

export class FakeAlloc {
  readonly arch: ArchProfile
  readonly pages: PageArray
  readonly physmem: PhysMem
  readonly vmstat = new VmStat()
  readonly free: Pfn[] = []
  readonly nr: number
  fail_after = Infinity

  constructor(arch: ArchName, nr_frames: number, first_free = 16) {
    this.arch = arch_profile(arch)
    this.nr = nr_frames
    this.pages = new PageArray(nr_frames)
    this.physmem = new PhysMem(nr_frames)
    for (let pfn = nr_frames - 1; pfn >= first_free; pfn--) this.free.push(pfn)
  }
  get nr_free(): number {
    return this.free.length
  }
  alloc_pages(gfp: number, order: number): Pfn {
    if (order !== 0) throw new Error('FakeAlloc: order-0 only')
    if (this.fail_after <= 0) return -1
    this.fail_after--
    const pfn = this.free.pop()
    if (pfn === undefined) return -1
    this.pages._refcount[pfn] = 1
    if (gfp & __GFP_ZERO) this.physmem.fill(pfn, 0)
    return pfn
  }
  __free_pages(pfn: Pfn, order: number): void {
    if (order !== 0) throw new Error('FakeAlloc: order-0 only')
    if (this.pages._refcount[pfn] !== 1) throw new Error(`FakeAlloc: bad refcount on ${pfn}`)
    if (this.pages.page_type[pfn] !== PGTY_none) throw new Error(`FakeAlloc: freeing typed page ${pfn}`)
    this.pages._refcount[pfn] = 0
    this.physmem.fill(pfn, 0xa5) // stale bytes, so missing zeroing shows
    this.free.push(pfn)
  }
}
