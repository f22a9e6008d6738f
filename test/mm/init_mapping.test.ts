import { describe, expect, it } from 'vitest'
import type { ArchName } from '../../src/arch/profile.js'
import { pte_flag_names, pte_pfn } from '../../src/arch/pte.js'
import { GFP_KERNEL } from '../../src/mm/gfp.js'
import { Machine } from '../../src/machine.js'

describe('the direct map in init_mm', () => {
  for (const [arch, ram] of [['x86_64', '8G'], ['x86_64', '64M'], ['i386', '1G'], ['i386-pae', '256M']] as [ArchName, string][]) {
    it(`${arch} ${ram}: walking a lowmem address finds the large page that /proc/meminfo counts`, () => {
      const m = new Machine({ arch, ram, debug_vm: true })
      const pt = m.pgtables
      const meminfo = m.proc('/proc/meminfo')
      const dm = [...meminfo.matchAll(/^DirectMap(\d+)([kMG]):\s+(\d+) kB$/gm)].map(([, n, u, kb]) => [Number(n) * { k: 1, M: 1024, G: 1024 * 1024 }[u as 'k' | 'M' | 'G'], Number(kb)])
      // count the entries of each size by walking every mapped page of lowmem
      const seen = new Map<number, number>()
      // Entries that map the wrong frame or a non-leaf without PS, compared once at the end
      // (an 8G machine has 4,096 of them: an expect() each cost more than the walk).
      const wrong: string[] = []
      const lowmem = Math.min(m.page_alloc.max_low_pfn, m.pages.nr) * 4096
      for (let pa = 0; pa < lowmem; ) {
        const steps = pt.walk_levels(pt.init_mm, m.arch.PAGE_OFFSET + pa)
        const last = steps[steps.length - 1]
        const lv = steps.length - 1
        const size = 2 ** m.arch.level_shifts[lv]
        if ((last.val & 1) === 0) {
          pa += size
          continue
        }
        if (pte_pfn(last.val) * 4096 !== Math.floor(pa / size) * size) wrong.push(`pa 0x${pa.toString(16)}: maps pfn 0x${pte_pfn(last.val).toString(16)}`)
        if (lv < m.arch.levels - 1 && !pte_flag_names(last.val, false).includes('PS')) wrong.push(`pa 0x${pa.toString(16)}: level ${lv} entry without PS`)
        seen.set(size, (seen.get(size) ?? 0) + size / 1024)
        pa = Math.floor(pa / size) * size + size
      }
      expect(wrong).toEqual([])
      expect(dm.map(([kb_size]) => [kb_size, seen.get(kb_size * 1024) ?? 0])).toEqual(dm)
      // a page from the allocator: its direct-map address walks to it
      const p = m.kernel.alloc_pages(GFP_KERNEL, 0)
      const va = m.kernel.page_address(p as never)
      const steps = pt.walk_levels(pt.init_mm, va)
      const last = steps[steps.length - 1]
      const span = 2 ** m.arch.level_shifts[steps.length - 1]
      expect(pte_pfn(last.val) + Math.floor(((va - m.arch.PAGE_OFFSET) % span) / 4096)).toBe(m.kernel.page_to_pfn(p as never))
      m.check()
    })
  }
})
