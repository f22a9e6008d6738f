/**
 * Physical memory: the bytes of every page frame.
 *
 * Contents are sparse: a frame gets a 4 KiB backing buffer on its first
 * write and keeps it for the life of the machine, so a freed frame keeps its
 * stale bytes exactly as real RAM does (DESIGN.md). A frame never written
 * reads as zeros. Backing buffers come from 1 MiB pools of 256 frames to
 * keep host allocations few and host memory proportional to frames touched.
 *
 * Host-side shortcut, invisible to the simulation: every backed frame keeps
 * a dirty extent [lo, hi) outside which its bytes are known to be zero.
 * frame() hands out a writable view and so marks the whole frame dirty;
 * write_at()/fill_at() widen the extent by what they write; zero-filling
 * clears only the dirty part and shrinks the extent. Re-zeroing a page that
 * was stored to once (the anonymous-fault loop) then costs a few bytes, not
 * 4 KiB, while every byte read stays exactly what the kernel would see.
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
  /** slot -> dirty extent [lo, hi): bytes outside are zero (lo >= hi: all zero). */
  private readonly lo: number[] = []
  private readonly hi: number[] = []
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
    const s = this.backing(pfn)
    this.lo[s] = 0
    this.hi[s] = PAGE_SIZE
    return this.views[s]
  }

  /** slot index (0-based) of the frame's backing, allocating it (all zero, extent empty). */
  private backing(pfn: number): number {
    const s = this.slot[pfn]
    if (s !== 0) return s - 1
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
    this.lo.push(PAGE_SIZE)
    this.hi.push(0)
    this.slot[pfn] = this.views.length
    return this.views.length - 1
  }

  /** Store src[src_off, src_off+n) at byte `off` of a frame (off + n <= PAGE_SIZE). */
  write_at(pfn: number, off: number, src: Uint8Array, src_off: number, n: number): void {
    if (n <= 0) return
    const s = this.backing(pfn)
    const b = this.views[s]
    if (n <= 16) for (let i = 0; i < n; i++) b[off + i] = src[src_off + i]
    else b.set(src.subarray(src_off, src_off + n), off)
    if (off < this.lo[s]) this.lo[s] = off
    if (off + n > this.hi[s]) this.hi[s] = off + n
  }

  /** Fill [off, off+n) of a frame with a byte value (off + n <= PAGE_SIZE). */
  fill_at(pfn: number, off: number, value: number, n: number): void {
    this.fill(pfn, value, off, n)
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
    if (len <= 0) return
    const end = offset + len
    if (value === 0) {
      const s1 = this.slot[pfn]
      if (s1 === 0) return
      const s = s1 - 1
      const lo = this.lo[s]
      const hi = this.hi[s]
      if (lo >= hi) return
      const from = offset > lo ? offset : lo
      const to = end < hi ? end : hi
      if (from >= to) return
      const b = this.views[s]
      if (to - from <= 32) for (let i = from; i < to; i++) b[i] = 0
      else b.fill(0, from, to)
      if (offset <= lo && end >= hi) {
        this.lo[s] = PAGE_SIZE
        this.hi[s] = 0
      } else if (offset <= lo) this.lo[s] = end
      else if (end >= hi) this.hi[s] = offset
      return
    }
    const s = this.backing(pfn)
    this.views[s].fill(value, offset, end)
    if (offset < this.lo[s]) this.lo[s] = offset
    if (end > this.hi[s]) this.hi[s] = end
  }

  /** Copy one whole frame onto another (copy_page). */
  copy(dst_pfn: number, src_pfn: number): void {
    if (this.slot[src_pfn] === 0) {
      this.fill(dst_pfn, 0)
      return
    }
    const src = this.slot[src_pfn] - 1
    const dst = this.backing(dst_pfn)
    this.views[dst].set(this.views[src])
    this.lo[dst] = this.lo[src]
    this.hi[dst] = this.hi[src]
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
      this.write_at(pfn, off, data, done, n)
      done += n
    }
  }
}
