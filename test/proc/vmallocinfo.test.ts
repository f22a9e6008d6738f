/**
 * /proc/vmallocinfo: exact lines, vmap-node order, and the shape of the real
 * file in test/fixtures/reference/vmallocinfo.txt (there hashed by %pK).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/machine.js'
import { boot } from '../helpers.js'

const LINE = /^0x[0-9a-f]{16}-0x[0-9a-f]{16} {1,7}\d+ \S+( pages=\d+)?( phys=0x[0-9a-f]{16})? (vmalloc|vmap|ioremap)( vpages)?( N0=\d+)?$/

describe('/proc/vmallocinfo', () => {
  it('the regular expression accepts every line of the real file', () => {
    const ref = readFileSync(new URL('../fixtures/reference/vmallocinfo.txt', import.meta.url), 'utf8').trimEnd().split('\n')
    for (const l of ref) expect(l).toMatch(LINE)
  })

  it('x86_64: exact lines as vmalloc_info_show prints them', () => {
    const m = boot()
    const k = m.kernel
    expect(m.proc('/proc/vmallocinfo')).toBe('')
    const a = k.vmalloc(16384, 'kernel_clone+0x94/0x3e0')
    const b = k.ioremap(0xfebf0000, 8192, 'acpi_os_map_iomem+0x1bc/0x1e0')
    const c = k.vmalloc_user(100, 'bpf_map_area_mmapable_alloc+0x1f/0x30')
    // ioremap aligns to the size's order (8 KiB); vmalloc_user's 2 pages do not fit the 4 KiB hole left
    expect(m.proc('/proc/vmallocinfo')).toBe(
      '0xffffc90000000000-0xffffc90000005000   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4\n' +
        '0xffffc90000006000-0xffffc90000009000   12288 acpi_os_map_iomem+0x1bc/0x1e0 phys=0x00000000febf0000 ioremap\n' +
        '0xffffc90000009000-0xffffc9000000b000    8192 bpf_map_area_mmapable_alloc+0x1f/0x30 pages=1 vmalloc user N0=1\n',
    )
    for (const l of m.proc('/proc/vmallocinfo').trimEnd().split('\n')) expect(l).toMatch(/^0x[0-9a-f]{16}-0x[0-9a-f]{16} +\d+ \S+/)
    k.vfree(a)
    k.iounmap(b)
    k.vfree(c)
    expect(m.proc('/proc/vmallocinfo')).toBe(
      '0xffffc90000000000-0xffffc90000005000   20480 unpurged vm_area\n' +
        '0xffffc90000006000-0xffffc90000009000   12288 unpurged vm_area\n' +
        '0xffffc90000009000-0xffffc9000000b000    8192 unpurged vm_area\n',
    )
    m.check()
  })

  it('x86_64, 2 CPUs: one vmap node after the other, each in address order', () => {
    const m = boot({ cpus: 2 })
    const k = m.kernel
    const start = m.vmalloc.layout.VMALLOC_START
    const addrs: number[] = []
    for (let i = 0; i < 24; i++) addrs.push(k.vmalloc(4096 * (1 + (i % 3)), `drv_probe+0x${(16 + i).toString(16)}/0x80`))
    const node = (a: number): number => Math.floor((a - start) / 65536) % 2 // VMALLOC_START is 64 KiB aligned, zone index even
    const expected = [...addrs].sort((x, y) => node(x) - node(y) || x - y)
    const lines = m.proc('/proc/vmallocinfo').trimEnd().split('\n')
    expect(lines.length).toBe(24)
    expect(lines.map((l) => BigInt(l.slice(0, 18)) - (1n << 64n))).toEqual(expected.map((a) => BigInt(a)))
    for (const l of lines) expect(l).toMatch(LINE)
    expect(new Set(addrs.map(node)).size).toBe(2)
    m.check()
  })

  it('a page array that needs more than a page is vmalloc\'d and marked vpages', () => {
    const m = boot()
    const k = m.kernel
    k.vmalloc(513 * 4096, 'big_table_init+0x10/0x20')
    expect(m.proc('/proc/vmallocinfo')).toBe(
      '0xffffc90000000000-0xffffc90000202000 2105344 big_table_init+0x10/0x20 pages=513 vmalloc vpages N0=513\n' +
        '0xffffc90000202000-0xffffc90000205000   12288 big_table_init+0x10/0x20 pages=2 vmalloc N0=2\n',
    )
    expect(m.proc('/proc/meminfo')).toMatch(/^VmallocUsed:\s+2060 kB$/m)
    m.check()
  })

  it('i386: 32-bit addresses, no NUMA counts, VmallocTotal from the layout', () => {
    const m = new Machine({ arch: 'i386', ram: '1G', debug_vm: true })
    const k = m.kernel
    k.vmalloc(8192, 'scull_init+0x2a/0x100')
    // lowmem ends at MAXMEM (0x373fe000), so high_memory = 0xf73fe000 and VMALLOC_START 8 MiB above it
    expect(m.proc('/proc/vmallocinfo')).toBe('0xf7bfe000-0xf7c01000   12288 scull_init+0x2a/0x100 pages=2 vmalloc\n')
    expect(m.proc('/proc/meminfo')).toMatch(/^VmallocTotal:\s+122880 kB$/m) // 0xff3fe000 - 0xf7bfe000
    m.check()
  })
})
