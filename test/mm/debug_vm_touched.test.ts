/**
 * The per-call page-allocator check (debug_vm_touched.ts): each invariant
 * broken on purpose around a block a call touched must be reported, the
 * counters it recounts whole must be too, and on a consistent machine it
 * agrees with the whole-machine recount over random allocation sequences.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { GFP_KERNEL, type Page } from '../../src/index.js'
import { check_page_alloc_touched } from '../../src/mm/debug_vm_touched.js'
import { NR_FREE_PAGES } from '../../src/mm/mmzone.js'
import { PGTY_buddy } from '../../src/mm/page.js'
import { boot, corrupted } from '../helpers.js'
import type { Machine } from '../../src/machine.js'

function check(m: Machine, touched: number[]): void {
  check_page_alloc_touched(m.page_alloc, touched, (pfn) => m.pfn_present(pfn))
}

/** A free order-0 block on a buddy list (not on a pcp list): drained there and found by its type. */
function free_block(m: Machine): number {
  m.page_alloc.drain_all_pages()
  for (let pfn = 0; pfn < m.pages.nr; pfn++) {
    if (m.pages.page_type[pfn] === PGTY_buddy && m.pages.order[pfn] === 0 && m.pages.lru_prev[pfn] >= 0) return pfn
  }
  throw new Error('no free order-0 block with a predecessor')
}

describe('check_page_alloc_touched', () => {
  it('reports a touched frame in no state (leaked)', () => {
    const m = boot()
    corrupted(m)
    const p = m.kernel.alloc_page(GFP_KERNEL) as Page
    m.pages.owner_order[p] = 0
    expect(() => check(m, [p])).toThrow(/in no state \(leaked/)
    // An untouched leak waits for the whole recount.
    expect(() => check(m, [])).not.toThrow()
    expect(() => m.check()).toThrow(/in no state/)
  })

  it('reports a frame that is both allocated and free', () => {
    const m = boot()
    corrupted(m)
    const p = m.kernel.alloc_page(GFP_KERNEL) as Page
    m.pages.page_type[p] = PGTY_buddy
    m.pages.order[p] = 0
    expect(() => check(m, [p])).toThrow(/is in free order 0 .* and allocated order 0/)
  })

  it('reports an allocated block without a reference', () => {
    const m = boot()
    corrupted(m)
    const p = m.kernel.alloc_page(GFP_KERNEL) as Page
    m.pages._refcount[p] = 0
    expect(() => check(m, [p])).toThrow(/allocated page .* has refcount 0/)
  })

  it('reports a free block whose list links disagree', () => {
    const m = boot()
    corrupted(m)
    const f = free_block(m)
    m.pages.lru_next[m.pages.lru_prev[f]] = -1
    expect(() => check(m, [f])).toThrow(/broken back link/)
  })

  it('reports a free block linked to a block of another order', () => {
    const m = boot()
    corrupted(m)
    const f = free_block(m)
    m.pages.order[m.pages.lru_prev[f]] = 1
    expect(() => check(m, [f])).toThrow(/prev link to .*not a free block of that list/)
  })

  it('reports a free block holding an allocated head', () => {
    const m = boot()
    corrupted(m)
    m.page_alloc.drain_all_pages()
    let big = -1
    for (let pfn = 0; pfn < m.pages.nr && big < 0; pfn++) if (m.pages.page_type[pfn] === PGTY_buddy && m.pages.order[pfn] >= 3) big = pfn
    m.pages.owner_order[big + 5] = 1
    expect(() => check(m, [big])).toThrow(/holds another block/)
  })

  it('recounts NR_FREE_PAGES and the pcp counts on every call, touched or not', () => {
    const m = boot()
    corrupted(m)
    const z = m.page_alloc.page_zone(m.kernel.alloc_page(GFP_KERNEL) as Page)
    z.vm_stat[NR_FREE_PAGES] += 1
    expect(() => check(m, [])).toThrow(/NR_FREE_PAGES/)
    z.vm_stat[NR_FREE_PAGES] -= 1
    const pcp = z.per_cpu_pageset[0]
    pcp.count += 1
    expect(() => check(m, [])).toThrow(/pcp->count/)
  })

  it('runs after each call of a debug_vm machine: a call that touches a broken block reports it', () => {
    const m = boot()
    const p = m.kernel.alloc_page(GFP_KERNEL) as number
    m.kernel.__free_pages(p as Page, 0)
    // p waits at the head of a pcp list for the next order-0 allocation. Make an allocated
    // block of the next order up claim it too (its head is p with its lowest set bit cleared).
    const low = p & -p
    m.pages.owner_order[p - low] = Math.log2(low) + 2
    expect(() => m.kernel.alloc_page(GFP_KERNEL)).toThrow(new RegExp(`pfn 0x${p.toString(16)} is in allocated order 0 .* and allocated order`))
    corrupted(m)
  })

  it('agrees with the whole recount on consistent machines (random alloc/free sequences)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.nat()), { maxLength: 60 }), (ops) => {
        const m = boot({ debug_vm: false })
        m.page_alloc.debug_touched = []
        const live: [number, number][] = []
        for (const [alloc, order, pick] of ops) {
          if (alloc || live.length === 0) {
            const p = m.kernel.alloc_pages(GFP_KERNEL, order) as number
            if (p >= 0) live.push([p, order])
          } else {
            const [p, o] = live.splice(pick % live.length, 1)[0]
            m.kernel.__free_pages(p as Page, o)
          }
          check(m, m.page_alloc.debug_touched)
          m.page_alloc.debug_touched.length = 0
        }
        m.check()
      }),
      { numRuns: 40 },
    )
  })
})
