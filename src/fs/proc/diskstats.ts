/**
 * /proc/diskstats and /sys/block/<dev>/stat (Kernel: block/genhd.c
 * diskstats_show() and part_stat_show(), 6.18): one line per disk, the
 * 17 counters of Documentation/admin-guide/iostats.rst after major, minor
 * and name: reads completed, merged, sectors, ms; writes the same; I/Os in
 * flight, ms doing I/O, weighted ms; discards completed, merged, sectors,
 * ms; flushes completed, ms. mmsim's disks have no partitions.
 */
import { type BlockDevice, type DiskStats, STAT_DISCARD, STAT_FLUSH, STAT_READ, STAT_WRITE } from '../../hw/blkdev.js'
import type { ProcView } from './internal.js'

const ms = (ns: number): number => Math.floor(ns / 1_000_000)

/** The 17 counters in iostats order. */
function fields(st: DiskStats): number[] {
  const f: number[] = []
  for (const g of [STAT_READ, STAT_WRITE]) f.push(st.ios[g], st.merges[g], st.sectors[g], ms(st.nsecs[g]))
  const all = st.nsecs[STAT_READ] + st.nsecs[STAT_WRITE] + st.nsecs[STAT_DISCARD] + st.nsecs[STAT_FLUSH]
  f.push(st.in_flight, ms(st.io_ticks_ns), ms(all))
  f.push(st.ios[STAT_DISCARD], st.merges[STAT_DISCARD], st.sectors[STAT_DISCARD], ms(st.nsecs[STAT_DISCARD]))
  f.push(st.ios[STAT_FLUSH], ms(st.nsecs[STAT_FLUSH]))
  return f
}

/** Kernel: diskstats_show(): "%4d %7d %pg" and the counters, space-separated. */
export function diskstats_show(v: ProcView): string {
  let out = ''
  for (const d of v.block_devices()) out += `${String(d.major).padStart(4)} ${String(d.minor).padStart(7)} ${d.name} ${fields(d.stats(v.now())).join(' ')}\n`
  return out
}

/** Kernel: part_stat_show(): the same counters, each "%8lu" wide, separated by a space. */
export function part_stat_show(d: BlockDevice, now: number): string {
  return `${fields(d.stats(now))
    .map((x) => String(x).padStart(8))
    .join(' ')}\n`
}
