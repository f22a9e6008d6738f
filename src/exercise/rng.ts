/**
 * The exercises' seeded generator: SplitMix32 (a 32-bit cousin of Java's
 * SplitMix64). Only 32-bit integer operations (Math.imul, >>>), so a seed
 * gives the same sequence on every platform and Node version; Math.random
 * is never used. Seeds up to 2^53 are folded into the 32-bit state.
 */
export class ExerciseRng {
  private state: number

  constructor(seed: number) {
    const lo = seed >>> 0
    const hi = Math.floor(seed / 4294967296) >>> 0
    this.state = (lo ^ Math.imul(hi, 0x85ebca6b) ^ 0x9e3779b9) >>> 0
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }

  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1))
  }

  /** One element of a non-empty array. */
  pick<T>(a: readonly T[]): T {
    return a[this.int(0, a.length - 1)]
  }

  /** True with probability num/den. */
  chance(num: number, den: number): boolean {
    return this.int(0, den - 1) < num
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(a: readonly T[]): T[] {
    const b = a.slice()
    for (let i = b.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const t = b[i]
      b[i] = b[j]
      b[j] = t
    }
    return b
  }
}
