import { describe, expect, it } from 'vitest'
import { ErrnoError, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { boot } from '../helpers.js'

const PFN_MASK = (1n << 55n) - 1n

/**
 * fork() with the k-th page allocation failing, for every k that fork reaches: it fails with
 * ENOMEM and leaves nothing behind (no child, the parent's pages with their old reference and
 * map counts, the page tables of the half-built child freed), or it succeeds and the child
 * reads the parent's bytes.
 */
describe('fork under allocation failure', () => {
  it('fails with ENOMEM and no trace, or the child sees the parent\'s data, whichever allocation fails', () => {
    let failures = 0
    let successes = 0
    for (let k = 1; k <= 40; k++) {
      const m = boot({ ram: '32M' })
      const p = m.spawn({ name: 'parent' })
      // Three regions 1 GiB apart: the child needs its own pud, pmd and pte tables for each.
      const addrs = [0x100000000000, 0x100040000000, 0x100080000000]
      for (const [i, a] of addrs.entries()) {
        p.mmap(a, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x10)
        p.store(a + 100, [i + 1, 2, 3, 4])
        p.store(a + 4096, [9, i])
      }
      const pfns = addrs.flatMap((a) => p.pagemap(a, 2).map((e) => Number(e & PFN_MASK)))
      const counts = pfns.map((pfn) => [m.pages._refcount[pfn], m.pages._mapcount[pfn]])
      const tables = m.proc('/proc/meminfo').match(/PageTables:\s+(\d+)/)![1]
      const tasks = m.syscalls.tasks.size
      Object.assign(m.fail_page_alloc, { probability: 100, interval: k, times: 1, min_order: 0, ignore_gfp_reclaim: false, verbose: 0 })
      let child
      try {
        child = p.fork()
      } catch (e) {
        expect(e).toBeInstanceOf(ErrnoError)
        expect((e as ErrnoError).code).toBe('ENOMEM')
      }
      m.fail_page_alloc.probability = 0
      if (child) {
        successes++
        for (const [i, a] of addrs.entries()) {
          expect([...child.load(a + 100, 4)]).toEqual([i + 1, 2, 3, 4])
          expect([...child.load(a + 4096, 2)]).toEqual([9, i])
        }
        child.exit(0)
        child.wait()
      } else {
        failures++
        expect(m.syscalls.tasks.size).toBe(tasks)
        expect(pfns.map((pfn) => [m.pages._refcount[pfn], m.pages._mapcount[pfn]])).toEqual(counts)
        expect(m.proc('/proc/meminfo').match(/PageTables:\s+(\d+)/)![1]).toBe(tables)
      }
      for (const [i, a] of addrs.entries()) expect([...p.load(a + 100, 4)]).toEqual([i + 1, 2, 3, 4])
      m.check()
    }
    // Both outcomes were reached: the early allocations fail fork, the late ones are past it.
    expect(failures).toBeGreaterThan(5)
    expect(successes).toBeGreaterThan(0)
  })
})
