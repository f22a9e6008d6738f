/**
 * Swap to zram as the real kernel does it: test/fixtures/probes/swap_pageout.c
 * ran on Linux 6.18.44 with a 64 MiB zram swap area and recorded
 * swap_pageout.txt; the same steps here must print the same lines: the
 * offsets MADV_PAGEOUT hands out (one CPU's cluster from offset 1, freed
 * slots not reused while the cluster lasts), zram swap-in skipping the swap
 * cache and freeing the slot, fork sharing every entry (SwapPss halved),
 * the COW of a shared entry, MADV_FREE dropping entries, /proc/swaps.
 * The child's fault on an entry shared after fork reads through the swap
 * cache with VMA-based readahead: a VMA that never swapped in starts with
 * 4 hits, so the first window is 8 pages centred on the fault (pages 17-24
 * around page 20), which the parent then finds in the swap cache (mincore).
 */
import { expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { boot } from '../helpers.js'
import { MADV_FREE, MADV_PAGEOUT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../../src/index.js'
import type { Machine, Process } from '../../src/index.js'

const PG = 4096
const N = 64
const recorded = readFileSync(new URL('../fixtures/probes/swap_pageout.txt', import.meta.url), 'utf8')
function run(m: Machine): string[] {
  const out: string[] = []
  const p = m.spawn()
  const g = p.mmap(0, (N + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS)
  const a = g + PG
  p.mprotect(a, N * PG, PROT_READ | PROT_WRITE)
  const put = (text: string): void => {
    out.push(...text.split('\n').slice(0, -1))
  }
  const swaps = (): void => put(m.proc('/proc/swaps'))
  const smaps = (q: Process, tag: string): void => {
    const lines = m.proc(`/proc/${q.pid}/smaps`).split('\n')
    const want = `${a.toString(16)}-`
    let inside = false
    let s = `smaps ${tag}:`
    for (const l of lines) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) inside = l.startsWith(want)
      if (inside && /^(Rss|Anonymous|Swap|SwapPss|Private_Dirty|Private_Clean):/.test(l)) s += ` [${l}]`
    }
    for (const l of m.proc(`/proc/${q.pid}/status`).split('\n')) if (/^(VmSwap|RssAnon):/.test(l)) s += ` [${l}]`
    out.push(s)
  }
  const resident = (q: Process, tag: string): void => {
    out.push(`mincore ${tag}: ` + [...q.mincore(a, N * PG)].map((v) => String(v & 1)).join(''))
  }
  const pagemap = (q: Process, tag: string, n: number): void => {
    const e = q.pagemap(a, n)
    const f = e.map((v) => {
      if (v >> 63n) return ` P${(v >> 56n) & 1n ? 'E' : ''}`
      if ((v >> 62n) & 1n) return ` S${v & 31n}:${(v & ((1n << 55n) - 1n)) >> 5n}`
      return ' -'
    })
    out.push(`pagemap ${tag}:${f.join('')}`)
  }
  for (let i = 0; i < N; i++) {
    const page = new Uint8Array(PG)
    for (let j = 0; j < PG; j += 512) page[j] = (i * 7 + j / 512 + 1) & 0xff
    p.store(a + i * PG, page)
  }
  swaps()
  smaps(p, 'written')
  p.madvise(a, N * PG, MADV_PAGEOUT)
  swaps()
  smaps(p, 'paged out')
  resident(p, 'paged out')
  pagemap(p, 'paged out', 8)
  let sum = 0
  for (let i = 0; i < 4; i++) sum += (p.load(a + i * PG, 1)[0] << 24) >> 24
  p.store(a + 10 * PG, [1])
  p.store(a + 11 * PG + 1, [2])
  out.push(`sum ${sum}`)
  swaps()
  smaps(p, 'some back')
  resident(p, 'some back')
  pagemap(p, 'some back', 12)
  p.madvise(a, N * PG, MADV_PAGEOUT)
  swaps()
  pagemap(p, 'again', 12)
  const c = p.fork()
  const csum = (c.load(a + 20 * PG, 1)[0] << 24) >> 24
  resident(c, 'child read')
  pagemap(c, 'child read', 24)
  swaps()
  smaps(p, 'forked')
  resident(p, 'forked')
  pagemap(p, 'forked', 24)
  p.store(a + 21 * PG, [9])
  out.push(`parent read ${(p.load(a + 20 * PG, 1)[0] << 24) >> 24}`)
  smaps(p, 'parent touched')
  resident(p, 'parent touched')
  pagemap(p, 'parent touched', 24)
  c.exit(csum === ((20 * 7 + 1) << 24) >> 24 ? 0 : 1)
  out.push(`child ${c.wait()?.replace('exit:', '') ?? '?'}`)
  swaps()
  smaps(p, 'child gone')
  p.madvise(a + 30 * PG, 10 * PG, MADV_FREE)
  swaps()
  smaps(p, 'freed 10')
  out.push(`page 30 byte ${(p.load(a + 30 * PG, 1)[0] << 24) >> 24}, page 40 byte ${(p.load(a + 40 * PG, 1)[0] << 24) >> 24}`)
  return out
}

/** The kernel's lines as mmsim must print them: the device renamed, RssAnon dropped (the program image's anon pages differ). */
function kernel_lines(): string[] {
  return recorded
    .replaceAll('/dev/zram2', '/dev/zram0')
    .split('\n')
    .slice(0, -1)
    .map((l) => l.replace(/ \[RssAnon:\t *\d+ kB\]/, ''))
}

it('MADV_PAGEOUT, swap-in, fork and MADV_FREE on zram print what Linux 6.18 printed', () => {
  const m = boot({ ram: '128M', swap: '64M' })
  const got = run(m).map((l) => l.replace(/ \[RssAnon:\t *\d+ kB\]/, ''))
  expect(got).toEqual(kernel_lines())
  expect(m.dmesg()).toContain('Adding 65532k swap on /dev/zram0.  Priority:-2 extents:1 across:65532k SS')
})
