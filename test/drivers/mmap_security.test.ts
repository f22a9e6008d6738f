/**
 * The driver-mmap checker against the buggy example drivers of
 * examples/drivers/ and their fixed versions (SECURITY.md S-A1, S-A2,
 * S-D1, S-E1/S-F2, S-C1): the attack is run as a process would run it, the
 * bytes it gets are the real frames', and the finding names the module and
 * the address; the fixed driver refuses the same attack with no finding.
 * Part of SECURITY.md §4.4's catalogue of buggy drivers.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { MAP_SHARED, MREMAP_MAYMOVE, PROT_READ } from '../../src/include/uapi/mman.js'
import { O_RDWR } from '../../src/include/uapi/fcntl.js'
import { EFAULT, EINVAL, EOVERFLOW } from '../../src/include/errno.js'
import { badmap_module } from '../../examples/drivers/badmap.js'
import { badmap_fixed_module } from '../../examples/drivers/badmap_fixed.js'
import { faulty_module, FAULTY_DATA_PAGES } from '../../examples/drivers/faulty.js'
import { faulty_fixed_module } from '../../examples/drivers/faulty_fixed.js'

const PG = 4096
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

function attacker(m: Machine, node: string): { p: Process; fd: number } {
  const p = m.spawn({ name: 'attacker', uid: 1000 })
  return { p, fd: p.open(node, O_RDWR) }
}

describe('badmap: remap_pfn_range with an unchecked length and offset', () => {
  it('S-A2: a 4-page mapping of a 1-page buffer maps the next frames; the checker names badmap and the address', () => {
    const m = boot({ ram: '128M' })
    const mod = badmap_module()
    m.insmod(mod)
    const { p, fd } = attacker(m, '/dev/badmap')
    const a = p.mmap(0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(dec(p.load(a, 13))).toBe('badmap buffer')
    // what the attacker reads at a + 4096 is the frame after the buffer, byte for byte
    const k = m.driver_kernel
    const next = k.virt_to_pfn(mod.buffer) + 1
    expect(p.load(a + PG, PG)).toEqual(k.kernel_read(k.page_address(next), PG))
    const f = m.driver_check.findings
    expect(f.map((x) => [x.id, x.module, x.addr, x.pfn])).toEqual([['S-A2', 'badmap', a + PG, next]])
    expect(m.dmesg()).toContain(`mmsim driver check: badmap: remap_pfn_range maps pfn 0x${next.toString(16)}`)
    expect(m.dmesg()).toContain(`at 0x${(a + PG).toString(16)}: past the end of its own allocation`)
  })

  it('S-A1 / S-D1: an offset alone reaches frames the driver never owned: a slab page is reported as S-D1, other memory as S-A1', () => {
    const m = boot({ ram: '128M' })
    const k = m.driver_kernel
    // a fresh slab of kmalloc-8k taken before the driver's page: the allocator hands out frames top-down
    const objs = [k.kmalloc(8192), k.kmalloc(8192), k.kmalloc(8192), k.kmalloc(8192)]
    const mod = badmap_module()
    m.insmod(mod)
    const base = k.virt_to_pfn(mod.buffer)
    // the first slab frame and the first non-slab frame above the buffer (the machine is deterministic)
    let slab = -1
    let other = -1
    for (let pfn = base + 1; pfn < m.page_alloc.pages.nr && (slab < 0 || other < 0); pfn++) {
      if (m.page_alloc.pages.PageSlab(pfn)) slab = slab < 0 ? pfn : slab
      else if (other < 0) other = pfn
    }
    expect(slab).toBeGreaterThan(base)
    const { p, fd } = attacker(m, '/dev/badmap')
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, (other - base) * PG)
    const b = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, (slab - base) * PG)
    expect(p.load(b, 64)).toEqual(k.kernel_read(k.page_address(slab), 64))
    expect(m.driver_check.findings.map((x) => [x.id, x.addr, x.pfn])).toEqual([
      ['S-A1', a, other],
      ['S-D1', b, slab],
    ])
    p.munmap(b, PG)
    for (const o of objs) k.kfree(o)
  })

  it('fixed: the same requests are EINVAL before any PTE, one page maps, the VMA cannot grow; no finding', () => {
    const m = boot({ ram: '128M' })
    m.insmod(badmap_fixed_module())
    const { p, fd } = attacker(m, '/dev/badmap_fixed')
    expect(p.sys_mmap(0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 5 * PG)).toBe(-EINVAL)
    // S-C1: an offset near 2^64 never reaches the driver (file_mmap_ok), and the check is a subtraction anyway
    expect(p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 4096n)).toBe(-EOVERFLOW)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 8192n)).toBe(-EINVAL)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(dec(p.load(a, 13))).toBe('badmap buffer')
    expect(p.sys_mremap(a, PG, 2 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    expect(m.driver_check.findings).toEqual([])
  })
})

describe('faulty: a fault handler with an off-by-one bound and no VM_DONTEXPAND', () => {
  it('S-E1/S-F2: map 3 pages, mremap to 4, touch the last: the driver\'s private page leaks and the checker reports the fault', () => {
    const m = boot({ ram: '128M' })
    const mod = faulty_module()
    m.insmod(mod)
    const { p, fd } = attacker(m, '/dev/faulty')
    expect(p.sys_mmap(0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL) // the mmap-time check holds
    const a = p.mmap(0, FAULTY_DATA_PAGES * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(dec(p.load(a, 18))).toBe('faulty data page 0')
    const b = p.mremap(a, FAULTY_DATA_PAGES * PG, 4 * PG, MREMAP_MAYMOVE)
    expect(dec(p.load(b + 3 * PG, 28))).toBe('secret: driver private state')
    const f = m.driver_check.findings
    expect(f.map((x) => [x.id, x.module, x.addr, x.pfn])).toEqual([['S-E1', 'faulty', b + 3 * PG, mod.pages[3]]])
    expect(dec(m.driver_kernel.kernel_read(m.driver_kernel.page_address(mod.pages[3]), 6))).toBe('secret')
    expect(m.dmesg()).toMatch(/mmsim driver check: faulty: fault handler served pgoff 0x3 at 0x[0-9a-f]+, outside the pages \[0x0, 0x3\) its mmap accepted.*\[S-E1\]/)
  })

  it('fixed: mremap growth is EFAULT (VM_DONTEXPAND); the data pages still map; no finding', () => {
    const m = boot({ ram: '128M' })
    m.insmod(faulty_fixed_module())
    const { p, fd } = attacker(m, '/dev/faulty_fixed')
    const a = p.mmap(0, FAULTY_DATA_PAGES * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.sys_mremap(a, FAULTY_DATA_PAGES * PG, 4 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    expect(dec(p.load(a, 18))).toBe('faulty data page 0')
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 3 * PG)).toBe(-EINVAL)
    expect(m.proc(`/proc/${p.pid}/smaps`)).toMatch(/VmFlags: rd sh mr mw me ms de \n/)
    expect(m.driver_check.findings).toEqual([])
  })
})
