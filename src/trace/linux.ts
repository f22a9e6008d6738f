/**
 * `mmsim trace --policy linux`: a trace replayed by a real simulated process
 * in a memory cgroup, so the kernel's own reclaim (two LRU lists per group,
 * the workingset refault detection, swap) decides what stays resident.
 *
 * Page id k of the trace (ids are dense, in order of first reference) is
 * page k of one mapping of the process:
 *
 * - `file` (default): a MAP_SHARED mapping of a sparse file on a disk
 *   with read_ahead_kb 0, so that no readahead or read-around brings in
 *   pages the trace did not ask for (MADV_RANDOM would do that too, but
 *   Linux then ignores the mapping's Accessed bits in reclaim). A reference
 *   is a miss when it takes a major fault (the page was not in the page
 *   cache); a page's first reference always does.
 * - `anon`: a private anonymous mapping on a machine with a zram swap
 *   device and vm.page-cluster 0 (no swap readahead). A miss is a page's
 *   first reference (a new page; a first load maps the shared zero page, as
 *   on Linux) or a major fault (swapped in).
 *
 * Stores are stores (csv `W`, lackey `S`/`M`), so dirty pages are written
 * back or swapped out as the kernel does it.
 *
 * The cgroup's limit is `frames` pages plus the kernel memory the mapping
 * needs when every page of it is resident (its page tables and, for a file,
 * the page cache's index nodes), measured on a first machine that touches
 * every page once: memcg charges those to the group too, and without them
 * the group could never hold `frames` pages of data.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { O_CREAT, O_RDWR } from '../include/uapi/fcntl.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { NODE_STAT } from '../mm/vmstat.js'
import { PGACTIVATE, PGDEACTIVATE, PGSCAN_ANON, PGSCAN_FILE, PGSTEAL_ANON, PGSTEAL_FILE, PSWPIN, PSWPOUT } from '../mm/vm_event_item.js'
import { Machine } from '../machine.js'
import type { ReclaimPolicy } from '../mm/replacement.js'
import type { Process } from '../user/process.js'
import { TraceError } from './error.js'
import { read_ids, type TraceInput, type TraceShape } from './read.js'

export const LINUX_BACKINGS = ['file', 'anon'] as const
export type LinuxBacking = (typeof LINUX_BACKINGS)[number]

export interface LinuxTraceOptions {
  frames: number
  backing: LinuxBacking
  /** The machine's page-replacement policy (default 'linux': the kernel's own reclaim). */
  reclaim?: ReclaimPolicy
  /** The machine's seed (nothing in this replay draws from it today; kept for reproducible output). */
  seed?: number
  progress?: (refs: number) => void
}

/** What the kernel did during the replay (deltas of /proc/vmstat over the trace). */
export interface LinuxStats {
  backing: LinuxBacking
  /** The machine's page-replacement policy (MachineOptions.reclaim). */
  reclaim: ReclaimPolicy
  /** memory.limit_in_bytes / 4096: frames plus kmem_pages. */
  limit_pages: number
  /** Page tables and page-cache index nodes of the whole mapping, charged to the group. */
  kmem_pages: number
  major_faults: number
  minor_faults: number
  pgscan_file: number
  pgsteal_file: number
  pgscan_anon: number
  pgsteal_anon: number
  pgactivate: number
  pgdeactivate: number
  workingset_refault_file: number
  workingset_refault_anon: number
  workingset_activate_file: number
  workingset_activate_anon: number
  pswpin: number
  pswpout: number
}

export interface LinuxTraceResult {
  refs: number
  misses: number
  cold_misses: number
  distinct: number
  shape: TraceShape
  linux: LinuxStats
}

const MiB = 1 << 20
const WORKER = 'trace'
const BYTE = new Uint8Array([0x5a])

/** One machine and the worker's mapping of `pages` pages, in a memory cgroup with `limit_pages` (0: none). */
class Replay {
  readonly m: Machine
  readonly p: Process
  readonly base: number

  constructor(pages: number, backing: LinuxBacking, limit_pages: number, seed: number, reclaim: ReclaimPolicy = 'linux') {
    const bytes = pages * PAGE_SIZE
    // The group's pages plus room for the kernel and the rest of the machine, so that only the
    // group's limit (never the machine's watermarks) makes the kernel reclaim.
    const group = (limit_pages || pages) * PAGE_SIZE
    const ram = Math.ceil((64 * MiB + 2 * group) / MiB)
    const swap = backing === 'anon' ? { swap: { size: `${Math.ceil((bytes + 16 * MiB) / MiB)}M`, kind: 'zram' as const } } : {}
    this.m = new Machine({ arch: 'x86_64', ram: `${ram}M`, cpus: 1, seed, read_ahead_kb: 0, reclaim, ...swap })
    this.m.mm_env.swap.page_cluster = 0
    this.p = this.m.spawn({ name: WORKER })
    const g = this.m.cgroup_create(WORKER)
    g.attach(this.p)
    if (backing === 'file') {
      const fd = this.p.open('/var/tmp/trace.pages', O_RDWR | O_CREAT, 0o600)
      this.p.ftruncate(fd, bytes)
      this.base = this.p.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
      this.p.close(fd)
    } else {
      this.base = this.p.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    }
    if (limit_pages) g.set_limit(limit_pages * PAGE_SIZE)
  }

  /** The group's charged pages, less those only held in the per-CPU charge stock. */
  get usage_pages(): number {
    const g = this.m.memcg.root.children[0]
    return g.memory.usage - this.m.memcg.stocked(g)
  }
}

/**
 * The kernel memory the mapping needs with all `pages` pages resident: the
 * group's usage after a store to every page, less the pages themselves.
 */
function kmem_of_full_mapping(pages: number, backing: LinuxBacking, seed: number): number {
  const r = new Replay(pages, backing, 0, seed)
  for (let i = 0; i < pages; i++) r.p.store(r.base + i * PAGE_SIZE, BYTE)
  return Math.max(0, r.usage_pages - pages)
}

const delta = (a: Float64Array, b: Float64Array, i: number): number => b[i] - a[i]

export async function simulate_linux(input: TraceInput, o: LinuxTraceOptions): Promise<LinuxTraceResult> {
  // Pass 1: how many distinct pages the mapping must hold.
  const first = await read_ids(input, () => {})
  const pages = first.distinct
  if (pages === 0) throw new TraceError(`${input.name}: the trace has no references`)
  const seed = o.seed ?? 1
  const kmem = kmem_of_full_mapping(pages, o.backing, seed)
  const limit = o.frames + kmem
  const reclaim = o.reclaim ?? 'linux'
  const r = new Replay(pages, o.backing, limit, seed, reclaim)
  const { p, base, m } = r
  const mm = p.mm
  const ev0 = m.vmstat.vm_event_states.slice()
  const node0 = m.vmstat.node.slice()
  const maj0 = mm.maj_flt, min0 = mm.min_flt
  // Pass 2: the references, through the MMU.
  const seen = new Uint8Array(pages)
  let cold = 0
  const shape = await read_ids(input, (ids, n, writes) => {
    for (let i = 0; i < n; i++) {
      const id = ids[i]
      if (seen[id] === 0) {
        seen[id] = 1
        cold++
      }
      const a = base + id * PAGE_SIZE
      if (writes[i]) p.store(a, BYTE)
      else p.load(a, 1)
    }
  }, o.progress)
  if (!p.alive) throw new TraceError(`the simulated process was killed (${p.status ?? 'no status'}) with a limit of ${limit} pages: give it more --frames`)
  const ev = m.vmstat.vm_event_states, node = m.vmstat.node
  const major = mm.maj_flt - maj0
  const linux: LinuxStats = {
    backing: o.backing,
    reclaim,
    limit_pages: limit,
    kmem_pages: kmem,
    major_faults: major,
    minor_faults: mm.min_flt - min0,
    pgscan_file: delta(ev0, ev, PGSCAN_FILE),
    pgsteal_file: delta(ev0, ev, PGSTEAL_FILE),
    pgscan_anon: delta(ev0, ev, PGSCAN_ANON),
    pgsteal_anon: delta(ev0, ev, PGSTEAL_ANON),
    pgactivate: delta(ev0, ev, PGACTIVATE),
    pgdeactivate: delta(ev0, ev, PGDEACTIVATE),
    workingset_refault_file: delta(node0, node, NODE_STAT.workingset_refault_file),
    workingset_refault_anon: delta(node0, node, NODE_STAT.workingset_refault_anon),
    workingset_activate_file: delta(node0, node, NODE_STAT.workingset_activate_file),
    workingset_activate_anon: delta(node0, node, NODE_STAT.workingset_activate_anon),
    pswpin: delta(ev0, ev, PSWPIN),
    pswpout: delta(ev0, ev, PSWPOUT),
  }
  // A file page's first reference is itself a major fault (read in); an anonymous page's is a minor one.
  const misses = o.backing === 'file' ? major : cold + major
  return { refs: shape.refs, misses, cold_misses: cold, distinct: pages, shape, linux }
}

/**
 * The same replay, synchronous, for a short reference string of dense page
 * ids (the `replacement` scenario step): for each reference, whether it
 * missed (took a major fault: the page was not in the page cache; a page's
 * first reference always does), with `frames` pages for data in the group,
 * on a machine whose reclaim follows `reclaim`.
 */
export function linux_misses(ids: Int32Array, frames: number, seed = 1, reclaim: ReclaimPolicy = 'linux'): boolean[] {
  const pages = ids.reduce((a, b) => Math.max(a, b + 1), 0)
  const r = new Replay(pages, 'file', frames + kmem_of_full_mapping(pages, 'file', seed), seed, reclaim)
  const out: boolean[] = []
  for (const id of ids) {
    const before = r.p.mm.maj_flt
    r.p.load(r.base + id * PAGE_SIZE, 1)
    out.push(r.p.mm.maj_flt > before)
  }
  return out
}
