/**
 * Differential test, part 2: the generated scenarios (`x-gen-*`, `x-as-*`:
 * gen.py seeds recorded on a real 6.18 kernel); see differential.ts.
 */
import { expect, it } from 'vitest'
import { differential_suite, fixture_names } from './differential.js'

const generated = fixture_names.filter((n) => /^x-(gen|as)-/.test(n))

it('has the generated fixtures', () => {
  expect(generated.length).toBeGreaterThan(200)
})

differential_suite('oracle replay agrees with the real kernel: generated scenarios', generated)
