/**
 * `mmsim exercise cow`: copy-on-write after fork. A parent writes some
 * pages of a private anonymous area, forks, then parent and child write
 * pages in turn. How many writes copy a page, and how many pages do the two
 * still share at the end? Everything runs on a simulated machine; each
 * write is classified by reading both processes' page-table entries before
 * and after it (frame and write bit), so the answer is what mm/memory.c's
 * do_wp_page did: copy a page still mapped by the other process, reuse one
 * that only the writer maps any more, allocate a fresh page where nothing
 * was mapped.
 */
import { pte_pfn, pte_present, pte_write } from '../arch/pte.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { Machine } from '../machine.js'
import type { Process } from '../user/process.js'
import type { Exercise, ExerciseOptions, Topic } from './exercise.js'
import { ExerciseRng } from './rng.js'

const PAGE = 4096
const hex = (n: number): string => `0x${n.toString(16)}`

export interface CowWrite {
  who: 'parent' | 'child'
  page: number
}

export interface CowRun {
  machine: Machine
  parent: Process
  child: Process
  base: number
  pages: number
  before_fork: number[]
  writes: CowWrite[]
  copies: number
  /** Pages mapped to the same frame in both at the end. */
  shared: number[]
  steps: string[]
}

/** The present pte's frame and write bit of `p` at page `i` of the area, or null. */
function entry(p: Process, addr: number): { pfn: number; writable: boolean } | null {
  const mm = p.task.mm
  if (!mm) return null
  const pte = mm.pgd.get(addr / PAGE)
  return pte_present(pte) ? { pfn: pte_pfn(pte), writable: pte_write(pte) } : null
}

/** Runs the scenario: map `pages`, write `before_fork`, fork, then `writes`. */
export function run_cow(m: Machine, pages: number, before_fork: readonly number[], writes: readonly CowWrite[]): CowRun {
  const parent = m.spawn({ name: 'parent' })
  const base = parent.mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  for (const i of before_fork) parent.store(base + i * PAGE, [0x50 + i])
  const child = parent.fork()
  let copies = 0
  const steps: string[] = []
  for (const w of writes) {
    const me = w.who === 'parent' ? parent : child
    const other = w.who === 'parent' ? child : parent
    const addr = base + w.page * PAGE
    const mine = entry(me, addr)
    const theirs = entry(other, addr)
    me.store(addr, [0xc0 + w.page])
    const now = entry(me, addr)
    const what = `${w.who} writes page ${w.page}`
    if (!mine) {
      steps.push(`${what}: no page there yet (never written before the fork${theirs ? '' : ', nor since'}): a fault allocates a fresh zeroed page ${hex(now?.pfn ?? -1)} (do_anonymous_page): not a copy.`)
    } else if (mine.writable) {
      steps.push(`${what}: its pte already maps its own writable frame ${hex(mine.pfn)}: no fault.`)
    } else if (now && now.pfn !== mine.pfn) {
      copies++
      steps.push(`${what}: the pte is read-only (fork write-protected it) and frame ${hex(mine.pfn)} is ${theirs && theirs.pfn === mine.pfn ? `still mapped by the ${w.who === 'parent' ? 'child' : 'parent'}` : 'not exclusively the writer\'s'}: do_wp_page copies it to ${hex(now.pfn)} (copy ${copies}).`)
    } else {
      steps.push(`${what}: the pte is read-only, but frame ${hex(mine.pfn)} is mapped by the ${w.who} alone now (the ${w.who === 'parent' ? 'child' : 'parent'} already took its copy): do_wp_page reuses it and only makes the pte writable, no copy.`)
    }
  }
  const shared: number[] = []
  for (let i = 0; i < pages; i++) {
    const a = entry(parent, base + i * PAGE), b = entry(child, base + i * PAGE)
    if (a && b && a.pfn === b.pfn) shared.push(i)
  }
  return { machine: m, parent, child, base, pages, before_fork: before_fork.slice(), writes: writes.slice(), copies, shared, steps }
}

export function cow_exercise(o: ExerciseOptions): Exercise {
  const rng = new ExerciseRng(o.seed)
  const m = new Machine({ ram: '64M', ...o.machine, seed: o.seed })
  const pages = rng.int(4, 8)
  const all = Array.from({ length: pages }, (_, i) => i)
  const before_fork = rng.shuffle(all).slice(0, rng.int(2, pages)).sort((a, b) => a - b)
  const writes: CowWrite[] = []
  const n = rng.int(4, 7)
  for (let i = 0; i < n; i++) {
    // Mostly pages written before the fork, where copy-on-write happens.
    const page = rng.chance(4, 5) ? rng.pick(before_fork) : rng.pick(all)
    writes.push({ who: rng.chance(1, 2) ? 'parent' : 'child', page })
  }
  const r = run_cow(m, pages, before_fork, writes)
  const setting = `A process maps ${pages} pages of private anonymous memory (pages 0 to ${pages - 1}), writes to pages ${before_fork.join(', ')}, and forks. Then, in order:\n${writes.map((w) => `  the ${w.who} writes to page ${w.page}`).join('\n')}`
  return {
    topic: 'cow',
    seed: o.seed,
    questions: [
      {
        text: `${setting}\nHow many of these writes copy a page?`,
        answer: `${r.copies}`,
        reasoning: `fork copies the parent's ptes into the child with the write bit cleared in both, so both map the same frames read-only (pages never written have no pte, and get none). A write then faults: do_wp_page copies the page if the other process still maps it, and reuses it if the writer is its only user left.\n${r.steps.join('\n')}\n${r.copies} cop${r.copies === 1 ? 'y' : 'ies'}.`,
      },
      {
        text: 'Same writes. Afterwards, how many of the pages do parent and child share (both map the same frame)?',
        answer: r.shared.length ? `${r.shared.length}: page${r.shared.length > 1 ? 's' : ''} ${r.shared.join(', ')}` : '0: none',
        reasoning: `A page stays shared while neither process has written it since the fork. Written before the fork: ${before_fork.join(', ')}; written after: ${[...new Set(writes.map((w) => w.page))].sort((a, b) => a - b).join(', ')}. Read off the two page tables at the end, the frames that are the same: ${r.shared.length ? r.shared.map((i) => `page ${i}`).join(', ') : 'none'}.`,
      },
    ],
  }
}

export const cow: Topic = {
  name: 'cow',
  summary: 'copy-on-write after fork: how many writes copy a page, how many pages stay shared',
  generate: cow_exercise,
}
