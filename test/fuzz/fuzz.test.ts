import { describe, expect, it } from 'vitest'
import { decode_ops, encode_ops } from '../../fuzz/ops.js'
import { fuzz_minimise, fuzz_replay, fuzz_run } from '../../fuzz/run.js'
import { World } from '../../fuzz/exec.js'

/**
 * The project's fuzzer, briefly (npm run fuzz runs it long): hostile arguments and injected
 * allocation failures on a 32 MiB machine, the shadow model checking every byte, the whole
 * machine checked every 100 operations. Any failure class fails the test, with its op.
 */
describe('fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 400 hostile operations with fault injection, no failure`, () => {
      const r = fuzz_run({ seed, ram: '32M', ops: 400, check_every: 100, hostile: 0.2, fail_percent: 1 })
      expect(r.failure?.message ?? null).toBeNull()
      expect(r.at).toBe(400)
    })
  }

  it('with a zram swap area: pages paged out and faulted back, the shadow model agreeing', () => {
    const r = fuzz_run({ seed: 1, ram: '32M', ops: 1500, check_every: 150, hostile: 0.2, fail_percent: 1, swap: '16M' })
    expect(r.failure?.message ?? null).toBeNull()
    expect(r.at).toBe(1500)
  })

  it('a recorded list replays to the same outcomes after a JSON round trip', () => {
    const o = { seed: 9, ram: '32M', ops: 300, check_every: 100, hostile: 0.3, fail_percent: 2 }
    const r = fuzz_run(o)
    const again = fuzz_replay(o, decode_ops(encode_ops(r.ops)))
    expect(again.failure).toBeNull()
    expect([...again.counts].sort()).toEqual([...r.counts].sort())
  })

  it('minimisation keeps the failure and drops the operations it does not need', () => {
    // A world with a planted defect: any pread that returns bytes throws.
    const o = { seed: 4, ram: '32M', ops: 400, check_every: 100, hostile: 0, fail_percent: 0 }
    const proto = World.prototype as unknown as Record<string, (...a: unknown[]) => void>
    const file_op = proto.file_op
    proto.file_op = function (this: World, op: unknown, r: unknown): void {
      if ((op as { k: string }).k === 'pread' && r instanceof Uint8Array && r.length > 0) throw new Error('planted')
      file_op.call(this, op, r)
    }
    try {
      const r = fuzz_run(o)
      expect(r.failure?.cls).toBe('escaped')
      const min = fuzz_minimise(o, r.ops, 'escaped', 200, 60)
      expect(min.length).toBeLessThan(r.ops.length)
      expect(min.at(-1)?.k).toBe('pread')
      expect(fuzz_replay(o, min).failure?.cls).toBe('escaped')
    } finally {
      proto.file_op = file_op
    }
  })
})
