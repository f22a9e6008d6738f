/**
 * The whole-machine recounts of the LRU lists (check_lru) and of the rmap
 * map counts (check_rmap_counts) find what they are for: a map count no
 * page table explains, a PTE the map count leaves out, a page flagged
 * PG_lru on no list. Each state is repaired after,
 * and the recount passes again (the checkers reuse their per-frame
 * buffers from one run to the next: a stale mark must not hide a bug).
 */
import { describe, expect, it } from 'vitest'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { PG_lru } from '../../src/mm/page.js'
import { pte_pfn } from '../../src/arch/pte.js'
import { boot } from '../helpers.js'

describe('whole-machine recounts', () => {
  it('check_rmap_counts: a map count off by one either way is named', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    for (let i = 0; i < 4; i++) p.store(a + i * 4096, [i + 1])
    const f = pte_pfn(p.mm.pgd.get(a / 4096 + 2)) // the third page's frame
    expect(m.pages._mapcount[f]).toBe(1)
    m.check()
    m.pages._mapcount[f] = 2
    expect(() => m.check()).toThrow(`check_rmap_counts: pfn 0x${f.toString(16)} is mapped by 1 PTEs but has mapcount 2`)
    m.pages._mapcount[f] = 1
    m.check()
    // A frame nobody maps with a map count: found by the pass over every frame.
    const free = m.page_alloc.zones.find((z) => z.managed_pages)!.zone_start_pfn + 4096
    const was = m.pages._mapcount[free]
    m.pages._mapcount[free] = 1
    expect(() => m.check()).toThrow(/check_rmap_counts: pfn 0x[0-9a-f]+ has mapcount 1 but no PTE maps it/)
    m.pages._mapcount[free] = was
    m.check()
  })

  it('check_lru: a page flagged PG_lru on no list is named', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(a, [1])
    p.store(a + 4096, [2])
    m.check()
    const pa = m.page_alloc
    const f = pa.alloc_pages(0xcc0, 0)
    expect(f).toBeGreaterThan(0)
    m.pages.set(f, PG_lru)
    expect(() => m.check()).toThrow(`check_lru: pfn 0x${f.toString(16)} has PG_lru but is on no list`)
    m.pages.clear(f, PG_lru)
    pa.__free_pages(f, 0)
    m.check()
  })
})
