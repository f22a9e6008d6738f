/** `mmsim mrc`: a whole miss-ratio curve from one read of a trace (OPT: its spool's passes). */
import { TraceError } from './error.js'
import { LruStackDistances, type Curve } from './mrc.js'
import { OptStack } from './opt_mrc.js'
import { read_ids, type TraceInput } from './read.js'
import type { NextUseStore } from './simulate.js'

export interface CurveOptions {
  policy: 'lru' | 'opt'
  /** The largest cache size on the curve; default: the trace's distinct pages (past them nothing changes). */
  max_frames?: number
  store?: () => NextUseStore
  progress?: (refs: number) => void
}

export async function miss_ratio_curve(input: TraceInput, o: CurveOptions): Promise<Curve> {
  if (o.policy === 'lru') {
    const s = new LruStackDistances()
    await read_ids(input, (ids, n) => s.feed(ids, n), o.progress)
    return s.curve(o.max_frames ?? Math.max(1, s.cold))
  }
  if (o.policy !== 'opt') throw new TraceError(`--policy: '${String(o.policy)}' has no one-pass curve here (lru or opt)`)
  if (!o.store) throw new TraceError('opt needs a next-use store')
  const spool = o.store()
  try {
    const shape = await read_ids(input, (ids, n) => spool.write(ids, n), o.progress)
    spool.next_uses(shape.distinct)
    const s = new OptStack(o.max_frames ?? Math.max(1, shape.distinct))
    for (const b of spool.batches()) s.feed(b.ids, b.n, b.next)
    return s.curve()
  } finally {
    spool.close()
  }
}
