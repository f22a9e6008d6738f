/**
 * The one exception class for a broken kernel invariant (xv6 `panic`, Linux
 * `BUG()`): its message reads "function: what broke". Expected failures are
 * never thrown; kernel-side functions return -errno or null instead.
 */
export class KernelBug extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KernelBug'
  }
}

/** Kernel: BUG_ON(). */
export function BUG_ON(cond: boolean, what: string): void {
  if (cond) throw new KernelBug(what)
}
