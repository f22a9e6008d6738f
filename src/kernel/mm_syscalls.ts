/**
 * Wiring of the address-space code (src/mm) into a machine: the MmEnv the mm
 * layer runs on (page allocator, physical memory, the shared zero page,
 * sysctls, commit accounting) and the MmEntry the user side calls
 * (system calls by their kernel names, user accesses, files, smaps).
 *
 * Invariants: one MmEnv per machine; the zero page is a reserved, never
 * written frame of the kernel image's .bss (empty_zero_page), so it is never
 * in the buddy allocator; vm_committed_as (meminfo's Committed_AS) is a
 * plain field of the env, which the machine reads.
 */
import { Rcu } from './rcu.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { offset_in_page } from '../include/wide.js'
import { calculate_totalreserve_pages, global_dirtyable_memory } from '../mm/page_writeback.js'
import type { Clock } from '../hw/clock.js'
import type { MemcgSubsys } from '../mm/memcontrol.js'
import { try_to_free_mem_cgroup_pages } from '../mm/vmscan.js'
import { generic_fadvise } from '../mm/fadvise.js'
import { ksys_sync, sync_filesystem } from '../fs/sync.js'
import { vfs_fallocate } from '../mm/fallocate.js'
import { memfd_fcntl } from '../mm/memfd.js'
import { sys_cachestat } from '../mm/filemap_cachestat.js'
import { get_nr_swap_pages } from '../mm/swapfile.js'
import type { ArchProfile } from '../arch/profile.js'
import type { PageArray } from '../mm/page.js'
import { PG_reserved } from '../mm/page.js'
import type { PhysMem } from '../hw/physmem.js'
import type { VmStat } from '../mm/vmstat.js'
import type { Tracer } from '../include/trace.js'
import { type AddressSpace, type AnonVma, type MmEnv, type MmStruct, default_sysctl } from '../mm/mm_types.js'
import { SwapState } from '../mm/swap_h.js'
import { KernelBug } from '../include/bug.js'
import { Kswapd } from '../mm/kswapd.js'
import type { Zone } from '../mm/mmzone.js'
import { FramePageTables } from '../mm/pgtable_mm.js'
import type { PgTables } from '../mm/pgtable.js'
import type { TlbFlush } from '../arch/x86/tlb.js'
import { translate_on } from './mmu_context.js'
import type { SlabAllocator, KmemCache } from '../mm/slab_common.js'
import { _install_special_mapping, type VmSpecialMapping } from '../mm/special_mapping.js'
import { EINVAL, ENOENT, EPERM } from '../include/errno.js'
import type { ThreadStacks } from './thread_stack.js'
import { GFP_KERNEL } from '../mm/gfp.js'
import { mm_alloc, dup_mm } from './sched_mm.js'
import { mmput } from './sched_mm.js'
import { sys_mmap, do_munmap, sys_brk } from '../mm/mmap.js'
import { do_mprotect_pkey } from '../mm/mprotect.js'
import { do_mremap } from '../mm/mremap.js'
import { do_madvise } from '../mm/madvise.js'
import { do_mlock, sys_mlock2, do_munlock, do_mlockall, do_munlockall } from '../mm/mlock.js'
import { do_msync } from '../mm/msync.js'
import { do_mincore } from '../mm/mincore.js'
import { alloc_swap_info_check, do_swapoff, do_swapon } from '../mm/swapfile_swapon.js'
import { do_mseal } from '../mm/mseal.js'
import { access_user, access_user_lru, fetch_user, copy_to_user, copy_from_user } from '../mm/uaccess.js'
import { smaps_walk } from '../mm/smaps.js'
import { PageAnon } from '../mm/rmap.js'
import { is_guard_pte_marker } from '../mm/memory.js'
import { file_read_to_user, file_write_from_user } from '../mm/file_rw.js'
import { validate_mm } from '../mm/vma.js'
import { FsNamespace } from '../fs/namei.js'
import { S_ISBLK } from '../fs/fs.js'
import type { MmEntry, UserFault } from './mm_entry.js'
import { SIGNAL_NUMBERS_BY_NAME, SI_CODES_BY_NAME } from '../include/signal_names.js'

/** What a machine gives the mm layer. */
export interface MmHost {
  readonly arch: ArchProfile
  readonly pages: PageArray
  readonly physmem: PhysMem
  readonly vmstat: VmStat
  readonly trace: Tracer
  readonly page_alloc: {
    alloc_pages(gfp: number, order: number): number
    __free_pages(pfn: number, order: number): void
    nr_free_pages(): number
    totalram_pages(): number
    readonly zones: readonly Zone[]
    zone_watermark_ok(z: Zone, order: number, mark: number, highest_zoneidx: number, alloc_flags: number): boolean
    /** Kernel: wakeup_kswapd(), wired here to the node's kswapd. */
    wakeup_kswapd: (zone: Zone, gfp: number, order: number, highest_zoneidx: number) => void
    /** Kernel: get_nr_swap_pages(), wired here to the swap areas. */
    nr_swap_pages: () => number
  }
  /** The machine's page-table frames (x86 entry format). */
  readonly pgtables: PgTables
  /** PFN of empty_zero_page (a reserved frame in the kernel image's .bss). */
  readonly zero_pfn: number
  /** The machine's clock. */
  readonly clock: Clock
  /** The kernel log (pr_warn_once() messages of the mm layer, swapon's lines). */
  readonly printk: { pr_warn(text: string): void; pr_info(text: string): void; pr_err(text: string): void }
  /** The memory controller (charges, LRU lists). */
  readonly memcg: MemcgSubsys
  readonly cpus: number
  /** The MMUs: the CPU executing now (percpu_swap_cluster is per CPU). */
  readonly mmu: { readonly this_cpu: number }
}

/**
 * Kernel objects of processes and address spaces from their slab caches
 * (mm_cachep, vm_area_cachep, anon_vma_cachep, anon_vma_chain_cachep,
 * task_struct_cachep): kmem_cache_alloc()/kmem_cache_free() of each object,
 * with the objects in use counted per cache (for tests and the demo).
 */
export class KernelObjects {
  /**
   * Per cache name: the cache, the objects allocated through this table and
   * not freed (the slab allocator itself knows each object by its address, a
   * double free is its BUG to catch, so a count is all the bookkeeping
   * needed: O(1) both ways), and the call-site names of vm_area_alloc()-style
   * calls, built once. One Map lookup per object allocated or freed.
   */
  private readonly by_name = new Map<string, { cache: KmemCache | null; live: number; alloc_site: string; free_site: string }>()
  constructor(readonly slab: SlabAllocator) {}

  private entry(name: string): { cache: KmemCache | null; live: number; alloc_site: string; free_site: string } {
    let e = this.by_name.get(name)
    if (e === undefined) {
      e = { cache: this.slab.find_cache(name), live: 0, alloc_site: `${name}_alloc`, free_site: `${name}_free` }
      this.by_name.set(name, e)
    }
    return e
  }
  /** Kernel: kmem_cache_alloc(<name>_cachep, gfp (GFP_KERNEL)): the object's address, 0 when none. `caller` defaults to <name>_alloc. */
  alloc(name: string, caller?: string, gfp: number = GFP_KERNEL): number {
    const e = this.entry(name)
    if (!e.cache) return 0
    const x = this.slab.kmem_cache_alloc(e.cache, gfp, caller ?? e.alloc_site)
    if (x) e.live++
    return x
  }
  /** Kernel: kmem_cache_free() of the object at `addr` (0: nothing, like kmem_cache_free(s, NULL)). `caller` defaults to <name>_free. */
  free(name: string, caller: string | undefined, addr: number): void {
    const e = this.entry(name)
    if (!e.cache || !addr) return
    e.live--
    this.slab.kmem_cache_free(e.cache, addr, caller ?? e.free_site)
  }
  /** Objects currently allocated through this table, by cache. */
  count(name: string): number {
    return this.by_name.get(name)?.live ?? 0
  }
}

/**
 * The MmEnv of a machine (one per machine): its allocators, its MMU's
 * translation and TLB flushes, its log. An object literal of data
 * properties only (an accessor pair in it made V8 build the whole literal in
 * dictionary mode, and every env.physmem and env.mmu_translate of a user
 * access a hash lookup).
 */

export function make_mm_env(h: MmHost, objs: KernelObjects, tlb: TlbFlush): MmEnv {
  let id = 0
  h.pages.set(h.zero_pfn, PG_reserved)
  if (h.pages._refcount[h.zero_pfn] < 1) h.pages._refcount[h.zero_pfn] = 1
  const warned = new Set<string>()
  // Callbacks run on the CPU that queued them: a freed object goes back to that CPU's memcg object stock.
  const rcu = new Rcu(h.clock, (cpu, fn) => {
    const was = h.memcg.cpu
    h.memcg.cpu = cpu
    fn()
    h.memcg.cpu = was
  })
  // vm_area_alloc() / anon_vma_alloc() / mm_alloc(): the objects cost slab memory; each keeps its address.
  // kswapd reads the zones and the allocator's watermark test.
  const pa = h.page_alloc
  const kswapd = new Kswapd(
    {
      zones: pa.zones,
      zone_watermark_ok: (z, order, mark, idx, flags) => pa.zone_watermark_ok(z, order, mark, idx, flags),
      nr_free_pages: () => pa.nr_free_pages(),
      total_high_wmark: () => pa.zones.reduce((n, z) => n + z.high_wmark_pages(), 0),
    },
    h.clock,
  )
  const env: MmEnv = {
    arch: h.arch,
    pages: h.pages,
    physmem: h.physmem,
    vmstat: h.vmstat,
    trace: h.trace,
    alloc_pages: (gfp, order) => h.page_alloc.alloc_pages(gfp, order),
    // The mm layer calls this once the last reference is gone (folio_put() -> free_the_page()):
    // the allocator's __free_pages() drops a reference itself, so hand it the one it expects.
    __free_pages: (pfn, order) => {
      h.pages._refcount[pfn] = 1
      h.page_alloc.__free_pages(pfn, order)
    },
    // Page tables in real frames (VmPTE, PageTables; the MMU walks them).
    pgd_alloc: () => FramePageTables.create(h.pgtables),
    zero_pfn: h.zero_pfn,
    sysctl: default_sysctl(),
    totalram_pages: () => h.page_alloc.totalram_pages(),
    available_pages: () => h.page_alloc.nr_free_pages(),
    global_dirtyable_memory: () => global_dirtyable_memory(pa.zones, h.arch.zones.ZONE_HIGHMEM, h.vmstat, calculate_totalreserve_pages(pa.zones)),
    // A data property (every mmap and munmap adds to it); the machine reads it for meminfo.
    vm_committed_as: 0,
    next_id: () => ++id,
    anon_vmas: new Map<number, AnonVma>(),
    mappings: new Map<number, AddressSpace>(),
    driver_hooks: {},
    memcg: h.memcg,
    kswapd,
    swap: new SwapState(h.cpus, () => h.mmu.this_cpu, (level, text) => (level <= 3 ? h.printk.pr_err(text) : level === 4 ? h.printk.pr_warn(text) : h.printk.pr_info(text))),
    kmem_alloc: (cache, gfp) => objs.alloc(cache, undefined, gfp),
    kmem_free: (cache, obj) => objs.free(cache, undefined, obj),
    call_rcu: (fn) => rcu.call_rcu(h.memcg.cpu, fn),
    flush_tlb_range: (mm, start, end, freed_tables) => tlb.flush_tlb_mm_range(mm, start, end, freed_tables === true),
    flush_tlb_mm: (mm) => tlb.flush_tlb_mm(mm),
    mmu_translate: translate_on(tlb),
    clock: h.clock,
    pr_warn: (msg) => h.printk.pr_warn(msg),
    pr_warn_once: (key, msg) => {
      if (warned.has(key)) return
      warned.add(key)
      h.printk.pr_warn(msg)
    },
  }
  kswapd.attach(env)
  pa.wakeup_kswapd = (zone, gfp, order, idx) => kswapd.wakeup(zone, gfp, order, idx)
  pa.nr_swap_pages = () => get_nr_swap_pages(env)
  env.memcg.reclaim = (memcg, nr_pages, gfp, may_swap) => try_to_free_mem_cgroup_pages(env, memcg, nr_pages, gfp, may_swap)
  // mem_cgroup_get_nr_swap_pages(): v1 has no per-group swap limit, so the free slots of the machine.
  env.memcg.get_nr_swap_pages = () => get_nr_swap_pages(env)
  return env
}

/** The result of every store that did not fault (a store reads no bytes; AccessResult is read-only). */
const STORE_OK: { readonly ok: true; readonly data: Uint8Array } = Object.freeze({ ok: true, data: new Uint8Array(0) })

/** A user access that faulted, for the system-call table (out of line: see uaccess.ts access_faulted()). */
function fault_access(data: Uint8Array, f: { signal: string; si_code: string; addr: number }): { ok: false; data: Uint8Array; fault: UserFault } {
  return { ok: false, data, fault: user_fault(f) }
}

function user_fault(f: { signal: string; si_code: string; addr: number }): UserFault {
  return { signal: SIGNAL_NUMBERS_BY_NAME[f.signal] ?? 11, si_code: SI_CODES_BY_NAME[f.si_code] ?? 0, addr: f.addr }
}

/** The MmEntry of a machine: the src/mm entry points, the file namespace. */
export function make_mm_entry(
  arch: ArchProfile,
  env: MmEnv,
  fs: FsNamespace,
  objs: KernelObjects,
  specials: ReadonlyMap<string, VmSpecialMapping>,
  stacks: ThreadStacks,
): MmEntry & { fs: FsNamespace } {
  return {
    memcg: env.memcg,
    alloc_thread_stack: () => stacks.alloc_thread_stack_node(),
    free_thread_stack: (stack) => stacks.free_thread_stack(stack),
    arch,
    fs,
    _install_special_mapping: (mm, addr, len, vm_flags, name) => {
      const sm = specials.get(name)
      return sm ? _install_special_mapping(mm, addr, len, vm_flags, sm) : -EINVAL
    },
    alloc_task_struct: () => objs.alloc('task_struct', 'dup_task_struct'),
    free_task_struct: (addr) => objs.free('task_struct', 'free_task', addr),
    alloc_cred: () => objs.alloc('cred_jar', 'prepare_creds'),
    free_cred: (addr) => objs.free('cred_jar', 'put_cred_rcu', addr),
    kmem_read: (addr, len, out) => {
      const pa = objs.slab.pa
      const pfn = pa.virt_to_pfn(addr)
      return pa.physmem.read(pfn * PAGE_SIZE + offset_in_page(addr), len, out)
    },
    kmem_write: (addr, data) => {
      const pa = objs.slab.pa
      const pfn = pa.virt_to_pfn(addr)
      pa.physmem.write(pfn * PAGE_SIZE + offset_in_page(addr), data)
    },
    mm_alloc: () => mm_alloc(env, arch.TASK_SIZE),
    totalram_pages: () => env.totalram_pages(),
    dup_mm,
    mmput,
    ksys_mmap_pgoff: (mm, addr, len, prot, flags, file, off) => sys_mmap(mm, addr, len, prot, flags, file ? 0 : -1, off, () => file),
    do_munmap,
    do_mprotect_pkey,
    do_mremap,
    do_madvise,
    do_mlock,
    sys_mlock2,
    do_munlock,
    do_mlockall,
    do_munlockall,
    do_msync,
    do_mincore,
    sys_swapon: (path, swap_flags) => {
      // alloc_swap_info(), then file_open_name() and claim_swapfile(): a block device's node, else EINVAL.
      const full = alloc_swap_info_check(env)
      if (full) return full
      const inode = fs.lookup(path)
      if (!inode) return -ENOENT
      const bdev = S_ISBLK(inode.i_mode) ? (env.swap.bdevs.get(inode.i_rdev) ?? null) : null
      return do_swapon(env, path, bdev, swap_flags)
    },
    sys_swapoff: (path, cap) => {
      if (!cap) return -EPERM
      if (!fs.lookup(path)) return -ENOENT
      return do_swapoff(env, path, cap)
    },
    do_mseal,
    sys_brk,
    // The machine's replacement policy is fixed at boot: an `lru` machine's accesses each touch their page.
    access_user:
      env.memcg.replacement?.policy !== 'lru'
        ? (mm, addr, len, write, data) => {
            const r = access_user(mm, addr, len, write, data)
            if (r.fault) return fault_access(r.data, r.fault)
            return write ? STORE_OK : { ok: true, data: r.data }
          }
        : (mm, addr, len, write, data) => {
            const r = access_user_lru(mm, addr, len, write, data)
            if (r.fault) return fault_access(r.data, r.fault)
            return write ? STORE_OK : { ok: true, data: r.data }
          },
    fetch_user(mm, addr, len) {
      const r = fetch_user(mm, addr, len)
      return r.fault ? { ok: false, data: r.data, fault: user_fault(r.fault) } : { ok: true, data: r.data }
    },
    copy_to_user,
    copy_from_user,
    smaps_walk: (mm, vma, mss) => smaps_walk(mm, vma, mss),
    pte_of: (mm, addr) => mm.pgd.get(Math.floor(addr / 4096)),
    PageAnon: (pfn) => PageAnon(env, pfn),
    is_guard_pte: is_guard_pte_marker,
    filp_open: (path, flags, mode, cred) => fs.filp_open(path, flags, mode, cred),
    mknod: (path, mode, dev, cred) => fs.mknod(path, mode, dev, cred),
    kernel_read: (file, off, len, into) => fs.kernel_read(file, off, len, into),
    fadvise: (file, offset, len, advice) => generic_fadvise(env, file, offset, len, advice),
    kernel_write: (file, off, data, throttle) => fs.kernel_write(file, off, data, throttle),
    kernel_write_shared_pages: (file, index, nr, page) => fs.kernel_write_shared_pages(file, index, nr, page),
    file_read_to_user,
    file_write_from_user,
    do_truncate: (file, size) => fs.do_truncate(file, size),
    statfs: (path) => fs.statfs(path),
    sync: () => ksys_sync(env, fs.mounts.map((m) => m.mnt_sb)),
    syncfs: (file) => sync_filesystem(env, file.f_inode.i_sb),
    cachestat: (file, off, len, flags) => sys_cachestat(env, file.f_mapping, off, len, flags),
    memfd_file_setup: (name, mode) => fs.memfd_file_setup(name, mode),
    memfd_fcntl: (file, cmd, arg, i_mode) => memfd_fcntl(env.pages, file, cmd, arg, i_mode),
    fallocate: (file, mode, offset, len, regular) => vfs_fallocate(env, file, mode, offset, len, regular),
  }
}

/**
 * The machine's special mappings (arch/x86/entry/vdso): the vDSO image's
 * pages live in the kernel's .rodata, the vvar data page in its .data;
 * [vvar_vclock] provides no page (no pvclock/hvclock clocksource), so
 * touching it is SIGBUS as on a machine without one.
 */
export function vdso_special_mappings(env: MmEnv, rodata_pfn: number, data_pfn: number): Map<string, VmSpecialMapping> {
  // The image begins with an ELF header, as vdso64.so does.
  env.physmem.frame(rodata_pfn).set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
  return new Map<string, VmSpecialMapping>([
    ['[vdso]', { name: '[vdso]', pages: [rodata_pfn, rodata_pfn + 1] }],
    ['[vvar]', { name: '[vvar]', pages: [data_pfn] }],
    ['[vvar_vclock]', { name: '[vvar_vclock]', pages: [] }],
  ])
}

/** DEBUG_VM for the address spaces of a machine's processes (validate_mm on each live mm). */
export function check_mms(mms: Iterable<MmStruct>): void {
  for (const mm of mms) validate_mm(mm)
}

/**
 * The objects of the address spaces against their caches (what slub's
 * object counts and kmemleak would show): every vm_area_struct,
 * anon_vma_chain and anon_vma allocated through `objs` belongs to a live
 * mm's VMA, chain or anon_vma, and each of those has its object. A failed
 * allocation that an error path did not unwind leaves one too many or too few.
 */
export function check_mm_objects(objs: KernelObjects, env: MmEnv, mms: Iterable<MmStruct>): void {
  let vmas = 0
  let chains = 0
  const seen = new Set<MmStruct>()
  for (const mm of mms) {
    if (seen.has(mm)) continue
    seen.add(mm)
    for (const v of mm.mm_mt) {
      vmas++
      chains += v.anon_vma_chain.length
    }
  }
  const n_vma = objs.count('vm_area_struct')
  if (n_vma !== vmas) throw new KernelBug(`mm objects: ${n_vma} vm_area_struct objects allocated for ${vmas} VMAs`)
  const n_avc = objs.count('anon_vma_chain')
  if (n_avc !== chains) throw new KernelBug(`mm objects: ${n_avc} anon_vma_chain objects allocated for ${chains} chains`)
  const n_av = objs.count('anon_vma')
  if (n_av !== env.anon_vmas.size) throw new KernelBug(`mm objects: ${n_av} anon_vma objects allocated for ${env.anon_vmas.size} anon_vmas`)
}
