/**
 * A small MmEnv for the mm tests: PageArray + PhysMem + VmStat and a
 * free-list page allocator (test double until the foundation's PageAllocator
 * is wired in by Machine), with a leak checker.
 */
import { PageArray } from '../../src/mm/page.js'
import { PhysMem } from '../../src/hw/physmem.js'
import { VmStat } from '../../src/mm/vmstat.js'
import { type MmEnv, type AnonVma, type AddressSpace, type MmStruct, default_sysctl } from '../../src/mm/mm_types.js'
import { SoftPageTables } from '../../src/mm/pgtable_soft.js'
import { __GFP_ZERO, GFP_KERNEL } from '../../src/mm/gfp.js'
import { Machine } from '../../src/machine.js'
import { FramePageTables } from '../../src/mm/pgtable_mm.js'
import { KernelBug } from '../../src/include/bug.js'

export interface TestEnv extends MmEnv {
  nr_free(): number
  nr_frames: number
  slab: Map<string, number>
}

export function make_env(nr_frames = 16384): TestEnv {
  const pages = new PageArray(nr_frames)
  const physmem = new PhysMem(nr_frames)
  const vmstat = new VmStat()
  const free: number[] = []
  for (let p = nr_frames - 1; p >= 2; p--) free.push(p)
  let id = 0
  const slab = new Map<string, number>()
  const env: TestEnv = {
    pages,
    physmem,
    vmstat,
    trace: null,
    nr_frames,
    slab,
    alloc_pages(gfp: number, order: number): number {
      if (order !== 0) throw new KernelBug('test env: only order 0')
      const pfn = free.pop()
      if (pfn === undefined) return -1
      pages._refcount[pfn] = 1
      if (gfp & __GFP_ZERO) physmem.fill(pfn, 0)
      return pfn
    },
    __free_pages(pfn: number, order: number): void {
      if (order !== 0) throw new KernelBug('test env: only order 0')
      if (pages._refcount[pfn] !== 0) throw new KernelBug(`test env: free of pfn ${pfn} with refcount ${pages._refcount[pfn]}`)
      pages.flags[pfn] = 0
      free.push(pfn)
    },
    pgd_alloc() {
      return new SoftPageTables()
    },
    zero_pfn: 1,
    sysctl: default_sysctl(),
    totalram_pages: () => nr_frames,
    available_pages: () => free.length,
    vm_committed_as: 0,
    next_id: () => ++id,
    anon_vmas: new Map<number, AnonVma>(),
    mappings: new Map<number, AddressSpace>(),
    kmem_alloc(cache: string) {
      slab.set(cache, (slab.get(cache) ?? 0) + 1)
      return 0
    },
    kmem_free(cache: string) {
      slab.set(cache, (slab.get(cache) ?? 0) - 1)
    },
    nr_free: () => free.length,
  }
  pages.set(1, 13) // the zero page is reserved
  pages._refcount[1] = 1
  return env
}

/** Per-mm invariants: map_count, sorted VMAs, rss counters equal the PTEs, refcounts >= mapcounts. */
export function check_mm(mm: MmStruct): void {
  let anon = 0
  let file = 0
  let shmem = 0
  const pages = mm.env.pages
  for (const v of mm.mm_mt) {
    mm.pgd.each(v.vm_start / 4096, v.vm_end / 4096, (_vpn, pte) => {
      if (!(pte & 0x101)) return
      if (pte & 0x200) return
      const pfn = Math.floor((pte % 2 ** 52) / 4096)
      if (pages._mapcount[pfn] < 1) throw new KernelBug(`check_mm: mapped pfn ${pfn} has mapcount ${pages._mapcount[pfn]}`)
      if (pages._refcount[pfn] < pages._mapcount[pfn]) throw new KernelBug(`check_mm: pfn ${pfn} refcount < mapcount`)
      if (pages.mapping[pfn] < 0) anon++
      else if (pages.test(pfn, 17)) shmem++
      else file++
    })
  }
  if (anon !== mm.rss_stat[1] || file !== mm.rss_stat[0] || shmem !== mm.rss_stat[3]) {
    throw new KernelBug(`check_mm: rss ${mm.rss_stat.join(',')} != counted ${file},${anon},-,${shmem}`)
  }
}

/**
 * An MmEnv on a booted Machine: the real buddy allocator and page tables in
 * frames (FramePageTables), as the product wires it.
 */
export function make_machine_env(ram = '256M'): TestEnv & { machine: Machine } {
  const m = new Machine({ arch: 'x86_64', ram, seed: 1, debug_vm: true })
  const zero = m.page_alloc.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0)
  m.pages.set(zero, 13)
  let id = 0
  const slab = new Map<string, number>()
  const env: TestEnv & { machine: Machine } = {
    machine: m,
    pages: m.pages,
    physmem: m.physmem,
    vmstat: m.vmstat,
    trace: m.trace,
    nr_frames: m.pages.nr,
    slab,
    alloc_pages: (gfp, order) => m.page_alloc.alloc_pages(gfp, order),
    __free_pages: (pfn, order) => {
      // folio_put() reached zero; the allocator's __free_pages() drops the last reference itself.
      m.pages._refcount[pfn] = 1
      m.page_alloc.__free_pages(pfn, order)
    },
    pgd_alloc: () => FramePageTables.create(m.pgtables),
    zero_pfn: zero,
    sysctl: default_sysctl(),
    totalram_pages: () => m.page_alloc.totalram_pages(),
    available_pages: () => m.page_alloc.nr_free_pages(),
    vm_committed_as: 0,
    next_id: () => ++id,
    anon_vmas: new Map<number, AnonVma>(),
    mappings: new Map<number, AddressSpace>(),
    kmem_alloc(cache: string) {
      slab.set(cache, (slab.get(cache) ?? 0) + 1)
      const c = m.slab.find_cache(cache)
      return c ? m.slab.kmem_cache_alloc(c, GFP_KERNEL) : 0
    },
    kmem_free(cache: string, obj: number) {
      slab.set(cache, (slab.get(cache) ?? 0) - 1)
      const c = m.slab.find_cache(cache)
      if (c && obj) m.slab.kmem_cache_free(c, obj)
    },
    nr_free: () => {
      // empty slabs of the mm caches go back to the buddy allocator first
      for (const name of ['mm_struct', 'vm_area_struct', 'anon_vma', 'anon_vma_chain']) {
        const c = m.slab.find_cache(name)
        if (c) m.slab.kmem_cache_shrink(c)
      }
      m.page_alloc.drain_all_pages()
      return m.page_alloc.nr_free_pages()
    },
  }
  return env
}
