/**
 * Differential test, part 1: the public scenarios and the rule scenarios
 * (`x-*` other than generated ones); see differential.ts.
 */
import { expect, it } from 'vitest'
import { differential_suite, fixture_names } from './differential.js'

it('has every public scenario with its expected result', () => {
  expect(fixture_names.filter((n) => /^\d\d-/.test(n)).length).toBe(27)
})

differential_suite(
  'oracle replay agrees with the real kernel: public and rule scenarios',
  fixture_names.filter((n) => !/^x-(gen|as)-/.test(n)),
)
