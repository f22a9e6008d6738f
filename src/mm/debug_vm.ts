/**
 * The simulator's DEBUG_VM: a full consistency check of the page allocator
 * (Kernel: the VM_BUG_ON family, CONFIG_DEBUG_VM, page_owner). It recounts
 * everything from the raw struct-page arrays and lists and throws KernelBug
 * at the first inconsistency:
 *  - every frame of a zone is in exactly one state: in a free buddy block,
 *    on a pcp list, reserved, or inside one allocated block;
 *  - free blocks are aligned, inside their zone, on the list of their order
 *    and of their pageblock's migratetype, and have no free buddy of the
 *    same order they could have merged with;
 *  - per-order nr_free and NR_FREE_PAGES match a recount; pcp counts match.
 */
import { KernelBug } from '../include/bug.js'
import { MIGRATE_PCPTYPES } from './gfp.js'
import { MAX_PAGE_ORDER, NR_FREE_PAGES, pageblock_order, type Zone } from './mmzone.js'
import { PG_head, PG_reserved, PGTY_buddy, type PageArray } from './page.js'
import type { PageAllocator } from './page_alloc.js'

const FREE = 1
const PCP = 2
const RESERVED = 3
const ALLOCATED = 4
const names = ['none', 'free', 'pcp', 'reserved', 'allocated']
/**
 * A state byte is the state in its low 3 bits; the head of a free or pcp
 * block also holds (order + 1) << 3, so that the scan for allocated and
 * reserved frames steps over the block at once (it would only step over
 * its frames one by one).
 */
const STATE = 7
const HEAD_SHIFT = 3

function hex(pfn: number): string {
  return '0x' + pfn.toString(16)
}

/**
 * Mark frames [pfn, pfn + n) as being in state `s`: -1, or the first frame
 * already in a state, or past the last frame (the caller reports it). The
 * state bytes are also seen as 32-bit words (`words`, over the same
 * buffer), so a block aligned to 4 frames is tested 4 frames at a time and
 * filled with one fill(): the same answer as the byte loop, ~4x faster
 * over the mostly free memory of a large machine.
 */
function mark(state: Uint8Array, words: Uint32Array, nr: number, pfn: number, n: number, s: number): number {
  const end = pfn + n
  if (end <= nr && (pfn & 3) === 0 && (n & 3) === 0) {
    for (let w = pfn >> 2, we = end >> 2; w < we; w++) {
      if (words[w] !== 0) {
        for (let i = w << 2; ; i++) if (state[i] !== 0) return i
      }
    }
    state.fill(s, pfn, end)
    return -1
  }
  for (let i = pfn; i < end; i++) {
    if (i >= nr || state[i] !== 0) return i
    state[i] = s
  }
  return -1
}

/** The state bytes of a checker run, reused (zeroed) from one run to the next on the same machine. */
const state_buffers = new WeakMap<PageArray, Uint8Array>()
function state_buffer(p: PageArray): Uint8Array {
  let state = state_buffers.get(p)
  if (state) state.fill(0)
  else state_buffers.set(p, (state = new Uint8Array(Math.ceil(p.nr / 4) * 4)))
  return state
}

function both(state: Uint8Array, nr: number, i: number, s: number, what: string): KernelBug {
  const was = i < nr ? names[state[i] & STATE] : 'undefined' // a block running past the last frame
  return new KernelBug(`check_page_alloc: pfn ${hex(i)} is both ${was} and ${names[s]} (${what})`)
}

export function check_page_alloc(alloc: PageAllocator, present: (pfn: number) => boolean): void {
  const p: PageArray = alloc.pages
  const nr = p.nr
  const state = state_buffer(p)
  const words = new Uint32Array(state.buffer, state.byteOffset, state.length >> 2)
  const refcount = p._refcount
  const lru_next = p.lru_next
  for (const z of alloc.zones) {
    if (!z.spanned_pages) continue
    check_zone_free_lists(alloc, z, state, words)
    const zstart = z.zone_start_pfn
    const zend = zstart + z.spanned_pages
    for (const [cpu, pcp] of z.per_cpu_pageset.entries()) {
      let count = 0
      for (let idx = 0; idx < pcp.lists.length; idx++) {
        const order = Math.floor(idx / MIGRATE_PCPTYPES)
        const head_state = PCP | ((order + 1) << HEAD_SHIFT)
        let n = 0
        for (let pfn = pcp.lists[idx].head; pfn >= 0; pfn = lru_next[pfn]) {
          if (!(pfn >= zstart && pfn < zend)) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} of cpu ${cpu} is outside zone ${z.name}`)
          if (refcount[pfn] !== 0) throw new KernelBug(`check_page_alloc: pcp page ${hex(pfn)} has refcount ${refcount[pfn]}`)
          const clash = mark(state, words, nr, pfn, 1 << order, PCP)
          if (clash >= 0) throw both(state, nr, clash, PCP, `cpu ${cpu} pcp list ${idx}`)
          state[pfn] = head_state
          count += 1 << order
          n++
        }
        if (n !== pcp.lists[idx].count) throw new KernelBug(`check_page_alloc: pcp list ${idx} of cpu ${cpu} counts ${pcp.lists[idx].count}, holds ${n}`)
      }
      if (count !== pcp.count) throw new KernelBug(`check_page_alloc: zone ${z.name} cpu ${cpu} pcp->count ${pcp.count} but lists hold ${count}`)
    }
  }
  // Allocated blocks (page_owner order on the head) and reserved pages.
  const owner_order = p.owner_order
  const flags = p.flags
  const reserved = 1 << PG_reserved
  for (const z of alloc.zones) {
    const zend = z.zone_start_pfn + z.spanned_pages
    for (let pfn = z.zone_start_pfn; pfn < zend; ) {
      const st = state[pfn]
      const s = st & STATE
      if (s === FREE || s === PCP) {
        // The head of a block steps over it; a frame inside one (reached only
        // when a block crosses a zone boundary) steps one frame.
        pfn += st >> HEAD_SHIFT ? 1 << ((st >> HEAD_SHIFT) - 1) : 1
        continue
      }
      const oo = owner_order[pfn]
      if (oo > 0) {
        const n = 1 << (oo - 1)
        const clash = mark(state, words, nr, pfn, n, ALLOCATED)
        if (clash >= 0) throw both(state, nr, clash, ALLOCATED, 'allocated block')
        // A block bad_page() refused stays allocated with no reference: Linux leaks it.
        if (refcount[pfn] <= 0 && !(flags[pfn] & reserved) && !alloc.bad_page_leaks.has(pfn)) {
          throw new KernelBug(`check_page_alloc: allocated page ${hex(pfn)} has refcount ${refcount[pfn]}`)
        }
        pfn += n
        continue
      }
      if (flags[pfn] & reserved || !present(pfn)) {
        if (state[pfn] !== 0) throw both(state, nr, pfn, RESERVED, 'reserved')
        state[pfn] = RESERVED
        pfn++
        continue
      }
      throw new KernelBug(`check_page_alloc: pfn ${hex(pfn)} in zone ${z.name} is in no state (leaked: refcount ${refcount[pfn]})`)
    }
  }
}

function check_zone_free_lists(alloc: PageAllocator, z: Zone, state: Uint8Array, words: Uint32Array): void {
  const p = alloc.pages
  const nr_pfns = p.nr
  const lru_next = p.lru_next
  const lru_prev = p.lru_prev
  const page_type = p.page_type
  const porder = p.order
  const refcount = p._refcount
  const flags = p.flags
  const head = 1 << PG_head
  const zstart = z.zone_start_pfn
  const zend = zstart + z.spanned_pages
  const where = (order: number, mt: number): string => `${z.name} order ${order} mt ${mt}`
  let free = 0
  for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
    const area = z.free_area[order]
    const size = 1 << order
    const head_state = FREE | ((order + 1) << HEAD_SHIFT)
    let nr = 0
    for (let mt = 0; mt < area.free_list.length; mt++) {
      const list = area.free_list[mt]
      let n = 0
      let prev = -1
      for (let pfn = list.head; pfn >= 0; pfn = lru_next[pfn]) {
        if (lru_prev[pfn] !== prev) throw new KernelBug(`check_page_alloc: broken back link at ${hex(pfn)} on ${where(order, mt)}`)
        if (page_type[pfn] !== PGTY_buddy || porder[pfn] !== order) {
          throw new KernelBug(`check_page_alloc: ${hex(pfn)} on ${where(order, mt)} is not a buddy of that order`)
        }
        if (pfn % size !== 0) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} on ${where(order, mt)} is misaligned`)
        if (!(pfn >= zstart && pfn < zend) || !(pfn + size - 1 >= zstart && pfn + size - 1 < zend)) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} leaves zone ${z.name}`)
        const block_mt = alloc.get_pfnblock_migratetype(pfn)
        if (block_mt !== mt) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} on ${where(order, mt)} but its pageblock is type ${block_mt}`)
        if (refcount[pfn] !== 0 || (flags[pfn] & head) !== 0) throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} has refcount or is compound`)
        const buddy = pfn ^ size
        if (order < MAX_PAGE_ORDER && buddy >= zstart && buddy < zend && page_type[buddy] === PGTY_buddy && porder[buddy] === order) {
          const bmt = alloc.get_pfnblock_migratetype(buddy)
          const mergeable = mt < MIGRATE_PCPTYPES && bmt < MIGRATE_PCPTYPES
          if (order < pageblock_order || mergeable) {
            throw new KernelBug(`check_page_alloc: free block ${hex(pfn)} order ${order} has a free buddy ${hex(buddy)} it did not merge with`)
          }
        }
        const clash = mark(state, words, nr_pfns, pfn, size, FREE)
        if (clash >= 0) throw both(state, nr_pfns, clash, FREE, where(order, mt))
        state[pfn] = head_state
        free += size
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
