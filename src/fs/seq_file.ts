/**
 * seq_file: the buffer a /proc file's show functions print into (Kernel:
 * fs/seq_file.c, include/linux/seq_file.h), and the text a read(2) of the
 * whole file returns.
 *
 * Why bytes and not a string: /proc/<pid>/smaps of 60,000 VMAs is 42 MB of
 * text in ~1.5 million lines. Built with `+=` (or as pieces joined at the
 * end) it is millions of cons-strings, and two thirds of the time went to
 * the garbage collector. Here the show functions write ASCII bytes into one
 * growing Uint8Array, as the kernel's seq_printf() writes into m->buf, and
 * seq_text() decodes it once at the end. Text that is not ASCII (a file
 * name) goes in as UTF-8 and comes back unchanged.
 *
 * Numbers are formatted straight into the buffer (seq_put_decimal_ull_width,
 * seq_put_hex_ll), with the kernel's widths; any value the fast digit loops
 * do not cover exactly (not a non-negative integer below 2^53) is printed as
 * String(v) / v.toString(16) would print it, so the text is always what the
 * string formatting gave.
 *
 * SeqDecimalBlock is the one addition to the kernel's interface: a run of
 * lines whose only variable parts are right-aligned decimals in fixed-width
 * fields (the body of an smaps record: "Rss:            %8lu kB" and its 24
 * siblings). It is laid out once with every value 0; putting it is one copy
 * of those bytes and the digits of the nonzero values written in place.
 *
 * API:
 *   class SeqFile(size_hint): buf, count, pad_until
 *   seq_putc(m, c), seq_puts(m, s), seq_write(m, bytes)
 *   seq_put_decimal_ull(m, delimiter, num), seq_put_decimal_ull_width(m, delimiter, num, width)
 *   seq_put_hex_ll(m, delimiter, v, width)
 *   seq_setwidth(m, size), seq_pad(m, c)
 *   class SeqDecimalBlock(lines), seq_put_decimal_block(m, block, values)
 *   seq_text(m): the text written; ends the SeqFile (its buffer is kept for the next large one)
 */

const MAX_EXACT = Number.MAX_SAFE_INTEGER
const TWO31 = 2 ** 31
const TWO28 = 2 ** 28

const utf8_out = new TextDecoder()
const utf8_in = new TextEncoder()

/**
 * Host-side only, invisible to the simulation: the buffer of the last large
 * text is kept for the next SeqFile that wants one at least as big. A fresh
 * 48 MB buffer (smaps of 60,000 VMAs) costs a page fault per 4 KiB written
 * and pushes V8 into a full garbage collection for the external memory; with
 * the buffer reused the read took about a quarter less CPU (measured). A
 * buffer belongs to one SeqFile at a time and only the bytes that SeqFile
 * wrote are decoded, so no machine ever sees another's text.
 */
let spare: Uint8Array | null = null
/** Smaller buffers are not worth keeping. */
const SPARE_MIN = 1 << 20
const EMPTY = new Uint8Array(0)

/** Kernel: struct seq_file: the output buffer, its fill level, and seq_setwidth()'s mark. */
export class SeqFile {
  buf: Uint8Array
  /** Bytes written. */
  count = 0
  /** Kernel: m->pad_until: where seq_pad() pads to. */
  pad_until = 0

  /** `size_hint`: the expected size of the text; the buffer grows past it as needed. */
  constructor(size_hint = 4096) {
    const size = Math.max(64, size_hint)
    if (size >= SPARE_MIN && spare !== null && spare.length >= size) {
      this.buf = spare
      spare = null
    } else {
      this.buf = new Uint8Array(size)
    }
  }

  /** Make room for `n` more bytes (doubling, as seq_read() retries with a buffer twice as big). */
  reserve(n: number): Uint8Array {
    if (this.count + n > this.buf.length) {
      const b = new Uint8Array(Math.max(this.buf.length * 2, this.count + n))
      b.set(this.buf.subarray(0, this.count))
      this.buf = b
    }
    return this.buf
  }
}

/** Kernel: seq_putc(): one ASCII character. */
export function seq_putc(m: SeqFile, c: string): void {
  const buf = m.reserve(1)
  buf[m.count++] = c.charCodeAt(0)
}

/** Kernel: seq_puts(). */
export function seq_puts(m: SeqFile, s: string): void {
  const len = s.length
  const buf = m.reserve(len)
  let n = m.count
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) {
      // Not ASCII: the rest as UTF-8 (at most 3 bytes per UTF-16 unit).
      m.count = n
      const rest = s.slice(i)
      const out = m.reserve(rest.length * 3)
      m.count += utf8_in.encodeInto(rest, out.subarray(m.count)).written
      return
    }
    buf[n++] = c
  }
  m.count = n
}

/** Kernel: seq_write(): raw bytes. */
export function seq_write(m: SeqFile, bytes: Uint8Array): void {
  m.reserve(bytes.length).set(bytes, m.count)
  m.count += bytes.length
}

/** Whether the digit loops print v exactly as String(v) / v.toString(16) would. */
function exact_uint(v: number): boolean {
  return v >= 0 && v <= MAX_EXACT && Math.floor(v) === v
}

/**
 * floor(v / 10^8) for an exact integer 2^31 <= v < 2^53. The quotient of
 * the division can round up to the next integer near 2^53, so the result
 * is checked against v (the products are multiples of 2^8, exact).
 */
function div_1e8(v: number): number {
  const q = Math.floor(v / 1e8)
  const r = v - q * 1e8
  return r < 0 ? q - 1 : r >= 1e8 ? q + 1 : q
}

/** Decimal digits of 0 <= x < 2^31. */
function dec_len32(x: number): number {
  let d = 1
  for (let t = x; t >= 10; t = (t / 10) | 0) d++
  return d
}

/** Decimal digits of an exact non-negative integer. */
function dec_len(v: number): number {
  return v < TWO31 ? dec_len32(v) : 8 + dec_len32(div_1e8(v))
}

/**
 * Write v's decimal digits ending just before buf[end]. Wide values go as
 * two int32 parts, the 8 low digits and the rest: a digit taken off a
 * double with floor(v / 10) is wrong once the division rounds (near 2^53).
 */
function put_dec_digits(buf: Uint8Array, end: number, v: number): void {
  if (v >= TWO31) {
    const hi = div_1e8(v)
    let lo = v - hi * 1e8
    for (let i = 0; i < 8; i++) {
      const q = (lo / 10) | 0
      buf[--end] = 48 + lo - q * 10
      lo = q
    }
    v = hi
  }
  do {
    const q = (v / 10) | 0
    buf[--end] = 48 + v - q * 10
    v = q
  } while (v > 0)
}

/**
 * Kernel: seq_put_decimal_ull_width(): `delimiter`, then num right-aligned
 * in `width` columns (padded with spaces; wider numbers take the room they
 * need).
 */
export function seq_put_decimal_ull_width(m: SeqFile, delimiter: string, num: number, width: number): void {
  if (delimiter.length !== 0) seq_puts(m, delimiter)
  if (!exact_uint(num)) {
    seq_puts(m, String(num).padStart(width, ' '))
    return
  }
  const d = dec_len(num)
  const pad = width > d ? width - d : 0
  const buf = m.reserve(pad + d)
  let n = m.count
  for (let i = 0; i < pad; i++) buf[n++] = 32
  put_dec_digits(buf, n + d, num)
  m.count = n + d
}

/** Kernel: seq_put_decimal_ull(). */
export function seq_put_decimal_ull(m: SeqFile, delimiter: string, num: number): void {
  seq_put_decimal_ull_width(m, delimiter, num, 0)
}

/** The number of hex digits of 0 <= x < 2^32 (1 for 0). */
function hex_len(x: number): number {
  const bits = 32 - Math.clz32(x)
  return bits === 0 ? 1 : (bits + 3) >>> 2
}

/** Character codes of the hex digits, lower case. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))

/**
 * Kernel: seq_put_hex_ll(): `delimiter` (null: none), then v in lower-case
 * hex, zero-padded to `width` digits. From 2^31 up the digits are taken in
 * two int32 halves (the 7 low digits and the rest): floor divisions of a
 * double by 16 would cost a conversion each.
 */
export function seq_put_hex_ll(m: SeqFile, delimiter: string | null, v: number, width: number): void {
  if (delimiter !== null && delimiter.length !== 0) seq_puts(m, delimiter)
  if (!exact_uint(v)) {
    seq_puts(m, v.toString(16).padStart(width, '0'))
    return
  }
  let hi = 0
  let lo = v
  let d: number
  if (v >= TWO31) {
    hi = Math.floor(v / TWO28)
    lo = v - hi * TWO28
    d = 7 + hex_len(hi)
  } else {
    d = hex_len(lo)
  }
  const pad = width > d ? width - d : 0
  const buf = m.reserve(pad + d)
  let n = m.count
  for (let i = 0; i < pad; i++) buf[n++] = 48
  let e = n + d
  m.count = e
  if (hi !== 0) {
    // The 7 low digits unrolled (an x86_64 user address has 9 to 12 digits: this is most of them).
    buf[e - 1] = HEX_DIGITS[lo & 15]
    buf[e - 2] = HEX_DIGITS[(lo >>> 4) & 15]
    buf[e - 3] = HEX_DIGITS[(lo >>> 8) & 15]
    buf[e - 4] = HEX_DIGITS[(lo >>> 12) & 15]
    buf[e - 5] = HEX_DIGITS[(lo >>> 16) & 15]
    buf[e - 6] = HEX_DIGITS[(lo >>> 20) & 15]
    buf[e - 7] = HEX_DIGITS[lo >>> 24]
    e -= 7
    for (; hi !== 0; hi >>>= 4) buf[--e] = HEX_DIGITS[hi & 15]
  } else {
    do {
      buf[--e] = HEX_DIGITS[lo & 15]
      lo >>>= 4
    } while (lo !== 0)
  }
}

/** Kernel: seq_setwidth(): seq_pad() will pad to `size` bytes from here. */
export function seq_setwidth(m: SeqFile, size: number): void {
  m.pad_until = m.count + size
}

/** Kernel: seq_pad(): spaces up to the seq_setwidth() mark, then c (if any). */
export function seq_pad(m: SeqFile, c: string): void {
  const size = m.pad_until - m.count
  if (size > 0) {
    const buf = m.reserve(size)
    buf.fill(32, m.count, m.count + size)
    m.count += size
  }
  if (c.length !== 0) seq_putc(m, c)
}

/**
 * The text written (what read(2) of the whole file returns). This ends the
 * SeqFile, as seq_release() does: its buffer may go to the next one, and it
 * is left empty.
 */
export function seq_text(m: SeqFile): string {
  const buf = m.buf
  const text = utf8_out.decode(buf.subarray(0, m.count))
  m.buf = EMPTY
  m.count = 0
  if (buf.length >= SPARE_MIN && (spare === null || spare.length < buf.length)) spare = buf
  return text
}

/** One line of a SeqDecimalBlock: label, a decimal right-aligned in `width` columns, suffix. */
export type SeqDecimalLine = readonly [label: string, width: number, suffix: string]

/**
 * A fixed run of "label%<width>lu suffix" lines, laid out once with every
 * value 0: `zero` is its text, ends[i] the offset just past line i's digits.
 */
export class SeqDecimalBlock {
  readonly zero: Uint8Array
  readonly ends: Int32Array
  /** 10 ** width: the first value that no longer fits line i's field. */
  readonly limits: Float64Array

  constructor(readonly lines: readonly SeqDecimalLine[]) {
    const m = new SeqFile(lines.length * 32)
    this.ends = new Int32Array(lines.length)
    this.limits = new Float64Array(lines.length)
    lines.forEach(([label, width, suffix], i) => {
      seq_put_decimal_ull_width(m, label, 0, width)
      this.ends[i] = m.count
      this.limits[i] = 10 ** Math.max(1, width)
      seq_puts(m, suffix)
    })
    this.zero = m.buf.slice(0, m.count)
  }
}

/**
 * Put every line of `block` with values[i] on line i: the text of
 * seq_put_decimal_ull_width(m, label, values[i], width) + suffix for each
 * line. When every value fits its field this is one copy and the nonzero
 * values' digits; otherwise the lines are formatted one by one.
 */
export function seq_put_decimal_block(m: SeqFile, block: SeqDecimalBlock, values: ArrayLike<number>): void {
  const { zero, ends, limits, lines } = block
  const nr = ends.length
  const buf = m.reserve(zero.length)
  const at = m.count
  buf.set(zero, at)
  for (let i = 0; i < nr; i++) {
    const v = values[i]
    if (v === 0) continue
    if (!(v > 0 && v < limits[i] && Math.floor(v) === v)) {
      // A value wider than its field (or not a plain count): take the copy back, line by line.
      for (let j = 0; j < nr; j++) {
        seq_put_decimal_ull_width(m, lines[j][0], values[j], lines[j][1])
        seq_puts(m, lines[j][2])
      }
      return
    }
    put_dec_digits(buf, at + ends[i], v)
  }
  m.count = at + zero.length
}
