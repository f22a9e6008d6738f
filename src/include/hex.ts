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
