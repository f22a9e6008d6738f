/** `mmsim replay FILE.json`: stdout is the oracle's result text; a bad scenario is one stderr line and exit 2. */
import { describe, expect, it, onTestFinished } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { main } from '../../src/cli/main.js'

const FIX = new URL('../fixtures/oracle/', import.meta.url).pathname

async function run(args: string[]): Promise<{ code: number; out: string; err: string[] }> {
  let out = ''
  const err: string[] = []
  const code = await main(args, (s) => (out += s + '\n'), (s) => err.push(s))
  return { code, out, err }
}

describe('mmsim replay', () => {
  it('prints the result JSON byte for byte as the oracle printed it on the reference kernel', async () => {
    const r = await run(['replay', `${FIX}scenarios/05-demand-paging-residency.json`])
    expect(r.code).toBe(0)
    expect(r.err).toEqual([])
    const want = readFileSync(`${FIX}expected/05-demand-paging-residency.json`, 'utf8')
    expect(r.out).toBe(want)
  })

  it('refuses a malformed scenario with one line on stderr and status 2', async () => {
    const dir = mkdtempSync(`${tmpdir()}/mmsim-`)
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const cases: [string, RegExp][] = [
      ['{"ops": [{"op": "frobnicate"}]}', /op 0: unknown op "frobnicate"/],
      ['{"ops": [{"op": "mmap", "len": "0x1000", "prot": "rq", "flags": ["private", "anonymous"]}]}', /mmap: bad prot "rq"/],
      ['{"ops": [{"op": "munmap", "addr": 0}]}', /munmap: missing or bad integer "len"/],
      ['{"ops": [', /scenario JSON: unexpected end/],
      ['{"ops": [{"op": "pread", "file": "nope", "len": 1}]}', /pread: unknown file "nope"/],
    ]
    for (const [text, msg] of cases) {
      writeFileSync(`${dir}/s.json`, text)
      const r = await run(['replay', `${dir}/s.json`])
      expect(r.code, text).toBe(2)
      expect(r.out).toBe('')
      expect(r.err.length).toBe(1)
      expect(r.err[0]).toMatch(msg)
    }
    const missing = await run(['replay', `${dir}/missing.json`])
    expect(missing.code).toBe(2)
    expect(missing.err[0]).toMatch(/ENOENT/)
  })
})
