/**
 * `mmsim run`: the examples run clean (every example in examples/ is
 * executed here, so none rots), a failed expect: or an unbound name stops
 * the run with one line naming the place, and 1,000 mutated scenario files
 * never escape as a stack trace: a malformed one is exit 2 and one line
 * naming file, line and column; one that still loads exits 0, 1 or 2 with at
 * most one line on stderr.
 */
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { ScenarioFileError, load_scenario } from '../../src/scenario/load.js'

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname
const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort()

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, (s) => out.push(s), (s) => err.push(s))
  return { code, out, err }
}

// One directory for the file's runs, a new N-s.yaml in it for each, removed at the end: a
// directory made and removed per run, or one file rewritten (ext4 flushes a file truncated and
// written again), kept a worker waiting ~3 ms a run, 0.6 s over the 1,000-file property below.
const dir = mkdtempSync(join(tmpdir(), 'mmsim-scenario-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

async function run_text(text: string, extra: string[] = []): Promise<Awaited<ReturnType<typeof run>>> {
  const path = join(dir, `${++files}-s.yaml`)
  writeFileSync(path, text)
  return await run(['run', path, ...extra])
}

describe('mmsim run', () => {
  it('has examples', async () => expect(examples.length).toBeGreaterThanOrEqual(2))

  it.each(examples)('runs examples/%s with every expect: holding', async (f) => {
    const r = await run(['run', EXAMPLES + f])
    expect(r.err).toEqual([])
    expect(r.code).toBe(0)
  })

  it('prints one strace-like line per step, errors and signals as strace does', async () => {
    const r = await run_text(`steps:
  - spawn: a
  - mmap: { len: 8K, prot: r--, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: m }
  - munmap: { addr: $m + 1, len: 4K }
  - store: { addr: $m, data: "hi" }
`)
    expect(r.code).toBe(0)
    expect(r.out[0]).toBe('a: spawn("a") = 100')
    expect(r.out[1]).toMatch(/^a: mmap\(NULL, 8192, PROT_READ, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x7f[0-9a-f]{10}$/)
    expect(r.out[2]).toMatch(/^a: munmap\(0x7f[0-9a-f]+, 4096\) = -1 EINVAL \(Invalid argument\)$/)
    expect(r.out[3]).toMatch(/^a: store\(0x7f[0-9a-f]+, "hi"\) = --- SIGSEGV \{si_code=SEGV_ACCERR, si_addr=0x7f[0-9a-f]+\} ---$/)
  })

  it('stops at a failed expect: with exit 1 and the place', async () => {
    const r = await run_text('steps:\n  - spawn: a\n  - mmap: { len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, expect: { errno: ENOMEM } }\n  - spawn: b\n')
    expect(r.code).toBe(1)
    expect(r.err).toHaveLength(1)
    expect(r.err[0]).toMatch(/s\.yaml:3:5: mmap: expected ENOMEM, got 0x7f/)
    expect(r.out).toHaveLength(2)
  })

  it('stops at an unbound name with exit 2 and the place', async () => {
    const r = await run_text('steps:\n  - spawn: a\n  - munmap: { addr: $nope, len: 4K }\n')
    expect(r.code).toBe(2)
    expect(r.err).toEqual([expect.stringMatching(/s\.yaml:3:5: munmap: '\$nope' is not bound/)])
  })

  it('prints the step records as JSON with addresses in hex', async () => {
    const r = await run_text('steps:\n  - kmalloc: { size: 64, as: p }\n  - kfree: $p\n', ['--json'])
    expect(r.code).toBe(0)
    const recs = JSON.parse(r.out.join('\n')) as { op: string; ret: unknown }[]
    expect(recs.map((x) => x.op)).toEqual(['kmalloc', 'kfree'])
    expect(recs[0].ret).toMatch(/^0xffff8880[0-9a-f]{8}$/)
  })

  it('fdatasync, syncfs and sync steps: their calls, their errno, the disk written', async () => {
    const text = [
      'steps:',
      '  - spawn: a',
      '  - open: { path: /d, flags: O_RDWR|O_CREAT|O_TRUNC, mode: 0o644, as: fd }',
      '  - pwrite: { fd: $fd, data: { fill: 1, len: 8K } }',
      '  - fdatasync: $fd',
      '  - pwrite: { fd: $fd, data: "x" }',
      '  - syncfs: { fd: $fd }',
      '  - sync: true',
      '  - syncfs: { fd: 99, expect: { errno: EBADF } }',
      '  - fdatasync: { fd: 99, expect: { errno: EBADF } }',
      '',
    ].join('\n')
    const r = await run_text(text, ['--json'])
    expect(r.code).toBe(0)
    const recs = JSON.parse(r.out.join('\n')) as { op: string; call: string; ret: unknown }[]
    const syncs = recs.filter((x) => ['fdatasync', 'syncfs', 'sync'].includes(x.op))
    expect(syncs.map((x) => x.call)).toEqual(['fdatasync(3)', 'syncfs(3)', 'sync()', 'syncfs(99)', 'fdatasync(99)'])
    expect(syncs.slice(0, 3).map((x) => x.ret)).toEqual([0, 0, 0])
  })

  it('never escapes on 1,000 mutated files: a malformed one is exit 2 and one FILE:LINE:COL line; others exit 0/1', async () => {
    const sources = examples.map((f) => readFileSync(EXAMPLES + f, 'utf8'))
    const mutation = fc.record({
      src: fc.nat(sources.length - 1),
      edits: fc.array(
        fc.record({ kind: fc.constantFrom('delete', 'insert', 'replace', 'dup-line', 'drop-line', 'swap-lines'), at: fc.nat(), ch: fc.constantFrom(...' :-{}[],"\'$|#&*!>0x1K9\n\tabcMAP_s'.split('')) }),
        { minLength: 1, maxLength: 4 },
      ),
    })
    // Every file goes through the loader, whose error is the command's line (`mmsim: run: ` + message);
    // the first 150 malformed files go through the command itself (exit 2, that line and nothing else),
    // and the first 60 that still load run in full (each boots a machine and runs its steps).
    let malformed = 0
    let ran = 0
    let via_main = 0
    await fc.assert(
      fc.asyncProperty(mutation, async ({ src, edits }) => {
        let t = sources[src]
        for (const e of edits) {
          const i = e.at % Math.max(1, t.length)
          const lines = t.split('\n')
          const li = e.at % lines.length
          if (e.kind === 'delete') t = t.slice(0, i) + t.slice(i + 1)
          else if (e.kind === 'insert') t = t.slice(0, i) + e.ch + t.slice(i)
          else if (e.kind === 'replace') t = t.slice(0, i) + e.ch + t.slice(i + 1)
          else if (e.kind === 'dup-line') t = [...lines.slice(0, li + 1), ...lines.slice(li)].join('\n')
          else if (e.kind === 'drop-line') t = [...lines.slice(0, li), ...lines.slice(li + 1)].join('\n')
          else t = [...lines.slice(0, li), lines[(li + 1) % lines.length], lines[li], ...lines.slice(li + 2)].join('\n')
        }
        let loads = true
        try {
          load_scenario(t, 's.yaml')
        } catch (e) {
          if (!(e instanceof ScenarioFileError)) throw e
          loads = false
          malformed++
          expect(e.message).toMatch(/^s\.yaml:\d+:\d+: \S[^\n]*$/)
        }
        if (loads ? ran++ >= 60 : via_main++ >= 150) return
        const r = await run_text(t)
        expect(r.err.length).toBeLessThanOrEqual(1)
        if (!loads) {
          expect(r.code).toBe(2)
          expect(r.err[0]).toMatch(/^mmsim: run: \S+s\.yaml:\d+:\d+: \S/)
          expect(r.out).toEqual([])
        } else {
          expect([0, 1, 2]).toContain(r.code)
          if (r.code !== 0) expect(r.err[0]).toMatch(/^mmsim: run: /)
        }
      }),
      { numRuns: Number(process.env.SCENARIO_FUZZ_RUNS ?? 1000) },
    )
    // Most mutations break the file; both kinds were exercised.
    expect(malformed).toBeGreaterThan(300)
    expect(ran).toBeGreaterThan(20)
  })
})
