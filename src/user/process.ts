/**
 * Process handles: the "libc" of a simulated process.
 *
 * A Process wraps a task_struct and its mm. Its system-call methods behave
 * like the glibc wrappers: they return the result, or throw ErrnoError with
 * the kernel's errno. `sys_*` variants return the raw kernel value (>= 0 or
 * -errno) for callers that want errno as data (the oracle replay).
 * load()/store() are user-mode accesses through the MMU: a fault raises the
 * signal Linux raises; without a handler (sigaction) the process dies of it,
 * like on Linux, and a SignalError is thrown; the machine goes on.
 *
 * Every call runs the task on its CPU (ProcessTable.run: switch_mm, lazy TLB
 * for kernel threads), so accesses go through that CPU's TLB; run_on(cpu)
 * migrates it.
 *
 * Invariants: a dead process has mm === null and no open files; every call
 * on it throws ErrnoError(ESRCH). Processes live in a ProcessTable, which
 * hands out pids (1 is reserved for init, user processes start at 100).
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { type UlongArg, loff } from '../include/ulong.js'
import { type MmStruct, type VmFile, FMODE_READ, FMODE_WRITE } from '../mm/mm_types.js'
import {
  TaskStruct, PF_EXITING, PF_KTHREAD, EXIT_ZOMBIE, EXIT_DEAD, TASK_INTERRUPTIBLE, TASK_RUNNING, context_switch_mm, type SigHandler,
} from '../kernel/task.js'
import { exec_image, default_image, Rng, type ProgramImage } from '../kernel/exec.js'
import type { ProcessKernel, UserFault } from './kernel_api.js'
import { proc_pid_pagemap } from '../fs/proc/task_mmu.js'
import { ErrnoError, SignalError, check_syscall } from './errors.js'
import { EBADF, EINVAL, ENOMEM, ESRCH, EAGAIN, EMFILE } from '../include/uapi/errno.js'
import { MAP_ANONYMOUS } from '../include/uapi/mman.js'
import { SIGKILL, SIGNAL_NAMES } from '../include/uapi/signal.js'
import type { MmuSched } from '../kernel/mmu_context.js'
import { RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIM_INFINITY, copy_rlimits, init_rlimits, set_max_threads, type Rlimit } from '../include/resource.js'
import { sys_getrlimit, sys_setrlimit } from '../kernel/sys.js'
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE, cred_capable } from '../include/cred.js'

import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'
export { O_ACCMODE, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../include/uapi/fcntl.js'


export interface SpawnOptions {
  readonly name?: string
  readonly uid?: number
  /** A program image; default_image(name) when absent. */
  readonly image?: ProgramImage
}

interface OpenFile {
  readonly file: VmFile
  readonly flags: number
}

/** The processes of one machine, by pid. */
export class ProcessTable {
  private next_pid = 100
  readonly tasks = new Map<number, TaskStruct>()
  readonly processes = new Map<number, Process>()
  /** The task each CPU is running (for lazy-TLB bookkeeping). */
  readonly current: (TaskStruct | null)[]
  readonly rng: Rng
  /** Called after every system call and user access of a process (the machine's DEBUG_VM checker). */
  after_op: (() => void) | null = null
  /** init's limits (INIT_RLIMITS completed by fork_init()), which spawned processes inherit. */
  readonly init_rlim: readonly Rlimit[]

  constructor(
    readonly kernel: ProcessKernel,
    readonly opts: { seed?: number; randomize_va_space?: 0 | 1 | 2; cpus?: number; sched?: MmuSched } = {},
  ) {
    this.rng = new Rng((opts.seed ?? 1) * 2654435761)
    this.current = new Array<TaskStruct | null>(opts.cpus ?? 2).fill(null)
    this.init_rlim = init_rlimits(set_max_threads(kernel.totalram_pages?.() ?? 0))
  }

  alloc_pid(): number {
    return this.next_pid++
  }

  /** Create a process from a program image (fork + execve of init's child). Throws ErrnoError. */
  spawn(o: SpawnOptions = {}): Process {
    const name = o.name ?? 'app'
    const mm = this.kernel.mm_alloc()
    if (!mm) throw new ErrnoError(ENOMEM, 'execve')
    const image = o.image ?? default_image(name, this.kernel.arch.bits)
    // The new task runs the execve: it owns the mm (its cred and limits apply); its pid comes after.
    const task = new TaskStruct(0, name, mm, o.uid ?? 0, copy_rlimits(this.init_rlim))
    mm.owner = task
    const stack = task.signal.rlim[RLIMIT_STACK].rlim_cur
    const r = exec_image(this.kernel, mm, image, {
      randomize_va_space: this.opts.randomize_va_space ?? 0,
      rng: this.rng,
      // An unlimited stack selects the legacy bottom-up layout in Linux (mmap_is_legacy()), not modelled.
      rlimit_stack: stack === RLIM_INFINITY ? undefined : stack,
    })
    if (r.ret < 0) {
      this.kernel.mmput(mm)
      throw new ErrnoError(-r.ret, 'execve')
    }
    task.pid = task.tgid = this.alloc_pid()
    task.cmdline = [...image.argv]
    return this.adopt(task)
  }

  /** Kernel: kthread_create(): a kernel thread (mm NULL). */
  kthread_create(name: string): TaskStruct {
    const t = new TaskStruct(this.alloc_pid(), name, null, 0, copy_rlimits(this.init_rlim))
    t.flags |= PF_KTHREAD
    t.__state = TASK_INTERRUPTIBLE
    t.kaddr = this.kernel.alloc_task_struct?.() ?? 0
    t.stack = this.kernel.alloc_thread_stack?.() ?? 0
    this.tasks.set(t.pid, t)
    return t
  }

  /** Run `next` on `cpu` (the mm side of schedule(): lazy TLB for kernel threads). */
  switch_to(cpu: number, next: TaskStruct): void {
    const prev = this.current[cpu]
    if (prev && prev !== next && prev.exit_state === 0) prev.__state = TASK_INTERRUPTIBLE
    next.__state = TASK_RUNNING
    if (prev && prev !== next) {
      context_switch_mm(prev, next, (mm) => this.kernel.mmgrab(mm), (mm) => this.kernel.mmdrop(mm))
    } else if (!prev && next.mm) {
      next.active_mm = next.mm
    }
    next.cpu = cpu
    if (next.active_mm) next.active_mm.cpu_bitmap.add(cpu)
    this.current[cpu] = next
    // switch_mm_irqs_off() for a user task, enter_lazy_tlb() for a kernel thread.
    this.opts.sched?.switch_mm(cpu, next.mm)
  }

  /**
   * Run `task` now (what a system call or a user access of it implies): it
   * is switched in on its CPU unless already current there, and that CPU
   * becomes the executing one (its TLB serves the accesses).
   */
  run(task: TaskStruct): void {
    if (!(task.flags & PF_EXITING) && this.current[task.cpu] !== task) this.switch_to(task.cpu, task)
    this.opts.sched?.set_cpu(task.cpu)
  }

  /** The task stops running on `cpu`, which goes idle (the idle task borrows the mm: lazy TLB). */
  leave_cpu(cpu: number): void {
    this.current[cpu] = null
    this.opts.sched?.idle(cpu)
  }

  adopt(task: TaskStruct): Process {
    task.kaddr = this.kernel.alloc_task_struct?.() ?? 0
    // dup_task_struct(): a task without a kernel stack cannot be created.
    if (this.kernel.alloc_thread_stack) {
      task.stack = this.kernel.alloc_thread_stack()
      if (task.stack === 0) {
        if (task.kaddr) this.kernel.free_task_struct?.(task.kaddr)
        throw new ErrnoError(ENOMEM, 'fork')
      }
    }
    // Not on a CPU until switch_to(): sleeping (S), as an idle process on a real machine.
    task.__state = TASK_INTERRUPTIBLE
    const p = new Process(this, task)
    this.tasks.set(task.pid, task)
    this.processes.set(task.pid, p)
    return p
  }

  /** Processes of real uid `uid` not yet reaped (the ucounts' UCOUNT_RLIMIT_NPROC count). */
  nr_processes(uid: number): number {
    let n = 0
    for (const t of this.tasks.values()) if (!t.is_kthread && t.uid === uid && t.exit_state !== EXIT_DEAD) n++
    return n
  }

  get(pid: number): Process | undefined {
    return this.processes.get(pid)
  }
}

export class Process {
  readonly task: TaskStruct
  private readonly fds = new Map<number, OpenFile>()
  /** 'exit:<code>' or 'signal:<NAME>' once dead; null while alive. */
  status: string | null = null

  constructor(
    readonly table: ProcessTable,
    task: TaskStruct,
  ) {
    this.task = task
  }

  get pid(): number {
    return this.task.pid
  }
  /** The kernel, entered from this task: the task is running on its CPU (ProcessTable.run) for the call. */
  get k(): ProcessKernel {
    this.table.run(this.task)
    return this.table.kernel
  }

  /** The CPU the task runs on. */
  get cpu(): number {
    return this.task.cpu
  }

  /**
   * Move the task to `cpu` and run it there (sched_setaffinity() to one
   * CPU): the CPU it leaves goes idle, keeping the mm loaded lazily.
   */
  run_on(cpu: number): void {
    this.check_alive()
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.table.current.length) throw new ErrnoError(EINVAL, 'sched_setaffinity')
    const old = this.task.cpu
    if (old !== cpu && this.table.current[old] === this.task) this.table.leave_cpu(old)
    this.task.cpu = cpu
    this.table.run(this.task)
  }
  get alive(): boolean {
    return this.status === null
  }
  /** The address space (throws ErrnoError(ESRCH) once the process is dead). */
  get mm(): MmStruct {
    const mm = this.task.mm
    if (!mm || this.status !== null) throw new ErrnoError(ESRCH, 'process')
    return mm
  }

  /** Run the machine's DEBUG_VM checker (when on) after an operation, passing its result through. */
  private done<T>(v: T): T {
    this.table.after_op?.()
    return v
  }

  private check_alive(): void {
    if (!this.task.mm || this.status !== null) throw new ErrnoError(ESRCH, 'process')
  }

  // ---- raw system calls: >= 0 or -errno ----

  /**
   * Kernel: sys_mmap() (arch/x86/kernel/sys_x86_64.c): the offset must be page aligned, then
   * fget (both checked in the kernel call, in that order). The address, length and offset
   * arguments of these calls, and the prot and flags of mmap, mprotect and mremap, are
   * unsigned longs: a number or a bigint, a negative value standing for its two's
   * complement (src/include/ulong.ts).
   */
  sys_mmap(addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, fd = -1, off: UlongArg = 0): number {
    const mm = this.mm
    const anon = typeof flags === 'bigint' ? (flags & BigInt(MAP_ANONYMOUS)) !== 0n : (flags & MAP_ANONYMOUS) !== 0
    const file = anon ? null : (this.fds.get(fd)?.file ?? null)
    return this.done(this.k.ksys_mmap_pgoff(mm, addr, len, prot, flags, file, off))
  }
  sys_munmap(addr: UlongArg, len: UlongArg): number {
    return this.done(this.k.do_munmap(this.mm, addr, len))
  }
  sys_mprotect(addr: UlongArg, len: UlongArg, prot: UlongArg): number {
    return this.done(this.k.do_mprotect_pkey(this.mm, addr, len, prot))
  }
  sys_mremap(addr: UlongArg, old_len: UlongArg, new_len: UlongArg, flags: UlongArg, new_addr: UlongArg = 0): number {
    return this.done(this.k.do_mremap(this.mm, addr, old_len, new_len, flags, new_addr))
  }
  sys_madvise(addr: UlongArg, len: UlongArg, advice: number): number {
    return this.done(this.k.do_madvise(this.mm, addr, len, advice))
  }
  sys_mlock(addr: UlongArg, len: UlongArg): number {
    return this.done(this.k.do_mlock(this.mm, addr, len, 0))
  }
  /** Kernel: sys_mlock2(): unknown flags are EINVAL. */
  sys_mlock2(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.done(this.k.sys_mlock2(this.mm, addr, len, flags))
  }
  sys_munlock(addr: UlongArg, len: UlongArg): number {
    return this.done(this.k.do_munlock(this.mm, addr, len))
  }
  sys_mlockall(flags: number): number {
    return this.done(this.k.do_mlockall(this.mm, flags))
  }
  sys_munlockall(): number {
    return this.done(this.k.do_munlockall(this.mm))
  }
  sys_msync(addr: UlongArg, len: UlongArg, flags: number): number {
    return this.done(this.k.do_msync(this.mm, addr, len, flags))
  }
  sys_mseal(addr: UlongArg, len: UlongArg, flags = 0): number {
    return this.done(this.k.do_mseal(this.mm, addr, len, flags))
  }
  sys_mincore(addr: UlongArg, len: UlongArg, vec: Uint8Array): number {
    return this.done(this.k.do_mincore(this.mm, addr, len, vec))
  }
  sys_brk(addr: UlongArg): number {
    return this.done(this.k.sys_brk(this.mm, addr))
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
    const pages = len > 0 && len <= this.k.arch.TASK_SIZE ? Math.ceil(len / PAGE_SIZE) : 0
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
    this.check_alive()
    return sys_getrlimit(this.task, resource, out)
  }
  /** Kernel: sys_setrlimit(): 0 or -errno (EINVAL, EPERM). */
  sys_setrlimit(resource: number, rlim: Rlimit): number {
    this.check_alive()
    return sys_setrlimit(this.task, resource, rlim)
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
    this.check_alive()
    if (signo === SIGKILL || signo === 19 || signo < 1 || signo > 64) throw new ErrnoError(EINVAL, 'sigaction')
    const old = this.task.sighand.get(signo) ?? 'SIG_DFL'
    this.task.sighand.set(signo, handler)
    return old
  }

  /**
   * Kernel: force_sig_fault(): deliver a fault signal. A handler runs (the
   * process lives on); SIG_DFL or SIG_IGN (a forced fault signal cannot be
   * ignored) kill the process. Always throws the SignalError.
   */
  private deliver_fault(f: UserFault): never {
    const err = new SignalError(f.signal, f.si_code, f.addr)
    const h = this.task.sighand.get(f.signal)
    if (typeof h === 'function') {
      h({ signo: f.signal, code: f.si_code, addr: f.addr })
    } else {
      this.do_exit(`signal:${SIGNAL_NAMES[f.signal] ?? f.signal}`, f.signal)
    }
    throw err
  }

  // ---- user-mode memory access ----

  /** A user-mode load of `len` bytes at `addr` through the MMU. */
  load(addr: number, len: number): Uint8Array {
    const r = this.done(this.k.access_user(this.mm, addr, len, false))
    if (!r.ok) this.deliver_fault(r.fault ?? { signal: 11, si_code: 1, addr })
    return r.data ?? new Uint8Array(0)
  }
  /** A user-mode store of `bytes` at `addr` through the MMU. */
  store(addr: number, bytes: Uint8Array | number[]): void {
    const data = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes)
    const r = this.done(this.k.access_user(this.mm, addr, data.length, true, data))
    if (!r.ok) this.deliver_fault(r.fault ?? { signal: 11, si_code: 1, addr })
  }
  /**
   * A user-mode instruction fetch of `len` bytes at `addr` (the CPU reading
   * code to run) through the MMU: a page without VM_EXEC faults with
   * SIGSEGV/SEGV_ACCERR where the profile has NX (x86_64, i386-pae); on i386
   * every readable page is executable, as on the hardware.
   */
  fetch(addr: number, len: number): Uint8Array {
    const k = this.k
    if (!k.fetch_user) return this.load(addr, len)
    const r = k.fetch_user(this.mm, addr, len)
    if (!r.ok) this.deliver_fault(r.fault ?? { signal: 11, si_code: 1, addr })
    return r.data ?? new Uint8Array(0)
  }
  /** Like load(), but returns the fault instead of delivering it (bytes read up to it). */
  try_access(addr: number, len: number, write: boolean, data?: Uint8Array): { data?: Uint8Array; fault?: UserFault } {
    const r = this.done(this.k.access_user(this.mm, addr, len, write, data))
    return { data: r.data, fault: r.ok ? undefined : r.fault }
  }

  /**
   * Entries of /proc/self/pagemap for `pages` pages from `addr` (bit 63
   * present, 61 file/shared-anon, 58 guard region, 56 exclusively mapped,
   * 0-54 the PFN, shown only to uid 0 as with CAP_SYS_ADMIN).
   */
  pagemap(addr: number, pages: number): bigint[] {
    this.check_alive()
    const bytes = proc_pid_pagemap(this.k, this.task, Math.floor(addr / PAGE_SIZE) * 8, pages * 8, this.task.uid === 0)
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const out: bigint[] = []
    for (let i = 0; i < bytes.length / 8; i++) out.push(dv.getBigUint64(i * 8, true))
    return out
  }

  // ---- files ----

  private alloc_fd(): number {
    let fd = 3
    while (this.fds.has(fd)) fd++
    return fd
  }
  /**
   * Kernel: do_sys_openat2(): a free descriptor is found first
   * (get_unused_fd_flags(): EMFILE at RLIMIT_NOFILE, before any lookup
   * error), then the file is opened.
   */
  sys_open(path: string, flags: number, mode = 0o644): number {
    this.check_alive()
    const fd = this.alloc_fd()
    if (fd >= this.task.signal.rlim[RLIMIT_NOFILE].rlim_cur) return -EMFILE
    const f = this.k.filp_open(path, flags, mode)
    if (typeof f === 'number') return f
    this.fds.set(fd, { file: f, flags })
    return fd
  }
  open(path: string, flags = O_RDONLY, mode = 0o644): number {
    return check_syscall(this.sys_open(path, flags, mode), 'open')
  }
  creat(path: string, mode = 0o644): number {
    return this.open(path, O_CREAT | O_WRONLY | O_TRUNC, mode)
  }
  sys_close(fd: number): number {
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    this.fds.delete(fd)
    this.k.fput(f.file)
    return 0
  }
  close(fd: number): void {
    check_syscall(this.sys_close(fd), 'close')
  }
  /** The struct file behind an fd (undefined when not open). */
  file_of(fd: number): VmFile | undefined {
    return this.fds.get(fd)?.file
  }

  /** pread(2) into a fresh buffer: the bytes read, or -errno. File positions and sizes are loff_t (src/include/ulong.ts). */
  sys_pread(fd: number, len: number, off_in: UlongArg): Uint8Array | number {
    const off = loff(off_in)
    if (off < 0) return -EINVAL
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    if (!(f.file.f_mode & FMODE_READ)) return -EBADF
    return this.done(this.k.kernel_read(f.file, off, len))
  }
  pread(fd: number, len: number, off = 0): Uint8Array {
    const r = this.sys_pread(fd, len, off)
    if (typeof r === 'number') throw new ErrnoError(-r, 'pread')
    return r
  }
  sys_pwrite(fd: number, data: Uint8Array, off_in: UlongArg): number {
    const off = loff(off_in)
    if (off < 0) return -EINVAL
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    if (!(f.file.f_mode & FMODE_WRITE)) return -EBADF
    return this.done(this.k.kernel_write(f.file, off, data))
  }
  pwrite(fd: number, data: Uint8Array | number[], off = 0): number {
    return check_syscall(this.sys_pwrite(fd, data instanceof Uint8Array ? data : Uint8Array.from(data), off), 'pwrite')
  }
  /** Kernel: do_sys_ftruncate(): EINVAL unless open for writing or for a negative size. */
  sys_ftruncate(fd: number, size_in: UlongArg): number {
    const size = loff(size_in)
    if (size < 0) return -EINVAL
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    if (!(f.file.f_mode & FMODE_WRITE)) return -EINVAL
    return this.done(this.k.do_truncate(f.file, size))
  }
  ftruncate(fd: number, size: number): void {
    check_syscall(this.sys_ftruncate(fd, size), 'ftruncate')
  }
  sys_fsync(fd: number): number {
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    return this.done(this.k.vfs_fsync ? this.k.vfs_fsync(f.file) : 0)
  }

  /**
   * pread(2) into user memory (Kernel: ksys_pread64() -> filemap_read()):
   * a short count when the destination runs into a hole, EFAULT when
   * nothing could be copied.
   */
  sys_pread_user(fd: number, addr: number, len: number, off_in: UlongArg): number {
    const off = loff(off_in)
    if (off < 0) return -EINVAL
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    if (!(f.file.f_mode & FMODE_READ)) return -EBADF
    return this.done(this.k.file_read_to_user(this.mm, f.file, off, addr, len))
  }
  /** pwrite(2) from user memory (Kernel: ksys_pwrite64() -> generic_perform_write()). */
  sys_pwrite_user(fd: number, addr: number, len: number, off_in: UlongArg): number {
    const off = loff(off_in)
    if (off < 0) return -EINVAL
    const f = this.fds.get(fd)
    if (!f) return -EBADF
    if (!(f.file.f_mode & FMODE_WRITE)) return -EBADF
    return this.done(this.k.file_write_from_user(this.mm, f.file, off, addr, len))
  }

  // ---- process life ----

  /** fork(2): a child with a copy of the address space (dup_mm), the fd table and the handlers. */
  fork(): Process {
    const mm = this.mm
    // copy_process(): RLIMIT_NPROC bounds the processes of the real uid (zombies count until
    // reaped), before the address space is copied; INIT_USER (uid 0), CAP_SYS_RESOURCE and
    // CAP_SYS_ADMIN are exempt.
    const cred = this.task.cred
    // (The exemption is tested first here: same answer, and root's forks need no count.)
    const exempt = cred.uid === 0 || cred_capable(cred, CAP_SYS_RESOURCE) || cred_capable(cred, CAP_SYS_ADMIN)
    if (!exempt && this.table.nr_processes(cred.uid) >= this.task.signal.rlim[RLIMIT_NPROC].rlim_cur) {
      throw new ErrnoError(EAGAIN, 'fork')
    }
    const child_mm = this.k.dup_mm(mm)
    if (!child_mm) throw new ErrnoError(EAGAIN, 'fork')
    // copy_creds() / copy_signal(): the parent's cred and a copy of its limits.
    const t = new TaskStruct(this.table.alloc_pid(), this.task.comm, child_mm, this.task.cred, copy_rlimits(this.task.signal.rlim))
    child_mm.owner = t
    t.parent = this.task
    t.cpu = this.task.cpu
    t.cmdline = [...this.task.cmdline]
    for (const [s, h] of this.task.sighand) t.sighand.set(s, h)
    this.task.children.push(t)
    const c = this.table.adopt(t)
    for (const [fd, f] of this.fds) {
      f.file.f_count++
      c.fds.set(fd, f)
    }
    return this.done(c)
  }

  /** exit(2). */
  exit(code = 0): void {
    this.check_alive()
    this.do_exit(`exit:${code & 0xff}`, 0, code & 0xff)
  }

  /** Kernel: do_exit(): files, then exit_mm() (mmput), then zombie. */
  private do_exit(status: string, signo: number, code = 0): void {
    this.task.flags |= PF_EXITING
    for (const fd of [...this.fds.keys()]) this.sys_close(fd)
    const mm = this.task.mm
    this.task.mm = null
    if (this.task.active_mm === mm) this.task.active_mm = null
    for (let cpu = 0; cpu < this.table.current.length; cpu++) {
      if (this.table.current[cpu] === this.task) this.table.leave_cpu(cpu)
    }
    if (mm) this.k.mmput(mm)
    this.task.exit_code = signo ? signo : code << 8
    this.task.exit_state = EXIT_ZOMBIE
    // The dead task is switched away for good: its kernel stack goes (put_task_stack()).
    if (this.task.stack) {
      this.k.free_thread_stack?.(this.task.stack)
      this.task.stack = 0
    }
    this.status = status
    this.done(0)
  }

  /**
   * waitpid() on this process: its status string ('exit:0', 'signal:SIGSEGV'),
   * or null while alive. Reaping a zombie frees its task_struct (release_task()).
   */
  wait(): string | null {
    if (this.status !== null && this.task.kaddr) {
      this.k.free_task_struct?.(this.task.kaddr)
      this.task.kaddr = 0
      this.task.exit_state = EXIT_DEAD
    }
    return this.status
  }
}
