/**
 * Differential test: every oracle scenario in test/fixtures/oracle/scenarios
 * (the 27 public ones and the x-*.json ones recorded for specific rules) is
 * replayed on a fresh simulated machine and compared, field by field, with
 * the real kernel's recorded result in test/fixtures/oracle/expected.
 *
 * KNOWN_FAILURES lists the scenarios that do not agree yet (kernel-side
 * behaviour still missing). Every other scenario must agree completely, and
 * then also byte for byte except for the `kernel` line. A scenario on the
 * list that starts agreeing fails the test until it is taken off the list,
 * so the list only shrinks.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { replay_text } from '../../src/cli/replay.js'
import { compare_results, type Agreement } from './compare.js'

const FIX = new URL('../fixtures/oracle/', import.meta.url).pathname

const KNOWN_FAILURES = new Set<string>([
  // Kernel-side differences still open (src/mm), found by generated scenarios:
  // (the first field that differs, as the test reports it)
])

const names = readdirSync(`${FIX}scenarios`)
  .filter((f) => f.endsWith('.json') && existsSync(`${FIX}expected/${f}`))
  .sort()

const summary: string[] = []

function run(name: string): { text: string | null; error: string | null; agreement: Agreement } {
  const scenario = readFileSync(`${FIX}scenarios/${name}`, 'utf8')
  const expected = JSON.parse(readFileSync(`${FIX}expected/${name}`, 'utf8')) as unknown
  try {
    const text = replay_text(scenario, { debug_vm: true })
    return { text, error: null, agreement: compare_results(expected, JSON.parse(text)) }
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    return { text: null, error: msg, agreement: { total: 1, equal: 0, diffs: [msg] } }
  }
}

describe('oracle replay agrees with the real kernel (Linux 6.18.44)', () => {
  it('has every public scenario with its expected result', () => {
    expect(names.filter((n) => /^\d\d-/.test(n)).length).toBe(27)
  })

  for (const name of names) {
    it(name, () => {
      const r = run(name)
      const a = r.agreement
      const ok = a.equal === a.total
      summary.push(`${ok ? 'AGREE   ' : 'DIFFER  '} ${name.padEnd(42)} ${a.equal}/${a.total} fields${r.error ? ` (${r.error.slice(0, 60)})` : ''}`)
      if (KNOWN_FAILURES.has(name)) {
        expect(ok, `${name} now agrees with the kernel: remove it from KNOWN_FAILURES`).toBe(false)
        return
      }
      expect(a.diffs, `${name}: ${a.equal}/${a.total} fields agree`).toEqual([])
      // Same text layout as oracle.c, byte for byte, except who answered.
      const want = readFileSync(`${FIX}expected/${name}`, 'utf8').replace(/^ "kernel":".*",$/m, '')
      expect((r.text ?? '').replace(/^ "kernel":".*",$/m, '')).toBe(want)
    })
  }

  afterAll(() => {
    const agree = summary.filter((s) => s.startsWith('AGREE')).length
    console.log(`oracle agreement: ${agree}/${summary.length} scenarios\n` + summary.sort((x, y) => x.slice(9).localeCompare(y.slice(9))).join('\n'))
  })
})
