/**
 * A file's blocks on the simulated disk: what writeback wrote, kept
 * compactly. Each written 4 KiB block lives in a slot of a few large
 * ArrayBuffers (chunks of 16 blocks for a small file, doubling to 256,
 * 1 MiB) instead of an ArrayBuffer of its own: tens of thousands of blocks
 * of a big file are a few hundred buffers for the garbage collector, not
 * tens of thousands. A freed block's slot (truncate, punch) is reused by
 * the next block written.
 *
 * The interface is the part of a Map<block index, bytes> the page cache
 * uses; get() returns a view of the slot (writes through it change the
 * block), valid until the block is deleted.
 */
import { PAGE_SIZE } from '../include/page_types.js'

const FIRST_CHUNK = 16
const MAX_CHUNK = 256

/** Chunks double from FIRST_CHUNK slots to MAX_CHUNK: 16, 32, 64, 128, 256, 256, ... */
const DOUBLINGS = Math.log2(MAX_CHUNK / FIRST_CHUNK)
/** The first slot of the first MAX_CHUNK-sized chunk (16 + 32 + 64 + 128). */
const FLAT_BASE = MAX_CHUNK - FIRST_CHUNK

function chunk_slots(c: number): number {
  return c < DOUBLINGS ? FIRST_CHUNK << c : MAX_CHUNK
}

function chunk_base(c: number): number {
  return c < DOUBLINGS ? FIRST_CHUNK * ((1 << c) - 1) : FLAT_BASE + (c - DOUBLINGS) * MAX_CHUNK
}

/** The chunk holding `slot`. */
function chunk_of(slot: number): number {
  if (slot >= FLAT_BASE) return DOUBLINGS + Math.floor((slot - FLAT_BASE) / MAX_CHUNK)
  return Math.floor(Math.log2(slot / FIRST_CHUNK + 1))
}

export class DiskBlocks {
  /** Block index -> slot. */
  private readonly slots = new Map<number, number>()
  private readonly chunks: Uint8Array[] = []
  /** Slots handed out so far (the high-water mark); slots of freed blocks wait in `free`. */
  private used = 0
  private readonly free: number[] = []

  get size(): number {
    return this.slots.size
  }

  has(index: number): boolean {
    return this.slots.has(index)
  }

  keys(): IterableIterator<number> {
    return this.slots.keys()
  }

  /** The block's bytes (a view of its slot), or undefined for a block never written. */
  get(index: number): Uint8Array | undefined {
    const slot = this.slots.get(index)
    return slot === undefined ? undefined : this.view(slot)
  }

  /** The block's slot to write into, allocated if the block is new (its old bytes, if any, are still there). */
  slot_for_write(index: number): Uint8Array {
    let slot = this.slots.get(index)
    if (slot === undefined) {
      slot = this.alloc_slot()
      this.slots.set(index, slot)
    }
    return this.view(slot)
  }

  /** Store a copy of `bytes` (PAGE_SIZE of them) as the block. */
  set(index: number, bytes: Uint8Array): this {
    this.slot_for_write(index).set(bytes.subarray(0, PAGE_SIZE))
    return this
  }

  /** The block is freed: its slot goes to the next block written. */
  delete(index: number): boolean {
    const slot = this.slots.get(index)
    if (slot === undefined) return false
    this.slots.delete(index)
    this.free.push(slot)
    return true
  }

  private alloc_slot(): number {
    const reused = this.free.pop()
    if (reused !== undefined) return reused
    const slot = this.used++
    const c = chunk_of(slot)
    if (c === this.chunks.length) this.chunks.push(new Uint8Array(chunk_slots(c) * PAGE_SIZE))
    return slot
  }

  private view(slot: number): Uint8Array {
    const c = chunk_of(slot)
    const off = (slot - chunk_base(c)) * PAGE_SIZE
    return this.chunks[c].subarray(off, off + PAGE_SIZE)
  }
}
