/**
 * GFP ("get free pages") flags with Linux's values (include/linux/gfp_types.h,
 * 6.18, no KASAN_HW_TAGS, no LOCKDEP), the zone and migratetype they select
 * (include/linux/gfp.h) and their printed form (%pGg, mm/debug.c).
 */
export type gfp_t = number

export const ___GFP_DMA = 0x01
export const ___GFP_HIGHMEM = 0x02
export const ___GFP_DMA32 = 0x04
export const ___GFP_MOVABLE = 0x08
export const ___GFP_RECLAIMABLE = 0x10
export const ___GFP_HIGH = 0x20
export const ___GFP_IO = 0x40
export const ___GFP_FS = 0x80
export const ___GFP_ZERO = 0x100
export const ___GFP_DIRECT_RECLAIM = 0x400
export const ___GFP_KSWAPD_RECLAIM = 0x800
export const ___GFP_WRITE = 0x1000
export const ___GFP_NOWARN = 0x2000
export const ___GFP_RETRY_MAYFAIL = 0x4000
export const ___GFP_NOFAIL = 0x8000
export const ___GFP_NORETRY = 0x10000
export const ___GFP_MEMALLOC = 0x20000
export const ___GFP_COMP = 0x40000
export const ___GFP_NOMEMALLOC = 0x80000
export const ___GFP_HARDWALL = 0x100000
export const ___GFP_THISNODE = 0x200000
export const ___GFP_ACCOUNT = 0x400000
export const ___GFP_ZEROTAGS = 0x800000
/** 0 without CONFIG_KASAN_HW_TAGS, as on x86_64. */
export const ___GFP_SKIP_ZERO = 0
export const ___GFP_SKIP_KASAN = 0
/** 0 without CONFIG_LOCKDEP. */
export const ___GFP_NOLOCKDEP = 0

export const __GFP_DMA = ___GFP_DMA
export const __GFP_HIGHMEM = ___GFP_HIGHMEM
export const __GFP_DMA32 = ___GFP_DMA32
export const __GFP_MOVABLE = ___GFP_MOVABLE
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE
export const __GFP_RECLAIMABLE = ___GFP_RECLAIMABLE
export const __GFP_WRITE = ___GFP_WRITE
export const __GFP_HARDWALL = ___GFP_HARDWALL
export const __GFP_THISNODE = ___GFP_THISNODE
export const __GFP_ACCOUNT = ___GFP_ACCOUNT
export const __GFP_HIGH = ___GFP_HIGH
export const __GFP_MEMALLOC = ___GFP_MEMALLOC
export const __GFP_NOMEMALLOC = ___GFP_NOMEMALLOC
export const __GFP_IO = ___GFP_IO
export const __GFP_FS = ___GFP_FS
export const __GFP_DIRECT_RECLAIM = ___GFP_DIRECT_RECLAIM
export const __GFP_KSWAPD_RECLAIM = ___GFP_KSWAPD_RECLAIM
export const __GFP_RECLAIM = ___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM
export const __GFP_RETRY_MAYFAIL = ___GFP_RETRY_MAYFAIL
export const __GFP_NOFAIL = ___GFP_NOFAIL
export const __GFP_NORETRY = ___GFP_NORETRY
export const __GFP_NOWARN = ___GFP_NOWARN
export const __GFP_COMP = ___GFP_COMP
export const __GFP_ZERO = ___GFP_ZERO
export const __GFP_ZEROTAGS = ___GFP_ZEROTAGS
export const __GFP_SKIP_ZERO = ___GFP_SKIP_ZERO
export const __GFP_SKIP_KASAN = ___GFP_SKIP_KASAN
export const __GFP_NOLOCKDEP = ___GFP_NOLOCKDEP
export const __GFP_BITS_SHIFT = 26
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1

export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN
export const GFP_NOIO = __GFP_RECLAIM
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL
export const GFP_DMA = __GFP_DMA
export const GFP_DMA32 = __GFP_DMA32
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM

/** Kernel: gfpflag_names / __def_gfpflag_names, include/trace/events/mmflags.h (order matters). */
const GFP_NAMES: readonly (readonly [number, string])[] = [
  [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP_ATOMIC, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP_NOWAIT, 'GFP_NOWAIT'],
  [GFP_DMA, 'GFP_DMA'],
  [GFP_DMA32, 'GFP_DMA32'],
  [__GFP_RECLAIM, '__GFP_RECLAIM'],
  [__GFP_DMA, '__GFP_DMA'],
  [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
  [__GFP_DMA32, '__GFP_DMA32'],
  [__GFP_MOVABLE, '__GFP_MOVABLE'],
  [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
  [__GFP_HIGH, '__GFP_HIGH'],
  [__GFP_IO, '__GFP_IO'],
  [__GFP_FS, '__GFP_FS'],
  [__GFP_ZERO, '__GFP_ZERO'],
  [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
  [__GFP_WRITE, '__GFP_WRITE'],
  [__GFP_NOWARN, '__GFP_NOWARN'],
  [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [__GFP_NOFAIL, '__GFP_NOFAIL'],
  [__GFP_NORETRY, '__GFP_NORETRY'],
  [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
  [__GFP_COMP, '__GFP_COMP'],
  [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [__GFP_HARDWALL, '__GFP_HARDWALL'],
  [__GFP_THISNODE, '__GFP_THISNODE'],
  [__GFP_ACCOUNT, '__GFP_ACCOUNT'],
  [__GFP_ZEROTAGS, '__GFP_ZEROTAGS'],
]

/** The symbolic part of %pGg: "GFP_KERNEL|__GFP_ZERO", "none" for 0, leftover bits as 0x.. */
export function gfp_names(gfp: gfp_t): string {
  if (gfp === 0) return 'none'
  const parts: string[] = []
  let left = gfp >>> 0
  for (const [mask, name] of GFP_NAMES) {
    if (mask !== 0 && (left & mask) === mask) {
      parts.push(name)
      left = (left & ~mask) >>> 0
    }
  }
  if (left !== 0) parts.push(`0x${left.toString(16)}`)
  return parts.join('|')
}

/** %#x(%pGg) as warn_alloc prints it: "0xcc0(GFP_KERNEL)". */
export function format_gfp(gfp: gfp_t): string {
  return `0x${(gfp >>> 0).toString(16)}(${gfp_names(gfp)})`
}

/** Kernel: enum migratetype (include/linux/mmzone.h), without CMA. */
export const MIGRATE_UNMOVABLE = 0
export const MIGRATE_MOVABLE = 1
export const MIGRATE_RECLAIMABLE = 2
export const MIGRATE_PCPTYPES = 3
export const MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES
export const MIGRATE_ISOLATE = 4
export const MIGRATE_TYPES = 5
export const migratetype_names = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const

/** Kernel: gfp_migratetype(): MOVABLE and RECLAIMABLE bits pick the type. */
export function gfp_migratetype(gfp: gfp_t): number {
  return (gfp & (__GFP_MOVABLE | __GFP_RECLAIMABLE)) >>> 3
}

/** Kernel: gfpflags_allow_blocking(). */
export function gfpflags_allow_blocking(gfp: gfp_t): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0
}
