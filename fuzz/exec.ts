/**
 * One fuzzed machine: the simulated processes, the shadow model beside
 * them, and the execution of one operation on both, classified.
 *
 * Failure classes:
 *  - invariant: a KernelBug (from the call or from the checker);
 *  - escaped: an exception that is neither ErrnoError/SignalError nor a
 *    programming-error TypeError/RangeError with Node's code;
 *  - rejected-valid: such a TypeError/RangeError for arguments C could pass;
 *  - accepted-invalid: a NaN, undefined, fraction, string or misplaced
 *    bigint the call did not refuse as a programming error;
 *  - impossible: a return value or errno the call cannot give;
 *  - overlap: a new mapping placed over one the model knows is there;
 *  - data: a load or read returned other bytes than were written.
 */
import {
  Machine, ErrnoError, SignalError, KernelBug, type Process,
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE,
  MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_REMOVE,
  MREMAP_DONTUNMAP, MREMAP_FIXED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, PROT_EXEC,
} from '../src/index.js'
import { type Arg, type Op, type OpKind } from './ops.js'
import { MAX_MODEL_PAGES, MemObj, PAGE, ProcModel, page_bytes, type Content } from './shadow.js'

export type FailureClass = 'invariant' | 'escaped' | 'rejected-valid' | 'accepted-invalid' | 'impossible' | 'overlap' | 'data'

export class FuzzFailure extends Error {
  constructor(
    readonly cls: FailureClass,
    message: string,
  ) {
    super(`${cls}: ${message}`)
  }
}

export interface WorldOptions {
  readonly seed: number
  readonly ram: string
  /** fail_page_alloc / failslab probability in percent (0: no injection). */
  readonly fail_percent: number
  readonly arch?: 'x86_64' | 'i386' | 'i386-pae'
  /** A zram swap area of this size (MADV_PAGEOUT then really swaps). */
  readonly swap?: string
}

/** What an argument of a call is, for deciding which values are programming errors. */
type ArgKind = 'ulong' | 'loff' | 'int' | 'len' | 'ulong?' | 'int?'
const SIG: Record<OpKind, readonly ArgKind[]> = {
  spawn: [], fork: [], exit: [], munlockall: [],
  mmap: ['ulong', 'ulong', 'ulong', 'ulong', 'int?', 'ulong?'],
  munmap: ['ulong', 'ulong'], mlock: ['ulong', 'ulong'], munlock: ['ulong', 'ulong'],
  mprotect: ['ulong', 'ulong', 'ulong'],
  mremap: ['ulong', 'ulong', 'ulong', 'ulong', 'ulong?'],
  madvise: ['ulong', 'ulong', 'int'], msync: ['ulong', 'ulong', 'int'],
  mlockall: ['int'], brk: ['ulong'],
  load: ['ulong', 'len'], store: ['ulong'],
  pwrite: ['int', 'loff'], pread: ['int', 'len', 'loff'], fsync: ['int'], fdatasync: ['int'], ftruncate: ['int', 'loff'],
}
/** -1: a programming error; 1: valid; 0: either answer is fine (an int past 32 bits). */
function arg_validity(kind: ArgKind, v: Arg): -1 | 0 | 1 {
  // An optional trailing parameter: undefined is its default, as in any JS call.
  if (kind.endsWith('?')) {
    if (v === undefined) return 1
    kind = kind.slice(0, -1) as ArgKind
  }
  const int = typeof v === 'number' && Number.isInteger(v)
  switch (kind) {
    case 'ulong':
    case 'loff':
      return int || typeof v === 'bigint' ? 1 : -1
    case 'int':
      return !int ? -1 : v >= -(2 ** 31) && v < 2 ** 31 ? 1 : 0
    default:
      return !int ? -1 : v < 0 ? -1 : v <= 2 ** 31 ? 1 : 0
  }
}

const ERRNOS: Partial<Record<OpKind, readonly string[]>> = {
  mmap: ['EACCES', 'EAGAIN', 'EBADF', 'EEXIST', 'EINVAL', 'ENODEV', 'ENOMEM', 'EOVERFLOW', 'EPERM', 'EOPNOTSUPP'],
  munmap: ['EINVAL', 'ENOMEM', 'EPERM'],
  mprotect: ['EACCES', 'EINVAL', 'ENOMEM', 'EPERM'],
  mremap: ['EAGAIN', 'EFAULT', 'EINVAL', 'ENOMEM', 'EPERM'],
  madvise: ['EACCES', 'EAGAIN', 'EBADF', 'EINVAL', 'EIO', 'ENOMEM', 'EPERM', 'EFAULT', 'EBUSY'],
  mlock: ['EAGAIN', 'EINVAL', 'ENOMEM', 'EPERM'], munlock: ['EINVAL', 'ENOMEM', 'EPERM'],
  mlockall: ['EINVAL', 'ENOMEM', 'EPERM'], munlockall: [],
  msync: ['EBUSY', 'EINVAL', 'ENOMEM', 'EIO'],
  pwrite: ['EBADF', 'EFBIG', 'EINVAL', 'EIO', 'ENOSPC', 'ENOMEM'], pread: ['EBADF', 'EINVAL', 'EIO', 'ENOMEM'],
  fsync: ['EBADF', 'EIO', 'EINVAL'], fdatasync: ['EBADF', 'EIO', 'EINVAL'], ftruncate: ['EBADF', 'EINVAL', 'EFBIG', 'EPERM', 'ENOMEM'],
  // spawn is fork + execve: load_elf_binary() fails with EFAULT when a user copy into the new mm faults (out of memory).
  fork: ['ENOMEM'], spawn: ['ENOMEM', 'EFAULT'], brk: [],
}

const FILES = ['/data/fuzz', '/tmp/fuzz'] as const
/** Every process has the fuzz files open at these descriptors (spawn opens them; fork inherits them). */
export const FILE_FDS = [3, 4]

/** As an exact value in [0, 2^64) (a valid ulong argument). */
function u64(v: Arg): bigint {
  // undefined: an omitted optional argument, whose default is 0.
  return BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt((v ?? 0) as number))
}
/** An address or length as a JS number when small enough to model (else null). */
function small(v: bigint): number | null {
  return v < 2n ** 52n ? Number(v) : null
}
const palign = (v: bigint): bigint => (v + 4095n) & ~4095n

export class World {
  readonly m: Machine
  /** Processes and their models by slot (a slot is named by the op that created it). */
  readonly procs = new Map<number, Process>()
  readonly models = new Map<number, ProcModel>()
  /** The slot the next spawn or fork gets when its op does not name one. */
  next_slot = 0
  readonly files: MemObj[] = FILES.map((f) => new MemObj(f, 0))
  readonly task_size: bigint
  ops_run = 0
  /** Outcomes by kind, for the report. */
  readonly counts = new Map<string, number>()

  constructor(readonly o: WorldOptions) {
    this.m = new Machine({ arch: o.arch ?? 'x86_64', ram: o.ram, seed: o.seed, cpus: 2, swap: o.swap })
    this.task_size = BigInt(this.m.arch.TASK_SIZE)
    this.spawn(this.next_slot++)
    for (const f of [this.m.fail_page_alloc, this.m.failslab]) {
      f.probability = o.fail_percent
      f.ignore_gfp_reclaim = false
      f.verbose = 0
    }
    this.m.fail_page_alloc.min_order = 0
    this.m.fail_page_alloc.ignore_gfp_highmem = false
  }

  live_slots(): number[] {
    return [...this.procs.keys()]
  }

  private count(k: string): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1)
  }

  private spawn(slot: number): void {
    let p: Process
    try {
      p = this.m.spawn({ name: 'fuzz' })
    } catch (e) {
      this.expect_errno(e, 'spawn')
      return
    }
    const model = new ProcModel()
    model.brk = p.sys_brk(0)
    for (let i = 0; i < FILES.length; i++) {
      const fd = p.sys_open(FILES[i], O_CREAT | O_RDWR)
      if (fd !== FILE_FDS[i]) {
        // Out of memory while opening: the process is of no use to the model.
        p.exit(0)
        p.wait()
        if (fd >= 0 || fd !== -12) throw new FuzzFailure('impossible', `open ${FILES[i]} gave fd ${fd}`)
        return
      }
    }
    this.procs.set(slot, p)
    this.models.set(slot, model)
  }

  private expect_errno(e: unknown, k: OpKind): string {
    if (e instanceof ErrnoError) {
      if (!(ERRNOS[k] ?? []).includes(e.code)) throw new FuzzFailure('impossible', `${k} failed with ${e.code}`)
      return e.code
    }
    throw e
  }

  /** Run one op; throws FuzzFailure. An op naming a slot that is not alive is skipped. */
  run(op: Op): void {
    this.ops_run++
    if (op.k === 'spawn') {
      const slot = op.c ?? this.next_slot
      this.next_slot = Math.max(this.next_slot, slot + 1)
      if (this.procs.size < 8 && !this.procs.has(slot)) this.spawn(slot)
      return
    }
    const p = this.procs.get(op.p)
    const model = this.models.get(op.p)
    if (!p || !model) return
    const sig = SIG[op.k]
    let invalid = false
    let either = false
    for (let i = 0; i < sig.length; i++) {
      const v = arg_validity(sig[i], op.a[i])
      if (v < 0) invalid = true
      if (v === 0) either = true
    }
    let result: unknown
    let err: unknown = null
    try {
      result = this.call(p, op)
    } catch (e) {
      err = e
    }
    if (err instanceof KernelBug) throw new FuzzFailure('invariant', `${err.message}`)
    const arg_error = (err instanceof TypeError || err instanceof RangeError) &&
      ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE'].includes((err as { code?: string }).code ?? '')
    if (err && !arg_error && !(err instanceof ErrnoError) && !(err instanceof SignalError)) {
      throw new FuzzFailure('escaped', `${(err as Error)?.name}: ${(err as Error)?.message}${process.env.FUZZ_STACK ? '\n' + (err as Error)?.stack : ''}`)
    }
    if (invalid && !arg_error) throw new FuzzFailure('accepted-invalid', `returned ${err ? (err as Error).message : String(result)}`)
    if (arg_error && !invalid && !either) throw new FuzzFailure('rejected-valid', (err as Error).message)
    if (arg_error) {
      this.count(`${op.k}:argerr`)
      return
    }
    this.apply(op, p, model, result, err)
    this.reap()
  }

  /** The API call itself. */
  private call(p: Process, op: Op): unknown {
    const a = op.a as never[]
    switch (op.k) {
      case 'fork': return p.fork()
      case 'exit': p.exit(0); return 0
      case 'mmap': return p.sys_mmap(a[0], a[1], a[2], a[3], a[4], a[5])
      case 'munmap': return p.sys_munmap(a[0], a[1])
      case 'mprotect': return p.sys_mprotect(a[0], a[1], a[2])
      case 'mremap': return p.sys_mremap(a[0], a[1], a[2], a[3], a[4])
      case 'madvise': return p.sys_madvise(a[0], a[1], a[2])
      case 'mlock': return p.sys_mlock(a[0], a[1])
      case 'munlock': return p.sys_munlock(a[0], a[1])
      case 'mlockall': return p.sys_mlockall(a[0])
      case 'munlockall': return p.sys_munlockall()
      case 'msync': return p.sys_msync(a[0], a[1], a[2])
      case 'brk': return p.sys_brk(a[0])
      case 'load': return p.load(a[0], a[1])
      case 'store': return p.store(a[0], op.d as Uint8Array)
      case 'pwrite': return p.sys_pwrite(a[0], op.d as Uint8Array, a[1])
      case 'pread': return p.sys_pread(a[0], a[1], a[2])
      case 'fsync': return p.sys_fsync(a[0])
      case 'fdatasync': return p.sys_fdatasync(a[0])
      case 'ftruncate': return p.sys_ftruncate(a[0], a[1])
      case 'spawn': return 0
    }
  }

  /** Drop the processes that died (a signal, the OOM path) from the model, and reap them. */
  private reap(): void {
    for (const [i, p] of this.procs) {
      if (!p.alive) {
        p.wait()
        this.procs.delete(i)
        this.models.delete(i)
      }
    }
  }

  /** A raw syscall's result: -errno checked against the call's errno list. */
  private errno_of(k: OpKind, r: unknown): string | null {
    if (typeof r !== 'number') return null
    if (r < 0) {
      if (r < -4095 || !Number.isInteger(r)) throw new FuzzFailure('impossible', `${k} returned ${r}`)
      try {
        throw new ErrnoError(-r, k)
      } catch (e) {
        return this.expect_errno(e, k)
      }
    }
    return null
  }

  /** Update the model with the outcome of `op`, checking what it returned. */
  private apply(op: Op, p: Process, model: ProcModel, r: unknown, err: unknown): void {
    const a = op.a
    const k = op.k
    if (k === 'fork') {
      if (err) return void this.count(`fork:${this.expect_errno(err, 'fork')}`)
      const slot = op.c ?? this.next_slot
      this.next_slot = Math.max(this.next_slot, slot + 1)
      if (this.procs.has(slot)) throw new FuzzFailure('impossible', `slot ${slot} reused`)
      this.procs.set(slot, r as Process)
      this.models.set(slot, model.fork())
      return void this.count('fork:ok')
    }
    if (k === 'exit') return
    if (k === 'load' || k === 'store') return this.access(op, p, model, r, err)
    if (err) throw new FuzzFailure('impossible', `raw ${k} threw ${(err as Error).message}`)
    if (k === 'pwrite' || k === 'pread' || k === 'fsync' || k === 'fdatasync' || k === 'ftruncate') return this.file_op(op, r)
    const e = k === 'brk' ? null : this.errno_of(k, r)
    this.count(`${k}:${e ?? 'ok'}`)
    if (k === 'mlockall' || k === 'munlockall') {
      if (!e && r !== 0) throw new FuzzFailure('impossible', `${k} returned ${String(r)}`)
      return
    }
    if (k !== 'mmap' && k !== 'mremap' && k !== 'brk' && !e && r !== 0) throw new FuzzFailure('impossible', `${k} returned ${String(r)}`)
    const addr = u64(a[0])
    const len = k === 'brk' ? 0n : u64(a[1])
    const start = small(addr)
    // An end past 2^52 (a huge length) covers every page the model can know.
    const end = start === null ? null : (small(addr + palign(len)) ?? 2 ** 53)
    const ts = this.task_size
    switch (k) {
      case 'mmap': {
        const flags = Number(u64(a[3]) & 0xffffffffn)
        const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0
        if (e) {
          // A failed MAP_FIXED may or may not have unmapped what was there: a shared page
          // may still be mapped, and stores through it change the object unseen.
          if (flags & MAP_FIXED && start !== null && end !== null) this.forget_obj_range(model, start, end)
          return
        }
        const ret = BigInt(r as number)
        const L = palign(len)
        if (ret % 4096n || ret < 0n || ret + L > ts || L === 0n) throw new FuzzFailure('impossible', `mmap returned 0x${ret.toString(16)} for length ${len}`)
        if (fixed && ret !== addr) throw new FuzzFailure('impossible', `MAP_FIXED mmap at 0x${addr.toString(16)} returned 0x${ret.toString(16)}`)
        const s = Number(ret)
        const n = Number(L / 4096n)
        if (!(flags & MAP_FIXED)) {
          const over = model.entries(s / PAGE, s / PAGE + n)
          if (over.length) throw new FuzzFailure('overlap', `mmap returned 0x${s.toString(16)}+${L} over the mapped page 0x${(over[0][0] * PAGE).toString(16)}`)
        }
        model.forget(s, s + Number(L))
        if (n > MAX_MODEL_PAGES) return
        const prot = Number(u64(a[2]) & 7n)
        const prot_extra = u64(a[2]) > 7n
        const type = flags & MAP_TYPE
        const anon = (flags & MAP_ANONYMOUS) !== 0
        const fdi = FILE_FDS.indexOf(a[4] as number)
        if (prot_extra || (type !== MAP_PRIVATE && type !== MAP_SHARED && type !== MAP_SHARED_VALIDATE)) return
        if (!anon && fdi < 0) return
        const off = u64(a[5])
        const obj = anon ? (type === MAP_PRIVATE ? null : new MemObj('shmem', Number(L))) : this.files[fdi]
        const base = anon ? 0 : Number(off / 4096n)
        for (let i = 0; i < n; i++) {
          const content: Content = !obj
            ? { t: 'private', data: new Uint8Array(PAGE), backing: null }
            : type === MAP_PRIVATE ? { t: 'cow', obj, idx: base + i } : { t: 'shared', obj, idx: base + i }
          model.pages.set(s / PAGE + i, { prot, content, dontfork: false, wipeonfork: false })
        }
        return
      }
      case 'munmap':
        if (!e && start !== null && end !== null) model.forget(start, end)
        if (!e && (addr % 4096n || addr + palign(len) > ts)) throw new FuzzFailure('impossible', `munmap of 0x${addr.toString(16)}+${len} succeeded`)
        return
      case 'mprotect': {
        if (start === null || end === null) return
        const prot = Number(u64(a[2]) & 7n)
        if (e) return model.forget_prot(start, end)
        // PROT_GROWSDOWN/GROWSUP extend the change to the VMA's end: forget every protection.
        if (u64(a[2]) > 7n) return model.forget_prot(0, Number.MAX_SAFE_INTEGER)
        for (const [, st] of model.entries(start / PAGE, Math.ceil(end / PAGE))) {
          if (st.prot !== null && st.prot & PROT_WRITE) st.was_writable = true
          st.prot = prot
        }
        return
      }
      case 'madvise': {
        if (start === null || end === null) return
        const adv = a[2] as number
        const content_changing = [MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_REMOVE, 8 /* FREE */, 102, 103].includes(adv)
        if (e) {
          // Linux applies the advice to the mapped part before it reports ENOMEM for a hole.
          if (content_changing) this.forget_obj_range(model, start, end)
          if ([MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK].includes(adv)) {
            for (const [, st] of model.entries(start / PAGE, Math.ceil(end / PAGE))) st.fork_unknown = true
          }
          return
        }
        const pages = model.entries(start / PAGE, Math.ceil(end / PAGE))
        for (const [v, st] of pages) {
          const c = st.content
          switch (adv) {
            case MADV_DONTNEED:
            case MADV_DONTNEED_LOCKED:
              if (c?.t === 'private') st.content = c.backing ? { t: 'cow', obj: c.backing.obj, idx: c.backing.idx } : { t: 'private', data: new Uint8Array(PAGE), backing: null }
              break
            case MADV_REMOVE:
              if (c?.t === 'shared') {
                c.obj.pages.delete(c.idx)
                this.obj_changed(c.obj, c.idx, c.idx)
                this.untaint(c.obj, c.idx)
              } else model.pages.delete(v)
              break
            case MADV_DONTFORK: st.dontfork = true; break
            case MADV_DOFORK: st.dontfork = false; break
            case MADV_WIPEONFORK: st.wipeonfork = true; break
            case MADV_KEEPONFORK: st.wipeonfork = false; break
            default:
              if (content_changing || adv < 0 || adv > 25) model.pages.delete(v)
          }
        }
        return
      }
      case 'mremap': return this.mremap(op, model, r as number, e)
      case 'brk': {
        const ret = r as number
        const old = model.brk
        if (ret !== old && BigInt(ret) !== addr) throw new FuzzFailure('impossible', `brk(0x${addr.toString(16)}) returned 0x${ret.toString(16)}, the break was 0x${old.toString(16)}`)
        if (ret === old) return
        const oa = Math.ceil(old / PAGE) * PAGE
        const na = Math.ceil(ret / PAGE) * PAGE
        model.brk = ret
        if (na < oa) model.forget(na, oa)
        else if (na > oa && (na - oa) / PAGE <= MAX_MODEL_PAGES) {
          for (let v = oa / PAGE; v < na / PAGE; v++) {
            if (model.pages.has(v)) throw new FuzzFailure('overlap', `brk grew over the mapped page 0x${(v * PAGE).toString(16)}`)
            model.pages.set(v, { prot: PROT_READ | PROT_WRITE, content: { t: 'private', data: new Uint8Array(PAGE), backing: null }, dontfork: false, wipeonfork: false })
          }
        }
        return
      }
      default:
        return
    }
  }

  /** Files the model gave up on (a huge offset was written). */
  private readonly wild = new Set<MemObj>()

  private untaint(obj: MemObj, idx: number): void {
    this.tainted(obj).delete(idx)
  }
  private readonly taints = new Map<MemObj, Set<number>>()
  /** Object pages whose bytes past EOF were stored through a mapping: the model no longer vouches for them. */
  tainted(obj: MemObj): Set<number> {
    let t = this.taints.get(obj)
    if (!t) this.taints.set(obj, (t = new Set()))
    return t
  }

  private mremap(op: Op, model: ProcModel, r: number, e: string | null): void {
    const a = op.a
    const addr = u64(a[0])
    const old_len = palign(u64(a[1]))
    const new_len = palign(u64(a[2]))
    const flags = Number(u64(a[3]) & 0xffffffffn)
    const new_addr = u64(a[4])
    const os = small(addr)
    const oe = small(addr + old_len)
    if (e) {
      // A failed move may have been unwound only in part: forget both places.
      if (os !== null && oe !== null) this.forget_obj_range(model, os, oe)
      if (flags & MREMAP_FIXED && small(new_addr) !== null && small(new_addr + new_len) !== null) this.forget_obj_range(model, Number(new_addr), Number(new_addr + new_len))
      return
    }
    const ret = BigInt(r)
    // Same size, not moved: Linux returns addr before looking at the range (probe mremap_tail).
    if (ret === addr && old_len === new_len && !(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))) return
    if (ret % 4096n || ret + new_len > this.task_size || new_len === 0n) throw new FuzzFailure('impossible', `mremap returned 0x${ret.toString(16)}`)
    if (flags & MREMAP_FIXED && ret !== new_addr) throw new FuzzFailure('impossible', `MREMAP_FIXED to 0x${new_addr.toString(16)} returned 0x${ret.toString(16)}`)
    if (os === null || oe === null) return
    const ns = Number(ret)
    const nn = Number(new_len / 4096n)
    const on = Number(old_len / 4096n)
    const ov = os / PAGE
    // Snapshots: the old entries are rewritten below (DONTUNMAP) or forgotten.
    const moved = model.entries(ov, ov + Math.min(on === 0 ? nn : on, nn)).map(([v, st]) => [v - ov, { ...st }] as const)
    const last = model.pages.get(ov + (on === 0 ? nn : on) - 1)
    const contiguous = moved.length === Math.min(on === 0 ? nn : on, nn)
    if (ret !== addr && on !== 0) {
      const over = model.entries(ns / PAGE, ns / PAGE + nn)
      if (!(flags & MREMAP_FIXED) && over.some(([v]) => v < ov || v >= ov + on)) throw new FuzzFailure('overlap', `mremap moved to 0x${ns.toString(16)} over a mapped page`)
    }
    if (on === 0) {
      // A duplicate of a shared mapping: a new VMA with the flags of the one at addr, over the
      // object pages from addr's on (whatever VMAs follow addr in the old place).
      model.forget(ns, ns + nn * PAGE)
      const first = model.pages.get(ov)
      const c = first?.content
      if (nn > MAX_MODEL_PAGES || !first || c?.t !== 'shared') return
      for (let i = 0; i < nn; i++) model.pages.set(ns / PAGE + i, { prot: first.prot, content: { t: 'shared', obj: c.obj, idx: c.idx + i }, dontfork: false, wipeonfork: false })
      return
    }
    if (flags & MREMAP_DONTUNMAP) {
      // The old range stays mapped, emptied: private pages fault in afresh.
      for (const [, st] of model.entries(ov, ov + on)) {
        const c = st.content
        if (c?.t === 'private') st.content = c.backing ? { t: 'cow', obj: c.backing.obj, idx: c.backing.idx } : { t: 'private', data: new Uint8Array(PAGE), backing: null }
      }
      // ... and the moved pages are new entries, so copy the states.
    } else model.forget(os, oe)
    model.forget(ns, ns + nn * PAGE)
    if (nn > MAX_MODEL_PAGES) return
    for (const [i, st] of moved) {
      model.pages.set(ns / PAGE + i, st)
    }
    // Growth: the tail continues the last page's kind.
    if (nn > on && contiguous && last && last.content && last.prot !== null) {
      const lc = last.content
      for (let i = on; i < nn; i++) {
        const content: Content | null = lc.t === 'private'
          ? (lc.backing ? { t: 'cow', obj: lc.backing.obj, idx: lc.backing.idx + (i - on + 1) } : { t: 'private', data: new Uint8Array(PAGE), backing: null })
          : { t: lc.t, obj: lc.obj, idx: lc.idx + (i - on + 1) }
        model.pages.set(ns / PAGE + i, { prot: last.prot, content, dontfork: last.dontfork, wipeonfork: last.wipeonfork })
      }
    }
  }

  /** load/store: checks the bytes a load returns; records what a store wrote. */
  private access(op: Op, p: Process, model: ProcModel, r: unknown, err: unknown): void {
    const addr = u64(op.a[0])
    const len = op.k === 'store' ? (op.d as Uint8Array).length : (op.a[1] as number)
    if (err && !(err instanceof SignalError)) throw new FuzzFailure('impossible', `${op.k} threw ${(err as Error).message}`)
    const s = small(addr)
    if (s === null || len === 0) return void this.count(`${op.k}:${err ? 'signal' : 'ok'}`)
    if (err) {
      this.count(`${op.k}:signal`)
      // The bytes before the faulting page may have been stored.
      if (op.k === 'store') this.forget_obj_range(model, s, s + len)
      return
    }
    this.count(`${op.k}:ok`)
    const out = r as Uint8Array
    if (op.k === 'load' && out.length !== len) throw new FuzzFailure('impossible', `load of ${len} bytes returned ${out.length}`)
    for (let pos = s; pos < s + len; ) {
      const v = Math.floor(pos / PAGE)
      const o = pos - v * PAGE
      const n = Math.min(PAGE - o, s + len - pos)
      const st = model.pages.get(v)
      if (st) {
        if (st.prot !== null && (op.k === 'load' ? (st.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) === 0 : !(st.prot & PROT_WRITE))) {
          throw new FuzzFailure('impossible', `${op.k} at 0x${pos.toString(16)} succeeded on a page with prot ${st.prot}`)
        }
        const c = st.content
        if (c && op.k === 'load') {
          const want = page_bytes(c)
          const tainted = c.t !== 'private' && (this.tainted(c.obj).has(c.idx) || this.wild.has(c.obj))
          if (want && !tainted) {
            for (let i = 0; i < n; i++) {
              if (out[pos - s + i] !== want[o + i]) {
                throw new FuzzFailure('data', `p${op.p} load at 0x${(pos + i).toString(16)} read ${out[pos - s + i]}, the model has ${want[o + i]} (${c.t}${c.t !== 'private' ? ` ${c.obj.name}[${c.idx}]` : ''})`)
              }
            }
          }
        } else if (c && op.k === 'store') {
          const src = (op.d as Uint8Array).subarray(pos - s, pos - s + n)
          if (c.t === 'private') c.data.set(src, o)
          else if (c.t === 'cow') {
            const data = (page_bytes(c) ?? new Uint8Array(PAGE)).slice()
            data.set(src, o)
            st.content = { t: 'private', data, backing: { obj: c.obj, idx: c.idx } }
            if (this.tainted(c.obj).has(c.idx) || this.wild.has(c.obj)) st.content = null
          } else {
            c.obj.page_for_write(c.idx).set(src, o)
            this.obj_changed(c.obj, c.idx, c.idx)
            if (c.idx * PAGE + o + n > c.obj.size) this.tainted(c.obj).add(c.idx)
          }
        }
      }
      pos += n
    }
  }

  /**
   * The bytes of object page obj[idx] change. A writable private mapping of it may have had its
   * copy made already, without a store the model saw: populating (MAP_POPULATE, MAP_LOCKED,
   * mlock, mlockall, MADV_POPULATE_WRITE, mprotect of a locked VMA) write-faults every page of
   * a writable private mapping (populate_vma_page_range()'s FOLL_WRITE), and may stop part way.
   * Such pages no longer say which bytes they hold.
   */
  private obj_changed(obj: MemObj, first: number, last: number): void {
    for (const m of this.models.values()) {
      for (const st of m.pages.values()) {
        const c = st.content
        if (c?.t === 'cow' && c.obj === obj && c.idx >= first && c.idx <= last && (st.prot === null || st.prot & PROT_WRITE || st.was_writable)) st.content = null
      }
    }
  }

  /** After a failed store: the pages it may have written in part are no longer known. */
  private forget_obj_range(model: ProcModel, s: number, e: number): void {
    for (const [v, st] of model.entries(Math.floor(s / PAGE), Math.ceil(e / PAGE))) {
      if (st.content?.t === 'shared') this.tainted(st.content.obj).add(st.content.idx)
      model.pages.delete(v)
    }
  }

  /** pwrite/pread/fsync/fdatasync/ftruncate through the buffer API, checked against the file's model. */
  private file_op(op: Op, r: unknown): void {
    const fdi = FILE_FDS.indexOf(op.a[0] as number)
    const k = op.k
    if (typeof r === 'number' && r < 0) {
      const e = this.errno_of(k, r)
      this.count(`${k}:${e}`)
      if (fdi >= 0 && e === 'EBADF') throw new FuzzFailure('impossible', `${k} on an open fd gave EBADF`)
      return
    }
    this.count(`${k}:ok`)
    if (fdi < 0) throw new FuzzFailure('impossible', `${k} on fd ${String(op.a[0])} succeeded`)
    const obj = this.files[fdi]
    const taint = this.tainted(obj)
    const pos = Number(u64(op.a[k === 'pread' ? 2 : 1] ?? 0))
    // Offsets past 2^32 succeed on a sparse file; the model keeps files small.
    if (this.wild.has(obj) || ((k === 'pwrite' || k === 'ftruncate') && pos > 2 ** 32)) {
      this.wild.add(obj)
      return
    }
    if (k === 'pwrite') {
      const n = r as number
      const d = op.d as Uint8Array
      const off = Number(u64(op.a[1]))
      if (n > d.length || n < 0) throw new FuzzFailure('impossible', `pwrite of ${d.length} returned ${n}`)
      for (let i = 0; i < n; i++) obj.page_for_write(Math.floor((off + i) / PAGE))[(off + i) % PAGE] = d[i]
      if (n > 0) this.obj_changed(obj, Math.floor(off / PAGE), Math.floor((off + n - 1) / PAGE))
      obj.size = Math.max(obj.size, off + n)
    } else if (k === 'pread') {
      const out = r as Uint8Array
      const off = Number(u64(op.a[2]))
      const want = Math.max(0, Math.min(op.a[1] as number, obj.size - off))
      if (out.length !== want) throw new FuzzFailure('data', `pread of ${op.a[1]} at ${off} from ${obj.name} (size ${obj.size}) returned ${out.length} bytes`)
      for (let i = 0; i < out.length; i++) {
        const v = Math.floor((off + i) / PAGE)
        if (taint.has(v)) continue
        const b = obj.read(v)?.[(off + i) % PAGE] ?? 0
        if (out[i] !== b) throw new FuzzFailure('data', `pread from ${obj.name} at ${off + i} read ${out[i]}, the model has ${b}`)
      }
    } else if (k === 'ftruncate') {
      const size = Number(u64(op.a[1]))
      if (size < obj.size) {
        const keep = Math.ceil(size / PAGE)
        for (const v of [...obj.pages.keys()]) if (v >= keep) obj.pages.delete(v)
        this.obj_changed(obj, Math.max(0, keep - 1), Number.MAX_SAFE_INTEGER)
        for (const v of [...taint]) if (v >= keep) taint.delete(v)
        if (size % PAGE) obj.pages.get(keep - 1)?.fill(0, size % PAGE)
        // A tmpfs page out on swap is read back to zero its tail; when that read cannot get
        // memory (injected failures), Linux leaves the tail as it was (shmem_undo_range()).
        if (size % PAGE && this.o.fail_percent > 0 && this.o.swap !== undefined) this.tainted(obj).add(keep - 1)
        // Private copies of pages now past EOF are unmapped by truncation.
        for (const m of this.models.values()) {
          for (const [v, st] of m.pages) {
            const c = st.content
            const ref = c?.t === 'private' ? c.backing : c
            if (ref && ref.obj === obj && ref.idx >= keep) m.pages.delete(v)
          }
        }
      }
      obj.size = size
    }
  }
}
