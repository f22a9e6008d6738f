/**
 * Page replacement on a short reference string, the textbook exercise: the
 * same policies as `mmsim trace` (src/trace/policies), fed one reference at
 * a time so that each is marked a hit or a miss.
 */
import { make_policy } from '../trace/policies/make.js'
import type { PolicyName } from '../trace/policies/policy.js'
import { linux_misses } from '../trace/linux.js'
import type { ReclaimPolicy } from '../mm/replacement.js'

/**
 * The textbook policies; `linux`: the kernel's own reclaim in a simulated
 * memory cgroup (`mmsim trace --policy linux`); `kernel-fifo` ...
 * `kernel-random`: the same simulated kernel reclaiming by that policy
 * (`--reclaim`, src/mm/replacement.ts).
 */
export const KERNEL_POLICIES = ['kernel-fifo', 'kernel-lru', 'kernel-clock', 'kernel-random'] as const
export type ReplacementPolicy = PolicyName | 'linux' | (typeof KERNEL_POLICIES)[number]

/**
 * A table: the references on the first line, then one line per policy
 * with M (miss) or . (hit) under each reference and the number of misses.
 */
export function replacement_table(refs: readonly number[], frames: number, policies: readonly ReplacementPolicy[]): string {
  // Dense ids in order of first reference, as the trace readers give them.
  const ids = new Map<number, number>()
  const dense = Int32Array.from(refs, (r) => {
    let id = ids.get(r)
    if (id === undefined) ids.set(r, (id = ids.size))
    return id
  })
  // OPT needs each reference's next use (Infinity: never again).
  const next = new Float64Array(refs.length)
  const seen = new Map<number, number>()
  for (let i = refs.length - 1; i >= 0; i--) {
    next[i] = seen.get(dense[i]) ?? Infinity
    seen.set(dense[i], i)
  }
  const w = Math.max(...refs.map((r) => String(r).length))
  const cell = (s: string): string => s.padStart(w)
  const name_w = Math.max(4, ...policies.map((p) => p.length))
  const lines = [`${'refs'.padEnd(name_w)}  ${refs.map((r) => cell(String(r))).join(' ')}`]
  for (const name of policies) {
    if (name === 'linux' || name.startsWith('kernel-')) {
      const reclaim = name === 'linux' ? 'linux' : (name.slice('kernel-'.length) as ReclaimPolicy)
      const miss = linux_misses(dense, frames, 1, reclaim)
      const n = miss.filter(Boolean).length
      lines.push(`${name.padEnd(name_w)}  ${miss.map((x) => cell(x ? 'M' : '.')).join(' ')}   ${n} misses, ${refs.length - n} hits`)
      continue
    }
    const p = make_policy(name as PolicyName, frames)
    const marks: string[] = []
    for (let i = 0; i < dense.length; i++) {
      const before = p.misses
      p.feed(dense.subarray(i, i + 1), 1, next.subarray(i, i + 1))
      marks.push(cell(p.misses > before ? 'M' : '.'))
    }
    lines.push(`${name.padEnd(name_w)}  ${marks.join(' ')}   ${p.misses} misses, ${refs.length - p.misses} hits`)
  }
  return lines.join('\n') + '\n'
}
