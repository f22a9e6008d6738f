/** A policy by name. */
import { Clock } from './clock.js'
import { Fifo } from './fifo.js'
import { Lru } from './lru.js'
import { Opt } from './opt.js'
import type { OnlinePolicy, Policy, PolicyName } from './policy.js'
import { RandomPolicy } from './random.js'

export function make_policy(name: PolicyName, frames: number, seed = 1): Policy {
  return name === 'opt' ? new Opt(frames) : make_online_policy(name, frames, seed)
}

/** A policy that needs no future, by name. */
export function make_online_policy(name: Exclude<PolicyName, 'opt'>, frames: number, seed = 1): OnlinePolicy {
  switch (name) {
    case 'lru': return new Lru(frames)
    case 'fifo': return new Fifo(frames)
    case 'clock': return new Clock(frames)
    case 'random': return new RandomPolicy(frames, seed)
  }
}
