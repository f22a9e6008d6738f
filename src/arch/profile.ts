/**
 * Paging geometry and memory layout per architecture profile.
 *
 * Addresses are plain numbers, exact for every profile: x86_64 kernel
 * addresses (0xffff8880_00000000 and up) are kept as *signed canonical*
 * values, i.e. sign-extended from bit 47, which puts them in
 * [-2^47, 0) and far inside the 2^53 range of exact integers. User
 * addresses are [0, TASK_SIZE). i386 addresses are unsigned 32-bit values.
 * Never use JS bitwise operators on a whole address: they truncate to 32
 * bits. Work on page numbers (address / PAGE_SIZE) instead.
 */

export type ArchName = 'x86_64' | 'i386' | 'i386-pae'

/** Zone indices in the kernel's enum zone_type order for the profile. */
export interface ZoneLayout {
  /** Zone names in enum order, e.g. ['DMA', 'DMA32', 'Normal', 'Movable', 'Device']. */
  readonly names: readonly string[]
  /** Exclusive upper PFN limit of each zone (Infinity: up to the end of RAM; 0: never populated). */
  readonly max_pfn: readonly number[]
  readonly ZONE_DMA: number
  /** -1 when the profile has no ZONE_DMA32 (i386). */
  readonly ZONE_DMA32: number
  readonly ZONE_NORMAL: number
  /** -1 when the profile has no ZONE_HIGHMEM (x86_64). */
  readonly ZONE_HIGHMEM: number
  readonly ZONE_MOVABLE: number
}

export interface ArchProfile {
  readonly name: ArchName
  /** uname -m. */
  readonly machine: string
  readonly bits: 32 | 64
  readonly PAGE_SHIFT: 12
  readonly PAGE_SIZE: 4096
  /** Page-table levels actually present (folded levels excluded). */
  readonly levels: 2 | 3 | 4
  /** Bytes per page-table entry. */
  readonly pte_size: 4 | 8
  /** Shift of each present level, from the top (pgd) down to the pte level. */
  readonly level_shifts: readonly number[]
  /** Entries per table at each present level, top down. */
  readonly level_entries: readonly number[]
  /** Kernel names of the present levels, top down (folded p4d/pud/pmd omitted). */
  readonly level_names: readonly string[]
  /** Largest physical address + 1 the profile can address. */
  readonly max_phys: number
  /** Start of the kernel's direct map of physical memory. */
  readonly PAGE_OFFSET: number
  /** End of user space (first address user space cannot map). */
  readonly TASK_SIZE: number
  /** Lowmem limit: physical memory above it is HIGHMEM (Infinity on x86_64). */
  readonly max_low_phys: number
  readonly zones: ZoneLayout
  /** vmalloc area bounds; on i386 computed from high_memory at boot (see vmalloc_bounds). */
  readonly VMALLOC_SIZE: number
  /** x86_64: fixed VMALLOC_START. i386: 0 (computed from high_memory). */
  readonly VMALLOC_START_FIXED: number
  /** Number of persistent kmap slots (LAST_PKMAP); 0 when there is no HIGHMEM. */
  readonly LAST_PKMAP: number
  /** First address above the fixmap (FIXADDR_TOP). */
  readonly FIXADDR_TOP: number
  /** Whether PTEs have an NX bit. */
  readonly has_nx: boolean
}

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const TiB = 1024 * GiB

/** Convert an unsigned 64-bit address written as a hex string to its signed canonical number. */
export function canonical(hex: string): number {
  const v = BigInt(hex)
  const s = v >= 1n << 63n ? v - (1n << 64n) : v
  return Number(s)
}

export const X86_64: ArchProfile = {
  name: 'x86_64',
  machine: 'x86_64',
  bits: 64,
  PAGE_SHIFT: 12,
  PAGE_SIZE: 4096,
  levels: 4,
  pte_size: 8,
  level_shifts: [39, 30, 21, 12],
  level_entries: [512, 512, 512, 512],
  level_names: ['pgd', 'pud', 'pmd', 'pte'],
  max_phys: 64 * TiB,
  PAGE_OFFSET: canonical('0xffff888000000000'),
  TASK_SIZE: 0x7ffffffff000,
  max_low_phys: Infinity,
  zones: {
    names: ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'],
    max_pfn: [(16 * MiB) / 4096, (4 * GiB) / 4096, Infinity, 0, 0],
    ZONE_DMA: 0,
    ZONE_DMA32: 1,
    ZONE_NORMAL: 2,
    ZONE_HIGHMEM: -1,
    ZONE_MOVABLE: 3,
  },
  VMALLOC_SIZE: 32 * TiB,
  VMALLOC_START_FIXED: canonical('0xffffc90000000000'),
  LAST_PKMAP: 0,
  FIXADDR_TOP: canonical('0xffffffffff5ff000') + 4096,
  has_nx: true,
}

/**
 * i386 lowmem ends near 896 MiB: 1 GiB of kernel space minus the vmalloc
 * reserve (128 MiB) and the fixmap. The exact MAXMEM depends on the fixmap
 * size (NR_CPUS); Machine computes it (kernel_layout().MAXMEM), this is the
 * textbook upper bound.
 */
const I386_MAXMEM = 896 * MiB

export const I386: ArchProfile = {
  name: 'i386',
  machine: 'i686',
  bits: 32,
  PAGE_SHIFT: 12,
  PAGE_SIZE: 4096,
  levels: 2,
  pte_size: 4,
  level_shifts: [22, 12],
  level_entries: [1024, 1024],
  level_names: ['pgd', 'pte'],
  max_phys: 4 * GiB,
  PAGE_OFFSET: 0xc0000000,
  TASK_SIZE: 0xc0000000,
  max_low_phys: I386_MAXMEM,
  zones: {
    names: ['DMA', 'Normal', 'HighMem', 'Movable'],
    max_pfn: [(16 * MiB) / 4096, I386_MAXMEM / 4096, Infinity, 0],
    ZONE_DMA: 0,
    ZONE_DMA32: -1,
    ZONE_NORMAL: 1,
    ZONE_HIGHMEM: 2,
    ZONE_MOVABLE: 3,
  },
  VMALLOC_SIZE: 0,
  VMALLOC_START_FIXED: 0,
  LAST_PKMAP: 1024,
  FIXADDR_TOP: 0xfffff000,
  has_nx: false,
}

export const I386_PAE: ArchProfile = {
  ...I386,
  name: 'i386-pae',
  levels: 3,
  pte_size: 8,
  level_shifts: [30, 21, 12],
  level_entries: [4, 512, 512],
  level_names: ['pgd', 'pmd', 'pte'],
  max_phys: 64 * GiB,
  LAST_PKMAP: 512,
  has_nx: true,
}

export function arch_profile(name: ArchName): ArchProfile {
  switch (name) {
    case 'x86_64':
      return X86_64
    case 'i386':
      return I386
    case 'i386-pae':
      return I386_PAE
  }
}

/** An address as the kernel prints it with %px / %lx: unsigned, zero-padded hex (no 0x). */
export function hex_addr(addr: number, bits: 32 | 64, pad = bits / 4): string {
  const v = addr < 0 ? BigInt(addr) + (1n << 64n) : BigInt(addr)
  return v.toString(16).padStart(pad, '0')
}
