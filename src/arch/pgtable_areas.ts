/**
 * The kernel's virtual memory areas above the direct map (Kernel:
 * arch/x86/include/asm/pgtable_64_types.h, pgtable_32_areas.h, fixmap.h,
 * kmap_size.h).
 *
 * x86_64 (4-level, no KASLR): VMALLOC_START 0xffffc90000000000, 32 TiB,
 * VMALLOC_END inclusive (VMALLOC_START + 32 TiB - 1), no HIGHMEM.
 *
 * i386 / i386-pae: from the top down, the fixmap ends at FIXADDR_TOP
 * (0xfffff000); below it the cpu_entry_area, the LDT remap slot, then the
 * pkmap area (LAST_PKMAP pages at PKMAP_BASE), two guard pages, and the
 * vmalloc area, which starts VMALLOC_OFFSET (8 MiB) above high_memory:
 *   CPU_ENTRY_AREA_BASE = (FIXADDR_TOT_START - PAGE_SIZE*(CPU_ENTRY_AREA_PAGES+1)) & PMD_MASK
 *   LDT_BASE_ADDR       = (CPU_ENTRY_AREA_BASE - PAGE_SIZE) & PMD_MASK
 *   PKMAP_BASE          = (LDT_BASE_ADDR - PAGE_SIZE) & PMD_MASK
 *   VMALLOC_END         = PKMAP_BASE - 2*PAGE_SIZE
 *   MAXMEM              = VMALLOC_END - PAGE_OFFSET - __VMALLOC_RESERVE (128 MiB)
 * The config-dependent sizes are those of a distribution i686 SMP kernel:
 * NR_CPUS 8, MAX_IO_APICS 64, KM_MAX_IDX 16, PCI_MMCONFIG on, and 39
 * cpu_entry_area pages per CPU; they give the layout such kernels
 * print (pkmap 0xff400000, vmalloc end 0xff3fe000, lowmem up to 0x373fe000).
 * The fixmap indices: FIX_HOLE, FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE,
 * FIX_APIC_BASE, 64 IO-APIC slots, then FIX_KMAP_BEGIN (68) ..
 * FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX*NR_CPUS - 1, FIX_PCIE_MCFG,
 * the 512 boot-time btmap slots (aligned to one pte table), FIX_WP_TEST.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import type { ArchProfile } from './profile.js'

const MiB = 1024 * 1024

/** Kernel: KM_MAX_IDX (include/asm-generic/kmap_size.h, no DEBUG_KMAP_LOCAL). */
export const KM_MAX_IDX = 16
/** Kernel: VMALLOC_OFFSET (i386). */
export const VMALLOC_OFFSET = 8 * MiB
/** Kernel: __VMALLOC_RESERVE (i386 default, 128 MiB). */
export const __VMALLOC_RESERVE = 128 * MiB

/** CONFIG_NR_CPUS of the modelled i686 kernel (more when the machine has more CPUs, as a bigger build would). */
const NR_CPUS_32 = 8
const MAX_IO_APICS_32 = 64
/** Pages of one CPU's struct cpu_entry_area on i386 (GDT, entry stack, TSS + I/O bitmap, #DF stack, debug store buffers). */
const CPU_ENTRY_AREA_PAGES_PER_CPU_32 = 39
const NR_FIX_BTMAPS = 64
const FIX_BTMAPS_SLOTS = 8
const TOTAL_FIX_BTMAPS = NR_FIX_BTMAPS * FIX_BTMAPS_SLOTS

export interface KernelLayout {
  /** First vmalloc address. */
  readonly VMALLOC_START: number
  /** Linux's VMALLOC_END: exclusive on i386, the last byte on x86_64 (allocations stay below it either way). */
  readonly VMALLOC_END: number
  /** /proc/meminfo VmallocTotal in bytes (VMALLOC_END - VMALLOC_START). */
  readonly VMALLOC_TOTAL: number
  /** pkmap area (0 when the profile has no HIGHMEM). */
  readonly PKMAP_BASE: number
  readonly LAST_PKMAP: number
  readonly FIXADDR_TOP: number
  readonly FIXADDR_TOT_START: number
  readonly FIX_KMAP_BEGIN: number
  readonly FIX_KMAP_END: number
  /** NR_CPUS the fixmap was sized for. */
  readonly NR_CPUS: number
  /** Kernel: MAXMEM (i386): the most lowmem the direct map can hold. Infinity on x86_64. */
  readonly MAXMEM: number
  /** Kernel: high_memory: end of the direct map of lowmem (virtual). */
  readonly high_memory: number
}

/** Kernel: __fix_to_virt(). */
export function __fix_to_virt(layout: KernelLayout, idx: number): number {
  return layout.FIXADDR_TOP - idx * PAGE_SIZE
}

/** The layout for a profile whose lowmem ends at `max_low_pfn`, on a machine with `nr_cpus` CPUs. */
export function kernel_layout(arch: ArchProfile, max_low_pfn: number, nr_cpus = 1): KernelLayout {
  const high_memory = arch.PAGE_OFFSET + max_low_pfn * PAGE_SIZE
  if (arch.bits === 64) {
    return {
      VMALLOC_START: arch.VMALLOC_START_FIXED,
      VMALLOC_END: arch.VMALLOC_START_FIXED + arch.VMALLOC_SIZE - 1,
      VMALLOC_TOTAL: arch.VMALLOC_SIZE - 1,
      PKMAP_BASE: 0,
      LAST_PKMAP: 0,
      FIXADDR_TOP: arch.FIXADDR_TOP,
      FIXADDR_TOT_START: arch.FIXADDR_TOP,
      FIX_KMAP_BEGIN: 0,
      FIX_KMAP_END: -1,
      NR_CPUS: 0,
      MAXMEM: Infinity,
      high_memory,
    }
  }
  const PTRS_PER_PTE = arch.level_entries[arch.levels - 1]
  const PMD_SIZE = 2 ** arch.level_shifts[arch.levels - 2]
  const pmd_mask = (a: number): number => Math.floor(a / PMD_SIZE) * PMD_SIZE
  const NR_CPUS = Math.max(NR_CPUS_32, nr_cpus)
  const FIX_KMAP_BEGIN = 4 + MAX_IO_APICS_32
  const FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX * NR_CPUS - 1
  const end_permanent = FIX_KMAP_END + 2 // FIX_PCIE_MCFG, then __end_of_permanent_fixed_addresses
  const crosses = Math.floor(end_permanent / PTRS_PER_PTE) !== Math.floor((end_permanent + TOTAL_FIX_BTMAPS - 1) / PTRS_PER_PTE)
  const FIX_BTMAP_END = crosses ? end_permanent + TOTAL_FIX_BTMAPS - (end_permanent % TOTAL_FIX_BTMAPS) : end_permanent
  const FIX_BTMAP_BEGIN = FIX_BTMAP_END + TOTAL_FIX_BTMAPS - 1
  const end_of_fixed = FIX_BTMAP_BEGIN + 2 // FIX_WP_TEST, __end_of_fixed_addresses
  const FIXADDR_TOT_START = arch.FIXADDR_TOP - end_of_fixed * PAGE_SIZE
  const CPU_ENTRY_AREA_BASE = pmd_mask(FIXADDR_TOT_START - PAGE_SIZE * (CPU_ENTRY_AREA_PAGES_PER_CPU_32 * NR_CPUS + 1))
  const LDT_BASE_ADDR = pmd_mask(CPU_ENTRY_AREA_BASE - PAGE_SIZE)
  const PKMAP_BASE = pmd_mask(LDT_BASE_ADDR - PAGE_SIZE)
  const VMALLOC_END = PKMAP_BASE - 2 * PAGE_SIZE
  const VMALLOC_START = high_memory + VMALLOC_OFFSET
  return {
    VMALLOC_START,
    VMALLOC_END,
    VMALLOC_TOTAL: VMALLOC_END - VMALLOC_START,
    PKMAP_BASE,
    LAST_PKMAP: arch.LAST_PKMAP,
    FIXADDR_TOP: arch.FIXADDR_TOP,
    FIXADDR_TOT_START,
    FIX_KMAP_BEGIN,
    FIX_KMAP_END,
    NR_CPUS,
    MAXMEM: VMALLOC_END - arch.PAGE_OFFSET - __VMALLOC_RESERVE,
    high_memory,
  }
}
