/**
 * /proc/<pid>/{maps,smaps,smaps_rollup,statm,pagemap} and the memory lines
 * of /proc/<pid>/status, byte-compatible with Linux 6.18
 * (Kernel: fs/proc/task_mmu.c, fs/proc/array.c).
 *
 * Formatting rules kept from the kernel:
 *  - a maps line is "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " and, when
 *    the VMA has a name, padded to column 25 + 6*sizeof(void *) - 1 (72 on
 *    64-bit, 48 on 32-bit), then one space, then the name (seq_pad);
 *  - names: the file's path (shared anonymous memory is "/dev/zero
 *    (deleted)"), the vm_ops / special-mapping name ([vvar], [vdso]),
 *    [heap] for the VMA overlapping [start_brk, brk), [stack] for the VMA
 *    holding start_stack, "[anon:<name>]" for a named anonymous VMA;
 *  - smaps numbers are kB right-aligned in 8 columns after a 16-column label
 *    (Private_Hugetlb: 17 + 7); Pss values are kept << PSS_SHIFT (12) and
 *    shifted down when printed; VmFlags lists two-letter codes by bit order,
 *    each followed by a space; ProtectionKey is absent (no pkeys on the
 *    reference CPU);
 *  - x86_64 lists the [vsyscall] gate VMA last in maps and smaps (not in
 *    smaps_rollup).
 *
 * The text is printed into a SeqFile (src/fs/seq_file.ts) with the
 * kernel's seq_* helpers; the statistics come from one walk of each VMA's
 * page tables (smaps_walk: walk_page_range with smaps_pte_range). A file
 * costs time linear in the VMAs and in their resident pte tables.
 */
import { PAGE_SIZE } from '../../include/page_types.js'
import { MAJOR, MINOR } from '../fs.js'
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, type MmStruct, type VmArea, type VmFile } from '../../mm/mm_types.js'
import type { TaskStruct } from '../../kernel/task.js'
import { RLIMIT_SIGPENDING } from '../../include/resource.js'
import type { MmEntry } from '../../kernel/mm_entry.js'
import { empty_mss, mss_add, type MemSizeStats } from '../../mm/smaps.js'
import { pte_present, pte_pfn, vm_normal_page, is_guard_pte_marker } from '../../mm/memory.js'
import { PageAnon } from '../../mm/rmap.js'
import { _PAGE_SWP_UFFD_WP, is_swap_pte, pte_swp_offset, pte_swp_type } from '../../arch/pte.js'
import {
  SeqDecimalBlock, SeqFile, seq_pad, seq_put_decimal_block, seq_put_decimal_ull, seq_put_hex_ll, seq_putc, seq_puts,
  seq_setwidth, seq_text, type SeqDecimalLine,
} from '../seq_file.js'

/** Kernel: PSS_SHIFT: Pss values are kept in bytes << 12 (a constant: `2 ** PSS_SHIFT` at each use is a pow() call). */
const PSS_ONE = 2 ** 12

/**
 * The x86_64 vsyscall page (Kernel: gate_vma, arch/x86/entry/vsyscall/vsyscall_64.c).
 * Exact doubles (multiples of 2^12 below 2^64), printed through toString(16).
 */
const VSYSCALL_START = Number(0xffffffffff600000n)
const VSYSCALL_END = Number(0xffffffffff601000n)

/** VmFlags mnemonics by bit (Kernel: show_smap_vma_flags(); 6.18, x86_64). '' = never printed. */
const MNEMONICS: Readonly<Record<number, string>> = {
  0: 'rd', 1: 'wr', 2: 'ex', 3: 'sh', 4: 'mr', 5: 'mw', 6: 'me', 7: 'ms', 8: 'gd', 9: 'um', 10: 'pf',
  11: 'gu', 12: 'uw', 13: 'lo', 14: 'io', 15: 'sr', 16: 'rr', 17: 'dc', 18: 'de', 19: 'lf', 20: 'ac',
  21: 'nr', 22: 'ht', 23: 'sf', 24: 'ar', 25: 'wf', 26: 'dd', 28: 'mm', 29: 'hg', 30: 'nh', 31: 'mg',
  32: '', 33: '', 34: '', 35: '', 36: '', 37: 'ss', 40: 'dp', 41: 'ui', 42: 'sl',
}
/** What each of bits 0..52 prints: "xx " (its mnemonic and a space), '' for nothing, "?? " for a bit without one. */
const MNEMONIC_OF_BIT: readonly string[] = Array.from({ length: 53 }, (_, bit) => {
  const name = MNEMONICS[bit] ?? '??'
  return name === '' ? '' : name + ' '
})

/** Each set bit of a 32-bit word (bit `first` + i for bit i), lowest first. */
function put_flag_bits(m: SeqFile, word: number, first: number): void {
  let w = word | 0 // ToInt32 keeps the word's 32 bits
  while (w !== 0) {
    seq_puts(m, MNEMONIC_OF_BIT[first + 31 - Math.clz32(w & -w)])
    w &= w - 1
  }
}

/** The mnemonics of vm_flags, each followed by a space, in bit order (bits 0..52). */
function put_vm_flags(m: SeqFile, vm_flags: number): void {
  if (vm_flags >= 0 && vm_flags < 2 ** 53 && Math.floor(vm_flags) === vm_flags) {
    // One pass per 32-bit half over the set bits only.
    const hi = Math.floor(vm_flags / 2 ** 32)
    put_flag_bits(m, vm_flags - hi * 2 ** 32, 0)
    put_flag_bits(m, hi, 32)
    return
  }
  // Not an exact flag word: the bits as floor division sees them.
  for (let bit = 0; bit < 53 && 2 ** bit <= vm_flags; bit++) {
    if (Math.floor(vm_flags / 2 ** bit) % 2 === 0) continue
    seq_puts(m, MNEMONIC_OF_BIT[bit])
  }
}

/** The "VmFlags:" value: each set bit's code followed by a space (unknown bits print "??"). */
export function vm_flags_string(vm_flags: number): string {
  const m = new SeqFile(64)
  put_vm_flags(m, vm_flags)
  return seq_text(m)
}

/** Kernel: show_smap_vma_flags(). */
function show_smap_vma_flags(m: SeqFile, vm_flags: number): void {
  seq_puts(m, 'VmFlags: ')
  put_vm_flags(m, vm_flags)
  seq_putc(m, '\n')
}

/** Device and inode of a mapped file, as /proc/<pid>/maps prints them (file_inode(), else the mapping's host inode). */
export function vma_file_id(file: VmFile): { dev: string; ino: number } {
  const host = file.f_inode ?? file.f_mapping.host
  if (host) return { dev: hex2(MAJOR(host.i_sb.s_dev)) + ':' + hex2(MINOR(host.i_sb.s_dev)), ino: host.i_ino }
  // An object without an inode of a mounted filesystem: shm_mnt (shared anonymous memory) is 00:01;
  // internal tmpfs-like objects print as /dev/shm's 00:19, disk-like ones as the disk's fe:00.
  const dev = file.anon_shared ? '00:01' : file.f_mapping.backing === 'shmem' ? '00:19' : 'fe:00'
  return { dev, ino: file.f_mapping.id }
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0')
}

/** Kernel: vma_is_initial_heap(). */
function is_initial_heap(vma: VmArea): boolean {
  const mm = vma.vm_mm
  return vma.vm_start < mm.brk && vma.vm_end > mm.start_brk
}
/** Kernel: vma_is_initial_stack(). */
function is_initial_stack(vma: VmArea): boolean {
  const mm = vma.vm_mm
  return vma.vm_start <= mm.start_stack && vma.vm_end >= mm.start_stack
}

/** Kernel: get_vma_name(): the name shown after the padding, or null. */
export function get_vma_name(vma: VmArea): string | null {
  if (vma.vm_file) {
    if (vma.anon_name) return `[anon_shmem:${vma.anon_name}]`
    return vma.vm_file.anon_shared ? '/dev/zero (deleted)' : vma.vm_file.name
  }
  const name = vma.vm_ops?.name
  if (name) {
    const n = typeof name === 'function' ? name(vma) : name
    if (n !== null) return n
  }
  if (vma.special_name) return vma.special_name
  if (is_initial_heap(vma)) return '[heap]'
  if (is_initial_stack(vma)) return '[stack]'
  if (vma.anon_name) return `[anon:${vma.anon_name}]`
  return null
}

/** " rwxs" and the rest: the perms column with its leading space, by VM_READ|VM_WRITE|VM_EXEC and (8) VM_MAYSHARE. */
const PERMS: readonly string[] = Array.from({ length: 16 }, (_, i) =>
  ' ' + (i & 1 ? 'r' : '-') + (i & 2 ? 'w' : '-') + (i & 4 ? 'x' : '-') + (i & 8 ? 's' : 'p'))

/**
 * Kernel: show_vma_header_prefix(): "start-end perms offset dev ino ",
 * after seq_setwidth() to the name column (25 + 6 * sizeof(void *) - 1).
 */
function show_vma_header_prefix(m: SeqFile, bits: 32 | 64, start: number, end: number, flags: number, pgoff: number, dev: string, ino: number): void {
  seq_setwidth(m, 25 + (bits / 8) * 6 - 1)
  seq_put_hex_ll(m, null, start, 8)
  seq_put_hex_ll(m, '-', end, 8)
  seq_puts(m, PERMS[(flags & 0x7) | (flags & 0x80 ? 8 : 0)])
  seq_put_hex_ll(m, ' ', pgoff, 8)
  seq_putc(m, ' ')
  seq_puts(m, dev)
  seq_put_decimal_ull(m, ' ', ino)
  seq_putc(m, ' ')
}

/** The name column: padded to the seq_setwidth() mark, one space, the name (seq_pad). */
function show_vma_name(m: SeqFile, name: string | null): void {
  if (name === null) return
  seq_pad(m, ' ')
  seq_puts(m, name)
}

/** Kernel: show_map_vma(): one maps line. */
function show_map_vma(m: SeqFile, k: MmEntry, vma: VmArea): void {
  let dev = '00:00'
  let ino = 0
  let pgoff = 0
  if (vma.vm_file) {
    const id = vma_file_id(vma.vm_file)
    dev = id.dev
    ino = id.ino
    pgoff = vma.vm_pgoff * PAGE_SIZE
  }
  show_vma_header_prefix(m, k.arch.bits, vma.vm_start, vma.vm_end, vma.vm_flags, pgoff, dev, ino)
  show_vma_name(m, get_vma_name(vma))
  seq_putc(m, '\n')
}

/** The [vsyscall] line, x86_64 only (vsyscall=xonly: VM_EXEC only, "--xp", VmFlags "ex"). */
function show_gate_vma(m: SeqFile, k: MmEntry): boolean {
  if (k.arch.bits !== 64) return false
  show_vma_header_prefix(m, 64, VSYSCALL_START, VSYSCALL_END, 0x4, 0, '00:00', 0)
  show_vma_name(m, '[vsyscall]')
  seq_putc(m, '\n')
  return true
}

/** A first guess of a file's size (the buffer grows past it). */
function size_hint(mm: MmStruct, per_vma: number): number {
  return Math.max(4096, (mm.map_count + 1) * per_vma)
}

/** /proc/<pid>/maps. Empty for a kernel thread or a dead task. */
export function proc_pid_maps(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return ''
  const m = new SeqFile(size_hint(mm, 96))
  for (const vma of mm.mm_mt) show_map_vma(m, k, vma)
  show_gate_vma(m, k)
  return seq_text(m)
}

function kb(bytes: number): number {
  return Math.floor(bytes / 1024)
}
function pss_kb(pss: number): number {
  return Math.floor(Math.floor(pss / PSS_ONE) / 1024)
}

/** Kernel: __show_smap()'s lines: SEQ_PUT_DEC("Rss:            ", ...) and the rest, in order. */
function smap_counter_lines(rollup: boolean): SeqDecimalLine[] {
  const l = (label: string, width = 8): SeqDecimalLine => [label, width, ' kB\n']
  return [
    l('Rss:            '),
    l('Pss:            '),
    l('Pss_Dirty:      '),
    ...(rollup ? [l('Pss_Anon:       '), l('Pss_File:       '), l('Pss_Shmem:      ')] : []),
    l('Shared_Clean:   '),
    l('Shared_Dirty:   '),
    l('Private_Clean:  '),
    l('Private_Dirty:  '),
    l('Referenced:     '),
    l('Anonymous:      '),
    l('KSM:            '),
    l('LazyFree:       '),
    l('AnonHugePages:  '),
    l('ShmemPmdMapped: '),
    l('FilePmdMapped:  '),
    l('Shared_Hugetlb: '),
    l('Private_Hugetlb: ', 7),
    l('Swap:           '),
    l('SwapPss:        '),
    l('Locked:         '),
  ]
}

/** The values of smap_counter_lines(rollup), from v[i] on; returns the index past them. */
function smap_counter_values(mss: MemSizeStats, rollup: boolean, v: Float64Array, i: number): number {
  v[i++] = kb(mss.resident)
  v[i++] = pss_kb(mss.pss)
  v[i++] = pss_kb(mss.pss_dirty)
  if (rollup) {
    v[i++] = pss_kb(mss.pss_anon)
    v[i++] = pss_kb(mss.pss_file)
    v[i++] = pss_kb(mss.pss_shmem)
  }
  v[i++] = kb(mss.shared_clean)
  v[i++] = kb(mss.shared_dirty)
  v[i++] = kb(mss.private_clean)
  v[i++] = kb(mss.private_dirty)
  v[i++] = kb(mss.referenced)
  v[i++] = kb(mss.anonymous)
  v[i++] = kb(mss.ksm)
  v[i++] = kb(mss.lazyfree)
  v[i++] = kb(mss.anonymous_thp)
  v[i++] = kb(mss.shmem_thp)
  v[i++] = kb(mss.file_thp)
  v[i++] = kb(mss.shared_hugetlb)
  v[i++] = kb(mss.private_hugetlb)
  v[i++] = kb(mss.swap)
  v[i++] = pss_kb(mss.swap_pss)
  v[i++] = pss_kb(mss.pss_locked)
  return i
}

/**
 * The counter lines of smaps (`rollup` false) and smaps_rollup, and the body
 * of an smaps record: Size, KernelPageSize, MMUPageSize, the counters,
 * THPeligible. All fixed-width decimals: put as SeqDecimalBlocks (one copy
 * per record, then the nonzero digits).
 */
const SMAP_COUNTERS = new SeqDecimalBlock(smap_counter_lines(false))
const ROLLUP_COUNTERS = new SeqDecimalBlock(smap_counter_lines(true))
const SMAP_BODY = new SeqDecimalBlock([
  ['Size:           ', 8, ' kB\n'],
  ['KernelPageSize: ', 8, ' kB\n'],
  ['MMUPageSize:    ', 8, ' kB\n'],
  ...smap_counter_lines(false),
  ['THPeligible:    ', 8, '\n'],
])

/** Kernel: __show_smap(): the counter lines. */
function __show_smap(m: SeqFile, mss: MemSizeStats, rollup: boolean, v: Float64Array): void {
  smap_counter_values(mss, rollup, v, 0)
  seq_put_decimal_block(m, rollup ? ROLLUP_COUNTERS : SMAP_COUNTERS, v)
}

/** The counter lines as text (__show_smap()). */
export function show_smap_counters(mss: MemSizeStats, rollup: boolean): string {
  const m = new SeqFile(1024)
  __show_smap(m, mss, rollup, new Float64Array(ROLLUP_COUNTERS.ends.length))
  return seq_text(m)
}

/**
 * Kernel: show_smap() after the maps line: Size, the page sizes, the
 * counters, THPeligible (0: no THP here) and VmFlags. `v` is scratch room
 * for the body's values.
 */
function show_smap_body(m: SeqFile, size: number, mss: MemSizeStats, vm_flags: number, v: Float64Array): void {
  v[0] = kb(size)
  v[1] = kb(PAGE_SIZE)
  v[2] = kb(PAGE_SIZE)
  v[smap_counter_values(mss, false, v, 3)] = 0 // THPeligible
  seq_put_decimal_block(m, SMAP_BODY, v)
  show_smap_vma_flags(m, vm_flags)
}

/** /proc/<pid>/smaps: show_smap() for each VMA, then the gate VMA's record (one page, nothing resident). */
export function proc_pid_smaps(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return ''
  const m = new SeqFile(size_hint(mm, 800))
  const v = new Float64Array(SMAP_BODY.ends.length)
  for (const vma of mm.mm_mt) {
    show_map_vma(m, k, vma)
    show_smap_body(m, vma.vm_end - vma.vm_start, k.smaps_walk(mm, vma), vma.vm_flags, v)
  }
  if (show_gate_vma(m, k)) show_smap_body(m, PAGE_SIZE, empty_mss(), 0x4, v)
  return seq_text(m)
}

/** Kernel: show_smaps_rollup(): the sums over every VMA under one [rollup] line spanning them. */
export function proc_pid_smaps_rollup(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return ''
  const sum = empty_mss()
  let start = -1
  let end = 0
  for (const vma of mm.mm_mt) {
    if (start < 0) start = vma.vm_start
    end = vma.vm_end
    // smap_gather_stats() adds to the sum it is given; an MmEntry that answers with the VMA's own counters is added here.
    const got = k.smaps_walk(mm, vma, sum)
    if (got !== sum) mss_add(sum, got)
  }
  if (start < 0) return ''
  const m = new SeqFile(1024)
  show_vma_header_prefix(m, k.arch.bits, start, end, 0, 0, '00:00', 0)
  show_vma_name(m, '[rollup]')
  seq_putc(m, '\n')
  __show_smap(m, sum, true, new Float64Array(ROLLUP_COUNTERS.ends.length))
  return seq_text(m)
}

/** A kB value as /proc/<pid>/status prints it: "%8lu". */
function kb_field(bytes: number): string {
  return String(kb(bytes)).padStart(8, ' ')
}

function mm_pgtables_bytes(mm: MmStruct): number {
  return mm.pgd.nr_ptes * PAGE_SIZE
}

/** Kernel: task_mem(): the Vm and Rss lines of /proc/<pid>/status. */
export function task_mem(mm: MmStruct): string {
  const anon = mm.rss_stat[MM_ANONPAGES]
  const file = mm.rss_stat[MM_FILEPAGES]
  const shmem = mm.rss_stat[MM_SHMEMPAGES]
  const total_vm = mm.total_vm
  const hiwater_vm = Math.max(total_vm, mm.hiwater_vm)
  const total_rss = anon + file + shmem
  const hiwater_rss = Math.max(total_rss, mm.hiwater_rss)
  let text = Math.ceil(mm.end_code / PAGE_SIZE) * PAGE_SIZE - Math.floor(mm.start_code / PAGE_SIZE) * PAGE_SIZE
  text = Math.min(text, mm.exec_vm * PAGE_SIZE)
  const lib = mm.exec_vm * PAGE_SIZE - text
  const swap = mm.rss_stat[MM_SWAPENTS]
  const pg = (n: number): string => kb_field(n * PAGE_SIZE)
  return (
    'VmPeak:\t' + pg(hiwater_vm) + ' kB\n' +
    'VmSize:\t' + pg(total_vm) + ' kB\n' +
    'VmLck:\t' + pg(mm.locked_vm) + ' kB\n' +
    'VmPin:\t' + pg(mm.pinned_vm) + ' kB\n' +
    'VmHWM:\t' + pg(hiwater_rss) + ' kB\n' +
    'VmRSS:\t' + pg(total_rss) + ' kB\n' +
    'RssAnon:\t' + pg(anon) + ' kB\n' +
    'RssFile:\t' + pg(file) + ' kB\n' +
    'RssShmem:\t' + pg(shmem) + ' kB\n' +
    'VmData:\t' + pg(mm.data_vm) + ' kB\n' +
    'VmStk:\t' + pg(mm.stack_vm) + ' kB\n' +
    'VmExe:\t' + kb_field(text) + ' kB\n' +
    'VmLib:\t' + kb_field(lib) + ' kB\n' +
    'VmPTE:\t' + kb_field(mm_pgtables_bytes(mm)) + ' kB\n' +
    'VmSwap:\t' + pg(swap) + ' kB\n' +
    'HugetlbPages:\t' + kb_field(0) + ' kB\n'
  )
}

/** Kernel: task_statm() as /proc/<pid>/statm prints it: size resident shared text lib data dt. */
export function proc_pid_statm(task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return '0 0 0 0 0 0 0\n'
  const shared = mm.rss_stat[MM_FILEPAGES] + mm.rss_stat[MM_SHMEMPAGES]
  const text = (Math.ceil(mm.end_code / PAGE_SIZE) * PAGE_SIZE - Math.floor(mm.start_code / PAGE_SIZE) * PAGE_SIZE) / PAGE_SIZE
  const data = mm.data_vm + mm.stack_vm
  const resident = shared + mm.rss_stat[MM_ANONPAGES]
  return `${mm.total_vm} ${resident} ${shared} ${text} 0 ${data} 0\n`
}

/** State letters of proc_pid_status() (Kernel: task_state_array). */
function state_line(task: TaskStruct): string {
  if (task.exit_state === 32) return 'Z (zombie)'
  if (task.exit_state === 16) return 'X (dead)'
  if (task.__state === 0) return 'R (running)'
  return task.is_kthread ? 'I (idle)' : 'S (sleeping)'
}

/**
 * /proc/<pid>/status (Kernel: proc_pid_status(), fs/proc/array.c). The memory
 * lines come from task_mem(); the other lines carry the simulated task's
 * identity and Linux's values for what the simulator does not model.
 */
export function proc_pid_status(task: TaskStruct, opts: { cpus?: number } = {}): string {
  const cpus = opts.cpus ?? 2
  const ppid = task.parent ? task.parent.pid : task.is_kthread ? 2 : 1
  const c = task.cred
  let s = ''
  s += `Name:\t${task.comm}\n`
  s += `Umask:\t0022\n`
  s += `State:\t${state_line(task)}\n`
  s += `Tgid:\t${task.tgid}\nNgid:\t0\nPid:\t${task.pid}\nPPid:\t${ppid}\nTracerPid:\t0\n`
  s += `Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}\nGid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}\n`
  s += `FDSize:\t${task.is_kthread ? 0 : 256}\nGroups:\t \n`
  s += `NStgid:\t${task.tgid}\nNSpid:\t${task.pid}\nNSpgid:\t${task.tgid}\nNSsid:\t${task.tgid}\n`
  s += `Kthread:\t${task.is_kthread ? 1 : 0}\n`
  if (task.mm) {
    s += task_mem(task.mm)
    s += 'CoreDumping:\t0\n'
    s += 'THP_enabled:\t1\n'
    s += 'untag_mask:\t0xffffffffffffffff\n'
  }
  s += 'Threads:\t1\n'
  // SigQ: signals queued / RLIMIT_SIGPENDING.
  s += `SigQ:\t0/${task.signal.rlim[RLIMIT_SIGPENDING].rlim_cur}\n`
  s += 'SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n'
  let ign = 0n
  let cgt = 0n
  for (const [sig, h] of task.sighand) {
    if (h === 'SIG_IGN') ign |= 1n << BigInt(sig - 1)
    else if (typeof h === 'function') cgt |= 1n << BigInt(sig - 1)
  }
  s += `SigIgn:\t${ign.toString(16).padStart(16, '0')}\nSigCgt:\t${cgt.toString(16).padStart(16, '0')}\n`
  const cap = (v: number): string => v.toString(16).padStart(16, '0')
  s += `CapInh:\t${cap(c.cap_inheritable)}\nCapPrm:\t${cap(c.cap_permitted)}\nCapEff:\t${cap(c.cap_effective)}\n`
  s += `CapBnd:\t${cap(c.cap_bset)}\nCapAmb:\t${cap(c.cap_ambient)}\n`
  s += 'NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n'
  s += 'Speculation_Store_Bypass:\tvulnerable\nSpeculationIndirectBranch:\talways enabled\n'
  const mask = (2 ** cpus - 1).toString(16)
  s += `Cpus_allowed:\t${mask}\nCpus_allowed_list:\t${cpus > 1 ? `0-${cpus - 1}` : '0'}\n`
  s += 'Mems_allowed:\t' + new Array<string>(31).fill('00000000').join(',') + ',00000001\n'
  s += 'Mems_allowed_list:\t0\n'
  s += 'voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n'
  return s
}

/* pagemap bits (Kernel: fs/proc/task_mmu.c, Documentation/admin-guide/mm/pagemap.rst) */
export const PM_PFRAME_BITS = 55
export const PM_SOFT_DIRTY = 55
export const PM_MMAP_EXCLUSIVE = 56
export const PM_UFFD_WP = 57
export const PM_GUARD_REGION = 58
export const PM_FILE = 61
export const PM_SWAP = 62
export const PM_PRESENT = 63

/**
 * /proc/<pid>/pagemap: 8 little-endian bytes per virtual page from `offset`
 * (a multiple of 8) for `count` bytes (Kernel: pagemap_read()). PFNs are
 * shown only with CAP_SYS_ADMIN (`show_pfn`), else zero.
 */
export function proc_pid_pagemap(k: MmEntry, task: TaskStruct, offset: number, count: number, show_pfn: boolean): Uint8Array {
  const mm = task.mm
  if (!mm || offset % 8 !== 0 || count % 8 !== 0) return new Uint8Array(0)
  const out = new Uint8Array(count)
  const dv = new DataView(out.buffer)
  const first_vpn = offset / 8
  let vma: VmArea | null = null
  for (let i = 0; i < count / 8; i++) {
    const vpn = first_vpn + i
    const addr = vpn * PAGE_SIZE
    if (addr >= mm.task_size) break
    if (!vma || vma.vm_end <= addr) vma = mm.mm_mt.find(addr)
    if (!vma || vma.vm_start > addr) continue
    const pte = k.pte_of ? k.pte_of(mm, addr) : mm.pgd.get(vpn)
    let hi = 0 // bits 32..63
    let lo = 0
    if (pte_present(pte)) {
      // Kernel: pagemap_pte_range(): PFN (with CAP_SYS_ADMIN), present; file/exclusive from the page.
      const pfn = pte_pfn(pte)
      hi = 2 ** (PM_PRESENT - 32)
      if (show_pfn) {
        lo = pfn % 2 ** 32
        hi += Math.floor(pfn / 2 ** 32)
      }
      const page = vm_normal_page(vma, pte)
      if (page >= 0 && page < mm.env.pages.nr) {
        if (!PageAnon(mm.env, page)) hi += 2 ** (PM_FILE - 32)
        if (mm.env.pages.page_mapcount(page) === 1) hi += 2 ** (PM_MMAP_EXCLUSIVE - 32)
      }
    } else if (pte !== 0 && is_guard_pte_marker(pte)) {
      hi = 2 ** (PM_GUARD_REGION - 32)
    } else if (pte !== 0 && is_swap_pte(pte)) {
      // pte_to_pagemap_entry(): PM_SWAP, and (with CAP_SYS_ADMIN) type | offset << MAX_SWAPFILES_SHIFT.
      hi = 2 ** (PM_SWAP - 32)
      if (pte & _PAGE_SWP_UFFD_WP) hi += 2 ** (PM_UFFD_WP - 32)
      if (show_pfn) {
        const frame = pte_swp_type(pte) + pte_swp_offset(pte) * 32
        lo = frame % 2 ** 32
        hi += Math.floor(frame / 2 ** 32)
      }
    }
    dv.setUint32(i * 8, lo >>> 0, true)
    dv.setUint32(i * 8 + 4, hi >>> 0, true)
  }
  return out
}
