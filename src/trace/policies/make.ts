/** A policy by name. */
import { Clock } from './clock.js'
import { Fifo } from './fifo.js'
import { Lru } from './lru.js'
import { Opt } from './opt.js'
import type { Policy, PolicyName } from './policy.js'
import { RandomPolicy } from './random.js'

export function make_policy(name: PolicyName, frames: number, seed = 1): Policy {
  switch (name) {
    case 'lru': return new Lru(frames)
    case 'fifo': return new Fifo(frames)
    case 'clock': return new Clock(frames)
    case 'random': return new RandomPolicy(frames, seed)
    case 'opt': return new Opt(frames)
  }
}
