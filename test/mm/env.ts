/**
 * The mm tests run on a booted Machine's own MmEnv (the buddy allocator,
 * page tables in frames, slab objects, the MMU's TLB flushes): the one
 * path the product runs, with helpers to count what came back.
 */
import type { MmEnv, MmStruct } from '../../src/mm/mm_types.js'
import { Machine } from '../../src/machine.js'
import { KernelBug } from '../../src/include/bug.js'

export interface TestEnv {
  readonly machine: Machine
  /** The machine's MmEnv. */
  readonly env: MmEnv
  /** Free pages once the per-CPU lists are drained and the mm object caches shrunk (a leak shows as fewer). */
  nr_free(): number
  /** Objects of a kernel-object cache (vm_area_struct, anon_vma, ...) currently allocated. */
  live(cache: string): number
}

/** A booted machine for mm-level tests (debug_vm on). */
export function make_machine_env(ram = '64M'): TestEnv {
  const m = new Machine({ arch: 'x86_64', ram, seed: 1, debug_vm: true })
  return {
    machine: m,
    env: m.mm_env,
    nr_free: () => {
      for (const name of ['mm_struct', 'vm_area_struct', 'anon_vma', 'anon_vma_chain']) {
        const c = m.slab.find_cache(name)
        if (c) m.slab.kmem_cache_shrink(c)
      }
      m.page_alloc.drain_all_pages()
      return m.page_alloc.nr_free_pages()
    },
    live: (cache) => m.kernel_objects.count(cache),
  }
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

