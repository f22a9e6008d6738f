import { describe, expect, it } from 'vitest'
import { MAP_PRIVATE, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { try_to_unmap } from '../../src/mm/rmap_unmap.js'
import { boot } from '../helpers.js'

const PFN_MASK = (1n << 55n) - 1n

/**
 * The allocation a fault makes may reclaim, and reclaim may unmap the very page the fault is
 * resolving (try_to_unmap() from shrink_folio_list()). Linux holds the page (vmf->page,
 * folio_get()) and, after allocating, finds the PTE changed (pte_same()) and lets the access
 * fault again. Here the allocation runs try_to_unmap() on the page once, as reclaim would.
 */
describe('a fault whose allocation reclaims the page it resolves', () => {
  it('COW of a file page mapped read-only: the copy is dropped, the access faults again and copies the page', () => {
    const m = boot({ ram: '32M' })
    const p = m.spawn({ name: 'cow' })
    const fd = p.open('/data/race', O_CREAT | O_RDWR)
    p.pwrite(fd, [7, 7])
    const a = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd)
    // A read fault maps the page-cache page read-only; the write below copies it (do_wp_page()).
    expect([...p.load(a, 2)]).toEqual([7, 7])
    const c = p.fork()
    const pfn = Number(p.pagemap(a, 1)[0] & PFN_MASK)
    const env = m.mm_env
    const alloc = env.alloc_pages
    let raced = 0
    env.alloc_pages = (gfp, order) => {
      if (!raced++) try_to_unmap(env, pfn)
      return alloc(gfp, order)
    }
    try {
      p.store(a + 1, [9])
    } finally {
      env.alloc_pages = alloc
    }
    expect(raced).toBeGreaterThan(0)
    expect([...p.load(a, 2)]).toEqual([7, 9])
    expect([...c.load(a, 2)]).toEqual([7, 7])
    expect([...p.pread(fd, 2, 0)]).toEqual([7, 7])
    m.check()
  })
})
