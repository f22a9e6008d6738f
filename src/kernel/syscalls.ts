/**
 * The system-call table of a machine (Kernel: arch/x86/entry/syscall_64.c
 * sys_call_table and the sys_* functions it names): what a task reaches by
 * the syscall instruction, and what its user-mode loads, stores and
 * instruction fetches do when they fault.
 *
 * Entering the kernel runs the task on its CPU (sched.run: switch_mm when
 * another mm is loaded there), so every access and flush happens on the
 * CPU the task runs on. Each sys_* method takes the calling task (current)
 * and returns what the kernel returns: >= 0 (or an address) on success,
 * -errno on failure; the checks the syscall layer makes before reaching
 * mm/ or fs/ (descriptor lookup, file mode, offsets) are made here in
 * Linux's order. A task must be alive (the user side checks it).
 *
 * after_syscall, when set, runs after every call (the machine's DEBUG_VM
 * checker).
 */
import { loff, type Loff, type Ulong, type UlongArg } from '../include/ulong.js'
import { EBADF, EFAULT, EINTR, EINVAL, EMFILE, ENOMEM, ENOSYS, EPERM, ERESTARTSYS, ESRCH } from '../include/errno.js'
import { CAP_KILL, CAP_SYS_ADMIN, cred_capable, cred_for_uid } from '../include/cred.js'
import { SWAP_FLAGS_VALID } from '../mm/swap_h.js'
import { RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY, copy_rlimits, init_rlimits, set_max_threads, type Rlimit } from '../include/resource.js'
import { MAP_ANONYMOUS } from '../include/uapi/mman.js'
import {
  F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_SEAL_EXEC, F_SEAL_SEAL, F_SETFD, FD_CLOEXEC, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB,
  MFD_NOEXEC_SEAL, O_APPEND, O_CLOEXEC,
} from '../include/uapi/fcntl.js'
import { FMODE_READ, FMODE_WRITE, type VmFile } from '../mm/mm_types.js'
import { close_fd, fd_install, fget, FilesStruct, get_unused_fd_flags } from '../fs/file.js'
import { new_decode_dev, S_IFMT, S_IFREG, S_ISCHR, type File } from '../fs/fs.js'
import { access_ok, MAX_RW_COUNT, vfs_llseek, vfs_read, vfs_write } from '../fs/read_write.js'
import { vfs_fsync } from '../fs/sync.js'
import { vfs_ioctl } from '../fs/ioctl.js'
import { default_image, exec_image, type ProgramImage } from './exec.js'
import type { KernelRandom } from '../include/random.js'
import { do_exit, release_task } from './exit.js'
import { copy_process, dup_task_struct, free_task, type CoredumpSysctl, type TaskEnv } from './fork.js'
import { prepare_creds } from './cred.js'
import { kthread_create } from './kthread.js'
import type { AccessResult, MmEntry } from './mm_entry.js'
import type { Kstatfs } from '../mm/shmem.js'
import type { Cachestat } from '../mm/filemap_cachestat.js'
import { PidTable } from './pid.js'
import { Scheduler, type MmuSched } from './sched.js'
import { mmput } from './sched_mm.js'
import { do_sigaction, force_sig_fault, sig_fatal_exit } from './signal.js'
import { sys_getrlimit, sys_setrlimit } from './sys.js'
import { CANONICAL_USER_END, user_access_trap } from './traps.js'
import { EXIT_ZOMBIE, TaskStruct, type SigHandler } from './task.js'
import { COST_NS, type Clock } from '../hw/clock.js'
import { SIGNAL_GROUP_EXIT } from '../include/resource.js'
import { SIGCHLD, SIGCONT, SIGKILL, SIGURG, SIGWINCH, SI_KERNEL, SI_USER } from '../include/uapi/signal.js'
import { Sleepers } from './wait.js'
import { E_SLEEPING } from '../include/wait.js'
import type { PollFd } from '../include/uapi/poll.js'
import { do_poll_pass } from '../fs/select.js'

export interface SyscallOptions {
  readonly nr_cpus: number
  /** The machine's random source: exec's layout randomisation draws from it. */
  readonly random: KernelRandom
  /** kernel.randomize_va_space at boot. */
  readonly randomize_va_space: 0 | 1 | 2
  /** The machine's clock: each system call is charged COST_NS.syscall. */
  readonly clock?: Clock
}

/**
 * A user access's outcome: ok, or the fault (and whether the task died of
 * it); `data` holds the bytes read, up to the fault. A successful access
 * returns the mm layer's result object as is (no allocation per access).
 */
export interface UserAccess extends AccessResult {
  readonly killed?: boolean
}

export class Syscalls implements TaskEnv {
  readonly pids = new PidTable()
  readonly sched: Scheduler
  readonly init_rlim: readonly Rlimit[]
  /** kernel.randomize_va_space (/proc/sys/kernel/randomize_va_space): read by each exec (any int: 0 off, 1, 2 and above full). */
  randomize_va_space: number
  /** Runs after every system call and user access (DEBUG_VM). */
  after_syscall: (() => void) | null = null
  /** current: the task whose system call or access is running (null between them). */
  current: TaskStruct | null = null
  /** A user-mode load, store or fetch is running (its faults come from user mode). */
  in_user_access = false
  /** Tasks asleep in a system call (wait queues: src/kernel/wait.ts). */
  readonly sleepers: Sleepers
  /** Plain user addresses below this never trap (user_access_trap(): 2^47 on x86_64; none on 32-bit). */
  private readonly no_trap_end: number
  /** pr_warn() into the kernel log. */
  private readonly warn: (text: string) => void
  readonly coredump: CoredumpSysctl
  /** pr_warn_once() sites that have printed. */
  private readonly warned = new Set<string>()

  constructor(
    readonly mm: MmEntry,
    mmu: MmuSched,
    private readonly opts: SyscallOptions,
    warn: (text: string) => void = () => undefined,
  ) {
    this.sleepers = new Sleepers(warn)
    this.coredump = { core_pattern: 'core', core_uses_pid: 0, log: warn }
    this.no_trap_end = mm.arch.bits === 64 ? CANONICAL_USER_END : Infinity
    this.warn = warn
    this.sched = new Scheduler(opts.nr_cpus, mmu, opts.clock)
    this.randomize_va_space = opts.randomize_va_space
    this.init_rlim = init_rlimits(set_max_threads(mm.totalram_pages()))
  }

  /** Every task not yet reaped, by pid. */
  get tasks(): ReadonlyMap<number, TaskStruct> {
    return this.pids.tasks
  }

  /**
   * Run `fn` as a system call of `t` (entry, then the way back to user
   * mode): for the calls whose body lives above the kernel layer (the
   * /proc files a process reads and writes through their descriptors).
   */
  in_kernel<T>(t: TaskStruct, fn: () => T): T {
    this.enter(t)
    return this.done(fn())
  }

  private enter(t: TaskStruct): void {
    this.sched.run(t)
    this.current = t
    this.opts.clock?.advance(COST_NS.syscall)
    this.mm.memcg.enter(t.mm ? t.mm.memcg : null, t.cpu)
  }
  private done<T>(v: T): T {
    const t = this.current
    this.current = null
    this.sleepers.finish_wait()
    // The way back to user mode delivers the pending signals: a sleep they cut short is EINTR.
    if (t !== null && t.sigpending.size) {
      if (v === -ERESTARTSYS) v = -EINTR as T
      this.deliver_signals(t)
    }
    // The way back to user mode: a fatal signal (the OOM killer's SIGKILL) ends the task here.
    if (t !== null && t.signal.flags !== 0) this.exit_to_user_mode(t)
    const clock = this.opts.clock
    if (clock && clock.next_expiry <= clock.now()) clock.run_timers()
    this.after_syscall?.()
    // Tasks the call woke run now, after it (their calls start over: wait.ts).
    this.sleepers.run_woken()
    return v
  }
  /** Kernel: get_signal() + handle_signal(): each pending signal's handler runs (SIG_DFL/SIG_IGN were settled at send). */
  private deliver_signals(t: TaskStruct): void {
    for (const sig of [...t.sigpending]) {
      t.sigpending.delete(sig)
      const h = t.sighand.get(sig)
      if (typeof h === 'function') h({ signo: sig, code: SI_USER, addr: 0 })
    }
  }

  /**
   * Kernel: kill(2) of one process (kill_pid_info -> send_signal): 0, or
   * ESRCH (no such process), EINVAL (bad signal), EPERM (another user's,
   * without CAP_KILL). Signal 0 only checks. A signal whose action is the
   * default terminates the target (the ignore-by-default ones and
   * SIG_IGN are dropped); one with a handler is queued, and a target
   * asleep interruptibly is woken: its call sees the signal and returns
   * EINTR after the handler ran (drivers: -ERESTARTSYS).
   */
  sys_kill(t: TaskStruct, pid: number, sig: number): number {
    if (!Number.isInteger(sig) || sig < 0 || sig > 64) return -EINVAL
    const target = this.pids.tasks.get(pid)
    if (!target || target.exit_state !== 0) return -ESRCH
    const c = t.cred
    const tc = target.cred
    if (c.euid !== tc.uid && c.euid !== tc.suid && c.uid !== tc.uid && c.uid !== tc.suid && !cred_capable(c, CAP_KILL)) return -EPERM
    if (sig === 0) return 0
    this.enter(t)
    const h = target.sighand.get(sig) ?? 'SIG_DFL'
    const ignored_by_default = sig === SIGCHLD || sig === SIGURG || sig === SIGWINCH || sig === SIGCONT
    if (sig === SIGKILL || (h === 'SIG_DFL' && !ignored_by_default)) {
      this.sleepers.cancel(target)
      // the target's get_signal(): a coredump signal dumps its core first (SI_USER: no address)
      sig_fatal_exit(this, target, sig, 0, 0)
    } else if (typeof h === 'function') {
      target.sigpending.add(sig)
      this.sleepers.interrupt(target)
    }
    return this.done(0)
  }

  /** Kernel: exit_to_user_mode_loop() -> get_signal(): a pending SIGKILL kills the group now. */
  private exit_to_user_mode(t: TaskStruct): boolean {
    if (!(t.signal.flags & SIGNAL_GROUP_EXIT) || t.exit_state !== 0) return false
    do_exit(this, t, SIGKILL)
    return true
  }
  /** The call of `t` went to sleep (E_SLEEPING): park it to be run again by `restart` when woken. */
  private sleep(t: TaskStruct, syscall: string, restart: () => number): number {
    this.current = null
    const r = this.sleepers.park(t, syscall, restart)
    this.after_syscall?.()
    this.sleepers.run_woken()
    return r
  }

  // ---- tasks ----

  /**
   * A new process running `image` (what init's fork + execve give): the
   * task, or -errno when its task_struct, stack or address space cannot be
   * made or the image cannot be mapped.
   */
  spawn(name: string, uid: number, image: ProgramImage = default_image(name, this.mm.arch.bits), gid = uid): TaskStruct | number {
    const mm = this.mm.mm_alloc()
    if (!mm) return -ENOMEM
    // The new task runs the execve: it owns the mm (its cred and limits apply); its pid comes after.
    const task = new TaskStruct(0, name, mm, cred_for_uid(uid, gid), copy_rlimits(this.init_rlim))
    mm.owner = task
    const stack = task.signal.rlim[RLIMIT_STACK].rlim_cur
    const r = exec_image(this.mm, mm, image, {
      randomize_va_space: this.randomize_va_space,
      rnd: this.opts.random,
      // An unlimited stack selects the legacy bottom-up layout in Linux (mmap_is_legacy()), not modelled.
      rlimit_stack: stack === RLIM_INFINITY ? undefined : stack,
    })
    if (r.ret < 0 || !dup_task_struct(this, task)) {
      mmput(mm)
      return this.done(r.ret < 0 ? r.ret : -ENOMEM)
    }
    // the execve's prepare_exec_creds(): the cred in its own cred_jar object
    if (!prepare_creds(this.mm, task)) {
      free_task(this, task)
      mmput(mm)
      return this.done(-ENOMEM)
    }
    task.pid = task.tgid = this.pids.alloc_pid()
    task.cmdline = [...image.argv]
    task.files = new FilesStruct()
    this.pids.attach_pid(task)
    return this.done(task)
  }

  /** Kernel: kthread_create(); null when out of memory. */
  kthread_create(name: string): TaskStruct | null {
    return this.done(kthread_create(this, name))
  }

  /** fork(2) (clone_flags 0) or a thread of the same process (CLONE_VM): the child, or -errno. */
  sys_clone(t: TaskStruct, clone_flags = 0): TaskStruct | number {
    this.enter(t)
    return this.done(copy_process(this, t, clone_flags))
  }

  /** exit(2): `code` & 0xff becomes the status. */
  sys_exit(t: TaskStruct, code: number): void {
    this.enter(t)
    this.sleepers.cancel(t)
    do_exit(this, t, (code & 0xff) << 8)
    this.done(0)
  }

  /** waitpid() on one child: its wait status once it is a zombie (reaping it), else -1 (still running). */
  sys_wait4(child: TaskStruct): number {
    if (child.exit_state !== EXIT_ZOMBIE) return -1
    const status = child.exit_code
    release_task(this, child)
    return this.done(status)
  }

  // ---- memory ----

  /**
   * Kernel: sys_mmap() (arch/x86/kernel/sys_x86_64.c). The offset alignment
   * and the descriptor (EBADF) are checked by the mm entry, in the kernel's
   * order; here the descriptor is only looked up. Addresses, lengths, prot,
   * flags and offsets of the mm calls are unsigned longs (src/include/ulong.ts).
   */
  sys_mmap(t: TaskStruct, addr: UlongArg, len: UlongArg, prot: UlongArg, flags: UlongArg, fd: number, off: UlongArg): number {
    const anon = typeof flags === 'bigint' ? (flags & BigInt(MAP_ANONYMOUS)) !== 0n : (flags & MAP_ANONYMOUS) !== 0
    const file: VmFile | null = anon ? null : this.fget(t, fd)
    this.enter(t)
    return this.done(this.mm.ksys_mmap_pgoff(t.mm!, addr, len, prot, flags, file, off))
  }
  sys_munmap(t: TaskStruct, addr: UlongArg, len: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_munmap(t.mm!, addr, len))
  }
  sys_mprotect(t: TaskStruct, addr: UlongArg, len: UlongArg, prot: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_mprotect_pkey(t.mm!, addr, len, prot))
  }
  sys_mremap(t: TaskStruct, addr: UlongArg, old_len: UlongArg, new_len: UlongArg, flags: UlongArg, new_addr: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_mremap(t.mm!, addr, old_len, new_len, flags, new_addr))
  }
  sys_madvise(t: TaskStruct, addr: UlongArg, len: UlongArg, advice: number): number {
    this.enter(t)
    return this.done(this.mm.do_madvise(t.mm!, addr, len, advice))
  }
  sys_mlock(t: TaskStruct, addr: UlongArg, len: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_mlock(t.mm!, addr, len, 0))
  }
  sys_mlock2(t: TaskStruct, addr: UlongArg, len: UlongArg, flags: number): number {
    this.enter(t)
    return this.done(this.mm.sys_mlock2(t.mm!, addr, len, flags))
  }
  sys_munlock(t: TaskStruct, addr: UlongArg, len: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_munlock(t.mm!, addr, len))
  }
  sys_mlockall(t: TaskStruct, flags: number): number {
    this.enter(t)
    return this.done(this.mm.do_mlockall(t.mm!, flags))
  }
  sys_munlockall(t: TaskStruct): number {
    this.enter(t)
    return this.done(this.mm.do_munlockall(t.mm!))
  }
  sys_msync(t: TaskStruct, addr: UlongArg, len: UlongArg, flags: number): number {
    this.enter(t)
    return this.done(this.mm.do_msync(t.mm!, addr, len, flags))
  }
  sys_mseal(t: TaskStruct, addr: UlongArg, len: UlongArg, flags: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.do_mseal(t.mm!, addr, len, flags))
  }
  sys_mincore(t: TaskStruct, addr: UlongArg, len: UlongArg, vec: Uint8Array): number {
    this.enter(t)
    return this.done(this.mm.do_mincore(t.mm!, addr, len, vec))
  }
  /** Kernel: sys_swapon(): EINVAL for bad flags, then EPERM without CAP_SYS_ADMIN, then the area's checks. */
  sys_swapon(t: TaskStruct, path: string, swap_flags: number): number {
    this.enter(t)
    if (swap_flags & ~SWAP_FLAGS_VALID) return this.done(-EINVAL)
    if (!cred_capable(t.cred, CAP_SYS_ADMIN)) return this.done(-EPERM)
    return this.done(this.mm.sys_swapon(path, swap_flags))
  }
  /** Kernel: sys_swapoff(). */
  sys_swapoff(t: TaskStruct, path: string): number {
    this.enter(t)
    return this.done(this.mm.sys_swapoff(path, cred_capable(t.cred, CAP_SYS_ADMIN)))
  }
  /** Kernel: sys_brk(): the new break, or the old one when refused. */
  sys_brk(t: TaskStruct, brk: UlongArg): number {
    this.enter(t)
    return this.done(this.mm.sys_brk(t.mm!, brk))
  }

  // ---- user-mode accesses ----

  /**
   * A user-mode load (write false) or store (write true, `data` given) of
   * `len` bytes at `addr` through the MMU of the task's CPU. A fault is
   * delivered (force_sig_fault): the handler runs, or the task dies of it.
   */
  user_access(t: TaskStruct, addr: Ulong, len: number, write: boolean, data?: Uint8Array): UserAccess {
    // The same steps as enter() / deliver() / done(), written out: this is the path of every
    // load and store, and V8 inlines a chain only up to a budget (about 900 bytes of bytecode);
    // spent on small wrappers, the TLB lookup and the copy were left as calls (TLB-hit loads ~20 % slower).
    this.sched.run(t)
    // A plain address below the canonical user end with bytes to access never traps: trap() is not asked.
    const trap = typeof addr === 'number' && addr < this.no_trap_end && len !== 0 ? null : this.trap(addr, len)
    if (trap) return this.fault_done(t, trap)
    this.current = t
    this.in_user_access = true
    const r = this.mm.access_user(t.mm!, addr as number, len, write, data)
    this.in_user_access = false
    // A fault may have run the OOM killer, which may have chosen this task: it dies before running on.
    if (!r.ok || t.signal.flags !== 0) return this.fault_done(t, r)
    this.current = null
    // Timers that fell due during a fault ran at its return to user mode (uaccess.ts); a fault that
    // ends in a signal goes through done() instead.
    if (this.after_syscall !== null) this.after_syscall()
    return r
  }
  /** A faulting user access: deliver the fault, then what every call does at its end. */
  private fault_done(t: TaskStruct, r: UserAccess): UserAccess {
    this.current = t
    if (r.ok && t.signal.flags & SIGNAL_GROUP_EXIT && t.exit_state === 0) {
      // The access itself completed (the victim had reserves to finish it); the SIGKILL lands now.
      return this.done({ ok: false, data: r.data, fault: { signal: SIGKILL, si_code: SI_KERNEL, addr: 0 }, killed: this.exit_to_user_mode(t) })
    }
    return this.done(this.deliver(t, r))
  }
  /** A user-mode instruction fetch (NX pages fault with SEGV_ACCERR where the profile has NX). */
  user_fetch(t: TaskStruct, addr: Ulong, len: number): UserAccess {
    this.enter(t)
    const trap = this.trap(addr, len)
    if (trap) return this.done(this.deliver(t, trap))
    return this.done(this.deliver(t, this.mm.fetch_user(t.mm!, addr as number, len)))
  }
  /** Like user_access(), but the fault is reported, not delivered (a probe that catches its own faults). */
  user_probe(t: TaskStruct, addr: Ulong, len: number, write: boolean, data?: Uint8Array): UserAccess {
    this.enter(t)
    const trap = this.trap(addr, len)
    if (trap) return this.done(trap)
    return this.done(this.mm.access_user(t.mm!, addr as number, len, write, data))
  }
  /** An access the CPU refuses before any page walk (a non-canonical address: #GP); null otherwise. */
  private trap(addr: Ulong, len: number): AccessResult | null {
    if (len === 0) return typeof addr === 'number' ? null : { ok: true, data: new Uint8Array(0) }
    const fault = user_access_trap(this.mm.arch, addr)
    return fault ? { ok: false, data: new Uint8Array(0), fault } : null
  }
  private deliver(t: TaskStruct, r: AccessResult): UserAccess {
    if (r.ok) return r
    const fault = r.fault ?? { signal: 11, si_code: 1, addr: 0 }
    return { ok: false, data: r.data, fault, killed: force_sig_fault(this, t, fault) }
  }

  // ---- signals and limits ----

  /** sigaction(2) for one signal: the old handler, or -EINVAL. */
  sys_rt_sigaction(t: TaskStruct, signo: number, handler: SigHandler): SigHandler | number {
    return do_sigaction(t, signo, handler)
  }
  sys_getrlimit(t: TaskStruct, resource: number, out: Rlimit): number {
    return sys_getrlimit(t, resource, out)
  }
  sys_setrlimit(t: TaskStruct, resource: number, rlim: Rlimit): number {
    return sys_setrlimit(t, resource, rlim)
  }

  // ---- files ----

  /** The open file behind `fd` (null when none). */
  fget(t: TaskStruct, fd: number): File | null {
    return t.files ? fget(t.files, fd) : null
  }

  /** Kernel: ksys_read(): read(2) at the file position into user memory; bytes read, or -errno. */
  sys_read(t: TaskStruct, fd: number, addr: Ulong, count: Ulong): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    const len = this.user_buf(t, f, FMODE_READ, addr, count)
    if (len < 0) return len
    this.enter(t)
    const ppos = { pos: f.f_pos }
    const n = vfs_read(f, { mm: t.mm!, addr: addr as number }, len, ppos)
    if (n === -E_SLEEPING) return this.sleep(t, 'read', () => this.sys_read(t, fd, addr, count))
    if (n >= 0) f.f_pos = ppos.pos
    return this.done(n)
  }
  /** Kernel: ksys_write(): write(2) at the file position (at EOF with O_APPEND); bytes written, or -errno. */
  sys_write(t: TaskStruct, fd: number, addr: Ulong, count: Ulong): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    const len = this.user_buf(t, f, FMODE_WRITE, addr, count)
    if (len < 0) return len
    this.enter(t)
    // O_APPEND is the filesystem's (generic_write_checks): a device writes at f_pos.
    const ppos = { pos: f.f_flags & O_APPEND && !S_ISCHR(f.f_inode.i_mode) ? f.f_mapping.i_size : f.f_pos }
    const n = vfs_write(f, { mm: t.mm!, addr: addr as number }, len, ppos)
    if (n === -E_SLEEPING) return this.sleep(t, 'write', () => this.sys_write(t, fd, addr, count))
    if (n >= 0) f.f_pos = ppos.pos
    return this.done(n)
  }
  /** Kernel: ksys_lseek(): the new position, or -errno. */
  sys_lseek(t: TaskStruct, fd: number, offset_in: UlongArg, whence: number): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    const offset = loff(offset_in)
    // A position of 2^53 or more is past every file's s_maxbytes (EINVAL from vfs_setpos()).
    if (typeof offset !== 'number') return -EINVAL
    this.enter(t)
    return this.done(vfs_llseek(f, offset, whence))
  }
  /**
   * Kernel: do_sys_poll(): fills each entry's revents; the number of
   * entries with events, 0 when timeout_ms is 0 and none is ready, or
   * -errno. With another timeout and nothing ready the task sleeps on the
   * queues the files named until one is woken (no simulated clock runs
   * while every process waits, so a positive timeout waits like -1).
   */
  sys_poll(t: TaskStruct, fds: PollFd[], timeout_ms: number): number {
    this.enter(t)
    const files = t.files
    const fget_fd = (fd: number): File | null => (files ? fget(files, fd) : null)
    const pt = { _qproc: timeout_ms === 0 ? null : (_f: File, wq: Parameters<Sleepers['prepare_to_wait']>[0]) => this.sleepers.prepare_to_wait(wq) }
    const n = do_poll_pass(fds, fget_fd, pt, t.signal.rlim[RLIMIT_NOFILE].rlim_cur)
    if (n === 0 && timeout_ms !== 0) return this.sleep(t, 'poll', () => this.sys_poll(t, fds, timeout_ms))
    return this.done(n)
  }
  /**
   * Kernel: sys_ioctl(): EBADF for a bad descriptor, then the file's
   * unlocked_ioctl (ENOTTY without one). `cmd` is an unsigned int (the
   * low 32 bits are kept), `arg` an unsigned long: a value or a user address.
   */
  sys_ioctl(t: TaskStruct, fd: number, cmd: number, arg: number): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    this.enter(t)
    return this.done(vfs_ioctl(f, cmd >>> 0, arg, t.mm!))
  }
  /**
   * Kernel: do_mknodat() for a character device: `dev` in the user
   * encoding (makedev(), new_decode_dev()); EPERM without CAP_MKNOD,
   * EEXIST when the path exists, EINVAL for another file type.
   */
  sys_mknod(t: TaskStruct, path: string, mode: number, dev: number): number {
    this.enter(t)
    return this.done(this.mm.mknod(path, mode, new_decode_dev(dev), t.cred))
  }

  /**
   * Kernel: do_sys_openat2(): a free descriptor is found first
   * (get_unused_fd_flags(): EMFILE at RLIMIT_NOFILE, before any lookup
   * error), then the file is opened and installed.
   */
  sys_open(t: TaskStruct, path: string, flags: number, mode: number): number {
    if (!t.files) return -EBADF
    const fd = get_unused_fd_flags(t.files, t.signal.rlim[RLIMIT_NOFILE].rlim_cur)
    if (fd < 0) return fd
    this.enter(t)
    const f = this.mm.filp_open(path, flags, mode, t.cred)
    // a driver's open may sleep (scullwuid): the open starts over when woken
    if (f === -E_SLEEPING) return this.sleep(t, 'open', () => this.sys_open(t, path, flags, mode))
    if (typeof f === 'number') return this.done(f)
    fd_install(t.files, fd, f, (flags & O_CLOEXEC) !== 0)
    return this.done(fd)
  }
  /**
   * Kernel: sys_memfd_create(): EINVAL for unknown flags, for MFD_EXEC with
   * MFD_NOEXEC_SEAL and for a name longer than 249 bytes (it is cut at a
   * NUL, as a C string); neither exec flag means MFD_EXEC
   * (vm.memfd_noexec 0) and a one-time warning in the log; then a free
   * descriptor (EMFILE) and an unlinked file on the internal tmpfs (no size
   * limit). MFD_ALLOW_SEALING lifts F_SEAL_SEAL; MFD_NOEXEC_SEAL also
   * clears the x bits and seals F_SEAL_EXEC. MFD_HUGETLB answers ENOSYS
   * (hugetlbfs is not simulated).
   */
  sys_memfd_create(t: TaskStruct, uname: string, flags: number): number {
    if (!t.files) return -EBADF
    flags = flags >>> 0
    const MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC
    const MFD_HUGE_BITS = 0x3f * 2 ** 26
    if (!(flags & MFD_HUGETLB)) {
      if (flags & ~MFD_ALL_FLAGS) return -EINVAL
    } else if (flags & ~(MFD_ALL_FLAGS | MFD_HUGE_BITS)) return -EINVAL
    if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) return -EINVAL
    this.enter(t)
    if (!(flags & (MFD_EXEC | MFD_NOEXEC_SEAL))) {
      flags |= MFD_EXEC
      if (!this.warned.has('memfd_create')) {
        this.warned.add('memfd_create')
        this.warn(`memfd_create() without MFD_EXEC nor MFD_NOEXEC_SEAL, pid=${t.pid} '${t.comm}'`)
      }
    }
    const nul = uname.indexOf('\0')
    const name = nul >= 0 ? uname.slice(0, nul) : uname
    // MFD_NAME_MAX_LEN: NAME_MAX less "memfd:", in bytes
    if (new TextEncoder().encode(name).length > 255 - 6) return this.done(-EINVAL)
    const fd = get_unused_fd_flags(t.files, t.signal.rlim[RLIMIT_NOFILE].rlim_cur)
    if (fd < 0) return this.done(fd)
    if (flags & MFD_HUGETLB) return this.done(-ENOSYS)
    const f = this.mm.memfd_file_setup(name, flags & MFD_NOEXEC_SEAL ? 0o666 : 0o777)
    if (typeof f === 'number') return this.done(f)
    const mapping = f.f_mapping
    if (flags & MFD_NOEXEC_SEAL) mapping.seals = ((mapping.seals ?? 0) & ~F_SEAL_SEAL) | F_SEAL_EXEC
    else if (flags & MFD_ALLOW_SEALING) mapping.seals = (mapping.seals ?? 0) & ~F_SEAL_SEAL
    fd_install(t.files, fd, f, (flags & MFD_CLOEXEC) !== 0)
    return this.done(fd)
  }
  /**
   * Kernel: do_fcntl() for the commands mmsim models: F_DUPFD /
   * F_DUPFD_CLOEXEC (EINVAL at RLIMIT_NOFILE), F_GETFD / F_SETFD
   * (FD_CLOEXEC), F_ADD_SEALS / F_GET_SEALS (memfd_fcntl()); EBADF for a
   * bad descriptor, EINVAL for an unknown command, ENOSYS for the known
   * ones mmsim does not model (file status flags, locks, leases, owners...).
   */
  sys_fcntl(t: TaskStruct, fd: number, cmd: number, arg_in: UlongArg): number {
    const f = this.fget(t, fd)
    if (!f || !t.files) return -EBADF
    // arg is an unsigned long; most commands read it as an int (argi), F_ADD_SEALS refuses it above UINT_MAX.
    const wide = BigInt.asUintN(64, BigInt(arg_in))
    const arg = Number(BigInt.asIntN(32, wide))
    this.enter(t)
    const files = t.files
    switch (cmd) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC: {
        const nofile = t.signal.rlim[RLIMIT_NOFILE].rlim_cur
        if (arg < 0 || arg >= nofile) return this.done(-EINVAL)
        let nfd = Math.max(arg, 0)
        while (files.fdt.has(nfd)) nfd++
        if (nfd >= nofile) return this.done(-EMFILE)
        f.f_count++
        fd_install(files, nfd, f, cmd === F_DUPFD_CLOEXEC)
        return this.done(nfd)
      }
      case F_GETFD:
        return this.done(files.close_on_exec.has(fd) ? FD_CLOEXEC : 0)
      case F_SETFD:
        if (arg & FD_CLOEXEC) files.close_on_exec.add(fd)
        else files.close_on_exec.delete(fd)
        return this.done(0)
      case F_ADD_SEALS:
      case F_GET_SEALS:
        return this.done(wide > 0xffffffffn ? -EINVAL : this.mm.memfd_fcntl(f, cmd, Number(wide), f.f_inode.i_mode))
      default:
        // F_GETFL..F_GETLK (3..), F_SETOWN.., F_SETLEASE.. (1024..1032, 1038..1048): real commands not modelled.
        return this.done(cmd >= 3 && cmd <= 16 || cmd >= 1024 && cmd <= 1048 ? -ENOSYS : -EINVAL)
    }
  }
  sys_close(t: TaskStruct, fd: number): number {
    if (!t.files) return -EBADF
    this.enter(t)
    return this.done(close_fd(t.files, fd))
  }
  /** pread(2) into a kernel buffer (the libc helper that returns the bytes; a view of `into` when given): the bytes, or -errno. */
  sys_pread_buf(t: TaskStruct, fd: number, len: number, off_in: UlongArg, into?: Uint8Array): Uint8Array | number {
    const off = loff(off_in)
    const f = this.readable(t, fd, off)
    if (typeof f === 'number') return f
    this.enter(t)
    return this.done(this.mm.kernel_read(f, off, len, into))
  }
  /** pwrite(2) from a kernel buffer: bytes written, or -errno. */
  sys_pwrite_buf(t: TaskStruct, fd: number, data: Uint8Array, off_in: UlongArg): number {
    const off = loff(off_in)
    const f = this.writable(t, fd, off)
    if (typeof f === 'number') return f
    this.enter(t)
    return this.done(this.mm.kernel_write(f, off, data, t.mm?.dirty_throttle))
  }
  /** Kernel: ksys_pread64() -> filemap_read(): a short count at a hole of the destination, EFAULT when nothing was copied. */
  sys_pread64(t: TaskStruct, fd: number, addr: Ulong, count: Ulong, off_in: UlongArg): number {
    const off = loff(off_in)
    const f = this.readable(t, fd, off)
    if (typeof f === 'number') return f
    const len = this.user_buf(t, f, FMODE_READ, addr, count)
    if (len < 0) return len
    this.enter(t)
    return this.done(this.mm.file_read_to_user(t.mm!, f, off, addr as number, len))
  }
  /** Kernel: ksys_pwrite64() -> generic_perform_write(). */
  sys_pwrite64(t: TaskStruct, fd: number, addr: Ulong, count: Ulong, off_in: UlongArg): number {
    const off = loff(off_in)
    const f = this.writable(t, fd, off)
    if (typeof f === 'number') return f
    const len = this.user_buf(t, f, FMODE_WRITE, addr, count)
    if (len < 0) return len
    this.enter(t)
    return this.done(this.mm.file_write_from_user(t.mm!, f, off, addr as number, len))
  }
  /** Kernel: do_sys_ftruncate(): EINVAL for a negative size or a file not open for writing. */
  sys_ftruncate(t: TaskStruct, fd: number, size_in: UlongArg): number {
    const size = loff(size_in)
    if (size < 0) return -EINVAL
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    if (!(f.f_mode & FMODE_WRITE)) return -EINVAL
    this.enter(t)
    return this.done(this.mm.do_truncate(f, size))
  }
  /**
   * Kernel: ksys_fallocate() -> vfs_fallocate(): EBADF for a bad
   * descriptor, then vfs_fallocate()'s checks and the filesystem's answer
   * (tmpfs: ENOSPC past its size).
   */
  sys_fallocate(t: TaskStruct, fd: number, mode: number, offset_in: UlongArg, len_in: UlongArg): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    // Past 2^53 a loff_t is carried rounded: still past ext4's s_maxbytes, and tmpfs pages there are sparse.
    const offset = Number(loff(offset_in))
    const len = Number(loff(len_in))
    this.enter(t)
    return this.done(this.mm.fallocate(f, mode, offset, len, (f.f_inode.i_mode & S_IFMT) === S_IFREG))
  }
  /**
   * Kernel: sys_cachestat(): EBADF for a bad descriptor, EINVAL for flags
   * other than 0; the page-cache state of [off, off + len) (len 0: to the
   * end). `off` and `len` are the u64 fields of struct cachestat_range.
   */
  sys_cachestat(t: TaskStruct, fd: number, off: UlongArg, len: UlongArg, flags: number): Cachestat | number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    this.enter(t)
    return this.done(this.mm.cachestat(f, BigInt.asUintN(64, BigInt(off)), BigInt.asUintN(64, BigInt(len)), flags >>> 0))
  }
  /** Kernel: user_statfs(): the numbers of the filesystem `path` is on (tmpfs: its size and inodes), or -errno. */
  sys_statfs(t: TaskStruct, path: string): Kstatfs | number {
    this.enter(t)
    return this.done(this.mm.statfs(path))
  }
  /** Kernel: ksys_fadvise64_64(): 0 or -errno (EBADF without a file; ESPIPE for a pipe, which mmsim has none of). */
  sys_fadvise64(t: TaskStruct, fd: number, offset: number, len: number, advice: number): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    this.enter(t)
    return this.done(this.mm.fadvise(f, offset, len, advice))
  }
  /** Kernel: do_fsync(): through the file's f_op->fsync (vfs_fsync()). */
  sys_fsync(t: TaskStruct, fd: number): number {
    return this.do_fsync(t, fd, false)
  }
  /** Kernel: sys_fdatasync() -> do_fsync(fd, 1): the data and what reading it back needs (the size), not the times alone. */
  sys_fdatasync(t: TaskStruct, fd: number): number {
    return this.do_fsync(t, fd, true)
  }
  private do_fsync(t: TaskStruct, fd: number, datasync: boolean): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    this.enter(t)
    return this.done(vfs_fsync(f, datasync))
  }
  /** Kernel: ksys_sync(): 0 (sync(2) returns nothing and cannot fail). */
  sys_sync(t: TaskStruct): number {
    this.enter(t)
    this.mm.sync()
    return this.done(0)
  }
  /** Kernel: sys_syncfs(): the filesystem the descriptor's file is on; EBADF without a file. */
  sys_syncfs(t: TaskStruct, fd: number): number {
    const f = this.fget(t, fd)
    if (!f) return -EBADF
    this.enter(t)
    return this.done(this.mm.syncfs(f))
  }
  /**
   * vfs_read()/vfs_write()'s checks of the user buffer, in the kernel's order: the file mode
   * (EBADF), access_ok() (EFAULT); then the count is capped at MAX_RW_COUNT. The count, or -errno.
   */
  private user_buf(t: TaskStruct, f: File, mode: number, addr: Ulong, count: Ulong): number {
    if (!(f.f_mode & mode)) return -EBADF
    if (!access_ok(t.mm!.task_size, addr, count)) return -EFAULT
    return typeof count === 'number' && count < MAX_RW_COUNT ? count : MAX_RW_COUNT
  }
  /** rw_verify_area() and the FMODE_READ check of a positional read. */
  private readable(t: TaskStruct, fd: number, off: Loff): File | number {
    if (off < 0) return -EINVAL
    const f = this.fget(t, fd)
    if (!f || !(f.f_mode & FMODE_READ)) return -EBADF
    return f
  }
  private writable(t: TaskStruct, fd: number, off: Loff): File | number {
    if (off < 0) return -EINVAL
    const f = this.fget(t, fd)
    if (!f || !(f.f_mode & FMODE_WRITE)) return -EBADF
    return f
  }
}
