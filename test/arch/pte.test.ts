import { flags_or, type vm_flags_t, flags_union } from '../../src/include/wide.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { arch_profile } from '../../src/arch/profile.js'
import {
  _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, PAGE_COPY, PAGE_KERNEL, PAGE_NONE,
  PAGE_READONLY, PAGE_SHARED, PAGE_SHARED_EXEC, pfn_pte, protection_map, pte_dirty, pte_exec, pte_format, pte_mkclean,
  pte_mkdirty, pte_mkold, pte_mkwrite, pte_mkyoung, pte_modify, pte_pfn, pte_present, pte_protnone, pte_val_hex,
  pte_write, pte_wrprotect, pte_young, read_entry, vm_get_page_prot, VM_READ, VM_SHARED, VM_WRITE, VM_EXEC, write_entry,
  is_swap_pte, pte_swp_exclusive, pte_swp_mkexclusive, pte_swp_offset, pte_swp_type, pte_to_hw, swp_entry_to_pte, SWP_OFFSET_MAX,
  type PteLayout,
} from '../../src/arch/pte.js'

const X64 = arch_profile('x86_64')
const I386 = arch_profile('i386')
const PAE = arch_profile('i386-pae')

describe('pte encoding', () => {
  it('formats a 64-bit user pte with NX as the hardware holds it', () => {
    const v = pfn_pte(0x12345f, PAGE_SHARED) + _PAGE_DIRTY
    expect(pte_val_hex(v, 8)).toBe('0x800000012345f067')
    expect(pte_format(v, 8)).toBe('0x800000012345f067 (P RW US A D NX pfn=0x12345f)')
  })

  it('writes the real little-endian 64-bit layout into frame bytes', () => {
    const buf = new Uint8Array(16)
    write_entry(buf, 8, 8, pfn_pte(0xfffffffff, PAGE_KERNEL))
    expect(Array.from(buf.subarray(8))).toEqual([0x63, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x00, 0x80])
    expect(pte_pfn(read_entry(buf, 8, 8))).toBe(0xfffffffff)
  })

  it('i386 has 32-bit entries without NX', () => {
    const prot = vm_get_page_prot(I386, flags_or(VM_READ, VM_WRITE))
    expect(prot).toBe(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
    const v = pfn_pte(0xfffff, prot)
    expect(pte_val_hex(v, 4)).toBe('0xfffff025')
    const buf = new Uint8Array(4)
    write_entry(buf, 0, 4, v)
    expect(read_entry(buf, 0, 4)).toBe(v)
  })

  it('protection_map follows x86 (PAGE_COPY for private writable, PAGE_SHARED for shared)', () => {
    const m = protection_map(X64)
    expect(m[0]).toBe(PAGE_NONE)
    expect(m[VM_READ]).toBe(PAGE_READONLY)
    expect(m[flags_or(VM_READ, VM_WRITE)]).toBe(PAGE_COPY)
    expect(m[flags_union(VM_SHARED, VM_READ, VM_WRITE)]).toBe(PAGE_SHARED)
    expect(m[flags_union(VM_SHARED, VM_READ, VM_WRITE, VM_EXEC)]).toBe(PAGE_SHARED_EXEC)
    expect(pte_exec(pfn_pte(1, m[VM_READ]))).toBe(false)
    expect(pte_exec(pfn_pte(1, protection_map(I386)[VM_READ]))).toBe(true)
    expect(pte_exec(pfn_pte(1, protection_map(PAE)[VM_READ]))).toBe(false)
    // PROT_NONE is present to the kernel but not to the MMU
    const none = pfn_pte(5, PAGE_NONE)
    expect(pte_present(none)).toBe(true)
    expect(pte_protnone(none)).toBe(true)
    expect(none & _PAGE_PRESENT).toBe(0)
  })

  it('round-trips every profile through frame bytes with the mk/clear helpers', () => {
    for (const [arch, size, maxpfn] of [[X64, 8, 2 ** 40 - 1], [PAE, 8, 2 ** 40 - 1], [I386, 4, 2 ** 20 - 1]] as const) {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: maxpfn }), fc.integer({ min: 0, max: 15 }), fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 8 }), (pfn, vmf, ops) => {
          let v = pfn_pte(pfn, vm_get_page_prot(arch, vmf as vm_flags_t))
          let w = pte_write(v), d = pte_dirty(v), y = pte_young(v)
          for (const op of ops) {
            switch (op) {
              case 0: v = pte_mkwrite(v); w = true; break
              case 1: v = pte_wrprotect(v); w = false; break
              case 2: v = pte_mkdirty(v); d = true; break
              case 3: v = pte_mkclean(v); d = false; break
              case 4: v = pte_mkyoung(v); y = true; break
              case 5: v = pte_mkold(v); y = false; break
              case 6: v = pte_modify(v, vm_get_page_prot(arch, ((vmf + 3) & 15) as vm_flags_t)); w = pte_write(v); break
              default: break
            }
          }
          const buf = new Uint8Array(8)
          write_entry(buf, 0, size, v)
          const r = read_entry(buf, 0, size)
          expect(r).toBe(v)
          expect(pte_pfn(r)).toBe(pfn)
          expect([pte_write(r), pte_dirty(r), pte_young(r)]).toEqual([w, d, y])
          expect(r < (arch.has_nx ? 2 * _PAGE_NX : 2 ** 32)).toBe(true)
        }),
      )
    }
  })

  it('pte_modify keeps A/D and the pfn, takes RW and NX from the new prot', () => {
    const v = pte_mkdirty(pfn_pte(0x777, PAGE_SHARED_EXEC))
    const m = pte_modify(v, PAGE_READONLY)
    expect(pte_pfn(m)).toBe(0x777)
    expect(pte_dirty(m)).toBe(true)
    expect(pte_write(m)).toBe(false)
    expect(pte_exec(m)).toBe(false)
    expect(m & _PAGE_RW).toBe(0)
  })
})

describe('non-present entries', () => {
  /** Linux's x86_64/PAE swap pte: type << 59 | (~offset << 14 >> 5) (as 64-bit arithmetic). */
  const linux_swp = (type: number, offset: number, low: bigint): bigint => {
    const M = (1n << 64n) - 1n
    return ((((~BigInt(offset) & M) << 14n) & M) >> 5n) | (BigInt(type) << 59n) | low
  }
  const hw = (v: number, layout: PteLayout): bigint => {
    const [lo, hi] = pte_to_hw(v, layout)
    return (BigInt(hi) << 32n) | BigInt(lo)
  }

  it('x86_64 swap ptes hold type and inverted offset as Linux encodes them', () => {
    // Slot 0 of a swap area is its header and never holds a page, so no swap pte has offset 0
    // (swp_entry(0, 0) would read as pte_none here).
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: SWP_OFFSET_MAX - 1 }), fc.boolean(), (type, offset, ex) => {
        let v = swp_entry_to_pte(type, offset)
        if (ex) v = pte_swp_mkexclusive(v)
        expect(is_swap_pte(v)).toBe(true)
        expect(pte_present(v)).toBe(false)
        expect(hw(v, 'x86_64')).toBe(linux_swp(type, offset, ex ? 8n : 0n))
        expect(hw(v, 'pae')).toBe(linux_swp(type, offset, ex ? 0x80n : 0n))
        for (const layout of ['x86_64', 'pae'] as PteLayout[]) {
          const buf = new Uint8Array(8)
          write_entry(buf, 0, layout, v)
          const r = read_entry(buf, 0, layout)
          expect([pte_swp_type(r), pte_swp_offset(r), pte_swp_exclusive(r)]).toEqual([type, offset, ex])
        }
      }),
    )
  })

  it('i386 swap ptes: type in bits 1-5, exclusive bit 7, offset from bit 9', () => {
    const v = pte_swp_mkexclusive(swp_entry_to_pte(3, 0x12345))
    expect(pte_val_hex(v, 'i386')).toBe(`0x${((0x12345 << 9) | 0x80 | (3 << 1)).toString(16).padStart(8, '0')}`)
    const buf = new Uint8Array(4)
    write_entry(buf, 0, 'i386', v)
    expect(read_entry(buf, 0, 'i386')).toBe(v)
    expect(() => write_entry(buf, 0, 'i386', swp_entry_to_pte(0, 2 ** 23))).toThrow(/does not fit/)
  })

  it('PROT_NONE ptes keep the pfn in the value, inverted in 64-bit hardware entries (L1TF)', () => {
    const v = pfn_pte(0x1234, PAGE_NONE)
    expect(pte_pfn(v)).toBe(0x1234)
    expect(pte_val_hex(v, 'x86_64')).toBe('0x000ffffffedcb120')
    expect(pte_val_hex(v, 'pae')).toBe('0x000ffffffedcb120')
    expect(pte_val_hex(v, 'i386')).toBe('0x01234120')
    for (const layout of ['x86_64', 'pae', 'i386'] as PteLayout[]) {
      const buf = new Uint8Array(8)
      write_entry(buf, 0, layout, v)
      expect(read_entry(buf, 0, layout)).toBe(v)
    }
    expect(pte_format(v, 'x86_64')).toBe('0x000ffffffedcb120 (A PROTNONE pfn=0x1234)')
    // mprotect back: pte_modify keeps the pfn
    expect(pte_pfn(pte_modify(v, PAGE_READONLY))).toBe(0x1234)
  })
})
