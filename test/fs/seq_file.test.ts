/**
 * src/fs/seq_file.ts: every formatter must print what the string
 * formatting the /proc files used before prints (String(v).padStart,
 * v.toString(16).padStart), for any number, and the decimal blocks what
 * their lines formatted one by one print.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  SeqDecimalBlock, SeqFile, seq_pad, seq_put_decimal_block, seq_put_decimal_ull, seq_put_decimal_ull_width, seq_put_hex_ll,
  seq_putc, seq_puts, seq_setwidth, seq_text, seq_write, type SeqDecimalLine,
} from '../../src/fs/seq_file.js'

/** Numbers around the places the digit loops change gear, and the ones they must leave to String(). */
const number_arb = fc.oneof(
  fc.nat({ max: 99 }),
  fc.nat(),
  fc.integer({ min: 2 ** 31 - 3, max: 2 ** 31 + 3 }),
  fc.integer({ min: 2 ** 32 - 3, max: 2 ** 32 + 3 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 2 ** 47, max: 2 ** 48 }),
  fc.constantFrom(0, -0, -1, 0.5, 1e21, 2 ** 53, 2 ** 64 - 2 ** 12, 0xffffffffff600000, NaN, Infinity),
  fc.double(),
)

function text(fn: (m: SeqFile) => void, hint = 16): string {
  const m = new SeqFile(hint)
  fn(m)
  return seq_text(m)
}

describe('seq_file', () => {
  it('seq_put_decimal_ull_width prints String(v) right-aligned', () => {
    fc.assert(
      fc.property(number_arb, fc.nat({ max: 20 }), fc.constantFrom('', ' ', 'Rss:   '), (v, width, delim) => {
        expect(text((m) => seq_put_decimal_ull_width(m, delim, v, width))).toBe(delim + String(v).padStart(width, ' '))
        expect(text((m) => seq_put_decimal_ull(m, delim, v))).toBe(delim + String(v))
      }),
    )
  })

  it('seq_put_hex_ll prints v.toString(16) zero-padded', () => {
    fc.assert(
      fc.property(number_arb, fc.nat({ max: 20 }), fc.constantFrom(null, '', '-', ' '), (v, width, delim) => {
        expect(text((m) => seq_put_hex_ll(m, delim, v, width))).toBe((delim ?? '') + v.toString(16).padStart(width, '0'))
      }),
    )
  })

  it('a decimal block prints its lines formatted one by one, also when a value outgrows its field', () => {
    const lines: SeqDecimalLine[] = [['Rss:            ', 8, ' kB\n'], ['Private_Hugetlb: ', 7, ' kB\n'], ['THPeligible:    ', 8, '\n'], ['x', 0, '|']]
    const block = new SeqDecimalBlock(lines)
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.nat({ max: 9 }), fc.nat({ max: 99999999 }), number_arb), { minLength: 4, maxLength: 4 }), (values) => {
        const want = lines.map(([label, width, suffix], i) => label + String(values[i]).padStart(width, ' ') + suffix).join('')
        expect(text((m) => {
          seq_puts(m, '<')
          seq_put_decimal_block(m, block, values)
          seq_puts(m, '>')
        })).toBe('<' + want + '>')
      }),
    )
  })

  it('seq_puts takes any text (as UTF-8), seq_pad pads with spaces to the seq_setwidth mark, in bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), fc.nat({ max: 80 }), (a, b, width) => {
        const a_bytes = new TextEncoder().encode(a).length
        expect(text((m) => {
          seq_setwidth(m, width)
          seq_puts(m, a)
          seq_pad(m, ' ')
          seq_puts(m, b)
          seq_putc(m, '\n')
        }, 1)).toBe(a + ' '.repeat(Math.max(0, width - a_bytes)) + ' ' + b + '\n')
      }),
    )
  })

  it('the buffer grows past its size hint; seq_text ends the file', () => {
    const m = new SeqFile(64)
    const bytes = new Uint8Array(5000).fill(0x41)
    seq_write(m, bytes)
    for (let i = 0; i < 3000; i++) seq_putc(m, 'b')
    const t = seq_text(m)
    expect(t).toBe('A'.repeat(5000) + 'b'.repeat(3000))
    expect(m.count).toBe(0)
    expect(seq_text(m)).toBe('')
  })

  it('a reused large buffer shows none of the text it held before', () => {
    const big = new SeqFile(2 << 20)
    seq_puts(big, 'x'.repeat(2 << 20))
    expect(seq_text(big).length).toBe(2 << 20)
    const next = new SeqFile(2 << 20)
    seq_puts(next, 'short')
    expect(seq_text(next)).toBe('short')
  })
})
