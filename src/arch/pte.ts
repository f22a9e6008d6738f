/**
 * x86 page-table entry formats (Kernel: arch/x86/include/asm/pgtable_types.h,
 * arch/x86/include/asm/pgtable.h, arch/x86/mm/pgprot.c).
 *
 * Entry layout (the same low bits on every profile):
 *   bit 0 P (present)   1 RW   2 US (user)   3 PWT   4 PCD   5 A (accessed)
 *   6 D (dirty)   7 PSE on pmd/pud entries, PAT on 4 KiB ptes   8 G (global)
 *   9 SOFTW1 = _PAGE_SPECIAL   10 SOFTW2 = _PAGE_UFFD_WP   11 SOFTW3 = _PAGE_SOFT_DIRTY
 *   (CONFIG_MEM_SOFT_DIRTY is off here, so _PAGE_SOFT_DIRTY is 0 as Linux makes it)
 *   12..51 PFN (x86_64 and i386-pae; i386 has 12..31)   63 NX (x86_64, i386-pae)
 *   When P is clear, bit 8 is _PAGE_PROTNONE: a PROT_NONE mapping that
 *   pte_present() still reports present (Linux's trick).
 *
 * Representation (`PteVal`, a plain JS number, exact): hardware bits 0..51
 * are the number's bits 0..51; the NX bit (hardware bit 63) is carried at bit
 * 52 of the number (value 2^52). Every entry is then an exact integer below
 * 2^53 and no BigInt is needed. `read_entry`/`write_entry` convert to and from
 * the real in-memory 64-bit little-endian layout, so frame bytes hold exactly
 * what a real x86 MMU would read. Bitwise ops on a PteVal are exact for the
 * low 32 bits (ToInt32 is modulo 2^32), which is where every flag lives; the
 * PFN and NX are handled arithmetically. i386 (non-PAE) entries are 32-bit
 * and never have NX.
 *
 * API (stable; used by src/mm/pgtable.ts and the address-space code):
 *   flag constants _PAGE_PRESENT.._PAGE_NX, _PAGE_PROTNONE, _PAGE_SPECIAL,
 *     _PAGE_TABLE, _KERNPG_TABLE, _PAGE_CHG_MASK
 *   _PAGE_NOCACHE; pgprot values PAGE_NONE, PAGE_SHARED(_EXEC), PAGE_COPY(_EXEC|_NOEXEC),
 *     PAGE_READONLY(_EXEC), PAGE_KERNEL(_RO|_EXEC|_RX|_NOCACHE|_IO), PAGE_KERNEL_LARGE
 *   protection_map(arch) (16 entries indexed by VM_READ|VM_WRITE|VM_EXEC|VM_SHARED),
 *   vm_get_page_prot(arch, vm_flags), arch_filter_pgprot(arch, prot)
 *   pfn_pte, pte_pfn, pte_pgprot, pte_flags, pte_none, pte_present, pte_protnone,
 *   pte_write, pte_dirty, pte_young, pte_exec, pte_user, pte_global, pte_special,
 *   pte_huge, pte_mkwrite, pte_wrprotect, pte_mkdirty, pte_mkclean, pte_mkyoung,
 *   pte_mkold, pte_mkexec, pte_mkspecial, pte_mkhuge, pte_modify,
 *   pgprot_noncached, pgprot_modify_nx
 *   read_entry(buf, offset, size) / write_entry(buf, offset, size, val)
 *   pte_val_hex(val, size), pte_format(val, size), pte_flag_names(val)
 */
import type { ArchProfile } from './profile.js'

/** A page-table entry value (pteval_t / pmdval_t / pudval_t / pgdval_t); see the top of the file. */
export type PteVal = number
/** A protection value (pgprot_t): flag bits only, no PFN. */
export type PgProt = number

export const _PAGE_BIT_PRESENT = 0
export const _PAGE_BIT_RW = 1
export const _PAGE_BIT_USER = 2
export const _PAGE_BIT_PWT = 3
export const _PAGE_BIT_PCD = 4
export const _PAGE_BIT_ACCESSED = 5
export const _PAGE_BIT_DIRTY = 6
export const _PAGE_BIT_PSE = 7
export const _PAGE_BIT_PAT = 7
export const _PAGE_BIT_GLOBAL = 8
export const _PAGE_BIT_SOFTW1 = 9
export const _PAGE_BIT_SOFTW2 = 10
export const _PAGE_BIT_SOFTW3 = 11
export const _PAGE_BIT_SPECIAL = _PAGE_BIT_SOFTW1
export const _PAGE_BIT_UFFD_WP = _PAGE_BIT_SOFTW2
export const _PAGE_BIT_SOFT_DIRTY = _PAGE_BIT_SOFTW3
export const _PAGE_BIT_NX = 63
export const _PAGE_BIT_PROTNONE = _PAGE_BIT_GLOBAL

export const _PAGE_PRESENT = 0x001
export const _PAGE_RW = 0x002
export const _PAGE_USER = 0x004
export const _PAGE_PWT = 0x008
export const _PAGE_PCD = 0x010
export const _PAGE_ACCESSED = 0x020
export const _PAGE_DIRTY = 0x040
export const _PAGE_PSE = 0x080
export const _PAGE_PAT = 0x080
export const _PAGE_GLOBAL = 0x100
export const _PAGE_SOFTW1 = 0x200
export const _PAGE_SOFTW2 = 0x400
export const _PAGE_SOFTW3 = 0x800
export const _PAGE_SPECIAL = _PAGE_SOFTW1
export const _PAGE_UFFD_WP = _PAGE_SOFTW2
/** CONFIG_MEM_SOFT_DIRTY is not set: Linux defines the flag as 0. */
export const _PAGE_SOFT_DIRTY = 0
export const _PAGE_PROTNONE = _PAGE_GLOBAL
/** NX as carried in a PteVal (hardware bit 63 lives at 2^52 of the number). */
export const _PAGE_NX = 2 ** 52

/** Mask of the flag bits in the low 12 bits. */
const LOW_FLAGS = 0xfff
const PAGE_SIZE = 4096
const TWO32 = 2 ** 32

/** Kernel: _PAGE_TABLE: entry pointing at a user page table. */
export const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY
/** Kernel: _KERNPG_TABLE: entry pointing at a kernel-only page table. */
export const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY
/** Kernel: _PAGE_CHG_MASK: bits pte_modify() keeps (besides the PFN). */
export const _PAGE_CHG_MASK = _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_UFFD_WP

export const PAGE_NONE: PgProt = _PAGE_PROTNONE | _PAGE_ACCESSED
export const PAGE_SHARED: PgProt = _PAGE_PRESENT + _PAGE_RW + _PAGE_USER + _PAGE_ACCESSED + _PAGE_NX
export const PAGE_SHARED_EXEC: PgProt = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED
export const PAGE_COPY_NOEXEC: PgProt = _PAGE_PRESENT + _PAGE_USER + _PAGE_ACCESSED + _PAGE_NX
export const PAGE_COPY_EXEC: PgProt = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED
export const PAGE_COPY: PgProt = PAGE_COPY_NOEXEC
export const PAGE_READONLY: PgProt = _PAGE_PRESENT + _PAGE_USER + _PAGE_ACCESSED + _PAGE_NX
export const PAGE_READONLY_EXEC: PgProt = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED

const __PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_GLOBAL
/** Kernel: PAGE_KERNEL (vmalloc, kmap, the direct map). */
export const PAGE_KERNEL: PgProt = __PAGE_KERNEL_EXEC + _PAGE_NX
export const PAGE_KERNEL_EXEC: PgProt = __PAGE_KERNEL_EXEC
export const PAGE_KERNEL_RO: PgProt = PAGE_KERNEL - _PAGE_RW
export const PAGE_KERNEL_RX: PgProt = __PAGE_KERNEL_EXEC & ~_PAGE_RW
/** Kernel: _PAGE_NOCACHE = cachemode2protval(_PAGE_CACHE_MODE_UC): PCD|PWT with the default PAT. */
export const _PAGE_NOCACHE = _PAGE_PCD | _PAGE_PWT
/** Kernel: PAGE_KERNEL_NOCACHE (UC). */
export const PAGE_KERNEL_NOCACHE: PgProt = PAGE_KERNEL + _PAGE_NOCACHE
export const PAGE_KERNEL_IO: PgProt = PAGE_KERNEL
export const PAGE_KERNEL_IO_NOCACHE: PgProt = PAGE_KERNEL_NOCACHE
export const PAGE_KERNEL_LARGE: PgProt = PAGE_KERNEL + _PAGE_PSE
export const PAGE_KERNEL_LARGE_EXEC: PgProt = __PAGE_KERNEL_EXEC | _PAGE_PSE

/** vm_flags bits protection_map is indexed by (include/linux/mm.h). */
export const VM_READ = 0x1
export const VM_WRITE = 0x2
export const VM_EXEC = 0x4
export const VM_SHARED = 0x8

/**
 * Kernel: arch_filter_pgprot() / __supported_pte_mask: drop NX where the
 * profile has no NX bit (i386 without PAE).
 */
export function arch_filter_pgprot(arch: ArchProfile, prot: PgProt): PgProt {
  return !arch.has_nx && prot >= _PAGE_NX ? prot - _PAGE_NX : prot
}

const PROTECTION_MAP_X86: readonly PgProt[] = [
  PAGE_NONE, // ---p
  PAGE_READONLY, // r--p
  PAGE_COPY, // -w-p
  PAGE_COPY, // rw-p
  PAGE_READONLY_EXEC, // --xp
  PAGE_READONLY_EXEC, // r-xp
  PAGE_COPY_EXEC, // -wxp
  PAGE_COPY_EXEC, // rwxp
  PAGE_NONE, // ---s
  PAGE_READONLY, // r--s
  PAGE_SHARED, // -w-s
  PAGE_SHARED, // rw-s
  PAGE_READONLY_EXEC, // --xs
  PAGE_READONLY_EXEC, // r-xs
  PAGE_SHARED_EXEC, // -wxs
  PAGE_SHARED_EXEC, // rwxs
]
const protection_maps = new Map<string, readonly PgProt[]>()

/** Kernel: protection_map[16], arch/x86/mm/pgprot.c (index = vm_flags & (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)). */
export function protection_map(arch: ArchProfile): readonly PgProt[] {
  let m = protection_maps.get(arch.name)
  if (m === undefined) {
    m = PROTECTION_MAP_X86.map((p) => arch_filter_pgprot(arch, p))
    protection_maps.set(arch.name, m)
  }
  return m
}

/** Kernel: vm_get_page_prot(), arch/x86/mm/pgprot.c (no protection keys). */
export function vm_get_page_prot(arch: ArchProfile, vm_flags: number): PgProt {
  return protection_map(arch)[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)]
}

/** Kernel: pfn_pte() (also pfn_pmd()/mk_pte()): an entry mapping `pfn` with `prot`. */
export function pfn_pte(pfn: number, prot: PgProt): PteVal {
  return pfn * PAGE_SIZE + prot
}

/** Kernel: pte_pfn(). */
export function pte_pfn(pte: PteVal): number {
  return Math.floor((pte >= _PAGE_NX ? pte - _PAGE_NX : pte) / PAGE_SIZE)
}

/** Kernel: pte_flags(): the flag bits (low 12 plus NX). */
export function pte_flags(pte: PteVal): PgProt {
  return (pte & LOW_FLAGS) + (pte >= _PAGE_NX ? _PAGE_NX : 0)
}
/** Kernel: pte_pgprot(). */
export const pte_pgprot = pte_flags

/** Kernel: pte_none(). */
export function pte_none(pte: PteVal): boolean {
  return pte === 0
}
/** Kernel: pte_present(): P or PROTNONE (a PROT_NONE mapping is present to the kernel). */
export function pte_present(pte: PteVal): boolean {
  return (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0
}
/** Kernel: pte_protnone(). */
export function pte_protnone(pte: PteVal): boolean {
  return (pte & (_PAGE_PROTNONE | _PAGE_PRESENT)) === _PAGE_PROTNONE
}
/** Kernel: pte_write(). */
export function pte_write(pte: PteVal): boolean {
  return (pte & _PAGE_RW) !== 0
}
/** Kernel: pte_dirty(). */
export function pte_dirty(pte: PteVal): boolean {
  return (pte & _PAGE_DIRTY) !== 0
}
/** Kernel: pte_young(). */
export function pte_young(pte: PteVal): boolean {
  return (pte & _PAGE_ACCESSED) !== 0
}
/** Kernel: pte_exec(): NX clear. */
export function pte_exec(pte: PteVal): boolean {
  return pte < _PAGE_NX
}
/** User-accessible (US bit). */
export function pte_user(pte: PteVal): boolean {
  return (pte & _PAGE_USER) !== 0
}
/** Kernel: pte_global(). */
export function pte_global(pte: PteVal): boolean {
  return (pte & _PAGE_GLOBAL) !== 0 && (pte & _PAGE_PRESENT) !== 0
}
/** Kernel: pte_special(). */
export function pte_special(pte: PteVal): boolean {
  return (pte & _PAGE_SPECIAL) !== 0
}
/** Kernel: pte_huge() / pmd_leaf() on a pmd/pud entry: PSE set. */
export function pte_huge(pte: PteVal): boolean {
  return (pte & _PAGE_PSE) !== 0
}

function set_flags(pte: PteVal, f: number): PteVal {
  return pte + (f & ~(pte & LOW_FLAGS) & LOW_FLAGS)
}
function clear_flags(pte: PteVal, f: number): PteVal {
  return pte - (pte & f & LOW_FLAGS)
}

/** Kernel: pte_mkwrite() (no shadow stacks: just RW). */
export function pte_mkwrite(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_RW)
}
/** Kernel: pte_wrprotect(). */
export function pte_wrprotect(pte: PteVal): PteVal {
  return clear_flags(pte, _PAGE_RW)
}
/** Kernel: pte_mkdirty() (sets D; soft-dirty is compiled out). */
export function pte_mkdirty(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_DIRTY | _PAGE_SOFT_DIRTY)
}
/** Kernel: pte_mkclean(). */
export function pte_mkclean(pte: PteVal): PteVal {
  return clear_flags(pte, _PAGE_DIRTY)
}
/** Kernel: pte_mkyoung(). */
export function pte_mkyoung(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_ACCESSED)
}
/** Kernel: pte_mkold(). */
export function pte_mkold(pte: PteVal): PteVal {
  return clear_flags(pte, _PAGE_ACCESSED)
}
/** Kernel: pte_mkexec(): clear NX. */
export function pte_mkexec(pte: PteVal): PteVal {
  return pte >= _PAGE_NX ? pte - _PAGE_NX : pte
}
/** Kernel: pte_mkspecial(). */
export function pte_mkspecial(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_SPECIAL)
}
/** Kernel: pte_mkhuge() / pmd_mkhuge(). */
export function pte_mkhuge(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_PSE)
}

/**
 * Kernel: pte_modify(): keep the PFN and the _PAGE_CHG_MASK bits (A, D, special,
 * cache bits), take every other bit, NX included, from `newprot`.
 */
export function pte_modify(pte: PteVal, newprot: PgProt): PteVal {
  const pfn = pte_pfn(pte)
  const low = (pte & _PAGE_CHG_MASK) | (newprot & LOW_FLAGS & ~_PAGE_CHG_MASK)
  return pfn * PAGE_SIZE + low + (newprot >= _PAGE_NX ? _PAGE_NX : 0)
}

/** Kernel: pgprot_noncached() on x86: UC- (cachemode2protval(_PAGE_CACHE_MODE_UC_MINUS) = PCD). */
export function pgprot_noncached(prot: PgProt): PgProt {
  return set_flags(prot, _PAGE_PCD)
}

/** Set or clear NX in a protection value as the profile allows. */
export function pgprot_modify_nx(arch: ArchProfile, prot: PgProt, nx: boolean): PgProt {
  const base = prot >= _PAGE_NX ? prot - _PAGE_NX : prot
  return nx && arch.has_nx ? base + _PAGE_NX : base
}

/**
 * Read one entry from a table frame's bytes (little endian, 4 or 8 bytes).
 * Kernel counterpart: READ_ONCE(*ptep) / native_pte_val().
 */
export function read_entry(buf: Uint8Array, offset: number, size: 4 | 8): PteVal {
  const lo = (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0
  if (size === 4) return lo
  const hi = (buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24)) >>> 0
  // hardware bits 32..51 are PFN bits; bit 63 is NX; bits 52..62 (software/pkeys) are never set here.
  return (hi & 0xfffff) * TWO32 + lo + (hi >= 0x80000000 ? _PAGE_NX : 0)
}

/**
 * Write one entry into a table frame's bytes in the real hardware layout.
 * Kernel: WRITE_ONCE(*ptep, pte). A 4-byte (i386) entry has no NX bit: it is
 * dropped, as _PAGE_NX is 0 there and massage_pgprot() would have dropped it.
 */
export function write_entry(buf: Uint8Array, offset: number, size: 4 | 8, val: PteVal): void {
  const nx = val >= _PAGE_NX
  const v = nx ? val - _PAGE_NX : val
  const lo = v % TWO32
  buf[offset] = lo & 0xff
  buf[offset + 1] = (lo >>> 8) & 0xff
  buf[offset + 2] = (lo >>> 16) & 0xff
  buf[offset + 3] = (lo >>> 24) & 0xff
  if (size === 4) return
  const hi = Math.floor(v / TWO32) + (nx ? 0x80000000 : 0)
  buf[offset + 4] = hi & 0xff
  buf[offset + 5] = (hi >>> 8) & 0xff
  buf[offset + 6] = (hi >>> 16) & 0xff
  buf[offset + 7] = (hi >>> 24) & 0xff
}

/** The entry as the hardware holds it, in hex with 0x (16 digits for 8-byte entries, 8 for 4-byte). */
export function pte_val_hex(val: PteVal, size: 4 | 8): string {
  const nx = val >= _PAGE_NX
  const v = nx ? val - _PAGE_NX : val
  if (size === 4) return '0x' + v.toString(16).padStart(8, '0')
  const hi = Math.floor(v / TWO32) + (nx ? 0x80000000 : 0)
  const lo = v % TWO32
  return '0x' + hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0')
}

/**
 * Names of the set flags, hardware order, for teaching output. A non-present
 * entry with PROTNONE shows PROTNONE instead of G; "huge" marks PSE on
 * upper-level entries (pass `leaf=false`); on a 4 KiB pte bit 7 is PAT.
 */
export function pte_flag_names(val: PteVal, leaf = true): string[] {
  const out: string[] = []
  const f = val & LOW_FLAGS
  if (f & _PAGE_PRESENT) out.push('P')
  if (f & _PAGE_RW) out.push('RW')
  if (f & _PAGE_USER) out.push('US')
  if (f & _PAGE_PWT) out.push('PWT')
  if (f & _PAGE_PCD) out.push('PCD')
  if (f & _PAGE_ACCESSED) out.push('A')
  if (f & _PAGE_DIRTY) out.push('D')
  if (f & _PAGE_PSE) out.push(leaf ? 'PAT' : 'PS')
  if (f & _PAGE_GLOBAL) out.push(f & _PAGE_PRESENT ? 'G' : 'PROTNONE')
  if (f & _PAGE_SPECIAL) out.push('SPECIAL')
  if (f & _PAGE_UFFD_WP) out.push('UFFD_WP')
  if (f & _PAGE_SOFTW3) out.push('SOFTW3')
  if (val >= _PAGE_NX) out.push('NX')
  return out
}

/**
 * Teaching format of an entry: hex as the hardware holds it plus decoded
 * flags, e.g. "0x800000012345f067 (P RW US A D NX pfn=0x12345)"; "0x0000000000000000 (none)".
 */
export function pte_format(val: PteVal, size: 4 | 8, leaf = true): string {
  if (val === 0) return `${pte_val_hex(0, size)} (none)`
  const names = pte_flag_names(val, leaf)
  names.push(`pfn=0x${pte_pfn(val).toString(16)}`)
  return `${pte_val_hex(val, size)} (${names.join(' ')})`
}
