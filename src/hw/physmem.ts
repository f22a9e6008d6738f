/**
 * Physical memory: the bytes of every page frame.
 *
 * Contents are sparse: a frame gets a 4 KiB backing slot on its first write
 * and keeps it for the life of the machine, so a freed frame keeps its stale
 * bytes exactly as real RAM does (DESIGN.md). A frame never written reads as
 * zeros. Slots are handed out in order of first write and live in a few large
 * chunks (ArrayBuffers), found arithmetically: slot s is frame s & 31 of group
 * s >>> 5, a 128 KiB stretch of one chunk with one view (group_buf). Chunks
 * double from one group (128 KiB) up to CHUNK_MAX_GROUPS groups (256 MiB), so
 * a small machine stays small and a large one has few. There is no JS object
 * per frame (three views per 32): the garbage collector's work stays flat as
 * resident memory grows, and since the host commits a chunk's pages only
 * when they are touched, host memory stays about 4 KiB per frame ever written.
 *
 * Access without views: peek_buf(pfn) and peek_off(pfn) give the buffer and
 * the offset of the frame's byte 0 in it for reading (a never-written frame
 * reads from a shared zero page); poke(pfn, off, n) prepares [off, off+n) for
 * writing and returns the offset; write_at/copy_out/fill/or_u8 cover the
 * rest. peek_view(pfn) is peek_buf(pfn) as a DataView (one per group too). frame()/peek() build a view on demand, a convenience for cold paths.
 *
 * Shared pages, a host-side shortcut invisible to the simulation: share(pfn,
 * page) makes a frame read as an immutable host page without copying it
 * (slot < 0 names it); the first write gives the frame its own backing, a
 * copy of that page. Program images fill hundreds of page-cache frames with
 * the same bytes at every exec of a new machine; shared, they cost neither
 * a copy nor host memory until a frame is written.
 *
 * Host-side shortcut, invisible to the simulation: every backed frame keeps
 * a dirty extent [lo, hi) outside which its bytes are known to be zero.
 * Every write widens the extent by what it writes (frame() by the whole
 * frame); zero-filling clears only the dirty part and shrinks the extent.
 * Re-zeroing a page that was stored to once (the anonymous-fault loop) then
 * costs a few bytes, not 4 KiB, while every byte read stays exactly what the
 * kernel would see.
 */
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import { KernelBug } from '../include/bug.js'

// 32 frames (128 KiB) to a group: slot >>> 5 is its group. A fresh machine backs a few dozen
// frames (its page tables, a first process); a first chunk of 1 MiB (256-frame groups) was a
// zeroed host allocation per boot that V8 counts as external memory, and the young-generation
// collections it forced cost the test suite (some 3,000 boots) about 2.5% of its CPU.
const GROUP_SHIFT = 5
const GROUP_FRAMES = 1 << GROUP_SHIFT
const GROUP_BYTES = GROUP_FRAMES * PAGE_SIZE
/** Largest chunk, in groups (256 MiB). */
const CHUNK_MAX_GROUPS = 2048
/**
 * Whether the host stores an Int32Array's elements little endian, as x86
 * does: then an aligned 32-bit word of a frame is one element of its group's
 * word view (group_i32), one load instead of four byte loads. Otherwise the
 * byte paths serve every access.
 */
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

export class PhysMem {
  readonly nr_frames: number
  /** pfn -> backing slot + 1 (0: never written; -(i + 1): reads as shared[i], see share()). */
  private readonly slot: Int32Array
  /** group -> a view of its 128 KiB in the chunk holding it (one object per 32 frames, none per frame). */
  private readonly group_buf: Uint8Array[] = []
  /** group -> a DataView of the same 128 KiB (peek_view), made with the group. */
  private readonly group_view: DataView[] = []
  /** The same 128 KiB as 32-bit words (word i = bytes 4i..4i+3, little endian; see HOST_LE). */
  private readonly group_i32: Int32Array[] = []
  /** Groups this machine can ever need. */
  private readonly max_groups: number
  /** Slots handed out so far. */
  private nr_slots = 0
  /** Groups still free in the newest chunk. */
  private chunk_free = 0
  private chunk: Uint8Array | null = null
  private chunk_next_off = 0
  private nr_chunks = 0
  /** slot -> dirty extent [ext[2s], ext[2s+1]): bytes outside are zero (lo >= hi: all zero). */
  private ext = new Int32Array(512)
  private static readonly ZERO = new Uint8Array(PAGE_SIZE)
  private static readonly ZERO_VIEW = new DataView(PhysMem.ZERO.buffer)
  /** Shared pages (each PAGE_SIZE bytes nobody writes), and each one's index, so a page shared again reuses its entry. */
  private readonly shared: Uint8Array[] = []
  private readonly shared_index = new Map<Uint8Array, number>()

  constructor(nr_frames: number) {
    this.nr_frames = nr_frames
    this.slot = new Int32Array(nr_frames)
    this.max_groups = Math.ceil(nr_frames / GROUP_FRAMES)
  }

  /** Frames that own a backing slot (host memory actually used). */
  get backed_frames(): number {
    return this.nr_slots
  }

  /** Read side: the buffer holding a frame's bytes (a shared zero page if it was never written). Do not write to it. */
  peek_buf(pfn: number): Uint8Array {
    const s1 = this.slot[pfn]
    if (s1 > 0) return this.group_buf[(s1 - 1) >>> GROUP_SHIFT]
    return s1 === 0 ? PhysMem.ZERO : this.shared[-s1 - 1]
  }

  /**
   * Read side, as peek_buf(): a DataView of the same bytes (byte 0 of the
   * frame at peek_off(pfn)). Loops that read a whole page table take its
   * entries as two little-endian 32-bit words (getUint32) instead of
   * assembling eight bytes each; the view exists once per group, so asking
   * for it costs no allocation.
   */
  peek_view(pfn: number): DataView {
    const s1 = this.slot[pfn]
    return s1 !== 0 ? this.group_view[(s1 - 1) >>> GROUP_SHIFT] : PhysMem.ZERO_VIEW
  }

  /** Read side: the offset of a frame's byte 0 in peek_buf(pfn). */
  peek_off(pfn: number): number {
    const s1 = this.slot[pfn]
    return s1 > 0 ? this.base(s1 - 1) : 0
  }

  /**
   * The frame's contents become `page` (PAGE_SIZE bytes), without a copy:
   * the caller must never modify `page` afterwards. Reads see it until the
   * first write, which gives the frame its own backing, a copy of `page`.
   * A frame that already has its own backing gets a copy at once.
   */
  share(pfn: number, page: Uint8Array): void {
    if (page.length !== PAGE_SIZE) throw new KernelBug(`physmem.share: a page is ${PAGE_SIZE} bytes, not ${page.length}`)
    if (this.slot[pfn] > 0) {
      this.write_at(pfn, 0, page, 0, PAGE_SIZE)
      return
    }
    if (pfn < 0 || pfn >= this.nr_frames || !Number.isInteger(pfn)) {
      throw new KernelBug(`physmem.share: pfn ${pfn} outside physical memory`)
    }
    let i = this.shared_index.get(page)
    if (i === undefined) {
      i = this.shared.push(page) - 1
      this.shared_index.set(page, i)
    }
    this.slot[pfn] = -(i + 1)
  }

  /**
   * Write side: allocates the frame's backing if needed and records that
   * [off, off+n) is about to be written; returns the offset of the frame's
   * byte 0 in peek_buf(pfn). The caller must write only inside [off, off+n).
   */
  poke(pfn: number, off: number, n: number): number {
    const s = this.backing(pfn)
    const ext = this.ext
    if (off < ext[2 * s]) ext[2 * s] = off
    if (off + n > ext[2 * s + 1]) ext[2 * s + 1] = off + n
    return this.base(s)
  }

  /** Offset of slot s's byte 0 in its group's view. */
  private base(s: number): number {
    return (s & (GROUP_FRAMES - 1)) * PAGE_SIZE
  }

  /** Writable view of a frame's bytes (built on demand, not cached), allocating its backing on first use. */
  frame(pfn: number): Uint8Array {
    const base = this.poke(pfn, 0, PAGE_SIZE)
    return this.peek_buf(pfn).subarray(base, base + PAGE_SIZE)
  }

  /** Read-only view (built on demand): the frame's bytes, or a shared zero page if it was never written. Do not write to it. */
  peek(pfn: number): Uint8Array {
    const s1 = this.slot[pfn]
    if (s1 <= 0) return s1 === 0 ? PhysMem.ZERO : this.shared[-s1 - 1]
    const base = this.peek_off(pfn)
    return this.peek_buf(pfn).subarray(base, base + PAGE_SIZE)
  }

  /**
   * slot index (0-based) of the frame's backing, allocating it: all zero
   * with an empty extent, or a copy of the page it shared.
   */
  private backing(pfn: number): number {
    const s1 = this.slot[pfn]
    if (s1 > 0) return s1 - 1
    if (pfn < 0 || pfn >= this.nr_frames || !Number.isInteger(pfn)) {
      throw new KernelBug(`physmem.frame: pfn ${pfn} outside physical memory`)
    }
    const s = this.nr_slots++
    if ((s & (GROUP_FRAMES - 1)) === 0) this.new_group(s >>> GROUP_SHIFT)
    if (2 * s + 2 > this.ext.length) {
      const ext = new Int32Array(this.ext.length * 2)
      ext.set(this.ext)
      this.ext = ext
    }
    this.ext[2 * s] = PAGE_SIZE
    this.ext[2 * s + 1] = 0
    this.slot[pfn] = s + 1
    if (s1 < 0) {
      this.group_buf[s >>> GROUP_SHIFT].set(this.shared[-s1 - 1], this.base(s))
      this.ext[2 * s] = 0
      this.ext[2 * s + 1] = PAGE_SIZE
    }
    return s
  }

  /** Places group g in the newest chunk, starting a chunk twice the size of the last (up to the cap) when it is full. */
  private new_group(g: number): void {
    if (this.chunk_free === 0) {
      const left = this.max_groups - g // groups this machine can still need
      const groups = Math.min(2 ** Math.min(this.nr_chunks, 30), CHUNK_MAX_GROUPS, left)
      this.chunk = new Uint8Array(groups * GROUP_BYTES) // zeroed; the host commits its pages as they are touched
      this.nr_chunks++
      this.chunk_free = groups
      this.chunk_next_off = 0
    }
    const chunk = this.chunk as Uint8Array
    const buf = chunk.subarray(this.chunk_next_off, this.chunk_next_off + GROUP_BYTES)
    this.group_buf[g] = buf
    this.group_view[g] = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.group_i32[g] = new Int32Array(chunk.buffer, chunk.byteOffset + this.chunk_next_off, GROUP_BYTES / 4)
    this.chunk_next_off += GROUP_BYTES
    this.chunk_free--
  }

  /** Store src[src_off, src_off+n) at byte `off` of a frame (off + n <= PAGE_SIZE). */
  write_at(pfn: number, off: number, src: Uint8Array, src_off: number, n: number): void {
    if (n <= 0) return
    const s = this.backing(pfn)
    const ext = this.ext
    if (off < ext[2 * s]) ext[2 * s] = off
    if (off + n > ext[2 * s + 1]) ext[2 * s + 1] = off + n
    const buf = this.group_buf[s >>> GROUP_SHIFT]
    const base = this.base(s) + off
    if (n <= 16) for (let i = 0; i < n; i++) buf[base + i] = src[src_off + i]
    else buf.set(src_off === 0 && n === src.length ? src : src.subarray(src_off, src_off + n), base)
  }

  /** Copy [off, off+n) of a frame into dst at dst_off (off + n <= PAGE_SIZE). */
  copy_out(pfn: number, off: number, dst: Uint8Array, dst_off: number, n: number): void {
    const s1 = this.slot[pfn]
    // A backed frame first and alone: this is every user load's copy, and the rest stays out of
    // line so that V8 inlines this part into the access.
    if (s1 > 0) {
      const buf = this.group_buf[(s1 - 1) >>> GROUP_SHIFT]
      const base = this.base(s1 - 1) + off
      if (n <= 16) for (let i = 0; i < n; i++) dst[dst_off + i] = buf[base + i]
      else if (n > 0) dst.set(buf.subarray(base, base + n), dst_off)
      return
    }
    this.copy_out_unbacked(s1, off, dst, dst_off, n)
  }

  /** copy_out() of a never-written frame (zeros) or of a shared page. */
  private copy_out_unbacked(s1: number, off: number, dst: Uint8Array, dst_off: number, n: number): void {
    if (n <= 0) return
    if (s1 === 0) dst.fill(0, dst_off, dst_off + n)
    else dst.set(this.shared[-s1 - 1].subarray(off, off + n), dst_off)
  }

  /** The little-endian unsigned 32-bit word at byte `off` of a frame (off + 4 <= PAGE_SIZE). */
  read_u32(pfn: number, off: number): number {
    const s1 = this.slot[pfn]
    if (s1 > 0 && (off & 3) === 0 && HOST_LE) return this.group_i32[(s1 - 1) >>> GROUP_SHIFT][(this.base(s1 - 1) + off) >> 2] >>> 0
    if (s1 === 0) return 0
    const b = s1 > 0 ? this.group_buf[(s1 - 1) >>> GROUP_SHIFT] : this.shared[-s1 - 1]
    const o = (s1 > 0 ? this.base(s1 - 1) : 0) + off
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
  }

  /**
   * The little-endian 64-bit word at byte `off` of a frame (off + 8 <= PAGE_SIZE)
   * as a signed number: hi * 2^32 + lo with the high half signed, exact while
   * |value| < 2^53 (a pointer: canonical addresses are below 2^47 either way).
   */
  read_s64(pfn: number, off: number): number {
    const s1 = this.slot[pfn]
    if (s1 > 0 && (off & 3) === 0 && HOST_LE) {
      const w = this.group_i32[(s1 - 1) >>> GROUP_SHIFT]
      const i = (this.base(s1 - 1) + off) >> 2
      return w[i + 1] * 4294967296 + (w[i] >>> 0)
    }
    return (this.read_u32(pfn, off + 4) | 0) * 4294967296 + this.read_u32(pfn, off)
  }

  /** Store a 32-bit word little endian at byte `off` of a frame (off + 4 <= PAGE_SIZE). */
  write_u32(pfn: number, off: number, value: number): void {
    const s = this.backing(pfn)
    const ext = this.ext
    if (off < ext[2 * s]) ext[2 * s] = off
    if (off + 4 > ext[2 * s + 1]) ext[2 * s + 1] = off + 4
    const o = this.base(s) + off
    if ((o & 3) === 0 && HOST_LE) {
      this.group_i32[s >>> GROUP_SHIFT][o >> 2] = value
      return
    }
    const b = this.group_buf[s >>> GROUP_SHIFT]
    b[o] = value & 0xff
    b[o + 1] = (value >>> 8) & 0xff
    b[o + 2] = (value >>> 16) & 0xff
    b[o + 3] = (value >>> 24) & 0xff
  }

  /** Store a 64-bit word given as 32-bit halves, little endian, at byte `off` of a frame (off + 8 <= PAGE_SIZE). */
  write_u64(pfn: number, off: number, lo: number, hi: number): void {
    const s = this.backing(pfn)
    const ext = this.ext
    if (off < ext[2 * s]) ext[2 * s] = off
    if (off + 8 > ext[2 * s + 1]) ext[2 * s + 1] = off + 8
    const o = this.base(s) + off
    if ((o & 3) === 0 && HOST_LE) {
      const w = this.group_i32[s >>> GROUP_SHIFT]
      w[o >> 2] = lo
      w[(o >> 2) + 1] = hi
      return
    }
    const b = this.group_buf[s >>> GROUP_SHIFT]
    b[o] = lo & 0xff
    b[o + 1] = (lo >>> 8) & 0xff
    b[o + 2] = (lo >>> 16) & 0xff
    b[o + 3] = (lo >>> 24) & 0xff
    b[o + 4] = hi & 0xff
    b[o + 5] = (hi >>> 8) & 0xff
    b[o + 6] = (hi >>> 16) & 0xff
    b[o + 7] = (hi >>> 24) & 0xff
  }

  /** OR `bits` into byte `off` of a frame (the MMU setting Accessed/Dirty). */
  or_u8(pfn: number, off: number, bits: number): void {
    const base = this.poke(pfn, off, 1)
    this.peek_buf(pfn)[base + off] |= bits
  }

  /** Fill [off, off+n) of a frame with a byte value (off + n <= PAGE_SIZE). */
  fill_at(pfn: number, off: number, value: number, n: number): void {
    this.fill(pfn, value, off, n)
  }

  /**
   * The frame's bytes outside [nonzero_start(pfn), nonzero_end(pfn)) are
   * zero (start >= end: all of them): the dirty extent, exposed so that a
   * scan for non-zero entries (a page table's) can start and stop there.
   * An over-approximation, never a byte that is not zero left out.
   */
  nonzero_start(pfn: number): number {
    const s1 = this.slot[pfn]
    return s1 > 0 ? this.ext[2 * (s1 - 1)] : s1 === 0 ? PAGE_SIZE : 0
  }
  nonzero_end(pfn: number): number {
    const s1 = this.slot[pfn]
    return s1 > 0 ? this.ext[2 * (s1 - 1) + 1] : s1 === 0 ? 0 : PAGE_SIZE
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
      let s1 = this.slot[pfn]
      if (s1 === 0) return
      if (s1 < 0) {
        // A shared page: zeroed whole it reads as a never-written frame again; in part it needs its own copy.
        if (offset === 0 && end >= PAGE_SIZE) {
          this.slot[pfn] = 0
          return
        }
        s1 = this.backing(pfn) + 1
      }
      const s = s1 - 1
      const ext = this.ext
      const lo = ext[2 * s]
      const hi = ext[2 * s + 1]
      if (lo >= hi) return
      const from = offset > lo ? offset : lo
      const to = end < hi ? end : hi
      if (from >= to) return
      const buf = this.group_buf[s >>> GROUP_SHIFT]
      const base = this.base(s)
      if (to - from <= 32) for (let i = base + from; i < base + to; i++) buf[i] = 0
      else buf.fill(0, base + from, base + to)
      if (offset <= lo && end >= hi) {
        ext[2 * s] = PAGE_SIZE
        ext[2 * s + 1] = 0
      } else if (offset <= lo) ext[2 * s] = end
      else if (end >= hi) ext[2 * s + 1] = offset
      return
    }
    const base = this.poke(pfn, offset, len)
    this.peek_buf(pfn).fill(value, base + offset, base + end)
  }

  /** Copy one whole frame onto another (copy_page). */
  copy(dst_pfn: number, src_pfn: number): void {
    const src1 = this.slot[src_pfn]
    if (src1 === 0) {
      this.fill(dst_pfn, 0)
      return
    }
    if (dst_pfn === src_pfn) return
    if (src1 < 0) {
      this.share(dst_pfn, this.shared[-src1 - 1]) // a copy of a shared page shares it too
      return
    }
    const src = this.slot[src_pfn] - 1
    const dst = this.backing(dst_pfn)
    const sbuf = this.peek_buf(src_pfn)
    const soff = this.peek_off(src_pfn)
    const dbuf = this.peek_buf(dst_pfn)
    const doff = this.peek_off(dst_pfn)
    if (sbuf === dbuf) dbuf.copyWithin(doff, soff, soff + PAGE_SIZE)
    else dbuf.set(sbuf.subarray(soff, soff + PAGE_SIZE), doff)
    this.ext[2 * dst] = this.ext[2 * src]
    this.ext[2 * dst + 1] = this.ext[2 * src + 1]
  }

  /** Read bytes at a physical address range that may span frames (into `out`, when given, from its start). */
  read(paddr: number, len: number, out: Uint8Array = new Uint8Array(len)): Uint8Array {
    for (let done = 0, n = 0; done < len; done += n) {
      const pa = paddr + done
      n = page_chunk(pa, len - done)
      this.copy_out(PFN_DOWN(pa), offset_in_page(pa), out, done, n)
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
