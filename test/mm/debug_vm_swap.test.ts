/**
 * The swap side of the invariant checker (src/mm/debug_vm_swap.ts) names
 * what is wrong, in a used slot and in the free slots its scan passes
 * quickly (no reference, folio or shadow): a continuation count, shadow or
 * folio left on a free slot, or a swap PTE naming one, is still found.
 * These tests break the swap state on purpose and run the checker
 * themselves, so their machines run with debug_vm off.
 */
import { describe, expect, it } from 'vitest'
import { check_swap } from '../../src/mm/debug_vm_swap.js'
import { MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { boot } from '../helpers.js'

const PAGE = 4096

/** A machine with 4 pages of a process out on a 16 MiB zram area, and that area. */
function swapped() {
  const m = boot({ swap: '16M', debug_vm: false })
  const p = m.spawn()
  const a = p.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
  for (let i = 0; i < 4; i++) p.store(a + i * PAGE, [i + 1])
  p.madvise(a, 4 * PAGE, MADV_PAGEOUT)
  const si = m.mm_env.swap.swap_info[0]
  const used = [...si.swap_map.keys()].filter((off) => off > 0 && si.swap_map[off] !== 0)
  const free = si.max - 1
  const check = (): void => check_swap(m.mm_env, [p.mm])
  return { m, p, si, used, free, check }
}

describe('check_swap', () => {
  it('passes a consistent area and names a used slot whose count is off', () => {
    const { si, used, check } = swapped()
    expect(used).toHaveLength(4)
    check()
    si.swap_map[used[0]]++
    expect(check).toThrow(`check_swap: swap type 0 offset ${used[0]} has count 2 but 1 swap PTEs`)
    si.swap_map[used[0]]--
    check()
  })

  it('finds a continuation count, a shadow or a cached folio left on a free slot', () => {
    const { si, free, check } = swapped()
    expect(si.swap_map[free]).toBe(0)
    si.continued.set(free, 1)
    expect(check).toThrow(`check_swap: swap type 0 offset ${free} has count 1 but 0 swap PTEs`)
    si.continued.delete(free)
    si.shadow[free] = 7
    expect(check).toThrow(`check_swap: free slot ${free} of type 0 keeps a shadow`)
    si.shadow[free] = 0
    si.cache[free] = 1
    expect(check).toThrow(`check_swap: swap type 0 offset ${free}: SWAP_HAS_CACHE false but cached folio 0`)
    si.cache[free] = 0
    check()
  })

  it('finds a swap PTE that names a free slot', () => {
    const { si, used, check } = swapped()
    const off = used[0]
    const v = si.swap_map[off]
    si.swap_map[off] = 0
    expect(check).toThrow(`check_swap: swap type 0 offset ${off} has count 0 but 1 swap PTEs`)
    si.swap_map[off] = v
    check()
  })
})
