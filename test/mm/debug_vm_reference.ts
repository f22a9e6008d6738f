/**
 * The page allocator's DEBUG_VM checker as it was before it was made fast
 * (src/mm/debug_vm.ts at afecb6e, renamed): the obviously-correct version,
 * kept as the reference its fast replacement is tested against in
 * debug_vm_equiv.test.ts (same verdict and same message on any state).
 */
import { KernelBug } from '../../src/include/bug.js'
import { MIGRATE_PCPTYPES } from '../../src/mm/gfp.js'
import { MAX_PAGE_ORDER, NR_FREE_PAGES, pageblock_order, type Zone } from '../../src/mm/mmzone.js'
import { PG_head, PG_reserved, PGTY_buddy, type PageArray } from '../../src/mm/page.js'
import type { PageAllocator } from '../../src/mm/page_alloc.js'

const FREE = 1
const PCP = 2
const RESERVED = 3
const ALLOCATED = 4
const names = ['none', 'free', 'pcp', 'reserved', 'allocated']

function hex(pfn: number): string {
  return '0x' + pfn.toString(16)
}

export function check_page_alloc_reference(alloc: PageAllocator, present: (pfn: number) => boolean): void {
  const p: PageArray = alloc.pages
  const state = new Uint8Array(p.nr)
  const mark = (pfn: number, n: number, s: number, what: string): void => {
    for (let i = pfn; i < pfn + n; i++) {
      if (state[i] !== 0) throw new KernelBug(`check_page_alloc: pfn ${hex(i)} is both ${names[state[i]]} and ${names[s]} (${what})`)
      state[i] = s
    }
  }
  for (const z of alloc.zones) {
    if (!z.spanned_pages) continue
    check_zone_free_lists(alloc, z, mark)
    for (const [cpu, pcp] of z.per_cpu_pageset.entries()) {
      let count = 0
      for (let idx = 0; idx < pcp.lists.length; idx++) {
        const order = Math.floor(idx / MIGRATE_PCPTYPES)
        let n = 0
        for (let pfn = pcp.lists[idx].head; pfn >= 0; pfn = p.lru_next[pfn]) {
          if (!z.spans(pfn)) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} of cpu ${cpu} is outside zone ${z.name}`)
          if (p._refcount[pfn] !== 0) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} has refcount ${p._refcount[pfn]}`)
          mark(pfn, 1 << order, PCP, `cpu ${cpu} pcp list ${idx}`)
          count += 1 << order
          n++
        }
        if (n !== pcp.lists[idx].count) throw new KernelBug(`check_page_alloc: pcp list ${idx} of cpu ${cpu} counts ${pcp.lists[idx].count}, holds ${n}`)
      }
      if (count !== pcp.count) throw new KernelBug(`check_page_alloc: zone ${z.name} cpu ${cpu} pcp->count ${pcp.count} but lists hold ${count}`)
    }
  }
  // Allocated blocks (page_owner order on the head) and reserved pages.
  for (const z of alloc.zones) {
    for (let pfn = z.zone_start_pfn; pfn < z.zone_end_pfn; ) {
      if (state[pfn] === FREE || state[pfn] === PCP) {
        pfn++
        continue
      }
      const oo = p.owner_order[pfn]
      if (oo > 0) {
        const n = 1 << (oo - 1)
        mark(pfn, n, ALLOCATED, 'allocated block')
        if (p._refcount[pfn] <= 0 && !(p.flags[pfn] & (1 << PG_reserved))) {
          throw new KernelBug(`check_page_alloc: allocated page ${hex(pfn)} has refcount ${p._refcount[pfn]}`)
        }
        pfn += n
        continue
      }
      if (p.flags[pfn] & (1 << PG_reserved) || !present(pfn)) {
        mark(pfn, 1, RESERVED, 'reserved')
        pfn++
        continue
      }
      throw new KernelBug(`check_page_alloc: pfn ${hex(pfn)} in zone ${z.name} is in no state (leaked: refcount ${p._refcount[pfn]})`)
    }
  }
}

function check_zone_free_lists(alloc: PageAllocator, z: Zone, mark: (pfn: number, n: number, s: number, what: string) => void): void {
  const p = alloc.pages
  let free = 0
  for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
    const area = z.free_area[order]
    let nr = 0
    for (let mt = 0; mt < area.free_list.length; mt++) {
      const list = area.free_list[mt]
      let n = 0
      let prev = -1
      for (let pfn = list.head; pfn >= 0; pfn = p.lru_next[pfn]) {
        const where = `${z.name} order ${order} mt ${mt}`
        if (p.lru_prev[pfn] !== prev) throw new KernelBug(`check_page_alloc: broken back link at ${hex(pfn)} on ${where}`)
        if (p.page_type[pfn] !== PGTY_buddy || p.order[pfn] !== order) {
          throw new KernelBug(`check_page_alloc: ${hex(pfn)} on ${where} is not a buddy of that order`)
        }
        if (pfn % (1 << order) !== 0) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} on ${where} is misaligned`)
        if (!z.spans(pfn) || !z.spans(pfn + (1 << order) - 1)) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} leaves zone ${z.name}`)
        const block_mt = alloc.get_pfnblock_migratetype(pfn)
        if (block_mt !== mt) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} on ${where} but its pageblock is type ${block_mt}`)
        if (p._refcount[pfn] !== 0 || p.test(pfn, PG_head)) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} has refcount or is compound`)
        const buddy = pfn ^ (1 << order)
        if (order < MAX_PAGE_ORDER && z.spans(buddy) && p.page_type[buddy] === PGTY_buddy && p.order[buddy] === order) {
          const bmt = alloc.get_pfnblock_migratetype(buddy)
          const mergeable = mt < MIGRATE_PCPTYPES && bmt < MIGRATE_PCPTYPES
          if (order < pageblock_order || mergeable) {
            throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} order ${order} has a free buddy ${hex(buddy)} it did not merge with`)
          }
        }
        mark(pfn, 1 << order, FREE, where)
        free += 1 << order
        n++
        prev = pfn
      }
      if (n !== list.count) throw new KernelBug(`check_page_alloc: ${z.name} order ${order} mt ${mt} counts ${list.count}, holds ${n}`)
      if (prev !== list.tail) throw new KernelBug(`check_page_alloc: ${z.name} order ${order} mt ${mt} tail is wrong`)
      nr += n
    }
    if (nr !== area.nr_free) throw new KernelBug(`check_page_alloc: ${z.name} order ${order} nr_free ${area.nr_free}, lists hold ${nr}`)
  }
  if (free !== z.vm_stat[NR_FREE_PAGES]) throw new KernelBug(`check_page_alloc: ${z.name} NR_FREE_PAGES ${z.vm_stat[NR_FREE_PAGES]}, free lists hold ${free}`)
}
