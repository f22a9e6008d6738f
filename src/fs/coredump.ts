/**
 * Core dumps (Kernel: fs/coredump.c do_coredump, format_corename,
 * vma_dump_size, always_dump_vma, dump_vma_snapshot, dump_user_range;
 * kernel/signal.c sig_kernel_coredump; the ELF writer is binfmt_elf_core.ts).
 *
 * A task killed by a signal whose default action is to dump core (SIGQUIT,
 * SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ,
 * SIGSYS) writes an ELF core file, if its mm is dumpable and, for a file
 * pattern, RLIMIT_CORE is at least one page (binfmt_elf's min_coredump:
 * the default limit 0 writes nothing). The file is kernel.core_pattern
 * ("core" by default; %p %P %i %I pid, %u %g ids, %s signal, %e comm,
 * %c the limit, %% percent; core_uses_pid appends .PID), relative to the
 * task's working directory, which is / for every mmsim process. A pattern
 * starting with '|' pipes the core to a helper program: mmsim runs no
 * user-mode helpers, so that fails as a missing helper does in Linux
 * ("Core dump to |... pipe failed").
 *
 * Which bytes of each VMA go in (vma_dump_size, with the mm's
 * coredump_filter, 0x33 by default): [vdso]-like VMAs whose vm_ops name
 * them always, whole; VM_DONTDUMP and VM_IO never (so no core dump reads
 * device memory: remap_pfn_range sets both); a shared mapping whole if its
 * filter bit says so (anonymous shared: bit 1, on; a mapped file: bit 3,
 * off); a private one with an anon_vma (written to) whole (bit 0); a
 * private file mapping whole only with bit 2; otherwise the first page of
 * a file mapped from offset 0 that is an ELF file (bit 4: executable, or
 * starting with the ELF magic), else nothing. The bytes come through
 * get_dump_page() (the kernel's own access to the page): a page never
 * touched or a special PTE is a hole in the file, never read through the
 * process's mapping.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { O_CREAT, O_RDWR } from '../include/uapi/fcntl.js'
import { get_dump_page } from '../mm/access_remote.js'
import { put_page } from '../mm/rmap.js'
import { VM_DONTDUMP, VM_EXEC, VM_IO, VM_READ, VM_SHARED, vm_flags_test, MMF_DUMP_FILTER_BITS, MMF_DUMP_FILTER_SHIFT, type MmStruct, type VmArea, type VmFile } from '../mm/mm_types.js'
import { elf_core_dump, type CoreNoteInfo, type CoreVma } from './binfmt_elf_core.js'
import { fput } from './fs.js'
import type { Loff } from '../include/ulong.js'

// the filter's bits (MMF_DUMP_* - MMF_DUMP_FILTER_SHIFT)
export const MMF_DUMP_ANON_PRIVATE = 0
export const MMF_DUMP_ANON_SHARED = 1
export const MMF_DUMP_MAPPED_PRIVATE = 2
export const MMF_DUMP_MAPPED_SHARED = 3
export const MMF_DUMP_ELF_HEADERS = 4

/** binfmt_elf's min_coredump: ELF_EXEC_PAGESIZE. */
const MIN_COREDUMP = PAGE_SIZE
/** CORENAME_MAX_SIZE. */
export const CORENAME_MAX_SIZE = 128

/** Kernel: SIG_KERNEL_COREDUMP_MASK: the signals whose default action dumps core. */
export function sig_kernel_coredump(sig: number): boolean {
  // SIGQUIT 3, SIGILL 4, SIGTRAP 5, SIGABRT 6, SIGBUS 7, SIGFPE 8, SIGSEGV 11, SIGXCPU 24, SIGXFSZ 25, SIGSYS 31
  return [3, 4, 5, 6, 7, 8, 11, 24, 25, 31].includes(sig)
}

/** The mm's coredump_filter (/proc/<pid>/coredump_filter). */
export function get_dump_filter(mm: MmStruct): number {
  return Math.floor(mm.flags / 2 ** MMF_DUMP_FILTER_SHIFT) % 2 ** MMF_DUMP_FILTER_BITS
}
/** Kernel: coredump_filter_write(): replace the filter bits of mm->flags. */
export function set_dump_filter(mm: MmStruct, filter: number): void {
  const low = mm.flags % 2 ** MMF_DUMP_FILTER_SHIFT
  const high = Math.floor(mm.flags / 2 ** (MMF_DUMP_FILTER_SHIFT + MMF_DUMP_FILTER_BITS))
  const bits = filter % 2 ** MMF_DUMP_FILTER_BITS
  mm.flags = low + bits * 2 ** MMF_DUMP_FILTER_SHIFT + high * 2 ** (MMF_DUMP_FILTER_SHIFT + MMF_DUMP_FILTER_BITS)
}

const bit = (filter: number, b: number): boolean => Math.floor(filter / 2 ** b) % 2 === 1

/** Kernel: always_dump_vma(): a VMA its vm_ops name ([vdso], [vvar]...) is dumped whatever its flags. */
function always_dump_vma(vma: VmArea): boolean {
  const name = vma.vm_ops?.name
  if (name === undefined) return false
  return typeof name === 'string' ? name !== '' : name(vma) !== null
}

/** dump_size meaning "the first page, if it starts with the ELF magic" (DUMP_SIZE_MAYBE_ELFHDR_PLACEHOLDER). */
export const DUMP_SIZE_MAYBE_ELFHDR = -1

/** The i_mode and i_nlink vma_dump_size() reads of a mapped file's inode. */
function file_inode_of(file: VmFile): { i_mode: number; i_nlink: number } {
  const inode = (file.f_inode ?? file.f_mapping.host) as { i_mode?: number; i_nlink?: number } | null
  // MAP_SHARED|MAP_ANONYMOUS memory: an unlinked shmem inode (shmem_zero_setup)
  return { i_mode: inode?.i_mode ?? 0o100600, i_nlink: file.anon_shared ? 0 : (inode?.i_nlink ?? 1) }
}

/** Kernel: vma_dump_size(): bytes of vma the core holds, or DUMP_SIZE_MAYBE_ELFHDR. */
export function vma_dump_size(vma: VmArea, filter: number): number {
  const whole = vma.vm_end - vma.vm_start
  if (always_dump_vma(vma)) return whole
  if (vm_flags_test(vma.vm_flags, VM_DONTDUMP)) return 0
  // "Do not dump I/O mapped devices or special mappings"
  if (vm_flags_test(vma.vm_flags, VM_IO)) return 0
  if (vm_flags_test(vma.vm_flags, VM_SHARED)) {
    const ino = vma.vm_file ? file_inode_of(vma.vm_file) : { i_nlink: 0, i_mode: 0 }
    return bit(filter, ino.i_nlink === 0 ? MMF_DUMP_ANON_SHARED : MMF_DUMP_MAPPED_SHARED) ? whole : 0
  }
  // segments that have been written to
  if (vma.anon_vma && bit(filter, MMF_DUMP_ANON_PRIVATE)) return whole
  if (vma.vm_file === null) return 0
  if (bit(filter, MMF_DUMP_MAPPED_PRIVATE)) return whole
  if (bit(filter, MMF_DUMP_ELF_HEADERS) && vma.vm_pgoff === 0 && vm_flags_test(vma.vm_flags, VM_READ)) {
    if (file_inode_of(vma.vm_file).i_mode & 0o111) return PAGE_SIZE
    return DUMP_SIZE_MAYBE_ELFHDR
  }
  return 0
}

/**
 * Kernel: dump_vma_snapshot(): every VMA with its dump size; a file's
 * first page is kept only if it begins with "\x7fELF" (read through the
 * kernel's page, as copy_from_user would fault it in).
 */
export function dump_vma_snapshot(mm: MmStruct): CoreVma[] {
  const filter = get_dump_filter(mm)
  const out: CoreVma[] = []
  for (const vma of mm.mm_mt) {
    let dump_size = vma_dump_size(vma, filter)
    if (dump_size === DUMP_SIZE_MAYBE_ELFHDR) {
      const page = get_dump_page(mm, vma.vm_start)
      let magic = false
      if (page >= 0) {
        const b = mm.env.physmem.read(page * PAGE_SIZE, 4)
        magic = b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46
        put_page(mm.env, page)
      }
      dump_size = magic ? PAGE_SIZE : 0
    }
    out.push({ start: vma.vm_start, end: vma.vm_end, flags: vma.vm_flags, pgoff: vma.vm_pgoff, file: vma.vm_file?.name ?? null, dump_size })
  }
  // x86_64's gate VMA ([vsyscall], vsyscall=xonly: VM_EXEC only) is always dumped; nothing maps
  // its page for user reads, so its bytes are a hole
  if (mm.env.arch.bits === 64) out.push({ start: VSYSCALL_START, end: VSYSCALL_START + PAGE_SIZE, flags: VM_EXEC, pgoff: 0, file: null, dump_size: PAGE_SIZE })
  return out
}

/** The vsyscall page's address (an exact double). */
const VSYSCALL_START = Number(0xffffffffff600000n)

/** What do_coredump() needs of the dying task (the notes' facts) and the kernel. */
export interface CoredumpParams extends CoreNoteInfo {
  readonly mm: MmStruct
  /** RLIMIT_CORE's soft limit (RLIM_INFINITY: Infinity or the kernel's all-ones value). */
  readonly limit: number
  readonly core_pattern: string
  readonly core_uses_pid: number
}

/** The file side the dumper writes through (the VFS calls of the mm entry). */
export interface CoredumpFs {
  filp_open(path: string, flags: number, mode: number, cred: null): VmFile | number
  kernel_write(file: VmFile, off: Loff, data: Uint8Array): number
  do_truncate(file: VmFile, size: Loff): number
}

/** Kernel: format_corename(): the core's name and whether it is a pipe. */
export function format_corename(p: CoredumpParams): { name: string; ispipe: boolean } {
  let pat = p.core_pattern
  const ispipe = pat.startsWith('|')
  if (ispipe) pat = pat.slice(1)
  let out = ''
  let pid_in_pattern = false
  for (let i = 0; i < pat.length; i++) {
    if (pat[i] !== '%') {
      out += pat[i]
      continue
    }
    const c = pat[++i]
    if (c === undefined) break
    switch (c) {
      case '%': out += '%'; break
      case 'p': pid_in_pattern = true; out += p.pid; break
      case 'P': case 'i': case 'I': out += p.pid; break
      case 'u': out += p.uid; break
      case 'g': out += p.gid; break
      case 'd': out += 1; break
      case 's': out += p.signo; break
      // a '/' in the command name would make a path: cn_esc_printf() turns it into '!'
      case 'e': out += p.comm.replaceAll('/', '!'); break
      case 'c': out += Number.isFinite(p.limit) ? p.limit : '18446744073709551615'; break
      default: break
    }
  }
  if (!ispipe && !pid_in_pattern && p.core_uses_pid) out += `.${p.pid}`
  return { name: out, ispipe }
}

/** What a dump did: the file written (null when none) and whether the core is complete (WCOREDUMP). */
export interface CoredumpResult {
  readonly path: string | null
  readonly dumped: boolean
}

/**
 * Kernel: do_coredump(): write the core of p.mm; `log` is printk. The
 * result says whether the wait status gets WCOREDUMP (0x80).
 */
export function do_coredump(p: CoredumpParams, fs: CoredumpFs, log: (text: string) => void): CoredumpResult {
  const { name, ispipe } = format_corename(p)
  if (ispipe) {
    if (p.limit === 1) {
      log(`Process ${p.pid}(${p.comm}) has RLIMIT_CORE set to 1`)
      log('Aborting core')
      return { path: null, dumped: false }
    }
    // call_usermodehelper(): there is no program to run
    log(`Core dump to |${name} pipe failed`)
    return { path: null, dumped: false }
  }
  if (p.limit < MIN_COREDUMP) return { path: null, dumped: false }
  const path = name.startsWith('/') ? name : `/${name}`
  // filp_open(O_CREAT | O_WRONLY | O_NOFOLLOW | O_LARGEFILE, 0600); mmsim's VFS opens O_RDWR for the final truncate
  const file = fs.filp_open(path, O_CREAT | O_RDWR, 0o600, null)
  if (typeof file === 'number') return { path: null, dumped: false }
  // the core replaces what the file held (do_truncate to 0 after the open)
  fs.do_truncate(file, 0)
  const vmas = dump_vma_snapshot(p.mm)
  const dumped = elf_core_dump(p.mm, vmas, p, p.limit, (off, bytes) => fs.kernel_write(file, off, bytes) === bytes.length)
  fput(file)
  return { path, dumped }
}
