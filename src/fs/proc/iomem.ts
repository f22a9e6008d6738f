/**
 * /proc/iomem (Kernel: kernel/resource.c r_show): the iomem resource tree
 * (src/mm/resource.ts): the firmware map with the kernel image nested in
 * System RAM, and every region a driver claimed, indented by depth.
 */
import type { ProcView } from './internal.js'

function hex(v: number): string {
  return v.toString(16).padStart(8, '0')
}

export function iomem_show(m: ProcView): string {
  let out = ''
  for (const [r, depth] of m.iomem.walk()) out += `${' '.repeat(depth * 2)}${hex(r.start)}-${hex(r.end)} : ${r.name}\n`
  return out
}
