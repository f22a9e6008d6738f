/**
 * Block devices swap is written to: a zram-like compressed RAM disk and a
 * plain disk (Kernel: drivers/block/zram/zram_drv.c for the first; any
 * SCSI/virtio disk for the second). Only what swap needs: page-sized
 * reads and writes by page index, discard, and the queue flags swapon
 * reads.
 *
 *  - zram completes every request inside submit (its I/O is a memcpy):
 *    the kernel marks it BLK_FEAT_SYNCHRONOUS, swapon turns that into
 *    SWP_SYNCHRONOUS_IO, and it is not rotational (SWP_SOLIDSTATE). A page
 *    of one repeated byte is kept as that byte only (zram's same-filled
 *    pages), others as a copy of the bytes.
 *  - the disk is rotational with a fixed latency per request, and keeps
 *    every block written (its contents survive swapoff, as on a real disk).
 *
 * Contents live in groups of 256 pages (1 MiB buffers) made on the first
 * write into the group, found by page index: a device holds host memory
 * only where it was written, as a sparse file would, and a write allocates
 * nothing once its group exists. Every request is also counted on the
 * device's `disk` (src/hw/blkdev.ts), the statistics /proc/diskstats and
 * /sys/block/<dev>/stat print; each takes the device's latency there.
 */
import { BlockDevice, PAGE_SECTORS, STAT_READ, STAT_WRITE } from './blkdev.js'
import { COST_NS } from './clock.js'

export type SwapBdevKind = 'zram' | 'disk'

const GROUP = 256
const PAGE = 4096
const EMPTY = 0
const STORED = 1
const SAME = 2

export class SwapBlockDevice {
  /** Per page: EMPTY (reads as zeros), STORED (bytes in its group), SAME (zram: one repeated byte, in `same`). */
  private readonly state: Uint8Array
  private readonly same: Uint8Array
  private readonly groups: (Uint8Array | undefined)[] = []
  /** Requests served (reads, writes) and the simulated time they took (ns). */
  reads = 0
  writes = 0
  discards = 0
  busy_ns = 0
  /** The request queue and its statistics. */
  readonly disk: BlockDevice

  constructor(
    readonly kind: SwapBdevKind,
    /** Device node name (/dev/zram0, /dev/vdb). */
    readonly name: string,
    /** dev_t of the node. */
    readonly dev: number,
    /** Capacity in 4 KiB pages. */
    readonly nr_pages: number,
    /** Latency of one request in ns (zram: a copy; disk: a seek and transfer). */
    readonly latency_ns: number = kind === 'zram' ? COST_NS.zram_page : 5_000_000,
  ) {
    this.state = new Uint8Array(nr_pages)
    this.same = new Uint8Array(nr_pages)
    // dev_t: 20 minor bits (include/linux/kdev_t.h)
    this.disk = new BlockDevice(name.replace(/^\/dev\//, ''), Math.floor(dev / 2 ** 20), dev % 2 ** 20, latency_ns, latency_ns, 0)
  }

  /** BLK_FEAT_SYNCHRONOUS: the request is done when submit returns. */
  get synchronous(): boolean {
    return this.kind === 'zram'
  }
  /** BLK_FEAT_ROTATIONAL (/sys/block/<dev>/queue/rotational). */
  get rotational(): boolean {
    return this.kind === 'disk'
  }

  /** Read page `index` into `out` (4096 bytes) at time `now`; never-written pages read as zeros. When the read completes. */
  read_page(index: number, out: Uint8Array, now = 0): number {
    this.reads++
    this.busy_ns += this.latency_ns
    const done = this.disk.submit(STAT_READ, PAGE_SECTORS, now)
    this.peek(index, out)
    return done
  }

  /** The contents of page `index` without counting a request (mkswap's header check, the checker). */
  peek(index: number, out: Uint8Array): void {
    const st = this.state[index]
    if (st === EMPTY) out.fill(0)
    else if (st === SAME) out.fill(this.same[index])
    else {
      const off = (index % GROUP) * PAGE
      out.set((this.groups[Math.floor(index / GROUP)] as Uint8Array).subarray(off, off + PAGE))
    }
  }

  /** Write page `index` from `data` (4096 bytes) at time `now`. When the write completes. */
  write_page(index: number, data: Uint8Array, now = 0): number {
    this.writes++
    this.busy_ns += this.latency_ns
    const done = this.disk.submit(STAT_WRITE, PAGE_SECTORS, now)
    this.store(index, data)
    return done
  }

  private store(index: number, data: Uint8Array): void {
    if (this.kind === 'zram') {
      // zram_write_page(): a page of one repeated byte is stored as that byte (ZRAM_SAME).
      const v = data[0]
      let same = true
      for (let i = 1; i < data.length; i++) {
        if (data[i] !== v) {
          same = false
          break
        }
      }
      if (same) {
        this.state[index] = SAME
        this.same[index] = v
        return
      }
    }
    const g = Math.floor(index / GROUP)
    let buf = this.groups[g]
    if (buf === undefined) this.groups[g] = buf = new Uint8Array(GROUP * PAGE)
    buf.set(data, (index % GROUP) * PAGE)
    this.state[index] = STORED
  }

  /**
   * zram's swap_slot_free_notify (swap_entries_free()): zram frees its copy.
   * A block_device_operations call, not a bio: /proc/diskstats does not see it.
   */
  discard(index: number): void {
    if (this.kind !== 'zram') return
    this.discards++
    this.state[index] = EMPTY
  }

  /** zram's mem_used_total in pages (what its stored copies would cost), for its mm_stat. */
  stored_pages(): number {
    let n = 0
    for (let i = 0; i < this.nr_pages; i++) if (this.state[i] === STORED) n++
    return n
  }
}
