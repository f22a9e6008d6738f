/**
 * Fault injection (Kernel: include/linux/fault-inject.h, lib/fault-inject.c):
 * a `fault_attr` decides, call by call, whether an allocation site should
 * pretend to fail. The page allocator's fail_page_alloc (mm/fail_page_alloc.c)
 * and the slab allocator's failslab (mm/failslab.c) each own one; their
 * knobs are Linux's debugfs files (/sys/kernel/debug/fail_page_alloc/...):
 * probability (percent), interval, times, space, verbose.
 *
 * Why it exists: the failure paths of allocations (fork, page-table
 * allocation in a fault, VMA splits) are only reached on a machine that is
 * really out of memory, and then only at one place; fault injection makes
 * any allocation fail, so every unwind path can be tested. The random
 * source is a seeded PRNG of the machine (Linux uses get_random_u32_below()),
 * so a run is reproducible.
 */
import { KERN_NOTICE, type Printk } from './printk.js'

/** Kernel: FAULT_NOWARN (the caller asked for no warning: __GFP_NOWARN). */
export const FAULT_NOWARN = 1

export class FaultAttr {
  /** Percent of the eligible calls that fail (0 disables the attribute). */
  probability = 0
  /** Only every interval-th eligible call may fail (1: any). */
  interval = 1
  /** How many failures are left (-1: no limit). */
  times = -1
  /** Bytes (or pages) let through before failures may start. */
  space = 0
  /** 0 silent, 1 one line per failure, 2 also the call trace (a line here). */
  verbose = 2
  private count = 0
  private rnd: number

  constructor(
    readonly name: string,
    seed: number,
    private readonly printk: Printk,
  ) {
    this.rnd = (seed ^ 0x9e3779b9) >>> 0 || 1
  }

  /** Reseed the PRNG (the fuzzer replays a run from its seed). */
  seed(seed: number): void {
    this.rnd = (seed ^ 0x9e3779b9) >>> 0 || 1
    this.count = 0
  }

  /** get_random_u32_below(n): xorshift32, deterministic per machine. */
  private random_below(n: number): number {
    let x = this.rnd
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    this.rnd = x >>> 0
    return this.rnd % n
  }

  /** Kernel: should_fail_ex(): true when this call of `size` is to fail. */
  should_fail(size: number, flags = 0): boolean {
    if (this.probability === 0) return false
    if (this.times === 0) return false
    if (this.space > size) {
      this.space -= size
      return false
    }
    if (this.interval > 1) {
      this.count++
      if (this.count % this.interval) return false
    }
    if (this.probability <= this.random_below(100)) return false
    if (!(flags & FAULT_NOWARN)) this.fail_dump()
    if (this.times !== -1) this.times--
    return true
  }

  /** Kernel: fail_dump(). */
  private fail_dump(): void {
    if (this.verbose === 0) return
    this.printk.printk(KERN_NOTICE, 'FAULT_INJECTION: forcing a failure.')
    this.printk.printk(KERN_NOTICE, `name ${this.name}, interval ${this.interval}, probability ${this.probability}, space ${this.space}, times ${this.times}`)
  }
}
