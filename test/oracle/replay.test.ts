/**
 * Differential test, part 1: the public scenarios and the rule scenarios
 * (`x-*` other than generated ones); see differential.ts.
 */
import { expect, it } from 'vitest'
import { differential_suite, fixture_names, KNOWN_FAILURES } from './differential.js'

it('has every public scenario with its expected result', () => {
  expect(fixture_names.filter((n) => /^\d\d-/.test(n)).length).toBe(27)
})

it('pins every known failure to a recorded scenario and to how many fields agree', () => {
  // A pin whose scenario is gone (renamed, re-recorded) would guard nothing.
  for (const [name, pin] of KNOWN_FAILURES) {
    expect(fixture_names, name).toContain(name)
    const m = /^(\d+)\/(\d+)$/.exec(pin)
    expect(m, `${name}: pin '${pin}' is not 'equal/total'`).not.toBeNull()
    expect(Number(m?.[1]), name).toBeLessThan(Number(m?.[2]))
  }
})

differential_suite(
  'oracle replay agrees with the real kernel: public and rule scenarios',
  fixture_names.filter((n) => !/^x-(gen|as)-/.test(n)),
)
