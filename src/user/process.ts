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
import { PAGE_SIZE } from '../include/page_types.js'
import type { UlongArg } from '../include/ulong.js'
import type { MmStruct, VmFile } from '../mm/mm_types.js'
import type { Syscalls, UserAccess } from '../kernel/syscalls.js'
import type { UserFault } from '../kernel/mm_entry.js'
import { CLONE_VM } from '../kernel/fork.js'
import type { ProgramImage } from '../kernel/exec.js'
import type { SigHandler, TaskStruct } from '../kernel/task.js'
import { proc_pid_pagemap } from '../fs/proc/task_mmu.js'
import { ErrnoError, SignalError, check_syscall } from './errors.js'
import { EINVAL, ENOMEM, ESRCH } from '../include/uapi/errno.js'
import { SIGNAL_NAMES } from '../include/uapi/signal.js'
import { RLIM_INFINITY, type Rlimit } from '../include/resource.js'
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'
export { SEEK_SET, SEEK_CUR, SEEK_END, O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'

const NO_BYTES = new Uint8Array(0)

export interface SpawnOptions {
  readonly name?: string
  readonly uid?: number
  /** A program image; default_image(name) when absent. */
  readonly image?: ProgramImage
}

/** Spawn a process on a machine's system-call table (Machine.spawn). Throws ErrnoError. */
export function spawn_process(sys: Syscalls, o: SpawnOptions = {}): Process {
  const t = sys.spawn(o.name ?? 'app', o.uid ?? 0, o.image)
  if (typeof t === 'number') throw new ErrnoError(-t, 'execve')
  return new Process(sys, t)
}

export class Process {
  constructor(
    readonly sys: Syscalls,
    readonly task: TaskStruct,
  ) {}

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
  /** The address space (throws ErrnoError(ESRCH) once the process is dead). */
  get mm(): MmStruct {
    const mm = this.task.mm
    if (!mm || !this.alive) throw new ErrnoError(ESRCH, 'process')
    return mm
  }

  /** The task, checked alive (ESRCH otherwise). */
  private live(): TaskStruct {
    if (!this.task.mm || !this.alive) throw new ErrnoError(ESRCH, 'process')
    return this.task
  }

  /**
   * Move the task to `cpu` and run it there (sched_setaffinity() to one
   * CPU): the CPU it leaves goes idle, keeping the mm loaded lazily.
   */
  run_on(cpu: number): void {
    const t = this.live()
    const sched = this.sys.sched
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= sched.nr_cpus) throw new ErrnoError(EINVAL, 'sched_setaffinity')
    if (t.cpu !== cpu && sched.current[t.cpu] === t) sched.leave_cpu(t.cpu)
    t.cpu = cpu
    sched.run(t)
  }

  // ---- raw system calls: >= 0 or -errno ----
  // Addresses, lengths, prot and flags of the mm calls are unsigned longs and file positions
  // loff_t: a number or a bigint, a negative value standing for its two's complement
  // (src/include/ulong.ts).

  sys_mmap(addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, fd = -1, off: UlongArg = 0): number {
    return this.sys.sys_mmap(this.live(), addr, len, prot, flags, fd, off)
  }
  sys_munmap(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_munmap(this.live(), addr, len)
  }
  sys_mprotect(addr: UlongArg, len: UlongArg, prot: UlongArg): number {
    return this.sys.sys_mprotect(this.live(), addr, len, prot)
  }
  sys_mremap(addr: UlongArg, old_len: UlongArg, new_len: UlongArg, flags: UlongArg, new_addr: UlongArg = 0): number {
    return this.sys.sys_mremap(this.live(), addr, old_len, new_len, flags, new_addr)
  }
  sys_madvise(addr: UlongArg, len: UlongArg, advice: number): number {
    return this.sys.sys_madvise(this.live(), addr, len, advice)
  }
  sys_mlock(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_mlock(this.live(), addr, len)
  }
  /** Kernel: sys_mlock2(): unknown flags are EINVAL. */
  sys_mlock2(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.sys.sys_mlock2(this.live(), addr, len, flags)
  }
  sys_munlock(addr: UlongArg, len: UlongArg): number {
    return this.sys.sys_munlock(this.live(), addr, len)
  }
  sys_mlockall(flags: number): number {
    return this.sys.sys_mlockall(this.live(), flags)
  }
  sys_munlockall(): number {
    return this.sys.sys_munlockall(this.live())
  }
  sys_msync(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.sys.sys_msync(this.live(), addr, len, flags)
  }
  sys_mseal(addr: UlongArg, len: UlongArg, flags = 0): number {
    return this.sys.sys_mseal(this.live(), addr, len, flags)
  }
  sys_mincore(addr: UlongArg, len: UlongArg, vec: Uint8Array): number {
    return this.sys.sys_mincore(this.live(), addr, len, vec)
  }
  sys_brk(addr: UlongArg): number {
    return this.sys.sys_brk(this.live(), addr)
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
  /** mincore(2): one byte per page (bit 0: resident). */
  mincore(addr: number, len: number): Uint8Array {
    // The kernel refuses ranges past TASK_SIZE before writing the vector; larger vectors are capped at 16 Mi pages.
    const pages = len > 0 && len <= this.sys.mm.arch.TASK_SIZE ? Math.ceil(len / PAGE_SIZE) : 0
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
    return this.sys.sys_getrlimit(this.live(), resource, out)
  }
  /** Kernel: sys_setrlimit(): 0 or -errno (EINVAL, EPERM). */
  sys_setrlimit(resource: number, rlim: Rlimit): number {
    return this.sys.sys_setrlimit(this.live(), resource, rlim)
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
    const conv = (v: number): number => (v === -1 || v >= 2 ** 64 ? RLIM_INFINITY : v)
    const cur = conv(lim.cur)
    const max = conv(lim.max)
    for (const v of [cur, max]) {
      if (v !== RLIM_INFINITY && (!Number.isInteger(v) || v < 0)) throw new ErrnoError(EINVAL, 'setrlimit')
    }
    check_syscall(this.sys_setrlimit(resource, { rlim_cur: cur, rlim_max: max }), 'setrlimit')
  }

  // ---- signals ----

  /** sigaction(2) for one signal: a handler function, 'SIG_DFL' or 'SIG_IGN'. Returns the old one. */
  sigaction(signo: number, handler: SigHandler): SigHandler {
    const old = this.sys.sys_rt_sigaction(this.live(), signo, handler)
    if (typeof old === 'number') throw new ErrnoError(-old, 'sigaction')
    return old
  }

  // ---- user-mode memory access ----

  /** The SignalError of a fault the kernel delivered (the process may have died of it). */
  private fault(r: UserAccess): never {
    const f = r.fault ?? { signal: 11, si_code: 1, addr: 0 }
    throw new SignalError(f.signal, f.si_code, f.addr)
  }
  /** A user-mode load of `len` bytes at `addr` through the MMU. */
  load(addr: number, len: number): Uint8Array {
    const t = this.task
    if (!t.mm || t.exit_state !== 0) this.live() // throws ESRCH; inline test: see store()
    const r = this.sys.user_access(t, addr, len, false)
    if (!r.ok) this.fault(r)
    return r.data ?? NO_BYTES
  }
  /** A user-mode store of `bytes` at `addr` through the MMU. */
  store(addr: number, bytes: Uint8Array | number[]): void {
    const data = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)
    const t = this.task
    // live()'s test inline (it throws ESRCH): a call less on the path of every access, whose
    // inlining budget the TLB lookup and the copy need (see Syscalls.user_access).
    if (!t.mm || t.exit_state !== 0) this.live()
    const r = this.sys.user_access(t, addr, data.length, true, data)
    if (!r.ok) this.fault(r)
  }
  /**
   * A user-mode instruction fetch of `len` bytes at `addr` (the CPU reading
   * code to run) through the MMU: a page without VM_EXEC faults with
   * SIGSEGV/SEGV_ACCERR where the profile has NX (x86_64, i386-pae); on i386
   * every readable page is executable, as on the hardware.
   */
  fetch(addr: number, len: number): Uint8Array {
    const r = this.sys.user_fetch(this.live(), addr, len)
    if (!r.ok) this.fault(r)
    return r.data ?? NO_BYTES
  }
  /** Like load()/store(), but returns the fault instead of delivering it (bytes read up to it). */
  try_access(addr: number, len: number, write: boolean, data?: Uint8Array): { data?: Uint8Array; fault?: UserFault } {
    const r = this.sys.user_probe(this.live(), addr, len, write, data)
    return { data: r.data, fault: r.ok ? undefined : r.fault }
  }

  /**
   * Entries of /proc/self/pagemap for `pages` pages from `addr` (bit 63
   * present, 61 file/shared-anon, 58 guard region, 56 exclusively mapped,
   * 0-54 the PFN, shown only to uid 0 as with CAP_SYS_ADMIN).
   */
  pagemap(addr: number, pages: number): bigint[] {
    const t = this.live()
    this.sys.sched.run(t)
    const bytes = proc_pid_pagemap(this.sys.mm, t, Math.floor(addr / PAGE_SIZE) * 8, pages * 8, t.uid === 0)
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const out: bigint[] = []
    for (let i = 0; i < bytes.length / 8; i++) out.push(dv.getBigUint64(i * 8, true))
    return out
  }

  // ---- files ----

  sys_open(path: string, flags: number, mode = 0o644): number {
    return this.sys.sys_open(this.live(), path, flags, mode)
  }
  open(path: string, flags = O_RDONLY, mode = 0o644): number {
    return check_syscall(this.sys_open(path, flags, mode), 'open')
  }
  creat(path: string, mode = 0o644): number {
    return this.open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)
  }
  sys_close(fd: number): number {
    return this.sys.sys_close(this.live(), fd)
  }
  close(fd: number): void {
    check_syscall(this.sys_close(fd), 'close')
  }
  /** The struct file behind an fd (undefined when not open). */
  file_of(fd: number): VmFile | undefined {
    return this.sys.fget(this.task, fd) ?? undefined
  }
  /** read(2) into user memory at `addr`, from the file position: bytes read, or -errno. */
  sys_read(fd: number, addr: number, count: number): number {
    return this.sys.sys_read(this.live(), fd, addr, count)
  }
  read(fd: number, addr: number, count: number): number {
    return check_syscall(this.sys_read(fd, addr, count), 'read')
  }
  /** write(2) from user memory at `addr`, at the file position (EOF with O_APPEND): bytes written, or -errno. */
  sys_write(fd: number, addr: number, count: number): number {
    return this.sys.sys_write(this.live(), fd, addr, count)
  }
  write(fd: number, addr: number, count: number): number {
    return check_syscall(this.sys_write(fd, addr, count), 'write')
  }
  /** lseek(2): the new file position (SEEK_SET 0, SEEK_CUR 1, SEEK_END 2). */
  sys_lseek(fd: number, offset: number, whence: number): number {
    return this.sys.sys_lseek(this.live(), fd, offset, whence)
  }
  lseek(fd: number, offset: number, whence: number): number {
    return check_syscall(this.sys_lseek(fd, offset, whence), 'lseek')
  }
  /** pread(2) into a fresh buffer: the bytes read, or -errno. */
  sys_pread(fd: number, len: number, off: UlongArg): Uint8Array | number {
    return this.sys.sys_pread_buf(this.live(), fd, len, off)
  }
  pread(fd: number, len: number, off = 0): Uint8Array {
    const r = this.sys_pread(fd, len, off)
    if (typeof r === 'number') throw new ErrnoError(-r, 'pread')
    return r
  }
  sys_pwrite(fd: number, data: Uint8Array, off: UlongArg): number {
    return this.sys.sys_pwrite_buf(this.live(), fd, data, off)
  }
  pwrite(fd: number, data: Uint8Array | number[], off = 0): number {
    return check_syscall(this.sys_pwrite(fd, data instanceof Uint8Array ? data : Uint8Array.from(data), off), 'pwrite')
  }
  /** Kernel: do_sys_ftruncate(): EINVAL unless open for writing or for a negative size. */
  sys_ftruncate(fd: number, size: UlongArg): number {
    return this.sys.sys_ftruncate(this.live(), fd, size)
  }
  ftruncate(fd: number, size: number): void {
    check_syscall(this.sys_ftruncate(fd, size), 'ftruncate')
  }
  sys_fsync(fd: number): number {
    return this.sys.sys_fsync(this.live(), fd)
  }
  /** pread(2) into user memory: a short count when the destination runs into a hole, EFAULT when nothing could be copied. */
  sys_pread_user(fd: number, addr: number, len: number, off: UlongArg): number {
    return this.sys.sys_pread64(this.live(), fd, addr, len, off)
  }
  /** pwrite(2) from user memory. */
  sys_pwrite_user(fd: number, addr: number, len: number, off: UlongArg): number {
    return this.sys.sys_pwrite64(this.live(), fd, addr, len, off)
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
    const c = this.sys.sys_clone(this.live(), CLONE_VM)
    if (typeof c === 'number') throw new ErrnoError(-c, 'clone')
    c.cpu = cpu
    return new Process(this.sys, c)
  }

  /** exit(2). */
  exit(code = 0): void {
    this.sys.sys_exit(this.live(), code)
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
