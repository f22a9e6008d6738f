/**
 * `--explain`: every kind of explanation is checked against the machine's
 * state, not only as text: the block an allocation line says came from the
 * order-N list was that list's head before the step and its split halves
 * are free blocks after it; a merge line's outcome is the VMA layout after
 * the call; a page-table line's indices and allocated tables are what a
 * walk finds; a COW line's copy is the pfn the PTE now maps; a kmalloc
 * line's cache is the cache of the object's slab; a reclaim line's swap
 * entry is what the PTE holds afterwards.
 */
import { describe, expect, it } from 'vitest'
import { load_scenario } from '../../src/scenario/load.js'
import { Run, type StepRecord } from '../../src/scenario/run.js'
import { PGTY_buddy, PGTY_slab, PGTY_table } from '../../src/mm/page.js'
import { migratetype_names } from '../../src/mm/gfp.js'
import { order_to_pindex } from '../../src/mm/pcp.js'
import { find_vma } from '../../src/mm/vma.js'
import { pte_pfn, pte_present, is_swap_pte, pte_swp_offset } from '../../src/arch/pte.js'
import { EXPLAIN_KINDS } from '../../src/include/trace.js'
import { swp_offset } from '../../src/mm/swap_h.js'

/** A scenario run step by step, explanations on. */
function stepper(yaml: string): { run: Run; next: () => StepRecord } {
  const sc = load_scenario(yaml, 't.yaml')
  const run = new Run(sc, { explain: true })
  let i = 0
  return { run, next: () => run.exec(sc.steps[i], i++) }
}

function lines(r: StepRecord, kind: string): string[] {
  return (r.explain ?? []).filter((x) => x.kind === kind).map((x) => x.text)
}

const MT = (name: string): number => (migratetype_names as readonly string[]).indexOf(name)

function zone(run: Run, name: string): (typeof run.m.page_alloc.zones)[number] {
  const z = run.m.page_alloc.zones.find((z) => z.name === name)
  if (!z) throw new Error(`no zone ${name}`)
  return z
}

/** Each free list's head, by zone, order and migratetype. */
function heads(run: Run): Map<string, number> {
  const out = new Map<string, number>()
  for (const z of run.m.page_alloc.zones) z.free_area.forEach((a, o) => a.free_list.forEach((l, mt) => out.set(`${z.name}/${o}/${mt}`, l.head)))
  return out
}

describe('--explain', () => {
  it('page_alloc (buddy): the named block headed the named free list, and the split halves are free blocks after', () => {
    const { run, next } = stepper('machine: { ram: 64M }\nsteps:\n  - alloc_pages: { order: 4 }\n  - alloc_pages: { order: 5, gfp: GFP_HIGHUSER_MOVABLE }\n')
    for (let k = 0; k < 2; k++) {
      const before = heads(run)
      const r = next()
      const [text] = lines(r, 'page_alloc').slice(-1)
      const m = /^order-(\d+) (\w+) pfn 0x([0-9a-f]+) from the order-(\d+) (\w+) free list of zone (\w+).*?(?:split order (\d+) -> (\d+), the upper halves (.*) went back|no split)/.exec(text)
      expect(m, text).not.toBeNull()
      const [, order, , pfn, from, list_mt, zname] = m!
      expect(Number.parseInt(pfn, 16)).toBe(r.ret)
      expect(before.get(`${zname}/${from}/${MT(list_mt)}`)).toBe(r.ret)
      const pages = run.m.pages
      for (const h of (m![9] ?? '').matchAll(/0x([0-9a-f]+) \(order (\d+)\)/g)) {
        const half = Number.parseInt(h[1], 16)
        expect(pages.page_type[half]).toBe(PGTY_buddy)
        expect(pages.order[half]).toBe(Number(h[2]))
        expect(half).toBe((r.ret as number) + (1 << Number(h[2])))
      }
      expect(Number(order)).toBe(k === 0 ? 4 : 5)
    }
  })

  it('page_alloc (pcp): the page was the head of the named cpu list, or the list was empty and the line says it was refilled', () => {
    const { run, next } = stepper('machine: { ram: 64M }\nsteps:\n  - alloc_pages: { order: 0 }\n  - alloc_pages: { order: 0 }\n  - alloc_pages: { order: 2 }\n')
    for (let k = 0; k < 3; k++) {
      const snap = run.m.page_alloc.zones.map((z) => z.per_cpu_pageset.map((p) => p.lists.map((l) => l.head)))
      const r = next()
      const [text] = lines(r, 'page_alloc').slice(-1)
      const m = /^order-(\d+) (\w+) pfn 0x([0-9a-f]+) from the head of cpu (\d+)'s pcp list of zone (\w+)/.exec(text)
      expect(m, text).not.toBeNull()
      const z = zone(run, m![5])
      const head_before = snap[z.idx][Number(m![4])][order_to_pindex(MT(m![2]), Number(m![1]))]
      if (text.includes('the list was empty')) expect(head_before).toBe(-1)
      else expect(head_before).toBe(r.ret)
      expect(Number.parseInt(m![3], 16)).toBe(r.ret)
    }
  })

  it('page_free: each buddy the line merged with was a free block of that order, and the result is queued where it says', () => {
    const { run, next } = stepper('machine: { ram: 64M }\nsteps:\n  - alloc_pages: { order: 4, as: p }\n  - free_pages: { page: $p, order: 4 }\n')
    next()
    const pages = run.m.pages
    const snapshot = new Map<number, [number, number]>()
    for (let pfn = 0; pfn < pages.nr; pfn++) if (pages.page_type[pfn] === PGTY_buddy) snapshot.set(pfn, [pages.order[pfn], 0])
    const r = next()
    const [text] = lines(r, 'page_free')
    expect(text).toMatch(/^pfn 0x[0-9a-f]+ order 4/)
    let order = 4
    for (const m of text.matchAll(/merged with free buddy 0x([0-9a-f]+) -> order (\d+)/g)) {
      expect(snapshot.get(Number.parseInt(m[1], 16))?.[0]).toBe(order)
      order = Number(m[2])
    }
    const q = /queued pfn 0x([0-9a-f]+) at the (head|tail) of the order-(\d+) (\w+) list of zone (\w+)/.exec(text)!
    const pfn = Number.parseInt(q[1], 16)
    expect(Number(q[3])).toBe(order)
    expect(pages.page_type[pfn]).toBe(PGTY_buddy)
    expect(pages.order[pfn]).toBe(order)
    const list = zone(run, q[5]).free_area[order].free_list[MT(q[4])]
    expect(q[2] === 'head' ? list.head : list.tail).toBe(pfn)
  })

  it('vma_merge: a merge line matches the VMA layout after the call, a refusal leaves two VMAs', () => {
    const { run, next } = stepper(`machine: { ram: 64M }
steps:
  - spawn: a
  - mmap: { len: 16K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: m }
  - munmap: { addr: $m + 8K, len: 8K }
  - mmap: { addr: $m + 8K, len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED }
  - mmap: { addr: $m + 12K, len: 4K, prot: r--, flags: MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED }
  - mprotect: { addr: $m + 12K, len: 4K, prot: rw- }
`)
    next()
    next()
    next()
    const base = run.env.get('m')!
    const mm = run.procs.get('a')!.mm
    const merged = lines(next(), 'vma_merge')
    const m1 = /merged, prev grew over the range: \[0x([0-9a-f]+)-0x([0-9a-f]+)\)$/.exec(merged[merged.length - 1])
    expect(m1, merged.join('\n')).not.toBeNull()
    const v = find_vma(mm, base)!
    expect([v.vm_start, v.vm_end]).toEqual([Number.parseInt(m1![1], 16), Number.parseInt(m1![2], 16)])
    expect(v.vm_end).toBe(base + 12 * 1024)
    const refused = lines(next(), 'vma_merge')
    expect(refused[refused.length - 1]).toMatch(/prev \[0x[0-9a-f]+-0x[0-9a-f]+\) refused: vm_flags differ in wr.*: a new VMA is made$/)
    expect(find_vma(mm, base + 12 * 1024)!.vm_start).toBe(base + 12 * 1024)
    const back = lines(next(), 'vma_merge')
    const m2 = /^vma_merge_existing_range .*: merged, prev grew over the range: \[0x([0-9a-f]+)-0x([0-9a-f]+)\)$/.exec(back[back.length - 1])
    expect(m2, back.join('\n')).not.toBeNull()
    const w = find_vma(mm, base)!
    expect([w.vm_start, w.vm_end]).toEqual([base, base + 16 * 1024])
  })

  it('pgtable and fault: the indices and allocated tables are what a walk finds; a read maps the zero page, a write a new page', () => {
    const { run, next } = stepper(`machine: { ram: 64M }
steps:
  - spawn: a
  - mmap: { addr: 0x40000000, len: 8K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED }
  - load: { addr: 0x40000000, len: 1 }
  - store: { addr: 0x40000000, data: "x" }
`)
    next()
    next()
    const r = next()
    const [pt] = lines(r, 'pgtable')
    const mm = run.procs.get('a')!.mm
    const tables = run.m.pgtables
    const walk = tables.walk_levels(mm.pgd.mm, 0x40000000)
    const idx = walk.map((s) => `${s.level} ${s.index}`).join(', ')
    expect(pt.startsWith(`0x40000000: ${idx}, offset 0x0;`)).toBe(true)
    const made = [...pt.matchAll(/(\w+) table pfn 0x([0-9a-f]+)/g)]
    expect(made.length).toBeGreaterThan(0)
    for (const [, level, pfn] of made) {
      const step = walk.find((s) => s.level === level)!
      expect(step.table_pfn).toBe(Number.parseInt(pfn, 16))
      expect(run.m.pages.page_type[step.table_pfn]).toBe(PGTY_table)
    }
    const [f] = lines(r, 'fault')
    expect(f).toMatch(/^read fault at 0x40000000 .*shared zero page.*; now pfn 0x[0-9a-f]+ \(the zero page\) read-only; minor/)
    expect(pte_pfn(mm.pgd.get(0x40000))).toBe(run.m.zero_pfn)
    const w = next()
    expect(lines(w, 'pgtable')[0]).toMatch(/every table level present$/)
    const [cow] = lines(w, 'cow')
    const c = /zero page: wp_page_copy gives a new zeroed page; copied to pfn 0x([0-9a-f]+)$/.exec(cow)
    expect(c, cow).not.toBeNull()
    expect(pte_pfn(mm.pgd.get(0x40000))).toBe(Number.parseInt(c![1], 16))
  })

  it('cow: after fork a write copies (the PTE maps the named new pfn); once the page is ours alone it is reused', () => {
    const { run, next } = stepper(`machine: { ram: 64M }
steps:
  - spawn: a
  - mmap: { addr: 0x40000000, len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED }
  - store: { addr: 0x40000000, data: "x" }
  - fork: b
  - store: { addr: 0x40000000, data: "y" }
  - use: b
  - store: { addr: 0x40000000, data: "z" }
`)
    for (let i = 0; i < 4; i++) next()
    const a = run.procs.get('a')!.mm
    const old = pte_pfn(a.pgd.get(0x40000))
    const [copy] = lines(next(), 'cow')
    const m = new RegExp(`anonymous pfn 0x${old.toString(16)} is shared \\(mapcount 2, refcount 2.*wp_page_copy.*copied to pfn 0x([0-9a-f]+)$`).exec(copy)
    expect(m, copy).not.toBeNull()
    expect(pte_pfn(a.pgd.get(0x40000))).toBe(Number.parseInt(m![1], 16))
    next()
    const [reuse] = lines(next(), 'cow')
    expect(reuse).toMatch(new RegExp(`anonymous pfn 0x${old.toString(16)} is ours alone .*wp_page_reuse.*; pfn 0x${old.toString(16)} reused$`))
    expect(pte_pfn(run.procs.get('b')!.mm.pgd.get(0x40000))).toBe(old)
  })

  it('slab: the named cache is the cache of the object slab, chosen by size class and GFP flags', () => {
    const { run, next } = stepper(`machine: { ram: 64M }
steps:
  - kmalloc: { size: 100 }
  - kmalloc: { size: 100, gfp: GFP_KERNEL_ACCOUNT }
  - kmalloc: { size: 700, gfp: GFP_KERNEL|__GFP_RECLAIMABLE }
  - kmalloc: { size: 30, gfp: GFP_KERNEL|GFP_DMA }
`)
    const want = ['kmalloc-128', 'kmalloc-cg-128', 'kmalloc-rcl-1k', 'dma-kmalloc-32']
    for (const name of want) {
      const r = next()
      const [text] = lines(r, 'slab')
      const m = /-> ([\w-]+); object 0x([0-9a-f]+) of ([\w-]+) \(\d+ bytes each\) from (.*), slab at pfn 0x([0-9a-f]+)$/.exec(text)
      expect(m, text).not.toBeNull()
      expect(m![1]).toBe(name)
      expect(m![3]).toBe(name)
      const slab = run.m.slab.virt_to_slab(r.ret as number)!
      expect(slab.cache.name).toBe(name)
      expect(slab.pfn).toBe(Number.parseInt(m![5], 16))
      expect(run.m.pages.page_type[slab.pfn]).toBe(PGTY_slab)
    }
  })

  it('reclaim: MADV_PAGEOUT swaps out the named pages; their PTEs then hold the named swap entries', () => {
    const { run, next } = stepper(`machine: { ram: 64M, swap: 16M }
steps:
  - spawn: a
  - mmap: { addr: 0x40000000, len: 8K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED }
  - store: { addr: 0x40000000, data: { fill: 1, len: 8K } }
  - madvise: { addr: 0x40000000, len: 8K, advice: MADV_PAGEOUT }
`)
    for (let i = 0; i < 3; i++) next()
    const mm = run.procs.get('a')!.mm
    const pfns = [pte_pfn(mm.pgd.get(0x40000)), pte_pfn(mm.pgd.get(0x40001))]
    const r = next()
    const rec = lines(r, 'reclaim')
    expect(rec).toHaveLength(2)
    rec.forEach((text, i) => {
      const m = /^shrink_folio_list: pfn 0x([0-9a-f]+) \(anon, mapcount 0\): reclaim: references ignored \(MADV_PAGEOUT\); anonymous: swapped out to entry 0x([0-9a-f]+)/.exec(text)
      expect(m, text).not.toBeNull()
      expect(Number.parseInt(m![1], 16)).toBe(pfns[i])
      const pte = mm.pgd.get(0x40000 + i)
      expect(pte_present(pte)).toBe(false)
      expect(is_swap_pte(pte)).toBe(true)
      expect(swp_offset(Number.parseInt(m![2], 16))).toBe(pte_swp_offset(pte))
    })
  })

  it('kinds are the documented ones, and a run without --explain records none and costs no listener', () => {
    const { run, next } = stepper('machine: { ram: 64M }\nsteps:\n  - spawn: a\n  - kmalloc: { size: 8 }\n')
    const kinds = new Set([next(), next()].flatMap((r) => (r.explain ?? []).map((x) => x.kind)))
    for (const k of kinds) expect(EXPLAIN_KINDS).toContain(k)
    run.observer.set_explain(false)
    expect(run.m.trace.explaining).toBe(false)
    const sc = load_scenario('steps:\n  - kmalloc: { size: 8 }\n', 'u.yaml')
    const plain = new Run(sc)
    expect(plain.m.trace.explaining).toBe(false)
    expect(plain.exec(sc.steps[0], 0).explain).toBeUndefined()
  })
})
