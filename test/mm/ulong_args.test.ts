/**
 * Unsigned long syscall arguments against the real kernel, for the cases the
 * oracle's window rules skip: huge, negative and wrapping addresses and
 * lengths (an old_len that PAGE_ALIGNs to 0 duplicating a shared mapping,
 * MAP_FIXED addresses that read as error codes, 2^60-byte ranges walking up
 * to the first hole, ...). test/fixtures/probes/ulong_args.txt is what
 * ulong_args.c printed on Linux 6.18.44; every case is replayed here on a
 * fork of a process with the same layout and printed the same way.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { Machine } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_CREAT, O_RDWR, O_TRUNC, type Process } from '../../src/user/process.js'
import { errno_name } from '../../src/include/uapi/errno.js'

const A = 0x7e0000000000
const LO = A - 0x100000
const HI = A + 0x10000000
const FILE = '/dev/shm/ulong-args-probe'

interface Case {
  call: string
  name: string
  args: (number | bigint)[]
  expected: string[]
}

/** "A+0x8000" -> a number; "-0x1" -> -1; "0x1000000000000000" -> a bigint past 2^53. */
function parse_arg(s: string): number | bigint {
  const m = /^A([+-])0x([0-9a-f]+)$/.exec(s)
  if (m) return A + (m[1] === '+' ? 1 : -1) * parseInt(m[2], 16)
  const v = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s)
  return v > -(2n ** 53n) && v < 2n ** 53n ? Number(v) : v
}

function cases(): Case[] {
  const text = readFileSync(new URL('../fixtures/probes/ulong_args.txt', import.meta.url), 'utf8')
  const out: Case[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    if (line.startsWith('    ')) {
      out[out.length - 1].expected.push(line)
      continue
    }
    const m = /^(\w+)\((.*)\) -> /.exec(line)
    if (!m) throw new Error(`bad line: ${line}`)
    out.push({ call: m[0].slice(0, -4), name: m[1], args: m[2].split(', ').map(parse_arg), expected: [line] })
  }
  return out
}

function show(v: number): string {
  if (v >= LO && v < HI) return v >= A ? `A+0x${(v - A).toString(16)}` : `A-0x${(A - v).toString(16)}`
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`
}

/** ulong_args.c's maps(): the VMAs in [LO, HI), and the one at `out` as R-R+len. */
function maps(m: Machine, p: Process, out: number): string[] {
  const lines: string[] = []
  for (const l of m.proc(`/proc/${p.pid}/maps`).split('\n')) {
    const f = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ (\d+) *(.*)$/.exec(l)
    if (!f) continue
    const s = parseInt(f[1], 16)
    const e = parseInt(f[2], 16)
    let range: string
    if (out && s === out) range = `R-R+0x${(e - s).toString(16)}`
    else if (s < LO || s >= HI) continue
    else range = `${show(s)}-${show(e)}`
    const kind = f[5] === '0' ? 'anon' : f[6].includes('ulong-args-probe') ? 'file' : 'shm'
    lines.push(`    ${range} ${f[3]} ${parseInt(f[4], 16).toString(16)} ${kind}`)
  }
  return lines
}

function run(m: Machine, p: Process, fd: number, c: Case): string[] {
  const a = c.args
  const vec = new Uint8Array(16)
  let r: number
  switch (c.name) {
    case 'mmap': r = p.sys_mmap(a[0], a[1], a[2], a[3], a[4] === 3 ? fd : Number(a[4]), a[5]); break
    case 'munmap': r = p.sys_munmap(a[0], a[1]); break
    case 'mprotect': r = p.sys_mprotect(a[0], a[1], a[2]); break
    case 'mremap': r = p.sys_mremap(a[0], a[1], a[2], a[3], a[4]); break
    case 'madvise': r = p.sys_madvise(a[0], a[1], Number(a[2])); break
    case 'mlock': r = p.sys_mlock(a[0], a[1]); break
    case 'munlock': r = p.sys_munlock(a[0], a[1]); break
    case 'msync': r = p.sys_msync(a[0], a[1], Number(a[2])); break
    case 'mseal': r = p.sys_mseal(a[0], a[1], Number(a[2])); break
    case 'mincore': r = p.sys_mincore(a[0], a[1], vec); break
    case 'brk': {
      const before = p.sys_brk(0)
      r = p.sys_brk(a[0])
      return [`${c.call} -> ${r === before ? 'unchanged' : 'moved'}`, ...maps(m, p, 0)]
    }
    default: throw new Error(`unknown call ${c.name}`)
  }
  let ret: string
  let out = 0
  if (r < 0 && r > -4096) ret = errno_name(-r)
  else if (r >= LO && r < HI) ret = show(r)
  else if (c.name === 'mmap' || c.name === 'mremap') {
    ret = 'outside'
    out = r
  } else ret = String(r)
  return [`${c.call} -> ${ret}`, ...maps(m, p, out)]
}

describe('unsigned long syscall arguments as the real kernel checks them (probe recorded on 6.18.44)', () => {
  const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true })
  const parent = m.spawn({ name: 'probe', uid: 0 })
  const fd = parent.sys_open(FILE, O_RDWR | O_CREAT | O_TRUNC, 0o600)
  parent.ftruncate(fd, 0x4000)
  for (const c of cases()) {
    it(c.call, () => {
      // ulong_args.c's child: the layout at A, then the call.
      const p = parent.fork()
      p.mmap(A, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
      p.store(A, new Uint8Array(0x4000).fill(1))
      p.mmap(A + 0x8000, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
      p.store(A + 0x8000, new Uint8Array([7]))
      p.mmap(A + 0x10000, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)
      const got = run(m, p, fd, c)
      p.exit(0)
      p.wait()
      m.check()
      expect(got.join('\n')).toBe(c.expected.join('\n'))
    })
  }
})
