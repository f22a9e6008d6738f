/**
 * Machine.deferred_check(): the per-call DEBUG_VM checker is suspended over
 * a block and the full check runs once at its end, however the block ends.
 */
import { describe, expect, it } from 'vitest'
import { GFP_KERNEL, KernelBug, type Page } from '../../src/index.js'
import { boot } from '../helpers.js'
import { NR_FREE_PAGES } from '../../src/mm/mmzone.js'

describe('Machine.deferred_check', () => {
  it('suspends the per-call check inside the block and runs the full check at its end', () => {
    const m = boot()
    const k = m.kernel
    const p = k.alloc_page(GFP_KERNEL) as Page
    // A broken state that lives only inside the block is not seen...
    const got = m.deferred_check(() => {
      m.pages.owner_order[p] = 0 // the page is now in no state: the checker calls it leaked
      const q = k.alloc_page(GFP_KERNEL) // no check after this call
      m.pages.owner_order[p] = 1
      return q
    })
    expect(got).not.toBeNull()
    // ...one left at the end is.
    expect(() => m.deferred_check(() => (m.pages.owner_order[p] = 0))).toThrow(KernelBug)
    m.pages.owner_order[p] = 1
    // The per-call check is back after the block (it recounts the free lists' counters whole).
    const zone = m.page_alloc.page_zone(p)
    zone.vm_stat[NR_FREE_PAGES]++
    expect(() => k.alloc_page(GFP_KERNEL)).toThrow(/NR_FREE_PAGES/)
    zone.vm_stat[NR_FREE_PAGES]--
    m.check()
  })

  it('checks at the end when the block throws, and nests', () => {
    const m = boot()
    const k = m.kernel
    const p = k.alloc_page(GFP_KERNEL) as Page
    // an ordinary exception passes through when the state is consistent
    expect(() => m.deferred_check(() => { throw new RangeError('from the block') })).toThrow(RangeError)
    // a broken invariant wins over the block's exception
    expect(() => m.deferred_check(() => {
      m.pages.owner_order[p] = 0
      throw new RangeError('from the block')
    })).toThrow(KernelBug)
    m.pages.owner_order[p] = 1
    // the inner block's end checks too, with the outer one still deferring
    expect(() => m.deferred_check(() => m.deferred_check(() => (m.pages.owner_order[p] = 0)))).toThrow(KernelBug)
    m.pages.owner_order[p] = 1
    expect(m.kernel.after_op).not.toBeNull()
    expect(m.syscalls.after_syscall).not.toBeNull()
  })

  it('runs the final check on a machine without debug_vm too', () => {
    const m = boot({ debug_vm: false })
    const p = m.kernel.alloc_page(GFP_KERNEL) as Page
    expect(() => m.deferred_check(() => (m.pages.owner_order[p] = 0))).toThrow(KernelBug)
  })
})
