/** Runs the real policies on an in-memory reference string, the way simulate() does, in batches split where asked. */
import { PageIds } from '../../src/trace/intern.js'
import { make_online_policy, make_policy } from '../../src/trace/policies/make.js'
import type { PolicyName } from '../../src/trace/policies/policy.js'
import { zstdDecompressFile } from './zstd.js'

export function fast_misses(policy: PolicyName, refs: readonly number[], frames: number, seed = 1, cuts: number[] = []): number {
  const pages = new PageIds()
  const ids = Int32Array.from(refs, (p) => pages.id(p))
  // next uses by a backward scan, as spool.ts does on disk
  const next = new Float64Array(ids.length)
  const last = new Map<number, number>()
  for (let i = ids.length - 1; i >= 0; i--) {
    next[i] = last.get(ids[i]) ?? Infinity
    last.set(ids[i], i)
  }
  const p = make_policy(policy, frames, seed)
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < ids.length).sort((a, b) => a - b), ids.length]
  for (let k = 0; k + 1 < bounds.length; k++) p.feed(ids.slice(bounds[k], bounds[k + 1]), bounds[k + 1] - bounds[k], next.slice(bounds[k], bounds[k + 1]))
  return p.misses
}

/**
 * The same as fast_misses() for the policies that need no future, through
 * feed_pages(): page numbers interned inside the policy's loop, as
 * `mmsim trace` runs them.
 */
export function fused_misses(policy: Exclude<PolicyName, 'opt'>, refs: readonly number[], frames: number, seed = 1, cuts: number[] = []): number {
  const table = new PageIds()
  const pages = Float64Array.from(refs)
  const p = make_online_policy(policy, frames, seed)
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < pages.length).sort((a, b) => a - b), pages.length]
  for (let k = 0; k + 1 < bounds.length; k++) p.feed_pages(table, pages.slice(bounds[k], bounds[k + 1]), bounds[k + 1] - bounds[k])
  return p.misses
}

export const FIXTURE = new URL('../fixtures/traces/pywork5000_34000001-34005000.csv.zst', import.meta.url).pathname

/** The fixture's page numbers, decoded by the zstd command-independent path (our source.ts) in a separate helper. */
export async function fixture_pages(): Promise<number[]> {
  const text = await zstdDecompressFile(FIXTURE)
  return text.trim().split('\n').map((l) => Number(l.split(',')[0]))
}
