/** format_addr(): every address a user sees is the kernel's hex, never a negative number. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { format_addr, GFP_KERNEL, KernelBug } from '../../src/index.js'
import { boot } from '../helpers.js'

describe('format_addr', () => {
  it('prints x86_64 kernel addresses (held as negative numbers) as 0xffff...', () => {
    expect(format_addr(0xffff888000000000 - 2 ** 64)).toBe('0xffff888000000000')
    expect(format_addr(-131391605628928)).toBe('0xffff888002052000') // the issue's -777ffdfae000
    expect(format_addr(-1)).toBe('0xffffffffffffffff')
    expect(format_addr(-1, 32)).toBe('0xffffffff')
    expect(format_addr(0x7ffff7fff000)).toBe('0x7ffff7fff000')
    expect(format_addr(0)).toBe('0x0')
    expect(format_addr(0xffff888000001000n)).toBe('0xffff888000001000')
    expect(format_addr(-0x1000n)).toBe('0xfffffffffffff000')
  })

  it('is the unsigned 64-bit value for any integer of the kernel half', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 63n, max: (1n << 64n) - 1n }), (u) => {
        const held = Number(u - (1n << 64n)) // what mmsim stores (exact when the value fits a double)
        if (BigInt(held) + (1n << 64n) !== u) return true
        return format_addr(held) === '0x' + u.toString(16)
      }),
    )
  })

  it('library addresses and the errors that name them use the kernel\'s hex', () => {
    const m = boot({ ram: '64M' })
    const k = m.kernel
    const a = k.kmalloc(100, GFP_KERNEL)
    expect(a).toBeLessThan(0)
    expect(format_addr(a)).toMatch(/^0xffff888[0-9a-f]{9}$/)
    expect(() => k.free_pages(-0x100000, 0)).toThrow(new KernelBug('free_pages: 0xfffffffffff00000 is not a direct-map address'))
    const e = (() => {
      try {
        k.kunmap(a as never)
      } catch (x) {
        return (x as Error).message
      }
      return ''
    })()
    expect(e).toContain(format_addr(a))
    expect(e).not.toMatch(/-\d/)
    k.kfree(a)
  })
})
