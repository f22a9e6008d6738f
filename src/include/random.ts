/**
 * The machine's one source of randomness (Kernel: include/linux/random.h,
 * drivers/char/random.c get_random_u32() / get_random_long() /
 * get_random_u32_below(); randomize_page() is declared there too and
 * defined in mm/util.c).
 *
 * Linux draws from a cryptographic RNG; mmsim draws from a deterministic
 * generator seeded by the machine's seed, so a run replays exactly: the same
 * seed gives the same address-space layouts and slab secrets, another seed
 * other ones. The generator is xoshiro128** (Blackman and Vigna), its state
 * filled from the seed by splitmix32. One instance belongs to each Machine
 * (no module state).
 */
import { PAGE_SIZE } from './page_types.js'

const U64 = (1n << 64n) - 1n

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class KernelRandom {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    // Seeds beyond 32 bits still differ: fold the high part in.
    const hi = Math.floor(seed / 2 ** 32)
    const sm = splitmix32((seed >>> 0) ^ Math.imul(hi >>> 0, 0x27d4eb2d))
    this.a = sm()
    this.b = sm()
    this.c = sm()
    this.d = sm()
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1
  }

  /** Kernel: get_random_u32(). */
  get_random_u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return r
  }

  /** Kernel: get_random_u64(), as an exact 64-bit bigint. */
  get_random_u64(): bigint {
    const lo = BigInt(this.get_random_u32())
    const hi = BigInt(this.get_random_u32())
    return ((hi << 32n) | lo) & U64
  }

  /** Kernel: get_random_long(): 64 bits on a 64-bit kernel, 32 on i386. */
  get_random_long(bits: 32 | 64): bigint {
    return bits === 64 ? this.get_random_u64() : BigInt(this.get_random_u32())
  }

  /**
   * Kernel: get_random_u32_below(ceil): uniform in [0, ceil), by the
   * multiply-shift with rejection the kernel uses.
   */
  get_random_u32_below(ceil: number): number {
    if (!Number.isInteger(ceil) || ceil <= 0 || ceil > 0xffffffff) throw new RangeError(`get_random_u32_below(${ceil})`)
    const bound = BigInt(ceil)
    for (;;) {
      const mult = BigInt(this.get_random_u32()) * bound
      const low = Number(mult & 0xffffffffn)
      // Reject the few low values that would bias the result.
      if (low >= (2 ** 32 - ceil) % ceil) return Number(mult >> 32n)
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/**
 * Kernel: randomize_page() (mm/util.c): a page-aligned address in
 * [start, start + range), start rounded up to a page first (the range
 * shrinks by what the rounding took); `start` itself when the range holds
 * less than a page. `long_bits` is the kernel's word size.
 */
export function randomize_page(rnd: KernelRandom, start: number, range: number, long_bits: 32 | 64): number {
  if (start % PAGE_SIZE !== 0) {
    const aligned = Math.ceil(start / PAGE_SIZE) * PAGE_SIZE
    range -= aligned - start
    start = aligned
  }
  const ulong_max = 2 ** long_bits - 1
  if (start > ulong_max - range) range = ulong_max - start
  const pages = Math.floor(range / PAGE_SIZE)
  if (pages <= 0) return start
  return start + Number(rnd.get_random_long(long_bits) % BigInt(pages)) * PAGE_SIZE
}
