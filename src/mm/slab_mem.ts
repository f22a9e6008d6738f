/**
 * Byte access to slab objects through the direct map (the `*(void **)p`
 * and memset()/memchr_inv() the slab allocators do on object memory).
 *
 * Objects are kernel virtual addresses in the direct map; their bytes live
 * in simulated frames (PhysMem), so what a caller writes into an object, and
 * the free pointers the allocator stores in free objects, stay there after
 * free exactly as in RAM. Pointers are stored little-endian in the
 * architecture's pointer width; a 64-bit pointer is kept as two 32-bit
 * halves so no BigInt is needed (addresses are signed canonical numbers).
 *
 * Invariant: a pointer-sized word accessed here never straddles a page
 * (slot strides and free pointer offsets are multiples of sizeof(void *)).
 */
import type { ArchProfile } from '../arch/profile.js'
import type { PhysMem } from '../hw/physmem.js'
import { hex_addr } from '../arch/profile.js'
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'

const TWO32 = 4294967296

export class SlabMem {
  readonly ptr_size: number
  private readonly page_offset_pfn: number

  constructor(
    readonly arch: ArchProfile,
    readonly physmem: PhysMem,
  ) {
    this.ptr_size = arch.bits === 64 ? 8 : 4
    this.page_offset_pfn = arch.PAGE_OFFSET / PAGE_SIZE
  }

  /** Kernel: virt_to_pfn() for a direct-map address. */
  pfn_of(va: number): number {
    return Math.floor(va / PAGE_SIZE) - this.page_offset_pfn
  }

  /** Read a pointer-sized word at a kernel address (signed canonical on x86_64). */
  read_ptr(va: number): number {
    const vpn = Math.floor(va / PAGE_SIZE)
    const off = va - vpn * PAGE_SIZE
    const pfn = vpn - this.page_offset_pfn
    if (this.ptr_size === 4) return this.physmem.read_u32(pfn, off)
    return this.physmem.read_s64(pfn, off)
  }

  /** Write a pointer-sized word at a kernel address. */
  write_ptr(va: number, value: number): void {
    const vpn = Math.floor(va / PAGE_SIZE)
    const off = va - vpn * PAGE_SIZE
    const pfn = vpn - this.page_offset_pfn
    if (this.ptr_size === 8) {
      const hi = Math.floor(value / TWO32)
      this.physmem.write_u64(pfn, off, value - hi * TWO32, hi)
    } else this.physmem.write_u32(pfn, off, value)
  }

  /** Read a pointer stored XORed with a 64-bit key given as halves (hardened free pointers). */
  read_ptr_xor(va: number, key_lo: number, key_hi: number): number {
    const lo = (this.read_u32(va) ^ key_lo) >>> 0
    if (this.ptr_size === 4) return lo
    const hi = this.read_u32(va + 4) ^ key_hi
    return hi * TWO32 + lo
  }

  /** Store a pointer XORed with a 64-bit key given as halves. */
  write_ptr_xor(va: number, value: number, key_lo: number, key_hi: number): void {
    if (this.ptr_size === 4) {
      this.write_u32(va, (value ^ key_lo) >>> 0)
      return
    }
    const hi = Math.floor(value / TWO32)
    const lo = value - hi * TWO32
    const vpn = Math.floor(va / PAGE_SIZE)
    this.physmem.write_u64(vpn - this.page_offset_pfn, va - vpn * PAGE_SIZE, (lo ^ key_lo) >>> 0, (hi ^ key_hi) >>> 0)
  }

  /** Read a 32-bit little-endian unsigned word (never straddles a page: 4-aligned). */
  read_u32(va: number): number {
    const vpn = Math.floor(va / PAGE_SIZE)
    const off = va - vpn * PAGE_SIZE
    return this.physmem.read_u32(vpn - this.page_offset_pfn, off)
  }

  write_u32(va: number, value: number): void {
    const vpn = Math.floor(va / PAGE_SIZE)
    const off = va - vpn * PAGE_SIZE
    this.physmem.write_u32(vpn - this.page_offset_pfn, off, value)
  }

  /** Kernel: memset() over a range that may span pages. */
  memset(va: number, value: number, len: number): void {
    for (let done = 0, n = 0; done < len; done += n) {
      const a = va + done
      n = page_chunk(a, len - done)
      this.physmem.fill(PFN_DOWN(a) - this.page_offset_pfn, value, offset_in_page(a), n)
    }
  }

  /** Kernel: memchr_inv(): address of the first byte != value in [va, va+len), or 0. */
  memchr_inv(va: number, value: number, len: number): number {
    for (let done = 0, n = 0; done < len; done += n) {
      const a = va + done
      n = page_chunk(a, len - done)
      const off = offset_in_page(a)
      const pfn = PFN_DOWN(a) - this.page_offset_pfn
      const b = this.physmem.peek_buf(pfn)
      const o = this.physmem.peek_off(pfn) + off
      for (let i = 0; i < n; i++) if (b[o + i] !== value) return a + i
    }
    return 0
  }

  /** Read bytes (copy) from a kernel range. */
  read(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len)
    for (let done = 0, n = 0; done < len; done += n) {
      const a = va + done
      const off = offset_in_page(a)
      n = page_chunk(a, len - done)
      this.physmem.copy_out(PFN_DOWN(a) - this.page_offset_pfn, off, out, done, n)
    }
    return out
  }

  /** Write bytes to a kernel range. */
  write(va: number, data: Uint8Array): void {
    for (let done = 0, n = 0; done < data.length; done += n) {
      const a = va + done
      n = page_chunk(a, data.length - done)
      this.physmem.write_at(PFN_DOWN(a) - this.page_offset_pfn, offset_in_page(a), data, done, n)
    }
  }

  /** Kernel: memcpy() between kernel ranges. */
  memcpy(dst: number, src: number, len: number): void {
    if (len > 0) this.write(dst, this.read(src, len))
  }

  /** An address as "0x%p" prints it with hashing off (slub_debug turns no_hash_pointers on). */
  p(va: number): string {
    return '0x' + hex_addr(va, this.arch.bits)
  }
  /** "%px" without the 0x. */
  px(va: number): string {
    return hex_addr(va, this.arch.bits)
  }

  /**
   * Kernel: print_hex_dump(level, prefix, DUMP_PREFIX_ADDRESS, 16, 1, addr, len, true):
   * the lines, 16 bytes each, ASCII column at 49.
   */
  hex_dump(prefix: string, va: number, len: number): string[] {
    const bytes = this.read(va, len)
    const lines: string[] = []
    for (let i = 0; i < len; i += 16) {
      const row = bytes.subarray(i, Math.min(i + 16, len))
      let hex = ''
      let ascii = ''
      for (let j = 0; j < row.length; j++) {
        hex += (j ? ' ' : '') + row[j].toString(16).padStart(2, '0')
        ascii += row[j] >= 0x20 && row[j] < 0x7f ? String.fromCharCode(row[j]) : '.'
      }
      lines.push(`${prefix}${this.px(va + i)}: ${hex.padEnd(49)}${ascii}`)
    }
    return lines
  }
}

/** Byte-swap a 32-bit value. */
function bswap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0
}

/**
 * The two 32-bit halves of the CONFIG_SLAB_FREELIST_HARDENED key for a free
 * pointer stored at `ptr_addr`: s->random ^ swab(ptr_addr) (Kernel:
 * freelist_ptr_encode()/decode()). Encoding and decoding XOR the stored
 * word with this key; the halves are kept apart because the encoded word
 * is a full 64-bit pattern a JS number cannot hold exactly.
 */
export function freelist_key(ptr_size: number, random_lo: number, random_hi: number, ptr_addr: number): [number, number] {
  if (ptr_size === 4) return [(random_lo ^ bswap32(ptr_addr >>> 0)) >>> 0, 0]
  const ahi = Math.floor(ptr_addr / TWO32)
  const alo = ptr_addr - ahi * TWO32
  return [(random_lo ^ bswap32(ahi >>> 0)) >>> 0, (random_hi ^ bswap32(alo >>> 0)) | 0]
}
