/**
 * Differential test, part 2: the generated scenarios `x-gen-*` (gen.py seeds
 * recorded on a real 6.18 kernel); see differential.ts. The `x-as-*` ones
 * are part 3 (replay_as.test.ts).
 */
import { expect, it } from 'vitest'
import { differential_suite, fixture_names } from './differential.js'

const generated = fixture_names.filter((n) => /^x-gen-/.test(n))

it('has the generated fixtures', () => {
  expect(generated.length).toBeGreaterThan(100)
})

differential_suite('oracle replay agrees with the real kernel: generated scenarios (x-gen)', generated)
