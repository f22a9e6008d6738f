/** `mmsim trace`: one policy, one number of frames, one pass over a trace (two for OPT). */
import { TraceError } from './error.js'
import { PageIds } from './intern.js'
import { make_online_policy, make_policy } from './policies/make.js'
import { POLICIES, grow_f64, type Policy, type PolicyName } from './policies/policy.js'
import { BATCH, NEVER } from './parse.js'
import { read_ids, read_pages, StopReading, type TraceInput, type TraceShape } from './read.js'
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
    const by_field = await opt_by_next_field(input, o.frames, o.progress)
    if (by_field) {
      shape = by_field.shape
      misses = by_field.policy.misses
    } else {
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
    }
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

/**
 * OPT in one pass on the next-access fields an oracleGeneral trace carries,
 * or null (the caller computes next uses itself) when the trace has none or
 * they do not match its references. OPT compares next uses only with each
 * other, so the fields serve as they are if each one is the position of
 * its page's next reference plus one constant (libCacheSim writes 1-based
 * positions) or says never; that is checked as the references come, before
 * each batch reaches the policy: a page referenced again must be where its
 * previous reference said, with the same offset every time, and at the end
 * no reference may have promised one that never came.
 */
async function opt_by_next_field(input: TraceInput, frames: number, progress?: (refs: number) => void): Promise<{ shape: TraceShape; policy: Policy } | null> {
  const policy = make_policy('opt', frames)
  const table = new PageIds()
  const ids = new Int32Array(BATCH)
  // Per page id: the next-access field of its latest reference (UNSEEN: not referenced yet).
  let promised = new Float64Array(1 << 12).fill(UNSEEN)
  let offset = NaN
  let refs = 0
  let shape: TraceShape
  try {
    shape = await read_pages(
      input,
      table,
      (pages, n, _writes, next) => {
        if (!next) throw new StopReading('no next-access fields')
        table.ids(pages, n, ids)
        promised = grow_f64(promised, table.size, UNSEEN)
        offset = check_next_fields(ids, next, n, refs, promised, offset)
        if (offset === UNSEEN) throw new StopReading('next-access fields that do not match the references')
        policy.feed(ids, n, next)
        refs += n
      },
      progress,
      true,
    )
  } catch (e) {
    if (e instanceof StopReading) return null
    throw e
  }
  for (let id = 0; id < table.size; id++) if (promised[id] !== NEVER) return null
  return { shape, policy }
}

/** promised[] of a page not referenced yet. */
const UNSEEN = -Infinity

/**
 * Checks a batch's next-access fields against its references (the batch's
 * first is reference `base`), recording each in `promised`; returns the
 * offset between fields and positions (NaN while no page has been
 * referenced twice), or UNSEEN at the first mismatch.
 */
function check_next_fields(ids: Int32Array, next: Float64Array, n: number, base: number, promised: Float64Array, offset: number): number {
  // (the offset is unknown until a page comes back: positions are taken as field - j, compared with base + offset)
  let want = base + offset
  for (let j = 0; j < n; j++) {
    const id = ids[j]
    const p = promised[id]
    promised[id] = next[j]
    if (p === UNSEEN || p - j === want) continue
    if (want === want || p === NEVER) return UNSEEN
    want = p - j
  }
  return want - base
}
