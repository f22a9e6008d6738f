/**
 * `mmsim demo`: boots a default machine and walks a newcomer through the
 * page allocator, the slab allocator and /proc, one explained step at a
 * time. Every number printed is read from the simulated machine.
 */
import type { Machine } from '../machine.js'
import { GFP_KERNEL, GFP_DMA } from '../mm/gfp.js'
import type { Page } from '../mm/page.js'
import { run_process_demo } from './demo_process.js'
import { section, show, type Out } from './demo_out.js'
import { format_addr } from '../include/hex.js'


/** Lines of /proc/meminfo a newcomer should watch. */
const MEMINFO_KEYS = /^(MemTotal|MemFree|MemAvailable|Slab|SUnreclaim|PageTables|VmallocUsed):/

export function run_demo(m: Machine, out: Out): void {
  const k = m.kernel
  section(out, `1. Boot ${/^[aeiox]/.test(m.arch.name) ? 'an' : 'a'} ${m.arch.name} machine with ${m.ram / 1048576} MiB of RAM`)
  out('The kernel log shows the firmware memory map, the zones and what memblock kept for the kernel:')
  show(out, m.dmesg(), (l) => /Zone ranges| {2}DMA| {2}Normal| {2}HighMem|Memory:/.test(l))

  section(out, '2. /proc/buddyinfo after boot')
  // Boot's last allocations (the char devices' objects) leave order-0 pages on the per-CPU
  // lists; drained, every free page is in the buddy lists, so step 4 can compare with this.
  k.drain_all_pages()
  out('Free blocks per order (order n = 2^n contiguous 4 KiB pages) in each zone, per-CPU lists drained:')
  show(out, m.proc('/proc/buddyinfo'))

  section(out, '3. alloc_pages(GFP_KERNEL, 3): one block of 8 pages')
  const before = m.proc('/proc/buddyinfo')
  const page = k.alloc_pages(GFP_KERNEL, 3) as Page
  out(`Got pfn 0x${page.toString(16)} (${m.page_alloc.page_zone(page).name}); a larger block was split (expand) to make it:`)
  show(out, diff(before, m.proc('/proc/buddyinfo')))

  section(out, '4. __free_pages(page, 3): the block merges with its free buddy again')
  k.__free_pages(page, 3)
  k.drain_all_pages()
  out(`buddy of pfn 0x${page.toString(16)} at order 3 is pfn 0x${(page ^ 8).toString(16)}; after freeing:`)
  show(out, m.proc('/proc/buddyinfo'))
  out(m.proc('/proc/buddyinfo') === before ? 'Identical to step 2: every split was merged back.' : 'Some blocks stay split (per-CPU lists or other users).')

  section(out, '5. GFP_DMA: only ZONE_DMA (the first 16 MiB) will do')
  const dma = k.alloc_pages(GFP_DMA, 0) as Page
  out(`alloc_pages(GFP_DMA, 0) -> pfn 0x${dma.toString(16)} in zone ${m.page_alloc.page_zone(dma).name}`)
  k.__free_pages(dma, 0)

  section(out, '6. Order-0 pages go through the per-CPU lists (pcp)')
  const pages: Page[] = []
  for (let i = 0; i < 40; i++) pages.push(k.alloc_pages(GFP_KERNEL, 0) as Page)
  const z = m.page_alloc.page_zone(pages[0])
  out(`40 single pages taken; zone ${z.name} cpu 0 pcp holds ${z.per_cpu_pageset[0].count} spare pages (batch ${z.per_cpu_pageset[0].batch}, high ${z.per_cpu_pageset[0].high})`)
  for (const p of pages) k.__free_pages(p, 0)
  out(`after freeing them: pcp holds ${z.per_cpu_pageset[0].count} pages, NR_FREE_PAGES does not count them until drain_all_pages()`)
  k.drain_all_pages()

  section(out, '7. kmalloc(100, GFP_KERNEL): a slab object, not a page')
  const slab_before = m.proc('/proc/slabinfo')
  const objs = Array.from({ length: 40 }, () => k.kmalloc(100, GFP_KERNEL))
  out(`kmalloc rounds 100 bytes up to the kmalloc-128 cache; 40 objects at ${objs[0] === 0 ? 'NULL' : format_addr(objs[0])} ...:`)
  show(out, diff(slab_before, m.proc('/proc/slabinfo')))
  for (const o of objs) k.kfree(o)

  section(out, '8. /proc/meminfo')
  show(out, m.proc('/proc/meminfo'), (l) => MEMINFO_KEYS.test(l))

  run_process_demo(m, out, 9)
  m.check()
  out('')
  out('The invariant checker (DEBUG_VM) verified every frame, free list and counter: OK.')
}

/** Lines of `after` that differ from `before`, prefixed - / +. */
export function diff(before: string, after: string): string {
  const a = before.trimEnd().split('\n')
  const b = after.trimEnd().split('\n')
  const out: string[] = []
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue
    if (a[i] !== undefined) out.push('- ' + a[i])
    if (b[i] !== undefined) out.push('+ ' + b[i])
  }
  return out.join('\n')
}
