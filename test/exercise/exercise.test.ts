/**
 * `mmsim exercise`: every topic is deterministic per seed, well formed, and
 * its answers agree with a check that does not share the generator's code:
 * naive textbook models (replacement, buddy, vma, slab size classes, cow),
 * the simulated MMU's own walk (translate), and /proc/buddyinfo of a second
 * machine that makes the same calls (buddy).
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/machine.js'
import { GFP_KERNEL, __GFP_DMA, __GFP_MOVABLE } from '../../src/mm/gfp.js'
import type { Page } from '../../src/mm/page.js'
import { ACC_READ, ACC_WRITE } from '../../src/hw/mmu.js'
import { TOPICS, generate_exercise, topic_names } from '../../src/exercise/topics.js'
import { ExerciseRng } from '../../src/exercise/rng.js'
import { translate_case } from '../../src/exercise/translate.js'
import { run_policy } from '../../src/exercise/replacement.js'
import { exercise_text } from '../../src/exercise/exercise.js'
import { naive_misses } from '../trace/reference.js'
import { mmsim, mmsim_spawned } from '../cli/helpers.js'

const DEBUG = { debug_vm: true }
const gen = (topic: string, seed: number) => generate_exercise(topic, { seed, machine: DEBUG })

describe('the generator', () => {
  it('SplitMix32 gives a fixed sequence for a seed (pinned: the same on every platform)', () => {
    const r = new ExerciseRng(1)
    expect([r.next(), r.next(), r.next()]).toEqual([4230986166, 697614773, 1778835764])
    expect(new ExerciseRng(2 ** 40 + 3).next()).toBe(1776274583)
    expect(new ExerciseRng(2).next()).not.toBe(4230986166)
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 9)
      expect(v >= 3 && v <= 9 && Number.isInteger(v)).toBe(true)
    }
  })

  it.each(topic_names())('%s: the same seed gives byte-identical output, another seed another exercise', (topic) => {
    const a = gen(topic, 7), b = gen(topic, 7)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(exercise_text(a, true)).toBe(exercise_text(b, true))
    const others = [8, 9, 10].map((s) => JSON.stringify(gen(topic, s).questions))
    expect(others.some((o) => o !== JSON.stringify(a.questions))).toBe(true)
  })

  it.each(topic_names())('%s: every exercise over 12 seeds is well formed', (topic) => {
    // What is wrong with each exercise, compared once (an expect() per string cost more than the exercises).
    const wrong: string[] = []
    for (let seed = 100; seed < 112; seed++) {
      const ex = gen(topic, seed)
      if (ex.topic !== topic || ex.seed !== seed) wrong.push(`seed ${seed}: topic ${ex.topic}, seed ${ex.seed}`)
      if (ex.questions.length === 0) wrong.push(`seed ${seed}: no questions`)
      for (const q of ex.questions) {
        for (const s of [q.text, q.answer, q.reasoning]) {
          if (s.length === 0 || /undefined|NaN|\[object/.test(s)) wrong.push(`seed ${seed}: ${JSON.stringify(s)}`)
        }
      }
    }
    expect(wrong).toEqual([])
  })
})

describe('replacement answers agree with the naive simulators', () => {
  it('fault counts and Belady variants over seeds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 }), (seed) => {
        const ex = gen('replacement', seed)
        for (const q of ex.questions) {
          const refs = (/string:? ([\d ]+?)[.,]? (?:How|with)/.exec(q.text) as RegExpExecArray)[1].trim().split(' ').map(Number)
          if (q.text.includes('Belady') || q.text.includes('3 frames, and how many with 4')) {
            const f3 = naive_misses('fifo', refs, 3), f4 = naive_misses('fifo', refs, 4)
            expect(f4).toBeGreaterThan(f3)
            expect(q.answer).toContain(`3 frames: ${f3} faults; 4 frames: ${f4} faults`)
          } else {
            const policy = (/does (\w+) take/.exec(q.text) as RegExpExecArray)[1].toLowerCase() as 'fifo' | 'lru' | 'opt'
            const frames = Number((/with (\d+) frames/.exec(q.text) as RegExpExecArray)[1])
            expect(q.answer.startsWith(`${naive_misses(policy, refs, frames)} faults`)).toBe(true)
          }
        }
      }),
      { numRuns: 30 },
    )
  })
})

describe('the per-step frames of the replacement reasoning', () => {
  it('are the frames of textbook FIFO (oldest first), LRU (least recent first) and OPT (as a set)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (refs, frames) => {
        const fifo: number[] = [], lru: number[] = []
        let opt: number[] = []
        const f = run_policy('fifo', refs, frames).steps, l = run_policy('lru', refs, frames).steps, o = run_policy('opt', refs, frames).steps
        // The model's frames after each step, compared with the reasoning's once at the end.
        const want = { fifo: [] as number[][], lru: [] as number[][], opt: [] as number[][], hit: [] as boolean[], victims: [] as number[] }
        const got = { fifo: f.map((s) => s.frames), lru: l.map((s) => s.frames), opt: o.map((s) => [...s.frames].sort()), hit: f.map((s) => s.hit), victims: [] as number[] }
        refs.forEach((p, i) => {
          if (!fifo.includes(p)) {
            if (fifo.length === frames) fifo.shift()
            fifo.push(p)
          }
          if (lru.includes(p)) lru.splice(lru.indexOf(p), 1)
          else if (lru.length === frames) lru.shift()
          lru.push(p)
          if (!opt.includes(p)) {
            if (opt.length === frames) {
              const next = (q: number): number => { const j = refs.indexOf(q, i + 1); return j < 0 ? Infinity : j }
              const far = Math.max(...opt.map(next))
              // ties (never used again): any of them; the count is the same
              const victim = o[i].evicted as number
              got.victims.push(next(victim))
              want.victims.push(far)
              opt = opt.filter((q) => q !== victim)
            }
            opt.push(p)
          }
          want.fifo.push([...fifo])
          want.lru.push([...lru])
          want.opt.push([...opt].sort())
          want.hit.push(i > 0 && f[i - 1].frames.includes(p))
        })
        expect(got).toEqual(want)
      }),
      { numRuns: 200 },
    )
  })
})

/** The calls, machine and initial blocks a buddy question states. */
function parse_buddy(text: string) {
  const ram = (/with (\S+) of RAM/.exec(text) as RegExpExecArray)[1]
  const blocks: { pfn: number; order: number }[] = []
  for (const m of text.matchAll(/order +(\d+): ([^\n]+)/g)) {
    for (const b of m[2].split(', ')) blocks.push({ pfn: parseInt(b.split('-')[0], 16), order: Number(m[1]) })
  }
  const calls = [...text.matchAll(/^ {2}(?:(\w) = alloc_pages\([^,]+, (\d+)\)|__free_pages\((\w), (\d+)\))$/gm)].map((m) =>
    m[1] ? { op: 'alloc' as const, name: m[1], order: Number(m[2]) } : { op: 'free' as const, name: m[3], order: Number(m[4]) },
  )
  return { ram, blocks, calls }
}

describe('buddy answers', () => {
  it('agree with a textbook buddy model and with /proc/buddyinfo of a machine that makes the same calls', () => {
    for (let seed = 0; seed < 20; seed++) {
      const ex = gen('buddy', seed)
      const { ram, blocks, calls } = parse_buddy(ex.questions[0].text)
      expect(calls.length).toBeGreaterThan(0)
      // The textbook model: a set of free blocks; allocation takes a block of the smallest order that has one.
      const free = new Map(blocks.map((b) => [`${b.order}:${b.pfn}`, b]))
      const m = new Machine({ ram, debug_vm: true })
      const got = new Map<string, number>()
      for (const c of calls) {
        if (c.op === 'alloc') {
          const pfn = m.kernel.alloc_pages(GFP_KERNEL | __GFP_DMA | __GFP_MOVABLE, c.order) as number
          got.set(c.name, pfn)
          const smallest = Math.min(...[...free.values()].filter((b) => b.order >= c.order).map((b) => b.order))
          const from = [...free.values()].find((b) => b.order === smallest && pfn >= b.pfn && pfn < b.pfn + (1 << b.order))
          expect(from, `seed ${seed}: ${c.name} = 0x${pfn.toString(16)} from a smallest block`).toBeDefined()
          if (!from) return
          free.delete(`${from.order}:${from.pfn}`)
          // split: keep the half holding pfn each time
          let o = from.order, base = from.pfn
          while (o > c.order) {
            o--
            const half = 1 << o
            if (pfn >= base + half) {
              free.set(`${o}:${base}`, { pfn: base, order: o })
              base += half
            } else free.set(`${o}:${base + half}`, { pfn: base + half, order: o })
          }
          expect(base).toBe(pfn)
        } else {
          const pfn0 = got.get(c.name) as number
          m.kernel.__free_pages(pfn0 as Page, c.order)
          let pfn = pfn0, o = c.order
          while (o < 10 && free.has(`${o}:${pfn ^ (1 << o)}`)) {
            free.delete(`${o}:${pfn ^ (1 << o)}`)
            pfn &= ~(1 << o)
            o++
          }
          free.set(`${o}:${pfn}`, { pfn, order: o })
        }
      }
      const allocs = calls.filter((c) => c.op === 'alloc').map((c) => `${c.name} = pfn 0x${(got.get(c.name) as number).toString(16)}`)
      expect(ex.questions[0].answer).toBe(allocs.join(', '))
      const ask = Number((/order-(\d+) free list/.exec(ex.questions[1].text) as RegExpExecArray)[1])
      const want = [...free.values()].filter((b) => b.order === ask).map((b) => b.pfn).sort((a, b) => a - b)
      const said = ex.questions[1].answer.startsWith('none') ? [] : ex.questions[1].answer.split(/[,;] /).map((s) => parseInt(s.split('-')[0], 16)).sort((a, b) => a - b)
      expect(said, `seed ${seed}`).toEqual(want)
      const counts = Array.from({ length: 11 }, (_, o) => [...free.values()].filter((b) => b.order === o).length)
      const line = m.proc('/proc/buddyinfo').split('\n').find((l) => /zone\s+DMA\s/.test(l)) as string
      expect(ex.questions[2].answer).toBe(line.trim())
      expect(line.trim().split(/\s+/).slice(4).map(Number)).toEqual(counts)
    }
  })
})

describe('translate answers', () => {
  it.each(['x86_64', 'i386', 'i386-pae'] as const)('agree with the MMU\'s own walk (%s)', (arch) => {
    for (let seed = 0; seed < 15; seed++) {
      const o = { seed, machine: { arch, debug_vm: true } }
      const ex = generate_exercise('translate', o)
      const { c } = translate_case(o, new ExerciseRng(seed))
      const vpn = Math.floor(c.addr / 4096)
      const pfn = c.machine.mmu.walk(null, c.cr3_pfn, vpn, c.write ? ACC_WRITE : ACC_READ, false)
      const q = ex.questions[0]
      expect(q.text).toContain(`address 0x${c.addr.toString(16)}`)
      expect(q.text).toContain(`page-directory base 0x${(c.cr3_pfn * 4096).toString(16)}`)
      if (pfn < 0) {
        expect(c.phys).toBeNull()
        expect(q.answer).toMatch(/^a page fault: /)
      } else {
        const phys = pfn * 4096 + (c.addr % 4096)
        expect(c.phys).toBe(phys)
        expect(q.answer.startsWith(`physical address 0x${phys.toString(16)} `)).toBe(true)
      }
      // every present entry the walk uses is shown in the question
      for (const st of c.walk) if (st.val !== 0) expect(q.text).toContain(`[${String(st.index).padStart(3)}]`)
    }
  })
})

describe('vma answers', () => {
  it('agree with a page-by-page model: VMAs are the maximal runs of pages with the same protection', () => {
    for (let seed = 0; seed < 20; seed++) {
      const ex = gen('vma', seed)
      const q = ex.questions[0]
      const w = parseInt((/in 0x([0-9a-f]+)-/.exec(q.text) as RegExpExecArray)[1], 16)
      const prot: (string | null)[] = new Array(16).fill(null)
      const perms = (s: string): string => `${s.includes('PROT_READ') ? 'r' : '-'}${s.includes('PROT_WRITE') ? 'w' : '-'}-p`
      for (const m of q.text.matchAll(/^ {2}(mmap|mprotect|munmap)\(0x([0-9a-f]+), (\d+)K(?:, ([A-Z_|]+))?/gm)) {
        const first = (parseInt(m[2], 16) - w) / 4096, n = Number(m[3]) / 4
        const range = Array.from({ length: n }, (_, i) => first + i)
        if (m[1] === 'mmap') for (const i of range) prot[i] = perms(m[4])
        else if (m[1] === 'munmap') for (const i of range) prot[i] = null
        else if (range.every((i) => prot[i] !== null)) for (const i of range) prot[i] = perms(m[4])
      }
      const runs: string[] = []
      for (let i = 0; i < 16; ) {
        if (prot[i] === null) { i++; continue }
        let j = i
        while (j < 16 && prot[j] === prot[i]) j++
        runs.push(`${(w + i * 4096).toString(16)}-${(w + j * 4096).toString(16)} ${prot[i]}`)
        i = j
      }
      const said = q.answer.split('\n').slice(1).map((l) => l.split(' ').slice(0, 2).join(' '))
      expect(said, `seed ${seed}:\n${q.text}`).toEqual(runs)
    }
  })
})

describe('slab answers', () => {
  it('name the cache kmalloc_index and kmalloc_type give, and the objects a SLUB slab holds', () => {
    const classes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]
    const label = (n: number): string => (n >= 1024 ? `${n / 1024}k` : String(n))
    for (let seed = 0; seed < 20; seed++) {
      for (const q of gen('slab', seed).questions) {
        const [, size, flags] = /kmalloc\((\d+), ([^)]+)\)/.exec(q.text) as RegExpExecArray
        const n = Number(size)
        if (n > 8192) {
          expect(q.answer).toMatch(/^no cache: /)
          expect(q.answer).toContain(`order-${Math.ceil(Math.log2(n / 4096))} `)
          continue
        }
        const cls = classes.find((c) => c >= n) as number
        const prefix = flags.includes('DMA') ? 'dma-kmalloc-' : flags.includes('RECLAIMABLE') ? 'kmalloc-rcl-' : flags.includes('ACCOUNT') ? 'kmalloc-cg-' : 'kmalloc-'
        expect(q.answer.startsWith(`${prefix}${label(cls)}: `), `${q.text} -> ${q.answer}`).toBe(true)
        const [, objs, objsize, pages] = /(\d+) objects? of (\d+) bytes per slab of (\d+) page/.exec(q.answer) as RegExpExecArray
        expect(Number(objs)).toBe(Math.floor((Number(pages) * 4096) / Number(objsize)))
      }
    }
  })
})

describe('cow answers', () => {
  it('agree with the textbook model: a write to a shared page copies it, the last user reuses it', () => {
    for (let seed = 0; seed < 20; seed++) {
      const ex = gen('cow', seed)
      const t = ex.questions[0].text
      const pages = Number((/maps (\d+) pages/.exec(t) as RegExpExecArray)[1])
      const written = (/writes to pages ([\d, ]+), and forks/.exec(t) as RegExpExecArray)[1].split(', ').map(Number)
      const state: string[] = Array.from({ length: pages }, (_, i) => (written.includes(i) ? 'shared' : 'none'))
      let copies = 0
      for (const m of t.matchAll(/the (parent|child) writes to page (\d+)/g)) {
        const i = Number(m[2])
        if (state[i] === 'shared') {
          copies++
          state[i] = 'split'
        }
      }
      expect(ex.questions[0].answer).toBe(String(copies))
      const shared = state.filter((s) => s === 'shared').length
      expect(ex.questions[1].answer.startsWith(`${shared}:`)).toBe(true)
    }
  })
})

describe('mmsim exercise', () => {
  it('--list prints one topic a line, its name first', async () => {
    const r = await mmsim('exercise', '--list')
    expect(r.status).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(TOPICS.map((t) => t.name))
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(expect.arrayContaining(['buddy', 'translate', 'replacement', 'vma', 'slab', 'cow']))
  })

  it('prints the questions only, or with --answers the answers and the reasoning after them', async () => {
    const q = await mmsim('exercise', 'replacement', '--seed', '4')
    expect(q.status).toBe(0)
    expect(q.stdout).toMatch(/^Exercise: replacement, seed 4\n/)
    expect(q.stdout).toContain('Question')
    expect(q.stdout).not.toContain('Answer')
    const a = await mmsim('exercise', 'replacement', '--seed', '4', '--answers')
    expect(a.stdout.startsWith(q.stdout.split('(run again')[0])).toBe(true)
    expect(a.stdout.indexOf('Answers')).toBeGreaterThan(a.stdout.lastIndexOf('Question'))
    expect(a.stdout.indexOf('Reasoning')).toBeGreaterThan(a.stdout.indexOf('Answers'))
  })

  it('--json prints {topic, seed, questions: [{text, answer, reasoning}]}', async () => {
    const r = await mmsim('exercise', 'cow', '--seed', '12', '--json')
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as { topic: string; seed: number; questions: Record<string, string>[] }
    expect(j.topic).toBe('cow')
    expect(j.seed).toBe(12)
    for (const q of j.questions) expect(Object.keys(q).sort()).toEqual(['answer', 'reasoning', 'text'])
  })

  it('takes the machine options (another arch, the same determinism)', async () => {
    const a = await mmsim('exercise', 'translate', '--seed', '3', '--arch', 'i386', '--answers')
    expect(a.status).toBe(0)
    expect(a.stdout).toContain('an i386 machine (2-level paging, 4-byte entries)')
    expect((await mmsim('exercise', 'translate', '--seed', '3', '--arch', 'i386', '--answers')).stdout).toBe(a.stdout)
  })

  it.each([
    [['exercise', 'nosuch'], /unknown topic 'nosuch'/],
    [['exercise', 'buddy', '--seed', 'abc'], /--seed/],
    [['exercise', 'buddy', '--seed', '1.5'], /--seed/],
    [['exercise', 'buddy', '--seed', '99999999999999999999'], /--seed/],
    [['exercise'], /expected one topic/],
    [['exercise', 'buddy', 'vma'], /expected one topic/],
  ])('%j: one line and exit status 2', async (args, msg) => {
    const r = await mmsim(...args)
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(msg)
  })

  it('docs/exercises.md shows what the command prints', async () => {
    const doc = readFileSync(new URL('../../docs/exercises.md', import.meta.url), 'utf8')
    const blocks = [...doc.matchAll(/```\n\$ mmsim (.+)\n([\s\S]*?)```/g)]
    expect(blocks.length).toBeGreaterThanOrEqual(3)
    for (const [, args, shown] of blocks) {
      const r = await mmsim(...args.split(' '))
      expect(r.status).toBe(0)
      expect(r.stdout, `mmsim ${args}`).toBe(shown)
    }
  })

  it('end to end: the built command prints the same bytes on every run', async () => {
    const a = mmsim_spawned(['exercise', 'buddy', '--seed', '5', '--answers'])
    expect(a.status).toBe(0)
    expect(a.stdout).toContain('Reasoning')
    // The other run is this worker's: another process (its own pid, clock and start), and one
    // that has generated many exercises before, so state left behind by a run would show too.
    expect((await mmsim('exercise', 'buddy', '--seed', '5', '--answers')).stdout).toBe(a.stdout)
    const bad = mmsim_spawned(['exercise', 'nosuch'])
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  })
})
