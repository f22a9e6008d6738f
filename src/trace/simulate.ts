/** `mmsim trace`: one policy, one number of frames, one pass over a trace (two for OPT). */
import { TraceError } from './error.js'
import { PageIds } from './intern.js'
import { make_online_policy, make_policy } from './policies/make.js'
import { POLICIES, type PolicyName } from './policies/policy.js'
import { read_ids, read_pages, type TraceInput, type TraceShape } from './read.js'
import { warm_up } from './warm_up.js'

/**
 * Where OPT keeps each reference's page id and next use between its passes
 * (src/cli/trace_spool.ts: two temporary files), so RAM stays O(distinct pages).
 */
export interface NextUseStore {
  /** Appends references (first pass). */
  write(ids: Int32Array, n: number): void
  /** The backward pass; `distinct` is the number of page ids. */
  next_uses(distinct: number): void
  /** The forward pass: each batch with its next uses (Infinity: never). */
  batches(): Iterable<{ ids: Int32Array; next: Float64Array; n: number }>
  close(): void
}

export interface TraceOptions {
  policy: PolicyName
  /** Required for OPT. */
  store?: () => NextUseStore
  frames: number
  seed?: number
  progress?: (refs: number) => void
}

export interface TraceResult {
  /** 'linux': src/trace/linux.ts. */
  policy: PolicyName | 'linux'
  frames: number
  refs: number
  /** Every miss, cold ones included. */
  misses: number
  /** First references to a page (already counted in misses). */
  cold_misses: number
  hits: number
  miss_ratio: number
  distinct_pages: number
  format: TraceShape['format']
  compression: TraceShape['compression']
  seed?: number
}

export function check_frames(frames: number): void {
  if (!Number.isInteger(frames) || frames < 1 || frames > 0x7fffffff) throw new TraceError(`--frames: expected a positive integer, got ${frames}`)
}

export async function simulate(input: TraceInput, o: TraceOptions): Promise<TraceResult> {
  if (!(POLICIES as readonly string[]).includes(o.policy)) throw new TraceError(`--policy: '${o.policy}' is not one of ${POLICIES.join(', ')}`)
  check_frames(o.frames)
  warm_up(o.policy)
  let shape: TraceShape
  let misses: number
  if (o.policy === 'opt') {
    const policy = make_policy(o.policy, o.frames)
    if (!o.store) throw new TraceError('opt needs a next-use store')
    const spool = o.store()
    try {
      shape = await read_ids(input, (ids, n) => spool.write(ids, n), o.progress)
      spool.next_uses(shape.distinct)
      for (const b of spool.batches()) policy.feed(b.ids, b.n, b.next)
    } finally {
      spool.close()
    }
    misses = policy.misses
  } else {
    // One loop per batch: the policy interns each page itself (feed_pages).
    const policy = make_online_policy(o.policy, o.frames, o.seed ?? 1)
    const table = new PageIds()
    shape = await read_pages(input, table, (pages, n) => policy.feed_pages(table, pages, n), o.progress)
    misses = policy.misses
  }
  const r = trace_result(o.policy, o.frames, shape, misses, shape.distinct)
  if (o.policy === 'random') r.seed = o.seed ?? 1
  return r
}

/** The result of one run over a trace: `misses` of its `refs`, `cold` of them first references. */
export function trace_result(policy: TraceResult['policy'], frames: number, shape: TraceShape, misses: number, cold: number): TraceResult {
  return {
    policy,
    frames,
    refs: shape.refs,
    misses,
    cold_misses: cold,
    hits: shape.refs - misses,
    miss_ratio: shape.refs ? misses / shape.refs : 0,
    distinct_pages: shape.distinct,
    format: shape.format,
    compression: shape.compression,
  }
}
