/**
 * `why`: what a page frame or an address is right now, read off the
 * machine's own structures the way a kernel hacker would with crash(8):
 * struct page (type, order, refcount, mapcount, flags, mapping), the free
 * and per-CPU lists, the slab a page belongs to, the page tables and pgds,
 * the VMAs and rmap of the processes, the vmalloc areas, the kernel image.
 * One fact per line, the deciding one first.
 */
import type { Machine } from '../machine.js'
import type { Process } from '../user/process.js'
import { MIGRATE_PCPTYPES } from '../mm/gfp.js'
import { MAX_PAGE_ORDER } from '../mm/mmzone.js'
import { PG_reserved, PGTY_buddy, PGTY_slab, PGTY_table } from '../mm/page.js'
import { walk_text } from '../mm/pgtable_debug.js'
import { pte_pfn } from '../arch/pte.js'
import { pte_present } from '../mm/memory.js'
import { hex_addr } from './values.js'

const MIGRATETYPES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'CMA', 'Isolate']
const PAGE = 4096

function page_flags(m: Machine, pfn: number): string {
  const names = ['locked', 'writeback', 'referenced', 'uptodate', 'dirty', 'lru', 'head', 'waiters', 'active', 'workingset', 'owner_priv_1', 'owner_2', 'arch_1', 'reserved', 'private', 'private_2', 'reclaim', 'swapbacked', 'unevictable', 'dropbehind', 'mlocked']
  const f = m.pages.flags[pfn]
  const set = names.filter((_, i) => f & (1 << i))
  return set.length ? set.join('|') : '0'
}

/** The processes whose mm maps pfn, with the addresses (a walk of each VMA's page tables over the page's range). */
function mappers(m: Machine, pfn: number): string[] {
  const out: string[] = []
  for (const t of m.syscalls.tasks.values()) {
    const mm = t.mm
    if (!mm || t.exit_state) continue
    for (const vma of mm.mm_mt) {
      mm.pgd.each(vma.vm_start / PAGE, vma.vm_end / PAGE, (vpn, pte) => {
        if (pte_present(pte) && pte_pfn(pte) === pfn) {
          out.push(`mapped by pid ${t.pid} (${t.comm}) at ${hex_addr(vpn * PAGE)} in ${vma.vm_file ? `a mapping of ${vma.vm_file.name}` : 'an anonymous VMA'} [${hex_addr(vma.vm_start)}-${hex_addr(vma.vm_end)}]`)
        }
      })
    }
  }
  return out
}

/** What page frame `pfn` is: free (which list), or allocated (as what), and by whom it is mapped. */
export function why_pfn(m: Machine, pfn: number): string {
  const p = m.pages
  const lines: string[] = []
  if (!Number.isInteger(pfn) || pfn < 0 || pfn >= p.nr) return `pfn ${hex_addr(pfn)}: beyond the last page frame (max_pfn ${hex_addr(p.nr)})`
  if (!m.pfn_present(pfn)) return `pfn ${hex_addr(pfn)}: not RAM (a hole in the e820 map)`
  const zone = m.page_alloc.zones.find((z) => z.spans(pfn))
  const where = `pfn ${hex_addr(pfn)} (physical ${hex_addr(pfn * PAGE)}, zone ${zone?.name ?? '?'})`
  // Free in a buddy block?
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    const h = pfn - (pfn % (1 << o))
    if (p.page_type[h] === PGTY_buddy && p.order[h] === o) {
      const mt = m.page_alloc.get_pfnblock_migratetype(h)
      lines.push(`${where}: free, in an order-${o} buddy block at pfn ${hex_addr(h)} (${1 << o} pages)`)
      lines.push(`on ${zone?.name} free_area[${o}].free_list[${MIGRATETYPES[mt] ?? mt}]; it merges with its buddy pfn ${hex_addr(h ^ (1 << o))} when that is free too`)
      return lines.join('\n')
    }
  }
  // On a per-CPU list?
  if (zone) {
    for (const [cpu, pcp] of zone.per_cpu_pageset.entries()) {
      for (let idx = 0; idx < pcp.lists.length; idx++) {
        const order = Math.floor(idx / MIGRATE_PCPTYPES)
        for (let f = pcp.lists[idx].head; f >= 0; f = p.lru_next[f]) {
          if (pfn >= f && pfn < f + (1 << order)) {
            lines.push(`${where}: free, on CPU ${cpu}'s per-CPU list (order ${order}, ${MIGRATETYPES[idx % MIGRATE_PCPTYPES]}): the next order-${order} allocation on that CPU takes it first`)
            return lines.join('\n')
          }
        }
      }
    }
  }
  // Allocated: the block that holds it.
  let head = -1
  let order = 0
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    const h = pfn - (pfn % (1 << o))
    if (p.owner_order[h] === o + 1) {
      head = h
      order = o
      break
    }
  }
  if (head < 0) {
    if (p.flags[pfn] & (1 << PG_reserved)) {
      const img = m.boot.image
      const pa = pfn * PAGE
      const part = pa >= img._text && pa < img._end ? ` (the kernel image: ${pa < img._etext ? '.text' : pa < img.__end_rodata ? '.rodata' : pa < img._edata ? '.data' : '.bss and after'})` : ''
      return `${where}: reserved at boot${part}; never in the buddy allocator\nrefcount ${p._refcount[pfn]}, flags ${page_flags(m, pfn)}`
    }
    return `${where}: in no state the allocator knows (the invariant checker would call it leaked)`
  }
  const what = p.page_type[head]
  lines.push(`${where}: allocated${order ? `, page ${pfn - head} of an order-${order} block at pfn ${hex_addr(head)}` : ''}`)
  if (what === PGTY_slab) {
    const slab = m.slab.virt_to_slab(m.page_alloc.pfn_to_virt(pfn))
    lines.push(`a slab page of cache ${slab?.cache.name ?? '?'} (objects of ${slab?.cache.object_size ?? '?'} bytes, kmem_cache_alloc/kmalloc hand them out)`)
  } else if (what === PGTY_table) {
    const owner = [...m.syscalls.tasks.values()].find((t) => t.mm?.pgd.mm.pgd === pfn)
    lines.push(owner ? `the page global directory (pgd) of pid ${owner.pid} (${owner.comm}): CR3 points here when it runs` : 'a page table (PageTable), counted in NR_PAGETABLE')
  } else if (p.mapping[pfn] < 0) {
    lines.push(`an anonymous page (anon_vma ${-p.mapping[pfn]}), index ${p.index[pfn]}`)
  } else if (p.mapping[pfn] > 0) {
    lines.push(`a page-cache page of address_space ${p.mapping[pfn]}, file page index ${p.index[pfn]}`)
  } else if (m.vmalloc) {
    lines.push('a kernel allocation (alloc_pages, vmalloc backing, thread stack, ...)')
  }
  lines.push(`refcount ${p._refcount[pfn]}, mapcount ${p._mapcount[pfn]}, flags ${page_flags(m, pfn)}`)
  lines.push(...mappers(m, pfn))
  return lines.join('\n')
}

/** What an address is: a user address of `self` (VMA, page-table walk, frame), a direct-map or vmalloc kernel address. */
export function why_addr(m: Machine, addr: number, self: Process | null): string {
  const a = m.arch
  const pfn_direct = m.page_alloc.virt_to_pfn(addr)
  if (addr < 0 || addr >= a.TASK_SIZE) {
    if (pfn_direct >= 0) {
      const lines = [`${hex_addr(addr)}: in the direct map (PAGE_OFFSET + ${hex_addr(pfn_direct * PAGE + (addr - m.page_alloc.pfn_to_virt(pfn_direct)))}), page frame ${hex_addr(pfn_direct)}`]
      const slab = m.slab.virt_to_slab(addr)
      if (slab) {
        const size = slab.cache.size
        const base = m.page_alloc.pfn_to_virt(slab.pfn)
        const index = Math.floor((addr - base) / size)
        lines.push(`inside object ${index} of a slab of cache ${slab.cache.name} (object at ${hex_addr(base + index * size)}, offset ${addr - base - index * size})`)
      }
      lines.push(why_pfn(m, pfn_direct))
      return lines.join('\n')
    }
    const vm = m.vmalloc.find_vm_area(addr)
    if (vm) {
      const i = Math.floor((addr - vm.addr) / PAGE)
      const pfn = vm.pages[i]
      return [
        `${hex_addr(addr)}: in the vmalloc area [${hex_addr(vm.addr)}-${hex_addr(vm.addr + vm.size)}) of ${vm.size} bytes (guard page included), from ${vm.caller}`,
        pfn === undefined ? 'the guard page: any access oopses' : `its page ${i} is frame ${hex_addr(pfn)} (vmalloc memory is virtually contiguous, physically scattered)`,
        ...(pfn === undefined ? [] : [why_pfn(m, pfn)]),
      ].join('\n')
    }
    return `${hex_addr(addr)}: a kernel address in no mapping mmsim knows (not the direct map, not a vmalloc area)`
  }
  if (!self) return `${hex_addr(addr)}: a user address, but no process is current (spawn one)`
  const mm = self.mm
  const vma = mm.mm_mt.find(addr)
  if (!vma || vma.vm_start > addr) {
    return `${hex_addr(addr)}: not mapped in pid ${self.pid}: a load or store there is SIGSEGV (SEGV_MAPERR)${vma ? `; the next VMA starts at ${hex_addr(vma.vm_start)}` : ''}`
  }
  const line = m.proc(`/proc/${self.pid}/maps`).split('\n').find((l) => l.startsWith(mm_hex(vma.vm_start) + '-')) ?? ''
  const out = [`${hex_addr(addr)}: in pid ${self.pid}'s VMA ${line.trim()}`, walk_text(m.pgtables, mm.pgd.mm, addr).trimEnd()]
  const pte = mm.pgd.get(Math.floor(addr / PAGE))
  if (!pte_present(pte)) out.push(pte === 0 ? 'no page yet: the first access faults one in (demand paging)' : 'not present (swap entry or marker)')
  else out.push(why_pfn(m, pte_pfn(pte)))
  return out.join('\n')
}

/** A VMA start as /proc/<pid>/maps prints it (at least 8 hex digits, %08lx). */
function mm_hex(n: number): string {
  return n.toString(16).padStart(8, '0')
}
