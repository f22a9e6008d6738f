/**
 * The kernel's tick (include/asm-generic/param.h, include/linux/jiffies.h):
 * the simulated kernel is built with CONFIG_HZ=1000, as the reference
 * machine's is, and a jiffy is a millisecond of the machine's clock, which
 * counts nanoseconds.
 */
export const HZ = 1000
/** Nanoseconds of the simulated clock per jiffy. */
export const NS_PER_JIFFY = 1_000_000_000 / HZ
