/** `npm test`'s output: a passing run is a short summary; a failure shows itself and its console output. */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

function vitest(which: 'pass' | 'fail'): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/fixtures/reporter/vitest.config.ts'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, MMSIM_REPORTER_FIXTURE: which, NO_COLOR: '1', CI: '1' },
  })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe('the test reporter', () => {
  it('prints only the summary for a passing run, no console noise', () => {
    const r = vitest('pass')
    expect(r.status, r.out).toBe(0)
    expect(r.out).not.toMatch(/^NOISE/m)
    expect(r.out).toMatch(/Tests\s+20 passed \(20\)/)
    expect(r.out.trim().split('\n').filter((l) => l.trim() !== '').length, r.out).toBeLessThanOrEqual(8)
  })

  it('prints a failing test, its error and its console output', () => {
    const r = vitest('fail')
    expect(r.status).toBe(1)
    expect(r.out).toContain('SHOWN: the failing test says why')
    expect(r.out).toContain('fails loudly')
    expect(r.out).toMatch(/expected 1 to be 2/)
    // The passing test's output stays out (its source line may show in the failure's code frame).
    expect(r.out).not.toMatch(/^NOISE/m)
  })
})
