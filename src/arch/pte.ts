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
 *   pte_mkold, pte_mkexec, pte_mkspecial, pte_mkhuge, pte_modify, pte_set_flags, pte_clear_flags,
 *   pgprot_noncached, pgprot_modify_nx
 *   PteLayout ('x86_64' | 'pae' | 'i386'), pte_layout(arch); layout arguments also take 8 / 4
 *   read_entry(buf, offset, layout) / write_entry(buf, offset, layout, val),
 *   pte_to_hw(val, layout) -> [lo, hi] / pte_from_hw(lo, hi, layout), pte_hw_pfn(lo, hi) (present entries)
 *   pte_val_hex(val, layout), pte_format(val, layout, leaf?), pte_flag_names(val, leaf?)
 *   swap entries: is_swap_pte, swp_entry_to_pte(type, offset), pte_swp_type, pte_swp_offset,
 *     _PAGE_SWP_EXCLUSIVE, pte_swp_exclusive/mkexclusive/clear_exclusive, SWP_TYPE_BITS
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { flags_and, flags_union, type vm_flags_t } from '../include/wide.js'
import { KernelBug } from '../include/bug.js'
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

/** vm_flags bits protection_map is indexed by (include/linux/mm.h; src/mm/mm_types.ts has them all). */
export const VM_READ = 0x1 as vm_flags_t
export const VM_WRITE = 0x2 as vm_flags_t
export const VM_EXEC = 0x4 as vm_flags_t
export const VM_SHARED = 0x8 as vm_flags_t
const PROTECTION_MAP_INDEX = flags_union(VM_READ, VM_WRITE, VM_EXEC, VM_SHARED)

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
export function vm_get_page_prot(arch: ArchProfile, vm_flags: vm_flags_t): PgProt {
  return protection_map(arch)[flags_and(vm_flags, PROTECTION_MAP_INDEX)]
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
 * The in-memory layout of entries: 'x86_64' (64-bit, NX, inverted PFN of
 * non-present entries, swap type in bits 59-63), 'pae' (the same 64-bit
 * format; the swap exclusive marker is bit 7), 'i386' (32-bit, no NX, no
 * PFN inversion). A bare entry size means 8 = 'x86_64', 4 = 'i386'.
 */
export type PteLayout = 'x86_64' | 'pae' | 'i386'
export type PteLayoutArg = PteLayout | 4 | 8

/** The layout of a profile's entries. */
export function pte_layout(arch: ArchProfile): PteLayout {
  return arch.pte_size === 4 ? 'i386' : arch.name === 'x86_64' ? 'x86_64' : 'pae'
}
function layout_of(l: PteLayoutArg): PteLayout {
  return l === 4 ? 'i386' : l === 8 ? 'x86_64' : l
}

/*
 * Non-present entries. A PROT_NONE entry (PROTNONE set, P clear) keeps its
 * PFN in a PteVal, but 64-bit hardware entries hold it inverted (the L1TF
 * mitigation: protnone_mask(), arch/x86/include/asm/pgtable-invert.h).
 * Any other non-none, non-present entry is a swap entry (swap, migration,
 * hwpoison, marker). Its PteVal layout, the same for every profile:
 *   bit 1 _PAGE_SWP_SOFT_DIRTY (0: not configured), bit 2 _PAGE_SWP_UFFD_WP,
 *   bit 3 _PAGE_SWP_EXCLUSIVE, bits 9-13 type (MAX_SWAPFILES_SHIFT 5),
 *   bits 14-51 offset (< 2^38 pages).
 * Hardware layouts (pgtable_64.h, pgtable-3level.h, pgtable-2level.h):
 *   x86_64: type in 59-63, ~offset in 9-58, E bit 3, F bit 2, SD bit 1;
 *   pae:    type in 59-63, ~offset in 9-58, E bit 7;
 *   i386:   type in 1-5, E bit 7, offset in 9-31.
 */
/** Kernel: SWP_TYPE_BITS / MAX_SWAPFILES_SHIFT. */
export const SWP_TYPE_BITS = 5
/** Logical position of the swap type and offset in a PteVal. */
const SWP_TYPE_SHIFT_V = 2 ** 9
const SWP_OFFSET_SHIFT_V = 2 ** 14
/** Swap offsets a PteVal can carry (2^38 pages = 1 PiB of swap). */
export const SWP_OFFSET_MAX = 2 ** 38
/** Kernel: _PAGE_SWP_EXCLUSIVE (x86_64 bit 3; stored at bit 7 on 32-bit). */
export const _PAGE_SWP_EXCLUSIVE = _PAGE_PWT
/** Kernel: _PAGE_SWP_UFFD_WP (bit 2, x86_64 only). */
export const _PAGE_SWP_UFFD_WP = _PAGE_USER
/** Kernel: _PAGE_SWP_SOFT_DIRTY (CONFIG_MEM_SOFT_DIRTY off: 0). */
export const _PAGE_SWP_SOFT_DIRTY = 0
const PFN_FIELD = 2 ** 40 // PFN bits 12..51 of 64-bit entries
const OFF_FIELD = 2 ** 50 // swap offset bits 9..58 of 64-bit entries

/** Kernel: is_swap_pte(): not none and not present. */
export function is_swap_pte(pte: PteVal): boolean {
  return pte !== 0 && (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0
}
/** Kernel: __swp_entry_to_pte(__swp_entry(type, offset)). */
export function swp_entry_to_pte(type: number, offset: number): PteVal {
  return type * SWP_TYPE_SHIFT_V + offset * SWP_OFFSET_SHIFT_V
}
/** Kernel: __swp_type(__pte_to_swp_entry(pte)). */
export function pte_swp_type(pte: PteVal): number {
  return Math.floor(pte / SWP_TYPE_SHIFT_V) % 2 ** SWP_TYPE_BITS
}
/** Kernel: __swp_offset(__pte_to_swp_entry(pte)). */
export function pte_swp_offset(pte: PteVal): number {
  return Math.floor(pte / SWP_OFFSET_SHIFT_V)
}
/** Kernel: pte_swp_exclusive(). */
export function pte_swp_exclusive(pte: PteVal): boolean {
  return (pte & _PAGE_SWP_EXCLUSIVE) !== 0
}
/** Kernel: pte_swp_mkexclusive(). */
export function pte_swp_mkexclusive(pte: PteVal): PteVal {
  return set_flags(pte, _PAGE_SWP_EXCLUSIVE)
}
/** Kernel: pte_swp_clear_exclusive(). */
export function pte_swp_clear_exclusive(pte: PteVal): PteVal {
  return clear_flags(pte, _PAGE_SWP_EXCLUSIVE)
}

/** The two 32-bit halves the hardware holds for a PteVal (hi is 0 for 32-bit layouts). */
export function pte_to_hw(val: PteVal, layout: PteLayoutArg): [lo: number, hi: number] {
  const lay = layout_of(layout)
  const low = val & LOW_FLAGS
  if (val === 0 || (low & _PAGE_PRESENT) !== 0) {
    // present (or none): PFN as is, NX at bit 63
    const nx = val >= _PAGE_NX
    const v = nx ? val - _PAGE_NX : val
    if (lay === 'i386') return [v % TWO32, 0]
    return [v % TWO32, Math.floor(v / TWO32) + (nx ? 0x80000000 : 0)]
  }
  if (low & _PAGE_PROTNONE) {
    const nx = val >= _PAGE_NX
    const v = nx ? val - _PAGE_NX : val
    if (lay === 'i386') return [v % TWO32, 0]
    const inv = (PFN_FIELD - 1 - pte_pfn(v)) * PAGE_SIZE + low // protnone_mask(): PFN bits inverted
    return [inv % TWO32, Math.floor(inv / TWO32) + (nx ? 0x80000000 : 0)]
  }
  // swap entry
  const type = pte_swp_type(val)
  const offset = pte_swp_offset(val)
  const e = (low & _PAGE_SWP_EXCLUSIVE) !== 0
  if (lay === 'i386') {
    if (low & (_PAGE_SWP_UFFD_WP | 0x2)) throw new KernelBug(`pte_to_hw: swap flags 0x${low.toString(16)} do not exist on i386`)
    if (offset >= 2 ** 23) throw new KernelBug(`pte_to_hw: swap offset 0x${offset.toString(16)} does not fit an i386 swap pte`)
    return [(offset * 512 + (e ? 0x80 : 0) + type * 2) % TWO32, 0]
  }
  const field = OFF_FIELD - 1 - offset // ~offset in bits 9..58
  const lo_flags = lay === 'x86_64' ? low & 0x0e : e ? 0x80 : 0
  const lo = (field % 2 ** 23) * 512 + lo_flags
  const hi = Math.floor(field / 2 ** 23) + type * 2 ** 27
  return [lo, hi]
}

/** The PteVal of the hardware halves (inverse of pte_to_hw). */
export function pte_from_hw(lo: number, hi: number, layout: PteLayoutArg): PteVal {
  const lay = layout_of(layout)
  if ((lo & _PAGE_PRESENT) !== 0 || (lo === 0 && hi === 0)) {
    if (lay === 'i386') return lo
    // hardware bits 32..51 are PFN bits; bit 63 is NX; bits 52..62 (software/pkeys) are never set here.
    return (hi & 0xfffff) * TWO32 + lo + (hi >= 0x80000000 ? _PAGE_NX : 0)
  }
  if ((lo & _PAGE_PROTNONE) !== 0) {
    if (lay === 'i386') return lo
    const raw = (hi & 0xfffff) * TWO32 + lo
    const pfn = PFN_FIELD - 1 - Math.floor(raw / PAGE_SIZE)
    return pfn * PAGE_SIZE + (lo & LOW_FLAGS) + (hi >= 0x80000000 ? _PAGE_NX : 0)
  }
  if (lay === 'i386') {
    const type = (lo >>> 1) & 0x1f
    const offset = lo >>> 9
    return swp_entry_to_pte(type, offset) + (lo & 0x80 ? _PAGE_SWP_EXCLUSIVE : 0)
  }
  const type = hi >>> 27
  const field = (hi & 0x7ffffff) * 2 ** 23 + (lo >>> 9)
  const offset = OFF_FIELD - 1 - field
  if (offset >= SWP_OFFSET_MAX) throw new KernelBug(`pte_from_hw: swap offset 0x${offset.toString(16)} beyond what mmsim encodes`)
  const flags = lay === 'x86_64' ? lo & 0x0e : lo & 0x80 ? _PAGE_SWP_EXCLUSIVE : 0
  return swp_entry_to_pte(type, offset) + flags
}

/**
 * Read one entry from a table frame's bytes (little endian, 4 or 8 bytes).
 * Kernel counterpart: READ_ONCE(*ptep) / native_pte_val().
 */
export function read_entry(buf: Uint8Array, offset: number, layout: PteLayoutArg): PteVal {
  const lo = (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0
  if (layout === 4 || layout === 'i386') return entry_from_halves(lo, 0, layout)
  const hi = (buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24)) >>> 0
  return entry_from_halves(lo, hi, layout)
}

/** read_entry() of an entry already read as its two 32-bit halves (`hi` unused for 4-byte layouts). */
export function entry_from_halves(lo: number, hi: number, layout: PteLayoutArg): PteVal {
  if (layout === 4 || layout === 'i386') {
    if ((lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0 || lo === 0) return lo
    return pte_from_hw(lo, 0, 'i386')
  }
  if ((lo & _PAGE_PRESENT) !== 0) return (hi & 0xfffff) * TWO32 + lo + (hi >= 0x80000000 ? _PAGE_NX : 0)
  return pte_from_hw(lo, hi, layout)
}

/**
 * pte_pfn() of a present entry (P set), given as its hardware halves: lo =
 * bits 0..31, hi = bits 32..63 (0 for a 4-byte entry). For loops over a
 * whole table that read the halves (PhysMem.peek_view) and test the flags
 * on lo, which holds the PteVal's low 32 bits: no PteVal is built (building
 * one and taking its PFN back is a third of smaps' page loop). A PROT_NONE
 * entry (P clear; its PFN inverted on 64-bit layouts) needs pte_from_hw().
 */
export function pte_hw_pfn(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12)
}

/**
 * Write one entry into a table frame's bytes in the real hardware layout.
 * Kernel: WRITE_ONCE(*ptep, pte). A 4-byte (i386) entry has no NX bit: it is
 * dropped, as _PAGE_NX is 0 there and massage_pgprot() would have dropped it.
 */
export function write_entry(buf: Uint8Array, offset: number, layout: PteLayoutArg, val: PteVal): void {
  let lo: number
  let hi: number
  if (val === 0 || (val & _PAGE_PRESENT) !== 0) {
    // Present (or none): the PFN as is, NX at bit 63 — the common case, without pte_to_hw()'s array.
    const nx = val >= _PAGE_NX
    const v = nx ? val - _PAGE_NX : val
    lo = v >>> 0 // v mod 2^32, exact below 2^53 (no fmod)
    hi = layout === 4 || layout === 'i386' ? 0 : Math.floor(v / TWO32) + (nx ? 0x80000000 : 0)
  } else {
    ;[lo, hi] = pte_to_hw(val, layout)
  }
  buf[offset] = lo & 0xff
  buf[offset + 1] = (lo >>> 8) & 0xff
  buf[offset + 2] = (lo >>> 16) & 0xff
  buf[offset + 3] = (lo >>> 24) & 0xff
  if (layout === 4 || layout === 'i386') return
  buf[offset + 4] = hi & 0xff
  buf[offset + 5] = (hi >>> 8) & 0xff
  buf[offset + 6] = (hi >>> 16) & 0xff
  buf[offset + 7] = (hi >>> 24) & 0xff
}

/** The entry as the hardware holds it, in hex with 0x (16 digits for 8-byte entries, 8 for 4-byte). */
export function pte_val_hex(val: PteVal, layout: PteLayoutArg): string {
  const [lo, hi] = pte_to_hw(val, layout)
  if (layout === 4 || layout === 'i386') return '0x' + lo.toString(16).padStart(8, '0')
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
export function pte_format(val: PteVal, layout: PteLayoutArg, leaf = true): string {
  if (val === 0) return `${pte_val_hex(0, layout)} (none)`
  if (is_swap_pte(val)) {
    const ex = pte_swp_exclusive(val) ? ' exclusive' : ''
    return `${pte_val_hex(val, layout)} (swap type=${pte_swp_type(val)} offset=0x${pte_swp_offset(val).toString(16)}${ex})`
  }
  const names = pte_flag_names(val, leaf)
  names.push(`pfn=0x${pte_pfn(val).toString(16)}`)
  return `${pte_val_hex(val, layout)} (${names.join(' ')})`
}

/** Kernel: pte_set_flags(): set flag bits (low 12 bits) of an entry. */
export function pte_set_flags(pte: PteVal, f: number): PteVal {
  return set_flags(pte, f)
}
/** Kernel: pte_clear_flags(): clear flag bits (low 12 bits) of an entry. */
export function pte_clear_flags(pte: PteVal, f: number): PteVal {
  return clear_flags(pte, f)
}
