import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { boot } from '../helpers.js'
import { calculate_order, calc_slab_order } from '../../src/mm/slub_cache.js'
import { kmalloc_index, kmalloc_type, KMALLOC_NORMAL, KMALLOC_DMA, KMALLOC_RECLAIM, KMALLOC_CGROUP } from '../../src/mm/slab_h.js'
import { GFP_KERNEL, GFP_DMA, __GFP_RECLAIMABLE, __GFP_ACCOUNT, GFP_KERNEL_ACCOUNT } from '../../src/index.js'

interface Row {
  name: string
  active: number
  num: number
  objsize: number
  perslab: number
  pages: number
  limit: number
  batch: number
  shared: number
}

function parse(text: string): Map<string, Row> {
  const rows = new Map<string, Row>()
  for (const line of text.split('\n').slice(2)) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+) : tunables\s+(\d+)\s+(\d+)\s+(\d+) : slabdata/.exec(line)
    if (!m) continue
    rows.set(m[1], { name: m[1], active: +m[2], num: +m[3], objsize: +m[4], perslab: +m[5], pages: +m[6], limit: +m[7], batch: +m[8], shared: +m[9] })
  }
  return rows
}

const reference = parse(readFileSync(new URL('../fixtures/reference/slabinfo.txt', import.meta.url), 'utf8'))

describe('/proc/slabinfo against the reference 6.18 machine (2 CPUs)', () => {
  it('every boot cache that the reference has shows the same objsize, objperslab and pagesperslab', () => {
    const m = boot({ cpus: 2 })
    const ours = parse(m.proc('/proc/slabinfo'))
    let compared = 0
    for (const [name, row] of ours) {
      const ref = reference.get(name)
      if (!ref) continue
      expect([name, row.objsize, row.perslab, row.pages]).toEqual([name, ref.objsize, ref.perslab, ref.pages])
      compared++
    }
    // kmalloc-8..8k, -96/-192 in four families, kmem_cache(_node), kmalloc_buckets and the named caches.
    expect(compared).toBeGreaterThanOrEqual(4 * 13 + 2 + 1 + 18)
    for (const name of ['task_struct', 'mm_struct', 'vm_area_struct', 'anon_vma', 'anon_vma_chain', 'filp', 'pid', 'files_cache', 'signal_cache', 'sighand_cache', 'names_cache', 'vmap_area', 'maple_node', 'radix_tree_node', 'dentry', 'inode_cache', 'shmem_inode_cache', 'buffer_head']) {
      expect(ours.has(name), name).toBe(true)
    }
    m.check()
  })

  it('prints the header and columns with the kernel widths, newest cache first, kmem_cache last', () => {
    const m = boot()
    const text = m.proc('/proc/slabinfo')
    const lines = text.split('\n')
    expect(lines[0]).toBe('slabinfo - version: 2.1')
    expect(lines[1]).toBe(reference.size ? readFileSync(new URL('../fixtures/reference/slabinfo.txt', import.meta.url), 'utf8').split('\n')[1] : '')
    expect(lines.at(-2)).toMatch(/^kmem_cache {8}\s+\d+\s+\d+ {4}256 {3}16 {4}1 : tunables {4}0 {4}0 {4}0 : slabdata/)
    expect(lines.at(-3)).toMatch(/^kmem_cache_node /)
    expect(lines.at(-4)).toMatch(/^kmalloc-96 /)
    // Same column layout as the reference line for kmalloc-96.
    const ref96 = readFileSync(new URL('../fixtures/reference/slabinfo.txt', import.meta.url), 'utf8').split('\n').find((l) => l.startsWith('kmalloc-96 '))
    // Numbers are right-aligned in fixed-width fields: every number ends in the same column.
    const ends = (l: string | undefined): number[] => [...(l ?? '').slice(17).matchAll(/\d+/g)].map((x) => (x.index ?? 0) + x[0].length)
    expect(ends(lines.at(-4))).toEqual(ends(ref96))
    m.check()
  })

  it('active/num objects count cpu slabs as fully active and subtract free objects on the node partial list', () => {
    const m = boot()
    const k = m.kernel
    const s = k.find_cache('kmalloc-512')
    expect(s).not.toBeNull()
    // At boot kmalloc-512 holds the 4 per-cpu sheaves of maple_node and vm_area_struct (288 bytes each).
    const boot_row = parse(m.proc('/proc/slabinfo')).get('kmalloc-512') as Row
    expect([boot_row.active, boot_row.num]).toEqual([16, 16])
    const objs: number[] = []
    for (let i = 0; i < 40; i++) objs.push(k.kmalloc(500, GFP_KERNEL))
    let row = parse(m.proc('/proc/slabinfo')).get('kmalloc-512') as Row
    // 44 objects need 3 slabs of 16; the cpu slab's free objects still count as active.
    expect(row.num).toBe(48)
    expect(row.active).toBe(48)
    for (const o of objs.slice(0, 20)) k.kfree(o)
    k.kmem_cache_shrink(s as NonNullable<typeof s>)
    row = parse(m.proc('/proc/slabinfo')).get('kmalloc-512') as Row
    // 24 live objects spread over the 3 slabs (4+12, 16, 12): none is empty, so none is freed;
    // after the flush all three sit on the node partial list and their 24 free objects are not active.
    expect(row.active).toBe(24)
    expect(row.num).toBe(48)
    m.check()
  })
})

describe('SLUB order rules (calculate_order)', () => {
  it('matches the objects-per-slab choices of the reference for sizes it does not create at boot', () => {
    for (const [name, ref] of reference) {
      const order = calculate_order(ref.objsize, 2)
      expect([name, 2 ** order, Math.floor((4096 * 2 ** order) / ref.objsize)]).toEqual([name, ref.pages, ref.perslab])
    }
  })
  it('scales min_objects with the CPU count: 4 * (fls(nr_cpus) + 1)', () => {
    // 1024-byte objects: 12 needed with 2 CPUs (order 2), 20 with 8 CPUs (order 3).
    expect(calculate_order(1024, 2)).toBe(2)
    expect(calculate_order(1024, 8)).toBe(3)
    expect(calc_slab_order(700, 0, 3, 16)).toBe(1)
  })
})

describe('kmalloc size classes and types', () => {
  it('picks 96 and 192 between the powers of two', () => {
    const idx = (n: number): number => kmalloc_index(n)
    expect([idx(1), idx(8), idx(9), idx(64), idx(65), idx(96), idx(97), idx(128), idx(129), idx(192), idx(193), idx(8192), idx(8193)]).toEqual([3, 3, 4, 6, 1, 1, 7, 7, 2, 2, 8, 13, -1])
  })
  it('chooses the family by GFP bits with DMA > RECLAIMABLE > ACCOUNT', () => {
    expect(kmalloc_type(GFP_KERNEL)).toBe(KMALLOC_NORMAL)
    expect(kmalloc_type(GFP_KERNEL | GFP_DMA | __GFP_RECLAIMABLE)).toBe(KMALLOC_DMA)
    expect(kmalloc_type(GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_ACCOUNT)).toBe(KMALLOC_RECLAIM)
    expect(kmalloc_type(GFP_KERNEL_ACCOUNT)).toBe(KMALLOC_CGROUP)
  })
  it('rounds up like kmalloc_size_roundup()', () => {
    const m = boot()
    const k = m.kernel
    expect([1, 9, 65, 100, 129, 200, 4097, 8193, 20000].map((n) => k.kmalloc_size_roundup(n))).toEqual([8, 16, 96, 128, 192, 256, 8192, 16384, 32768])
    m.check()
  })
})

describe('classic SLAB /proc/slabinfo', () => {
  it('prints limit/batchcount/sharedfactor as SLAB did', () => {
    const m = boot({ slab: 'slab' })
    const rows = parse(m.proc('/proc/slabinfo'))
    const r64 = rows.get('kmalloc-64') as Row
    expect([r64.limit, r64.batch, r64.shared]).toEqual([120, 60, 8])
    const r1k = rows.get('kmalloc-1k') as Row
    expect([r1k.limit, r1k.batch, r1k.shared]).toEqual([54, 27, 8])
    const r2k = rows.get('kmalloc-2k') as Row
    expect([r2k.limit, r2k.batch, r2k.shared]).toEqual([24, 12, 8])
    const r8k = rows.get('kmalloc-8k') as Row
    expect([r8k.limit, r8k.batch, r8k.shared]).toEqual([8, 4, 0])
    expect(m.dmesg()).toMatch(/SLAB: HWalign=64/)
    m.check()
  })
})
