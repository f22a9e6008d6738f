/**
 * Swap entries, the swap map and swapon/swapoff's errors (mm/swapfile.c,
 * arch/x86/include/asm/pgtable_64.h): property tests against independent
 * models (the kernel's PTE bit formula in BigInt, a Map of counts).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { boot } from '../helpers.js'
import { pte_val_hex, read_entry, write_entry, pte_swp_exclusive, pte_swp_mkexclusive, swp_entry_to_pte, pte_swp_type, pte_swp_offset, is_swap_pte, pte_present } from '../../src/arch/pte.js'
import { ErrnoError } from '../../src/user/errors.js'
import { SWAP_FLAG_PREFER } from '../../src/index.js'
import { swp_entry, swp_offset, swp_type, SWAP_HAS_CACHE } from '../../src/mm/swap_h.js'
import { __swap_count, get_swap_page_of_type, put_swap_folio, swap_duplicate, swap_free } from '../../src/mm/swapfile.js'
import { S_IFCHR } from '../../src/fs/fs.js'

/** The kernel's x86_64 swap PTE: type in bits 59-63, ~offset in bits 9-58 (__swp_entry), _PAGE_SWP_EXCLUSIVE bit 3. */
function kernel_swp_pte(type: number, offset: number, exclusive: boolean): bigint {
  const mask50 = (1n << 50n) - 1n
  return (BigInt(type) << 59n) | ((~BigInt(offset) & mask50) << 9n) | (exclusive ? 8n : 0n)
}

describe('swap entries in PTEs', () => {
  it('are the kernel x86_64 bit layout, and read back from the frame', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 27 }), fc.integer({ min: 1, max: 2 ** 26 - 1 }), fc.boolean(), (type, offset, ex) => {
        let pte = swp_entry_to_pte(type, offset)
        if (ex) pte = pte_swp_mkexclusive(pte)
        expect(pte_val_hex(pte, 'x86_64')).toBe('0x' + kernel_swp_pte(type, offset, ex).toString(16).padStart(16, '0'))
        const buf = new Uint8Array(8)
        write_entry(buf, 0, 'x86_64', pte)
        const back = read_entry(buf, 0, 'x86_64')
        expect(back).toBe(pte)
        expect(is_swap_pte(back) && !pte_present(back)).toBe(true)
        expect([pte_swp_type(back), pte_swp_offset(back), pte_swp_exclusive(back)]).toEqual([type, offset, ex])
      }),
    )
    // A worked example: type 0, offset 1 is ~1 at bit 9.
    expect(pte_val_hex(swp_entry_to_pte(0, 1), 'x86_64')).toBe('0x07fffffffffffc00')
  })
  it('swp_entry packs type and offset into page->private', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 27 }), fc.integer({ min: 0, max: 2 ** 26 - 1 }), (t, o) => {
        const e = swp_entry(t, o)
        expect(e).toBeLessThan(2 ** 31)
        expect([swp_type(e), swp_offset(e)]).toEqual([t, o])
      }),
    )
  })
})

describe('the swap map', () => {
  it('counts references and SWAP_HAS_CACHE like a naive model, freeing a slot at zero', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('alloc', 'dup', 'free', 'uncache'), fc.nat(40)), { maxLength: 120 }), (ops) => {
        const m = boot({ ram: '64M', swap: '1M' })
        const env = m.mm_env
        const si = env.swap.swap_info[0]
        // model: entry -> [references, cached]
        const model = new Map<number, [number, boolean]>()
        const live = (): number[] => [...model.keys()]
        for (const [op, k] of ops) {
          const ents = live()
          if (op === 'alloc') {
            const e = get_swap_page_of_type(env)
            if (model.size === si.pages) expect(e).toBe(0)
            else {
              expect(e).not.toBe(0)
              expect(model.has(e)).toBe(false)
              model.set(e, [0, true])
            }
          } else if (ents.length) {
            const e = ents[k % ents.length]
            const st = model.get(e) as [number, boolean]
            if (op === 'dup') {
              expect(swap_duplicate(env, e)).toBe(0)
              st[0]++
            } else if (op === 'free' && st[0] > 0) {
              swap_free(env, e)
              st[0]--
            } else if (op === 'uncache' && st[1]) {
              put_swap_folio(env, e)
              st[1] = false
            }
            if (st[0] === 0 && !st[1]) model.delete(e)
          }
          for (const [e, [n, c]] of model) {
            expect(__swap_count(env, e)).toBe(n)
            expect((si.swap_map[swp_offset(e)] & SWAP_HAS_CACHE) !== 0).toBe(c)
          }
          expect(si.inuse_pages).toBe(model.size)
          expect(env.swap.nr_swap_pages).toBe(si.pages - model.size)
        }
        // Give everything back, so the machine's recount finds no reference without a PTE.
        for (const [e, [n, c]] of model) {
          for (let i = 0; i < n; i++) swap_free(env, e)
          if (c) put_swap_folio(env, e)
        }
        expect(si.inuse_pages).toBe(0)
        m.check()
      }),
      { numRuns: 40 },
    )
  })
  it('hands out offsets in the cluster order: 1.., the next cluster, freed slots only when the cluster is used up', () => {
    const m = boot({ ram: '64M', swap: '8M' })
    const env = m.mm_env
    const got: number[] = []
    for (let i = 0; i < 511; i++) got.push(swp_offset(get_swap_page_of_type(env)))
    expect(got).toEqual(Array.from({ length: 511 }, (_, i) => i + 1))
    put_swap_folio(env, swp_entry(0, 5))
    // The CPU's cluster is used up: a new one comes from the nonfull list (where the free put cluster 0).
    expect(swp_offset(get_swap_page_of_type(env))).toBe(5)
    expect(swp_offset(get_swap_page_of_type(env))).toBe(512)
    put_swap_folio(env, swp_entry(0, 7))
    expect(swp_offset(get_swap_page_of_type(env))).toBe(513)
    for (let o = 1; o <= 513; o++) if (o !== 7) put_swap_folio(env, swp_entry(0, o))
    m.check()
  })
})

describe('swapon and swapoff', () => {
  const errno = (fn: () => void): string => {
    try {
      fn()
      return 'ok'
    } catch (e) {
      if (e instanceof ErrnoError) return e.code
      throw e
    }
  }
  it('answer with the kernel errno', () => {
    const m = boot()
    const root = m.spawn()
    const dev = m.add_swap_device('1M')
    expect(errno(() => root.swapon(dev, 0x80000))).toBe('EINVAL')
    expect(errno(() => root.swapon('/dev/nothing'))).toBe('ENOENT')
    expect(errno(() => root.swapon('/dev/null'))).toBe('EINVAL')
    expect(errno(() => root.swapoff(dev))).toBe('EINVAL')
    expect(errno(() => root.swapoff('/dev/nothing'))).toBe('ENOENT')
    expect(errno(() => root.swapon(dev, SWAP_FLAG_PREFER | 100))).toBe('ok')
    expect(errno(() => root.swapon(dev))).toBe('EBUSY')
    expect(m.proc('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/zram0                              partition\t1020\t\t0\t\t100\n')
    expect(m.proc('/proc/meminfo')).toMatch(/SwapTotal: +1020 kB\nSwapFree: +1020 kB\n/)
    // A device without mkswap's signature.
    const raw = m.mm_env.swap.bdevs.get(m.fs.lookup(m.add_swap_device('1M'))!.i_rdev)!
    raw.write_page(0, new Uint8Array(4096))
    expect(errno(() => root.swapon(raw.name))).toBe('EINVAL')
    expect(m.dmesg()).toContain('Unable to find swap-space signature')
    const user = m.spawn({ uid: 1000 })
    expect(errno(() => user.swapon(dev))).toBe('EPERM')
    expect(errno(() => user.swapoff(dev))).toBe('EPERM')
    expect(errno(() => root.swapoff(dev))).toBe('ok')
    expect(m.proc('/proc/meminfo')).toMatch(/SwapTotal: +0 kB\nSwapFree: +0 kB\n/)
    // MAX_SWAPFILES (28 on the reference configuration) areas at once, then EPERM before the path is looked at.
    const devs = Array.from({ length: 28 }, () => m.add_swap_device('40K'))
    for (const d of devs) root.swapon(d)
    expect(errno(() => root.swapon('/dev/nothing'))).toBe('EPERM')
    expect(m.proc('/proc/swaps').split('\n')[28]).toMatch(/^\/dev\/zram29 +partition\t36\t\t0\t\t-29$/)
    for (const d of devs) root.swapoff(d)
    void S_IFCHR
  })
  it('swapoff with no memory for the pages: the OOM killer takes the process that owns them, and the area empties', () => {
    const m = boot({ ram: '64M', swap: '128M' })
    const p = m.spawn()
    const n = 8000 // 31 MiB of anonymous memory, then out to swap
    const a = p.mmap(0, n * 4096, 3, 0x22)
    m.deferred_check(() => {
      for (let c = 0; c < n; c += 2000) {
        for (let i = c; i < c + 2000; i++) p.store(a + i * 4096, [i & 0xff, i >> 8])
        p.madvise(a + c * 4096, 2000 * 4096, 21) // MADV_PAGEOUT
      }
      // Take the memory the pages would need, but 4 MiB.
      const free_kb = Number(/MemFree: +(\d+)/.exec(m.proc('/proc/meminfo'))![1])
      const fill = Math.floor(free_kb / 4) - 1024
      const b = p.mmap(0, fill * 4096, 3, 0x22)
      for (let i = 0; i < fill; i++) p.store(b + i * 4096, [1])
    })
    expect(m.proc('/proc/swaps')).toMatch(/^\/dev\/zram0 +partition\t131068\t\t32000\t\t-2$/m)
    const root = m.spawn()
    // try_to_unuse() allocates for every page it reads back; reclaim has nothing left to take
    // (the area going away takes no new slots), so the OOM killer picks the biggest task: p.
    m.deferred_check(() => {
      try {
        root.swapoff('/dev/zram0')
      } catch {
        // mmsim's swapoff can return ENOMEM from the allocation that ran into the OOM kill.
      }
    })
    expect(m.dmesg()).toMatch(new RegExp(`Out of memory: Killed process ${p.pid} \\(`))
    expect(m.proc('/proc/swaps')).toMatch(/^\/dev\/zram0 +partition\t131068\t\t0\t\t-2$|^Filename[^\n]*\n$/m)
    if (/zram0/.test(m.proc('/proc/swaps'))) m.deferred_check(() => root.swapoff('/dev/zram0'))
    expect(m.proc('/proc/swaps')).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')
  })
})
