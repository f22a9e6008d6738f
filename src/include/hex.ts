/**
 * Hexadecimal text of an address or page offset, as n.toString(16) gives it,
 * without V8's slow path: a number outside the Smi range (2^31 and up:
 * every x86_64 user address) is formatted by the generic double-to-radix
 * conversion, ~500 ns a call. Splitting off the low 24 bits keeps both
 * halves Smis (~180 ns). /proc/<pid>/maps and smaps print two per VMA.
 * test/include/hex.test.ts checks it against toString(16).
 */

/** n.toString(16) for any number; fast for integers in [2^24, 2^53). */
export function hex(n: number): string {
  if (n < 0x1000000 || n >= 2 ** 53 || !Number.isInteger(n)) return n.toString(16)
  const hi = Math.floor(n / 0x1000000)
  return hi.toString(16) + (n - hi * 0x1000000).toString(16).padStart(6, '0')
}

/**
 * An address as the kernel prints it (%px, %lx): "0x" and unsigned hex.
 * mmsim keeps x86_64's kernel addresses (0xffff8880_00000000 and up, above
 * 2^63) as negative numbers, their two's complement value, so that they
 * stay exact doubles; this prints them as the kernel's 0xffff888000000000,
 * never as a negative number. A bigint is taken as is (negative: two's
 * complement too). `bits` is the machine's word size (i386: 32).
 */
export function format_addr(addr: number | bigint, bits: 32 | 64 = 64): string {
  if (typeof addr === 'number' && !Number.isInteger(addr)) return String(addr)
  let v = BigInt(addr)
  if (v < 0n) v += 1n << BigInt(bits)
  return '0x' + v.toString(16)
}
