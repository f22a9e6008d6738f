/**
 * The oracle's world inside a simulated process (../shared/oracle/FORMAT.md
 * §3-§5): the scenario's files, the window (a PROT_NONE reservation with
 * every free gap above it filled, a 2 MiB aligned base, guard pages and
 * sentinels), and the dumps, read from the simulated /proc/<pid>/maps and
 * smaps text exactly as oracle.c reads the real ones. The ops run in
 * oracle_replay.ts.
 *
 * Offsets are BigInt (64-bit two's complement arithmetic, as in oracle.c).
 * The addresses, lengths and offsets of mmap, munmap, mprotect, mremap,
 * madvise, mlock, msync, mincore and mseal go to the simulated syscalls as
 * the exact 64-bit patterns (bigints: the Process API takes unsigned longs,
 * src/include/ulong.ts); other values are converted to numbers at the call.
 */
import { ScenarioError, type JNode, jget, jreq_int, jopt_int, jstr_out, off_out, type FlagTable } from './json.js'
import { O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, type Process } from '../user/process.js'
import { errno_name } from '../include/uapi/errno.js'
import { proc_pid_maps, proc_pid_smaps, vma_file_id } from '../fs/proc/task_mmu.js'

export const PAGE = 4096n
export const SMALL_LEN_MAX = 1n << 30n
export const HUGE_LEN_MIN = 1n << 57n
export const WRAP_LEN_MIN = (1n << 64n) - 1n - 0xffffn
export const NOREPLACE_SLACK = 1n << 26n
export const BRK_LIMIT = 1n << 30n
export const FILE_IO_MAX = 4n << 20n
export const MAX_FILES = 16
export const MAX_ARENA_PAGES = 4096n
export const MAX_DEPTH = 8
export const PT_SPAN = 2n << 20n
export const U64 = (1n << 64n) - 1n

/* mmap flags (oracle.c's tables, Linux x86_64 values) */
export const MAP_SHARED = 0x01
export const MAP_PRIVATE = 0x02
export const MAP_FIXED = 0x10
export const MAP_ANONYMOUS = 0x20
export const MAP_NORESERVE = 0x4000
export const MAP_FIXED_NOREPLACE = 0x100000

export const MMAP_FLAGS: FlagTable = {
  private: 0x02, shared: 0x01, shared_validate: 0x03, droppable: 0x08, anonymous: 0x20, anon: 0x20,
  fixed: 0x10, fixed_noreplace: 0x100000, populate: 0x8000, noreserve: 0x4000, norserve: 0x4000,
  grows_down: 0x100, growsdown: 0x100, locked: 0x2000, stack: 0x20000, nonblock: 0x10000,
  hugetlb: 0x40000, sync: 0x80000, '32bit': 0x40, uninitialized: 0x4000000, denywrite: 0x800,
  executable: 0x1000, file: 0,
}
export const MREMAP_FLAGS: FlagTable = { maymove: 1, fixed: 2, dontunmap: 4 }
export const MSYNC_FLAGS: FlagTable = { async: 1, invalidate: 2, sync: 4 }
export const MLOCK_FLAGS: FlagTable = { onfault: 1 }
export const MLOCKALL_FLAGS: FlagTable = { current: 1, future: 2, onfault: 4 }
export const MADV_NAMES: FlagTable = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9, dontfork: 10,
  dofork: 11, mergeable: 12, unmergeable: 13, hugepage: 14, nohugepage: 15, dontdump: 16, dodump: 17,
  wipeonfork: 18, keeponfork: 19, cold: 20, pageout: 21, populate_read: 22, populate_write: 23,
  dontneed_locked: 24, collapse: 25, guard_install: 102, guard_remove: 103,
}

export const SICODE: Record<number, Record<number, string>> = {
  11: { 1: 'MAPERR', 2: 'ACCERR', 3: 'BNDERR', 4: 'PKUERR' },
  7: { 1: 'ADRALN', 2: 'ADRERR', 3: 'OBJERR', 4: 'MCEERR_AR', 5: 'MCEERR_AO' },
}
export const ORACLE_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGKILL', 'SIGABRT', 'SIGILL', 'SIGFPE', 'SIGTERM'])

/** What the replay needs from the simulated machine. */
export interface ReplayHost {
  /** A fresh process to run the scenario in (a new machine's first process is best). */
  spawn(name: string): Process
  /** Swap size in kB and KSM's run setting of the simulated machine (0, 0 when not modelled). */
  readonly swap_total_kb?: number
  readonly ksm_run?: number
  readonly kernel_release?: string
}

export interface ScenarioFile {
  readonly name: string
  fd: number
  dev: string
  ino: number
}

/** A number for the kernel API from a 64-bit pattern (exact below 2^53; huge values stay huge). */
export function num(v: bigint): number {
  return Number(v & U64)
}
/** A C `int` argument: the low 32 bits, signed. */
export function inum(v: bigint): number {
  return Number(BigInt.asIntN(32, v))
}

export function floor_pg(v: bigint): bigint {
  return v - (((v % PAGE) + PAGE) % PAGE)
}
export function ceil_pg(v: bigint): bigint {
  return floor_pg(v + PAGE - 1n)
}

export function fnv1a(data: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0
  return h >>> 0
}
export function hash_out(h: number): string {
  return '0x' + h.toString(16).padStart(8, '0')
}

/** The window, the files and the dumps of one scenario run. */
export class OracleWorld {
  base = 0n
  arena_len = 0n
  wlo = 0n
  whi = 0n
  brk0 = 0n
  files: ScenarioFile[] = []
  fsname = 'tmpfs'
  disk = false
  dir = ''

  constructor(readonly host: ReplayHost) {}

  span_in_window(rel: bigint, len: bigint): boolean {
    return floor_pg(rel) >= this.wlo && ceil_pg(rel + len) <= this.whi
  }
  addr_in_window(rel: bigint): boolean {
    const s = floor_pg(rel)
    return s >= this.wlo && s < this.whi
  }
  abs(rel: bigint): number {
    return num(this.base + rel)
  }
  /** The absolute address of an offset as the syscall's exact unsigned long (oracle.c's absaddr()). */
  uabs(rel: bigint): bigint {
    return (this.base + rel) & U64
  }
  rel(a: number): bigint {
    return BigInt(a) - this.base
  }

  /** The scenario file a "file" member names (oracle.c's file_by_node()). */
  file_by_node(n: JNode | undefined, ctx: string): ScenarioFile {
    if (!n || n.type !== 'str') throw new ScenarioError(`${ctx}: missing "file"`)
    const f = this.files.find((x) => x.name === n.value)
    if (!f) throw new ScenarioError(`${ctx}: unknown file "${n.value}"`)
    return f
  }

  // ---- set-up ----

  make_files(p: Process, files: JNode | undefined): void {
    if (!files) return
    if (files.type !== 'arr') throw new ScenarioError('"files" must be a list')
    for (const c of files.items) {
      const nn = jget(c, 'name')
      const mn = jget(c, 'mode')
      const size = jreq_int(c, 'size', 'file')
      const seed = jopt_int(c, 'seed', 0n, 'file')
      if (this.files.length >= MAX_FILES) throw new ScenarioError('too many files')
      if (!nn || nn.type !== 'str' || nn.value.length === 0 || nn.value.length > 60 || !/^[A-Za-z0-9_.-]+$/.test(nn.value)) {
        throw new ScenarioError('file: bad name')
      }
      if (size > 1n << 30n) throw new ScenarioError('file: size above 1GiB')
      const path = `${this.dir}/${nn.value}`
      let fd = p.sys_open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
      if (fd < 0) throw new ScenarioError(`create ${path}: ${errno_name(-fd)}`)
      const n = Number(size)
      // The oracle's fill: byte i of the file is (i * 131 + seed * 17) & 0xff. 4096 * 131 is a
      // multiple of 256, so every page holds the same bytes: one page, written once per page.
      const s17 = Number((seed * 17n) & 0xffn)
      const page = new Uint8Array(4096)
      for (let k = 0; k < 4096; k++) page[k] = (k * 131 + s17) & 0xff
      for (let pos = 0; pos < n; pos += 4096) {
        const chunk = Math.min(4096, n - pos)
        if (p.sys_pwrite(fd, chunk === 4096 ? page : page.subarray(0, chunk), pos) !== chunk) throw new ScenarioError(`write ${path}`)
      }
      p.sys_fsync(fd)
      let flags = O_RDWR
      if (mn) {
        if (mn.type === 'str' && mn.value === 'r') flags = O_RDONLY
        else if (mn.type === 'str' && mn.value === 'w') flags = O_WRONLY
        else if (!(mn.type === 'str' && mn.value === 'rw')) throw new ScenarioError('file: mode must be r, w or rw')
      }
      if (flags !== O_RDWR) {
        p.sys_close(fd)
        fd = p.sys_open(path, flags, 0)
        if (fd < 0) throw new ScenarioError(`reopen: ${errno_name(-fd)}`)
      }
      const file = p.file_of(fd)
      const id = file ? vma_file_id(file) : { dev: '00:00', ino: 0 }
      this.files.push({ name: nn.value, fd, dev: id.dev, ino: id.ino })
    }
  }

  /** Highest end of a VMA that ends at or below addr (0 if none). */
  vma_end_below(p: Process, addr: bigint): bigint {
    let best = 0n
    for (const v of p.mm.mm_mt) {
      const e = BigInt(v.vm_end)
      if (e <= addr && e > best) best = e
    }
    return best
  }

  setup_window(p: Process, npages: bigint): void {
    const PROT_NONE = 0
    const total = npages * PAGE + 4n * PT_SPAN
    const rr = p.sys_mmap(0, num(total), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if (rr < 0) throw new ScenarioError(`reserve window: ${errno_name(-rr)}`)
    const r = BigInt(rr)
    let iter = 0
    for (; iter < 10000; iter++) {
      const pp = p.sys_mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      if (pp < 0) throw new ScenarioError(`gap fill: ${errno_name(-pp)}`)
      const pb = BigInt(pp)
      if (pb < r) {
        p.sys_munmap(pp, 4096)
        break
      }
      const lo = this.vma_end_below(p, pb)
      if (lo < r + total) throw new ScenarioError('gap fill: unexpected layout')
      if (lo < pb) {
        const q = p.sys_mmap(num(lo), num(pb - lo), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
        if (BigInt(q) !== lo) throw new ScenarioError(`gap fill at ${lo.toString(16)}: ${errno_name(-q)}`)
      }
    }
    if (iter === 10000) throw new ScenarioError('gap fill: too many gaps')
    const base = ((r + PT_SPAN - 1n) & ~(PT_SPAN - 1n)) + PT_SPAN
    const top = base + npages * PAGE + PAGE
    if (((top + PAGE + PT_SPAN - 1n) & ~(PT_SPAN - 1n)) > r + total) throw new ScenarioError('window layout')
    const s1 = p.sys_mmap(num(base - 2n * PAGE), 4096, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
    const s2 = p.sys_mmap(num(top), 4096, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
    if (BigInt(s1) !== base - 2n * PAGE || BigInt(s2) !== top) throw new ScenarioError('sentinels')
    this.base = base
    this.arena_len = npages * PAGE
    if (p.sys_munmap(num(this.base), num(this.arena_len)) !== 0) throw new ScenarioError('free arena')
    this.wlo = -PAGE
    this.whi = this.arena_len + PAGE
  }

  // ---- dumps ----

  dump(p: Process, at: number | 'final', out: string[]): number {
    const wlo = this.base - PAGE
    const whi = this.base + this.arena_len + PAGE
    const maps = proc_pid_maps(p.sys.mm, p.task)
    interface W { start: bigint; end: bigint; range: string; line: string }
    const wv: W[] = []
    const parsed: MapLine[] = []
    for (const line of maps.split('\n')) {
      const m = parse_map_line(line)
      if (!m) continue
      parsed.push(m)
      if (m.end <= wlo || m.start >= whi) continue
      const s = m.start < wlo ? wlo : m.start
      const e = m.end > whi ? whi : m.end
      let nm = ''
      if (m.ino !== 0) {
        const f = this.files.find((x) => x.ino === m.ino && x.dev === m.dev)
        if (f) nm = f.name
        else if (m.path.startsWith('/dev/zero') || m.path.startsWith('/SYSV')) nm = ''
        else nm = m.path
      }
      let l = `${off_out(s - this.base)}-${off_out(e - this.base)} ${m.perms} ${m.off.toString(16).padStart(8, '0')}`
      if (nm) l += ' ' + nm.slice(0, 60)
      wv.push({ start: m.start, end: m.end, range: line.slice(0, line.indexOf(' ')), line: l })
    }
    // residency of arena pages: '-' unmapped, else mincore bit 0
    const npages = Number(this.arena_len / PAGE)
    const res = new Array<string>(npages).fill('-')
    for (const w of wv) {
      let s = w.start
      let e = w.end
      if (s < this.base) s = this.base
      if (e > this.base + this.arena_len) e = this.base + this.arena_len
      if (s >= e) continue
      const vec = new Uint8Array(Number((e - s) / PAGE))
      const r = p.sys_mincore(num(s), num(e - s), vec)
      if (r !== 0) throw new ScenarioError(`mincore in dump: ${errno_name(-r)}`)
      const first = Number((s - this.base) / PAGE)
      for (let i = 0; i < vec.length; i++) res[first + i] = vec[i] & 1 ? '1' : '0'
    }
    let o = out.length ? ',' : ''
    o += '\n  {"at":' + (at === 'final' ? '"final"' : String(at)) + ',"maps":['
    o += wv.map((w) => '\n   ' + jstr_out(w.line)).join(',')
    o += '],\n   "resident":"' + res.join('') + '",\n   '
    o += this.smaps(p, wv)
    o += ',\n   '
    o += this.heap(p, parsed)
    o += '}'
    out.push(o)
    return out.length - 1
  }

  /**
   * The window's smaps records (`wv`: the window's VMAs, each with the
   * "start-end" text of its maps line). A record starts at its maps line,
   * the only line of smaps that starts with a hex digit (the others start
   * with a capital: Rss:, VmFlags:), and its "start-end" finds the window's
   * VMA it belongs to, if any: no regular expression per line.
   */
  smaps(p: Process, wv: { start: bigint; end: bigint; range: string }[]): string {
    const text = proc_pid_smaps(p.sys.mm, p.task)
    const in_window = new Map<string, { start: bigint; end: bigint }>()
    for (const w of wv) if (!in_window.has(w.range)) in_window.set(w.range, w)
    const parts: string[] = []
    let cur: { start: bigint; end: bigint } | null = null
    let vals: number[] = []
    let vmflags = ''
    const flush = (): void => {
      if (!cur) return
      let o = '\n   {"vma":"' + off_out(cur.start - this.base) + '-' + off_out(cur.end - this.base) + '"'
      SMAPS_FIELDS.forEach((f, i) => (o += ',"' + f + '":' + vals[i]))
      o += ',"VmFlags":' + jstr_out(vmflags) + '}'
      parts.push(o)
    }
    // Line by line without splitting the text: the lines of records outside the window are only looked at.
    for (let pos = 0; pos < text.length; ) {
      const nl = text.indexOf('\n', pos)
      const eol = nl < 0 ? text.length : nl
      if (is_hex_digit(text.charCodeAt(pos))) {
        flush()
        cur = in_window.get(text.slice(pos, text.indexOf(' ', pos))) ?? null
        vals = SMAPS_FIELDS.map(() => 0)
        vmflags = ''
      } else if (cur) {
        const line = text.slice(pos, eol)
        const c = line.indexOf(':')
        if (line.startsWith('VmFlags:')) vmflags = line.slice(8).trim()
        else if (c >= 0) {
          const i = SMAPS_FIELD_INDEX.get(line.slice(0, c))
          if (i !== undefined) vals[i] = parseInt(line.slice(c + 1).trim(), 10) || 0
        }
      }
      pos = eol + 1
    }
    flush()
    return '"smaps":[' + parts.join(',') + ']'
  }

  /** The break and the maps lines around the initial heap (`maps`: the dump's maps lines, parsed once). */
  heap(p: Process, maps: readonly MapLine[]): string {
    const brk = BigInt(p.sys_brk(0))
    const lo = this.brk0
    const hi = this.brk0 + BRK_LIMIT + PAGE
    const items: string[] = []
    for (const m of maps) {
      if (m.end <= lo || m.start >= hi) continue
      let s = '"' + off_out(m.start - this.brk0) + '-' + off_out(m.end - this.brk0) + ' ' + m.perms
      if (m.path) s += ' ' + m.path
      items.push(s + '"')
    }
    return '"heap":{"brk":"' + off_out(brk - this.brk0) + '","maps":[' + items.join(',') + ']}'
  }
}

export function skip(why: string): string {
  return ',"ret":"skipped","why":' + jstr_out(why)
}
export function ret_s(s: string): string {
  return ',"ret":' + jstr_out(s)
}
export function ok_or_errno(r: number): string {
  return r === 0 ? ret_s('ok') : ret_s(errno_name(-r))
}

export interface MapLine {
  start: bigint
  end: bigint
  perms: string
  off: bigint
  dev: string
  ino: number
  path: string
}

/** The smaps fields a dump keeps, in its order (oracle.c). */
const SMAPS_FIELDS = ['Rss', 'Pss', 'Shared_Clean', 'Shared_Dirty', 'Private_Clean', 'Private_Dirty', 'Anonymous', 'LazyFree', 'Swap', 'Locked']
const SMAPS_FIELD_INDEX = new Map(SMAPS_FIELDS.map((f, i) => [f, i]))

/** Whether a character code is [0-9a-f], as the first of a maps line (and of an smaps record's first line). */
function is_hex_digit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
}

/** Parse one /proc/<pid>/maps (or smaps header) line: "start-end perms off maj:min ino path". */
export function parse_map_line(line: string): MapLine | null {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (.{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+) *(.*)$/.exec(line)
  if (!m) return null
  return {
    start: BigInt('0x' + m[1]),
    end: BigInt('0x' + m[2]),
    perms: m[3],
    off: BigInt('0x' + m[4]),
    dev: m[5],
    ino: Number(m[6]),
    path: m[7],
  }
}
