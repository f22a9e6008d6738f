/**
 * `unsigned long` system-call arguments (addresses, lengths, mmap offsets)
 * and `loff_t` ones (file positions), exact for every value a register can
 * hold (Kernel: the unsigned long
 * parameters of SYSCALL_DEFINEx(mmap, munmap, mprotect, mremap, madvise,
 * mlock, msync, mincore, mseal, brk); include/linux/mm.h PAGE_ALIGN,
 * offset_in_page; include/linux/err.h IS_ERR_VALUE).
 *
 * Representation (`Ulong`): the register's unsigned value, as a JS number
 * when it is below 2^53 (exact) and as a bigint otherwise. The form is
 * canonical: a bigint is always >= 2^53, so `===` between two Ulongs and
 * mixed number/bigint comparisons (`<`, `>`, which JS evaluates exactly)
 * are correct. On a 32-bit profile every value is below 2^32, so always a
 * number.
 *
 * Why: a length such as 0xfffffffffffff001 is a double 0xfffffffffffff000
 * once it becomes a JS number, and PAGE_ALIGN of the two differ (0, i.e.
 * "wraps", against 2^64 - 4096). Every such value is above TASK_SIZE, so the
 * kernel either refuses it in the argument checks or only compares it with
 * VMA addresses; the syscall entries do their argument checks with the
 * helpers below and go on with plain numbers. Values below 2^53 never leave
 * the number fast path (one typeof and one comparison per argument): no
 * BigInt on the hot paths.
 *
 * At the boundary (`ulong()`), callers may pass a number or a bigint; a
 * negative integer or one >= 2^bits is taken modulo 2^bits (the two's
 * complement register value: -1 is ULONG_MAX), as a C caller passing a
 * signed value would get.
 */
import { PAGE_SIZE } from './page_types.js'

/** A syscall argument as the caller gives it. */
export type UlongArg = number | bigint
/** An exact unsigned long: a number below 2^53, else a bigint (see the header). */
export type Ulong = number | bigint

/** BITS_PER_LONG of a profile. */
export type LongBits = 32 | 64

const SAFE = 2 ** 53
const TWO64 = 2n ** 64n

/** The canonical form of an unsigned value already reduced modulo 2^bits. */
function canon(v: bigint): Ulong {
  return v < 9007199254740992n ? Number(v) : v
}

/**
 * The unsigned long a register would hold for `v` (modulo 2^bits). Throws
 * TypeError for a value that is not an integer (NaN, 1.5, Infinity): no C
 * caller can pass one.
 */
export function ulong(v: UlongArg, bits: LongBits): Ulong {
  if (typeof v === 'number') {
    if (v >= 0 && v < (bits === 64 ? SAFE : 2 ** 32) && Number.isInteger(v)) return v
    if (!Number.isInteger(v)) throw new TypeError(`system call argument ${v} is not an integer`)
    v = BigInt(v)
  }
  return canon(BigInt.asUintN(bits, v))
}

/**
 * True when `v` is a plain non-negative integer number below 2^53 (2^32 with
 * 32-bit longs), i.e. already its own Ulong. Hot syscall entries test this
 * first and skip ulong(), whose number-or-bigint result would make the
 * code after it polymorphic.
 */
export function ul_plain(v: UlongArg, bits: LongBits): v is number {
  return typeof v === 'number' && v >= 0 && v < (bits === 64 ? SAFE : 2 ** 32) && Math.floor(v) === v
}

/**
 * A loff_t argument (pread/pwrite positions, ftruncate sizes): the signed
 * 64-bit value of `v` (a number or bigint taken modulo 2^64), as a number
 * when its magnitude is below 2^53, else a bigint (canonical, like Ulong).
 */
export type Loff = number | bigint

export function loff(v: UlongArg): Loff {
  if (typeof v === 'number') {
    if (v > -SAFE && v < SAFE && Number.isInteger(v)) return v
    if (!Number.isInteger(v)) throw new TypeError(`system call argument ${v} is not an integer`)
    v = BigInt(v)
  }
  const s = BigInt.asIntN(64, v)
  return s > -9007199254740992n && s < 9007199254740992n ? Number(s) : s
}

/** a + b in unsigned long arithmetic (wraps past ULONG_MAX). */
export function ul_add(a: Ulong, b: Ulong, bits: LongBits): Ulong {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b
    if (bits === 32) return s >= 2 ** 32 ? s - 2 ** 32 : s
    if (s < SAFE) return s
  }
  return canon(BigInt.asUintN(bits, BigInt(a) + BigInt(b)))
}

/** a - b in unsigned long arithmetic (wraps below 0). */
export function ul_sub(a: Ulong, b: Ulong, bits: LongBits): Ulong {
  if (typeof a === 'number' && typeof b === 'number' && a >= b) return a - b
  return canon(BigInt.asUintN(bits, BigInt(a) - BigInt(b)))
}

/** Kernel: PAGE_ALIGN() of an unsigned long: rounds up, and wraps to 0 past ULONG_MAX. */
export function ul_page_align(v: Ulong, bits: LongBits): Ulong {
  if (typeof v === 'number') {
    const r = Math.ceil(v / PAGE_SIZE) * PAGE_SIZE
    if (bits === 32) return r >= 2 ** 32 ? 0 : r
    // r <= 2^53 is exact; 2^53 itself is the one aligned value that needs a bigint.
    return r < SAFE ? r : 2n ** 53n
  }
  return canon(BigInt.asUintN(bits, (v + 4095n) & ~4095n))
}

/** Kernel: offset_in_page() of an unsigned long. */
export function ul_offset_in_page(v: Ulong): number {
  return typeof v === 'number' ? v % PAGE_SIZE : Number(v & 4095n)
}

/** v & PAGE_MASK. */
export function ul_page_down(v: Ulong): Ulong {
  return typeof v === 'number' ? v - (v % PAGE_SIZE) : canon(v & ~4095n)
}

/** v >> PAGE_SHIFT (always a number: below 2^52). */
export function ul_pages(v: Ulong): number {
  return typeof v === 'number' ? Math.floor(v / PAGE_SIZE) : Number(v >> 12n)
}

/**
 * Kernel: IS_ERR_VALUE(): the top 4095 values of unsigned long are error
 * codes (-MAX_ERRNO..-1). Returns the -errno such a value stands for, else 0.
 */
export function ul_err_value(v: Ulong, bits: LongBits): number {
  if (typeof v === 'number') return bits === 32 && v > 2 ** 32 - 4096 ? v - 2 ** 32 : 0
  return v > TWO64 - 4096n ? Number(v - TWO64) : 0
}

/**
 * The low 32 bits of a flags or prot argument, as an unsigned number; with
 * `fold`, a value with any of bits 32-63 set also gets 2^32 added, so a
 * check for unknown flags can still see them (`flags >= 2 ** 32`) while
 * the bitwise tests of known flags (all below bit 32) read the low bits.
 */
export function ul_low32(v: Ulong, fold = false): number {
  if (typeof v === 'number' && v < 2 ** 32) return v
  const lo = typeof v === 'number' ? v % 2 ** 32 : Number(v & 0xffffffffn)
  return fold ? lo + 2 ** 32 : lo
}

/**
 * A number standing for a Ulong in comparisons with user addresses only:
 * the value itself below 2^53, else a double above every user address
 * (any value >= 2^53 is above TASK_SIZE, so the rounding cannot change the
 * outcome of such a comparison).
 */
export function ul_cmp_num(v: Ulong): number {
  return typeof v === 'number' ? v : Number(v)
}
