import { describe, it, expect } from 'vitest'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { replay } from './oracle/replay.js'

const dirs = [
  ['/work/shared/oracle/scenarios', '/work/shared/oracle/expected'],
]
const only = process.env.ONLY
describe('oracle scenarios (dev)', () => {
  for (const [sd, ed] of dirs) {
    if (!existsSync(sd)) continue
    for (const f of readdirSync(sd).filter((x) => x.endsWith('.json')).sort()) {
      if (only && !f.includes(only)) continue
      it(f, () => {
        const sc = JSON.parse(readFileSync(`${sd}/${f}`, 'utf8'))
        const exp = JSON.parse(readFileSync(`${ed}/${f}`, 'utf8'))
        delete exp.kernel
        delete exp.env
        const { result } = replay(sc, process.env.REAL === '1')
        expect(result).toEqual(exp)
      })
    }
  }
})
