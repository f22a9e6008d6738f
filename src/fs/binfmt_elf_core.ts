/**
 * The ELF core file (Kernel: fs/binfmt_elf.c elf_core_dump, fill_elf_header,
 * fill_elf_note_phdr, fill_note_info, fill_prstatus, fill_psinfo,
 * fill_siginfo_note, fill_files_note; fs/coredump.c dump_emit, dump_skip_to,
 * dump_user_range).
 *
 * Layout: the ELF header (ET_CORE, EM_X86_64 or EM_386 by the machine's
 * word size), one PT_NOTE program header, one PT_LOAD per VMA (p_vaddr the
 * VMA's start, p_memsz its size, p_filesz its dump size, p_flags from
 * VM_READ/WRITE/EXEC, p_align ELF_EXEC_PAGESIZE), the notes, then from the
 * next page boundary each VMA's dumped bytes in turn. A page get_dump_page()
 * has no page for is skipped (a hole reading as zeros), and a file that
 * would end in a hole gets one zero byte written at its last position. The
 * writes stop at RLIMIT_CORE (dump_emit refuses the write that would pass
 * it; skipped holes do not count), leaving a truncated core without
 * WCOREDUMP.
 *
 * Notes (name "CORE"): NT_PRSTATUS (signal, pids; the general registers
 * are zero: mmsim simulates no CPU registers), NT_PRPSINFO (state, uid,
 * gid, pids, comm, arguments), NT_SIGINFO, NT_FILE (every file-backed
 * VMA: start, end, page offset, path). Not written: NT_AUXV and the FPU
 * and xstate notes, a thread's notes beyond the first.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { get_dump_page } from '../mm/access_remote.js'
import { put_page } from '../mm/rmap.js'
import { VM_EXEC, VM_READ, VM_WRITE, vm_flags_test, type MmStruct, type vm_flags_t } from '../mm/mm_types.js'

export const ET_CORE = 4
export const EM_386 = 3
export const EM_X86_64 = 62
export const PT_LOAD = 1
export const PT_NOTE = 4
export const PF_X = 1
export const PF_W = 2
export const PF_R = 4
export const NT_PRSTATUS = 1
export const NT_PRPSINFO = 3
export const NT_SIGINFO = 0x53494749
export const NT_FILE = 0x46494c45

/** Kernel: struct core_vma_metadata: what the dump keeps of each VMA. */
export interface CoreVma {
  readonly start: number
  readonly end: number
  readonly flags: vm_flags_t
  readonly pgoff: number
  readonly file: string | null
  readonly dump_size: number
}

/** The task-side facts the notes carry. */
export interface CoreNoteInfo {
  readonly signo: number
  readonly si_code: number
  readonly si_addr: number | bigint
  readonly pid: number
  readonly ppid: number
  readonly uid: number
  readonly gid: number
  readonly comm: string
  readonly argv: readonly string[]
  readonly task_flags: number
}

/** Little-endian fields of one word size (ELFCLASS64 or ELFCLASS32). */
class Le {
  readonly b: Uint8Array
  readonly v: DataView
  constructor(
    size: number,
    readonly wide: boolean,
  ) {
    this.b = new Uint8Array(size)
    this.v = new DataView(this.b.buffer)
  }
  u16(off: number, x: number): void {
    this.v.setUint16(off, x, true)
  }
  u32(off: number, x: number): void {
    this.v.setUint32(off, x >>> 0, true)
  }
  /** A long / Elf_Addr / Elf_Off: 8 bytes or 4. */
  word(off: number, x: number | bigint): void {
    if (this.wide) this.v.setBigUint64(off, BigInt(x), true)
    else this.v.setUint32(off, Number(BigInt(x) & 0xffffffffn), true)
  }
  str(off: number, s: string, max: number): void {
    const bytes = new TextEncoder().encode(s).subarray(0, max)
    this.b.set(bytes, off)
  }
}

/** struct elf_note with its name and descriptor, each padded to 4 bytes. */
function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const namesz = name.length + 1
  const pad = (n: number): number => Math.ceil(n / 4) * 4
  const out = new Le(12 + pad(namesz) + pad(desc.length), false)
  out.u32(0, namesz)
  out.u32(4, desc.length)
  out.u32(8, type)
  out.str(12, name, name.length)
  out.b.set(desc, 12 + pad(namesz))
  return out.b
}

/** fill_prstatus(): struct elf_prstatus (336 bytes on x86_64, 144 on i386). */
function prstatus(i: CoreNoteInfo, wide: boolean): Uint8Array {
  const d = new Le(wide ? 336 : 144, wide)
  d.u32(0, i.signo) // pr_info.si_signo
  d.u16(12, i.signo) // pr_cursig
  const ids = wide ? 32 : 24
  d.u32(ids, i.pid)
  d.u32(ids + 4, i.ppid)
  d.u32(ids + 8, i.pid) // pr_pgrp: each process leads its own group here
  d.u32(ids + 12, i.pid) // pr_sid
  return d.b
}

/** fill_psinfo(): struct elf_prpsinfo (136 bytes on x86_64, 124 on i386). */
function prpsinfo(i: CoreNoteInfo, wide: boolean): Uint8Array {
  const d = new Le(wide ? 136 : 124, wide)
  d.b[0] = 0 // pr_state: running
  d.b[1] = 0x52 // pr_sname 'R'
  if (wide) {
    d.word(8, i.task_flags)
    d.u32(16, i.uid)
    d.u32(20, i.gid)
  } else {
    d.word(4, i.task_flags)
    d.u16(8, i.uid & 0xffff)
    d.u16(10, i.gid & 0xffff)
  }
  const ids = wide ? 24 : 12
  d.u32(ids, i.pid)
  d.u32(ids + 4, i.ppid)
  d.u32(ids + 8, i.pid)
  d.u32(ids + 12, i.pid)
  d.str(ids + 16, i.comm, 15)
  // pr_psargs: the arguments with spaces between, ELF_PRARGSZ (80) bytes with its NUL
  d.str(ids + 32, i.argv.join(' '), 79)
  return d.b
}

/** fill_siginfo_note(): the 128-byte siginfo of the fatal signal. */
function siginfo(i: CoreNoteInfo, wide: boolean): Uint8Array {
  const d = new Le(128, wide)
  d.u32(0, i.signo)
  d.u32(8, i.si_code)
  // a fault's si_addr follows the three ints (aligned to a long)
  if (i.si_code > 0) d.word(wide ? 16 : 12, i.si_addr)
  return d.b
}

/** fill_files_note(): count, page size, {start, end, pgoff} per file VMA, then the names. */
function files(vmas: readonly CoreVma[], wide: boolean): Uint8Array {
  const fv = vmas.filter((v) => v.file !== null)
  const w = wide ? 8 : 4
  const names = new TextEncoder().encode(fv.map((v) => `${v.file}\0`).join(''))
  const d = new Le(2 * w + 3 * w * fv.length + names.length, wide)
  d.word(0, fv.length)
  d.word(w, PAGE_SIZE)
  fv.forEach((v, k) => {
    d.word(2 * w + 3 * w * k, v.start)
    d.word(2 * w + 3 * w * k + w, v.end)
    d.word(2 * w + 3 * w * k + 2 * w, v.pgoff)
  })
  d.b.set(names, 2 * w + 3 * w * fv.length)
  return d.b
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}

/**
 * Kernel: elf_core_dump(). `write(off, bytes)` puts bytes in the core file.
 * True when the whole core was written (WCOREDUMP), false when the limit
 * or a write stopped it.
 */
export function elf_core_dump(mm: MmStruct, vmas: readonly CoreVma[], info: CoreNoteInfo, limit: number, write: (off: number, bytes: Uint8Array) => boolean): boolean {
  const wide = mm.env.arch.bits === 64
  const ehsize = wide ? 64 : 52
  const phentsize = wide ? 56 : 32
  const e_phnum = vmas.length + 1
  const notes = concat([
    note('CORE', NT_PRSTATUS, prstatus(info, wide)),
    note('CORE', NT_PRPSINFO, prpsinfo(info, wide)),
    note('CORE', NT_SIGINFO, siginfo(info, wide)),
    note('CORE', NT_FILE, files(vmas, wide)),
  ])
  const head = new Le(ehsize + e_phnum * phentsize, wide)
  // fill_elf_header()
  head.b.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, 1, 1, 0])
  head.u16(16, ET_CORE)
  head.u16(18, wide ? EM_X86_64 : EM_386)
  head.u32(20, 1)
  head.word(wide ? 32 : 28, ehsize) // e_phoff
  const rest = wide ? 52 : 40
  head.u16(rest, ehsize)
  head.u16(rest + 2, phentsize)
  head.u16(rest + 4, e_phnum)
  // program headers: Elf64_Phdr puts p_flags second, Elf32_Phdr next to last
  const phdr = (k: number, type: number, offset: number, vaddr: number, filesz: number, memsz: number, flags: number, align: number): void => {
    const o = ehsize + k * phentsize
    head.u32(o, type)
    if (wide) {
      head.u32(o + 4, flags)
      head.word(o + 8, offset)
      head.word(o + 16, vaddr)
      head.word(o + 32, filesz)
      head.word(o + 40, memsz)
      head.word(o + 48, align)
    } else {
      head.word(o + 4, offset)
      head.word(o + 8, vaddr)
      head.word(o + 16, filesz)
      head.word(o + 20, memsz)
      head.u32(o + 24, flags)
      head.word(o + 28, align)
    }
  }
  let offset = head.b.length
  phdr(0, PT_NOTE, offset, 0, notes.length, 0, 0, 4)
  offset += notes.length
  const dataoff = Math.ceil(offset / PAGE_SIZE) * PAGE_SIZE
  offset = dataoff
  vmas.forEach((v, k) => {
    const f = vm_flags_test(v.flags, VM_READ) ? PF_R : 0
    const flags = f + (vm_flags_test(v.flags, VM_WRITE) ? PF_W : 0) + (vm_flags_test(v.flags, VM_EXEC) ? PF_X : 0)
    phdr(k + 1, PT_LOAD, offset, v.start, v.dump_size, v.end - v.start, flags, PAGE_SIZE)
    offset += v.dump_size
  })
  // dump_emit(): nothing may pass the limit; dump_skip() only moves the position
  let written = 0
  let pos = 0
  let to_skip = 0
  const emit = (bytes: Uint8Array): boolean => {
    if (written + bytes.length > limit) return false
    pos += to_skip
    to_skip = 0
    if (!write(pos, bytes)) return false
    written += bytes.length
    pos += bytes.length
    return true
  }
  if (!emit(head.b) || !emit(notes)) return false
  to_skip = dataoff - pos
  for (const v of vmas) {
    // dump_user_range(): page by page through the kernel's reference to each page
    for (let a = v.start; a < v.start + v.dump_size; a += PAGE_SIZE) {
      const page = get_dump_page(mm, a)
      if (page < 0) {
        to_skip += PAGE_SIZE
        continue
      }
      const bytes = mm.env.physmem.read(page * PAGE_SIZE, PAGE_SIZE)
      put_page(mm.env, page)
      if (!emit(bytes)) return false
    }
  }
  // do_coredump(): a core ending in a hole gets its last byte written, so its size is right
  if (to_skip) {
    to_skip -= 1
    if (!emit(new Uint8Array(1))) return false
  }
  return true
}
