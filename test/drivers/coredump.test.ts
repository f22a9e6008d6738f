/**
 * Core dumps of a process with driver mappings (SPEC §14 T-MM-15): a
 * process killed by SIGSEGV (or SIGABRT through kill) with RLIMIT_CORE set
 * writes an ELF core (fs/coredump.ts, binfmt_elf_core.ts) whose PT_LOAD
 * segments follow vma_dump_size(): a VM_IO mapping (/dev/mem) and a
 * VM_DONTDUMP one are present with no bytes, so the dump never reads device
 * memory; written anonymous memory and shared anonymous memory are whole;
 * a never-written anonymous mapping is empty; an executable's first page
 * (the ELF header rule); [vdso] and [vvar] always, [vvar]'s PFN pages as a hole.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import { read_elf_core, SignalError, type Machine, type Process } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR } from '../../src/include/uapi/fcntl.js'
import { RLIMIT_CORE } from '../../src/include/uapi/resource.js'

const PG = 4096
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

function read_core(m: Machine, path: string): Uint8Array {
  const r = m.spawn({ name: 'gdb', uid: 0 })
  const fd = r.open(path, O_RDONLY)
  const b = r.pread(fd, 16 * 1024 * 1024, 0)
  r.close(fd)
  return b
}
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}
function crash(p: Process): void {
  expect(() => p.store(0x10, [1])).toThrow(SignalError)
}

describe('core dumps (T-MM-15)', () => {
  it('RLIMIT_CORE 0 (the default) writes no core; the status has no WCOREDUMP', () => {
    const m = boot()
    const p = m.spawn({ name: 'nocore', uid: 0 })
    crash(p)
    expect([p.status, p.core_dumped, p.core_file]).toEqual(['signal:SIGSEGV', false, null])
    expect(m.spawn({ name: 'x', uid: 0 }).sys_open('/core', O_RDONLY)).toBeLessThan(0)
  })

  it('a VM_IO /dev/mem mapping is in the core with no bytes: the device is never read; written memory is whole, untouched memory absent', () => {
    const m = boot()
    const p = m.spawn({ name: 'crasher', uid: 0 })
    p.setrlimit(RLIMIT_CORE, { cur: -1, max: -1 })
    const fd = p.open('/dev/mem', O_RDWR)
    const dev = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xa0000)
    p.store(dev, enc('DEVICE-REGISTERS'))
    const anon = p.mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(anon + PG, enc('written-by-the-process'))
    // (a read-only VMA between them, so the untouched one does not merge with the written one)
    const readonly_seen = p.mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
    p.load(readonly_seen, 1) // the zero page: no anon_vma, nothing to dump
    const untouched = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const shared = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    p.store(shared, enc('shared-anon'))
    const maps = m.proc(`/proc/${p.pid}/maps`)
    const pid = p.pid
    crash(p)
    expect([p.status, p.core_dumped, p.core_file]).toEqual(['signal:SIGSEGV', true, '/core'])
    const b = read_core(m, '/core')
    const core = read_elf_core(b)
    expect([core.class, core.type, core.machine, core.signal, core.pid, core.comm]).toEqual([64, 'CORE', 62, 11, pid, 'crasher'])
    expect(core.segments[0].type).toBe('NOTE')
    const loads = core.segments.filter((s) => s.type === 'LOAD')
    // one PT_LOAD per line of maps, [vsyscall] included, in order
    const lines = maps.trim().split('\n').map((l) => parseInt(l.split('-')[0], 16))
    expect(loads.map((s) => s.vaddr)).toEqual(lines)
    const seg = (a: number) => loads.find((s) => s.vaddr === a)!
    expect([seg(dev).filesz, seg(dev).memsz, seg(dev).flags]).toEqual([0, 2 * PG, 'RW'])
    expect(contains(b, enc('DEVICE-REGISTERS'))).toBe(false)
    expect([seg(anon).filesz, seg(anon).memsz]).toEqual([3 * PG, 3 * PG])
    expect(new TextDecoder().decode(b.subarray(seg(anon).offset + PG, seg(anon).offset + PG + 22))).toBe('written-by-the-process')
    expect(seg(untouched).filesz).toBe(0)
    expect(seg(readonly_seen).filesz).toBe(0)
    expect(new TextDecoder().decode(b.subarray(seg(shared).offset, seg(shared).offset + 11))).toBe('shared-anon')
    // the executable's first page only (ELF headers, 0x33's bit 4); libc's text not at all
    const exe = core.files.find((f) => f.name === '/usr/bin/crasher' && f.pgoff === 0)!
    expect(seg(exe.start).filesz).toBe(PG)
    const libc_text = core.files.find((f) => f.name.includes('libc.so.6') && f.pgoff > 0)!
    expect(seg(libc_text.start).filesz).toBe(0)
    // [vvar] (VM_IO|VM_PFNMAP, but named by its vm_ops) is dumped whole as a hole of zeros
    const vvar = lines[maps.trim().split('\n').findIndex((l) => l.endsWith('[vvar]'))]
    expect(seg(vvar).filesz).toBe(seg(vvar).memsz)
    expect(b.subarray(seg(vvar).offset, seg(vvar).offset + seg(vvar).filesz).every((x) => x === 0)).toBe(true)
    // every segment's bytes lie in the file, offsets from the page after the notes
    for (const s of loads) expect(s.offset + s.filesz).toBeLessThanOrEqual(b.length)
    expect(loads[0].offset % PG).toBe(0)
  })

  it('a driver mapping with VM_DONTDUMP (scullp) has no bytes; kill -ABRT dumps too; core_pattern and core_uses_pid name the file', () => {
    const m = boot()
    m.insmod('scullp')
    m.proc_write('/proc/sys/kernel/core_pattern', 'core.%e.%s\n')
    m.proc_write('/proc/sys/kernel/core_uses_pid', '1')
    expect(m.proc('/proc/sys/kernel/core_pattern')).toBe('core.%e.%s\n')
    const p = m.spawn({ name: 'sc', uid: 0 })
    p.setrlimit(RLIMIT_CORE, { cur: -1, max: -1 })
    const w = p.open('/dev/scullp0', O_RDWR)
    const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(buf, enc('SCULLP-DATA'))
    p.write(w, buf, 11)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, w, 0)
    expect(new TextDecoder().decode(p.load(a, 11))).toBe('SCULLP-DATA')
    p.munmap(buf, PG)
    m.spawn({ name: 'killer', uid: 0 }).kill(p.pid, 6)
    expect([p.status, p.core_dumped, p.core_file]).toEqual(['signal:SIGABRT', true, `/core.sc.6.${p.pid}`])
    const b = read_core(m, p.core_file!)
    const core = read_elf_core(b)
    expect(core.signal).toBe(6)
    const s = core.segments.find((x) => x.vaddr === a)!
    expect([s.filesz, s.memsz]).toEqual([0, PG])
    expect(contains(b, enc('SCULLP-DATA'))).toBe(false)
  })

  it('coredump_filter 0x37 adds private file mappings; a limit below the core cuts it without WCOREDUMP; a pipe pattern fails as with no helper', () => {
    const m = boot()
    const p = m.spawn({ name: 'filt', uid: 0 })
    p.setrlimit(RLIMIT_CORE, { cur: -1, max: -1 })
    expect(m.proc(`/proc/${p.pid}/coredump_filter`)).toBe('00000033\n')
    m.proc_write(`/proc/${p.pid}/coredump_filter`, '0x37')
    expect(m.proc(`/proc/${p.pid}/coredump_filter`)).toBe('00000037\n')
    // a child inherits the filter
    expect(m.proc(`/proc/${p.fork().pid}/coredump_filter`)).toBe('00000037\n')
    crash(p)
    const core = read_elf_core(read_core(m, '/core'))
    const libc_text = core.files.find((f) => f.name.includes('libc.so.6') && f.pgoff > 0)!
    const s = core.segments.find((x) => x.vaddr === libc_text.start)!
    expect(s.filesz).toBe(s.memsz)

    const q = m.spawn({ name: 'small', uid: 0 })
    q.setrlimit(RLIMIT_CORE, { cur: 3 * PG, max: 3 * PG })
    crash(q)
    expect([q.status, q.core_dumped, q.core_file]).toEqual(['signal:SIGSEGV', false, '/core'])
    // the headers say what the whole core would hold; the file stops short of it (holes skipped
    // by seeking do not count against the limit, only bytes written)
    const cut = read_core(m, '/core')
    const last = read_elf_core(cut).segments.filter((x) => x.type === 'LOAD' && x.filesz > 0).at(-1)!
    expect(cut.length).toBeLessThan(last.offset + last.filesz)

    m.proc_write('/proc/sys/kernel/core_pattern', '|/usr/lib/systemd/systemd-coredump %P %u %g %s')
    const r = m.spawn({ name: 'piped', uid: 0 })
    crash(r)
    expect(r.core_dumped).toBe(false)
    expect(m.dmesg()).toContain(`Core dump to |/usr/lib/systemd/systemd-coredump ${r.pid} 0 0 11 pipe failed`)
  })

  it('i386: a 32-bit ELF core (ELFCLASS32, EM_386)', () => {
    const m = boot({ arch: 'i386' })
    const p = m.spawn({ name: 'old', uid: 0 })
    p.setrlimit(RLIMIT_CORE, { cur: -1, max: -1 })
    const maps = m.proc(`/proc/${p.pid}/maps`)
    crash(p)
    const core = read_elf_core(read_core(m, '/core'))
    expect([core.class, core.machine, core.signal, core.comm]).toEqual([32, 3, 11, 'old'])
    expect(core.segments.filter((s) => s.type === 'LOAD').length).toBe(maps.trim().split('\n').length)
  })
})
