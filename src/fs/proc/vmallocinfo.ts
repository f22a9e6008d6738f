/**
 * /proc/vmallocinfo (Kernel: mm/vmalloc.c vmalloc_info_show(),
 * show_numa_info(), show_purge_info()).
 *
 * One line per busy area, vmap node by vmap node, each in address order:
 *   "0x%px-0x%px %7ld" start, end (guard page included), size
 *   " %pS"             the caller
 *   " pages=%d"        when the area has pages
 *   " phys=%pa"        when it maps a physical range (ioremap)
 *   " ioremap" / " sparse" / " vmalloc" / " vmap" / " user" / " dma-coherent"
 *   " vpages"          when the page array itself was vmalloc'd
 *   " N0=%u"           pages per NUMA node (CONFIG_NUMA kernels: x86_64 here)
 * then the lazily freed areas: "0x%px-0x%px %7ld unpurged vm_area".
 * Addresses are printed as root sees them with kptr_restrict=0 (unhashed).
 */
import { hex_addr } from '../../arch/profile.js'
import { VM_ALLOC, VM_DMA_COHERENT, VM_IOREMAP, VM_MAP, VM_SPARSE, VM_UNINITIALIZED, VM_USERMAP, type Vmalloc, type VmStruct } from '../../mm/vmalloc.js'

/** The text of /proc/vmallocinfo. `numa`: print the N0= counts (CONFIG_NUMA). */
export function vmalloc_info_show(v: Vmalloc, numa = v.arch.bits === 64): string {
  const bits = v.arch.bits
  const px = (a: number): string => '0x' + hex_addr(a, bits)
  // %pa prints phys_addr_t: 64-bit on x86_64 and PAE, 32-bit on plain i386.
  const phys_bits = v.arch.pte_size === 8 ? 64 : 32
  let out = ''
  for (const va of v.va.busy_areas()) {
    const vm = va.vm as VmStruct | null
    if (vm === null) continue // vm_map_ram areas are not modelled
    if (vm.flags & VM_UNINITIALIZED) continue
    let line = `${px(vm.addr)}-${px(vm.addr + vm.size)} ${String(vm.size).padStart(7)}`
    if (vm.caller) line += ` ${vm.caller}`
    if (vm.nr_pages) line += ` pages=${vm.nr_pages}`
    if (vm.phys_addr) line += ` phys=0x${hex_addr(vm.phys_addr, phys_bits)}`
    if (vm.flags & VM_IOREMAP) line += ' ioremap'
    if (vm.flags & VM_SPARSE) line += ' sparse'
    if (vm.flags & VM_ALLOC) line += ' vmalloc'
    if (vm.flags & VM_MAP) line += ' vmap'
    if (vm.flags & VM_USERMAP) line += ' user'
    if (vm.flags & VM_DMA_COHERENT) line += ' dma-coherent'
    if (vm.pages_area !== null) line += ' vpages'
    if (numa && vm.nr_pages) line += ` N0=${vm.nr_pages}`
    out += line + '\n'
  }
  for (const va of v.va.lazy_areas()) {
    out += `${px(va.va_start)}-${px(va.va_end)} ${String(va.va_end - va.va_start).padStart(7)} unpurged vm_area\n`
  }
  return out
}
