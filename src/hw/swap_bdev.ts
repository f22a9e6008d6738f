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
 * Contents live in a Map by page index: a device holds only what was
 * written, as a sparse file would. The I/O counters are what
 * /sys/block/<dev>/stat would report, in requests.
 */

export type SwapBdevKind = 'zram' | 'disk'

export class SwapBlockDevice {
  /** Pages written (bytes, or a same-filled byte for zram). */
  private readonly blocks = new Map<number, Uint8Array | number>()
  /** Requests served (reads, writes) and the simulated time they took (ns). */
  reads = 0
  writes = 0
  discards = 0
  busy_ns = 0

  constructor(
    readonly kind: SwapBdevKind,
    /** Device node name (/dev/zram0, /dev/vdb). */
    readonly name: string,
    /** dev_t of the node. */
    readonly dev: number,
    /** Capacity in 4 KiB pages. */
    readonly nr_pages: number,
    /** Latency of one request in ns (zram: a copy; disk: a seek and transfer). */
    readonly latency_ns: number = kind === 'zram' ? 2_000 : 5_000_000,
  ) {}

  /** BLK_FEAT_SYNCHRONOUS: the request is done when submit returns. */
  get synchronous(): boolean {
    return this.kind === 'zram'
  }
  /** BLK_FEAT_ROTATIONAL (/sys/block/<dev>/queue/rotational). */
  get rotational(): boolean {
    return this.kind === 'disk'
  }

  /** Read page `index` into `out` (4096 bytes); never-written pages read as zeros. */
  read_page(index: number, out: Uint8Array): void {
    this.reads++
    this.busy_ns += this.latency_ns
    this.peek(index, out)
  }

  /** The contents of page `index` without counting a request (mkswap's header check, the checker). */
  peek(index: number, out: Uint8Array): void {
    const b = this.blocks.get(index)
    if (b === undefined) out.fill(0)
    else if (typeof b === 'number') out.fill(b)
    else out.set(b)
  }

  /** Write page `index` from `data` (4096 bytes). */
  write_page(index: number, data: Uint8Array): void {
    this.writes++
    this.busy_ns += this.latency_ns
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
        this.blocks.set(index, v)
        return
      }
    }
    this.blocks.set(index, data.slice())
  }

  /** REQ_OP_DISCARD of one page (zram frees its copy; swap_entries_free() on a discardable device). */
  discard(index: number): void {
    if (this.kind !== 'zram') return
    this.discards++
    this.blocks.delete(index)
  }

  /** zram's mem_used_total in pages (what its stored copies would cost), for its mm_stat. */
  stored_pages(): number {
    let n = 0
    for (const b of this.blocks.values()) if (typeof b !== 'number') n++
    return n
  }
}
