/**
 * The slab part of the simulator's DEBUG_VM: proves the slab invariants
 * after any operation by recounting everything from the slab pages, the
 * free pointers stored in object memory, and the per-cpu structures.
 *
 * For every slab of every cache: each object is exactly once either free
 * (reachable from exactly one freelist: the slab's, its cpu freelist, or a
 * SLAB array cache) or allocated; no freelist has a cycle, a foreign or a
 * misaligned pointer; the slab's in-use counter, list membership and the
 * node counters match the recount; slab pages are PGTY_slab and point back
 * at their slab; NR_SLAB_*_B equal the bytes of slab and large kmalloc
 * pages. A broken invariant throws KernelBug("check_slab: ...").
 *
 * The per-call check recounts only the caches the slab layer was called on
 * since the last check (SlabAllocator.debug_dirty), every slab page and the
 * counters still whole: a cache nobody allocated from or freed to keeps the
 * state it was proven in. A stray write into a free object's memory from
 * outside the slab layer (a simulated use-after-free) is found by the full
 * recount, which a test runs at its end and check() runs on demand.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { KernelBug } from '../include/bug.js'
import { PG_head, PGTY_large_kmalloc, PGTY_slab, type PageArray } from './page.js'
import { NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B } from './vmstat.js'
import { SLAB_RECLAIM_ACCOUNT, OBJ_ALLOCATED, OBJ_FREE, OBJ_IN_SHEAF } from './slab_h.js'
import type { SlabAllocator } from './slab_common.js'
import { Slub } from './slub.js'
import { get_freepointer, kmem_cache_debug, Slab, SlabList, SlubCache } from './slub_cache.js'
import type { SlabSheaf } from './slub_sheaf.js'
import { ClassicSlab, ClassicSlabPage, SlabCacheClassic } from './slab.js'

function bug(what: string): never {
  throw new KernelBug(`check_slab: ${what}`)
}

/**
 * Kernel-style DEBUG_VM check of the slab layer: every cache when `full`,
 * else the caches in sa.debug_dirty; the dirty set is emptied either way.
 */
export function check_slab(sa: SlabAllocator, full = true): void {
  const dirty = full ? null : sa.debug_dirty
  const pa = sa.pa
  const pages = pa.pages
  const acct = { reclaimable: 0, unreclaimable: 0 }
  // (slab_caches is searched in place: building a Set of it after every call cost more than the searches)
  const caches = sa.slab_caches
  if (sa.backend instanceof Slub) {
    const b = sa.backend
    const met = new Set<SlubCache>()
    const per_cache = slabs_by_cache<SlubCache, Slab>(pages, b.registry.items, acct, dirty, met)
    for (const s of met) if (!caches.includes(s)) bug(`slab of unknown cache ${s.name}`)
    for (const [s, slabs] of per_cache) check_slub_cache(b, s, slabs)
    for (const s of caches) if (!per_cache.has(s as SlubCache) && (!dirty || dirty.has(s))) check_slub_cache(b, s as SlubCache, [])
  } else if (sa.backend instanceof ClassicSlab) {
    const b = sa.backend
    const per_cache = slabs_by_cache<SlabCacheClassic, ClassicSlabPage>(pages, b.registry.items, acct, dirty)
    for (const c of new Set(caches)) if (!dirty || dirty.has(c)) check_classic_cache(b, c as SlabCacheClassic, per_cache.get(c as SlabCacheClassic) ?? [])
  }
  for (const [pfn, order] of sa.large_kmalloc) {
    if (pages.page_type[pfn] !== PGTY_large_kmalloc) bug(`large kmalloc 0x${pfn.toString(16)} is not PGTY_large_kmalloc`)
    if (!pages.test(pfn, PG_head) || pages.order[pfn] !== order) bug(`large kmalloc 0x${pfn.toString(16)} is not a compound page of order ${order}`)
    acct.unreclaimable += PAGE_SIZE * 2 ** order
  }
  const vs = pa.vmstat
  if (vs.node_page_state(NR_SLAB_RECLAIMABLE_B) !== acct.reclaimable) bug(`NR_SLAB_RECLAIMABLE_B ${vs.node_page_state(NR_SLAB_RECLAIMABLE_B)} != ${acct.reclaimable}`)
  if (vs.node_page_state(NR_SLAB_UNRECLAIMABLE_B) !== acct.unreclaimable) bug(`NR_SLAB_UNRECLAIMABLE_B ${vs.node_page_state(NR_SLAB_UNRECLAIMABLE_B)} != ${acct.unreclaimable}`)
  sa.debug_dirty?.clear()
}

/**
 * The live slab pages of either allocator (its registry: a slab or a free
 * id per index), grouped by cache, after checking
 * each page's type and back pointer and adding its bytes to the slab
 * counters. With `only` (the per-call check's dirty caches), only those
 * caches' slabs are grouped. Every cache that has a live slab goes into `met`.
 */
function slabs_by_cache<C extends { flags: number }, S extends { pfn: number; id: number; order: number; cache: C }>(
  pages: PageArray,
  registry: readonly (S | undefined)[],
  acct: { reclaimable: number; unreclaimable: number },
  only: ReadonlySet<unknown> | null,
  met?: Set<C>,
): Map<C, S[]> {
  const per_cache = new Map<C, S[]>()
  // (The registry's array by index: its live() generator allocated per slab, after every call.)
  for (let i = 0; i < registry.length; i++) {
    const slab = registry[i]
    if (slab === undefined) continue
    if (pages.page_type[slab.pfn] !== PGTY_slab) bug(`slab page 0x${slab.pfn.toString(16)} is not PGTY_slab`)
    if (pages.private[slab.pfn] !== slab.id + 1) bug(`slab page 0x${slab.pfn.toString(16)} private ${pages.private[slab.pfn]} != ${slab.id + 1}`)
    const bytes = PAGE_SIZE * 2 ** slab.order
    if (slab.cache.flags & SLAB_RECLAIM_ACCOUNT) acct.reclaimable += bytes
    else acct.unreclaimable += bytes
    met?.add(slab.cache)
    if (only && !only.has(slab.cache)) continue
    let l = per_cache.get(slab.cache)
    if (!l) per_cache.set(slab.cache, (l = []))
    l.push(slab)
  }
  return per_cache
}

/**
 * Walk a SLUB freelist from `head`, marking objects in `seen`; throws on a bad pointer, a cycle or a repeat.
 * `cpu` names the list in messages: -1 for the slab's own freelist, else that CPU's freelist.
 */
function walk(b: Slub, s: SlubCache, slab: Slab, head: number, seen: Uint8Array, cpu: number): number {
  if (!head) return 0
  let n = 0
  for (let p = head; p; p = get_freepointer(b.env.mem, s, p)) {
    const i = slab.obj_to_index(p)
    if (i < 0) bug(`${s.name}: ${what(cpu)} of slab 0x${slab.pfn.toString(16)} holds ${b.env.mem.p(p)}, not an object of the slab`)
    if (seen[i]) bug(`${s.name}: object ${i} of slab 0x${slab.pfn.toString(16)} is on a freelist twice`)
    if (slab.state[i] !== OBJ_FREE) bug(`${s.name}: object ${i} of slab 0x${slab.pfn.toString(16)} is on ${what(cpu)} but ${slab.state[i] === OBJ_ALLOCATED ? 'allocated' : 'leaked'}`)
    seen[i] = 1
    n++
  }
  return n
}

/** walk()'s name for a freelist in messages. */
function what(cpu: number): string {
  return cpu < 0 ? 'the slab freelist' : `cpu ${cpu} freelist`
}

/**
 * walk()'s marks for the objects of the slab being checked: one buffer,
 * cleared before each slab, instead of a new array per slab after every call.
 */
let seen_scratch = new Uint8Array(256)

/** What slab_set() gives for an empty list (never written to). */
const NO_SLABS: ReadonlySet<Slab> = new Set<Slab>()
/** The sheaved objects of a cache without sheaves (never written to). */
const NO_OBJECTS: Set<number> = new Set<number>()

/** The slabs of a node list, walked through the intrusive links (what its iterator yields, without a generator). */
function slab_set(l: SlabList): ReadonlySet<Slab> {
  if (!l.head) return NO_SLABS
  const set = new Set<Slab>()
  for (let x: Slab | null = l.head; x; ) {
    const next: Slab | null = x.list_next
    set.add(x)
    x = next
  }
  return set
}

function check_slub_cache(b: Slub, s: SlubCache, slabs: Slab[]): void {
  const n = s.node
  // The CPU whose cpu slab each slab is (the last such CPU if several claim it), made only when some CPU has one.
  let cpu_of: Map<Slab, number> | null = null
  const cpu_slab = s.cpu_slab
  for (let cpu = 0; cpu < cpu_slab.length; cpu++) {
    const c = cpu_slab[cpu]
    if (c.slab) {
      if (c.slab.cache !== s) bug(`${s.name}: cpu ${cpu} slab belongs to ${c.slab.cache.name}`)
      if (!cpu_of) cpu_of = new Map<Slab, number>()
      cpu_of.set(c.slab, cpu)
    } else if (c.freelist) bug(`${s.name}: cpu ${cpu} has a freelist but no slab`)
    let k = 0
    for (let p = c.partial; p; p = p.next) {
      if (p.cpu_partial !== cpu) bug(`${s.name}: slab on cpu ${cpu} partial list says cpu ${p.cpu_partial}`)
      if (++k > slabs.length) bug(`${s.name}: cpu ${cpu} partial list loops`)
    }
  }
  // Objects parked in per-cpu sheaves and barn sheaves: allocated for their slab, OBJ_IN_SHEAF, in one sheaf only.
  // (Visited in this order: each CPU's main then spare sheaf, the barn's full sheaves, its empty ones.)
  const in_sheaf = s.cpu_sheaves || s.barn ? new Set<number>() : NO_OBJECTS
  const visit = (sh: SlabSheaf): void => {
    if (sh.size > s.sheaf_capacity) bug(`${s.name}: sheaf holds ${sh.size} > capacity ${s.sheaf_capacity}`)
    for (const o of sh.objects) {
      if (in_sheaf.has(o)) bug(`${s.name}: object ${b.env.mem.p(o)} is in two sheaves or twice in one`)
      in_sheaf.add(o)
    }
  }
  if (s.cpu_sheaves) {
    for (const p of s.cpu_sheaves) {
      visit(p.main)
      if (p.spare) visit(p.spare)
    }
  }
  if (s.barn) {
    for (const sh of s.barn.sheaves_full) visit(sh)
    for (const sh of s.barn.sheaves_empty) visit(sh)
  }
  const any_in_sheaf = in_sheaf.size > 0
  if (s.barn) for (const sh of s.barn.sheaves_empty) if (sh.size) bug(`${s.name}: a barn empty sheaf holds objects`)
  let sheaf_seen = 0
  const on_partial = slab_set(n.partial)
  const on_full = slab_set(n.full)
  if (on_partial.size !== n.partial.count) bug(`${s.name}: partial list count ${n.partial.count} != ${on_partial.size}`)
  let total = 0
  for (const slab of slabs) {
    total += slab.objects
    if (seen_scratch.length < slab.objects) seen_scratch = new Uint8Array(slab.objects)
    const seen = seen_scratch
    seen.fill(0, 0, slab.objects)
    const on_slab_list = walk(b, s, slab, slab.freelist, seen, -1)
    let free = on_slab_list
    const cpu = cpu_of?.get(slab)
    if (cpu !== undefined) free += walk(b, s, slab, s.cpu_slab[cpu].freelist, seen, cpu)
    let allocated = 0
    const state = slab.state
    const obj0 = slab.obj(0)
    const size = slab.cache.size
    for (let i = 0; i < slab.objects; i++) {
      const st = state[i]
      if (st === OBJ_FREE && !seen[i]) bug(`${s.name}: free object ${i} of slab 0x${slab.pfn.toString(16)} is on no freelist`)
      if (st !== OBJ_FREE) allocated++
      // (no sheaf holds anything: the object must just not be OBJ_IN_SHEAF; obj0 + i * size is slab.obj(i))
      if ((st === OBJ_IN_SHEAF) !== (any_in_sheaf && in_sheaf.has(obj0 + i * size))) bug(`${s.name}: object ${i} of slab 0x${slab.pfn.toString(16)} state ${st} disagrees with the sheaves`)
      if (st === OBJ_IN_SHEAF) sheaf_seen++
    }
    if (allocated + free !== slab.objects) bug(`${s.name}: slab 0x${slab.pfn.toString(16)} objects do not add up`)
    const places = (cpu !== undefined ? 1 : 0) + (slab.cpu_partial >= 0 ? 1 : 0) + (on_partial.has(slab) ? 1 : 0) + (on_full.has(slab) ? 1 : 0)
    if (places > 1) bug(`${s.name}: slab 0x${slab.pfn.toString(16)} is on ${places} lists`)
    if (on_partial.has(slab) !== slab.node_partial) bug(`${s.name}: slab 0x${slab.pfn.toString(16)} SL_partial disagrees with the partial list`)
    if (cpu !== undefined) {
      // Remote frees to a frozen slab go to its own freelist and lower inuse.
      if (!slab.frozen || slab.inuse !== slab.objects - on_slab_list) bug(`${s.name}: cpu slab 0x${slab.pfn.toString(16)} not frozen with inuse == objects - remote frees`)
    } else {
      if (slab.inuse !== allocated) bug(`${s.name}: slab 0x${slab.pfn.toString(16)} inuse ${slab.inuse} but ${allocated} objects in use`)
      if ((on_partial.has(slab) || slab.cpu_partial >= 0) && !slab.freelist) bug(`${s.name}: partial slab 0x${slab.pfn.toString(16)} has no free object`)
      if (places === 0 && slab.freelist && !(slab.frozen && kmem_cache_debug(s))) bug(`${s.name}: slab 0x${slab.pfn.toString(16)} with free objects is on no list`)
    }
  }
  if (sheaf_seen !== in_sheaf.size) bug(`${s.name}: sheaves hold ${in_sheaf.size - sheaf_seen} objects of no slab of the cache`)
  if (n.nr_slabs !== slabs.length) bug(`${s.name}: nr_slabs ${n.nr_slabs} != ${slabs.length}`)
  if (n.total_objects !== total) bug(`${s.name}: total_objects ${n.total_objects} != ${total}`)
}

function check_classic_cache(b: ClassicSlab, c: SlabCacheClassic, slabs: ClassicSlabPage[]): void {
  const n = c.node
  const cached = new Map<ClassicSlabPage, number>()
  const in_ac = new Set<number>()
  for (const objp of b.cached_objects(c)) {
    if (in_ac.has(objp)) bug(`${c.name}: object ${b.env.mem.p(objp)} is in the array caches twice`)
    in_ac.add(objp)
    const slab = slabs.find((sl) => sl.obj_to_index(objp) >= 0)
    if (!slab) bug(`${c.name}: array cache holds ${b.env.mem.p(objp)}, not an object of the cache`)
    if (slab.state[slab.obj_to_index(objp)] !== OBJ_FREE) bug(`${c.name}: array cache holds allocated object ${b.env.mem.p(objp)}`)
    cached.set(slab, (cached.get(slab) ?? 0) + 1)
  }
  let free_objects = 0
  let free_slabs = 0
  for (const slab of slabs) {
    const seen = new Uint8Array(c.num)
    for (const i of b.freelist_indices(slab)) {
      if (i >= c.num) bug(`${c.name}: freelist index ${i} out of range`)
      if (seen[i]) bug(`${c.name}: object ${i} twice on the freelist of slab 0x${slab.pfn.toString(16)}`)
      if (slab.state[i] !== OBJ_FREE) bug(`${c.name}: allocated object ${i} on the freelist of slab 0x${slab.pfn.toString(16)}`)
      seen[i] = 1
    }
    let allocated = 0
    for (let i = 0; i < c.num; i++) if (slab.state[i] !== OBJ_FREE) allocated++
    const in_cache = cached.get(slab) ?? 0
    if (slab.active !== allocated + in_cache) bug(`${c.name}: slab 0x${slab.pfn.toString(16)} active ${slab.active} != ${allocated} allocated + ${in_cache} cached`)
    const want = slab.active === c.num ? 'full' : slab.active === 0 ? 'free' : 'partial'
    if (slab.list !== want) bug(`${c.name}: slab 0x${slab.pfn.toString(16)} on slabs_${slab.list} with active ${slab.active}`)
    free_objects += c.num - slab.active
    if (slab.active === 0) free_slabs++
  }
  if (n.total_slabs !== slabs.length) bug(`${c.name}: total_slabs ${n.total_slabs} != ${slabs.length}`)
  if (n.free_slabs !== free_slabs) bug(`${c.name}: free_slabs ${n.free_slabs} != ${free_slabs}`)
  if (n.free_objects !== free_objects) bug(`${c.name}: free_objects ${n.free_objects} != ${free_objects}`)
  if (n.slabs_full.size + n.slabs_partial.length + n.slabs_free.length !== slabs.length) bug(`${c.name}: slab lists do not hold every slab`)
}
