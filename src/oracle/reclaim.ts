/**
 * Replay of a reclaim-oracle scenario (the reclaim oracle's FORMAT.md: a
 * scenario with a "cgroup" key): the same worker, cgroup and sync points
 * as roracle sets up, on a simulated machine, and the result printed as
 * roracle prints it.
 *
 * The worker runs pinned to CPU 1 in a fresh memory cgroup. Before each
 * page access (sync "page") or each op (sync "op") it drains its LRU
 * batches and flushes its TLB (roracle's 200 zero-page faults and their
 * MADV_DONTNEED do both), and the statistics are flushed (the controller's
 * read of memory.stat). Residency is read before every access, from the
 * page cache (a page, a shadow entry, or nothing) or the page table.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { errno_name } from '../include/uapi/errno.js'
import { O_CREAT, O_EXCL, O_RDWR, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE, POSIX_FADV_NORMAL, POSIX_FADV_RANDOM, POSIX_FADV_SEQUENTIAL, POSIX_FADV_WILLNEED } from '../include/uapi/fcntl.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MADV_COLD, MADV_DONTNEED, MADV_NORMAL, MADV_PAGEOUT, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, PROT_NONE, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { pte_present } from '../arch/pte.js'
import { is_pte_marker } from '../mm/swapops.js'
import { type MemCgroup, type MemcgSubsys, memcg1_stat_names, MEMCG_PGPGIN, MEMCG_PGPGOUT } from '../mm/memcontrol.js'
import { mem_cgroup_resize_max } from '../mm/memcontrol_v1.js'
import { LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE } from '../mm/lruvec.js'
import { PG_dirty, PG_writeback } from '../mm/page.js'
import { PGSCAN_ANON, PGSCAN_FILE, PGSTEAL_ANON, PGSTEAL_FILE, PSWPIN, PSWPOUT } from '../mm/vm_event_item.js'
import type { VmStat } from '../mm/vmstat.js'
import type { MmStruct } from '../mm/mm_types.js'
import type { Process } from '../user/process.js'
import { ScenarioError } from './json.js'

/** What the replay needs of the machine. */
export interface ReclaimHost {
  spawn(name: string): Process
  readonly memcg: MemcgSubsys
  readonly vmstat: VmStat
  readonly kernel_release: string
  /** Kernel: flush_tlb_mm() of the worker's address space on every CPU. */
  flush_tlb_mm(mm: MmStruct): void
  /** Time passes on the machine (ns), and the timers due by then run (RCU callbacks among them). */
  elapse(ns: number): void
  /** Swap configured on the machine: "none" or "zram". */
  readonly swap: 'none' | 'zram'
}

const PG = PAGE_SIZE
const ZERO_FAULTS = 200
/**
 * What a sync point costs on the oracle's machine, about 0.3 ms (mbind()'s
 * lru_add_drain_all() waiting for a work item on each CPU, the 200 faults,
 * the futex hand-over to the controller, its memory.stat read, and back).
 * It is most of the oracle's run time, so it is the time in which RCU grace
 * periods end (freed xarray nodes stay charged until then): 0.2 ms and 0.3
 * ms both give 171 of 173 recorded scenarios, 0 gives 168.
 */
const SYNC_NS = 300_000
/** Pages of the root group's active page cache (32 MiB). */
const BACKGROUND_PAGES = 8192
const FADVICE: Record<string, number> = {
  normal: POSIX_FADV_NORMAL,
  random: POSIX_FADV_RANDOM,
  sequential: POSIX_FADV_SEQUENTIAL,
  willneed: POSIX_FADV_WILLNEED,
  dontneed: POSIX_FADV_DONTNEED,
  noreuse: POSIX_FADV_NOREUSE,
}
const MADVICE: Record<string, number> = {
  normal: MADV_NORMAL,
  random: MADV_RANDOM,
  sequential: MADV_SEQUENTIAL,
  willneed: MADV_WILLNEED,
  dontneed: MADV_DONTNEED,
  cold: MADV_COLD,
  pageout: MADV_PAGEOUT,
}

interface RFile {
  name: string
  pages: number
  seed: number
  fd: number
  map: number
}

interface ROp {
  op: 'read' | 'touch' | 'write' | 'fadvise' | 'madvise' | 'limit' | 'dump'
  file: number // index into files, -1 for anon
  first: number
  end: number
  down: boolean
  advice: number
  pages: number
}

export interface ReclaimScenario {
  name: string | null
  fs: 'nora' | 'disk'
  limit_pages: number
  swappiness: number
  swap: 'none' | 'zram'
  files: RFile[]
  anon_pages: number
  sync_page: boolean
  ops: ROp[]
}

/** Does this scenario text belong to the reclaim oracle (it has a "cgroup" key)? */
export function is_reclaim_scenario(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown
    return typeof v === 'object' && v !== null && !Array.isArray(v) && 'cgroup' in v
  } catch {
    return false
  }
}

function int(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new ScenarioError(`${what} must be an integer in ${lo}..${hi}`)
  return v
}

/** Parse and check a scenario as roracle does before it creates anything. */
export function parse_reclaim_scenario(text: string): ReclaimScenario {
  let root: Record<string, unknown>
  try {
    root = JSON.parse(text) as Record<string, unknown>
  } catch (e) {
    throw new ScenarioError(`not JSON: ${(e as Error).message}`)
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new ScenarioError('scenario must be an object')
  const cg = root.cgroup as Record<string, unknown> | undefined
  if (typeof cg !== 'object' || cg === null) throw new ScenarioError('"cgroup" must be an object')
  const fs = root.fs ?? 'nora'
  if (fs !== 'nora' && fs !== 'disk') throw new ScenarioError('fs must be "nora" or "disk"')
  const swap = root.swap ?? 'none'
  if (swap !== 'none' && swap !== 'zram') throw new ScenarioError('swap must be "none" or "zram"')
  const sync = root.sync ?? 'page'
  if (sync !== 'page' && sync !== 'op') throw new ScenarioError('sync must be "page" or "op"')
  const files: RFile[] = []
  const fl = root.files ?? []
  if (!Array.isArray(fl) || fl.length > 8) throw new ScenarioError('files must be a list of at most 8')
  for (const f of fl as Array<Record<string, unknown>>) {
    if (typeof f.name !== 'string' || !/^[A-Za-z0-9_.-]{1,60}$/.test(f.name)) throw new ScenarioError('file: bad name')
    if (files.some((g) => g.name === f.name)) throw new ScenarioError(`file ${f.name}: duplicate name`)
    files.push({ name: f.name, pages: int(f.pages, `file ${f.name}: pages`, 1, 262144), seed: int(f.seed ?? 0, 'seed', 0, 2 ** 31), fd: -1, map: 0 })
  }
  const anon_pages = int(root.anon_pages ?? 0, 'anon_pages', 0, 262144)
  if (!Array.isArray(root.ops)) throw new ScenarioError('scenario has no "ops" list')
  const ops = (root.ops as Array<Record<string, unknown>>).map((o, i) => parse_op(o, i, files, anon_pages))
  return {
    name: typeof root.name === 'string' ? root.name : null,
    fs,
    limit_pages: int(cg.limit_pages, 'cgroup.limit_pages', 1, 2 ** 40),
    swappiness: int(cg.swappiness ?? 60, 'cgroup.swappiness', 0, 200),
    swap,
    files,
    anon_pages,
    sync_page: sync === 'page',
    ops,
  }
}

function parse_op(o: Record<string, unknown>, i: number, files: RFile[], anon_pages: number): ROp {
  const at = `op ${i}`
  if (typeof o !== 'object' || o === null || typeof o.op !== 'string') throw new ScenarioError(`${at}: not an object with "op"`)
  const op = o.op as ROp['op']
  const r: ROp = { op, file: -1, first: 0, end: 0, down: o.order === 'down', advice: 0, pages: 0 }
  if (op === 'limit') {
    r.pages = int(o.pages, `${at}: pages`, 1, 2 ** 40)
    return r
  }
  if (op === 'dump') return r
  if (!['read', 'touch', 'write', 'fadvise', 'madvise'].includes(op)) throw new ScenarioError(`${at}: unknown op "${op}"`)
  const anon = o.anon === true
  let np: number
  if (anon) {
    if (op === 'read' || op === 'fadvise') throw new ScenarioError(`${at}: ${op} needs a file`)
    if (!anon_pages) throw new ScenarioError(`${at}: no anonymous region`)
    np = anon_pages
  } else {
    r.file = files.findIndex((f) => f.name === o.file)
    if (r.file < 0) throw new ScenarioError(`${at}: no file "${String(o.file)}"`)
    np = files[r.file].pages
  }
  if (o.pages !== undefined) {
    const p = o.pages
    if (!Array.isArray(p) || p.length !== 2) throw new ScenarioError(`${at}: pages must be [first, end)`)
    r.first = int(p[0], `${at}: first page`, 0, np)
    r.end = int(p[1], `${at}: end page`, r.first, np)
  } else r.end = np
  if (op === 'fadvise' || op === 'madvise') {
    const table = op === 'fadvise' ? FADVICE : MADVICE
    if (typeof o.advice !== 'string' || !(o.advice in table)) throw new ScenarioError(`${at}: unknown advice "${String(o.advice)}"`)
    r.advice = table[o.advice]
  }
  return r
}

/** Run a parsed scenario on `host`; the result text as roracle prints it (no final newline). */
export function run_reclaim_scenario(s: ReclaimScenario, host: ReclaimHost): string {
  if (s.swap !== host.swap) throw new ScenarioError(`the scenario needs swap "${s.swap}", the machine has "${host.swap}"`)
  const ss = host.memcg
  const vm = host.vmstat
  const p = host.spawn('roracle')
  // The controller (CPU 0) makes the files; the worker (CPU 1) then sets up its mappings. What
  // the files' set-up frees after an RCU grace period goes back to CPU 0's stocks, not the worker's.
  p.run_on(0)
  // mmsim's one disk filesystem; its read_ahead_kb is the machine's (0 for "nora").
  const dir = '/var/tmp/ro.000001'
  // The oracle's machine is a busy one: its root group holds a large active page cache, the
  // workingset that refaults of pages evicted on no group's behalf (MADV_PAGEOUT: their shadow
  // is the root's) are measured against. A file read twice stands in for it: a sparse one, so
  // its pages are clean from the start, as a long-running machine's cache mostly is, and the
  // replay does not write and write back 32 MiB first.
  const bg = p.sys_open(`${dir}/.page-cache`, O_RDWR | O_CREAT | O_EXCL, 0o600)
  if (bg < 0) throw new ScenarioError(`create the background file: ${errno_name(-bg)}`)
  p.ftruncate(bg, BACKGROUND_PAGES * PG)
  // The whole file read twice: every page is marked accessed twice, so it is active. The bytes
  // are not looked at: one buffer takes every read (a fresh 1 MiB per read was most of the
  // replay's host time and garbage).
  const into = new Uint8Array(256 * PG)
  for (let pass = 0; pass < 2; pass++) for (let i = 0; i < BACKGROUND_PAGES; i += 256) p.sys_pread(bg, 256 * PG, i * PG, into)
  p.sys_close(bg)
  // The controller's set-up: each file written one page per pwrite, synced, dropped from the cache.
  for (const f of s.files) {
    const path = `${dir}/${f.name}`
    const fd = p.sys_open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
    if (fd < 0) throw new ScenarioError(`create ${path}: ${errno_name(-fd)}`)
    // The oracle's fill: byte i of the file is (i * 131 + seed * 17) & 0xff. PG * 131 is a
    // multiple of 256, so every page holds the same bytes: one page, written f.pages times.
    const s17 = (f.seed * 17) & 0xff
    const buf = new Uint8Array(PG)
    for (let k = 0; k < PG; k++) buf[k] = (k * 131 + s17) & 0xff
    for (let pg = 0; pg < f.pages; pg++) {
      if (p.sys_pwrite(fd, buf, pg * PG) !== PG) throw new ScenarioError(`write ${path}`)
    }
    p.sys_fsync(fd)
    p.sys_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    f.fd = fd
  }
  // The worker's set-up (w_setup): the sync pages, then each mapping with its page tables.
  p.run_on(1)
  const drain_page = p.mmap(0, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS)
  const zero = p.mmap(0, ZERO_FAULTS * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
  p.load(zero, 1)
  p.madvise(zero, ZERO_FAULTS * PG, MADV_DONTNEED)
  for (const f of s.files) {
    f.map = p.mmap(0, f.pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0)
    p.madvise(f.map, f.pages * PG, MADV_RANDOM)
    for (let k = 0; k < f.pages; k += 512) p.load(f.map + k * PG, 1)
    p.madvise(f.map, f.pages * PG, MADV_DONTNEED)
    p.madvise(f.map, f.pages * PG, MADV_NORMAL)
    p.sys_fadvise(f.fd, 0, 0, POSIX_FADV_DONTNEED)
  }
  let anon = 0
  if (s.anon_pages) {
    anon = p.mmap(0, s.anon_pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    for (let k = 0; k < s.anon_pages; k += 512) p.store(anon + k * PG, [1])
    p.madvise(anon, s.anon_pages * PG, MADV_DONTNEED)
  }
  void drain_page

  const page_state = (f: RFile, k: number): string => {
    const mapping = p.file_of(f.fd)!.f_mapping
    const pfn = mapping.i_pages.get(k)
    if (pfn !== undefined) {
      const pages = p.mm.env.pages
      return pages.test(pfn, PG_writeback) ? 'W' : pages.test(pfn, PG_dirty) ? 'D' : 'R'
    }
    return mapping.i_shadows.has(k) ? 'e' : '.'
  }
  const anon_state = (k: number): string => {
    const pte = p.mm.pgd.get(anon / PG + k)
    if (pte_present(pte)) return 'P'
    return pte !== 0 && !is_pte_marker(pte) ? 'S' : '.'
  }
  const cached_pages = (): number => {
    let n = 0
    for (const f of s.files) for (let k = 0; k < f.pages; k++) if ('RDW'.includes(page_state(f, k))) n++
    return n
  }
  for (const f of s.files) for (let k = 0; k < f.pages; k++) if ('RDW'.includes(page_state(f, k))) throw new ScenarioError(`file ${f.name} page ${k} cached at start`)

  // The worker enters its cgroup.
  const g = ss.create(`roracle-${p.pid}`)
  g.swappiness = s.swappiness
  if (mem_cgroup_resize_max(ss, g, s.limit_pages) < 0) throw new ScenarioError('cannot set the limit')
  p.mm.memcg = g
  ss.flush_stats()
  const VM_KEYS: Array<[string, number]> = [['pgscan_file', PGSCAN_FILE], ['pgsteal_file', PGSTEAL_FILE], ['pgscan_anon', PGSCAN_ANON], ['pgsteal_anon', PGSTEAL_ANON], ['pswpin', PSWPIN], ['pswpout', PSWPOUT]]
  const vm0 = VM_KEYS.map(([, i]) => vm.vm_event_states[i])

  // A sync point (w_sync): LRU batches drained (nothing batches here); 200 zero-page read faults
  // and their MADV_DONTNEED, whose only effect on what the oracle prints is the whole-mm TLB
  // flush (more than tlb_single_page_flush_ceiling pages): later touches set Accessed bits again.
  // The flush is done directly; the faults would only count PGFAULT events. Then the
  // controller's statistics flush.
  const w_sync = (): void => {
    host.flush_tlb_mm(p.mm)
    host.elapse(SYNC_NS)
  }

  const results: string[] = []
  const dumps: string[] = []
  let file_in = 0
  let file_dropped = 0
  const do_dump = (at: number): void => {
    ss.flush_stats()
    let d = `\n  {"at":${at},"cache":{${s.files.map((f) => `"${f.name}":"${Array.from({ length: f.pages }, (_, k) => page_state(f, k)).join('')}"`).join(',')}}`
    if (s.anon_pages) d += `,"anon":"${Array.from({ length: s.anon_pages }, (_, k) => anon_state(k)).join('')}"`
    d += `,\n   "memcg":{${memcg_keys(g)}},\n   "charge":{"usage":${g.memory.usage},"kmem":${g.kmem.usage},"limit":${g.memory.max}}`
    d += `,\n   "vmstat":{${VM_KEYS.map(([k, i], j) => `"${k}":${vm.vm_event_states[i] - vm0[j]}`).join(',')}}}`
    dumps.push(d)
  }

  s.ops.forEach((op, idx) => {
    const cached_before = op.op === 'fadvise' || op.op === 'madvise' ? cached_pages() : -1
    const miss = new MissList()
    let acc = false
    let swapin = 0
    let ret = 0
    if (op.op === 'read' || op.op === 'touch' || op.op === 'write') {
      acc = true
      if (!s.sync_page) {
        w_sync()
        ss.flush_stats()
      }
      for (let k = 0; k < op.end - op.first; k++) {
        const pg = op.down ? op.end - 1 - k : op.first + k
        if (s.sync_page) {
          w_sync()
          ss.flush_stats()
        }
        const st = op.file >= 0 ? page_state(s.files[op.file], pg) : anon_state(pg)
        if (!'RDWP'.includes(st)) {
          miss.note(pg)
          if (st === 'S') swapin++
          if (op.file >= 0) file_in++
        }
        if (op.op === 'read') {
          const r = p.sys_pread(s.files[op.file].fd, PG, pg * PG)
          if (typeof r === 'number') ret = -r
        } else {
          const addr = (op.file >= 0 ? s.files[op.file].map : anon) + pg * PG
          if (op.op === 'touch') p.load(addr, 1)
          else p.store(addr, [(pg | 1) & 0xff])
        }
      }
    } else if (op.op === 'fadvise') {
      const f = s.files[op.file]
      w_sync()
      ret = -p.sys_fadvise(f.fd, op.first * PG, (op.end - op.first) * PG, op.advice)
    } else if (op.op === 'madvise') {
      const base = op.file >= 0 ? s.files[op.file].map : anon
      w_sync()
      ret = -p.sys_madvise(base + op.first * PG, (op.end - op.first) * PG, op.advice)
    } else if (op.op === 'limit') {
      w_sync()
      const u0 = g.memory.usage
      const scanned = (): number => vm.vm_event_states[PGSCAN_FILE] + vm.vm_event_states[PGSCAN_ANON]
      const scan0 = scanned()
      ret = -mem_cgroup_resize_max(ss, g, op.pages)
      // roracle makes sure one reclaim pass runs, as a write from another CPU always does.
      if (op.pages < u0 && !ret && scanned() === scan0) {
        mem_cgroup_resize_max(ss, g, g.memory.usage - 1)
        ret = -mem_cgroup_resize_max(ss, g, op.pages)
      }
    } else if (op.op === 'dump') {
      w_sync()
      do_dump(idx)
    }
    // The op's end: a sync point, but the controller reads no statistics there (no flush).
    w_sync()
    if (cached_before >= 0) {
      const now = cached_pages()
      if (now < cached_before) file_dropped += cached_before - now
    }
    let r = `${idx ? ',' : ''}\n  {"op":"${op.op}","ret":"${ret ? errno_name(ret) : 'ok'}"`
    if (acc) r += `,"miss":${miss.count},"miss_pages":"${miss.text()}"`
    if (swapin) r += `,"swapin":${swapin}`
    if (op.op === 'dump') r += `,"dump":${dumps.length - 1}`
    results.push(r + '}')
  })
  w_sync()
  do_dump(-1)

  const reclaimed = vm.vm_event_states[PGSTEAL_FILE] - vm0[1]
  const cached = cached_pages()
  const ok = file_in === cached + file_dropped + reclaimed
  return (
    `{"name":${s.name === null ? 'null' : `"${s.name}"`},\n "kernel":"${host.kernel_release}",\n "fs":"${s.fs}",\n` +
    ` "env":{"swap":"${host.swap}","damon":"off","read_ahead_kb":${s.fs === 'nora' ? 0 : 8192},"cpus":2},\n` +
    ` "cgroup":{"limit_pages":${s.limit_pages},"swappiness":${s.swappiness}},\n` +
    ` "results":[${results.join('')}],\n` +
    ` "dumps":[${dumps.join(',')}],\n` +
    ` "check":{"file_pages_in":${file_in},"file_reclaimed":${reclaimed},"file_dropped":${file_dropped},"file_cached":${cached},"ok":${ok}}}`
  )
}

/** memory.stat's fields roracle prints, in pages (events as counts). */
function memcg_keys(g: MemCgroup): string {
  const stat = (name: string): number => g.stat[memcg1_stat_names.indexOf(name as (typeof memcg1_stat_names)[number])]
  const lv = g.lruvec
  const fields: Array<[string, number]> = [
    ['cache', stat('cache')],
    ['rss', stat('rss')],
    ['swap', stat('swap')],
    ['inactive_file', lv.size(LRU_INACTIVE_FILE)],
    ['active_file', lv.size(LRU_ACTIVE_FILE)],
    ['inactive_anon', lv.size(LRU_INACTIVE_ANON)],
    ['active_anon', lv.size(LRU_ACTIVE_ANON)],
    ['pgpgin', g.events[MEMCG_PGPGIN]],
    ['pgpgout', g.events[MEMCG_PGPGOUT]],
    ['workingset_refault_file', stat('workingset_refault_file')],
    ['workingset_refault_anon', stat('workingset_refault_anon')],
  ]
  return fields.map(([k, v]) => `"${k}":${v}`).join(',')
}

/** The op's misses as roracle lists them: runs of consecutive pages in access order ("0-31,40"). */
class MissList {
  count = 0
  private parts: string[] = []
  private start = -1
  private last = -2
  private dir = 0
  note(pg: number): void {
    this.count++
    if (this.start >= 0 && (this.start === this.last ? pg === this.last + 1 || pg === this.last - 1 : pg === this.last + this.dir)) {
      this.dir = pg - this.last
      this.last = pg
      return
    }
    this.flush()
    this.start = this.last = pg
  }
  private flush(): void {
    if (this.start < 0) return
    this.parts.push(this.last !== this.start ? `${this.start}-${this.last}` : `${this.start}`)
    this.start = -1
  }
  text(): string {
    this.flush()
    return this.parts.join(',')
  }
}
