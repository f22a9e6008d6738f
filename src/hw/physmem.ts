/**
 * Physical memory: the bytes of every page frame.
 *
 * Contents are sparse: a frame gets a 4 KiB backing buffer on its first
 * write and keeps it for the life of the machine, so a freed frame keeps its
 * stale bytes exactly as real RAM does (DESIGN.md). A frame never written
 * reads as zeros. Backing buffers come from 1 MiB pools of 256 frames to
 * keep host allocations few and host memory proportional to frames touched.
 */
import { KernelBug } from '../kernel/bug.js'

const PAGE_SIZE = 4096
const FRAMES_PER_POOL = 256

export class PhysMem {
  readonly nr_frames: number
  /** pfn -> backing slot + 1 (0: never written). */
  private readonly slot: Int32Array
  /** slot -> view of its 4 KiB in a pool. */
  private readonly views: Uint8Array[] = []
  private pool: Uint8Array | null = null
  private pool_used = FRAMES_PER_POOL
  private static readonly ZERO = new Uint8Array(PAGE_SIZE)

  constructor(nr_frames: number) {
    this.nr_frames = nr_frames
    this.slot = new Int32Array(nr_frames)
  }

  /** Frames that own a backing buffer (host memory actually used). */
  get backed_frames(): number {
    return this.views.length
  }

  /** Writable view of a frame's bytes, allocating its backing on first use. */
  frame(pfn: number): Uint8Array {
    const s = this.slot[pfn]
    if (s !== 0) return this.views[s - 1]
    if (pfn < 0 || pfn >= this.nr_frames || !Number.isInteger(pfn)) {
      throw new KernelBug(`physmem.frame: pfn ${pfn} outside physical memory`)
    }
    if (this.pool_used === FRAMES_PER_POOL) {
      this.pool = new Uint8Array(PAGE_SIZE * FRAMES_PER_POOL)
      this.pool_used = 0
    }
    const view = (this.pool as Uint8Array).subarray(this.pool_used * PAGE_SIZE, (this.pool_used + 1) * PAGE_SIZE)
    this.pool_used++
    this.views.push(view)
    this.slot[pfn] = this.views.length
    return view
  }

  /** Read-only view: the frame's bytes, or a shared zero page if it was never written. Do not write to it. */
  peek(pfn: number): Uint8Array {
    const s = this.slot[pfn]
    return s !== 0 ? this.views[s - 1] : PhysMem.ZERO
  }

  /** True when the frame has ever been written. */
  is_backed(pfn: number): boolean {
    return this.slot[pfn] !== 0
  }

  /** Fill a frame (or part of it) with a byte value. Zero-filling a never-written frame costs nothing. */
  fill(pfn: number, value: number, offset = 0, len = PAGE_SIZE): void {
    if (value === 0 && this.slot[pfn] === 0) return
    this.frame(pfn).fill(value, offset, offset + len)
  }

  /** Copy one whole frame onto another (copy_page). */
  copy(dst_pfn: number, src_pfn: number): void {
    if (this.slot[src_pfn] === 0) {
      this.fill(dst_pfn, 0)
      return
    }
    this.frame(dst_pfn).set(this.views[this.slot[src_pfn] - 1])
  }

  /** Read bytes at a physical address range that may span frames. */
  read(paddr: number, len: number): Uint8Array {
    const out = new Uint8Array(len)
    let done = 0
    while (done < len) {
      const pa = paddr + done
      const pfn = Math.floor(pa / PAGE_SIZE)
      const off = pa - pfn * PAGE_SIZE
      const n = Math.min(PAGE_SIZE - off, len - done)
      out.set(this.peek(pfn).subarray(off, off + n), done)
      done += n
    }
    return out
  }

  /** Write bytes at a physical address range that may span frames. */
  write(paddr: number, data: Uint8Array): void {
    let done = 0
    while (done < data.length) {
      const pa = paddr + done
      const pfn = Math.floor(pa / PAGE_SIZE)
      const off = pa - pfn * PAGE_SIZE
      const n = Math.min(PAGE_SIZE - off, data.length - done)
      this.frame(pfn).set(data.subarray(done, done + n), off)
      done += n
    }
  }
}
