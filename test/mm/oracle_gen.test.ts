import { describe, it, expect } from 'vitest'
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs'
import { replay } from './oracle/replay.js'

// Dev-only: replays generated scenarios recorded on this machine (GEN_DIR, GEN_EXP).
const sd = process.env.GEN_DIR ?? ''
const ed = process.env.GEN_EXP ?? ''
describe.skipIf(!sd || !existsSync(sd))('oracle generated scenarios (dev)', () => {
  for (const f of sd ? readdirSync(sd).filter((x) => x.endsWith('.json')).sort() : []) {
    it(f, () => {
      const sc = JSON.parse(readFileSync(`${sd}/${f}`, 'utf8'))
      const exp = JSON.parse(readFileSync(`${ed}/${f}`, 'utf8'))
      delete exp.kernel
      delete exp.env
      let result: unknown
      try {
        result = replay(sc).result
      } catch (e) {
        result = { error: String((e as Error).stack) }
      }
      if (process.env.GEN_OUT) writeFileSync(`${process.env.GEN_OUT}/${f}`, JSON.stringify(result))
      expect(result).toEqual(exp)
    })
  }
})
