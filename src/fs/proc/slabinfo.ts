/**
 * /proc/slabinfo (Kernel: mm/slab_common.c print_slabinfo_header(),
 * cache_show()): version 2.1, one line per cache, newest cache first.
 * SLUB prints zero tunables; the classic SLAB prints its limit, batchcount
 * and shared factor, and the objects waiting in the shared array.
 */
import type { SlabAllocator } from '../../mm/slab_common.js'

/** Kernel: print_slabinfo_header(). */
export const SLABINFO_HEADER =
  'slabinfo - version: 2.1\n' +
  '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>' +
  ' : tunables <limit> <batchcount> <sharedfactor>' +
  ' : slabdata <active_slabs> <num_slabs> <sharedavail>\n'

function l(v: number, w: number): string {
  return String(v).padStart(w)
}

/** The text of /proc/slabinfo. */
export function slabinfo_show(sa: SlabAllocator): string {
  let out = SLABINFO_HEADER
  for (const { cache: s, info } of sa.slabinfo()) {
    out += `${s.name.padEnd(17)} ${l(info.active_objs, 6)} ${l(info.num_objs, 6)} ${l(s.size, 6)} ${l(info.objects_per_slab, 4)} ${l(2 ** info.cache_order, 4)}`
    out += ` : tunables ${l(info.limit, 4)} ${l(info.batchcount, 4)} ${l(info.shared, 4)}`
    out += ` : slabdata ${l(info.active_slabs, 6)} ${l(info.num_slabs, 6)} ${l(info.shared_avail, 6)}\n`
  }
  return out
}
