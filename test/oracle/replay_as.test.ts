/**
 * Differential test, part 3: the generated address-space scenarios `x-as-*`
 * (gen.py seeds recorded on a real 6.18 kernel); see differential.ts.
 */
import { expect, it } from 'vitest'
import { differential_suite, fixture_names } from './differential.js'

const generated = fixture_names.filter((n) => /^x-as-/.test(n))

it('has the generated address-space fixtures', () => {
  expect(generated.length).toBeGreaterThan(100)
})

differential_suite('oracle replay agrees with the real kernel: generated scenarios (x-as)', generated)
