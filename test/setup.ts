/**
 * Property tests run with a fixed seed so that CI is reproducible; set
 * FC_SEED=random to explore new cases (or FC_SEED=<n> to replay one run).
 */
import fc from 'fast-check'

const seed = process.env.FC_SEED
if (seed !== 'random') fc.configureGlobal({ seed: seed === undefined ? 0x6d6d73 : Number(seed) })

/*
 * A debug_vm machine checks only around what each call touched
 * (Machine.check_touched); at the end of every test the machines that did
 * so get the whole-machine recount too, so no test checks less than it did
 * when every call recounted everything. A test that corrupts a machine on
 * purpose marks it with `corrupted()` (test/helpers.ts).
 */
import { afterEach, expect } from 'vitest'
import { Machine } from '../src/machine.js'
import { checked_at_end } from './helpers.js'

// vitest runs this file before every test file, and with isolate: false the
// files of a worker share src/ (and so Machine.prototype): wrap it once, or
// each file would add a wrapper and a late file's calls would pass through
// dozens of them.
// A machine whose last event was a whole-machine recount that passed (a test's own m.check(), a
// deferred_check() ending) has had its end-of-test recount already: it leaves the set until its
// next call.
const WRAPPED = Symbol.for('mmsim.test.checked_at_end')
if (!Object.hasOwn(Machine.prototype, WRAPPED)) {
  const check_touched = Machine.prototype.check_touched
  const check = Machine.prototype.check
  Machine.prototype.check_touched = function (this: Machine): void {
    checked_at_end.add(this)
    check_touched.call(this)
  }
  Machine.prototype.check = function (this: Machine): void {
    check.call(this)
    checked_at_end.delete(this)
  }
  Object.defineProperty(Machine.prototype, WRAPPED, { value: true })
}
afterEach(() => {
  const ms = [...checked_at_end]
  checked_at_end.clear()
  for (const m of ms) m.check()
})

/*
 * Byte arrays compare as bytes: expect's generic iterable equality walks a
 * typed array element by element through its iterator protocol, which made
 * a 48 KiB toEqual() cost milliseconds (8 s of one property test's 9).
 * Same verdict; failures still print the generic diff. Registered once per
 * worker: expect keeps its testers in a global list that files sharing the
 * worker share, and every comparison, at every level of a deep equality,
 * asks each of them (a copy per file made the last files' toEqual() ask 70).
 */
const TESTER = Symbol.for('mmsim.test.typed_arrays_equal')
if (!(TESTER in globalThis)) {
  expect.addEqualityTesters([
    function typed_arrays_equal(a: unknown, b: unknown): boolean | undefined {
      if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a instanceof DataView || b instanceof DataView) return undefined
      if (a.constructor !== b.constructor) return undefined
      const x = a as unknown as ArrayLike<number | bigint>
      const y = b as unknown as ArrayLike<number | bigint>
      if (x.length !== y.length) return false
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false
      return true
    },
  ])
  Object.defineProperty(globalThis, TESTER, { value: true })
}
