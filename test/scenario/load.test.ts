/**
 * Scenario files: each kind of mistake is reported as one line naming the
 * file, the line and column of the offending node, and what was expected;
 * well-formed files load into steps with their places.
 */
import { describe, expect, it } from 'vitest'
import { load_scenario, ScenarioFileError } from '../../src/scenario/load.js'

function error_of(text: string): string {
  try {
    load_scenario(text, 'f.yaml')
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioFileError)
    return (e as Error).message
  }
  throw new Error('loaded')
}

describe('load_scenario', () => {
  it('loads steps with their places and arguments', () => {
    const sc = load_scenario('machine: { ram: 64M }\nsteps:\n  - spawn: a\n  - mmap: { len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: b }\n', 'f.yaml')
    expect(sc.machine).toEqual({ ram: '64M' })
    expect(sc.steps.map((s) => [s.op, s.line, s.col])).toEqual([
      ['spawn', 3, 5],
      ['mmap', 4, 5],
    ])
    expect(sc.steps[1].args).toEqual({ len: '4K', prot: 'rw-', flags: 'MAP_PRIVATE|MAP_ANONYMOUS', as: 'b' })
  })

  it.each([
    ['steps:\n  - mmap: { len: 4K, prot: rw-\n', /^f\.yaml:\d+:\d+: /],
    ['stepz: []\n', /^f\.yaml:1:1: unknown key 'stepz' \(expected title, description, machine, steps\)$/],
    ['steps:\n  - mmapp: { len: 4K }\n', /^f\.yaml:2:5: unknown op 'mmapp' \(did you mean mmap[,?]/],
    ['steps:\n  - mmap: { len: 4Q, prot: rw-, flags: MAP_PRIVATE }\n', /^f\.yaml:2:18: expected a number, 0x hex, a size like 4K or 2M, or \$name/],
    ['steps:\n  - mmap: { len: 4K, prot: rw-, flags: MAP_PRIVAT }\n', /^f\.yaml:2:40: unknown map name 'MAP_PRIVAT' \(did you mean MAP_PRIVATE/],
    ['steps:\n  - mmap: { len: 4K, prot: rw-, flags: MAP_PRIVATE, size: 3 }\n', /^f\.yaml:2:11: unknown argument 'size'$/],
    ['steps:\n  - munmap: { addr: 0 }\n', /^f\.yaml:2:13: .*/],
    ['steps:\n  - spawn: a\n    use: b\n', /^f\.yaml:2:5: a step has one op, this one has 2 \(spawn, use\)$/],
    ['steps:\n  - load: { addr: 0, len: 1, expect: { errno: ENOMEM, signal: SIGSEGV } }\n', /^f\.yaml:2:38: expected a value, ok, \{errno: E\.\.\.\}/],
    ['machine: { ram: lots }\nsteps: []\n', /^f\.yaml:1:17: expected a size like 256M or 1G$/],
    ['machine: { arch: arm64 }\nsteps: []\n', /^f\.yaml:1:18: /],
    ['- just a list\n', /^f\.yaml:1:1: expected a map with machine: and steps:$/],
    ['machine: {}\n', /^f\.yaml:1:1: expected steps: a list of steps$/],
    ['steps:\n  - 42\n', /^f\.yaml:2:5: expected a step, a one-key map/],
    ['steps:\n  - spawn: a\n  - spawn: a\n  - cat: { path: /proc/meminfo, paht: 1 }\n', /^f\.yaml:4:10: unknown argument 'paht'$/],
  ])('reports %j at its place', (text, want) => {
    const msg = error_of(text)
    expect(msg).toMatch(want)
    expect(msg).not.toContain('\n')
  })
})

describe('schema/scenario.schema.json', () => {
  it('is what the zod schemas generate (run `npm run schema` after changing them)', async () => {
    const { readFileSync } = await import('node:fs')
    const { scenario_json_schema } = await import('../../src/scenario/json_schema.js')
    const committed = readFileSync(new URL('../../schema/scenario.schema.json', import.meta.url), 'utf8')
    expect(committed).toBe(scenario_json_schema())
    // Every op is in it, as a one-key step.
    const { OP_NAMES } = await import('../../src/scenario/schema.js')
    for (const op of OP_NAMES) expect(committed).toContain(`"${op}"`)
  })
})
