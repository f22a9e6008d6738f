import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'

const PAGE = 4096

describe('swap to zram', () => {
  it('MADV_PAGEOUT swaps anonymous pages out and faults them back', () => {
    const m = boot({ swap: '16M' })
    const p = m.spawn()
    const a = p.mmap(0, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    for (let i = 0; i < 8; i++) p.store(a + i * PAGE, [i + 1, 2, 3])
    p.madvise(a, 8 * PAGE, MADV_PAGEOUT)
    expect(m.proc('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t16380\t\t32\t\t-2\n')
    expect([...p.mincore(a, 8 * PAGE)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    for (let i = 0; i < 8; i++) expect([...p.load(a + i * PAGE, 3)]).toEqual([i + 1, 2, 3])
    m.check()
  })
})
