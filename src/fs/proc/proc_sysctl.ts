/**
 * /proc/sys: the sysctls a Linux user types first (Kernel:
 * fs/proc/proc_sysctl.c; the tables in kernel/sysctl.c, mm/util.c
 * overcommit_*, mm/vmscan.c swappiness, mm/page_alloc.c min_free_kbytes and
 * watermark_scale_factor, mm/page-writeback.c dirty_*, mm/swap.c
 * page-cluster, mm/mmap.c max_map_count, kernel/sysctl.c randomize_va_space).
 *
 * A read prints the value and a newline, as proc_dointvec does. A write
 * parses one integer as proc_dointvec does (leading blanks, an optional
 * sign, decimal digits, a trailing newline), checks the range where Linux's
 * table has one (proc_dointvec_minmax: -EINVAL outside) and sets the value
 * the simulation reads (vm.drop_caches: src/fs/drop_caches.ts, write-only).
 * The _bytes dirty limits are unsigned longs (proc_doulongvec_minmax: no
 * sign); setting one zeroes its ratio and the other way round, as
 * mm/page-writeback.c's handlers do. Values mmsim keeps fixed
 * (watermark_scale_factor) are read-only here: a write fails with EACCES.
 */
import { EACCES, EINVAL, ERANGE } from '../../include/errno.js'
import type { ProcView } from './internal.js'
import type { DropCachesWriter } from '../drop_caches.js'
import { CORENAME_MAX_SIZE } from '../coredump.js'

export interface SysctlEntry {
  /** The value a read shows; absent: write-only (mode 0200, a read fails with EACCES even for root). */
  show?(v: ProcView): number
  /** Sets the value (already parsed and range-checked) for the task writing it, or -errno; absent: read-only in mmsim. */
  write?(v: ProcView, value: number, writer: DropCachesWriter): number | void
  readonly min?: number
  readonly max?: number
  /** An unsigned long (proc_doulongvec_minmax) rather than an int. */
  readonly ulong?: boolean
}

const INT_MAX = 2 ** 31 - 1
/** A _bytes limit over UINT_MAX pages is refused with ERANGE (dirty_bytes_handler()). */
const UINT_MAX = 2 ** 32 - 1
const bytes_pages_ok = (x: number): boolean => Math.ceil(x / 4096) <= UINT_MAX

/** dirty_ratio_handler(): a changed ratio drops dirty_bytes and resets the domain's limit. */
function set_dirty_ratio(v: ProcView, x: number): void {
  const old = v.sysctl.dirty_ratio
  v.sysctl.dirty_ratio = x
  if (x !== old) {
    v.sysctl.dirty_bytes = 0
    v.writeback_set_ratelimit()
  }
}

/** dirty_bytes_handler(). */
function set_dirty_bytes(v: ProcView, x: number): number | void {
  if (!bytes_pages_ok(x)) return -ERANGE
  const old = v.sysctl.dirty_bytes
  v.sysctl.dirty_bytes = x
  if (x !== old) {
    v.sysctl.dirty_ratio = 0
    v.writeback_set_ratelimit()
  }
}

/** dirty_background_ratio_handler(): any successful write drops dirty_background_bytes. */
function set_dirty_background_ratio(v: ProcView, x: number): void {
  v.sysctl.dirty_background_ratio = x
  v.sysctl.dirty_background_bytes = 0
}

/** dirty_background_bytes_handler(). */
function set_dirty_background_bytes(v: ProcView, x: number): number | void {
  if (!bytes_pages_ok(x)) return -ERANGE
  v.sysctl.dirty_background_bytes = x
  v.sysctl.dirty_background_ratio = 0
}

/** dirty_writeback_centisecs_handler(): a new non-zero period wakes the flushers at once. */
function set_dirty_writeback(v: ProcView, x: number): void {
  const old = v.sysctl.dirty_writeback_centisecs
  v.sysctl.dirty_writeback_centisecs = x
  if (x && x !== old) v.wakeup_flusher_threads()
}

const entries: ReadonlyMap<string, SysctlEntry> = new Map<string, SysctlEntry>([
  ['/proc/sys/vm/overcommit_memory', { show: (v) => v.sysctl.overcommit_memory, write: (v, x) => (v.sysctl.overcommit_memory = x as 0 | 1 | 2), min: 0, max: 2 }],
  ['/proc/sys/vm/overcommit_ratio', { show: (v) => v.sysctl.overcommit_ratio, write: (v, x) => (v.sysctl.overcommit_ratio = x) }],
  ['/proc/sys/vm/overcommit_kbytes', { show: (v) => v.sysctl.overcommit_kbytes, write: (v, x) => (v.sysctl.overcommit_kbytes = x), min: 0 }],
  ['/proc/sys/vm/swappiness', { show: (v) => v.sysctl.swappiness, write: (v, x) => (v.sysctl.swappiness = x), min: 0, max: 200 }],
  ['/proc/sys/vm/max_map_count', { show: (v) => v.sysctl.max_map_count, write: (v, x) => (v.sysctl.max_map_count = x), min: 0 }],
  ['/proc/sys/vm/admin_reserve_kbytes', { show: (v) => v.sysctl.admin_reserve_kbytes, write: (v, x) => (v.sysctl.admin_reserve_kbytes = x), min: 0 }],
  ['/proc/sys/vm/user_reserve_kbytes', { show: (v) => v.sysctl.user_reserve_kbytes, write: (v, x) => (v.sysctl.user_reserve_kbytes = x), min: 0 }],
  ['/proc/sys/vm/min_free_kbytes', { show: (v) => v.min_free_kbytes, write: (v, x) => v.set_min_free_kbytes(x), min: 0 }],
  ['/proc/sys/vm/page-cluster', { show: (v) => v.page_cluster, write: (v, x) => (v.page_cluster = x), min: 0, max: 31 }],
  ['/proc/sys/vm/watermark_scale_factor', { show: (v) => v.watermark_scale_factor }],
  ['/proc/sys/vm/dirty_ratio', { show: (v) => v.sysctl.dirty_ratio, write: set_dirty_ratio, min: 0, max: 100 }],
  ['/proc/sys/vm/dirty_bytes', { show: (v) => v.sysctl.dirty_bytes, write: set_dirty_bytes, min: 2 * 4096, ulong: true }],
  ['/proc/sys/vm/dirty_background_ratio', { show: (v) => v.sysctl.dirty_background_ratio, write: set_dirty_background_ratio, min: 0, max: 100 }],
  ['/proc/sys/vm/dirty_background_bytes', { show: (v) => v.sysctl.dirty_background_bytes, write: set_dirty_background_bytes, min: 1, ulong: true }],
  ['/proc/sys/vm/dirty_expire_centisecs', { show: (v) => v.sysctl.dirty_expire_centisecs, write: (v, x) => void (v.sysctl.dirty_expire_centisecs = x), min: 0 }],
  ['/proc/sys/vm/dirty_writeback_centisecs', { show: (v) => v.sysctl.dirty_writeback_centisecs, write: set_dirty_writeback }],
  ['/proc/sys/vm/drop_caches', { write: (v, x, w) => v.drop_caches.write(x, w), min: 1, max: 4 }],
  ['/proc/sys/kernel/randomize_va_space', { show: (v) => v.randomize_va_space, write: (v, x) => (v.randomize_va_space = x) }],
  ['/proc/sys/kernel/core_uses_pid', { show: (v) => v.coredump.core_uses_pid, write: (v, x) => (v.coredump.core_uses_pid = x) }],
])

/**
 * kernel.core_pattern (proc_dostring, CORENAME_MAX_SIZE 128): a write sets
 * the text up to its first newline; a longer one is cut at 127 bytes.
 */
const CORE_PATTERN = '/proc/sys/kernel/core_pattern'

/** The /proc/sys paths mmsim has, sorted. */
export function sysctl_paths(): string[] {
  return [...entries.keys(), CORE_PATTERN].sort()
}

/** The text of a sysctl file, -EACCES for a write-only one, or null when mmsim has no such sysctl. */
export function sysctl_read(v: ProcView, path: string): string | number | null {
  if (path === CORE_PATTERN) return `${v.coredump.core_pattern}\n`
  const e = entries.get(path)
  if (!e) return null
  return e.show ? `${e.show(v)}\n` : -EACCES
}

/** Kernel: proc_dointvec(_minmax)'s write side. 0, -errno, or null when there is no such sysctl. */
export function sysctl_write(v: ProcView, path: string, text: string, writer: DropCachesWriter): number | null {
  if (path === CORE_PATTERN) {
    v.coredump.core_pattern = text.split('\n')[0].slice(0, CORENAME_MAX_SIZE - 1)
    return 0
  }
  const e = entries.get(path)
  if (!e) return null
  if (!e.write) return -EACCES
  const m = /^[ \t\n]*([+-]?\d+)[ \t\n]*$/.exec(text)
  if (!m) return -EINVAL
  const x = Number(m[1])
  if (e.ulong) {
    // proc_doulongvec_minmax(): no minus sign; past ULONG_MAX is EINVAL.
    if (m[1].startsWith('-') || BigInt(m[1]) > 2n ** 64n - 1n) return -EINVAL
  } else if (!Number.isSafeInteger(x) || x > INT_MAX || x < -INT_MAX - 1) return -EINVAL
  if ((e.min !== undefined && x < e.min) || (e.max !== undefined && x > e.max)) return -EINVAL
  const r = e.write(v, x, writer)
  return typeof r === 'number' ? r : 0
}
