/**
 * Dev-only differential run over generated scenarios recorded on a real
 * kernel: ORACLE_GEN_DIR holds gen.py scenarios, ORACLE_GEN_EXP the results
 * `run.py record` wrote. Skipped when the variables are not set. Prints the
 * agreement; never part of CI (the held-out corpus runs against main).
 *
 *   python3 ../shared/oracle/gen.py --seeds 1-300 --dir /tmp/gen
 *   python3 run.py record /tmp/gen /tmp/gexp      # next to a copy of oracle.c
 *   ORACLE_GEN_DIR=/tmp/gen ORACLE_GEN_EXP=/tmp/gexp npx vitest run test/oracle/generated.test.ts
 */
import { afterAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { replay_text } from '../../src/cli/replay.js'
import { compare_results } from './compare.js'

const dir = process.env.ORACLE_GEN_DIR ?? ''
const exp = process.env.ORACLE_GEN_EXP ?? ''
const files = dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && existsSync(`${exp}/${f}`)).sort() : []
const lines: string[] = []

describe.skipIf(files.length === 0)('generated oracle scenarios (dev)', () => {
  for (const f of files) {
    it(f, () => {
      const want = JSON.parse(readFileSync(`${exp}/${f}`, 'utf8')) as unknown
      let a
      try {
        a = compare_results(want, JSON.parse(replay_text(readFileSync(`${dir}/${f}`, 'utf8'))))
      } catch (e) {
        a = { total: 1, equal: 0, diffs: [String((e as Error).stack).split('\n').slice(0, 4).join(' | ')] }
      }
      lines.push(`${a.equal === a.total ? 'AGREE ' : 'DIFFER'} ${f} ${a.equal}/${a.total}${a.diffs.length ? '  ' + a.diffs[0] : ''}`)
      expect(a.diffs).toEqual([])
    })
  }
  afterAll(() => {
    const n = lines.filter((l) => l.startsWith('AGREE')).length
    console.log(`generated: ${n}/${lines.length} scenarios agree\n` + lines.filter((l) => !l.startsWith('AGREE')).sort().join('\n'))
  })
})
