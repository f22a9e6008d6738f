/**
 * The obvious array-based simulators, written from the textbook definitions
 * and sharing nothing with src/trace but the random policy's generator (the
 * same seed must draw the same victims). Slow on purpose: O(frames) or worse
 * per reference. A miss: the page is not among the resident pages just
 * before the reference.
 */
import { xorshift32 } from '../../src/trace/policies/random.js'
import type { PolicyName } from '../../src/trace/policies/policy.js'

function lru(refs: readonly number[], frames: number): number {
  const mem: number[] = [] // most recent first
  let misses = 0
  for (const p of refs) {
    const i = mem.indexOf(p)
    if (i >= 0) mem.splice(i, 1)
    else {
      misses++
      if (mem.length === frames) mem.pop()
    }
    mem.unshift(p)
  }
  return misses
}

function fifo(refs: readonly number[], frames: number): number {
  const q: number[] = []
  let misses = 0
  for (const p of refs) {
    if (q.includes(p)) continue
    misses++
    if (q.length === frames) q.shift()
    q.push(p)
  }
  return misses
}

/** Second chance as a queue: a referenced page at the front goes to the back with its bit cleared. */
function clock(refs: readonly number[], frames: number): number {
  const q: { page: number; ref: boolean }[] = []
  let misses = 0
  for (const p of refs) {
    const e = q.find((x) => x.page === p)
    if (e) {
      e.ref = true
      continue
    }
    misses++
    if (q.length === frames) {
      while (q[0].ref) {
        const f = q.shift() as { page: number; ref: boolean }
        f.ref = false
        q.push(f)
      }
      q.shift()
    }
    q.push({ page: p, ref: false })
  }
  return misses
}

function random(refs: readonly number[], frames: number, seed: number): number {
  const rand = xorshift32(seed)
  const mem: number[] = []
  let misses = 0
  for (const p of refs) {
    if (mem.includes(p)) continue
    misses++
    if (mem.length < frames) mem.push(p)
    else mem[rand() % frames] = p
  }
  return misses
}

/** Belady: evict the page used farthest ahead (never = farthest; among those, the one first seen earliest). */
function opt(refs: readonly number[], frames: number): number {
  const first = new Map<number, number>()
  refs.forEach((p, i) => { if (!first.has(p)) first.set(p, i) })
  const mem: number[] = []
  let misses = 0
  refs.forEach((p, i) => {
    if (mem.includes(p)) return
    misses++
    if (mem.length < frames) {
      mem.push(p)
      return
    }
    let victim = 0, far = -1
    mem.forEach((q, j) => {
      let nx = refs.indexOf(q, i + 1)
      if (nx < 0) nx = Infinity
      if (nx > far || (nx === far && (first.get(q) as number) < (first.get(mem[victim]) as number))) {
        far = nx
        victim = j
      }
    })
    mem[victim] = p
  })
  return misses
}

export function naive_misses(policy: PolicyName, refs: readonly number[], frames: number, seed = 1): number {
  switch (policy) {
    case 'lru': return lru(refs, frames)
    case 'fifo': return fifo(refs, frames)
    case 'clock': return clock(refs, frames)
    case 'random': return random(refs, frames, seed)
    case 'opt': return opt(refs, frames)
  }
}
