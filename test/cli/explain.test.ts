/**
 * The observation flags end to end (docs/explain.md): `--explain` lines
 * under their steps (and the README's excerpt is what the command prints),
 * `--trace FILE.json` a Chrome trace that parses with the phases, pids,
 * tids and per-track time order Perfetto needs, `--ftrace` / `--trace
 * FILE.txt` trace-cmd report lines, `--counters` CSV, `--json` records
 * carrying explanations and events, the shell's `explain on|off`, and one
 * line with exit 2 for every misuse.
 */
import { describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mmsim, mmsim_spawned } from './helpers.js'
import { EXPLAIN_KINDS } from '../../src/include/trace.js'

const ROOT = new URL('../../', import.meta.url).pathname
const FORK_COW = join(ROOT, 'examples/fork-cow.yaml')

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-explain-'))
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) }
}

const EXPLAIN_RE = new RegExp(`^  \\| (${EXPLAIN_KINDS.join('|')}): \\S.*$`)
const FTRACE_RE = /^ *\S+-\d+ \[\d{3}\] +\d+\.\d{6}: [a-z_]+: +\S.*$/

interface ChromeEvent {
  name: string
  ph: string
  ts: number
  dur?: number
  pid: number
  tid: number
  cat?: string
  args?: Record<string, unknown>
}

describe('mmsim run --explain', () => {
  it('prints explanation lines of the documented kinds under their steps; the README excerpt is what it prints', async () => {
    const r = await mmsim('run', FORK_COW, '--explain')
    expect(r.status).toBe(0)
    const out = r.stdout.split('\n')
    const ex = out.filter((l) => l.startsWith('  | '))
    expect(ex.length).toBeGreaterThan(20)
    for (const l of ex) expect(l).toMatch(EXPLAIN_RE)
    // The first line is a step's, never an explanation; every explanation follows a step or another explanation.
    expect(out[0]).toMatch(/^parent: spawn/)
    const kinds = new Set(ex.map((l) => /^ {2}\| (\w+):/.exec(l)![1]))
    for (const k of ['page_alloc', 'vma_merge', 'pgtable', 'fault', 'cow', 'slab']) expect(kinds).toContain(k)
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const excerpt = /--explain`:\n\n```\n([\s\S]*?)```/.exec(readme)![1].trim().split('\n')
    const at = out.indexOf(excerpt[0])
    expect(at).toBeGreaterThanOrEqual(0)
    expect(out.slice(at, at + excerpt.length)).toEqual(excerpt)
  })

  it('--json carries explanations, events and step times in the records', async () => {
    const t = tmp()
    try {
      const r = await mmsim('run', FORK_COW, '--json', '--explain', '--trace', join(t.dir, 't.json'))
      expect(r.status).toBe(0)
      const recs = JSON.parse(r.stdout) as { op: string; explain?: { kind: string; text: string }[]; events?: { name: string; ts_ns: number; cpu: number; comm: string; pid: number; text: string }[]; t0_ns: number; t1_ns: number }[]
      expect(recs.some((x) => x.explain?.some((e) => e.kind === 'cow'))).toBe(true)
      const events = recs.flatMap((x) => x.events ?? [])
      expect(events.some((e) => e.name === 'page_fault_user' && /^address=0x[0-9a-f]+ error_code=0x[46]$/.test(e.text))).toBe(true)
      // Each step's interval is ordered and holds its events (checked in one pass: a record has thousands).
      const outside = recs.flatMap((x) => [...(x.t1_ns < x.t0_ns ? [`${x.op}: t1 ${x.t1_ns} < t0 ${x.t0_ns}`] : []), ...(x.events ?? []).filter((e) => e.ts_ns < x.t0_ns || e.ts_ns > x.t1_ns).map((e) => `${x.op}: ${e.name} at ${e.ts_ns} outside [${x.t0_ns}, ${x.t1_ns}]`)])
      expect(outside).toEqual([])
    } finally {
      t.done()
    }
  })
})

describe('mmsim run --trace / --ftrace / --counters', () => {
  it('--trace FILE.json is a Chrome trace Perfetto can open', async () => {
    const t = tmp()
    try {
      const f = join(t.dir, 'run.json')
      const r = await mmsim('run', FORK_COW, '--trace', f, '--explain')
      expect(r.status).toBe(0)
      const doc = JSON.parse(readFileSync(f, 'utf8')) as { traceEvents: ChromeEvent[]; displayTimeUnit: string }
      expect(Array.isArray(doc.traceEvents)).toBe(true)
      // The events of a bad shape, or earlier than the one before them on their thread: none (one
      // expect for the whole trace; one per event cost more than the run it checks).
      const last = new Map<number, number>()
      const bad = doc.traceEvents.filter((e) => {
        const ok = ['M', 'X', 'i'].includes(e.ph) && e.pid === 1 && Number.isInteger(e.tid) && e.tid >= 0 && e.tid < 2 && typeof e.ts === 'number' && (e.ph !== 'X' || (e.dur ?? -1) >= 0)
        if (!ok || e.ph === 'M') return !ok
        const back = e.ts < (last.get(e.tid) ?? 0)
        last.set(e.tid, e.ts)
        return back
      })
      expect(bad).toEqual([])
      const steps = doc.traceEvents.filter((e) => e.cat === 'step')
      expect(steps).toHaveLength(11)
      const names = new Set(doc.traceEvents.filter((e) => e.cat === 'tracepoint').map((e) => e.name))
      for (const n of ['mm_page_alloc', 'page_fault_user', 'kmem_cache_alloc', 'mm_lru_insertion']) expect(names).toContain(n)
      const alloc = doc.traceEvents.find((e) => e.name === 'mm_page_alloc')!
      expect(alloc.args).toMatchObject({ order: expect.stringMatching(/^\d+$/), pfn: expect.stringMatching(/^0x[0-9a-f]+$/) })
      expect(doc.traceEvents.some((e) => e.cat === 'explain' && e.name === 'cow')).toBe(true)
      expect(doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid)).toEqual([0, 1])
    } finally {
      t.done()
    }
  })

  it('--ftrace and --trace FILE.txt write trace-cmd report lines; the same seed writes the same bytes', async () => {
    const t = tmp()
    try {
      const [a, b] = [join(t.dir, 'a.txt'), join(t.dir, 'b.txt')]
      expect((await mmsim('run', FORK_COW, '--ftrace', a)).status).toBe(0)
      expect((await mmsim('run', FORK_COW, '--trace', b)).status).toBe(0)
      const text = readFileSync(a, 'utf8')
      expect(readFileSync(b, 'utf8')).toBe(text)
      const lines = text.trimEnd().split('\n')
      expect(lines[0]).toBe('cpus=2')
      expect(lines.length).toBeGreaterThan(50)
      for (const l of lines.slice(1)) expect(l).toMatch(FTRACE_RE)
      expect(lines.some((l) => /^ +parent-100 \[000\] +\d+\.\d{6}: page_fault_user: +address=0x7f/.test(l))).toBe(true)
    } finally {
      t.done()
    }
  })

  it('reclaim under memory pressure traces the mm_vmscan_* and explains each verdict', async () => {
    const t = tmp()
    try {
      const sc = join(t.dir, 'p.yaml')
      // kswapd runs at each fault's return to user mode and keeps up with 28M; 40M outruns it into direct reclaim.
      writeFileSync(sc, 'machine: { ram: 48M, swap: 64M }\nsteps:\n  - spawn: a\n  - mmap: { len: 40M, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: m }\n  - store: { addr: $m, data: { fill: 1, len: 40M } }\n')
      const f = join(t.dir, 'p.txt')
      const r = await mmsim('run', sc, '--ftrace', f, '--explain')
      expect(r.status).toBe(0)
      const text = readFileSync(f, 'utf8')
      for (const n of ['mm_vmscan_wakeup_kswapd', 'mm_vmscan_kswapd_wake', 'mm_vmscan_direct_reclaim_begin', 'mm_vmscan_direct_reclaim_end', 'mm_vmscan_lru_isolate', 'mm_vmscan_lru_shrink_inactive', 'mm_vmscan_write_folio']) {
        expect(text).toContain(`${n}:`)
      }
      expect(text).toMatch(/mm_vmscan_lru_shrink_inactive: +nid=0 nr_scanned=\d+ nr_reclaimed=\d+ nr_dirty=\d+ .* priority=\d+ flags=RECLAIM_WB_(ANON|FILE)\|RECLAIM_WB_ASYNC/)
      expect(text).toMatch(/mm_vmscan_lru_isolate: +isolate_mode=0 classzone=\d order=0 nr_requested=\d+ nr_scanned=\d+ nr_skipped=0 nr_taken=\d+ lru=(inactive|active)_(anon|file)/)
      // Each begin has its end, in order.
      const be = [...text.matchAll(/mm_vmscan_direct_reclaim_(begin|end)/g)].map((m) => m[1])
      be.forEach((x, i) => expect(x).toBe(i % 2 ? 'end' : 'begin'))
      expect(r.stdout).toMatch(/^ {2}\| reclaim: shrink_folio_list: pfn 0x[0-9a-f]+ \(anon, mapcount \d+(, dirty)?\): (reclaim|keep|activate): /m)
    } finally {
      t.done()
    }
  })

  it('--counters writes one CSV row per step of the named counters', async () => {
    const t = tmp()
    try {
      const f = join(t.dir, 'c.csv')
      const r = await mmsim('run', FORK_COW, '--counters', f, '--counter-names', 'nr_free_pages,pgfault,MemFree')
      expect(r.status).toBe(0)
      const rows = readFileSync(f, 'utf8').trimEnd().split('\n')
      expect(rows[0]).toBe('step,line,op,time_ns,nr_free_pages,pgfault,MemFree')
      expect(rows).toHaveLength(12)
      for (const row of rows.slice(1)) expect(row).toMatch(/^\d+,\d+,\w+,\d+,\d+,\d+,\d+$/)
      // MemFree is nr_free_pages in kB.
      for (const row of rows.slice(1)) {
        const c = row.split(',')
        expect(Number(c[6])).toBe(Number(c[4]) * 4)
      }
      const faults = rows.slice(1).map((row) => Number(row.split(',')[5]))
      expect(faults[faults.length - 1]).toBeGreaterThan(faults[0])
    } finally {
      t.done()
    }
  })

  it('a misused flag gets one line on stderr and exit 2', async () => {
    const t = tmp()
    try {
      const cases: string[][] = [
        ['run', FORK_COW, '--trace', join(t.dir, 'x.svg')],
        ['run', FORK_COW, '--trace'],
        ['run', FORK_COW, '--trace', join(t.dir, 'a.txt'), '--ftrace', join(t.dir, 'b.txt')],
        ['run', FORK_COW, '--counter-names', 'pgfault'],
        ['run', FORK_COW, '--counters', join(t.dir, 'c.csv'), '--counter-names', 'no_such_counter'],
        ['run', FORK_COW, '--counters', join(t.dir, 'c.csv'), '--counter-names', 'a b'],
        ['run', FORK_COW, '--trace', join(t.dir, 'missing-dir', 't.json')],
        ['run', FORK_COW, '--explain=yes'],
        ['demo', '--explain'],
        ['proc', '/proc/meminfo', '--trace', join(t.dir, 't.json')],
      ]
      for (const args of cases) {
        const r = await mmsim(...args)
        expect(r.status, args.join(' ')).toBe(2)
        expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1)
        expect(r.stderr).toMatch(/^mmsim: /)
      }
    } finally {
      t.done()
    }
  })
})

describe('mmsim shell: explain on|off and --trace', () => {
  it('toggles explanations live and writes the session trace at the end (the built command, piped)', () => {
    const t = tmp()
    try {
      const f = join(t.dir, 's.json')
      const r = mmsim_spawned(['shell', '--trace', f], 'spawn a\nmmap 8K rw- MAP_PRIVATE|MAP_ANONYMOUS as=m\nexplain on\nstore $m "x"\nexplain\nexplain off\nstore $m+4K "y"\nexplain maybe\nexit\n')
      expect(r.status).toBe(0)
      const out = r.stdout.split('\n')
      const first = out.findIndex((l) => l.includes('store(') && l.endsWith('= 1'))
      expect(out[first + 1]).toMatch(EXPLAIN_RE)
      expect(out).toContain('explain is on')
      const second = out.findIndex((l, i) => i > first && l.includes('store('))
      expect(out[second - 1]).toBe('explain off')
      expect(out[second + 1]).toBe('explain: expected on or off')
      const doc = JSON.parse(readFileSync(f, 'utf8')) as { traceEvents: ChromeEvent[] }
      expect(doc.traceEvents.filter((e) => e.cat === 'step')).toHaveLength(4)
    } finally {
      t.done()
    }
  })
})
