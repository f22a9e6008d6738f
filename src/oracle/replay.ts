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
 * prints the simulated kernel's release (UTS_RELEASE, src/kernel/version.ts:
 * the reference kernel mmsim models), so an agreeing replay is byte-identical
 * to the recording made on that kernel. `env` states
 * the simulated machine's swap size and KSM setting (no swap, no KSM: the
 * conditions the expected results were recorded under).
 */
import { ScenarioError, type JNode, jparse, jget, jint, jreq_int, jopt_int, jflags, jprot, jstr_out, off_out, s64 } from './json.js'
import type { Process } from '../user/process.js'
import { errno_name } from '../include/uapi/errno.js'
import { SIGNAL_NAMES } from '../include/uapi/signal.js'
import { proc_pid_maps } from '../fs/proc/task_mmu.js'
import {
  OracleWorld, type ReplayHost, PAGE, SMALL_LEN_MAX, HUGE_LEN_MIN, WRAP_LEN_MIN, NOREPLACE_SLACK, BRK_LIMIT, FILE_IO_MAX,
  MAX_ARENA_PAGES, MAX_DEPTH, U64, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MMAP_FLAGS, MREMAP_FLAGS,
  MSYNC_FLAGS, MLOCK_FLAGS, MLOCKALL_FLAGS, MADV_NAMES, SICODE, ORACLE_SIGNALS, num, inum, ceil_pg, fnv1a, hash_out,
  skip, ret_s, ok_or_errno, parse_map_line,
} from './world.js'

export { ScenarioError } from './json.js'
import { UTS_RELEASE } from '../include/version.js'
export { parse_map_line, type ReplayHost } from './world.js'

export const KERNEL_RELEASE = UTS_RELEASE

class Replayer extends OracleWorld {
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
    p.sys_munmap(r, (len + PAGE - 1n) & ~(PAGE - 1n) & U64)
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
    if (fn && fn.type !== 'null') fd = this.file_by_node(fn, ctx).fd
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
    const r = p.sys_mmap(addr !== null ? this.uabs(addr) : 0, len, prot, flags, fd, off)
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
    for (const line of proc_pid_maps(p.sys.mm, p.task).split('\n')) {
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
    const a = this.uabs(addr)
    const l = len
    let r: number
    switch (name) {
      case 'munmap':
        r = p.sys_munmap(a, l)
        break
      case 'mprotect':
        r = p.sys_mprotect(a, l, jprot(op, name))
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
    const r = p.sys_mremap(this.uabs(addr), old_len, new_len, flags, new_addr !== null ? this.uabs(new_addr) : 0)
    if (r < 0 && r >= -4095) return ret_s(errno_name(-r))
    return this.mapping(p, r, new_len)
  }

  signal_ret(start: number, f: { signal: number; si_code: number; addr: number | bigint }): string {
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
    const f = this.file_by_node(jget(op, 'file'), name)
    const off = jopt_int(op, 'off', 0n, name)
    if (name === 'ftruncate') {
      const size = jreq_int(op, 'size', name)
      return ok_or_errno(p.sys_ftruncate(f.fd, s64(size)))
    }
    if (name === 'pread') {
      const len = jreq_int(op, 'len', name)
      if (len > FILE_IO_MAX) return skip('length above 4MiB')
      const r = p.sys_pread(f.fd, Number(len), s64(off))
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
        const n = p.sys_pwrite(f.fd, new Uint8Array(chunk).fill(Number(byte & 0xffn)), pos)
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
      ? p.sys_pread_user(f.fd, this.abs(addr), num(len), s64(off))
      : p.sys_pwrite_user(f.fd, this.abs(addr), num(len), s64(off))
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
