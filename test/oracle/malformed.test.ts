/**
 * The replay accepts and refuses exactly the scenarios the real oracle does:
 * test/fixtures/oracle/malformed.json holds scenario texts and what oracle.c
 * answered (status 2 = refused; status 0 with its output).
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { replay_text } from '../../src/cli/replay.js'
import { ScenarioError } from '../../src/oracle/replay.js'

interface Case {
  text: string
  status: number
  stdout: string
}
const FIX = new URL('../fixtures/oracle/malformed.json', import.meta.url).pathname
const cases = (JSON.parse(readFileSync(FIX, 'utf8')) as { cases: Case[] }).cases
const strip = (s: string): string => s.replace(/^ "kernel":".*",$/m, '')

describe('scenario acceptance agrees with oracle.c', () => {
  for (const c of cases) {
    it(`${c.status} ${c.text.slice(0, 90)}`, () => {
      if (c.status === 2) {
        expect(() => replay_text(c.text)).toThrow(ScenarioError)
      } else {
        expect(strip(replay_text(c.text))).toBe(strip(c.stdout))
      }
    })
  }
})
