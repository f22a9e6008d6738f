/**
 * Reverse mapping: anon_vma objects and chains, and the per-page mapcount
 * and mapping fields (Kernel: mm/rmap.c, include/linux/rmap.h).
 *
 * Invariants:
 *  - An anonymous page has page->mapping = -(anon_vma id) and
 *    page->index = its linear page index in the VMA (vma_pgoff based), so
 *    vma_address() finds it in every VMA chained to that anon_vma.
 *  - A page-cache page has page->mapping = +(address_space id).
 *  - _mapcount here is the number of PTEs mapping the page (not Linux's -1
 *    biased field); _refcount counts the page-cache reference plus one per
 *    PTE for file pages, and one per PTE for anonymous pages.
 *  - Every VMA with an anon_vma has at least one anon_vma_chain, one of them
 *    to vma->anon_vma; an anon_vma lives while some chain points at it.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { AnonVma, type AnonVmaChain, type MmEnv, type MmStruct, type VmArea, type vm_flags_t, VM_NONE, VM_ACCESS_FLAGS, VM_DROPPABLE, VM_IGNORE_MERGE, VM_LOCKED, VM_RAND_READ, VM_SEQ_READ, vm_flags_andnot, vm_flags_test, vm_flags_xor, vm_flags_or } from './mm_types.js'
import { _PAGE_ACCESSED, pte_pfn, pte_present } from '../arch/pte.js'
import { type MemCgroup, MEMCG_MAPPED_FILE, MEMCG_RSS } from './memcontrol.js'
import { folio_release_lru } from './swap.js'
import { PG_anon_exclusive, PG_swapbacked, PG_dirty, PG_mlocked } from './page.js'
import { NODE_STAT } from './vmstat.js'
import { KernelBug } from '../include/bug.js'
import { ENOMEM } from '../include/errno.js'
import { GFP_KERNEL, GFP_NOWAIT } from './gfp.js'


/** Kernel: vma_pages(). */
export function vma_pages(vma: VmArea): number {
  return (vma.vm_end - vma.vm_start) / PAGE_SIZE
}

/** Kernel: linear_page_index(). */
export function linear_page_index(vma: VmArea, addr: number): number {
  return vma.vm_pgoff + Math.floor((addr - vma.vm_start) / PAGE_SIZE)
}

/** Kernel: vma_address(): the address of page offset pgoff in vma, or -1 when outside it. */
export function vma_address(vma: VmArea, pgoff: number): number {
  const a = vma.vm_start + (pgoff - vma.vm_pgoff) * PAGE_SIZE
  return a >= vma.vm_start && a < vma.vm_end ? a : -1
}

/** Kernel: anon_vma_alloc(): a new anon_vma from anon_vma_cachep (GFP_KERNEL), null when the slab cannot give one. */
export function anon_vma_alloc(env: MmEnv): AnonVma | null {
  const obj = env.kmem_alloc('anon_vma')
  if (obj === 0) return null
  const av = new AnonVma(env.next_id())
  env.anon_vmas.set(av.id, av)
  av.slab_obj = obj
  return av
}

function anon_vma_free(env: MmEnv, av: AnonVma): void {
  env.anon_vmas.delete(av.id)
  env.kmem_free('anon_vma', av.slab_obj)
}

/** Kernel: anon_vma_chain_alloc(): the object's address, 0 when out of memory. */
function anon_vma_chain_alloc(env: MmEnv, gfp: number = GFP_KERNEL): number {
  return env.kmem_alloc('anon_vma_chain', gfp)
}

/** Kernel: anon_vma_chain_link(): link vma to av through the chain object `obj` (anon_vma_chain_alloc()'s). */
function anon_vma_chain_link(vma: VmArea, av: AnonVma, obj: number): void {
  const avc: AnonVmaChain = { vma, anon_vma: av, slab_obj: obj }
  vma.anon_vma_chain.push(avc)
  av.rb_root.add(avc)
}

const ANON_VMA_IGNORED = vm_flags_or(VM_ACCESS_FLAGS, VM_IGNORE_MERGE)
/** Kernel: anon_vma_compatible(): can a and b (a just below b) share an anon_vma? */
function anon_vma_compatible(a: VmArea, b: VmArea): boolean {
  return (
    a.vm_end === b.vm_start &&
    vm_flags_andnot(vm_flags_xor(a.vm_flags, b.vm_flags), ANON_VMA_IGNORED) === 0 &&
    a.vm_file === b.vm_file &&
    b.vm_pgoff === a.vm_pgoff + vma_pages(a)
  )
}

/** Kernel: reusable_anon_vma(). */
function reusable_anon_vma(old: VmArea, a: VmArea, b: VmArea): AnonVma | null {
  if (anon_vma_compatible(a, b)) {
    const av = old.anon_vma
    if (av && old.anon_vma_chain.length === 1) return av
  }
  return null
}

/** Kernel: find_mergeable_anon_vma(): an adjacent VMA's anon_vma this VMA may share. */
function find_mergeable_anon_vma(vma: VmArea): AnonVma | null {
  const mt = vma.vm_mm.mm_mt
  const next = mt.find(vma.vm_end)
  if (next) {
    const av = reusable_anon_vma(next, vma, next)
    if (av) return av
  }
  const prev = mt.find_before(vma.vm_start)
  if (prev) return reusable_anon_vma(prev, prev, vma)
  return null
}

/**
 * Kernel: __anon_vma_prepare(): give vma an anon_vma (reusing a neighbour's
 * when compatible). 0, or -ENOMEM with nothing changed when the chain or the
 * anon_vma cannot be allocated (the fault then fails with VM_FAULT_OOM).
 */
export function anon_vma_prepare(vma: VmArea): number {
  if (vma.anon_vma) return 0
  const env = vma.vm_mm.env
  const avc = anon_vma_chain_alloc(env)
  if (avc === 0) return -ENOMEM
  let av = find_mergeable_anon_vma(vma)
  if (!av) {
    av = anon_vma_alloc(env)
    if (!av) {
      env.kmem_free('anon_vma_chain', avc)
      return -ENOMEM
    }
  }
  anon_vma_chain_link(vma, av, avc)
  vma.anon_vma = av
  av.num_active_vmas++
  return 0
}

/**
 * Kernel: anon_vma_clone(): dst gets a chain to every anon_vma src is
 * chained to. Each chain is tried without reclaim first, then with
 * GFP_KERNEL; when one cannot be had, dst loses its anon_vma and the chains
 * made so far (unlink_anon_vmas()) and the result is -ENOMEM.
 */
export function anon_vma_clone(dst: VmArea, src: VmArea): number {
  const env = dst.vm_mm.env
  for (const avc of src.anon_vma_chain) {
    const obj = anon_vma_chain_alloc(env, GFP_NOWAIT) || anon_vma_chain_alloc(env)
    if (obj === 0) {
      // Dropped first, so that unlink_anon_vmas() does not count it as an active VMA of it.
      dst.anon_vma = null
      unlink_anon_vmas(dst)
      return -ENOMEM
    }
    anon_vma_chain_link(dst, avc.anon_vma, obj)
  }
  if (dst.anon_vma) dst.anon_vma.num_active_vmas++
  return 0
}

/**
 * Kernel: anon_vma_fork(): the child's VMA gets the parent's chains plus its
 * own new anon_vma. -ENOMEM when an allocation fails, the child's VMA then
 * chained to nothing.
 */
export function anon_vma_fork(vma: VmArea, pvma: VmArea): number {
  if (!pvma.anon_vma) return 0
  vma.anon_vma = null
  vma.anon_vma_chain = []
  if (anon_vma_clone(vma, pvma)) return -ENOMEM
  const env = vma.vm_mm.env
  const av = anon_vma_alloc(env)
  const avc = av ? anon_vma_chain_alloc(env) : 0
  if (!av || avc === 0) {
    if (av) anon_vma_free(env, av)
    unlink_anon_vmas(vma)
    return -ENOMEM
  }
  av.num_active_vmas++
  av.root = pvma.anon_vma.root
  av.parent = pvma.anon_vma
  av.root.refcount++
  anon_vma_chain_link(vma, av, avc)
  vma.anon_vma = av
  av.parent.num_children++
  return 0
}

/** Kernel: unlink_anon_vmas(): drop every chain of vma, freeing anon_vmas nobody chains to. */
export function unlink_anon_vmas(vma: VmArea): void {
  const env = vma.vm_mm.env
  if (vma.anon_vma) vma.anon_vma.num_active_vmas--
  for (const avc of vma.anon_vma_chain) {
    avc.anon_vma.rb_root.delete(avc)
    env.kmem_free('anon_vma_chain', avc.slab_obj)
  }
  for (const avc of vma.anon_vma_chain) {
    const av = avc.anon_vma
    if (av.rb_root.size === 0 && env.anon_vmas.has(av.id)) {
      if (av.parent !== av) av.parent.num_children--
      if (av.root !== av) av.root.refcount--
      anon_vma_free(env, av)
    }
  }
  vma.anon_vma_chain = []
  vma.anon_vma = null
}

/** Kernel: dup_anon_vma(): dst (expanding over src's range) takes src's anon_vma. 0 or -ENOMEM (dst unchanged). */
export function dup_anon_vma(dst: VmArea, src: VmArea): number {
  if (src.anon_vma && !dst.anon_vma) {
    dst.anon_vma = src.anon_vma
    return anon_vma_clone(dst, src)
  }
  return 0
}

// ---- per-page rmap ----

/** True when page->mapping marks an anonymous page. Kernel: folio_test_anon(). */
export function PageAnon(env: MmEnv, pfn: number): boolean {
  return env.pages.mapping[pfn] < 0
}

/**
 * Kernel: folio_add_new_anon_rmap(): a freshly allocated anonymous page
 * mapped once, exclusively. It is swap-backed unless the VMA is droppable:
 * those pages are always lazily freeable (reclaim discards them, dirty or not).
 */
export function folio_add_new_anon_rmap(env: MmEnv, pfn: number, vma: VmArea, addr: number): void {
  const av = vma.anon_vma
  if (!av) throw new KernelBug('folio_add_new_anon_rmap: vma has no anon_vma')
  const pages = env.pages
  pages.mapping[pfn] = -av.id
  pages.index[pfn] = linear_page_index(vma, addr)
  pages._mapcount[pfn] = 1
  pages.set(pfn, PG_anon_exclusive)
  // (VM_DROPPABLE is bit 40: the first comparison keeps the usual VMA off vm_flags_test().)
  if (vma.vm_flags < VM_DROPPABLE || !vm_flags_test(vma.vm_flags, VM_DROPPABLE)) pages.set(pfn, PG_swapbacked)
  env.vmstat.mod_node_page_state(NODE_STAT.nr_anon_pages, 1)
  env.memcg.mod_memcg_page_state(pfn, MEMCG_RSS, 1)
}

/** Kernel: folio_add_anon_rmap_pte() (fork's copy of a mapping). */
export function folio_dup_anon_rmap_pte(env: MmEnv, pfn: number): void {
  env.pages._mapcount[pfn]++
}

/** Kernel: folio_add_file_rmap_pte(). */
export function folio_add_file_rmap_pte(env: MmEnv, pfn: number): void {
  if (++env.pages._mapcount[pfn] === 1) {
    env.vmstat.mod_node_page_state(NODE_STAT.nr_mapped, 1)
    env.memcg.mod_memcg_page_state(pfn, MEMCG_MAPPED_FILE, 1)
  }
}

/** Kernel: folio_remove_rmap_pte(). */
export function folio_remove_rmap_pte(env: MmEnv, pfn: number): void {
  const pages = env.pages
  const n = --pages._mapcount[pfn]
  if (n < 0) throw new KernelBug(`folio_remove_rmap_pte: pfn ${pfn} mapcount underflow`)
  if (n === 0) {
    if (pages.mapping[pfn] < 0) {
      env.vmstat.mod_node_page_state(NODE_STAT.nr_anon_pages, -1)
      env.memcg.mod_memcg_page_state(pfn, MEMCG_RSS, -1)
    } else {
      env.vmstat.mod_node_page_state(NODE_STAT.nr_mapped, -1)
      env.memcg.mod_memcg_page_state(pfn, MEMCG_MAPPED_FILE, -1)
    }
    if (pages.test(pfn, PG_mlocked)) pages.clear(pfn, PG_mlocked)
  }
}

/** Drop one page reference; frees an anonymous page (or an orphaned file page) at zero. Kernel: folio_put(). */
export function put_page(env: MmEnv, pfn: number): void {
  const pages = env.pages
  if (pages._refcount[pfn] <= 0) throw new KernelBug(`put_page: pfn ${pfn} refcount ${pages._refcount[pfn]}`)
  if (pages.put_page_testzero(pfn)) {
    if (pages._mapcount[pfn] !== 0) throw new KernelBug(`put_page: pfn ${pfn} freed while mapped`)
    // Off its LRU list first: which list it is on follows from the flags cleared below.
    folio_release_lru(env, pfn)
    pages.mapping[pfn] = 0
    pages.index[pfn] = 0
    pages.clear(pfn, PG_anon_exclusive)
    pages.clear(pfn, PG_swapbacked)
    pages.clear(pfn, PG_dirty)
    pages.clear(pfn, PG_mlocked)
    env.__free_pages(pfn, 0)
  }
}

/**
 * Kernel: rmap_walk() with page_vma_mapped_walk(): visit every VMA that maps
 * pfn, with the address and the present PTE that map it. Anonymous pages are
 * found through the anon_vma's chains, file pages through the file's i_mmap,
 * both at vma_address() of the page's index. visit returns false to stop.
 */
export function rmap_walk(env: MmEnv, pfn: number, visit: (vma: VmArea, addr: number, pte: number) => boolean): void {
  const m = env.pages.mapping[pfn]
  if (m === 0 || env.pages._mapcount[pfn] === 0) return
  const index = env.pages.index[pfn]
  let vmas: Iterable<VmArea>
  if (m < 0) {
    const av = env.anon_vmas.get(-m)
    if (!av) return
    vmas = [...av.rb_root].map((avc) => avc.vma)
  } else {
    const as = env.mappings.get(m)
    if (!as) return
    vmas = [...as.i_mmap]
  }
  for (const v of vmas) {
    const a = vma_address(v, index)
    if (a < 0) continue
    const pte = v.vm_mm.pgd.get(a / PAGE_SIZE)
    if (pte_present(pte) && pte_pfn(pte) === pfn && !visit(v, a, pte)) return
  }
}

/**
 * Is pfn still mapped by a VM_LOCKED VMA other than `except`? (The mlock_count
 * of the folio: munlock_vma_folio() clears PG_mlocked when it reaches zero.)
 */
export function page_locked_elsewhere(env: MmEnv, pfn: number, except: VmArea): boolean {
  let locked = false
  rmap_walk(env, pfn, (v) => {
    locked = v !== except && vm_flags_test(v.vm_flags, VM_LOCKED)
    return !locked
  })
  return locked
}

/**
 * Kernel: folio_referenced(): how many of the page's mappings were used
 * since the last look (the Accessed bits, which it clears; x86 clears them
 * without a TLB flush, so a cached translation hides further use until the
 * TLB entry goes), and the union of those VMAs' flags (VM_LOCKED when a
 * locked VMA maps it: the walk stops there). VMAs with MADV_RANDOM or
 * MADV_SEQUENTIAL advice are not asked (vma_has_recency()), nor those of
 * processes outside `memcg` when reclaim works for a group.
 */
export function folio_referenced(env: MmEnv, pfn: number, memcg: MemCgroup | null): { referenced: number; vm_flags: vm_flags_t } {
  let referenced = 0
  let vm_flags = VM_NONE
  rmap_walk(env, pfn, (vma, addr, pte) => {
    if (vm_flags_test(vma.vm_flags, VM_SEQ_READ) || vm_flags_test(vma.vm_flags, VM_RAND_READ)) return true
    if (memcg && !mm_match_cgroup(vma.vm_mm, memcg)) return true
    if (vm_flags_test(vma.vm_flags, VM_LOCKED)) {
      vm_flags = vm_flags_or(vm_flags, VM_LOCKED)
      return false
    }
    if (pte & _PAGE_ACCESSED) {
      vma.vm_mm.pgd.set(addr / PAGE_SIZE, pte & ~_PAGE_ACCESSED)
      referenced++
      vm_flags = vm_flags_or(vm_flags, vma.vm_flags)
    }
    return true
  })
  return { referenced, vm_flags }
}

/** Kernel: mm_match_cgroup(): is the mm's owner in memcg's subtree? */
function mm_match_cgroup(mm: MmStruct, memcg: MemCgroup): boolean {
  for (let g: MemCgroup | null = mm.memcg; g; g = g.parent) if (g === memcg) return true
  return memcg.is_root
}
