/**
 * The machine's clock (Kernel: kernel/time/timekeeping.c ktime_get(),
 * kernel/sched/clock.c local_clock(); the TSC they read is hardware, hence
 * src/hw). Simulated time is a count of nanoseconds since power-on that only
 * moves when the machine does work: each event is charged a cost from
 * COST_NS below, so the same run gives the same timestamps, byte for byte.
 *
 * The model is deliberately modest: the orders of magnitude of a current
 * x86-64 server, not a cycle-accurate CPU. What costs what is in one table
 * so page-cache, writeback, kswapd and disk code charge the same way.
 *
 * Timers (Kernel: add_timer()/mod_timer()): a callback due at an absolute
 * time. They fire only from run_timers(), which the kernel calls at safe
 * points (the return to user mode), never from inside advance(): a timer
 * must not run in the middle of a fault or an allocation the way a softirq
 * never runs inside a spinlocked section.
 *
 * Invariant: now() never decreases; every pending timer is in `timers`,
 * sorted by expiry.
 */

/** What one event costs in simulated nanoseconds. */
export const COST_NS = {
  /** Boot: initialising one struct page and handing it to the buddy allocator (memmap_init + __free_pages_core). */
  boot_page_init: 2,
  /** The syscall instruction, entry and exit (no mitigations): about 100 ns. */
  syscall: 100,
  /** A minor page fault: exception entry, the walk, handle_mm_fault, the PTE set, return: about 500 ns. */
  minor_fault: 500,
  /** Zeroing one 4 KiB page (clear_page with rep stosb at ~40 GB/s). */
  clear_page: 100,
  /** Copying one 4 KiB page (copy_page, COW). */
  copy_page: 150,
  /** A major fault's I/O: reading a page from the simulated disk (an NVMe 4 KiB random read). */
  disk_read_page: 80_000,
  /** Writing a page to the simulated disk. */
  disk_write_page: 20_000,
  /** Each further page of a multi-page disk request (readahead, writeback): 4 KiB at about 2 GB/s. */
  disk_transfer_page: 2_000,
  /** A zram device's request: one page compressed or decompressed in memory, about 2 us. */
  zram_page: 2_000,
  /** Reclaim looking at one LRU page (isolate, check references, free or put back): about 200 ns. */
  reclaim_scan_page: 200,
} as const

export interface Timer {
  readonly expires: number
  readonly fn: () => void
}

export class Clock {
  private ns = 0
  /** The CPU doing the work advance() charges (the scheduler sets it when a task runs). */
  cpu = 0
  /**
   * Per-CPU time accounting (Kernel: kernel/sched/cputime.c into
   * kcpustat_cpu(): /proc/stat's cpu lines): the nanoseconds each CPU spent
   * working in the kernel, and waiting for the disk with a task blocked on
   * it. The rest of now() is that CPU's idle time. User-mode instructions
   * cost no simulated time (the model charges kernel events only), so there
   * is no user time.
   */
  readonly system_ns: number[] = [0]
  readonly iowait_ns: number[] = [0]
  private readonly timers: Timer[] = []
  /** Expiry of the earliest pending timer (Infinity: none): a one-compare test on the hot path. */
  next_expiry = Infinity

  /** Kernel: ktime_get() / local_clock(): nanoseconds since boot. */
  now(): number {
    return this.ns
  }
  /** Kernel: local_clock(). */
  local_clock(): number {
    return this.ns
  }
  /** Kernel: ktime_get(). */
  ktime_get(): number {
    return this.ns
  }

  /** Time passes: `ns` more nanoseconds of work (a negative or non-finite amount is a caller's bug and ignored). */
  advance(ns: number): void {
    if (ns > 0 && ns !== Infinity) {
      this.ns += ns
      this.system_ns[this.cpu] = (this.system_ns[this.cpu] ?? 0) + ns
    }
  }

  /** Time passes while the running task waits for the disk (iowait on its CPU). */
  advance_iowait(ns: number): void {
    if (ns > 0 && ns !== Infinity) {
      this.ns += ns
      this.iowait_ns[this.cpu] = (this.iowait_ns[this.cpu] ?? 0) + ns
    }
  }

  /** Kernel: add_timer(): run `fn` once at or after `expires` (absolute ns), from run_timers(). */
  add_timer(expires: number, fn: () => void): Timer {
    const t: Timer = { expires, fn }
    let i = this.timers.length
    while (i > 0 && this.timers[i - 1].expires > expires) i--
    this.timers.splice(i, 0, t)
    this.next_expiry = this.timers[0].expires
    return t
  }

  /** Kernel: del_timer(): false when it was not pending. */
  del_timer(t: Timer): boolean {
    const i = this.timers.indexOf(t)
    if (i < 0) return false
    this.timers.splice(i, 1)
    this.next_expiry = this.timers.length ? this.timers[0].expires : Infinity
    return true
  }

  /** Timers not yet run. */
  get pending(): readonly Timer[] {
    return this.timers
  }

  /** Run every timer due by now, earliest first (a timer may add timers). */
  run_timers(): void {
    while (this.timers.length && this.timers[0].expires <= this.ns) {
      const t = this.timers.shift() as Timer
      this.next_expiry = this.timers.length ? this.timers[0].expires : Infinity
      t.fn()
    }
  }

  /**
   * Idle until `ns`: each timer that falls due runs at its own expiry (the
   * clock reads its expiry while it runs, so what it schedules counts from
   * then), earliest first, then the clock rests at `ns`. Never goes backwards.
   */
  sleep_until(ns: number): void {
    while (this.timers.length && this.timers[0].expires <= ns) {
      const t = this.timers.shift() as Timer
      this.next_expiry = this.timers.length ? this.timers[0].expires : Infinity
      if (t.expires > this.ns) this.ns = t.expires
      t.fn()
    }
    if (ns > this.ns) this.ns = ns
  }
}
