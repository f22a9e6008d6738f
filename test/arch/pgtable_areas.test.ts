import { describe, expect, it } from 'vitest'
import { __fix_to_virt, kernel_layout } from '../../src/arch/pgtable_areas.js'
import { arch_profile, canonical } from '../../src/arch/profile.js'

describe('kernel virtual layout', () => {
  it('x86_64: 32 TiB vmalloc area, VmallocTotal as /proc/meminfo shows it', () => {
    const l = kernel_layout(arch_profile('x86_64'), 0x40000)
    expect(l.VMALLOC_START).toBe(canonical('0xffffc90000000000'))
    expect(l.VMALLOC_END).toBe(canonical('0xffffe8ffffffffff'))
    expect(Math.floor(l.VMALLOC_TOTAL / 1024)).toBe(34359738367)
  })
  it('i386: pkmap, vmalloc end and MAXMEM as a 6.x i686 kernel lays them out', () => {
    const l = kernel_layout(arch_profile('i386'), 0x38000)
    expect(l.PKMAP_BASE).toBe(0xff400000)
    expect(l.VMALLOC_END).toBe(0xff3fe000)
    expect(l.MAXMEM).toBe(0x373fe000)
    expect(l.VMALLOC_START).toBe(0xc0000000 + 0x38000000 + 8 * 1024 * 1024)
    expect(__fix_to_virt(l, l.FIX_KMAP_BEGIN)).toBe(0xfffbb000)
  })
  it('i386-pae: pkmap slots fill one 2 MiB pmd', () => {
    const l = kernel_layout(arch_profile('i386-pae'), 0x38000)
    expect(l.PKMAP_BASE % (2 * 1024 * 1024)).toBe(0)
    expect(l.LAST_PKMAP).toBe(512)
    expect(l.VMALLOC_END).toBe(l.PKMAP_BASE - 8192)
    expect(l.PKMAP_BASE + 512 * 4096).toBeLessThanOrEqual(l.FIXADDR_TOT_START)
  })
})

describe('more CPUs than the default NR_CPUS', () => {
  it('i386 with 16 CPUs: a bigger fixmap pushes pkmap and vmalloc down', () => {
    const l = kernel_layout(arch_profile('i386'), 0x38000, 16)
    expect(l.NR_CPUS).toBe(16)
    expect(l.FIX_KMAP_END - l.FIX_KMAP_BEGIN + 1).toBe(16 * 16)
    expect(l.PKMAP_BASE).toBeLessThan(0xff400000)
    expect(l.VMALLOC_END).toBe(l.PKMAP_BASE - 8192)
  })
})
