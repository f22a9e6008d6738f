/**
 * Replays an oracle scenario (../shared/oracle/FORMAT.md) inside a simulated
 * process and prints the result JSON with oracle.c's exact text layout, so
 * the simulator's answer can be compared with the real kernel's.
 *
 * Everything oracle.c does is done the same way, through the same system
 * calls of a simulated process: the window set-up (a PROT_NONE reservation,
 * the gaps above it filled, a 2 MiB aligned base, sentinels, guards), the
 * "skipped" rules (FORMAT.md §6), each op, the dumps (parsed from the
 * simulated /proc/<pid>/maps and /proc/<pid>/smaps text, as the oracle parses
 * the real ones), fork with nested results.
 *
 * `kernel`: the oracle prints `uname -r` of the machine it ran on; the replay
 * prints the release the simulator models (KERNEL_RELEASE, "6.18.44-mmsim":
 * Linux 6.18.44 as the reference machine runs it, "-mmsim" saying who
 * answered). A byte comparison with a recorded result therefore differs on
 * that one line only; the differential test ignores `kernel`. `env` states
 * the simulated machine's swap size and KSM setting (no swap, no KSM: the
 * conditions the expected results were recorded under).
 */
import {
  ScenarioError, type JNode, jparse, jget, jint, jreq_int, jopt_int, jflags, jprot, jstr_out, off_out, s64,
  type FlagTable,
} from './oracle_json.js'
import { O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, type Process } from './process.js'
import { errno_name } from '../uapi/errno.js'
import { SIGNAL_NAMES } from '../uapi/signal.js'
import { proc_pid_maps, proc_pid_smaps, vma_file_id } from '../fs/proc/task_mmu.js'

export { ScenarioError } from './oracle_json.js'

export const KERNEL_RELEASE = '6.18.44-mmsim'

const PAGE = 4096n
const SMALL_LEN_MAX = 1n << 30n
const HUGE_LEN_MIN = 1n << 57n
const WRAP_LEN_MIN = (1n << 64n) - 1n - 0xffffn
const NOREPLACE_SLACK = 1n << 26n
const BRK_LIMIT = 1n << 30n
const FILE_IO_MAX = 4n << 20n
const MAX_FILES = 16
const MAX_ARENA_PAGES = 4096n
const MAX_DEPTH = 8
const PT_SPAN = 2n << 20n
const U64 = (1n << 64n) - 1n

/* mmap flags (oracle.c's tables, Linux x86_64 values) */
const MAP_SHARED = 0x01
const MAP_PRIVATE = 0x02
const MAP_FIXED = 0x10
const MAP_ANONYMOUS = 0x20
const MAP_NORESERVE = 0x4000
const MAP_FIXED_NOREPLACE = 0x100000

const MMAP_FLAGS: FlagTable = {
  private: 0x02, shared: 0x01, shared_validate: 0x03, droppable: 0x08, anonymous: 0x20, anon: 0x20,
  fixed: 0x10, fixed_noreplace: 0x100000, populate: 0x8000, noreserve: 0x4000, norserve: 0x4000,
  grows_down: 0x100, growsdown: 0x100, locked: 0x2000, stack: 0x20000, nonblock: 0x10000,
  hugetlb: 0x40000, sync: 0x80000, '32bit': 0x40, uninitialized: 0x4000000, denywrite: 0x800,
  executable: 0x1000, file: 0,
}
const MREMAP_FLAGS: FlagTable = { maymove: 1, fixed: 2, dontunmap: 4 }
const MSYNC_FLAGS: FlagTable = { async: 1, invalidate: 2, sync: 4 }
const MLOCK_FLAGS: FlagTable = { onfault: 1 }
const MLOCKALL_FLAGS: FlagTable = { current: 1, future: 2, onfault: 4 }
const MADV_NAMES: FlagTable = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9, dontfork: 10,
  dofork: 11, mergeable: 12, unmergeable: 13, hugepage: 14, nohugepage: 15, dontdump: 16, dodump: 17,
  wipeonfork: 18, keeponfork: 19, cold: 20, pageout: 21, populate_read: 22, populate_write: 23,
  dontneed_locked: 24, collapse: 25, guard_install: 102, guard_remove: 103,
}

const SICODE: Record<number, Record<number, string>> = {
  11: { 1: 'MAPERR', 2: 'ACCERR', 3: 'BNDERR', 4: 'PKUERR' },
  7: { 1: 'ADRALN', 2: 'ADRERR', 3: 'OBJERR', 4: 'MCEERR_AR', 5: 'MCEERR_AO' },
}
const ORACLE_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGKILL', 'SIGABRT', 'SIGILL', 'SIGFPE', 'SIGTERM'])

/** What the replay needs from the simulated machine. */
export interface ReplayHost {
  /** A fresh process to run the scenario in (a new machine's first process is best). */
  spawn(name: string): Process
  /** Swap size in kB and KSM's run setting of the simulated machine (0, 0 when not modelled). */
  readonly swap_total_kb?: number
  readonly ksm_run?: number
  readonly kernel_release?: string
}

interface ScenarioFile {
  readonly name: string
  fd: number
  dev: string
  ino: number
}

/** A number for the kernel API from a 64-bit pattern (exact below 2^53; huge values stay huge). */
function num(v: bigint): number {
  return Number(v & U64)
}
/** A signed number (off_t, int) from a 64-bit pattern. */
function snum(v: bigint): number {
  return Number(s64(v))
}
/** A C `int` argument: the low 32 bits, signed. */
function inum(v: bigint): number {
  return Number(BigInt.asIntN(32, v))
}

function floor_pg(v: bigint): bigint {
  return v - (((v % PAGE) + PAGE) % PAGE)
}
function ceil_pg(v: bigint): bigint {
  return floor_pg(v + PAGE - 1n)
}

function fnv1a(data: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0
  return h >>> 0
}
function hash_out(h: number): string {
  return '0x' + h.toString(16).padStart(8, '0')
}

class Replayer {
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
  rel(a: number): bigint {
    return BigInt(a) - this.base
  }

  file_by_node(p: Process, n: JNode | undefined, ctx: string): ScenarioFile {
    if (!n || n.type !== 'str') throw new ScenarioError(`${ctx}: missing "file"`)
    const f = this.files.find((x) => x.name === n.value)
    if (!f) throw new ScenarioError(`${ctx}: unknown file "${n.value}"`)
    void p
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
      const s17 = Number((seed * 17n) & 0xffn)
      for (let pos = 0; pos < n; pos += 4096) {
        const chunk = Math.min(4096, n - pos)
        const buf = new Uint8Array(chunk)
        for (let k = 0; k < chunk; k++) buf[k] = (((pos + k) * 131) + s17) & 0xff
        if (p.sys_pwrite(fd, buf, pos) !== chunk) throw new ScenarioError(`write ${path}`)
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
      const id = file ? vma_file_id(p.k, file) : { dev: '00:00', ino: 0 }
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
    const maps = proc_pid_maps(p.k, p.task)
    interface W { start: bigint; end: bigint; line: string }
    const wv: W[] = []
    for (const line of maps.split('\n')) {
      const m = parse_map_line(line)
      if (!m) continue
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
      wv.push({ start: m.start, end: m.end, line: l })
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
    o += this.heap(p, maps)
    o += '}'
    out.push(o)
    return out.length - 1
  }

  smaps(p: Process, wv: { start: bigint; end: bigint }[]): string {
    const FIELDS = ['Rss', 'Pss', 'Shared_Clean', 'Shared_Dirty', 'Private_Clean', 'Private_Dirty', 'Anonymous', 'LazyFree', 'Swap', 'Locked']
    const text = proc_pid_smaps(p.k, p.task)
    const parts: string[] = []
    let cur: { start: bigint; end: bigint } | null = null
    let vals: number[] = []
    let vmflags = ''
    const flush = (): void => {
      if (!cur) return
      let o = '\n   {"vma":"' + off_out(cur.start - this.base) + '-' + off_out(cur.end - this.base) + '"'
      FIELDS.forEach((f, i) => (o += ',"' + f + '":' + vals[i]))
      o += ',"VmFlags":' + jstr_out(vmflags) + '}'
      parts.push(o)
    }
    for (const line of text.split('\n')) {
      const m = parse_map_line(line)
      if (m) {
        flush()
        cur = wv.find((w) => w.start === m.start && w.end === m.end) ?? null
        vals = FIELDS.map(() => 0)
        vmflags = ''
        continue
      }
      if (!cur) continue
      if (line.startsWith('VmFlags:')) {
        vmflags = line.slice(8).trim()
        continue
      }
      const c = line.indexOf(':')
      if (c < 0) continue
      const i = FIELDS.indexOf(line.slice(0, c))
      if (i >= 0) vals[i] = parseInt(line.slice(c + 1).trim(), 10) || 0
    }
    flush()
    return '"smaps":[' + parts.join(',') + ']'
  }

  heap(p: Process, maps: string): string {
    const brk = BigInt(p.sys_brk(0))
    const lo = this.brk0
    const hi = this.brk0 + BRK_LIMIT + PAGE
    const items: string[] = []
    for (const line of maps.split('\n')) {
      const m = parse_map_line(line)
      if (!m || m.end <= lo || m.start >= hi) continue
      let s = '"' + off_out(m.start - this.brk0) + '-' + off_out(m.end - this.brk0) + ' ' + m.perms
      if (m.path) s += ' ' + m.path
      items.push(s + '"')
    }
    return '"heap":{"brk":"' + off_out(brk - this.brk0) + '","maps":[' + items.join(',') + ']}'
  }

  // ---- ops ----

  run_ops(p: Process, ops: JNode, depth: number, results: string[], dumps: string[]): void {
    if (ops.type !== 'arr') throw new ScenarioError('"ops" must be a list')
    ops.items.forEach((c, i) => {
      const kn = jget(c, 'op')
      if (!kn || kn.type !== 'str') throw new ScenarioError(`op ${i}: missing "op"`)
      const k = kn.value
      let o = (i === 0 ? '' : ',') + '\n  {"op":' + jstr_out(k)
      switch (k) {
        case 'mmap':
          o += this.op_mmap(p, c)
          break
        case 'munmap':
        case 'mprotect':
        case 'madvise':
        case 'msync':
        case 'mlock':
        case 'munlock':
        case 'mseal':
        case 'mincore':
          o += this.op_range(p, c, k)
          break
        case 'mremap':
          o += this.op_mremap(p, c)
          break
        case 'mlockall':
          o += ok_or_errno(p.sys_mlockall(inum(jflags(c, 'flags', MLOCKALL_FLAGS, k))))
          break
        case 'munlockall':
          o += ok_or_errno(p.sys_munlockall())
          break
        case 'brk':
          o += this.op_brk(p, c)
          break
        case 'read':
          o += this.op_read(p, c)
          break
        case 'write':
          o += this.op_write(p, c)
          break
        case 'ftruncate':
        case 'pread':
        case 'pwrite':
        case 'pread_into':
        case 'pwrite_from':
          o += this.op_file_io(p, c, k)
          break
        case 'fork':
          o += this.op_fork(p, c, depth)
          break
        case 'dump': {
          const d = this.dump(p, i, dumps)
          o += ',"ret":"ok","dump":' + d
          break
        }
        default:
          throw new ScenarioError(`op ${i}: unknown op "${k}"`)
      }
      results.push(o + '}')
    })
  }

  /** A returned mapping address: in the window -> offset; else "outside" (and unmapped at once). */
  mapping(p: Process, r: number, len: bigint): string {
    const rel = this.rel(r)
    if (rel >= this.wlo && rel < this.whi) return ',"ret":"' + off_out(rel) + '"'
    p.sys_munmap(r, num((len + PAGE - 1n) & ~(PAGE - 1n)))
    return ',"ret":"outside"'
  }

  op_addr(op: JNode, key: string, ctx: string, optional: boolean): bigint | null {
    const n = jget(op, key)
    if (!n || n.type === 'null') {
      if (optional) return null
      throw new ScenarioError(`${ctx}: missing "${key}"`)
    }
    const v = jint(n)
    if (v === undefined) throw new ScenarioError(`${ctx}: bad "${key}"`)
    return s64(v)
  }

  op_mmap(p: Process, op: JNode): string {
    const ctx = 'mmap'
    const addr = this.op_addr(op, 'addr', ctx, true)
    const len = jreq_int(op, 'len', ctx)
    const prot = jprot(op, ctx)
    const flags = jflags(op, 'flags', MMAP_FLAGS, ctx)
    const off = jopt_int(op, 'off', 0n, ctx)
    const fn = jget(op, 'file')
    let fd = -1
    if (fn && fn.type !== 'null') fd = this.file_by_node(p, fn, ctx).fd
    else if (jget(op, 'fd')) fd = inum(jreq_int(op, 'fd', ctx))
    const fixed = (flags & BigInt(MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0n
    if (fixed && addr === null) return skip('fixed mapping without addr')
    if (!fixed) {
      if (addr !== null && !this.addr_in_window(addr)) return skip('hint outside window')
      if (len > SMALL_LEN_MAX && len < HUGE_LEN_MIN) return skip('length between 1GiB and 2^57')
    } else if (addr !== null && len !== 0n && len < HUGE_LEN_MIN && !this.span_in_window(addr, len)) {
      let ok = false
      if (flags & BigInt(MAP_FIXED_NOREPLACE)) {
        ok = this.addr_in_window(addr) && ceil_pg(addr + len) <= this.whi + NOREPLACE_SLACK
      }
      if (!ok) return skip('fixed range outside window')
    }
    const r = p.sys_mmap(addr !== null ? this.abs(addr) : 0, num(len), num(prot), num(flags), fd, snum(off))
    if (r < 0 && r >= -4095) return ret_s(errno_name(-r))
    return this.mapping(p, r, len)
  }

  range_ok(addr: bigint, len: bigint): boolean {
    if (this.span_in_window(addr, len)) return true
    return len >= WRAP_LEN_MIN && this.addr_in_window(addr)
  }

  range_has_file_vma(p: Process, a: bigint, len: bigint): boolean {
    const e = (a + len + PAGE - 1n) & ~(PAGE - 1n)
    const s = a & ~(PAGE - 1n)
    for (const line of proc_pid_maps(p.k, p.task).split('\n')) {
      const m = parse_map_line(line)
      if (!m || m.end <= s || m.start >= e || m.ino === 0) continue
      if (this.files.some((f) => f.ino === m.ino)) return true
    }
    return false
  }

  op_range(p: Process, op: JNode, name: string): string {
    const addr = this.op_addr(op, 'addr', name, false) as bigint
    const len = jreq_int(op, 'len', name)
    if (!this.range_ok(addr, len)) return skip('range outside window')
    const a = this.abs(addr)
    const l = num(len)
    let r: number
    switch (name) {
      case 'munmap':
        r = p.sys_munmap(a, l)
        break
      case 'mprotect':
        r = p.sys_mprotect(a, l, num(jprot(op, name)))
        break
      case 'madvise': {
        const n = jget(op, 'advice')
        if (!n) throw new ScenarioError('madvise: missing advice')
        let adv: bigint
        if (n.type === 'str' && Object.hasOwn(MADV_NAMES, n.value)) adv = BigInt(MADV_NAMES[n.value])
        else {
          const v = jint(n)
          if (v === undefined) throw new ScenarioError('madvise: unknown advice')
          adv = v
        }
        if (adv === 100n || adv === 101n) return skip('advice not allowed')
        if (adv === 21n && this.disk && len < WRAP_LEN_MIN && this.range_has_file_vma(p, this.base + addr, len)) {
          return skip('pageout of disk file pages')
        }
        r = p.sys_madvise(a, l, inum(adv))
        break
      }
      case 'msync':
        r = p.sys_msync(a, l, inum(jflags(op, 'flags', MSYNC_FLAGS, name)))
        break
      case 'mlock': {
        const fl = jflags(op, 'flags', MLOCK_FLAGS, name)
        r = jget(op, 'flags') ? p.sys_mlock2(a, l, inum(fl)) : p.sys_mlock(a, l)
        break
      }
      case 'munlock':
        r = p.sys_munlock(a, l)
        break
      case 'mseal':
        r = p.sys_mseal(a, l, 0)
        break
      default: {
        // mincore
        const npg = ((len + PAGE - 1n) & U64) / PAGE
        const cap = MAX_ARENA_PAGES + 16n
        if (len < WRAP_LEN_MIN && npg > cap) return skip('range outside window')
        const vec = new Uint8Array(Number(cap))
        r = p.sys_mincore(a, l, vec)
        if (r === 0) {
          let s = ''
          for (let i = 0; i < Number(npg); i++) s += vec[i] & 1 ? '1' : '0'
          return ',"ret":"' + s + '"'
        }
      }
    }
    return ok_or_errno(r)
  }

  op_mremap(p: Process, op: JNode): string {
    const ctx = 'mremap'
    const addr = this.op_addr(op, 'addr', ctx, false) as bigint
    const old_len = jreq_int(op, 'old_len', ctx)
    const new_len = jreq_int(op, 'new_len', ctx)
    const flags = jflags(op, 'flags', MREMAP_FLAGS, ctx)
    const new_addr = this.op_addr(op, 'new_addr', ctx, true)
    if (!this.span_in_window(addr, old_len)) return skip('old range outside window')
    if (new_len > SMALL_LEN_MAX && new_len < HUGE_LEN_MIN) return skip('length between 1GiB and 2^57')
    if (flags & 2n && new_addr === null) return skip('MREMAP_FIXED without new_addr')
    if (new_addr !== null) {
      if (flags & 2n) {
        if (new_len < HUGE_LEN_MIN && !this.span_in_window(new_addr, new_len)) return skip('new range outside window')
      } else if (!this.addr_in_window(new_addr)) {
        return skip('new address outside window')
      }
    }
    const r = p.sys_mremap(this.abs(addr), num(old_len), num(new_len), num(flags), new_addr !== null ? this.abs(new_addr) : 0)
    if (r < 0 && r >= -4095) return ret_s(errno_name(-r))
    return this.mapping(p, r, new_len)
  }

  signal_ret(start: number, f: { signal: number; si_code: number; addr: number }): string {
    let fa = BigInt(f.addr) & ~(PAGE - 1n)
    if (fa < BigInt(start)) fa = BigInt(start)
    const sig = SIGNAL_NAMES[f.signal] ?? 'SIG?'
    const name = ORACLE_SIGNALS.has(sig) ? sig : 'SIG?'
    const code = SICODE[f.signal]?.[f.si_code] ?? 'CODE?'
    return ret_s(`${name}:${code}`).slice(0) + ',"fault_at":"' + off_out(fa - this.base) + '"'
  }

  op_read(p: Process, op: JNode): string {
    const addr = this.op_addr(op, 'addr', 'read', false) as bigint
    const len = jreq_int(op, 'len', 'read')
    if (!this.span_in_window(addr, len)) return skip('range outside window')
    const a = this.abs(addr)
    const r = p.try_access(a, num(len), false)
    if (r.fault) return this.signal_ret(a, r.fault)
    return ',"ret":"' + hash_out(fnv1a(r.data ?? new Uint8Array(0))) + '"'
  }

  op_write(p: Process, op: JNode): string {
    const addr = this.op_addr(op, 'addr', 'write', false) as bigint
    const len = jreq_int(op, 'len', 'write')
    const byte = jopt_int(op, 'byte', 0xabn, 'write')
    if (!this.span_in_window(addr, len)) return skip('range outside window')
    const a = this.abs(addr)
    const data = new Uint8Array(num(len)).fill(Number(byte & 0xffn))
    const r = p.try_access(a, data.length, true, data)
    if (r.fault) return this.signal_ret(a, r.fault)
    return ret_s('ok')
  }

  op_brk(p: Process, op: JNode): string {
    const delta = s64(jreq_int(op, 'delta', 'brk'))
    const cur = BigInt(p.sys_brk(0))
    const target = cur - this.brk0 + delta
    if (delta > BRK_LIMIT || delta < -BRK_LIMIT || target > BRK_LIMIT || target < -BRK_LIMIT) {
      return skip('brk outside +-1GiB')
    }
    const r = BigInt(p.sys_brk(num(this.brk0 + target)))
    return ',"ret":"' + off_out(r - this.brk0) + '"'
  }

  op_file_io(p: Process, op: JNode, name: string): string {
    const f = this.file_by_node(p, jget(op, 'file'), name)
    const off = jopt_int(op, 'off', 0n, name)
    if (name === 'ftruncate') {
      const size = jreq_int(op, 'size', name)
      return ok_or_errno(p.sys_ftruncate(f.fd, snum(size)))
    }
    if (name === 'pread') {
      const len = jreq_int(op, 'len', name)
      if (len > FILE_IO_MAX) return skip('length above 4MiB')
      const r = p.sys_pread(f.fd, Number(len), snum(off))
      if (typeof r === 'number') return ret_s(errno_name(-r))
      return ',"ret":"' + hash_out(fnv1a(r)) + '","n":' + r.length
    }
    if (name === 'pwrite') {
      const len = jreq_int(op, 'len', name)
      const byte = jopt_int(op, 'byte', 0xabn, name)
      if (len > FILE_IO_MAX) return skip('length above 4MiB')
      const total = Number(len)
      let done = 0
      while (done < total) {
        const pos = s64(off) + BigInt(done)
        let chunk = Number(PAGE - (((pos % PAGE) + PAGE) % PAGE))
        if (chunk > total - done) chunk = total - done
        const n = p.sys_pwrite(f.fd, new Uint8Array(chunk).fill(Number(byte & 0xffn)), Number(pos))
        if (n < 0) {
          if (done === 0) return ret_s(errno_name(-n))
          break
        }
        done += n
        if (n < chunk) break
      }
      return ',"ret":"' + done + '"'
    }
    // pread_into, pwrite_from: the kernel accesses window memory
    const addr = this.op_addr(op, 'addr', name, false) as bigint
    const len = jreq_int(op, 'len', name)
    if (!this.span_in_window(addr, len)) return skip('range outside window')
    const n = name === 'pread_into'
      ? p.sys_pread_user(f.fd, this.abs(addr), num(len), snum(off))
      : p.sys_pwrite_user(f.fd, this.abs(addr), num(len), snum(off))
    if (n < 0) return ret_s(errno_name(-n))
    return ',"ret":"' + n + '"'
  }

  op_fork(p: Process, op: JNode, depth: number): string {
    const ops = jget(op, 'ops')
    if (depth >= MAX_DEPTH) throw new ScenarioError('fork nested too deep')
    let child: Process
    try {
      child = p.fork()
    } catch (e) {
      const code = (e as { code?: string }).code
      if (code) return ret_s(code)
      throw e
    }
    const results: string[] = []
    const dumps: string[] = []
    if (ops) this.run_ops(child, ops, depth + 1, results, dumps)
    if (child.alive) this.dump(child, 'final', dumps)
    const text = child.alive ? '{"results":[' + results.join('') + '],\n "dumps":[' + dumps.join('') + ']}' : null
    if (child.alive) child.exit(0)
    const status = child.wait() ?? 'exit:0'
    return ',"ret":"' + status + '","child":' + (text ?? 'null')
  }
}

function skip(why: string): string {
  return ',"ret":"skipped","why":' + jstr_out(why)
}
function ret_s(s: string): string {
  return ',"ret":' + jstr_out(s)
}
function ok_or_errno(r: number): string {
  return r === 0 ? ret_s('ok') : ret_s(errno_name(-r))
}

interface MapLine {
  start: bigint
  end: bigint
  perms: string
  off: bigint
  dev: string
  ino: number
  path: string
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

/**
 * Run one scenario; returns the result JSON text (with its final newline),
 * exactly as oracle.c prints it. Throws ScenarioError for a malformed
 * scenario or a set-up failure (the CLI prints it and exits with status 2).
 */
export function replay_scenario(text: string, host: ReplayHost): string {
  const root = jparse(text)
  if (root.type !== 'obj') throw new ScenarioError('scenario must be an object')
  const fsn = jget(root, 'fs')
  let fs = 'tmpfs'
  if (fsn) {
    if (fsn.type !== 'str') throw new ScenarioError('fs must be a string')
    fs = fsn.value
  }
  const npages = jget(root, 'arena_pages') ? jreq_int(root, 'arena_pages', 'scenario') : 64n
  if (npages < 1n || npages > MAX_ARENA_PAGES) throw new ScenarioError(`arena_pages must be 1..${MAX_ARENA_PAGES}`)
  const ops = jget(root, 'ops')
  if (!ops) throw new ScenarioError('scenario has no "ops"')

  const R = new Replayer(host)
  if (fs === 'tmpfs') {
    R.dir = '/dev/shm/oracle.000001'
    R.fsname = 'tmpfs'
  } else if (fs === 'disk') {
    R.dir = '/var/tmp/oracle.000001'
    R.fsname = 'ext4'
    R.disk = true
  } else {
    throw new ScenarioError(`unknown fs "${fs}" (disk|tmpfs)`)
  }
  const p = host.spawn('oracle')
  // The oracle handles SIGSEGV and SIGBUS (and siglongjmps back): faults never kill it.
  p.sigaction(11, () => {})
  p.sigaction(7, () => {})
  R.make_files(p, jget(root, 'files'))
  R.brk0 = BigInt(p.sys_brk(0))
  const drain = p.sys_mmap(0, 4096, 0, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
  if (drain < 0) throw new ScenarioError(`drain page: ${errno_name(-drain)}`)
  R.setup_window(p, npages)

  const results: string[] = []
  const dumps: string[] = []
  R.run_ops(p, ops, 0, results, dumps)
  R.dump(p, 'final', dumps)
  p.exit(0)

  const nm = jget(root, 'name')
  let head = '{"name":' + (nm && nm.type === 'str' ? jstr_out(nm.value) : 'null')
  head += ',\n "kernel":' + jstr_out(host.kernel_release ?? KERNEL_RELEASE)
  head += ',\n "fs":' + jstr_out(R.fsname)
  head += ',\n "arena_pages":' + npages.toString()
  head += ',\n "env":{"swap_total_kb":' + (host.swap_total_kb ?? 0) + ',"ksm_run":' + (host.ksm_run ?? 0) + '}'
  head += ',\n "results":['
  return head + results.join('') + '],\n "dumps":[' + dumps.join('') + ']}\n'
}
