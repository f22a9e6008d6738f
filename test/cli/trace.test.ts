/**
 * `mmsim trace` and `mmsim mrc`: most cases through the command's entry
 * point in this process (test/cli/helpers.ts); end to end, as a user runs
 * the built command, --json with a piped stderr and one usage error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { FIXTURE } from '../trace/helpers.js'
import { mmsim as run, mmsim_spawned } from './helpers.js'

describe('mmsim trace', () => {
  it('--json prints one object with refs, misses, cold misses, hits and the miss ratio; nothing on a piped stderr', () => {
    // End to end: stderr is a pipe of a real process (no progress line).
    const r = mmsim_spawned(['trace', FIXTURE, '--policy', 'lru', '--frames', '32', '--json'])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    const o = JSON.parse(r.stdout) as Record<string, unknown>
    expect(o).toMatchObject({ policy: 'lru', frames: 32, refs: 5000, cold_misses: 137, format: 'csv', compression: 'zstd' })
    expect((o.hits as number) + (o.misses as number)).toBe(5000)
    expect(o.miss_ratio).toBeCloseTo((o.misses as number) / 5000, 12)
  })

  it('prints a text summary by default', async () => {
    const r = await run('trace', FIXTURE, '--policy', 'opt', '--frames', '16')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^trace: +csv \(zstd\), 137 distinct pages\npolicy: +opt, 16 frames\nreferences: +5000\n/)
    expect(r.stdout).toMatch(/misses: +\d+ \(\d+\.\d\d%\), of which cold 137/)
  })

  it('--policy linux prints the kernel\'s side too; --json has it under "linux"', async () => {
    const r = await run('trace', FIXTURE, '--policy', 'linux', '--frames', '64')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^policy: +linux, 64 frames$/m)
    expect(r.stdout).toMatch(/^memcg: +file mapping, limit \d+ pages \(\d+ of them page tables and page-cache nodes\)$/m)
    expect(r.stdout).toMatch(/^reclaim: +pgscan file \d+/m)
    const j = JSON.parse((await run('trace', FIXTURE, '--policy', 'linux', '--frames', '64', '--json')).stdout) as { misses: number; cold_misses: number; linux: { major_faults: number; limit_pages: number } }
    expect(j.misses).toBe(j.linux.major_faults)
    expect(j.cold_misses).toBe(137)
    expect(j.linux.limit_pages).toBeGreaterThan(64)
  })

  it('--reclaim runs the machine with that policy: fifo and lru miss as the simulators do; docs/replacement.md shows its output', async () => {
    for (const policy of ['fifo', 'lru']) {
      const machine = JSON.parse((await run('trace', FIXTURE, '--policy', 'linux', '--reclaim', policy, '--frames', '32', '--json')).stdout) as { misses: number; linux: { reclaim: string } }
      const sim = JSON.parse((await run('trace', FIXTURE, '--policy', policy, '--frames', '32', '--json')).stdout) as { misses: number }
      expect(machine.linux.reclaim).toBe(policy)
      expect(machine.misses, policy).toBe(sim.misses)
    }
    const doc = readFileSync(fileURLToPath(new URL('../../docs/replacement.md', import.meta.url)), 'utf8')
    const [, cmd, shown] = /```\n\$ mmsim (trace [^\n]+)\n([\s\S]*?)```/.exec(doc) as RegExpExecArray
    const r = await run(...cmd.split(' ').map((a) => (a.endsWith('.csv.zst') ? FIXTURE : a)))
    expect(r.stdout).toBe(shown)
  })

  it('bad arguments and malformed traces get one line on stderr and exit 2', async () => {
    for (const args of [
      ['trace', FIXTURE, '--policy', 'linux', '--frames', '8', '--backing', 'disk'],
      ['trace', FIXTURE, '--policy', 'lru', '--frames', '8', '--backing', 'file'],
      ['trace', FIXTURE, '--policy', 'lfu', '--frames', '8'],
      ['trace', FIXTURE, '--policy', 'linux', '--frames', '8', '--reclaim', 'arc'],
      ['trace', FIXTURE, '--policy', 'fifo', '--frames', '8', '--reclaim', 'fifo'],
      ['trace', FIXTURE, '--frames', '0'],
      ['trace', FIXTURE, '--frames', 'x'],
      ['trace', FIXTURE],
      ['trace', '/nonexistent/trace.csv', '--frames', '8'],
      ['trace', fileURLToPath(import.meta.url), '--frames', '8'],
      ['trace'],
    ]) {
      const r = await run(...args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^mmsim: /)
      expect(r.stdout).toBe('')
    }
    expect((await run('trace', FIXTURE, '--policy', 'linux', '--frames', '8', '--backing', 'disk')).stderr).toMatch(/--backing: 'disk' is not one of file, anon/)
    // End to end: an asynchronous command's exit status reaches the process.
    const r = mmsim_spawned(['trace', FIXTURE, '--frames', '0'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^mmsim: trace: [^\n]*\n$/)
  })
})

describe('mmsim mrc', () => {
  it('prints CSV by default, JSON with --json, and writes an SVG with --svg', async () => {
    const c = await run('mrc', FIXTURE, '--max-frames', '3')
    expect(c.status).toBe(0)
    expect(c.stdout.trim().split('\n')).toEqual(['frames,misses,miss_ratio', '1,5000,1', expect.stringMatching(/^2,\d+,0\.\d+$/), expect.stringMatching(/^3,\d+,0\.\d+$/)])
    const j = JSON.parse((await run('mrc', FIXTURE, '--policy', 'opt', '--json')).stdout) as { misses: number[]; miss_ratio: number[]; refs: number }
    expect(j.misses).toHaveLength(137)
    expect(j.refs).toBe(5000)
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-mrc-'))
    const svg = join(dir, 'c.svg')
    const s = await run('mrc', FIXTURE, '--svg', svg)
    expect(s.status).toBe(0)
    expect(readFileSync(svg, 'utf8')).toContain('<polyline')
    rmSync(dir, { recursive: true })
  })

  it('bad arguments get one line and exit 2', async () => {
    for (const args of [['mrc', FIXTURE, '--policy', 'fifo'], ['mrc', FIXTURE, '--max-frames', '0'], ['mrc', FIXTURE, '--csv', '--json'], ['mrc', '/nonexistent']]) {
      const r = await run(...args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })
})
