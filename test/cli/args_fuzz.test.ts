/**
 * 1,000 mutated argument lists (valid command lines with arguments
 * dropped, repeated, swapped, or replaced by values people get wrong: bad
 * sizes, negative and huge numbers, unknown flags and commands, missing
 * values) never escape as a stack trace: a usage error is exit 2 and one
 * line `mmsim: ...` on stderr with nothing on stdout; a command line that
 * is still valid runs (exit 0, or 1 with one line when its input fails).
 * In this process (test/cli/helpers.ts), so 1,000 take seconds, not
 * 1,000 node starts.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { mmsim } from './helpers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const TRACE = `${root}test/fixtures/traces/pywork5000_34000001-34005000.csv.zst`
const ORACLE = `${root}test/fixtures/oracle/scenarios/01-merge-anon-adjacent.json`
const EXAMPLE = `${root}examples/buddy-slab.yaml`

/** Command lines that work (the cheap ones: each valid mutation boots at most a small machine). */
const VALID: string[][] = [
  ['proc', '/proc/buddyinfo', '--ram', '32M'],
  ['proc', '/proc/meminfo', '--arch', 'i386', '--ram', '64M'],
  ['proc', '/proc/self/maps', '--ram', '32M', '--seed', '3'],
  ['dmesg', '--ram', '32M', '--cpus', '1'],
  ['why', 'pfn:5', '--ram', '32M'],
  ['why', '0xffff888000100000', '--ram', '32M'],
  ['exercise', 'buddy', '--seed', '4', '--answers'],
  ['exercise', 'translate', '--seed', '2', '--arch', 'i386-pae'],
  ['exercise', '--list'],
  ['lesson', '--list'],
  ['trace', TRACE, '--policy', 'lru', '--frames', '8'],
  ['trace', TRACE, '--policy', 'random', '--frames', '4', '--seed', '2', '--json'],
  ['mrc', TRACE, '--max-frames', '4'],
  ['replay', ORACLE],
  ['run', EXAMPLE, '--ram', '64M', '--json'],
]

/** What a mistyped command line holds instead. */
const TOKENS = [
  '--ram', '--cpus', '--seed', '--arch', '--slab', '--frames', '--policy', '--max-frames', '--json', '--answers', '--norandmaps',
  '--explain', '--trace', '--nosuch', '-x', '-', '--', '', ' ', '-1G', '0', '-1', '4T', '64T', '1e9', '99999999999999999999', '0x', '12Q',
  'NaN', 'x86', 'i386', 'slub', 'slob', 'lru', 'clock', 'opt', 'belady', 'pfn:', 'pfn:-1', 'pfn:0x999999999', '0xffffffffffffffff',
  '/proc/nope', '/proc/self/nope', '/nonexistent.yaml', 'nosuch', 'proc', 'why', 'exercise', 'trace', 'buddy', 'cow', '3', '65', '1.5',
]

describe('mmsim with mutated argument lists', () => {
  it('1,000 of them: exit 2 and one line, or a run that completes; never a stack trace', async () => {
    const edit = fc.record({ kind: fc.constantFrom('drop', 'dup', 'swap', 'replace', 'insert'), at: fc.nat(), tok: fc.constantFrom(...TOKENS) })
    let usage = 0
    await fc.assert(
      fc.asyncProperty(fc.nat(VALID.length - 1), fc.array(edit, { minLength: 1, maxLength: 3 }), async (base, edits) => {
        const args = [...VALID[base]]
        for (const e of edits) {
          const i = e.at % Math.max(1, args.length)
          if (e.kind === 'drop') args.splice(i, 1)
          else if (e.kind === 'dup') args.splice(i, 0, args[i] ?? e.tok)
          else if (e.kind === 'swap' && args.length > 1) [args[i], args[(i + 1) % args.length]] = [args[(i + 1) % args.length], args[i]]
          else if (e.kind === 'replace') args[i] = e.tok
          else args.splice(i, 0, e.tok)
        }
        const r = await mmsim(...args)
        const err = r.stderr.split('\n').filter((l) => l !== '')
        expect(r.stderr, JSON.stringify(args)).not.toMatch(/^\s+at |Error:|\n\s+at /m)
        expect([0, 1, 2], JSON.stringify(args)).toContain(r.status)
        if (r.status === 2) {
          usage++
          expect(err, JSON.stringify(args)).toHaveLength(1)
          expect(err[0]).toMatch(/^mmsim: \S/)
        } else if (r.status === 1) expect(err, JSON.stringify(args)).toHaveLength(1)
      }),
      { numRuns: Number(process.env.ARGS_FUZZ_RUNS ?? 1000) },
    )
    expect(usage).toBeGreaterThan(400)
  }, 300_000)
})
