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
 */
import { PAGE_SIZE } from '../../include/page_types.js'
import { MAJOR, MINOR } from '../fs.js'
import { hex } from '../../include/hex.js'
import { MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, type MmStruct, type VmArea, type VmFile } from '../../mm/mm_types.js'
import type { TaskStruct } from '../../kernel/task.js'
import { RLIMIT_SIGPENDING } from '../../include/resource.js'
import type { MmEntry } from '../../kernel/mm_entry.js'
import { empty_mss, type MemSizeStats } from '../../mm/smaps.js'
import { pte_present, pte_pfn, vm_normal_page, is_guard_pte_marker } from '../../mm/memory.js'
import { PageAnon } from '../../mm/rmap.js'

const PSS_SHIFT = 12

/** The x86_64 vsyscall page (Kernel: gate_vma, arch/x86/entry/vsyscall/vsyscall_64.c). */
const VSYSCALL_ADDR = 0xffffffffff600000n

/** VmFlags mnemonics by bit (Kernel: show_smap_vma_flags(); 6.18, x86_64). '' = never printed. */
const MNEMONICS: Readonly<Record<number, string>> = {
  0: 'rd', 1: 'wr', 2: 'ex', 3: 'sh', 4: 'mr', 5: 'mw', 6: 'me', 7: 'ms', 8: 'gd', 9: 'um', 10: 'pf',
  11: 'gu', 12: 'uw', 13: 'lo', 14: 'io', 15: 'sr', 16: 'rr', 17: 'dc', 18: 'de', 19: 'lf', 20: 'ac',
  21: 'nr', 22: 'ht', 23: 'sf', 24: 'ar', 25: 'wf', 26: 'dd', 28: 'mm', 29: 'hg', 30: 'nh', 31: 'mg',
  32: '', 33: '', 34: '', 35: '', 36: '', 37: 'ss', 40: 'dp', 41: 'ui', 42: 'sl',
}

/** The "VmFlags:" value: each set bit's code followed by a space (unknown bits print "??"). */
export function vm_flags_string(vm_flags: number): string {
  let s = ''
  for (let bit = 0; bit < 53 && 2 ** bit <= vm_flags; bit++) {
    if (Math.floor(vm_flags / 2 ** bit) % 2 === 0) continue
    const m = MNEMONICS[bit]
    if (m === undefined) s += '?? '
    else if (m !== '') s += m + ' '
  }
  return s
}

function kb(bytes: number, width = 8): string {
  return String(Math.floor(bytes / 1024)).padStart(width, ' ')
}

/** Device and inode of a mapped file, as /proc/<pid>/maps prints them (the mapping's host inode). */
export function vma_file_id(file: VmFile): { dev: string; ino: number } {
  const host = file.f_mapping.host
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
  if (vma.vm_ops?.name) return vma.vm_ops.name
  if (vma.special_name) return vma.special_name
  if (is_initial_heap(vma)) return '[heap]'
  if (is_initial_stack(vma)) return '[stack]'
  if (vma.anon_name) return `[anon:${vma.anon_name}]`
  return null
}

/** Kernel: show_vma_header_prefix(): "start-end perms offset dev ino " (addresses given as hex text). */
function header_prefix(start: string, end: string, flags: number, pgoff_bytes: number, dev: string, ino: number): string {
  const perms = (flags & 0x1 ? 'r' : '-') + (flags & 0x2 ? 'w' : '-') + (flags & 0x4 ? 'x' : '-') + (flags & 0x80 ? 's' : 'p')
  return `${start.padStart(8, '0')}-${end.padStart(8, '0')} ${perms} ${pgoff_bytes.toString(16).padStart(8, '0')} ${dev} ${ino} `
}

function pad_name(prefix: string, name: string | null, bits: 32 | 64): string {
  if (name === null) return prefix
  const width = 25 + (bits / 8) * 6 - 1
  return prefix.padEnd(width, ' ') + ' ' + name
}

function addr_hex(a: number): string {
  return hex(a)
}

/** Kernel: show_map_vma(): one maps line (without the newline). */
export function show_map_vma(k: MmEntry, vma: VmArea): string {
  let dev = '00:00'
  let ino = 0
  let pgoff = 0
  if (vma.vm_file) {
    const id = vma_file_id(vma.vm_file)
    dev = id.dev
    ino = id.ino
    pgoff = vma.vm_pgoff * PAGE_SIZE
  }
  const prefix = header_prefix(addr_hex(vma.vm_start), addr_hex(vma.vm_end), vma.vm_flags, pgoff, dev, ino)
  return pad_name(prefix, get_vma_name(vma), k.arch.bits)
}

function gate_line(k: MmEntry): string | null {
  if (k.arch.bits !== 64) return null
  const s = VSYSCALL_ADDR.toString(16)
  const e = (VSYSCALL_ADDR + 4096n).toString(16)
  // vsyscall=xonly: VM_EXEC only ("--xp"), VmFlags "ex".
  return pad_name(header_prefix(s, e, 0x4, 0, '00:00', 0), '[vsyscall]', 64)
}

/** /proc/<pid>/maps. Empty for a kernel thread or a dead task. */
export function proc_pid_maps(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return ''
  let out = ''
  for (const vma of mm.mm_mt) out += show_map_vma(k, vma) + '\n'
  const g = gate_line(k)
  if (g) out += g + '\n'
  return out
}


function pss_kb(v: number): string {
  return kb(Math.floor(v / 2 ** PSS_SHIFT))
}

/** Kernel: __show_smap(): the counter lines. */
export function show_smap_counters(mss: MemSizeStats, rollup: boolean): string {
  let s = ''
  s += 'Rss:            ' + kb(mss.resident) + ' kB\n'
  s += 'Pss:            ' + pss_kb(mss.pss) + ' kB\n'
  s += 'Pss_Dirty:      ' + pss_kb(mss.pss_dirty) + ' kB\n'
  if (rollup) {
    s += 'Pss_Anon:       ' + pss_kb(mss.pss_anon) + ' kB\n'
    s += 'Pss_File:       ' + pss_kb(mss.pss_file) + ' kB\n'
    s += 'Pss_Shmem:      ' + pss_kb(mss.pss_shmem) + ' kB\n'
  }
  s += 'Shared_Clean:   ' + kb(mss.shared_clean) + ' kB\n'
  s += 'Shared_Dirty:   ' + kb(mss.shared_dirty) + ' kB\n'
  s += 'Private_Clean:  ' + kb(mss.private_clean) + ' kB\n'
  s += 'Private_Dirty:  ' + kb(mss.private_dirty) + ' kB\n'
  s += 'Referenced:     ' + kb(mss.referenced) + ' kB\n'
  s += 'Anonymous:      ' + kb(mss.anonymous) + ' kB\n'
  s += 'KSM:            ' + kb(mss.ksm) + ' kB\n'
  s += 'LazyFree:       ' + kb(mss.lazyfree) + ' kB\n'
  s += 'AnonHugePages:  ' + kb(mss.anonymous_thp) + ' kB\n'
  s += 'ShmemPmdMapped: ' + kb(mss.shmem_thp) + ' kB\n'
  s += 'FilePmdMapped:  ' + kb(mss.file_thp) + ' kB\n'
  s += 'Shared_Hugetlb: ' + kb(mss.shared_hugetlb) + ' kB\n'
  s += 'Private_Hugetlb: ' + kb(mss.private_hugetlb, 7) + ' kB\n'
  s += 'Swap:           ' + kb(mss.swap) + ' kB\n'
  s += 'SwapPss:        ' + pss_kb(mss.swap_pss) + ' kB\n'
  s += 'Locked:         ' + pss_kb(mss.pss_locked) + ' kB\n'
  return s
}

/** Kernel: show_smap() for one VMA (header, sizes, counters, THPeligible, VmFlags). */
export function show_smap(prefix_line: string, size: number, mss: MemSizeStats, vm_flags: number, thp_eligible = 0): string {
  let s = prefix_line + '\n'
  s += 'Size:           ' + kb(size) + ' kB\n'
  s += 'KernelPageSize: ' + kb(PAGE_SIZE) + ' kB\n'
  s += 'MMUPageSize:    ' + kb(PAGE_SIZE) + ' kB\n'
  s += show_smap_counters(mss, false)
  s += 'THPeligible:    ' + String(thp_eligible).padStart(8, ' ') + '\n'
  s += 'VmFlags: ' + vm_flags_string(vm_flags) + '\n'
  return s
}

/** /proc/<pid>/smaps. */
export function proc_pid_smaps(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  if (!mm) return ''
  let out = ''
  for (const vma of mm.mm_mt) {
    out += show_smap(show_map_vma(k, vma), vma.vm_end - vma.vm_start, k.smaps_walk(mm, vma), vma.vm_flags)
  }
  const g = gate_line(k)
  if (g) out += show_smap(g, PAGE_SIZE, empty_mss(), 0x4)
  return out
}

/** Kernel: show_smaps_rollup(). */
export function proc_pid_smaps_rollup(k: MmEntry, task: TaskStruct): string {
  const mm = task.mm
  const first = mm?.mm_mt.first()
  const last = mm?.mm_mt.last()
  if (!mm || !first || !last) return ''
  const sum = empty_mss()
  for (const vma of mm.mm_mt) {
    const m = k.smaps_walk(mm, vma)
    for (const key of Object.keys(sum) as (keyof MemSizeStats)[]) sum[key] += m[key]
  }
  const prefix = header_prefix(addr_hex(first.vm_start), addr_hex(last.vm_end), 0, 0, '00:00', 0)
  return pad_name(prefix, '[rollup]', k.arch.bits) + '\n' + show_smap_counters(sum, true)
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
  const pg = (n: number): string => kb(n * PAGE_SIZE)
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
    'VmExe:\t' + kb(text) + ' kB\n' +
    'VmLib:\t' + kb(lib) + ' kB\n' +
    'VmPTE:\t' + kb(mm_pgtables_bytes(mm)) + ' kB\n' +
    'VmSwap:\t' + pg(swap) + ' kB\n' +
    'HugetlbPages:\t' + kb(0) + ' kB\n'
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
    }
    dv.setUint32(i * 8, lo >>> 0, true)
    dv.setUint32(i * 8 + 4, hi >>> 0, true)
  }
  return out
}
