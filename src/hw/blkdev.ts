/**
 * A simulated disk's request queue and the I/O statistics the block layer
 * keeps for it (Kernel: block/blk-core.c and blk-mq.c's accounting,
 * include/linux/part_stat.h struct disk_stats, block/genhd.c
 * diskstats_show() / part_stat_show(), which /proc/diskstats and
 * /sys/block/<dev>/stat print).
 *
 * The queue serves one request at a time, first come first served: a
 * request submitted at `now` starts when the device is free and takes
 * `read_ns` (or `write_ns` for writes, discards and flushes) plus
 * `transfer_ns` for each page after its first. Nothing
 * waits here: submit() says when the request completes, and the caller
 * (writeback, readahead, swap) decides whether its task waits for it.
 *
 * Statistics are the kernel's, updated when a request completes
 * (blk_account_io_done(): ios, sectors, nsecs), so a request still in
 * flight at `now` is counted in in_flight only. io_ticks is the time the
 * device had a request in flight; weighted time is the sum of every
 * request's time in flight. The kernel samples both in jiffies; here they
 * are exact in ns and shown in ms.
 *
 * Invariant: requests complete in submission order (done never decreases
 * along `pending`); counters never decrease.
 */

/** enum stat_group (include/linux/blk_types.h). */
export const STAT_READ = 0
export const STAT_WRITE = 1
export const STAT_DISCARD = 2
export const STAT_FLUSH = 3
export type StatGroup = typeof STAT_READ | typeof STAT_WRITE | typeof STAT_DISCARD | typeof STAT_FLUSH

/** 512-byte sectors of a 4 KiB page. */
export const PAGE_SECTORS = 8

/** struct disk_stats of one disk, as diskstats_show() reads it at a moment. */
export interface DiskStats {
  readonly ios: readonly number[]
  readonly merges: readonly number[]
  readonly sectors: readonly number[]
  /** Per group, total ns requests spent in flight. */
  readonly nsecs: readonly number[]
  /** ns during which the device had a request in flight. */
  readonly io_ticks_ns: number
  /** Requests submitted and not yet complete (part_in_flight()). */
  readonly in_flight: number
}

interface Request {
  readonly op: StatGroup
  readonly sectors: number
  /** An empty REQ_PREFLUSH write: the flush machinery's flush request is accounted too (blk_account_io_flush()). */
  readonly preflush: boolean
  readonly submitted: number
  readonly done: number
}

export class BlockDevice {
  private readonly ios = [0, 0, 0, 0]
  private readonly merges = [0, 0, 0, 0]
  private readonly sectors = [0, 0, 0, 0]
  private readonly nsecs = [0, 0, 0, 0]
  private io_ticks_ns = 0
  /** End of the busy time already counted in io_ticks_ns. */
  private ticked_to = 0
  /** When the device finishes what it has been given. */
  private busy_until = 0
  private readonly pending: Request[] = []

  constructor(
    /** The disk name /proc/diskstats prints (vda, zram0). */
    readonly name: string,
    readonly major: number,
    readonly minor: number,
    /** Time of a one-page read, ns (seek or command overhead plus the first page). */
    readonly read_ns: number,
    /** Time of a one-page write (and of a discard or flush), ns. */
    readonly write_ns: number,
    /** Time of each further page of a request, ns (the transfer). */
    readonly transfer_ns: number,
  ) {}

  /** The time a request `op` of `pages` pages occupies the device. */
  service_ns(op: StatGroup, pages: number): number {
    return (op === STAT_READ ? this.read_ns : this.write_ns) + Math.max(0, pages - 1) * this.transfer_ns
  }

  /**
   * Kernel: submit_bio() of one request of `sectors` sectors at `now`: when
   * it completes. `preflush`: an empty write with REQ_PREFLUSH
   * (blkdev_issue_flush()), which the block layer counts twice on a disk
   * with a volatile write cache: as a write of no sectors, and as the flush
   * request its flush sequence sent.
   */
  submit(op: StatGroup, sectors: number, now: number, preflush = false): number {
    this.retire(now)
    const start = Math.max(now, this.busy_until)
    const done = start + this.service_ns(op, Math.ceil(sectors / PAGE_SECTORS))
    this.busy_until = done
    this.pending.push({ op, sectors, preflush, submitted: now, done })
    return done
  }

  /** Count the requests complete by `now` (blk_account_io_done()). */
  private retire(now: number): void {
    let n = 0
    for (const r of this.pending) {
      if (r.done > now) break
      this.ios[r.op]++
      this.sectors[r.op] += r.sectors
      this.nsecs[r.op] += r.done - r.submitted
      if (r.preflush) {
        this.ios[STAT_FLUSH]++
        this.nsecs[STAT_FLUSH] += r.done - r.submitted
      }
      this.tick(r.submitted, r.done)
      n++
    }
    if (n) this.pending.splice(0, n)
  }

  /** Add the part of [from, to) not yet counted to io_ticks (requests come in order, so the busy time is a union of runs). */
  private tick(from: number, to: number): void {
    const start = Math.max(from, this.ticked_to)
    if (to > start) {
      this.io_ticks_ns += to - start
      this.ticked_to = to
    }
  }

  /** The statistics at `now`: complete requests counted, the rest in flight. */
  stats(now: number): DiskStats {
    this.retire(now)
    // update_io_ticks(): time with requests in flight counts up to now.
    let io_ticks_ns = this.io_ticks_ns
    if (this.pending.length) io_ticks_ns += Math.max(0, now - Math.max(this.pending[0].submitted, this.ticked_to))
    return { ios: [...this.ios], merges: [...this.merges], sectors: [...this.sectors], nsecs: [...this.nsecs], io_ticks_ns, in_flight: this.pending.length }
  }
}
