/**
 * /proc/iomem (Kernel: kernel/resource.c r_show, arch/x86/kernel/e820.c
 * e820__reserve_resources, setup.c kernel code/data resources): the firmware
 * map as a resource tree, the kernel image nested inside System RAM.
 */
import type { ProcView } from './internal.js'

interface Res {
  start: number
  end: number
  name: string
  children: Res[]
}

function hex(v: number): string {
  return v.toString(16).padStart(8, '0')
}

export function iomem_show(m: ProcView): string {
  const e820 = m.boot.e820
  const top: Res[] = []
  for (const r of e820) {
    const name = r.name === 'usable' ? 'System RAM' : 'Reserved'
    // The kernel turned the first page into a reserved range (trim_bios_range()).
    if (r.base === 0 && r.name === 'usable') {
      top.push({ start: 0, end: 0xfff, name: 'Reserved', children: [] })
      top.push({ start: 0x1000, end: r.end - 1, name, children: [] })
      continue
    }
    top.push({ start: r.base, end: r.end - 1, name, children: [] })
  }
  const img = m.boot.image
  const ram = top.find((r) => r.name === 'System RAM' && r.start <= img._text && r.end >= img._end)
  if (ram) {
    ram.children.push(
      { start: img._text, end: img._etext - 1, name: 'Kernel code', children: [] },
      { start: img.__start_rodata, end: img.__end_rodata - 1, name: 'Kernel rodata', children: [] },
      { start: img._sdata, end: img._edata - 1, name: 'Kernel data', children: [] },
      { start: img.__bss_start, end: img.__bss_stop - 1, name: 'Kernel bss', children: [] },
    )
  }
  const rom = top.find((r) => r.start === 0xf0000)
  if (rom) rom.children.push({ start: 0xf0000, end: 0xfffff, name: 'System ROM', children: [] })
  let out = ''
  const walk = (list: Res[], depth: number): void => {
    for (const r of list) {
      out += `${' '.repeat(depth * 2)}${hex(r.start)}-${hex(r.end)} : ${r.name}\n`
      walk(r.children, depth + 1)
    }
  }
  walk(top, 0)
  return out
}
