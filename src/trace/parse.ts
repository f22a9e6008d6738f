/**
 * The trace formats, told apart by the first bytes, parsed straight from
 * the bytes (no string per line) into batches of page numbers:
 *
 * - `csv`: `<page>,<R|W>` per line (decimal page number; a first line that
 *   is not a reference, such as `page,op`, is a header and skipped);
 * - `pages`: a bare decimal page number per line;
 * - `lackey`: valgrind `--tool=lackey --trace-mem=yes` records
 *   (`I  addr,size`, ` L addr,size`, ` S addr,size`, ` M addr,size`, hex
 *   address). Page = addr >> 12. An access that crosses a page boundary
 *   references every page it touches, in address order. `M` (modify: a load
 *   and a store of the same bytes) is two references, the load then the
 *   store, as lackey itself counts it; the store is always a hit. Lines
 *   valgrind prints around the records (`==pid== ...`) are skipped;
 * - `oracleGeneral`: libCacheSim's binary records, 24 bytes little-endian:
 *   u32 timestamp, u64 object id, u32 size, i64 next access. The object id
 *   is the page (ids above 2^53 lose their low bits as JS numbers); size is
 *   ignored (one object, one frame). The next-access field is handed on
 *   when asked for (`want_next`): OPT takes it only after proving it
 *   consistent with the references (simulate.ts), else computes next uses
 *   itself, so a trace whose field is absent or wrong gives the same answer.
 *
 * Text lines may end in CRLF; empty lines and `#` comments are skipped. A
 * trace is binary when its first bytes hold a byte that no text trace has.
 */
import { TraceError } from './error.js'

export type TraceFormat = 'csv' | 'pages' | 'lackey' | 'oracleGeneral'

export const BATCH = 1 << 16
const RECORD = 24
/** A little-endian host reads the records' words as they are stored. */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
const NL = 10, CR = 13, COMMA = 44, HASH = 35, SPACE = 32, TAB = 9, EQ = 61

/**
 * Receives page numbers in batches, with writes[i] = 1 where reference i is
 * a store (csv `W`, lackey `S` and the store half of `M`); the arrays are
 * reused: copy what must outlive the call.
 */
export type PageSink = (pages: Float64Array, n: number, writes: Uint8Array, next: Float64Array | null) => void

/** The next-access field of a record that says "never again" (-1, or INT64_MAX, as libCacheSim writes them; any negative value). */
export const NEVER = Infinity

/** An oracleGeneral record's next-access field from its two 32-bit words: NEVER when negative or INT64_MAX. */
function next_access(lo: number, hi: number): number {
  if (hi >= 0x80000000 || (hi === 0x7fffffff && lo === 0xffffffff)) return NEVER
  return hi * 4294967296 + lo
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length + b.length)
  c.set(a)
  c.set(b, a.length)
  return c
}

function is_binary(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096)
  for (let i = 0; i < n; i++) {
    const c = b[i]
    if (c === 0 || (c < SPACE && c !== NL && c !== CR && c !== TAB) || c > 126) return true
  }
  return false
}

const CSV_LINE = /^\s*\d+\s*,\s*[RWrw]\s*$/
const PAGE_LINE = /^\s*\d+\s*$/
const LACKEY_LINE = /^(I |\s[LSM])\s+[0-9a-fA-F]+,\d+\s*$/

function format_of_line(s: string): TraceFormat | null {
  if (CSV_LINE.test(s)) return 'csv'
  if (PAGE_LINE.test(s)) return 'pages'
  if (LACKEY_LINE.test(s)) return 'lackey'
  return null
}

/**
 * out[n...] = the object ids of the records whose id words start at w[from],
 * w[from + 6], ... below `to`. The hot loop alone in a function: V8 compiles
 * it while it runs (on-stack replacement), before any code after it has
 * run, and code it has never seen run (a batch's hand-off, a property
 * store) would throw it back to the interpreter to be compiled again.
 */
function ids_from_words(w: Uint32Array, from: number, to: number, out: Float64Array, n: number): void {
  for (let i = from; i < to; i += RECORD / 4) out[n++] = w[i + 1] * 4294967296 + w[i]
}

/** ids_from_words() and, in the same loop, next[n...] = each record's next-access field (words 3 and 4 after its id's low word). */
function ids_next_from_words(w: Uint32Array, from: number, to: number, out: Float64Array, next: Float64Array, n: number): void {
  for (let i = from; i < to; i += RECORD / 4, n++) {
    out[n] = w[i + 1] * 4294967296 + w[i]
    const hi = w[i + 4]
    next[n] = hi === 0 ? w[i + 3] : next_access(w[i + 3], hi)
  }
}

export class TraceParser {
  format: TraceFormat | null = null
  private readonly out = new Float64Array(BATCH)
  private readonly writes = new Uint8Array(BATCH)
  private n = 0
  private carry: Uint8Array | null = null
  private line = 0
  private saw_line = false
  private bytes = 0
  /** oracleGeneral's next-access fields, batch by batch, when the sink wants them (`want_next`). */
  private readonly next: Float64Array | null

  constructor(private readonly name: string, private readonly sink: PageSink, want_next = false) {
    this.next = want_next ? new Float64Array(BATCH) : null
  }

  /** The batch's next-access fields for the sink: only an oracleGeneral trace has them. */
  private get next_out(): Float64Array | null {
    return this.format === 'oracleGeneral' ? this.next : null
  }

  private emit(page: number, write: number): void {
    this.writes[this.n] = write
    this.out[this.n++] = page
    if (this.n === BATCH) {
      this.sink(this.out, BATCH, this.writes, null)
      this.n = 0
    }
  }

  private fail(why: string): never {
    throw new TraceError(`${this.name}:${this.line}: ${why}`)
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.format === null && !this.saw_line) {
      // Before the format is known (the first bytes): the carry, if any, joins the chunk whole.
      let b = chunk
      if (this.carry) {
        b = concat(this.carry, chunk)
        this.carry = null
      }
      if (is_binary(b)) this.format = 'oracleGeneral'
      return this.push_known(b)
    }
    this.push_known(chunk)
  }

  /**
   * The chunk's complete records or lines, parsed where they lie; only the
   * piece that straddles the previous chunk is joined from the carry (a
   * record's or a line's head), so no chunk is copied whole.
   */
  private push_known(b: Uint8Array): void {
    let start = 0
    if (this.format === 'oracleGeneral') {
      if (this.carry) {
        const need = RECORD - this.carry.length
        if (b.length < need) {
          this.carry = concat(this.carry, b)
          return
        }
        this.records(concat(this.carry, b.subarray(0, need)), 0, RECORD)
        this.bytes += RECORD
        this.carry = null
        start = need
      }
      const whole = start + (b.length - start) - ((b.length - start) % RECORD)
      this.records(b, start, whole)
      this.bytes += whole - start
      if (whole < b.length) this.carry = b.slice(whole)
      return
    }
    if (this.carry) {
      const nl = b.indexOf(NL)
      if (nl < 0) {
        this.carry = concat(this.carry, b)
        return
      }
      const line = concat(this.carry, b.subarray(0, nl))
      this.carry = null
      this.lines(line, 0, line.length)
      start = nl + 1
    }
    const end = b.lastIndexOf(NL)
    if (end < start) {
      if (start < b.length) this.carry = b.slice(start)
      return
    }
    this.lines(b, start, end + 1)
    if (end + 1 < b.length) this.carry = b.slice(end + 1)
  }

  /** Flushes the last line or record and the last batch. */
  end(): void {
    if (this.carry) {
      const c = this.carry
      this.carry = null
      if (this.format === 'oracleGeneral') {
        throw new TraceError(`${this.name}: oracleGeneral trace ends with ${c.length} bytes of a partial 24-byte record (at byte ${this.bytes})`)
      }
      this.lines(c, 0, c.length)
    }
    if (this.n) this.sink(this.out, this.n, this.writes, this.next_out)
    this.n = 0
  }

  /**
   * The records in b[from, to) (whole ones): each object id (bytes 4..11,
   * little endian) into the batch. No record is a store, and an
   * oracleGeneral parser never writes `writes` (its format is known from the
   * first bytes), so the array stays all zero without a store per record.
   */
  private records(b: Uint8Array, from: number, to: number): void {
    if (HOST_LE && (b.byteOffset + from) % 4 === 0) return this.records_aligned(b, from, to)
    const out = this.out
    const next = this.next
    let n = this.n
    for (let o = from; o < to; o += RECORD) {
      const lo = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0
      const hi = (b[o + 8] | (b[o + 9] << 8) | (b[o + 10] << 16) | (b[o + 11] << 24)) >>> 0
      if (next) next[n] = next_access((b[o + 16] | (b[o + 17] << 8) | (b[o + 18] << 16) | (b[o + 19] << 24)) >>> 0, (b[o + 20] | (b[o + 21] << 8) | (b[o + 22] << 16) | (b[o + 23] << 24)) >>> 0)
      out[n++] = hi * 4294967296 + lo
      if (n === BATCH) {
        this.sink(out, BATCH, this.writes, next)
        n = 0
      }
    }
    this.n = n
  }

  /** records() where the records start on a 4-byte boundary of the buffer: the id's two words read as words, a batch's worth per call of ids_from_words(). */
  private records_aligned(b: Uint8Array, from: number, to: number): void {
    const w = new Uint32Array(b.buffer, b.byteOffset + from, (to - from) >> 2)
    const words = RECORD / 4
    for (let i = 1; i < w.length; ) {
      // Records left from word i (its id's low word), up to the batch's room.
      const k = Math.min(BATCH - this.n, ((w.length - i + words - 1) / words) | 0)
      if (this.next) ids_next_from_words(w, i, i + k * words, this.out, this.next, this.n)
      else ids_from_words(w, i, i + k * words, this.out, this.n)
      this.n += k
      i += k * words
      if (this.n === BATCH) {
        this.sink(this.out, BATCH, this.writes, this.next)
        this.n = 0
      }
    }
  }

  private text(b: Uint8Array, s: number, e: number): string {
    return new TextDecoder().decode(b.subarray(s, e)).replace(/\r$/, '')
  }

  /** The lines in b[from, len) (the last may lack its newline). */
  private lines(b: Uint8Array, from: number, len: number): void {
    let s = from
    while (s < len) {
      let e = b.indexOf(NL, s)
      if (e < 0 || e >= len) e = len
      this.line++
      this.one_line(b, s, e)
      s = e + 1
    }
  }

  private one_line(b: Uint8Array, s: number, e: number): void {
    let t = e
    while (t > s && (b[t - 1] === CR || b[t - 1] === SPACE || b[t - 1] === TAB)) t--
    if (t === s || b[s] === HASH) return
    if (b[s] === EQ && b[s + 1] === EQ) return // valgrind's own messages
    if (this.format === null) {
      const line = this.text(b, s, t)
      const f = format_of_line(line)
      if (f === null) {
        if (this.saw_line) this.fail(`not a trace line: '${line.slice(0, 60)}' (expected <page>,<R|W>, a page number, or a lackey record)`)
        this.saw_line = true // a header
        return
      }
      this.format = f
    }
    this.saw_line = true
    switch (this.format) {
      case 'csv': return this.csv(b, s, t)
      case 'pages': return this.page(b, s, t)
      case 'lackey': return this.lackey(b, s, t)
      default: this.fail('text line in a binary trace')
    }
  }

  private bad(b: Uint8Array, s: number, e: number, what: string): never {
    this.fail(`expected ${what}, got '${this.text(b, s, e).slice(0, 60)}'`)
  }

  private csv(b: Uint8Array, s: number, e: number): void {
    let i = s, page = 0, digits = 0
    while (i < e && b[i] === SPACE) i++
    for (; i < e; i++) {
      const d = b[i] - 48
      if (d < 0 || d > 9) break
      page = page * 10 + d
      digits++
    }
    while (i < e && b[i] === SPACE) i++
    if (digits === 0 || b[i] !== COMMA) this.bad(b, s, e, '<page>,<R|W>')
    i++
    while (i < e && b[i] === SPACE) i++
    const op = b[i] | 0x20
    if (i + 1 !== e || (op !== 0x72 && op !== 0x77)) this.bad(b, s, e, '<page>,<R|W>')
    this.emit(page, op === 0x77 ? 1 : 0)
  }

  private page(b: Uint8Array, s: number, e: number): void {
    let i = s, page = 0
    while (i < e && b[i] === SPACE) i++
    if (i === e) this.bad(b, s, e, 'a page number')
    for (; i < e; i++) {
      const d = b[i] - 48
      if (d < 0 || d > 9) this.bad(b, s, e, 'a page number')
      page = page * 10 + d
    }
    this.emit(page, 0)
  }

  private lackey(b: Uint8Array, s: number, e: number): void {
    let i = s
    while (i < e && b[i] === SPACE) i++
    const kind = b[i++]
    if (kind !== 0x49 && kind !== 0x4c && kind !== 0x53 && kind !== 0x4d) this.bad(b, s, e, 'a lackey record (I, L, S or M addr,size)')
    while (i < e && b[i] === SPACE) i++
    let addr = 0, hex = 0
    for (; i < e; i++) {
      const c = b[i]
      let d: number
      if (c >= 48 && c <= 57) d = c - 48
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 87
      else break
      addr = addr * 16 + d
      hex++
    }
    if (hex === 0 || b[i] !== COMMA) this.bad(b, s, e, 'a lackey record (I, L, S or M addr,size)')
    let size = 0, dec = 0
    for (i++; i < e; i++) {
      const d = b[i] - 48
      if (d < 0 || d > 9) this.bad(b, s, e, 'a lackey record (I, L, S or M addr,size)')
      size = size * 10 + d
      dec++
    }
    if (dec === 0) this.bad(b, s, e, 'a lackey record (I, L, S or M addr,size)')
    const first = Math.floor(addr / 4096)
    const last = size > 0 ? Math.floor((addr + size - 1) / 4096) : first
    // S is a store; M a load then a store.
    for (let rep = kind === 0x4d ? 2 : 1; rep > 0; rep--) {
      const w = kind === 0x53 || (kind === 0x4d && rep === 1) ? 1 : 0
      for (let p = first; p <= last; p++) this.emit(p, w)
    }
  }
}
