/**
 * Exact arithmetic on values wider than 32 bits, kept in doubles: the one
 * place for the V8-specific tricks the hot paths need (Kernel: what C does
 * with `unsigned long` shifts and masks; include/linux/pgtable.h
 * pgd_index()/pte_index(), offset_in_page(), the copy loops of
 * lib/usercopy.c and mm/maccess.c, vm_flags_t and kernel_cap_t bit operations).
 *
 * Why: JS bitwise operators keep only 32 bits, so they silently drop the
 * high bits of x86-64 addresses (48-bit linear, negative canonical kernel
 * addresses) and of 64-bit flag words (VM_SEALED is 2^42, CAP_LAST_CAP 40).
 * Plain `%` is exact but V8 compiles it to a call of C fmod() as soon as the
 * dividend is not an int32 at the site; and a site whose feedback saw only
 * small integers speculates on int32 and deoptimizes when a wide value
 * arrives. Each helper below says which of these it avoids, and
 * test/include/wide.test.ts checks each against the obvious definition.
 *
 * API (stable):
 *   mod_pow2(a, n)              a mod n (floor: in [0, n)) for an integer |a| < 2^53, n a power of two
 *   pt_index(l, span, nents)    floor(l / span) mod nents: a page-table index from a linear address
 *   offset_in_page(addr)        addr mod PAGE_SIZE, also for negative canonical addresses
 *   page_chunk(addr, rest)      bytes from addr to its page's end, at most rest: one step of a page-by-page loop
 *   FlagWord<Brand>             a 64-bit flag word as an exact double; vm_flags_t, kernel_cap_t
 *   flags_or / flags_and / flags_andnot / flags_xor (a, b), flags_test(a, b), flags_bit(a, bit), flags_shr(a, n),
 *   flags_union(...words) (constants)
 * Only these helpers apply `|`, `&`, `^`, `~` to a flag word: the lint rule
 * lint/flag-word-ops.js refuses them anywhere else.
 */
import { PAGE_SIZE } from './page_types.js'

const TWO31 = 2147483648
const TWO32 = 4294967296

/**
 * a mod n, in [0, n), for an integer a in (-2^53, 2^53) and a power of two n:
 * a floor division (exact for a power of two), never `%` (V8 calls C fmod
 * for a dividend that is not an int32) nor `&` (wide values lose their high
 * bits). No int32 fast path: testing `(a | 0) === a` first cost a TLB-hit
 * load ~10 % (measured), more than the division it saves.
 */
export function mod_pow2(a: number, n: number): number {
  return a - Math.floor(a / n) * n
}

/**
 * Kernel: pgd_index() / pud_index() / pmd_index() / pte_index():
 * floor(l / span) mod nents for a linear address 0 <= l < 2^53, `span` (the
 * bytes or pages one entry maps) and `nents` powers of two, nents <= 2^30.
 * Below 2^31 the quotient is an int32 and `| 0` truncates it without a
 * speculation that deoptimizes on wider addresses; above, floor divisions
 * (exact for powers of two) instead of `%` on a double (a C fmod call).
 */
export function pt_index(l: number, span: number, nents: number): number {
  if (l < TWO31) return ((l / span) | 0) & (nents - 1)
  return mod_pow2(Math.floor(l / span), nents)
}

/** Kernel: offset_in_page(): addr mod PAGE_SIZE, in [0, PAGE_SIZE), for any exact address (x86-64 kernel addresses are negative). */
export function offset_in_page(addr: number): number {
  return mod_pow2(addr, PAGE_SIZE)
}

/**
 * One step of a page-by-page walk of a byte range (the shape of every copy
 * loop that crosses pages: copy_to_user, copy_from_kernel_nofault,
 * filemap_read, physical copies): the bytes from `addr` to the end of its
 * page, at most `rest`. The loop that calls it:
 *
 *   for (let done = 0, n = 0; done < len; done += n) {
 *     const a = addr + done
 *     n = page_chunk(a, len - done)
 *     use(PFN_DOWN(a), offset_in_page(a), n)   // a short copy may add less than n to done
 *   }
 *
 * A function, not a cursor object: V8 does not scalar-replace a cursor in
 * access_user() (measured: a TLB-hit load 25-35 % slower, each step storing
 * wide doubles into a heap object), while three small functions inline.
 */
export function page_chunk(addr: number, rest: number): number {
  const left = PAGE_SIZE - offset_in_page(addr)
  return rest < left ? rest : left
}

// ---------------------------------------------------------------- 64-bit flag words

/**
 * A 64-bit flag word kept as an exact non-negative double below 2^53
 * (vm_flags_t, kernel_cap_t). The brand (a property that exists only for
 * the type checker) keeps one kind from mixing with another or with plain
 * numbers, and lets the lint rule lint/flag-word-ops.js find the raw
 * bitwise operators that would drop its bits above 31.
 */
export type FlagWord<Brand extends string> = number & { readonly __flag_word: Brand }

/** Kernel: vm_flags_t (include/linux/mm_types.h): a VMA's flags; VM_SEALED is bit 42 on x86-64. */
export type vm_flags_t = FlagWord<'vm_flags_t'>
/** Kernel: kernel_cap_t (include/linux/capability.h): a capability set, bits 0..CAP_LAST_CAP (40). */
export type kernel_cap_t = FlagWord<'kernel_cap_t'>

/**
 * a | b on 64-bit flag words. Both below 2^32: one `|` (`>>> 0` keeps bit 31
 * positive); otherwise on 32-bit halves (a plain `|` would drop the high half).
 */
export function flags_or<T extends number>(a: T, b: T): T {
  if (a < TWO32 && b < TWO32) return ((a | b) >>> 0) as T
  const ah = Math.floor(a / TWO32)
  const bh = Math.floor(b / TWO32)
  return (((ah | bh) >>> 0) * TWO32 + (((a >>> 0) | (b >>> 0)) >>> 0)) as T
}

/** a & b on 64-bit flag words (on 32-bit halves when b has high bits). */
export function flags_and<T extends number>(a: T, b: T): T {
  if (b < TWO32) return ((a & b) >>> 0) as T
  const ah = Math.floor(a / TWO32)
  const bh = Math.floor(b / TWO32)
  return (((ah & bh) >>> 0) * TWO32 + (((a >>> 0) & (b >>> 0)) >>> 0)) as T
}

/** a & ~b on 64-bit flag words (`~b` alone would be a negative 32-bit number). */
export function flags_andnot<T extends number>(a: T, b: T): T {
  if (a < TWO32) return ((a & ~b) >>> 0) as T
  const ah = Math.floor(a / TWO32)
  const bh = Math.floor(b / TWO32)
  return (((ah & ~bh) >>> 0) * TWO32 + (((a >>> 0) & ~(b >>> 0)) >>> 0)) as T
}

/** a ^ b on 64-bit flag words. */
export function flags_xor<T extends number>(a: T, b: T): T {
  if (a < TWO32 && b < TWO32) return ((a ^ b) >>> 0) as T
  const ah = Math.floor(a / TWO32)
  const bh = Math.floor(b / TWO32)
  return (((ah ^ bh) >>> 0) * TWO32 + (((a >>> 0) ^ (b >>> 0)) >>> 0)) as T
}

/** a >> n on a flag word: a floor division by 2^n (`>>` would keep 32 bits and sign-extend bit 31). */
export function flags_shr<T extends number>(a: T, n: number): T {
  return Math.floor(a / 2 ** n) as T
}

/**
 * Whether a and b share a bit. A mask below 2^32 (the common test) is one
 * `&`: ToInt32 keeps a's low 32 bits, which is all such a mask can meet.
 */
export function flags_test<T extends number>(a: T, b: T): boolean {
  if (b < TWO32) return (a & b) !== 0
  return flags_and(a, b) !== 0
}

/**
 * Whether bit `bit` (0..52) of the flag word `a` is set: a shift of one
 * 32-bit half, no 2 ** bit nor `%` on a double. Inputs outside that domain
 * (negative, fractional, bit >= 53) get the arithmetic definition.
 */
export function flags_bit(a: number, bit: number): boolean {
  if (!(a >= 0) || !(bit >= 0 && bit < 53) || (bit | 0) !== bit) return Math.floor(a / 2 ** bit) % 2 === 1
  if (bit < 32) return (((a >>> 0) >>> bit) & 1) === 1
  return ((Math.floor(a / TWO32) >>> (bit - 32)) & 1) === 1
}

/** The union of several flag words, for constant definitions (the rest argument allocates: not for hot paths). */
export function flags_union<T extends number>(...words: T[]): T {
  let u = 0 as T
  for (const w of words) u = flags_or(u, w)
  return u
}
