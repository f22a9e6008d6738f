/**
 * The fuzzer's operations: what a recorded run is made of. An operation
 * names its kind, the process slot it runs in (slots are numbered in order
 * of creation, so a replay after minimisation still finds "the second
 * child"), and its arguments exactly as passed to the API: numbers, bigints
 * and the hostile non-numbers (NaN, undefined, a string...). `encode`/
 * `decode` keep them exact in JSON.
 */

export type OpKind =
  | 'spawn' | 'fork' | 'exit'
  | 'mmap' | 'munmap' | 'mprotect' | 'mremap' | 'madvise' | 'mlock' | 'munlock' | 'mlockall' | 'munlockall' | 'brk' | 'msync'
  | 'load' | 'store'
  | 'pwrite' | 'pread' | 'fsync' | 'fdatasync' | 'ftruncate'

export type Arg = number | bigint | undefined | null | string

export interface Op {
  readonly k: OpKind
  /** The process slot. */
  readonly p: number
  readonly a: readonly Arg[]
  /** spawn, fork: the slot of the new process (so that a minimised list keeps its names). */
  readonly c?: number
  /** store: the bytes; pwrite: the bytes. */
  readonly d?: Uint8Array
}

type Enc = number | string | null | { n: string } | { u: 1 } | { f: string } | { s: string }

function enc(v: Arg): Enc {
  if (typeof v === 'bigint') return { n: v.toString() }
  if (v === undefined) return { u: 1 }
  if (typeof v === 'string') return { s: v }
  if (v === null) return null
  if (!Number.isFinite(v) || Object.is(v, -0)) return { f: Object.is(v, -0) ? '-0' : String(v) }
  return v
}
function dec(e: Enc): Arg {
  if (e === null || typeof e === 'number') return e
  if (typeof e === 'string') return e
  if ('n' in e) return BigInt(e.n)
  if ('u' in e) return undefined
  if ('s' in e) return e.s
  return Number(e.f)
}

/** An op list as JSON text (one op a line). */
export function encode_ops(ops: readonly Op[]): string {
  return '[\n' + ops.map((o) => JSON.stringify({ k: o.k, p: o.p, a: o.a.map(enc), ...(o.c !== undefined ? { c: o.c } : {}), ...(o.d ? { d: Buffer.from(o.d).toString('hex') } : {}) })).join(',\n') + '\n]\n'
}

export function decode_ops(text: string): Op[] {
  const raw = JSON.parse(text) as { k: OpKind; p: number; a: Enc[]; c?: number; d?: string }[]
  return raw.map((r) => ({ k: r.k, p: r.p, a: r.a.map(dec), ...(r.c !== undefined ? { c: r.c } : {}), ...(r.d !== undefined ? { d: new Uint8Array(Buffer.from(r.d, 'hex')) } : {}) }))
}

/** A short human form of an op, for reports. */
export function show_op(o: Op): string {
  const a = o.a.map((v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && Number.isInteger(v) && Math.abs(v) > 4096 ? (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16)) : typeof v === 'string' ? JSON.stringify(v) : String(v)))
  if (o.c !== undefined) return `p${o.p}.${o.k}() -> p${o.c}`
  return `p${o.p}.${o.k}(${a.join(', ')}${o.d ? `, <${o.d.length} bytes>` : ''})`
}
