/**
 * `mmsim exercise buddy`: which blocks are on a free list of the buddy
 * allocator after a few allocations and frees. The calls run on the DMA
 * zone of a freshly booted machine (a few hundred to a few thousand free
 * pages in a handful of blocks), through the kernel's alloc_pages and
 * __free_pages; the answer is read off the zone's free lists and
 * /proc/buddyinfo afterwards. Orders 4 to 8 only: smaller orders (and the
 * pageblock order with THP) go through the per-CPU lists first, as in
 * Linux, which is a different exercise. __GFP_MOVABLE keeps the request's
 * migratetype equal to the zone's pageblocks, so no fallback claims one.
 */
import { Machine } from '../machine.js'
import { GFP_KERNEL, MIGRATE_MOVABLE, __GFP_DMA, __GFP_MOVABLE } from '../mm/gfp.js'
import { NR_PAGE_ORDERS } from '../mm/mmzone.js'
import type { Page } from '../mm/page.js'
import { type Exercise, ExerciseError, type ExerciseOptions, type Topic } from './exercise.js'
import { ExerciseRng } from './rng.js'

const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']
export const BUDDY_GFP = GFP_KERNEL | __GFP_DMA | __GFP_MOVABLE
const MIN_ORDER = 4
const MAX_ORDER = 8

/** One free list, head first. */
interface FreeList {
  order: number
  mt: number
  pfns: number[]
}

export type BuddyCall = { op: 'alloc'; order: number; name: string } | { op: 'free'; name: string }

/** The DMA zone's free lists, every order and migratetype that has blocks. */
export function dma_free_lists(m: Machine): FreeList[] {
  const z = m.page_alloc.zones[m.arch.zones.ZONE_DMA]
  const out: FreeList[] = []
  for (let o = 0; o < NR_PAGE_ORDERS; o++) {
    z.free_area[o].free_list.forEach((l, mt) => {
      const pfns = l.each(m.pages)
      if (pfns.length) out.push({ order: o, mt, pfns })
    })
  }
  return out
}

const hex = (n: number): string => `0x${n.toString(16)}`
const block = (pfn: number, order: number): string => `${hex(pfn)}-${hex(pfn + (1 << order) - 1)}`

function lists_text(lists: readonly FreeList[]): string {
  if (!lists.length) return '  (no free blocks)'
  const multi = lists.some((l) => l.mt !== lists[0].mt)
  return lists.map((l) => `  order ${String(l.order).padStart(2)}${multi || l.mt !== 1 ? ` (${MIGRATETYPE_NAMES[l.mt]})` : ''}: ${l.pfns.map((p) => block(p, l.order)).join(', ')}`).join('\n')
}

function blocks_of(lists: readonly FreeList[]): Map<string, { pfn: number; order: number }> {
  const m = new Map<string, { pfn: number; order: number }>()
  for (const l of lists) for (const pfn of l.pfns) m.set(`${l.order}:${pfn}`, { pfn, order: l.order })
  return m
}

/** What changed on the free lists across one call, in words. */
function diff_text(before: readonly FreeList[], after: readonly FreeList[]): { gone: string[]; gone_orders: number[]; added: string[] } {
  const b = blocks_of(before), a = blocks_of(after)
  const gone = [...b].filter(([k]) => !a.has(k)).map(([, v]) => v).sort((x, y) => x.order - y.order || x.pfn - y.pfn)
  const added = [...a].filter(([k]) => !b.has(k)).map(([, v]) => v).sort((x, y) => y.order - x.order || x.pfn - y.pfn)
  const where = (v: { pfn: number; order: number }): string => {
    const l = after.find((x) => x.order === v.order && x.pfns.includes(v.pfn)) as FreeList
    const pos = l.pfns.length === 1 ? 'alone on its list' : l.pfns[0] === v.pfn ? 'at the head of its list' : l.pfns[l.pfns.length - 1] === v.pfn ? 'at the tail of its list' : 'inside its list'
    return `${block(v.pfn, v.order)} (order ${v.order}, ${pos})`
  }
  return { gone: gone.map((v) => `${block(v.pfn, v.order)} (order ${v.order})`), gone_orders: gone.map((v) => v.order), added: added.map(where) }
}

export interface BuddyRun {
  machine: Machine
  initial: FreeList[]
  calls: BuddyCall[]
  /** The pfn each named allocation returned (-1: NULL). */
  returned: Map<string, number>
  orders: Map<string, number>
  steps: string[]
}

/** A run of calls on one machine's DMA zone, one call at a time. */
export function new_buddy_run(machine: Machine): BuddyRun {
  return { machine, initial: dma_free_lists(machine), calls: [], returned: new Map(), orders: new Map(), steps: [] }
}

/** Runs one call (alloc orders 4..8), explaining it from the change of the free lists. */
export function buddy_step(r: BuddyRun, c: BuddyCall): void {
  const m = r.machine
  const before = dma_free_lists(m)
  r.calls.push(c)
  if (c.op === 'alloc') {
    const page = m.kernel.alloc_pages(BUDDY_GFP, c.order)
    const pfn = page === null ? -1 : (page as number)
    r.returned.set(c.name, pfn)
    r.orders.set(c.name, c.order)
    const d = diff_text(before, dma_free_lists(m))
    if (pfn < 0) {
      r.steps.push(`${c.name} = alloc_pages(order ${c.order}): no free block of order ${c.order} or more: NULL.`)
      return
    }
    const from = d.gone_orders[0] ?? c.order
    let s = `${c.name} = alloc_pages(order ${c.order}): the smallest non-empty list at or above order ${c.order} is order ${from}; its head block ${d.gone[0] ?? '?'} is taken`
    if (from > c.order) s += ` and split (expand): the lower half is kept each time and the upper halves go to the head of their lists: ${d.added.join(', ')}`
    r.steps.push(`${s}. ${c.name} = pfn ${hex(pfn)}.`)
    return
  }
  const pfn = r.returned.get(c.name) as number
  const order = r.orders.get(c.name) as number
  m.kernel.__free_pages(pfn as Page, order)
  const d = diff_text(before, dma_free_lists(m))
  const merged = d.gone.length
    ? `its buddy ${d.gone.length > 1 ? 'blocks' : 'block'} ${d.gone.join(', ')} ${d.gone.length > 1 ? 'are' : 'is'} free at the same order each time, so they merge (the buddy of a block is pfn ^ (1 << order))`
    : `its buddy ${block(pfn ^ (1 << order), order)} is not a free block of order ${order}, so nothing merges`
  const tail = d.added.some((s) => s.includes('tail'))
    ? ' (at the tail: the buddy of the merged block\'s parent is free, so a further merge is likely and the block should not be handed out first: buddy_merge_likely)'
    : ''
  r.steps.push(`__free_pages(${c.name} = ${block(pfn, order)}, order ${order}): ${merged}; the result ${d.added.join(', ')} is queued${tail}.`)
}

/** Runs `calls` on `machine` from its current state. */
export function run_buddy_calls(machine: Machine, calls: readonly BuddyCall[]): BuddyRun {
  const r = new_buddy_run(machine)
  for (const c of calls) buddy_step(r, c)
  return r
}

function call_text(c: BuddyCall, orders: Map<string, number>): string {
  return c.op === 'alloc'
    ? `${c.name} = alloc_pages(GFP_KERNEL | __GFP_DMA | __GFP_MOVABLE, ${c.order})`
    : `__free_pages(${c.name}, ${orders.get(c.name)})`
}

/** The line of /proc/buddyinfo for the DMA zone. */
export function dma_buddyinfo(m: Machine): string {
  return m.proc('/proc/buddyinfo').split('\n').find((l) => /zone\s+DMA\s/.test(l)) as string
}

export function buddy_exercise(o: ExerciseOptions): Exercise {
  const rng = new ExerciseRng(o.seed)
  const ram = o.machine?.ram ?? rng.pick(['32M', '64M', '128M', '256M'])
  const m = new Machine({ ...o.machine, ram, seed: o.seed })
  // The calls are drawn against the real zone as it goes, so each allocation fits a free block.
  const r = new_buddy_run(m)
  const initial = r.initial
  const live: string[] = []
  const n = rng.int(3, 6)
  let next = 0
  for (let i = 0; i < n; i++) {
    const top = Math.max(-1, ...dma_free_lists(m).map((l) => l.order))
    const fits = [4, 5, 6, 7, 8].filter((k) => k <= Math.min(top, MAX_ORDER))
    if (live.length && (rng.chance(2, 5) || !fits.length)) {
      buddy_step(r, { op: 'free', name: live.splice(rng.int(0, live.length - 1), 1)[0] })
    } else if (fits.length) {
      const name = String.fromCharCode(65 + next++)
      live.push(name)
      buddy_step(r, { op: 'alloc', order: rng.pick(fits), name })
    }
  }
  const calls = r.calls
  if (!calls.length) throw new ExerciseError(`exercise: buddy: the DMA zone of this machine has no free block of order ${MIN_ORDER} or more`)
  const after = dma_free_lists(m)
  // Ask about an order whose list the calls changed (any order with blocks if none did).
  const list_at = (lists: readonly FreeList[], k: number): string => lists.filter((l) => l.order === k).map((l) => `${l.mt}:${l.pfns.join(',')}`).join(';')
  const orders = [...new Set([...initial, ...after].map((l) => l.order))].filter((k) => k >= MIN_ORDER).sort((a, b) => a - b)
  const changed = orders.filter((k) => list_at(initial, k) !== list_at(after, k))
  const ask = rng.pick(changed.length ? changed : orders)
  const on = after.filter((l) => l.order === ask)
  const zone = m.page_alloc.zones[m.arch.zones.ZONE_DMA]
  const movable = [...zone.pageblock_mt].every((mt) => mt === MIGRATE_MOVABLE)
  const pageblocks = movable ? 'every pageblock of the zone is Movable, like the requests below, so no allocation falls back to another migratetype' : 'the lists are Movable unless marked'
  const setting = `A freshly booted ${m.arch.name} machine with ${ram} of RAM. Its DMA zone (pfns ${hex(zone.zone_start_pfn)}-${hex(zone.zone_end_pfn - 1)}) has these free blocks (each list head first; ${pageblocks}):\n${lists_text(initial)}\nThe kernel then runs:\n${calls.map((c) => `  ${call_text(c, r.orders)}`).join('\n')}`
  const allocs = calls.filter((c) => c.op === 'alloc')
  return {
    topic: 'buddy',
    seed: o.seed,
    questions: [
      {
        text: `${setting}\nWhich pfn does each allocation return?`,
        answer: allocs.map((c) => `${c.name} = ${r.returned.get(c.name) as number < 0 ? 'NULL' : `pfn ${hex(r.returned.get(c.name) as number)}`}`).join(', '),
        reasoning: r.steps.join('\n'),
      },
      {
        text: `Same calls. Which blocks are on the order-${ask} free list of the DMA zone afterwards, head first?`,
        answer: on.length ? on.map((l) => l.pfns.map((p) => block(p, ask)).join(', ')).join('; ') : 'none: the list is empty',
        reasoning: `${r.steps.join('\n')}\nThe free lists afterwards:\n${lists_text(after)}`,
      },
      {
        text: 'Same calls. What does the DMA line of /proc/buddyinfo read afterwards (free blocks of order 0 to 10)?',
        answer: dma_buddyinfo(m).trim(),
        reasoning: `/proc/buddyinfo counts the blocks on each order's lists (nr_free). Afterwards:\n${lists_text(after)}`,
      },
    ],
  }
}

export const buddy: Topic = {
  name: 'buddy',
  summary: 'which blocks are on an order-k free list after allocations and frees (the DMA zone of a booted machine)',
  generate: buddy_exercise,
}
