/**
 * Process handles: the "libc" of a simulated process.
 *
 * A Process names a task of a machine and calls the machine's system-call
 * table (src/kernel/syscalls.ts) for it, as glibc's wrappers do: the
 * wrappers (mmap, munmap, ...) return the result or throw ErrnoError with
 * the kernel's errno; the `sys_*` variants return the raw kernel value
 * (>= 0 or -errno) for callers that want errno as data (the oracle
 * replay). load()/store()/fetch() are the process's own user-mode accesses
 * through the MMU: when the kernel answers one with a signal, a SignalError
 * is thrown (the process died of it unless it installed a handler with
 * sigaction); the machine goes on.
 *
 * Everything here is argument handling and error conversion; the kernel
 * state (task, descriptors, address space) lives in src/kernel and src/fs.
 * Invariant: once the task has exited every call throws ErrnoError(ESRCH).
 */
import type { Kstatfs } from '../mm/shmem.js'
import type { Cachestat } from '../mm/filemap_cachestat.js'
import { PAGE_SIZE } from '../include/page_types.js'
import { loff, ulong, type UlongArg } from '../include/ulong.js'
import type { MmStruct, VmFile } from '../mm/mm_types.js'
import type { Syscalls, UserAccess } from '../kernel/syscalls.js'
import type { UserFault } from '../kernel/mm_entry.js'
import { CLONE_VM } from '../kernel/fork.js'
import type { ProgramImage } from '../kernel/exec.js'
import type { SigHandler, TaskStruct } from '../kernel/task.js'
import { proc_pid_pagemap } from '../fs/proc/task_mmu.js'
import { oom_adj_write, oom_score_adj_write } from '../fs/proc/oom.js'
import { mem_rw, proc_mem_open } from '../fs/proc/mem.js'
import { ErrnoError, SignalError, check_syscall } from './errors.js'
import { arg_bytes, arg_count, arg_int, arg_object, arg_pollfds, arg_string, arg_uint, arg_ulong, ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, MAX_RW_COUNT } from './args.js'
import { EINVAL, EIO, ENOENT, ENOMEM, ESRCH } from '../include/uapi/errno.js'
import { SIGNAL_NAMES } from '../include/uapi/signal.js'
import { RLIM_INFINITY, type Rlimit } from '../include/resource.js'
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'
import type { PollFd } from '../include/uapi/poll.js'
import { E_SLEEPING } from '../include/wait.js'
import type { Sleeping } from '../kernel/wait.js'
import { ProcessAsleep } from './errors.js'
export { SEEK_SET, SEEK_CUR, SEEK_END, O_ACCMODE, O_APPEND, O_NONBLOCK, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'

const NO_BYTES = new Uint8Array(0)

/** A struct rlimit value: a number (RLIM_INFINITY is Infinity); NaN or a fraction is the caller's error. */
function arg_rlim(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new ERR_INVALID_ARG_TYPE(fn, name, 'of type number', v)
  if (!Number.isInteger(v) && v !== Infinity) throw new ERR_OUT_OF_RANGE(fn, name, 'an integer or Infinity', v)
  return v
}
const U = arg_ulong

export interface SpawnOptions {
  readonly name?: string
  readonly uid?: number
  /** A program image; default_image(name) when absent. */
  readonly image?: ProgramImage
  /**
   * The controlling terminal's device number (makedev(136, 0) for
   * /dev/pts/0), as a login shell's session has one; 0 or absent: none
   * (a daemon's). Forked children share it.
   */
  readonly tty?: number
  /** The gid (and egid, fsgid); the uid's own number when absent. Supplementary groups are not modelled. */
  readonly gid?: number
}

/** Spawn a process on a machine's system-call table (Machine.spawn). Throws ErrnoError. */
export function spawn_process(sys: Syscalls, o: SpawnOptions = {}): Process {
  const f = 'spawn'
  arg_object(f, 'options', o)
  if (o.name !== undefined) arg_string(f, 'options.name', o.name)
  if (o.uid !== undefined) arg_int(f, 'options.uid', o.uid)
  if (o.gid !== undefined) arg_int(f, 'options.gid', o.gid)
  if (o.tty !== undefined) arg_int(f, 'options.tty', o.tty)
  if (o.image !== undefined) arg_object(f, 'options.image', o.image)
  const t = sys.spawn(o.name ?? 'app', o.uid ?? 0, o.image, o.gid ?? o.uid ?? 0)
  if (typeof t === 'number') throw new ErrnoError(-t, 'execve')
  t.signal.tty = o.tty ?? 0
  return new Process(sys, t)
}

export class Process {
  /**
   * Where a number stops being its own unsigned long (2^53 with 64-bit
   * longs, 2^32 with 32-bit ones; src/include/ulong.ts): below it uaddr()
   * and ucount() return the argument at once. With the bound fixed at 2^32,
   * every x86_64 user address (0x7f...) took the general path on each load
   * and store.
   */
  private readonly plain_ulong_end: number

  constructor(
    readonly sys: Syscalls,
    readonly task: TaskStruct,
  ) {
    this.plain_ulong_end = sys.mm.arch.bits === 64 ? 2 ** 53 : 2 ** 32
  }

  get pid(): number {
    return this.task.pid
  }
  /** The CPU the task runs on. */
  get cpu(): number {
    return this.task.cpu
  }
  get alive(): boolean {
    return this.task.exit_state === 0
  }
  /** 'exit:<code>' or 'signal:<NAME>' once dead (the wait status); null while alive. */
  get status(): string | null {
    if (this.alive) return null
    const code = this.task.exit_code
    const signo = code & 0x7f
    return signo ? `signal:${SIGNAL_NAMES[signo] ?? signo}` : `exit:${(code >> 8) & 0xff}`
  }
  /** WCOREDUMP of the wait status: it died of a signal and its core file was written whole (src/fs/coredump.ts). */
  get core_dumped(): boolean {
    return !this.alive && (this.task.exit_code & 0x7f) !== 0 && (this.task.exit_code & 0x80) !== 0
  }
  /** The path of the core file its fatal signal wrote (whole or cut at RLIMIT_CORE), null when none. */
  get core_file(): string | null {
    return this.task.core_file
  }
  /** The address space (throws ErrnoError(ESRCH) once the process is dead). */
  get mm(): MmStruct {
    const mm = this.task.mm
    if (!mm || !this.alive) throw new ErrnoError(ESRCH, 'process')
    return mm
  }

  /** The task, checked alive (ESRCH otherwise) and awake (a sleeping process makes no calls). */
  private live(): TaskStruct {
    if (!this.task.mm || !this.alive) throw new ErrnoError(ESRCH, 'process')
    const asleep = this.sys.sleepers.asleep.get(this.task)
    if (asleep) throw new ProcessAsleep(this.task.pid, asleep)
    return this.task
  }

  /** The call this process sleeps in (read, write, poll), or null when it is running. */
  get sleeping(): Sleeping | null {
    return this.sys.sleepers.asleep.get(this.task) ?? null
  }

  /**
   * Start a call that may sleep (a read of an empty pipe): its result at
   * once, or the Sleeping record whose `result` is filled in when another
   * process (or a device's interrupt) wakes this one and the call finishes.
   */
  private begin(raw: number): Sleeping | number {
    return raw === -E_SLEEPING ? this.sys.sleepers.asleep.get(this.task)! : raw
  }
  /** read(2) that may sleep: bytes read / -errno now, or the Sleeping record. */
  begin_read(fd: number, addr: UlongArg, count: UlongArg): Sleeping | number {
    return this.begin(this.sys_read(fd, addr, count))
  }
  /** kill(2): 0 or -errno (ESRCH, EINVAL, EPERM). */
  sys_kill(pid: number, sig: number): number {
    return this.sys.sys_kill(this.live(), arg_int('kill', 'pid', pid), arg_int('kill', 'sig', sig))
  }
  kill(pid: number, sig: number): void {
    check_syscall(this.sys_kill(pid, sig), 'kill')
  }
  /** open(2) that may sleep (a driver's open that waits, as scullwuid's): the fd / -errno now, or the Sleeping record. */
  begin_open(path: string, flags: number, mode = 0o644): Sleeping | number {
    return this.begin(this.sys_open(path, flags, mode))
  }
  /** write(2) that may sleep. */
  begin_write(fd: number, addr: UlongArg, count: UlongArg): Sleeping | number {
    return this.begin(this.sys_write(fd, addr, count))
  }
  /** poll(2) that may sleep (timeout_ms not 0 and nothing ready). `fds[i].revents` are filled in. */
  begin_poll(fds: PollFd[], timeout_ms = -1): Sleeping | number {
    return this.begin(this.sys_poll(fds, timeout_ms))
  }
  sys_poll(fds: PollFd[], timeout_ms: number): number {
    return this.sys.sys_poll(this.live(), arg_pollfds('poll', 'fds', fds), arg_int('poll', 'timeout', timeout_ms))
  }
  /** poll(2) without sleeping (timeout 0): the number of ready entries; revents filled in. */
  poll(fds: PollFd[], timeout_ms = 0): number {
    return this.awake(this.sys_poll(fds, timeout_ms), 'poll')
  }
  /** A wrapper's result: ErrnoError for -errno, ProcessAsleep when the call sleeps. */
  private awake(r: number, name: string): number {
    if (r === -E_SLEEPING) throw new ProcessAsleep(this.task.pid, this.sys.sleepers.asleep.get(this.task)!)
    return check_syscall(r, name)
  }

  /**
   * Move the task to `cpu` and run it there (sched_setaffinity() to one
   * CPU): the CPU it leaves goes idle, keeping the mm loaded lazily.
   */
  run_on(cpu: number): void {
    const t = this.live()
    const sched = this.sys.sched
    if (arg_int('sched_setaffinity', 'cpu', cpu) < 0 || cpu >= sched.nr_cpus) throw new ErrnoError(EINVAL, 'sched_setaffinity')
    if (t.cpu !== cpu && sched.current[t.cpu] === t) sched.leave_cpu(t.cpu)
    t.cpu = cpu
    sched.run(t)
  }

  // ---- raw system calls: >= 0 or -errno ----
  // Addresses, lengths, prot and flags of the mm calls are unsigned longs and file positions
  // loff_t: a number or a bigint, a negative value standing for its two's complement
  // (src/include/ulong.ts).

  sys_mmap(addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, fd = -1, off: UlongArg = 0): number {
    const f = 'mmap'
    return this.sys.sys_mmap(this.live(), U(f, 'addr', addr), U(f, 'len', len), U(f, 'prot', prot), U(f, 'flags', flags), arg_int(f, 'fd', fd), U(f, 'off', off))
  }
  sys_munmap(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_munmap(this.live(), U('munmap', 'addr', addr), U('munmap', 'len', len))
  }
  sys_mprotect(addr: UlongArg, len: UlongArg, prot: UlongArg): number {
    return this.sys.sys_mprotect(this.live(), U('mprotect', 'addr', addr), U('mprotect', 'len', len), U('mprotect', 'prot', prot))
  }
  sys_mremap(addr: UlongArg, old_len: UlongArg, new_len: UlongArg, flags: UlongArg, new_addr: UlongArg = 0): number {
    const f = 'mremap'
    return this.sys.sys_mremap(this.live(), U(f, 'addr', addr), U(f, 'old_len', old_len), U(f, 'new_len', new_len), U(f, 'flags', flags), U(f, 'new_addr', new_addr))
  }
  sys_madvise(addr: UlongArg, len: UlongArg, advice: number): number {
    return this.sys.sys_madvise(this.live(), U('madvise', 'addr', addr), U('madvise', 'len', len), arg_int('madvise', 'advice', advice))
  }
  sys_mlock(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_mlock(this.live(), U('mlock', 'addr', addr), U('mlock', 'len', len))
  }
  /** Kernel: sys_mlock2(): unknown flags are EINVAL. */
  sys_mlock2(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.sys.sys_mlock2(this.live(), U('mlock2', 'addr', addr), U('mlock2', 'len', len), arg_int('mlock2', 'flags', flags))
  }
  sys_munlock(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_munlock(this.live(), U('munlock', 'addr', addr), U('munlock', 'len', len))
  }
  sys_mlockall(flags: number): number {
    return this.sys.sys_mlockall(this.live(), arg_int('mlockall', 'flags', flags))
  }
  sys_munlockall(): number {
    return this.sys.sys_munlockall(this.live())
  }
  sys_msync(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.sys.sys_msync(this.live(), U('msync', 'addr', addr), U('msync', 'len', len), arg_int('msync', 'flags', flags))
  }
  sys_mseal(addr: UlongArg, len: UlongArg, flags: UlongArg = 0): number {
    return this.sys.sys_mseal(this.live(), U('mseal', 'addr', addr), U('mseal', 'len', len), U('mseal', 'flags', flags))
  }
  sys_mincore(addr: UlongArg, len: UlongArg, vec: Uint8Array): number {
    // The kernel writes the vector: a Uint8Array the caller reads back.
    if (!(vec instanceof Uint8Array)) throw new ERR_INVALID_ARG_TYPE('mincore', 'vec', 'an instance of Uint8Array', vec)
    return this.sys.sys_mincore(this.live(), U('mincore', 'addr', addr), U('mincore', 'len', len), vec)
  }
  sys_swapon(path: string, swap_flags: number): number {
    return this.sys.sys_swapon(this.live(), arg_string('swapon', 'path', path), arg_int('swapon', 'swap_flags', swap_flags))
  }
  sys_swapoff(path: string): number {
    return this.sys.sys_swapoff(this.live(), arg_string('swapoff', 'path', path))
  }
  sys_brk(addr: UlongArg): number {
    return this.sys.sys_brk(this.live(), U('brk', 'brk', addr))
  }

  // ---- glibc-style wrappers ----

  mmap(addr: number, len: number, prot: number, flags: number, fd = -1, off = 0): number {
    return check_syscall(this.sys_mmap(addr, len, prot, flags, fd, off), 'mmap')
  }
  munmap(addr: number, len: number): void {
    check_syscall(this.sys_munmap(addr, len), 'munmap')
  }
  mprotect(addr: number, len: number, prot: number): void {
    check_syscall(this.sys_mprotect(addr, len, prot), 'mprotect')
  }
  mremap(addr: number, old_len: number, new_len: number, flags = 0, new_addr = 0): number {
    return check_syscall(this.sys_mremap(addr, old_len, new_len, flags, new_addr), 'mremap')
  }
  madvise(addr: number, len: number, advice: number): void {
    check_syscall(this.sys_madvise(addr, len, advice), 'madvise')
  }
  mlock(addr: number, len: number): void {
    check_syscall(this.sys_mlock(addr, len), 'mlock')
  }
  mlock2(addr: number, len: number, flags: number): void {
    check_syscall(this.sys_mlock2(addr, len, flags), 'mlock2')
  }
  munlock(addr: number, len: number): void {
    check_syscall(this.sys_munlock(addr, len), 'munlock')
  }
  mlockall(flags: number): void {
    check_syscall(this.sys_mlockall(flags), 'mlockall')
  }
  munlockall(): void {
    check_syscall(this.sys_munlockall(), 'munlockall')
  }
  msync(addr: number, len: number, flags: number): void {
    check_syscall(this.sys_msync(addr, len, flags), 'msync')
  }
  mseal(addr: number, len: number, flags = 0): void {
    check_syscall(this.sys_mseal(addr, len, flags), 'mseal')
  }
  /** swapon(2): swap on the block device at `path` (SWAP_FLAG_PREFER | prio for a priority). Throws ErrnoError. */
  swapon(path: string, swap_flags = 0): void {
    check_syscall(this.sys_swapon(path, swap_flags), 'swapon')
  }
  /** swapoff(2): bring the area's pages back in and stop swapping to it. Throws ErrnoError (EINVAL, ENOMEM, EPERM). */
  swapoff(path: string): void {
    check_syscall(this.sys_swapoff(path), 'swapoff')
  }
  /** mincore(2): one byte per page (bit 0: resident). */
  mincore(addr: UlongArg, len: UlongArg): Uint8Array {
    // The kernel refuses ranges past TASK_SIZE before writing the vector; larger vectors are capped at 16 Mi pages.
    const l = ulong(arg_ulong('mincore', 'len', len), this.sys.mm.arch.bits)
    const pages = typeof l === 'number' && l > 0 && l <= this.sys.mm.arch.TASK_SIZE ? Math.ceil(l / PAGE_SIZE) : 0
    const vec = new Uint8Array(Math.min(pages, 2 ** 24))
    check_syscall(this.sys_mincore(addr, len, vec), 'mincore')
    return vec
  }
  /**
   * brk(2) as glibc's sbrk sees it: brk(0) returns the current break; a
   * refused request leaves it unchanged (glibc's brk() then fails with
   * ENOMEM: so does this wrapper).
   */
  brk(addr: number): number {
    const r = this.sys_brk(addr)
    if (addr !== 0 && r !== addr) throw new ErrnoError(ENOMEM, 'brk')
    return r
  }

  // ---- resource limits ----

  /** Kernel: sys_getrlimit(): 0 or -EINVAL; `out` receives the limit. */
  sys_getrlimit(resource: number, out: Rlimit): number {
    return this.sys.sys_getrlimit(this.live(), arg_int('getrlimit', 'resource', resource), arg_object('getrlimit', 'rlim', out) as Rlimit)
  }
  /** Kernel: sys_setrlimit(): 0 or -errno (EINVAL, EPERM). */
  sys_setrlimit(resource: number, rlim: Rlimit): number {
    const r = arg_object('setrlimit', 'rlim', rlim) as Rlimit
    const cur = arg_rlim('setrlimit', 'rlim.rlim_cur', r.rlim_cur)
    const max = arg_rlim('setrlimit', 'rlim.rlim_max', r.rlim_max)
    return this.sys.sys_setrlimit(this.live(), arg_int('setrlimit', 'resource', resource), { rlim_cur: cur, rlim_max: max })
  }
  /** getrlimit(2): `{ cur, max }` in bytes (or the resource's unit); RLIM_INFINITY is Infinity. */
  getrlimit(resource: number): { cur: number; max: number } {
    const out: Rlimit = { rlim_cur: 0, rlim_max: 0 }
    check_syscall(this.sys_getrlimit(resource, out), 'getrlimit')
    return { cur: out.rlim_cur, max: out.rlim_max }
  }
  /**
   * setrlimit(2). Values are unsigned in Linux: -1 (or anything from 2^64 up)
   * is RLIM_INFINITY; other negative or fractional values are not a limit
   * a C program can pass and are refused with EINVAL.
   */
  setrlimit(resource: number, lim: { cur: number; max: number }): void {
    const l = arg_object('setrlimit', 'lim', lim) as { cur: unknown; max: unknown }
    const conv = (v: number): number => (v === -1 || v >= 2 ** 64 ? RLIM_INFINITY : v)
    const cur = conv(arg_rlim('setrlimit', 'lim.cur', l.cur))
    const max = conv(arg_rlim('setrlimit', 'lim.max', l.max))
    for (const v of [cur, max]) {
      if (v !== RLIM_INFINITY && (!Number.isInteger(v) || v < 0)) throw new ErrnoError(EINVAL, 'setrlimit')
    }
    check_syscall(this.sys_setrlimit(resource, { rlim_cur: cur, rlim_max: max }), 'setrlimit')
  }

  // ---- signals ----

  /** sigaction(2) for one signal: a handler function, 'SIG_DFL' or 'SIG_IGN'. Returns the old one. */
  sigaction(signo: number, handler: SigHandler): SigHandler {
    if (typeof handler !== 'function' && handler !== 'SIG_DFL' && handler !== 'SIG_IGN') {
      throw new ERR_INVALID_ARG_TYPE('sigaction', 'handler', "a function, 'SIG_DFL' or 'SIG_IGN'", handler)
    }
    const old = this.sys.sys_rt_sigaction(this.live(), arg_int('sigaction', 'signo', signo), handler)
    if (typeof old === 'number') throw new ErrnoError(-old, 'sigaction')
    return old
  }

  // ---- user-mode memory access ----

  /** A user pointer as the CPU register holds it (any integer, wrapped to the profile's width). */
  private uaddr(fn: string, addr: unknown): number | bigint {
    if (typeof addr === 'number' && addr >= 0 && addr < this.plain_ulong_end && Number.isInteger(addr)) return addr
    return ulong(arg_ulong(fn, 'addr', addr), this.sys.mm.arch.bits)
  }

  /** A size_t count: any integer, as the register holds it. */
  private ucount(fn: string, v: unknown): number | bigint {
    if (typeof v === 'number' && v >= 0 && v < this.plain_ulong_end && Number.isInteger(v)) return v
    return ulong(arg_ulong(fn, 'count', v), this.sys.mm.arch.bits)
  }

  /** The SignalError of a fault the kernel delivered (the process may have died of it). */
  private fault(r: UserAccess): never {
    const f = r.fault ?? { signal: 11, si_code: 1, addr: 0 }
    throw new SignalError(f.signal, f.si_code, f.addr)
  }
  /**
   * Write /proc/<pid>/oom_score_adj (or, with `legacy`, oom_adj) as this
   * process would, by default its own; `text` is what write(2) gets ("500",
   * "-1000\n"). Throws ErrnoError: EINVAL (not a number, out of range),
   * ERANGE, EACCES (lowering without CAP_SYS_RESOURCE).
   */
  write_oom_score_adj(text: string | number, target: Process = this, legacy = false): void {
    if (typeof text !== 'string' && typeof text !== 'number') throw new ERR_INVALID_ARG_TYPE('write_oom_score_adj', 'text', 'of type string or number', text)
    if (!(target instanceof Process)) throw new ERR_INVALID_ARG_TYPE('write_oom_score_adj', 'target', 'an instance of Process', target)
    // /proc/<pid> of a process of another machine is not in this one's /proc.
    if (target.sys !== this.sys) throw new ErrnoError(ESRCH, 'open')
    const t = this.live()
    const victim = target.live()
    const buf = String(text)
    const r = legacy ? oom_adj_write(victim, t.cred, this.sys.tasks.values(), buf) : oom_score_adj_write(victim, t.cred, this.sys.tasks.values(), buf)
    if (r < 0) throw new ErrnoError(-r, 'write')
  }
  /** Set this process's oom_score_adj (-1000..1000; -1000: never OOM-killed). Throws ErrnoError like write_oom_score_adj. */
  set_oom_score_adj(v: number): void {
    this.write_oom_score_adj(String(arg_int('set_oom_score_adj', 'v', v)))
  }
  /** signal->oom_score_adj. */
  get oom_score_adj(): number {
    return this.task.signal.oom_score_adj
  }
  /** A user-mode load of `len` bytes at `addr` through the MMU. */
  load(addr: UlongArg, len: number): Uint8Array {
    const t = this.task
    if (!t.mm || t.exit_state !== 0) this.live() // throws ESRCH; inline test: see store()
    const r = this.sys.user_access(t, this.uaddr('load', addr), arg_count('load', 'len', len), false)
    if (!r.ok) this.fault(r)
    return r.data ?? NO_BYTES
  }
  /** A user-mode store of `bytes` at `addr` through the MMU. */
  store(addr: UlongArg, bytes: Uint8Array | number[]): void {
    const a = this.uaddr('store', addr)
    const data = arg_bytes('store', 'bytes', bytes)
    const t = this.task
    // live()'s test inline (it throws ESRCH): a call less on the path of every access, whose
    // inlining budget the TLB lookup and the copy need (see Syscalls.user_access). A process
    // asleep in a call may still be accessed (inspection); a fault that kills it takes it off
    // its wait queue (do_exit()).
    if (!t.mm || t.exit_state !== 0) this.live()
    const r = this.sys.user_access(t, a, data.length, true, data)
    if (!r.ok) this.fault(r)
  }
  /**
   * A user-mode instruction fetch of `len` bytes at `addr` (the CPU reading
   * code to run) through the MMU: a page without VM_EXEC faults with
   * SIGSEGV/SEGV_ACCERR where the profile has NX (x86_64, i386-pae); on i386
   * every readable page is executable, as on the hardware.
   */
  fetch(addr: UlongArg, len: number): Uint8Array {
    const r = this.sys.user_fetch(this.live(), this.uaddr('fetch', addr), arg_count('fetch', 'len', len))
    if (!r.ok) this.fault(r)
    return r.data ?? NO_BYTES
  }
  /** Like load()/store(), but returns the fault instead of delivering it (bytes read up to it). */
  try_access(addr: UlongArg, len: number, write: boolean, data?: Uint8Array): { data?: Uint8Array; fault?: UserFault } {
    const a = this.uaddr('try_access', addr)
    const n = arg_count('try_access', 'len', len)
    const d = data === undefined ? undefined : arg_bytes('try_access', 'data', data)
    const r = this.sys.user_probe(this.live(), a, n, !!write, d)
    return { data: r.data, fault: r.ok ? undefined : r.fault }
  }

  /**
   * Entries of /proc/self/pagemap for `pages` pages from `addr` (bit 63
   * present, 61 file/shared-anon, 58 guard region, 56 exclusively mapped,
   * 0-54 the PFN, shown only to uid 0 as with CAP_SYS_ADMIN).
   */
  pagemap(addr: UlongArg, pages: number): bigint[] {
    const a = this.uaddr('pagemap', addr)
    const n = arg_count('pagemap', 'pages', pages, MAX_RW_COUNT / 8)
    const t = this.live()
    this.sys.sched.run(t)
    // An offset at or past TASK_SIZE's entry reads nothing (pagemap_read() stops at mm->task_size).
    if (typeof a !== 'number' || a >= this.sys.mm.arch.TASK_SIZE) return []
    const bytes = proc_pid_pagemap(this.sys.mm, t, Math.floor(a / PAGE_SIZE) * 8, n * 8, t.uid === 0)
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const out: bigint[] = []
    for (let i = 0; i < bytes.length / 8; i++) out.push(dv.getBigUint64(i * 8, true))
    return out
  }

  /**
   * pread(2) of /proc/<pid>/mem: `len` bytes of process `pid` at `addr`
   * (src/fs/proc/mem.ts: ptrace's access check at open, EACCES; pages
   * through get_user_pages with FOLL_FORCE, VM_IO/VM_PFNMAP mappings only
   * through their driver's vm_ops->access; EIO when no byte could be read;
   * fewer bytes when the read stopped part way). ENOENT for no such pid.
   */
  proc_mem_read(pid: number, addr: UlongArg, len: number): Uint8Array {
    const a = this.uaddr('proc_mem_read', addr)
    const n = arg_count('proc_mem_read', 'len', len, MAX_RW_COUNT)
    const buf = new Uint8Array(n)
    const r = this.proc_mem_rw(pid, a, buf, false)
    return buf.slice(0, r)
  }
  /** pwrite(2) of /proc/<pid>/mem: the bytes written (see proc_mem_read). */
  proc_mem_write(pid: number, addr: UlongArg, bytes: Uint8Array | number[]): number {
    const a = this.uaddr('proc_mem_write', addr)
    return this.proc_mem_rw(pid, a, Uint8Array.from(arg_bytes('proc_mem_write', 'bytes', bytes)), true)
  }
  private proc_mem_rw(pid: number, a: number | bigint, buf: Uint8Array, write: boolean): number {
    const t = this.live()
    const r = this.sys.in_kernel(t, () => {
      const task = this.sys.tasks.get(arg_int('proc_mem', 'pid', pid))
      if (!task || task.exit_state !== 0) return -ENOENT
      const mm = proc_mem_open(t, task)
      if (typeof mm === 'number') return mm
      // an address no VMA can hold: access_remote_vm() moves nothing
      if (typeof a !== 'number') return -EIO
      return mem_rw(mm, a, buf, write)
    })
    return check_syscall(r, write ? 'proc_mem_write' : 'proc_mem_read')
  }

  // ---- files ----

  sys_open(path: string, flags: number, mode = 0o644): number {
    return this.sys.sys_open(this.live(), arg_string('open', 'path', path), arg_int('open', 'flags', flags), arg_int('open', 'mode', mode))
  }
  open(path: string, flags = O_RDONLY, mode = 0o644): number {
    return check_syscall(this.sys_open(path, flags, mode), 'open')
  }
  creat(path: string, mode = 0o644): number {
    return this.open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)
  }
  sys_close(fd: number): number {
    return this.sys.sys_close(this.live(), arg_int('close', 'fd', fd))
  }
  close(fd: number): void {
    check_syscall(this.sys_close(fd), 'close')
  }
  /** The struct file behind an fd (undefined when not open). */
  file_of(fd: number): VmFile | undefined {
    return this.sys.fget(this.task, fd) ?? undefined
  }
  /** read(2) into user memory at `addr`, from the file position: bytes read, or -errno. */
  sys_read(fd: number, addr: UlongArg, count: UlongArg): number {
    return this.sys.sys_read(this.live(), arg_int('read', 'fd', fd), this.uaddr('read', addr), this.ucount('read', count))
  }
  read(fd: number, addr: UlongArg, count: UlongArg): number {
    return this.awake(this.sys_read(fd, addr, count), 'read')
  }
  /** write(2) from user memory at `addr`, at the file position (EOF with O_APPEND): bytes written, or -errno. */
  sys_write(fd: number, addr: UlongArg, count: UlongArg): number {
    return this.sys.sys_write(this.live(), arg_int('write', 'fd', fd), this.uaddr('write', addr), this.ucount('write', count))
  }
  write(fd: number, addr: UlongArg, count: UlongArg): number {
    return this.awake(this.sys_write(fd, addr, count), 'write')
  }
  /** lseek(2): the new file position (SEEK_SET 0, SEEK_CUR 1, SEEK_END 2). */
  sys_lseek(fd: number, offset: UlongArg, whence: number): number {
    return this.sys.sys_lseek(this.live(), arg_int('lseek', 'fd', fd), U('lseek', 'offset', offset), arg_int('lseek', 'whence', whence))
  }
  lseek(fd: number, offset: number, whence: number): number {
    return check_syscall(this.sys_lseek(fd, offset, whence), 'lseek')
  }
  /**
   * pread(2) into a fresh buffer, or into `into` (a Uint8Array of at least
   * len bytes, for a caller that reads often and keeps one buffer): the
   * bytes read (a view of `into` when given), or -errno.
   */
  sys_pread(fd: number, len: number, off: UlongArg, into?: Uint8Array): Uint8Array | number {
    const f = arg_int('pread', 'fd', fd)
    const n = arg_count('pread', 'len', len)
    if (into !== undefined) {
      if (!(into instanceof Uint8Array)) throw new ERR_INVALID_ARG_TYPE('pread', 'into', 'an instance of Uint8Array', into)
      if (into.length < n) throw new ERR_OUT_OF_RANGE('pread', 'into.length', `>= len (${n})`, into.length)
    }
    return this.sys.sys_pread_buf(this.live(), f, n, U('pread', 'off', off), into)
  }
  pread(fd: number, len: number, off = 0): Uint8Array {
    const r = this.sys_pread(fd, len, off)
    if (typeof r === 'number') throw new ErrnoError(-r, 'pread')
    return r
  }
  sys_pwrite(fd: number, data: Uint8Array, off: UlongArg): number {
    return this.sys.sys_pwrite_buf(this.live(), arg_int('pwrite', 'fd', fd), arg_bytes('pwrite', 'data', data), U('pwrite', 'off', off))
  }
  pwrite(fd: number, data: Uint8Array | number[], off: UlongArg = 0): number {
    return check_syscall(this.sys_pwrite(fd, arg_bytes('pwrite', 'data', data), off), 'pwrite')
  }
  /** Kernel: do_sys_ftruncate(): EINVAL unless open for writing or for a negative size. */
  sys_ftruncate(fd: number, size: UlongArg): number {
    return this.sys.sys_ftruncate(this.live(), arg_int('ftruncate', 'fd', fd), U('ftruncate', 'length', size))
  }
  ftruncate(fd: number, size: number): void {
    check_syscall(this.sys_ftruncate(fd, size), 'ftruncate')
  }
  /** memfd_create(2) as the raw system call: the descriptor, or -errno. */
  sys_memfd_create(name: string, flags = 0): number {
    return this.sys.sys_memfd_create(this.live(), arg_string('memfd_create', 'name', name), arg_int('memfd_create', 'flags', flags))
  }
  /** memfd_create(2) (MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL, MFD_EXEC): an anonymous tmpfs file; throws ErrnoError. */
  memfd_create(name: string, flags = 0): number {
    return check_syscall(this.sys_memfd_create(name, flags), 'memfd_create')
  }
  /** fcntl(2) as the raw system call: the command's result, or -errno. */
  sys_fcntl(fd: number, cmd: number, arg: UlongArg = 0): number {
    return this.sys.sys_fcntl(this.live(), arg_int('fcntl', 'fd', fd), arg_int('fcntl', 'cmd', cmd), U('fcntl', 'arg', arg))
  }
  /** fcntl(2): F_DUPFD(_CLOEXEC), F_GETFD, F_SETFD, F_ADD_SEALS, F_GET_SEALS; throws ErrnoError. */
  fcntl(fd: number, cmd: number, arg: UlongArg = 0): number {
    return check_syscall(this.sys_fcntl(fd, cmd, arg), 'fcntl')
  }
  /** cachestat(2) as the raw system call: struct cachestat of [off, off + len) (len 0: to the end), or -errno. */
  sys_cachestat(fd: number, off: UlongArg, len: UlongArg, flags = 0): Cachestat | number {
    return this.sys.sys_cachestat(this.live(), arg_int('cachestat', 'fd', fd), U('cachestat', 'off', off), U('cachestat', 'len', len), arg_int('cachestat', 'flags', flags))
  }
  /** cachestat(2): nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted in pages; throws ErrnoError. */
  cachestat(fd: number, off = 0, len = 0, flags = 0): Cachestat {
    const r = this.sys_cachestat(fd, off, len, flags)
    if (typeof r === 'number') throw new ErrnoError(r, 'cachestat')
    return r
  }
  /** statfs(2) as the raw system call: struct statfs, or -errno (tmpfs only: ENOSYS for ext4, whose disk has no size here). */
  sys_statfs(path: string): Kstatfs | number {
    return this.sys.sys_statfs(this.live(), arg_string('statfs', 'path', path))
  }
  /** statfs(2) (what df prints from); throws ErrnoError. */
  statfs(path: string): Kstatfs {
    const r = this.sys_statfs(path)
    if (typeof r === 'number') throw new ErrnoError(r, 'statfs')
    return r
  }
  /** fallocate(2) as the raw system call: 0 or -errno (ENOSPC past a tmpfs's size). */
  sys_fallocate(fd: number, mode: number, offset: UlongArg, len: UlongArg): number {
    return this.sys.sys_fallocate(this.live(), arg_int('fallocate', 'fd', fd), arg_int('fallocate', 'mode', mode), U('fallocate', 'offset', offset), U('fallocate', 'len', len))
  }
  /** fallocate(2) (FALLOC_FL_* modes); throws ErrnoError. */
  fallocate(fd: number, mode: number, offset: number, len: number): void {
    check_syscall(this.sys_fallocate(fd, mode, offset, len), 'fallocate')
  }
  /** posix_fadvise(2) as the raw system call: 0 or -errno. */
  sys_fadvise(fd: number, offset: UlongArg, len: UlongArg, advice: number): number {
    // offset and len are loff_t: any 64-bit value (a negative len is EINVAL).
    const f = 'fadvise'
    return this.sys.sys_fadvise64(this.live(), arg_int(f, 'fd', fd), Number(loff(U(f, 'offset', offset))), Number(loff(U(f, 'len', len))), arg_int(f, 'advice', advice))
  }
  /** posix_fadvise(2); throws ErrnoError. */
  fadvise(fd: number, offset: UlongArg, len: UlongArg, advice: number): void {
    check_syscall(this.sys_fadvise(fd, offset, len, advice), 'fadvise')
  }
  sys_fsync(fd: number): number {
    return this.sys.sys_fsync(this.live(), arg_int('fsync', 'fd', fd))
  }
  /** fsync(2): write the file's dirty pages and wait for them; throws ErrnoError. */
  fsync(fd: number): void {
    check_syscall(this.sys_fsync(fd), 'fsync')
  }
  sys_fdatasync(fd: number): number {
    return this.sys.sys_fdatasync(this.live(), arg_int('fdatasync', 'fd', fd))
  }
  /** fdatasync(2): as fsync, except that an inode whose times alone changed is not written for itself; throws ErrnoError. */
  fdatasync(fd: number): void {
    check_syscall(this.sys_fdatasync(fd), 'fdatasync')
  }
  /** sync(2): every filesystem's dirty data and metadata written, and the disks' caches flushed. */
  sync(): void {
    this.sys.sys_sync(this.live())
  }
  sys_syncfs(fd: number): number {
    return this.sys.sys_syncfs(this.live(), arg_int('syncfs', 'fd', fd))
  }
  /** syncfs(2): sync(2) for the filesystem `fd`'s file is on; throws ErrnoError. */
  syncfs(fd: number): void {
    check_syscall(this.sys_syncfs(fd), 'syncfs')
  }
  /** pread(2) into user memory: a short count when the destination runs into a hole, EFAULT when nothing could be copied. */
  sys_pread_user(fd: number, addr: UlongArg, len: UlongArg, off: UlongArg): number {
    return this.sys.sys_pread64(this.live(), arg_int('pread', 'fd', fd), this.uaddr('pread', addr), this.ucount('pread', len), U('pread', 'off', off))
  }
  /** pwrite(2) from user memory. */
  sys_pwrite_user(fd: number, addr: UlongArg, len: UlongArg, off: UlongArg): number {
    return this.sys.sys_pwrite64(this.live(), arg_int('pwrite', 'fd', fd), this.uaddr('pwrite', addr), this.ucount('pwrite', len), U('pwrite', 'off', off))
  }

  /**
   * ioctl(2): the driver's result (>= 0), or -errno. `arg` is the unsigned
   * long argument: a value, or an address in this process's memory for the
   * commands that pass a pointer (_IOR/_IOW/_IOWR).
   */
  sys_ioctl(fd: number, cmd: number, arg: UlongArg = 0): number {
    const a = ulong(U('ioctl', 'arg', arg), this.sys.mm.arch.bits)
    // An argument of 2^53 or more is no address of this process: its value rounded.
    return this.sys.sys_ioctl(this.live(), arg_int('ioctl', 'fd', fd), arg_uint('ioctl', 'cmd', cmd, 32), Number(a))
  }
  ioctl(fd: number, cmd: number, arg: UlongArg = 0): number {
    return check_syscall(this.sys_ioctl(fd, cmd, arg), 'ioctl')
  }
  /** mknod(2) of a character device: mode S_IFCHR | perms, dev from makedev(major, minor). */
  sys_mknod(path: string, mode: number, dev: number): number {
    const f = 'mknod'
    return this.sys.sys_mknod(this.live(), arg_string(f, 'path', path), arg_uint(f, 'mode', mode, 16), arg_uint(f, 'dev', dev, 32))
  }
  mknod(path: string, mode: number, dev: number): void {
    check_syscall(this.sys_mknod(path, mode, dev), 'mknod')
  }

  // ---- process life ----

  /** fork(2): a child with a copy of the address space (dup_mm), the fd table and the handlers. */
  fork(): Process {
    const c = this.sys.sys_clone(this.live())
    if (typeof c === 'number') throw new ErrnoError(-c, 'fork')
    return new Process(this.sys, c)
  }
  /** clone(CLONE_VM): another thread of this process (same address space), on `cpu`. */
  clone_thread(cpu = this.cpu): Process {
    if (arg_int('clone_thread', 'cpu', cpu) < 0 || cpu >= this.sys.sched.nr_cpus) throw new ErrnoError(EINVAL, 'sched_setaffinity')
    const c = this.sys.sys_clone(this.live(), CLONE_VM)
    if (typeof c === 'number') throw new ErrnoError(-c, 'clone')
    c.cpu = cpu
    return new Process(this.sys, c)
  }

  /** exit(2). */
  exit(code = 0): void {
    // Also a process asleep in a call can be ended (as a fatal signal would).
    if (!this.task.mm || !this.alive) throw new ErrnoError(ESRCH, 'process')
    this.sys.sys_exit(this.task, arg_int('exit', 'code', code))
  }

  /**
   * waitpid() on this process: its status string ('exit:0', 'signal:SIGSEGV'),
   * or null while alive. Reaping a zombie frees its task_struct (release_task()).
   */
  wait(): string | null {
    const status = this.status
    if (status !== null) this.sys.sys_wait4(this.task)
    return status
  }
}
