/** End-to-end: the built `mmsim` command as a user runs it (npm test builds first). */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

describe('mmsim command', () => {
  it('demo walks through the steps the README promises and ends with the checker verdict', () => {
    const r = run('demo')
    expect(r.status).toBe(0)
    for (const step of ['1. Boot', '2. /proc/buddyinfo', '3. alloc_pages(GFP_KERNEL, 3)', '4. __free_pages', '5. GFP_DMA', '6. Order-0', '7. /proc/meminfo']) {
      expect(r.stdout).toContain(step)
    }
    expect(r.stdout).toContain('Identical to step 2')
    expect(r.stdout).toMatch(/verified every frame, free list and counter: OK/)
  })

  it('proc prints a /proc file in the kernel format', () => {
    const r = run('proc', '/proc/buddyinfo', '--ram', '1G')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Node 0, zone {6}DMA( +\d+){11} \n/)
  })

  it('bad arguments get one line and exit 2', () => {
    for (const args of [['frobnicate'], ['demo', '--ram', 'huge'], ['demo', '--arch', 'arm'], ['demo', '--bogus'], ['demo', '--cpus', 'x']]) {
      const r = run(...args)
      expect(r.status).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^mmsim: /)
    }
  })

  it('an unknown /proc file is ENOENT', () => {
    const r = run('proc', '/proc/nope')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/ENOENT/)
  })
})
