/**
 * DEBUG_VM after each operation, in proportion to what it touched: the page
 * allocator logs the head of every block that changed state (allocated,
 * freed, put on or taken off a free list) in `debug_touched`, and this
 * check proves the invariants of debug_vm.ts around those blocks only:
 *  - each touched frame lies in exactly one block: a free buddy block, a pcp
 *    block, an allocated block, or is reserved (no overlap, no leak);
 *  - a free block is aligned, inside its zone, linked both ways to
 *    neighbours of its own order and pageblock type (or is its list's end),
 *    holds no allocated or free head inside, has no free buddy it should
 *    have merged with, refcount 0, not compound;
 *  - an allocated block has a reference (or is reserved) and no free head inside;
 * plus what is cheap to recount whole: every pcp list, each zone's nr_free
 * per order and NR_FREE_PAGES. The whole-machine recount (check_page_alloc)
 * still runs when the caller asks (Machine.check()).
 */
import { KernelBug } from '../include/bug.js'
import { MIGRATE_PCPTYPES } from './gfp.js'
import { MAX_PAGE_ORDER, NR_FREE_PAGES, pageblock_order, type Zone } from './mmzone.js'
import { PG_head, PG_reserved, PGTY_buddy } from './page.js'
import type { PageAllocator } from './page_alloc.js'

function hex(pfn: number): string {
  return '0x' + pfn.toString(16)
}

/**
 * The pcp blocks found by one check: head -> order + 1 in a per-machine byte
 * array (0 elsewhere), the heads in `heads` so the marks are cleared after.
 * (A Map of them, rebuilt after every call, cost more than the rest of the check.)
 */
interface PcpBlocks {
  order1: Int8Array
  heads: number[]
}

const pcp_scratch = new WeakMap<PageAllocator, PcpBlocks>()

/** The pcp blocks of every CPU of a zone, marked in `pcp_blocks`, after checking each list and count. */
function check_pcp(alloc: PageAllocator, z: Zone, pcp_blocks: PcpBlocks): void {
  const { order1, heads } = pcp_blocks
  const p = alloc.pages
  // (index loops here and below: this runs after every call, and entries()/for-of allocated per CPU and per order)
  const pcps = z.per_cpu_pageset
  for (let cpu = 0; cpu < pcps.length; cpu++) {
    const pcp = pcps[cpu]
    let count = 0
    for (let idx = 0; idx < pcp.lists.length; idx++) {
      const order = Math.floor(idx / MIGRATE_PCPTYPES)
      let n = 0
      for (let pfn = pcp.lists[idx].head; pfn >= 0; pfn = p.lru_next[pfn]) {
        if (!z.spans(pfn)) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} of cpu ${cpu} is outside zone ${z.name}`)
        if (p._refcount[pfn] !== 0) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} has refcount ${p._refcount[pfn]}`)
        if (order1[pfn] !== 0) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} is on two pcp lists`)
        order1[pfn] = order + 1
        heads.push(pfn)
        count += 1 << order
        if (++n > pcp.lists[idx].count) break
      }
      if (n !== pcp.lists[idx].count) throw new KernelBug(`check_page_alloc: pcp list ${idx} of cpu ${cpu} counts ${pcp.lists[idx].count}, holds ${n}`)
    }
    if (count !== pcp.count) throw new KernelBug(`check_page_alloc: zone ${z.name} cpu ${cpu} pcp->count ${pcp.count} but lists hold ${count}`)
  }
}

/** nr_free per order against its lists' counts, and NR_FREE_PAGES against the orders. */
function check_free_counts(z: Zone): void {
  let free = 0
  for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
    const area = z.free_area[order]
    let nr = 0
    const lists = area.free_list
    for (let mt = 0; mt < lists.length; mt++) nr += lists[mt].count
    if (nr !== area.nr_free) throw new KernelBug(`check_page_alloc: ${z.name} order ${order} nr_free ${area.nr_free}, lists hold ${nr}`)
    free += nr << order
  }
  if (free !== z.vm_stat[NR_FREE_PAGES]) throw new KernelBug(`check_page_alloc: ${z.name} NR_FREE_PAGES ${z.vm_stat[NR_FREE_PAGES]}, free lists hold ${free}`)
}

/** A free block's place on its list: both links agree and lead to blocks of its order and type. */
function check_free_links(alloc: PageAllocator, z: Zone, h: number, order: number): void {
  const p = alloc.pages
  const mt = alloc.get_pfnblock_migratetype(h)
  const list = z.free_area[order].free_list[mt]
  const where = `${z.name} order ${order} mt ${mt}`
  const neighbour = (x: number, side: string): void => {
    if (p.page_type[x] !== PGTY_buddy || p.order[x] !== order || !z.spans(x) || alloc.get_pfnblock_migratetype(x) !== mt) {
      throw new KernelBug(`check_page_alloc: free block ${hex(h)} on ${where} has a ${side} link to ${hex(x)}, not a free block of that list`)
    }
  }
  const prev = p.lru_prev[h]
  const next = p.lru_next[h]
  if (prev < 0) {
    if (list.head !== h) throw new KernelBug(`check_page_alloc: free block ${hex(h)} has no prev link but is not the head of ${where}`)
  } else {
    neighbour(prev, 'prev')
    if (p.lru_next[prev] !== h) throw new KernelBug(`check_page_alloc: broken back link at ${hex(h)} on ${where}`)
  }
  if (next < 0) {
    if (list.tail !== h) throw new KernelBug(`check_page_alloc: free block ${hex(h)} has no next link but is not the tail of ${where}`)
  } else {
    neighbour(next, 'next')
    if (p.lru_prev[next] !== h) throw new KernelBug(`check_page_alloc: broken forward link at ${hex(h)} on ${where}`)
  }
}

/** Check the blocks around each logged frame, then the pcp lists and free counts of every zone. */
export function check_page_alloc_touched(alloc: PageAllocator, touched: readonly number[], present: (pfn: number) => boolean): void {
  const p = alloc.pages
  let pcp_blocks = pcp_scratch.get(alloc)
  if (!pcp_blocks) pcp_scratch.set(alloc, (pcp_blocks = { order1: new Int8Array(p.nr), heads: [] }))
  try {
    check_blocks(alloc, touched, present, pcp_blocks)
  } finally {
    for (const h of pcp_blocks.heads) pcp_blocks.order1[h] = 0
    pcp_blocks.heads.length = 0
  }
}

/** check_page_alloc_touched() with its pcp marks at hand. */
function check_blocks(alloc: PageAllocator, touched: readonly number[], present: (pfn: number) => boolean, pcp_blocks: PcpBlocks): void {
  const p = alloc.pages
  const pcp_order1 = pcp_blocks.order1
  const zones = alloc.zones
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i]
    if (!z.spanned_pages) continue
    check_pcp(alloc, z, pcp_blocks)
    check_free_counts(z)
  }
  if (touched.length === 0) return
  const seen = new Set<number>()
  // Block heads already checked by this call: the touched frames of one block (a run of frees
  // that merged into an order-10 block) check its 2^order frames once, not once each.
  const checked = new Set<number>()
  for (const t of touched) {
    if (seen.has(t)) continue
    seen.add(t)
    // Every block that could contain t: its head is t rounded down to the block's order.
    // (Counted here; block_states() names them only for the message.)
    let states = 0
    let free_head = -1
    let free_order = 0
    let alloc_head = -1
    let alloc_order = 0
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
      const h = t - (t % (1 << o))
      if (p.page_type[h] === PGTY_buddy && p.order[h] === o) {
        states++
        free_head = h
        free_order = o
      }
      if (pcp_order1[h] === o + 1) states++
      if (p.owner_order[h] === o + 1) {
        states++
        alloc_head = h
        alloc_order = o
      }
    }
    if (states === 0 && (p.flags[t] & (1 << PG_reserved) || !present(t))) continue
    if (states === 0) throw new KernelBug(`check_page_alloc: pfn ${hex(t)} is in no state (leaked: refcount ${p._refcount[t]})`)
    if (states > 1) throw new KernelBug(`check_page_alloc: pfn ${hex(t)} is in ${block_states(alloc, pcp_blocks, t).join(' and ')}`)
    const head = free_head >= 0 ? free_head : alloc_head
    if (head < 0 || checked.has(head)) continue
    checked.add(head)
    if (free_head >= 0) check_free_block(alloc, free_head, free_order)
    if (alloc_head >= 0) {
      if (p._refcount[alloc_head] <= 0 && !(p.flags[alloc_head] & (1 << PG_reserved)) && !alloc.bad_page_leaks.has(alloc_head)) {
        throw new KernelBug(`check_page_alloc: allocated page ${hex(alloc_head)} has refcount ${p._refcount[alloc_head]}`)
      }
      for (let i = alloc_head, e = alloc_head + (1 << alloc_order); i < e; i++) {
        if (p.page_type[i] === PGTY_buddy) throw new KernelBug(`check_page_alloc: allocated block ${hex(alloc_head)} holds free block ${hex(i)}`)
      }
    }
  }
}

/** The blocks holding frame t, named as check_page_alloc_touched() counts them (the order of its loop). */
function block_states(alloc: PageAllocator, pcp_blocks: PcpBlocks, t: number): string[] {
  const p = alloc.pages
  const states: string[] = []
  for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
    const h = t - (t % (1 << o))
    if (p.page_type[h] === PGTY_buddy && p.order[h] === o) states.push(`free order ${o} at ${hex(h)}`)
    if (pcp_blocks.order1[h] === o + 1) states.push(`pcp order ${o} at ${hex(h)}`)
    if (p.owner_order[h] === o + 1) states.push(`allocated order ${o} at ${hex(h)}`)
  }
  return states
}

/** A free block's own invariants (see the file comment). */
function check_free_block(alloc: PageAllocator, h: number, order: number): void {
  const p = alloc.pages
  const size = 1 << order
  const z = alloc.page_zone(h)
  if (!z.spans(h) || !z.spans(h + size - 1)) throw new KernelBug(`check_page_alloc: free block ${hex(h)} leaves zone ${z.name}`)
  if (p._refcount[h] !== 0 || p.flags[h] & (1 << PG_head)) throw new KernelBug(`check_page_alloc: free block ${hex(h)} has refcount or is compound`)
  for (let i = h + 1; i < h + size; i++) {
    if (p.page_type[i] === PGTY_buddy || p.owner_order[i] !== 0) {
      throw new KernelBug(`check_page_alloc: free block ${hex(h)} order ${order} holds another block at ${hex(i)}`)
    }
  }
  if (p.owner_order[h] !== 0) throw new KernelBug(`check_page_alloc: free block ${hex(h)} is also allocated`)
  check_free_links(alloc, z, h, order)
  const buddy = h ^ size
  if (order < MAX_PAGE_ORDER && z.spans(buddy) && p.page_type[buddy] === PGTY_buddy && p.order[buddy] === order) {
    const mt = alloc.get_pfnblock_migratetype(h)
    const bmt = alloc.get_pfnblock_migratetype(buddy)
    if (order < pageblock_order || (mt < MIGRATE_PCPTYPES && bmt < MIGRATE_PCPTYPES)) {
      throw new KernelBug(`check_page_alloc: free block ${hex(h)} order ${order} has a free buddy ${hex(buddy)} it did not merge with`)
    }
  }
}
