/**
 * Reading an ELF core file back, as `readelf -l -n core` shows it: the
 * header, the program headers (PT_NOTE, one PT_LOAD per VMA) and the
 * notes. A user-side tool over the bytes of the file (not kernel code):
 * what a core dump wrote can be checked against /proc/<pid>/maps.
 */

export interface ElfSegment {
  /** 'LOAD', 'NOTE' or the number. */
  readonly type: string
  readonly offset: number
  readonly vaddr: number
  readonly filesz: number
  readonly memsz: number
  /** 'R', 'RW', 'R E', ... as readelf prints p_flags. */
  readonly flags: string
  readonly align: number
}

export interface ElfNote {
  readonly name: string
  /** NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_FILE or the number. */
  readonly type: string
  readonly desc: Uint8Array
}

export interface ElfCore {
  readonly class: 32 | 64
  /** 'CORE' for ET_CORE. */
  readonly type: string
  readonly machine: number
  readonly segments: ElfSegment[]
  readonly notes: ElfNote[]
  /** From NT_PRSTATUS: the signal that killed the process, and its pid. */
  readonly signal: number
  readonly pid: number
  /** From NT_PRPSINFO: the command name. */
  readonly comm: string
  /** From NT_FILE: the file-backed VMAs. */
  readonly files: { start: number; end: number; pgoff: number; name: string }[]
}

const NOTE_TYPES: Record<number, string> = { 1: 'NT_PRSTATUS', 3: 'NT_PRPSINFO', 0x53494749: 'NT_SIGINFO', 0x46494c45: 'NT_FILE' }

/** Parse an ELF core file; throws Error with a one-line reason for anything else. */
export function read_elf_core(b: Uint8Array): ElfCore {
  if (b.length < 52 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw new Error('not an ELF file (bad magic)')
  const wide = b[4] === 2
  if (b[4] !== 1 && b[4] !== 2) throw new Error(`unknown ELF class ${b[4]}`)
  if (b[5] !== 1) throw new Error('not a little-endian ELF file')
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const u16 = (o: number): number => v.getUint16(o, true)
  const u32 = (o: number): number => v.getUint32(o, true)
  const word = (o: number): number => (wide ? Number(v.getBigUint64(o, true)) : u32(o))
  const type = u16(16)
  const phoff = word(wide ? 32 : 28)
  const rest = wide ? 52 : 40
  const phentsize = u16(rest + 2)
  const phnum = u16(rest + 4)
  if (phoff + phnum * phentsize > b.length) throw new Error('program headers past the end of the file')
  const segments: ElfSegment[] = []
  for (let k = 0; k < phnum; k++) {
    const o = phoff + k * phentsize
    const t = u32(o)
    const f = wide ? u32(o + 4) : u32(o + 24)
    const flags = `${f & 4 ? 'R' : ' '}${f & 2 ? 'W' : ' '}${f & 1 ? 'E' : ' '}`.trimEnd()
    segments.push({
      type: t === 1 ? 'LOAD' : t === 4 ? 'NOTE' : String(t),
      offset: word(wide ? o + 8 : o + 4),
      vaddr: word(wide ? o + 16 : o + 8),
      filesz: word(wide ? o + 32 : o + 16),
      memsz: word(wide ? o + 40 : o + 20),
      flags,
      align: word(wide ? o + 48 : o + 28),
    })
  }
  const notes: ElfNote[] = []
  for (const s of segments.filter((x) => x.type === 'NOTE')) {
    let o = s.offset
    const end = s.offset + s.filesz
    while (o + 12 <= end) {
      const namesz = u32(o), descsz = u32(o + 4), t = u32(o + 8)
      const pad = (n: number): number => Math.ceil(n / 4) * 4
      const name = new TextDecoder().decode(b.subarray(o + 12, o + 12 + Math.max(0, namesz - 1)))
      const d = o + 12 + pad(namesz)
      notes.push({ name, type: NOTE_TYPES[t] ?? String(t), desc: b.slice(d, d + descsz) })
      o = d + pad(descsz)
    }
  }
  const desc = (t: string): DataView | null => {
    const n = notes.find((x) => x.type === t)
    return n ? new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength) : null
  }
  const pr = desc('NT_PRSTATUS')
  const ps = notes.find((x) => x.type === 'NT_PRPSINFO')
  const cstr = (a: Uint8Array): string => new TextDecoder().decode(a.subarray(0, a.indexOf(0) < 0 ? a.length : a.indexOf(0)))
  const files: ElfCore['files'] = []
  const fn = notes.find((x) => x.type === 'NT_FILE')
  if (fn) {
    const w = wide ? 8 : 4
    const fv = new DataView(fn.desc.buffer, fn.desc.byteOffset, fn.desc.byteLength)
    const rd = (o: number): number => (wide ? Number(fv.getBigUint64(o, true)) : fv.getUint32(o, true))
    const count = rd(0)
    const names = new TextDecoder().decode(fn.desc.subarray(2 * w + 3 * w * count)).split('\0')
    for (let k = 0; k < count; k++) files.push({ start: rd(2 * w + 3 * w * k), end: rd(2 * w + 3 * w * k + w), pgoff: rd(2 * w + 3 * w * k + 2 * w), name: names[k] })
  }
  return {
    class: wide ? 64 : 32,
    type: type === 4 ? 'CORE' : String(type),
    machine: u16(18),
    segments,
    notes,
    signal: pr ? pr.getUint16(12, true) : 0,
    pid: pr ? pr.getUint32(wide ? 32 : 24, true) : 0,
    comm: ps ? cstr(ps.desc.subarray(wide ? 40 : 28, (wide ? 40 : 28) + 16)) : '',
    files,
  }
}

/** `readelf -l` of a core: the file type and the program headers in readelf's two-line layout. */
export function readelf_l(c: ElfCore): string {
  const w = c.class === 64 ? 16 : 8
  const h = (x: number): string => `0x${x.toString(16).padStart(w, '0')}`
  const out = [
    '',
    `Elf file type is ${c.type === 'CORE' ? 'CORE (Core file)' : c.type}`,
    'Entry point 0x0',
    `There are ${c.segments.length} program headers, starting at offset ${c.class === 64 ? 64 : 52}`,
    '',
    'Program Headers:',
    `  Type           Offset${' '.repeat(w - 4)} VirtAddr${' '.repeat(w - 6)} PhysAddr`,
    `                 FileSiz${' '.repeat(w - 5)} MemSiz${' '.repeat(w - 4)}  Flags  Align`,
  ]
  for (const s of c.segments) {
    out.push(`  ${s.type.padEnd(14)} ${h(s.offset)} ${h(s.vaddr)} ${h(0)}`)
    out.push(`                 ${h(s.filesz)} ${h(s.memsz)}  ${s.flags.padEnd(6)} 0x${s.align.toString(16)}`)
  }
  return out.join('\n') + '\n'
}
