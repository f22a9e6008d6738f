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
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { KernelBug } from '../include/bug.js'

const FRAMES_PER_POOL = 256 // slot >>> 8 is its pool

export class PhysMem {
  readonly nr_frames: number
  /** pfn -> backing slot + 1 (0: never written). */
  private readonly slot: Int32Array
  /** slot -> view of its 4 KiB in a pool. */
  private readonly views: Uint8Array[] = []
  /** The 1 MiB pools; slot s lives at byte (s % FRAMES_PER_POOL) * PAGE_SIZE of pools[s / FRAMES_PER_POOL]. */
  private readonly pools: Uint8Array[] = []
  /** slot -> dirty extent [ext[2s], ext[2s+1]): bytes outside are zero (lo >= hi: all zero). */
  private ext = new Int32Array(512)
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
    this.ext[2 * s] = 0
    this.ext[2 * s + 1] = PAGE_SIZE
    return this.views[s]
  }

  /** slot index (0-based) of the frame's backing, allocating it (all zero, extent empty). */
  private backing(pfn: number): number {
    const s1 = this.slot[pfn]
    if (s1 !== 0) return s1 - 1
    if (pfn < 0 || pfn >= this.nr_frames || !Number.isInteger(pfn)) {
      throw new KernelBug(`physmem.frame: pfn ${pfn} outside physical memory`)
    }
    if (this.pool_used === FRAMES_PER_POOL) {
      this.pool = new Uint8Array(PAGE_SIZE * FRAMES_PER_POOL)
      this.pools.push(this.pool)
      this.pool_used = 0
    }
    const view = (this.pool as Uint8Array).subarray(this.pool_used * PAGE_SIZE, (this.pool_used + 1) * PAGE_SIZE)
    this.pool_used++
    this.views.push(view)
    const s = this.views.length - 1
    if (2 * s + 2 > this.ext.length) {
      const ext = new Int32Array(this.ext.length * 2)
      ext.set(this.ext)
      this.ext = ext
    }
    this.ext[2 * s] = PAGE_SIZE
    this.ext[2 * s + 1] = 0
    this.slot[pfn] = s + 1
    return s
  }

  /** Store src[src_off, src_off+n) at byte `off` of a frame (off + n <= PAGE_SIZE). */
  write_at(pfn: number, off: number, src: Uint8Array, src_off: number, n: number): void {
    if (n <= 0) return
    const s = this.backing(pfn)
    if (n <= 16) {
      const pool = this.pools[s >>> 8]
      const base = (s & (FRAMES_PER_POOL - 1)) * PAGE_SIZE + off
      for (let i = 0; i < n; i++) pool[base + i] = src[src_off + i]
    } else this.views[s].set(src.subarray(src_off, src_off + n), off)
    const ext = this.ext
    if (off < ext[2 * s]) ext[2 * s] = off
    if (off + n > ext[2 * s + 1]) ext[2 * s + 1] = off + n
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
      const ext = this.ext
      const lo = ext[2 * s]
      const hi = ext[2 * s + 1]
      if (lo >= hi) return
      const from = offset > lo ? offset : lo
      const to = end < hi ? end : hi
      if (from >= to) return
      if (to - from <= 32) {
        const pool = this.pools[s >>> 8]
        const base = (s & (FRAMES_PER_POOL - 1)) * PAGE_SIZE
        for (let i = base + from; i < base + to; i++) pool[i] = 0
      } else this.views[s].fill(0, from, to)
      if (offset <= lo && end >= hi) {
        ext[2 * s] = PAGE_SIZE
        ext[2 * s + 1] = 0
      } else if (offset <= lo) ext[2 * s] = end
      else if (end >= hi) ext[2 * s + 1] = offset
      return
    }
    const s = this.backing(pfn)
    this.views[s].fill(value, offset, end)
    const ext = this.ext
    if (offset < ext[2 * s]) ext[2 * s] = offset
    if (end > ext[2 * s + 1]) ext[2 * s + 1] = end
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
    this.ext[2 * dst] = this.ext[2 * src]
    this.ext[2 * dst + 1] = this.ext[2 * src + 1]
  }

  /** Read bytes at a physical address range that may span frames. */
  read(paddr: number, len: number): Uint8Array {
    const out = new Uint8Array(len)
    for (let done = 0, n = 0; done < len; done += n) {
      const pa = paddr + done
      const off = offset_in_page(pa)
      n = page_chunk(pa, len - done)
      out.set(this.peek(PFN_DOWN(pa)).subarray(off, off + n), done)
    }
    return out
  }

  /** Write bytes at a physical address range that may span frames. */
  write(paddr: number, data: Uint8Array): void {
    for (let done = 0, n = 0; done < data.length; done += n) {
      const pa = paddr + done
      n = page_chunk(pa, data.length - done)
      this.write_at(PFN_DOWN(pa), offset_in_page(pa), data, done, n)
    }
  }
}
