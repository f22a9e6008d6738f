/**
 * Running a loaded scenario on a fresh machine: each step is one call of
 * the Process API (a system call, a load or store) or of the kernel API
 * (alloc_pages, kmalloc, ...), or a look inside (cat of a /proc file, pmap,
 * dmesg). Each step yields a record and one strace-like line,
 *   a: mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3c0a3f0000
 * failures print as strace does (`= -1 ENOMEM (Cannot allocate memory)`,
 * `--- SIGSEGV {si_code=SEGV_MAPERR, si_addr=0x0} ---`) and the run goes
 * on; an `expect:` that does not hold stops it (ScenarioExpectError).
 * The whole-machine invariant check runs at the end.
 */
import { F_ADD_SEALS, O_RDONLY } from '../include/uapi/fcntl.js'
import { RLIMIT_NAMES } from '../include/resource.js'
import { read_elf_core, readelf_l } from '../user/readelf.js'
import { Machine } from '../machine.js'
import type { Process } from '../user/process.js'
import type { KmemCache } from '../mm/slab_common.js'
import { GFP_KERNEL, format_gfp } from '../mm/gfp.js'
import { ERRNO_DESCRIPTIONS, STRERROR, errno_name } from '../include/uapi/errno.js'
import { ProcNotFound } from '../fs/proc/internal.js'
import { ErrnoError } from '../user/errors.js'
import { MAP_ANONYMOUS } from '../include/uapi/mman.js'
import { pmap } from '../user/pmap.js'
import { free, type FreeUnit } from '../user/free.js'
import { vmstat } from '../user/vmstat.js'
import { USER_HZ } from '../fs/proc/stat.js'
import type { Page } from '../mm/page.js'
import type { Cgroup } from '../user/cgroup.js'
import { S_ISBLK, S_ISCHR, fput } from '../fs/fs.js'

/** The most of a core file the readelf step reads (its headers come first). */
const MAX_CORE_READ = 64 * 1024 * 1024
import { DEVICE_OPS, device_step, sys, type DeviceRecord } from './steps_devices.js'
import type { Scenario, Step } from './load.js'
import type { ExpectSrc } from './schema.js'
import { Observer, type RunOptions, type StepObservations } from './observe.js'
import { ScenarioRunError, enum_text, flags, flags_text, hex_addr, value, type Bindings, type FlagsSrc, type ValueSrc } from './values.js'

/** What one step did (with --explain, --trace or --counters also what it decided, emitted and left: observe.ts). */
export interface StepRecord extends StepObservations, DeviceRecord {
  step: number
  line: number
  op: string
  /** The step's `say:` explanation, printed after its output. */
  say?: string
}

/** An `expect:` that did not hold; the message names the file, line and column. */
export class ScenarioExpectError extends Error {
  /** The step's record (printed before the failure). */
  record: StepRecord | null = null
  constructor(message: string) {
    super(message)
    this.name = 'ScenarioExpectError'
  }
}

export { hex_addr }

function bytes_of(data: unknown, env: Bindings): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data)
  if (Array.isArray(data)) return Uint8Array.from(data as number[])
  const f = data as { fill: number; len: ValueSrc }
  return new Uint8Array(value(f.len, env)).fill(f.fill)
}

function text_of(b: Uint8Array): string {
  const printable = b.every((c) => c === 9 || c === 10 || (c >= 32 && c < 127))
  return printable ? JSON.stringify(new TextDecoder().decode(b)) : `[${[...b].join(', ')}]`
}

/** The running state of one scenario: its machine, processes, caches and `as:` bindings. */
export class Run {
  readonly m: Machine
  readonly env: Bindings = new Map()
  readonly procs = new Map<string, Process>()
  readonly caches = new Map<string, KmemCache>()
  readonly cgroups = new Map<string, Cgroup>()
  current: string | null = null
  /** Explanations, events and counters per step, as the options ask (observe.ts). */
  readonly observer: Observer

  constructor(readonly sc: Pick<Scenario, 'file' | 'machine'>, opts: RunOptions = {}) {
    const o = sc.machine
    this.m = new Machine({ arch: o.arch ?? 'x86_64', ram: o.ram ?? '256M', cpus: o.cpus, seed: o.seed ?? 1, randomize_va_space: o.randomize_va_space, slab: o.slab, debug_vm: o.debug_vm, swap: o.swap, reclaim: o.reclaim })
    this.observer = new Observer(this.m, opts)
  }

  proc(name?: string): [string, Process] {
    const n = name ?? this.current
    if (n === null) throw new ScenarioRunError('no process yet: start one with `- spawn: NAME`')
    const p = this.procs.get(n)
    if (!p) throw new ScenarioRunError(`no process '${n}' (spawn it first)`)
    return [n, p]
  }

  v(x: ValueSrc | undefined, dflt = 0): number {
    return x === undefined ? dflt : value(x, this.env)
  }

  bind(name: string | undefined, n: number | undefined): void {
    if (name !== undefined && n !== undefined) this.env.set(name, n)
  }

  /**
   * Run one step (the index-th) and check its expect:. Throws
   * ScenarioRunError or ScenarioExpectError naming the step's place.
   */
  exec(s: Step, index: number): StepRecord {
    const place = `${this.sc.file}:${s.line}:${s.col}`
    let r: StepRecord
    const t0 = this.observer.begin()
    try {
      r = step(this, s, index)
    } catch (e) {
      if (e instanceof ScenarioRunError) throw new ScenarioRunError(`${place}: ${s.op}: ${e.message}`)
      throw e
    }
    Object.assign(r, this.observer.end(t0))
    const e = (s.args as { expect?: ExpectSrc } | null)?.expect
    if (s.say !== undefined) r.say = s.say
    if (e !== undefined) {
      const why = unmet(r, e, this.env)
      if (why) {
        const err = new ScenarioExpectError(`${place}: ${s.op}: expected ${why}`)
        err.record = r
        throw err
      }
    }
    return r
  }
}

type A = Record<string, unknown>

/** One step. Returns its record (without checking `expect:`). */
function step(run: Run, s: Step, index: number): StepRecord {
  const a = (typeof s.args === 'object' && s.args !== null && !Array.isArray(s.args) ? s.args : {}) as A
  const scalar = typeof s.args === 'object' ? undefined : (s.args as string | number | boolean)
  const rec: StepRecord = { step: index + 1, line: s.line, op: s.op, who: '', call: '' }
  if (DEVICE_OPS.has(s.op)) {
    device_step(run, s.op, s.args, rec)
    return rec
  }
  const v = (x: unknown, d?: number): number => run.v(x as ValueSrc | undefined, d)
  const f = (x: unknown, kind: Parameters<typeof flags>[1]): number => (x === undefined ? 0 : flags(x as FlagsSrc, kind))
  const k = run.m.kernel
  // A kernel allocation fails with NULL (0), alloc_pages with no page (-1).
  const kernel = (call: string, fn: () => number, failed = (r: number): boolean => r === 0): void => {
    rec.who = 'kernel'
    rec.call = call
    const r = fn()
    rec.ret = r
    if (failed(r)) rec.errno = 'ENOMEM'
  }
  switch (s.op) {
    case 'spawn': {
      const name = scalar !== undefined ? String(scalar) : (a.name as string)
      const p = run.m.spawn({ name, uid: a.uid as number | undefined })
      run.procs.set(name, p)
      run.current = name
      Object.assign(rec, { who: name, call: `spawn(${JSON.stringify(name)})`, ret: p.pid })
      break
    }
    case 'use': {
      run.proc(String(scalar))
      run.current = String(scalar)
      Object.assign(rec, { who: String(scalar), call: 'use', ret: run.procs.get(String(scalar))?.pid })
      break
    }
    case 'fork': {
      const [who, p] = run.proc()
      const name = scalar !== undefined ? String(scalar) : (a.as as string)
      rec.who = who
      rec.call = 'fork()'
      sys(rec, () => {
        const c = p.fork()
        run.procs.set(name, c)
        return c.pid
      })
      break
    }
    case 'exit': {
      const [who, p] = run.proc()
      const code = typeof scalar === 'number' ? scalar : ((a.code as number | undefined) ?? 0)
      Object.assign(rec, { who, call: `exit(${code})` })
      sys(rec, () => p.exit(code))
      break
    }
    case 'wait': {
      const name = scalar !== undefined ? String(scalar) : (a.process as string)
      const [, p] = run.proc(name)
      const status = p.wait()
      // WCOREDUMP, as a shell reports it
      Object.assign(rec, { who: run.current ?? '', call: `wait(${name})`, ret: status === null ? 'running' : p.core_dumped ? `${status} (core dumped)` : status })
      break
    }
    case 'mmap': {
      const [who, p] = run.proc()
      const [addr, len, prot, fl] = [v(a.addr, 0), v(a.len), f(a.prot, 'prot'), f(a.flags, 'map')]
      const [fd, off] = [v(a.fd, -1), v(a.off, 0)]
      rec.who = who
      rec.call = `mmap(${addr ? hex_addr(addr) : 'NULL'}, ${len}, ${flags_text(prot, 'prot')}, ${flags_text(fl, 'map')}, ${fd}, ${off})`
      sys(rec, () => p.mmap(addr, len, prot, fl, fl & MAP_ANONYMOUS ? -1 : fd, off))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'munmap':
    case 'munlock': {
      const [who, p] = run.proc()
      const [addr, len] = [v(a.addr), v(a.len)]
      Object.assign(rec, { who, call: `${s.op}(${hex_addr(addr)}, ${len})` })
      sys(rec, () => (s.op === 'munmap' ? p.munmap(addr, len) : p.munlock(addr, len)))
      break
    }
    case 'mprotect': {
      const [who, p] = run.proc()
      const [addr, len, prot] = [v(a.addr), v(a.len), f(a.prot, 'prot')]
      Object.assign(rec, { who, call: `mprotect(${hex_addr(addr)}, ${len}, ${flags_text(prot, 'prot')})` })
      sys(rec, () => p.mprotect(addr, len, prot))
      break
    }
    case 'madvise': {
      const [who, p] = run.proc()
      const [addr, len, adv] = [v(a.addr), v(a.len), f(a.advice, 'madv')]
      Object.assign(rec, { who, call: `madvise(${hex_addr(addr)}, ${len}, ${enum_text(adv, 'madv')})` })
      sys(rec, () => p.madvise(addr, len, adv))
      break
    }
    case 'mremap': {
      const [who, p] = run.proc()
      const [addr, ol, nl, fl, na] = [v(a.addr), v(a.old_len), v(a.new_len), f(a.flags, 'mremap'), v(a.new_addr, 0)]
      Object.assign(rec, { who, call: `mremap(${hex_addr(addr)}, ${ol}, ${nl}, ${flags_text(fl, 'mremap')}${na ? `, ${hex_addr(na)}` : ''})` })
      sys(rec, () => p.mremap(addr, ol, nl, fl, na))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'mlock': {
      const [who, p] = run.proc()
      const [addr, len, fl] = [v(a.addr), v(a.len), f(a.flags, 'mlock')]
      Object.assign(rec, { who, call: fl ? `mlock2(${hex_addr(addr)}, ${len}, ${flags_text(fl, 'mlock')})` : `mlock(${hex_addr(addr)}, ${len})` })
      sys(rec, () => (fl ? p.mlock2(addr, len, fl) : p.mlock(addr, len)))
      break
    }
    case 'mlockall': {
      const [who, p] = run.proc()
      const fl = f(a.flags, 'mcl')
      Object.assign(rec, { who, call: `mlockall(${flags_text(fl, 'mcl')})` })
      sys(rec, () => p.mlockall(fl))
      break
    }
    case 'munlockall': {
      const [who, p] = run.proc()
      Object.assign(rec, { who, call: 'munlockall()' })
      sys(rec, () => p.munlockall())
      break
    }
    case 'msync': {
      const [who, p] = run.proc()
      const [addr, len, fl] = [v(a.addr), v(a.len), f(a.flags, 'msync')]
      Object.assign(rec, { who, call: `msync(${hex_addr(addr)}, ${len}, ${flags_text(fl, 'msync')})` })
      sys(rec, () => p.msync(addr, len, fl))
      break
    }
    case 'brk': {
      const [who, p] = run.proc()
      const addr = v(a.addr)
      Object.assign(rec, { who, call: `brk(${hex_addr(addr)})` })
      sys(rec, () => p.brk(addr))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'store': {
      const [who, p] = run.proc()
      const addr = v(a.addr)
      const data = bytes_of(a.data, run.env)
      Object.assign(rec, { who, call: `store(${hex_addr(addr)}, ${data.length > 64 ? `${data.length} bytes` : text_of(data)})` })
      sys(rec, () => {
        p.store(addr, data)
        return data.length
      })
      break
    }
    case 'load': {
      const [who, p] = run.proc()
      const [addr, len] = [v(a.addr), v(a.len)]
      Object.assign(rec, { who, call: `load(${hex_addr(addr)}, ${len})` })
      sys(rec, () => text_of(p.load(addr, len)))
      break
    }
    case 'open': {
      const [who, p] = run.proc()
      const fl = f(a.flags, 'open')
      Object.assign(rec, { who, call: `open(${JSON.stringify(a.path)}, ${flags_text(fl, 'open')}${a.mode !== undefined ? `, 0${(a.mode as number).toString(8)}` : ''})` })
      sys(rec, () => p.open(a.path as string, fl, (a.mode as number | undefined) ?? 0o644))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'close': {
      const [who, p] = run.proc()
      const fd = scalar !== undefined ? v(scalar) : v(a.fd)
      Object.assign(rec, { who, call: `close(${fd})` })
      sys(rec, () => p.close(fd))
      break
    }
    case 'pread': {
      const [who, p] = run.proc()
      const [fd, len, off] = [v(a.fd), v(a.len), v(a.off, 0)]
      regular_only(run, p, fd, 'pread')
      Object.assign(rec, { who, call: `pread(${fd}, ${len}, ${off})` })
      sys(rec, () => text_of(p.pread(fd, len, off)))
      break
    }
    case 'pwrite': {
      const [who, p] = run.proc()
      const [fd, off] = [v(a.fd), v(a.off, 0)]
      regular_only(run, p, fd, 'pwrite')
      const data = bytes_of(a.data, run.env)
      Object.assign(rec, { who, call: `pwrite(${fd}, ${data.length > 64 ? `${data.length} bytes` : text_of(data)}, ${off})` })
      sys(rec, () => p.pwrite(fd, data, off))
      break
    }
    case 'lseek': {
      const [who, p] = run.proc()
      const [fd, off, wh] = [v(a.fd), v(a.offset), f(a.whence, 'seek')]
      Object.assign(rec, { who, call: `lseek(${fd}, ${off}, ${enum_text(wh, 'seek')})` })
      sys(rec, () => p.lseek(fd, off, wh))
      break
    }
    case 'ftruncate': {
      const [who, p] = run.proc()
      const [fd, len] = [v(a.fd), v(a.len)]
      Object.assign(rec, { who, call: `ftruncate(${fd}, ${len})` })
      sys(rec, () => p.ftruncate(fd, len))
      break
    }
    case 'fsync': {
      const [who, p] = run.proc()
      const fd = scalar !== undefined ? v(scalar) : v(a.fd)
      Object.assign(rec, { who, call: `fsync(${fd})` })
      sys(rec, () => p.fsync(fd))
      break
    }
    case 'fdatasync':
    case 'syncfs': {
      const [who, p] = run.proc()
      const fd = scalar !== undefined ? v(scalar) : v(a.fd)
      Object.assign(rec, { who, call: `${s.op}(${fd})` })
      sys(rec, () => (s.op === 'fdatasync' ? p.fdatasync(fd) : p.syncfs(fd)))
      break
    }
    case 'sync': {
      const [who, p] = run.proc()
      Object.assign(rec, { who, call: 'sync()' })
      sys(rec, () => p.sync())
      break
    }
    case 'sleep': {
      // The process sleeps and the machine idles: its timers (the writeback flusher, kswapd) run on the way.
      const [who] = run.proc()
      const ms = scalar !== undefined ? v(scalar) : v(a.ms)
      Object.assign(rec, { who, call: `sleep(${ms} ms)`, ret: 0 })
      run.m.clock.sleep_until(run.m.clock.now() + ms * 1_000_000)
      break
    }
    case 'fallocate': {
      const [who, p] = run.proc()
      const [fd, mode, off, len] = [v(a.fd), a.mode === undefined ? 0 : f(a.mode, 'falloc'), v(a.off, 0), v(a.len)]
      Object.assign(rec, { who, call: `fallocate(${fd}, ${flags_text(mode, 'falloc')}, ${off}, ${len})` })
      sys(rec, () => (p.fallocate(fd, mode, off, len), 0))
      break
    }
    case 'memfd_create': {
      const [who, p] = run.proc()
      const fl = a.flags === undefined ? 0 : f(a.flags, 'memfd')
      Object.assign(rec, { who, call: `memfd_create(${JSON.stringify(a.name)}, ${flags_text(fl, 'memfd')})` })
      sys(rec, () => p.memfd_create(a.name as string, fl))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'fcntl': {
      const [who, p] = run.proc()
      const [fd, cmd, arg] = [v(a.fd), f(a.cmd, 'fcntl'), a.arg === undefined ? 0 : f(a.arg, 'seal')]
      Object.assign(rec, { who, call: `fcntl(${fd}, ${enum_text(cmd, 'fcntl')}${a.arg === undefined ? '' : `, ${cmd === F_ADD_SEALS ? flags_text(arg, 'seal') : arg}`})` })
      sys(rec, () => p.fcntl(fd, cmd, arg))
      run.bind(a.as as string | undefined, typeof rec.ret === 'number' ? rec.ret : undefined)
      break
    }
    case 'alloc_pages': {
      const gfp = a.gfp === undefined ? GFP_KERNEL : f(a.gfp, 'gfp')
      const order = a.order as number
      kernel(`alloc_pages(${format_gfp(gfp)}, ${order})`, () => k.alloc_pages(gfp, order) ?? -1, (r) => r < 0)
      run.bind(a.as as string | undefined, rec.ret as number)
      break
    }
    case 'free_pages': {
      const [page, order] = [v(a.page), a.order as number]
      rec.who = 'kernel'
      rec.call = `__free_pages(pfn ${hex_addr(page)}, ${order})`
      k.__free_pages(page as Page, order)
      rec.ret = 0
      break
    }
    case 'kmalloc': {
      const gfp = a.gfp === undefined ? GFP_KERNEL : f(a.gfp, 'gfp')
      const size = v(a.size)
      kernel(`kmalloc(${size}, ${format_gfp(gfp)})`, () => k.kmalloc(size, gfp))
      run.bind(a.as as string | undefined, rec.ret as number)
      break
    }
    case 'kfree': {
      const ptr = scalar !== undefined ? v(scalar) : v(a.ptr)
      Object.assign(rec, { who: 'kernel', call: `kfree(${hex_addr(ptr)})`, ret: 0 })
      k.kfree(ptr)
      break
    }
    case 'vmalloc': {
      const size = v(a.size)
      kernel(`vmalloc(${size})`, () => k.vmalloc(size))
      run.bind(a.as as string | undefined, rec.ret as number)
      break
    }
    case 'vfree': {
      const addr = scalar !== undefined ? v(scalar) : v(a.addr)
      Object.assign(rec, { who: 'kernel', call: `vfree(${hex_addr(addr)})`, ret: 0 })
      k.vfree(addr)
      break
    }
    case 'kmem_cache_create': {
      const [size, align] = [v(a.size), v(a.align, 0)]
      rec.who = 'kernel'
      rec.call = `kmem_cache_create(${JSON.stringify(a.name)}, ${size}, ${align}, 0, NULL)`
      const c = k.kmem_cache_create(a.name as string, size, align, 0 as never)
      if (c) run.caches.set((a.as as string | undefined) ?? (a.name as string), c)
      rec.ret = c ? c.name : 'NULL'
      if (!c) rec.errno = 'ENOMEM'
      break
    }
    case 'kmem_cache_alloc': {
      const c = cache(run, a.cache as string)
      kernel(`kmem_cache_alloc(${c.name}, ${format_gfp(GFP_KERNEL)})`, () => k.kmem_cache_alloc(c, GFP_KERNEL))
      run.bind(a.as as string | undefined, rec.ret as number)
      break
    }
    case 'kmem_cache_free': {
      const c = cache(run, a.cache as string)
      const ptr = v(a.ptr)
      Object.assign(rec, { who: 'kernel', call: `kmem_cache_free(${c.name}, ${hex_addr(ptr)})`, ret: 0 })
      k.kmem_cache_free(c, ptr)
      break
    }
    case 'kmem_cache_destroy': {
      const name = scalar !== undefined ? String(scalar) : (a.cache as string)
      const c = cache(run, name)
      Object.assign(rec, { who: 'kernel', call: `kmem_cache_destroy(${c.name})`, ret: 0 })
      k.kmem_cache_destroy(c)
      run.caches.delete(name)
      break
    }
    case 'cat': {
      const path = scalar !== undefined ? String(scalar) : (a.path as string)
      const self = run.current !== null ? run.procs.get(run.current) : undefined
      const real = self ? path.replace(/^\/proc\/self\//, `/proc/${self.pid}/`) : path
      let text: string
      try {
        text = run.m.proc(real)
      } catch (e) {
        if (e instanceof ProcNotFound) throw new ScenarioRunError(`no file ${path} in this machine's /proc`)
        if (e instanceof ErrnoError) throw new ScenarioRunError(`${path}: ${STRERROR[e.errno] ?? e.code}`)
        throw e
      }
      if (a.from !== undefined || a.until !== undefined) text = section(text, a.from as string | undefined, a.until as string | undefined)
      if (a.vma !== undefined) text = vma_entries(text, (Array.isArray(a.vma) ? a.vma : [a.vma]).map((x) => v(x)))
      const shown = a.vma !== undefined ? ` (the VMAs at ${(Array.isArray(a.vma) ? a.vma : [a.vma]).map((x) => hex_addr(v(x))).join(', ')})` : ''
      const sed = `${a.from !== undefined ? ` (from /${String(a.from)}/` : a.until !== undefined ? ' (' : ''}${a.until !== undefined ? `${a.from !== undefined ? ' ' : ''}until /${String(a.until)}/)` : a.from !== undefined ? ')' : ''}`
      Object.assign(rec, { call: `cat ${path}${shown}${sed}${a.grep !== undefined ? ` | grep -E '${String(a.grep)}'` : ''}`, text: grep(text, a.grep as string | undefined) })
      break
    }
    case 'pmap': {
      const [who, p] = run.proc(typeof scalar === 'string' ? scalar : (a.process as string | undefined))
      const smaps = run.m.proc(`/proc/${p.pid}/smaps`)
      const input = { pid: p.pid, cmdline: p.task.cmdline.join(' '), start_stack: BigInt(p.mm.start_stack), smaps, bits: run.m.arch.bits as 32 | 64 }
      Object.assign(rec, { who, call: `pmap ${p.pid}`, text: pmap(input) })
      break
    }
    case 'sysctl': {
      // sysctl -w NAME=VALUE: a write to /proc/sys/NAME (dots become slashes) by the current process, if any.
      const [name, val] = typeof scalar === 'string' ? scalar.split('=') : [a.name as string, String(a.value as number)]
      const p = run.current !== null ? run.procs.get(run.current) : undefined
      Object.assign(rec, { who: run.current ?? '', call: `sysctl -w ${name}=${val}` })
      try {
        sys(rec, () => run.m.proc_write(`/proc/sys/${name.replace(/\./g, '/')}`, `${val}\n`, p))
      } catch (e) {
        if (e instanceof ProcNotFound) throw new ScenarioRunError(`cannot stat /proc/sys/${name.replace(/\./g, '/')}: No such file or directory`)
        throw e
      }
      break
    }
    case 'dmesg':
      Object.assign(rec, { call: a.grep !== undefined ? `dmesg | grep -E '${String(a.grep)}'` : 'dmesg', text: grep(run.m.dmesg(), a.grep as string | undefined) })
      break
    case 'free': {
      const unit = (typeof scalar === 'string' ? scalar : (a.unit as string | undefined) ?? 'k') as FreeUnit
      Object.assign(rec, { call: unit === 'k' ? 'free' : `free -${unit}`, text: free(run.m.proc('/proc/meminfo'), unit) })
      break
    }
    case 'vmstat': {
      const m = run.m
      const text = vmstat({ stat: m.proc('/proc/stat'), meminfo: m.proc('/proc/meminfo'), vmstat: m.proc('/proc/vmstat'), page_kb: m.arch.PAGE_SIZE / 1024, hz: USER_HZ })
      Object.assign(rec, { call: 'vmstat', text })
      break
    }
    case 'check':
      run.m.check()
      Object.assign(rec, { call: 'check', ret: 'ok' })
      break
    case 'setrlimit': {
      const [who, p] = run.proc()
      const resource = RLIMIT_NAMES.indexOf(a.resource as string)
      const cur = v(a.cur)
      const max = a.max !== undefined ? v(a.max) : cur
      Object.assign(rec, { who, call: `setrlimit(${String(a.resource)}, {${cur}, ${max}})` })
      sys(rec, () => p.setrlimit(resource, { cur, max }))
      break
    }
    case 'readelf': {
      // readelf -l of a file (a core dump) as root reads it
      const path = scalar !== undefined ? String(scalar) : (a.path as string)
      const f = run.m.fs.filp_open(path, O_RDONLY, 0)
      if (typeof f === 'number') throw new ScenarioRunError(`readelf: cannot open ${path} (${errno_name(-f)})`)
      const bytes = run.m.fs.kernel_read(f, 0, MAX_CORE_READ)
      fput(f)
      if (typeof bytes === 'number') throw new ScenarioRunError(`readelf: cannot read ${path} (${errno_name(-bytes)})`)
      let text: string
      try {
        text = readelf_l(read_elf_core(bytes))
      } catch (e) {
        throw new ScenarioRunError(`readelf: ${path}: ${(e as Error).message}`)
      }
      Object.assign(rec, { call: `readelf -l ${path}`, text })
      break
    }
  }
  return rec
}

/**
 * pread and pwrite steps copy through a kernel buffer, which reaches a
 * regular file's page cache only; a device's read and write copy to and
 * from the process's memory, so they are the read and write steps.
 */
function regular_only(run: Run, p: Process, fd: number, op: string): void {
  const f = run.m.syscalls.fget(p.task, fd)
  if (f && (S_ISCHR(f.f_inode.i_mode) || S_ISBLK(f.f_inode.i_mode))) throw new ScenarioRunError(`fd ${fd} is a device: use ${op === 'pread' ? 'read' : 'write'}: {fd, buf, len} with a buffer of the process (a device's ${op === 'pread' ? 'read' : 'write'} copies to and from user memory)`)
}

/**
 * The entries of a maps or smaps text for the VMAs containing the given
 * addresses: each VMA's line and, in smaps, the field lines after it.
 */
function vma_entries(text: string, addrs: number[]): string {
  const out: string[] = []
  let keep = false
  for (const l of text.split('\n')) {
    const r = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l)
    if (r) {
      const [lo, hi] = [BigInt('0x' + r[1]), BigInt('0x' + r[2])]
      keep = addrs.some((x) => BigInt(x) >= lo && BigInt(x) < hi)
    }
    if (keep && l !== '') out.push(l)
  }
  return out.length ? out.join('\n') + '\n' : ''
}

/** The lines from the first matching `from` (default: the first line) up to, not including, the next matching `until`. */
function section(text: string, from: string | undefined, until: string | undefined): string {
  const lines = text.split('\n')
  const start = from === undefined ? 0 : lines.findIndex((l) => new RegExp(from).test(l))
  if (start < 0) return ''
  const end = until === undefined ? -1 : lines.findIndex((l, i) => i > start && new RegExp(until).test(l))
  const out = lines.slice(start, end < 0 ? undefined : end).filter((l) => l !== '')
  return out.length ? out.join('\n') + '\n' : ''
}

/** The lines of a text that match a regular expression (all of it without one). */
function grep(text: string, re: string | undefined): string {
  if (re === undefined) return text
  const r = new RegExp(re)
  const lines = text.split('\n').filter((l) => l !== '' && r.test(l))
  return lines.length ? lines.join('\n') + '\n' : ''
}

function cache(run: Run, name: string): KmemCache {
  const c = run.caches.get(name)
  if (!c) throw new ScenarioRunError(`no cache '${name}' (create it with kmem_cache_create first)`)
  return c
}

/** The line a record prints (the text of a look inside follows it). */
export function record_line(r: StepRecord): string {
  const who = r.who ? `${r.who}: ` : ''
  if (r.text !== undefined) return `${who}$ ${r.call}`
  if (r.signal) return `${who}${r.call} = --- ${r.signal.signal} {si_code=${r.signal.code}, si_addr=${hex_addr(r.signal.addr)}} ---`
  if (r.errno && r.who !== 'kernel') return `${who}${r.call} = -1 ${r.errno} (${STRERROR[errno_number(r.errno)] ?? ERRNO_DESCRIPTIONS[errno_number(r.errno)] ?? 'error'})`
  if (r.who === 'kernel' && r.errno) return `${who}${r.call} = NULL`
  if (r.op === 'alloc_pages') return `${who}${r.call} = pfn ${hex_addr(r.ret as number)}`
  const ret = typeof r.ret === 'number' ? (Math.abs(r.ret) >= 0x10000 || r.ret < 0 ? hex_addr(r.ret) : String(r.ret)) : String(r.ret ?? '')
  return `${who}${r.call} = ${ret}`
}

/** The explanation lines printed under a step's line (docs/explain.md): `  | kind: text`. */
export function explain_lines(r: StepRecord): string[] {
  return (r.explain ?? []).map((x) => `  | ${x.kind}: ${x.text}`)
}

/** A step as text: its line, its explanations, then what a look inside printed. */
export function record_text(r: StepRecord): string {
  const out = [record_line(r), ...explain_lines(r)]
  if (r.text !== undefined && r.text !== '') out.push(r.text.replace(/\n$/, ''))
  // a scenario's (a lesson's) own words on the step
  if (r.say !== undefined) for (const l of r.say.replace(/\n$/, '').split('\n')) out.push(`  # ${l}`)
  return out.join('\n')
}

/** A record for JSON output: addresses and pfns as the kernel's hex, as the text lines print them. */
export function record_json(r: StepRecord): object {
  const ret = typeof r.ret === 'number' && (r.op === 'alloc_pages' || r.ret < 0 || r.ret >= 0x10000) ? hex_addr(r.ret) : r.ret
  const signal = r.signal && { ...r.signal, addr: hex_addr(r.signal.addr) }
  return { ...r, ret, signal }
}

/** errno numbers by name, for strace's description after the name. */
const ERRNO_BY_NAME = new Map(Object.keys(ERRNO_DESCRIPTIONS).map((n) => [errno_name(Number(n)), Number(n)]))

function errno_number(name: string): number {
  return ERRNO_BY_NAME.get(name) ?? 0
}

/** Does a record satisfy its step's `expect:`? null when it does, else what differs. */
function unmet(r: StepRecord, e: ExpectSrc, env: Bindings): string | null {
  const got = r.signal ? `${r.signal.signal}` : r.errno ? r.errno : r.text !== undefined ? 'its text' : typeof r.ret === 'number' ? hex_or_dec(r.ret) : String(r.ret)
  if (e === 'ok') return r.errno || r.signal ? `success, got ${got}` : null
  if (typeof e === 'number' || typeof e === 'string') {
    const want = value(e, env)
    return r.ret === want && !r.errno && !r.signal ? null : `${hex_or_dec(want)}, got ${got}`
  }
  if ('errno' in e) return r.errno === e.errno ? null : `${e.errno}, got ${got}`
  if ('signal' in e) {
    if (r.signal?.signal !== e.signal) return `${e.signal}, got ${got}`
    return e.code === undefined || e.code === r.signal.code ? null : `${e.signal} ${e.code}, got ${r.signal.code}`
  }
  const text = r.text ?? (typeof r.ret === 'string' ? r.ret : String(r.ret))
  if ('contains' in e) {
    const missing = (Array.isArray(e.contains) ? e.contains : [e.contains]).filter((t) => !text.includes(t))
    return missing.length ? `text containing ${JSON.stringify(missing[0])}` : null
  }
  if ('lacks' in e) {
    const present = (Array.isArray(e.lacks) ? e.lacks : [e.lacks]).filter((t) => text.includes(t))
    return present.length ? `text without ${JSON.stringify(present[0])}` : null
  }
  if ('text' in e) return text === JSON.stringify(e.text) || text === e.text ? null : `${JSON.stringify(e.text)}, got ${text}`
  const want = `[${e.bytes.join(', ')}]`
  const as_bytes = text.startsWith('"') ? `[${[...new TextEncoder().encode(JSON.parse(text) as string)].join(', ')}]` : text
  return as_bytes === want ? null : `${want}, got ${as_bytes}`
}

function hex_or_dec(n: number): string {
  return Math.abs(n) >= 0x10000 || n < 0 ? hex_addr(n) : String(n)
}

/**
 * Run a scenario; `emit` gets each record as it completes. Throws
 * ScenarioExpectError when an expect: fails, ScenarioRunError (with the
 * step's place) when a step cannot run as written.
 */
export function run_scenario(sc: Scenario, emit: (r: StepRecord) => void, opts: RunOptions = {}): Machine {
  const run = new Run(sc, opts)
  sc.steps.forEach((s, i) => {
    let r: StepRecord
    try {
      r = run.exec(s, i)
    } catch (e) {
      if (e instanceof ScenarioExpectError && e.record) emit(e.record)
      throw e
    }
    emit(r)
  })
  run.observer.close()
  run.m.check()
  return run.m
}
