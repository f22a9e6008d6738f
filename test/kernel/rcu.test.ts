/**
 * RCU callbacks (src/kernel/rcu.ts): a callback runs once a grace period
 * of simulated time has passed, from the clock's timers, on the CPU that
 * queued it, oldest first; rcu_barrier() runs every queued one.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Clock } from '../../src/hw/clock.js'
import { Rcu, RCU_GP_NS } from '../../src/kernel/rcu.js'

function setup(): { clock: Clock; rcu: Rcu } {
  const clock = new Clock()
  return { clock, rcu: new Rcu(clock, (_cpu, fn) => fn()) }
}

describe('RCU callbacks', () => {
  it('run only after a grace period, on the queuing CPU, in queue order', () => {
    const clock = new Clock()
    const ran: Array<[string, number]> = []
    let cpu = 0
    const rcu = new Rcu(clock, (c, fn) => {
      cpu = c
      fn()
      cpu = 0
    })
    rcu.call_rcu(1, () => ran.push(['a', cpu]))
    clock.advance(RCU_GP_NS / 2)
    rcu.call_rcu(0, () => ran.push(['b', cpu]))
    clock.advance(RCU_GP_NS / 2 - 1)
    clock.run_timers()
    expect(ran).toEqual([])
    expect(rcu.pending).toBe(2)
    clock.advance(1)
    clock.run_timers()
    expect(ran).toEqual([['a', 1]])
    clock.advance(RCU_GP_NS / 2)
    clock.run_timers()
    expect(ran).toEqual([['a', 1], ['b', 0]])
    expect(rcu.pending).toBe(0)
    expect(clock.pending.length).toBe(0)
  })

  it('rcu_barrier() runs every queued callback at once', () => {
    const { clock, rcu } = setup()
    const ran: number[] = []
    for (let i = 0; i < 5; i++) rcu.call_rcu(i % 2, () => ran.push(i))
    rcu.rcu_barrier()
    expect(ran).toEqual([0, 1, 2, 3, 4])
    clock.advance(RCU_GP_NS)
    clock.run_timers()
    expect(ran.length).toBe(5)
  })

  it('every callback runs exactly once, never before its grace period (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * RCU_GP_NS }), fc.boolean()), { maxLength: 40 }), (steps) => {
        const { clock, rcu } = setup()
        const queued: number[] = []
        const ran: Array<[number, number]> = []
        steps.forEach(([dt, queue], i) => {
          if (queue) {
            queued.push(clock.now())
            rcu.call_rcu(0, () => ran.push([i, clock.now()]))
          }
          clock.advance(dt)
          clock.run_timers()
        })
        clock.advance(RCU_GP_NS)
        clock.run_timers()
        expect(ran.length).toBe(queued.length)
        ran.forEach(([, at], k) => expect(at).toBeGreaterThanOrEqual(queued[k] + RCU_GP_NS))
        expect(ran.map(([i]) => i)).toEqual([...ran.map(([i]) => i)].sort((x, y) => x - y))
      }),
    )
  })
})
