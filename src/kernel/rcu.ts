/**
 * RCU callbacks (Kernel: kernel/rcu/tree.c call_rcu(), rcu_do_batch(),
 * rcu_barrier()): a callback queued on a CPU runs once a grace period has
 * passed, in that CPU's softirq. Objects readers may still see (an xarray
 * node unlinked from the page cache) are freed this way, so their slab
 * memory, and the kmem charge it carries, stays until then.
 *
 * The model: a grace period is RCU_GP_NS of simulated time, and the
 * callbacks run from the clock's timers (the next return to user mode
 * after it has passed) on the CPU that queued them, in queue order.
 */
import type { Clock } from '../hw/clock.js'

/**
 * One grace period plus the wait for the tick that runs the callbacks.
 * With HZ=250 (the reference machine), a grace period forced after one
 * jiffy (jiffies_till_first_fqs) ends after 2-3 ticks and its callbacks run
 * in the RCU softirq of the tick after: about 12 ms.
 */
export const RCU_GP_NS = 12_000_000

interface RcuCallback {
  readonly due: number
  readonly cpu: number
  readonly fn: () => void
}

export class Rcu {
  private readonly queue: RcuCallback[] = []
  private armed = false

  constructor(
    private readonly clock: Clock,
    /** Run `fn` as CPU `cpu` (its per-CPU state: the memcg object stock a freed object refills). */
    private readonly on_cpu: (cpu: number, fn: () => void) => void,
  ) {}

  /** Kernel: call_rcu(): `fn` runs on `cpu` after a grace period. */
  call_rcu(cpu: number, fn: () => void): void {
    this.queue.push({ due: this.clock.now() + RCU_GP_NS, cpu, fn })
    this.arm()
  }

  /** Callbacks waiting for their grace period. */
  get pending(): number {
    return this.queue.length
  }

  /** Kernel: rcu_barrier(): every queued callback has run when it returns. */
  rcu_barrier(): void {
    this.run(Infinity)
  }

  private arm(): void {
    if (this.armed || !this.queue.length) return
    this.armed = true
    this.clock.add_timer(this.queue[0].due, () => {
      this.armed = false
      this.run(this.clock.now())
      this.arm()
    })
  }

  /** Kernel: rcu_do_batch(): the callbacks whose grace period has ended, oldest first. */
  private run(now: number): void {
    while (this.queue.length && this.queue[0].due <= now) {
      const cb = this.queue.shift() as RcuCallback
      this.on_cpu(cb.cpu, cb.fn)
    }
  }
}
