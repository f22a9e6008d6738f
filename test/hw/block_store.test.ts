/** DiskBlocks: a Map of 4 KiB blocks kept in shared chunks; checked against a plain Map. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DiskBlocks } from '../../src/hw/block_store.js'
import { fill_bytes } from '../helpers.js'

const block = (seed: number): Uint8Array => fill_bytes(4096, (i) => (i * 7 + seed) & 255)

describe('DiskBlocks', () => {
  it('property: any sequence of set/delete/fill-through-get reads back as a Map of copies does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'fill'), fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 255 })), { maxLength: 400 }), (ops) => {
        const d = new DiskBlocks()
        const ref = new Map<number, Uint8Array>()
        // What each delete returned, compared once at the end (an expect() per step cost more than the store).
        const deleted: [boolean, boolean][] = []
        for (const [op, index, seed] of ops) {
          if (op === 'set') {
            d.set(index, block(seed))
            ref.set(index, block(seed))
          } else if (op === 'delete') deleted.push([d.delete(index), ref.delete(index)])
          else {
            d.get(index)?.fill(seed, seed)
            ref.get(index)?.fill(seed, seed)
          }
        }
        expect(deleted.map(([got]) => got)).toEqual(deleted.map(([, want]) => want))
        expect(d.size).toBe(ref.size)
        expect([...d.keys()].sort((a, b) => a - b)).toEqual([...ref.keys()].sort((a, b) => a - b))
        expect([...ref].filter(([i, b]) => Buffer.compare(Buffer.from(d.get(i)!), Buffer.from(b)) !== 0).map(([i]) => i)).toEqual([])
        const indexes = Array.from({ length: 701 }, (_, i) => i)
        expect(indexes.filter((i) => d.has(i))).toEqual(indexes.filter((i) => ref.has(i)))
      }),
      { numRuns: 60 },
    )
  })

  it('a freed slot is reused: writing, freeing and writing again does not grow the store', () => {
    const d = new DiskBlocks()
    for (let i = 0; i < 300; i++) d.set(i, block(i))
    const views = new Set([...Array(300).keys()].map((i) => d.get(i)!.buffer))
    for (let i = 0; i < 300; i++) d.delete(i)
    for (let i = 1000; i < 1300; i++) d.set(i, block(i))
    for (let i = 1000; i < 1300; i++) expect(views.has(d.get(i)!.buffer)).toBe(true)
    // 300 blocks: chunks of 16, 32, 64, 128 and 256 blocks, five buffers, not 300
    expect(views.size).toBe(5)
    expect(d.get(1299)![5]).toBe(block(1299)[5])
  })
})
