/**
 * The values a scenario file writes: numbers, 0x hex, sizes (4K, 2M, 1G),
 * names bound by earlier steps (`$buf`, `$buf + 4K`), and flag words by
 * their C names (`PROT_READ|PROT_WRITE`, `[MAP_PRIVATE, MAP_ANONYMOUS]`,
 * `rw-`). Syntax is checked when the file loads (so a typo is a load error
 * with its line and column); names are resolved when the step runs.
 */
import * as uapi from '../include/uapi/index.js'
import * as gfp from '../mm/gfp.js'
import { format_addr } from '../include/hex.js'
import { FG_IOC_GRAB, FG_IOC_QFRAME, FG_IOC_START, FG_IOC_STOP } from '../drivers/framegrab.js'
import * as scull from '../drivers/scull/scull.js'
import * as fcntl from '../include/uapi/fcntl.js'
import * as falloc from '../include/uapi/falloc.js'
import {
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_CLOEXEC, SEEK_SET, SEEK_CUR, SEEK_END,
  F_DUPFD, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC,
} from '../include/uapi/fcntl.js'

/** A number, hex, a size, or `$name` optionally plus or minus one of those. */
const ATOM = String.raw`(?:0x[0-9a-fA-F]+|\d+(?:[KMGT])?|\$[A-Za-z_][A-Za-z0-9_]*)`
export const VALUE_RE = new RegExp(String.raw`^\s*${ATOM}(?:\s*[-+]\s*${ATOM})*\s*$`)

export type ValueSrc = number | string

/** Bindings of `as:` names to the numbers their steps returned. */
export type Bindings = Map<string, number>

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }

function atom(s: string, env: Bindings): number {
  if (s.startsWith('$')) {
    const v = env.get(s.slice(1))
    if (v === undefined) throw new ScenarioRunError(`'${s}' is not bound (bind it with as: ${s.slice(1)} on an earlier step)`)
    return v
  }
  if (s.startsWith('0x') || s.startsWith('0X')) return parseInt(s.slice(2), 16)
  const unit = UNITS[s[s.length - 1]]
  return unit ? Number(s.slice(0, -1)) * unit : Number(s)
}

/** The number a value stands for, given the bindings so far. */
export function value(v: ValueSrc, env: Bindings): number {
  if (typeof v === 'number') return v
  const parts = v.replace(/\s+/g, '').split(/(?=[-+])/)
  let n = 0
  for (const p of parts) {
    if (p[0] === '-') n -= atom(p.slice(1), env)
    else if (p[0] === '+') n += atom(p.slice(1), env)
    else n += atom(p, env)
  }
  return n
}

/** An address or value as the kernel prints it: hex, kernel addresses as 0xffff.... */
export function hex_addr(n: number | bigint): string {
  return format_addr(n)
}

/** A step that fails at run time for a reason the file's author can fix (an unbound name...). */
export class ScenarioRunError extends Error {}

type Table = ReadonlyMap<string, number>

function table(entries: [string, unknown][], re: RegExp): Table {
  return new Map(entries.filter(([k, v]) => re.test(k) && typeof v === 'number') as [string, number][])
}

/** The flag and constant names each argument kind accepts, from the uapi headers mmsim models. */
export const NAMES: Readonly<Record<FlagKind, Table>> = {
  prot: table(Object.entries(uapi), /^PROT_/),
  map: table(Object.entries(uapi), /^MAP_/),
  madv: table(Object.entries(uapi), /^MADV_/),
  mremap: table(Object.entries(uapi), /^MREMAP_/),
  msync: table(Object.entries(uapi), /^MS_/),
  mlock: table(Object.entries(uapi), /^MLOCK_/),
  mcl: table(Object.entries(uapi), /^MCL_/),
  open: new Map(Object.entries({ O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_CLOEXEC })),
  memfd: table(Object.entries(fcntl), /^MFD_/),
  fcntl: new Map(Object.entries({ F_DUPFD, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC, F_ADD_SEALS, F_GET_SEALS })),
  seal: new Map(Object.entries({ F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC })),
  falloc: table(Object.entries(falloc), /^FALLOC_FL_/),
  seek: new Map(Object.entries({ SEEK_SET, SEEK_CUR, SEEK_END })),
  gfp: table(Object.entries(gfp), /^_?_?GFP_/),
  signal: new Map(Object.entries(uapi.SIGNAL_NAMES).map(([n, name]) => [name, Number(n)])),
  ioctl: new Map([...Object.entries({ FG_IOC_START, FG_IOC_STOP, FG_IOC_QFRAME, FG_IOC_GRAB }), ...table(Object.entries(scull), /^SCULL_(P_)?IOC[A-Z]/)]),
}
export type FlagKind = 'prot' | 'map' | 'madv' | 'mremap' | 'msync' | 'mlock' | 'mcl' | 'open' | 'seek' | 'gfp' | 'signal' | 'ioctl' | 'memfd' | 'fcntl' | 'seal' | 'falloc'

export type FlagsSrc = number | string | string[]

/** The parts of a flag word as written: `A|B`, a list, or one name. */
function parts(f: string | string[]): string[] {
  return (Array.isArray(f) ? f : f.split('|')).map((s) => s.trim()).filter((s) => s !== '')
}

/** Why a flag word cannot be read, or null: unknown names are load errors. */
export function flags_problem(f: FlagsSrc, kind: FlagKind): string | null {
  if (typeof f === 'number') return null
  if (kind === 'prot' && typeof f === 'string' && /^[r-][w-][x-]$/.test(f)) return null
  for (const p of parts(f)) {
    if (/^(0x[0-9a-fA-F]+|\d+)$/.test(p)) continue
    if (!NAMES[kind].has(p)) {
      const near = nearest(p, [...NAMES[kind].keys()])
      return `unknown ${kind} name '${p}'${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`
    }
  }
  return null
}

/** Up to three known names within two edits of a misspelt one (or containing it), closest first. */
export function nearest(word: string, known: readonly string[]): string[] {
  const w = word.toUpperCase()
  return known
    .map((k) => [k, k.includes(w) && w.length >= 3 ? 0 : edits(w, k.toUpperCase())] as const)
    .filter(([, d]) => d <= 2)
    .sort((a, b) => a[1] - b[1])
    .slice(0, 3)
    .map(([k]) => k)
}

/** Levenshtein distance. */
function edits(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]
}

/** The number of a flag word (names OR-ed; `rw-` for a protection). */
export function flags(f: FlagsSrc, kind: FlagKind): number {
  if (typeof f === 'number') return f
  if (kind === 'prot' && typeof f === 'string' && /^[r-][w-][x-]$/.test(f)) {
    return (f[0] === 'r' ? uapi.PROT_READ : 0) | (f[1] === 'w' ? uapi.PROT_WRITE : 0) | (f[2] === 'x' ? uapi.PROT_EXEC : 0)
  }
  let n = 0
  for (const p of parts(f)) n |= /^(0x[0-9a-fA-F]+|\d+)$/.test(p) ? Number(p) : (NAMES[kind].get(p) as number)
  return n
}

/** Names that are masks, shifts or aliases, never printed in a flag word. */
const NOT_FLAGS = new Set(['MAP_TYPE', 'MAP_HUGE_SHIFT', 'MAP_HUGE_MASK', 'MAP_FAILED', 'MAP_ANON', 'MAP_FILE', 'MAP_DENYWRITE', 'MAP_EXECUTABLE'])

/** A flag word as C code would spell it (for the step's trace line). */
export function flags_text(n: number, kind: FlagKind): string {
  if (n === 0) {
    for (const [name, v] of NAMES[kind]) if (v === 0 && !NOT_FLAGS.has(name)) return name
    return '0'
  }
  const out: string[] = []
  let rest = n
  // Wider masks first, so MAP_SHARED_VALIDATE beats MAP_SHARED|MAP_PRIVATE.
  const entries = [...NAMES[kind]]
    .filter(([name, v]) => v !== 0 && !NOT_FLAGS.has(name))
    .sort((a, b) => popcount(b[1]) - popcount(a[1]) || a[1] - b[1])
  for (const [name, v] of entries) {
    if ((rest & v) === v && v !== 0) {
      out.push(name)
      rest &= ~v
    }
  }
  if (rest) out.push('0x' + rest.toString(16))
  return out.join('|')
}

/** The name of one value of an enumeration (an madvise advice, a whence), else the number. */
export function enum_text(n: number, kind: FlagKind): string {
  for (const [name, v] of NAMES[kind]) if (v === n) return name
  return String(n)
}

function popcount(v: number): number {
  let c = 0
  for (let x = v >>> 0; x; x &= x - 1) c++
  return c
}
