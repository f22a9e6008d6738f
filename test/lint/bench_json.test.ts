/** The documented bench commands print one JSON object and nothing else on stdout. */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

function npm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // npm_config_* from an outer `npm test` would change npm's mode: start from a clean slate.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
  const r = spawnSync('npm', args, { cwd: root, encoding: 'utf8', env })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('npm run bench JSON', () => {
  // --quick (shorter timed windows) keeps both npm forms, their build step and the JSON
  // contract proven, without a second of timing loops per form.
  it('`npm run bench --json` and `npm run -s bench -- --json`: stdout is exactly one JSON object', () => {
    for (const args of [['run', 'bench', '--json', '--', '--only', 'slab', '--quick'], ['run', '-s', 'bench', '--', '--json', '--only', 'slab', '--quick']]) {
      const r = npm(args)
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(r.stdout.endsWith('}\n'), r.stdout).toBe(true)
      const o = JSON.parse(r.stdout) as Record<string, number>
      expect(Object.keys(o).sort()).toEqual(['kmalloc64_pairs_per_s', 'kmalloc64_vs_order0'])
      expect(o.kmalloc64_pairs_per_s).toBeGreaterThan(0)
    }
  })

  it('an unknown group is one line on stderr and exit 2', () => {
    const r = spawnSync(process.execPath, ['dist/bench/run.js', '--json', '--only', 'nope'], { cwd: root, encoding: 'utf8' })
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^bench: --only: unknown group 'nope' \(groups: boot, /)
  })
})
