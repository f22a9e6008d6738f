/**
 * The machine's page-replacement policies (MachineOptions.reclaim,
 * src/mm/replacement.ts): a whole simulated system (a process, its page
 * tables, the page cache, a memory cgroup) whose reclaim picks victims by
 * FIFO, LRU, CLOCK or at random, held to policy models written here and to
 * the trace simulators of src/trace (code that shares nothing with mm/).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Machine, MachineConfigError, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, MAP_SHARED, type ReclaimPolicy } from '../../src/index.js'
import { linux_misses } from '../../src/trace/linux.js'
import { make_policy } from '../../src/trace/policies/make.js'
import { Opt } from '../../src/trace/policies/opt.js'
import { mmsim } from '../cli/helpers.js'

/** Misses of a textbook policy with `frames` frames: fifo evicts the oldest arrival, lru the oldest use. */
function textbook(policy: 'fifo' | 'lru', ids: readonly number[], frames: number): number {
  const resident = new Map<number, number>()
  let misses = 0
  ids.forEach((id, t) => {
    if (resident.has(id)) {
      if (policy === 'lru') resident.set(id, t)
      return
    }
    misses++
    if (resident.size === frames) {
      let victim = -1
      let oldest = Infinity
      for (const [k, at] of resident) if (at < oldest) [victim, oldest] = [k, at]
      resident.delete(victim)
    }
    resident.set(id, t)
  })
  return misses
}

/**
 * CLOCK whose reference bit is set by every use including the one that
 * loads the page (what read() does: the page is marked accessed as it is
 * copied out), with a hand that sweeps in arrival order.
 */
function clock_set_on_load(ids: readonly number[], frames: number): number {
  const ring: number[] = []
  const ref = new Map<number, boolean>()
  let hand = 0
  let misses = 0
  for (const id of ids) {
    if (ref.has(id)) {
      ref.set(id, true)
      continue
    }
    misses++
    if (ring.length < frames) {
      ring.push(id)
    } else {
      while (ref.get(ring[hand])) {
        ref.set(ring[hand], false)
        hand = (hand + 1) % frames
      }
      ref.delete(ring[hand])
      ring[hand] = id
      hand = (hand + 1) % frames
    }
    ref.set(id, true)
  }
  return misses
}

/** A reference string with a hot set: `hot` of 10 references go to the first pages. */
const references = fc.record({
  pages: fc.integer({ min: 12, max: 120 }),
  hot: fc.integer({ min: 0, max: 9 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  n: fc.integer({ min: 50, max: 600 }),
}).map(({ pages, hot, seed, n }) => {
  let x = seed
  const ids: number[] = []
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    ids.push((x >>> 20) % 10 < hot ? (x >>> 8) % Math.max(2, pages >> 3) : (x >>> 8) % pages)
  }
  // Dense ids in order of first reference, as the trace readers give them.
  const dense = new Map<number, number>()
  return ids.map((id) => dense.get(id) ?? (dense.set(id, dense.size), dense.size - 1))
})

const misses = (ids: readonly number[], frames: number, reclaim: ReclaimPolicy, seed = 1): number =>
  linux_misses(Int32Array.from(ids), frames, seed, reclaim).filter(Boolean).length

describe('page-replacement policies of the machine (MachineOptions.reclaim)', () => {
  it('fifo and lru: a group of N pages of data misses exactly as N frames of the textbook policy and of the trace simulator', () => {
    fc.assert(
      fc.property(references, fc.integer({ min: 4, max: 40 }), (ids, frames) => {
        for (const policy of ['fifo', 'lru'] as const) {
          const sim = make_policy(policy, frames, 1)
          sim.feed(Int32Array.from(ids), ids.length)
          const got = misses(ids, frames, policy)
          expect(got, policy).toBe(textbook(policy, ids, frames))
          expect(got, policy).toBe(sim.misses)
        }
      }),
      { numRuns: 12 },
    )
  })

  it('clock over read(): every use sets the reference bit, the hand sweeps in arrival order', () => {
    fc.assert(
      fc.property(references, fc.integer({ min: 4, max: 40 }), (ids, frames) => {
        const pages = Math.max(...ids) + 1
        const m = new Machine({ ram: '64M', cpus: 1, read_ahead_kb: 0, reclaim: 'clock' })
        const p = m.spawn({ name: 'r' })
        const fd = p.open('/var/tmp/clock', O_RDWR | O_CREAT, 0o600)
        p.ftruncate(fd, pages * 4096)
        // Its page-cache index nodes, charged as the pages come in: measured with every page cached.
        const g = m.cgroup_create('g')
        g.attach(p)
        for (let i = 0; i < pages; i++) p.pread(fd, 1, i * 4096)
        const kmem = g.memcg.memory.usage - m.memcg.stocked(g.memcg) - pages
        p.fadvise(fd, 0, 0, 4) // POSIX_FADV_DONTNEED: a cold cache
        g.set_limit((frames + kmem) * 4096)
        const pgpgin = g.stat().pgpgin
        for (const id of ids) p.pread(fd, 1, id * 4096)
        expect(g.stat().pgpgin - pgpgin).toBe(clock_set_on_load(ids, frames))
      }),
      { numRuns: 10 },
    )
  })

  it('clock through a mapping: pages the TLB caches never look referenced again, as on x86', () => {
    // Six hot pages used every other reference, and a scan of 60 cold ones. The hot pages'
    // translations stay in the TLB, so the MMU never writes their Accessed bits again once the
    // hand has cleared them (x86 clears them without a TLB flush): the hand sees them
    // unreferenced, and CLOCK evicts exactly as FIFO does. Through read(), where every use is
    // seen, the same policy keeps the hot pages.
    const ids: number[] = []
    for (let i = 0; i < 600; i++) ids.push(i % 6, 6 + (i % 60))
    const clock = misses(ids, 24, 'clock')
    expect(clock).toBe(misses(ids, 24, 'fifo'))
    // LRU keeps the hot pages: their 6 first uses and the 600 cold uses (each cold page comes
    // back 66 distinct pages later, more than 24 frames) miss. CLOCK over read() is near it.
    expect(misses(ids, 24, 'lru')).toBe(606)
    expect(clock_set_on_load(ids, 24)).toBeLessThan(620)
    expect(clock).toBeGreaterThan(700)
  })

  it('random: the same seed gives the same misses, other seeds others; never fewer than OPT', () => {
    const ids = Array.from({ length: 500 }, (_, i) => ((i * 2654435761) >>> 0) % 60)
    // OPT's next-use positions, found backwards.
    const next = new Float64Array(ids.length)
    const seen = new Map<number, number>()
    for (let i = ids.length - 1; i >= 0; i--) {
      next[i] = seen.get(ids[i]) ?? Infinity
      seen.set(ids[i], i)
    }
    const opt = new Opt(16)
    opt.feed(Int32Array.from(ids), ids.length, next)
    const by_seed = [1, 2, 3, 4].map((s) => misses(ids, 16, 'random', s))
    expect(misses(ids, 16, 'random', 1)).toBe(by_seed[0])
    expect(new Set(by_seed).size).toBeGreaterThan(1)
    for (const n of by_seed) expect(n).toBeGreaterThanOrEqual(opt.misses)
  })

  it('under any policy the group never holds more than its limit, and every byte written survives eviction', () => {
    for (const reclaim of ['fifo', 'lru', 'clock', 'random'] as const) {
      const m = new Machine({ ram: '64M', cpus: 1, read_ahead_kb: 0, reclaim, swap: '16M' })
      const p = m.spawn({ name: 'w' })
      const g = m.cgroup_create('g')
      g.attach(p)
      const fd = p.open('/var/tmp/data', O_RDWR | O_CREAT, 0o600)
      p.ftruncate(fd, 64 * 4096)
      const a = p.mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
      const anon = p.mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, 0x22)
      g.set_limit(40 * 4096)
      for (let i = 0; i < 64; i++) {
        p.store(a + i * 4096 + 5, [i + 1])
        p.store(anon + i * 4096 + 9, [i + 101])
        expect(g.usage() / 4096, reclaim).toBeLessThanOrEqual(40)
      }
      for (let i = 0; i < 64; i++) {
        expect(p.load(a + i * 4096 + 5, 1)[0], reclaim).toBe(i + 1)
        expect(p.load(anon + i * 4096 + 9, 1)[0], reclaim).toBe(i + 101)
      }
      expect(m.dmesg()).toContain(`mmsim: page replacement: ${reclaim}`)
    }
  })

  it('an unknown policy is a machine configuration error; the command line says so in one line', async () => {
    expect(() => new Machine({ reclaim: 'arc' as ReclaimPolicy })).toThrow(MachineConfigError)
    const r = await mmsim('dmesg', '--reclaim', 'arc')
    expect(r.status).toBe(2)
    expect(r.stderr).toBe("mmsim: reclaim: 'arc' is not one of linux, fifo, lru, clock, random\n")
    const ok = await mmsim('dmesg', '--reclaim', 'fifo')
    expect(ok.stdout).toContain('mmsim: page replacement: fifo')
  })
})
