/** `mmsim trace FILE --policy P --frames N [--json] [--seed S]`: a page-replacement policy's misses on a trace. */
import { TraceError } from '../trace/error.js'
import { simulate, type TraceOptions, type TraceResult } from '../trace/simulate.js'
import { open_trace } from './trace_source.js'
import { NextUseSpool } from './trace_spool.js'
import type { PolicyName } from '../trace/policies/policy.js'

/** Prints "N refs" on a terminal's stderr at most every 250 ms; nothing when stderr is piped. */
export function progress_line(): { tick?: (refs: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { done: () => {} }
  let last = 0
  let shown = false
  return {
    tick: (refs) => {
      const now = Date.now()
      if (now - last < 250) return
      last = now
      shown = true
      process.stderr.write(`\r${refs.toLocaleString('en-US')} references...`)
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K')
    },
  }
}

/** simulate() on a file, OPT's next uses spooled to temporary files. */
export async function simulate_file(path: string, o: Omit<TraceOptions, 'store'>): Promise<TraceResult> {
  return await simulate(open_trace(path), { ...o, store: () => new NextUseSpool() })
}

export function parse_count(flag: string, s: string | undefined, what = 'a positive integer'): number {
  if (s === undefined) throw new TraceError(`${flag} is required`)
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 0x7fffffff) throw new TraceError(`${flag}: '${s}' is not ${what}`)
  return Number(s)
}

function text(r: TraceResult): string {
  const pct = (x: number) => (r.refs ? ((100 * x) / r.refs).toFixed(2) : '0.00') + '%'
  return [
    `trace:        ${r.format}${r.compression === 'none' ? '' : ` (${r.compression})`}, ${r.distinct_pages} distinct pages`,
    `policy:       ${r.policy}${r.seed !== undefined ? ` (seed ${r.seed})` : ''}, ${r.frames} frames`,
    `references:   ${r.refs}`,
    `hits:         ${r.hits} (${pct(r.hits)})`,
    `misses:       ${r.misses} (${pct(r.misses)}), of which cold ${r.cold_misses}`,
    `miss ratio:   ${r.miss_ratio.toFixed(6)}`,
  ].join('\n')
}

export interface TraceArgs {
  policy?: string
  frames?: string
  seed?: string
  json?: boolean
}

export async function trace_command(path: string, a: TraceArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const p = progress_line()
  try {
    if (a.policy === 'linux') {
      throw new TraceError("--policy linux replays the trace in a simulated process under a memcg limit, which needs the reclaim and memory-cgroup work of issue 8 (not built yet); use lru, fifo, clock, random or opt")
    }
    const frames = parse_count('--frames', a.frames)
    const seed = a.seed === undefined ? undefined : parse_count('--seed', a.seed)
    const r = await simulate_file(path, { policy: (a.policy ?? 'lru') as PolicyName, frames, seed, progress: p.tick })
    p.done()
    out(a.json ? JSON.stringify(r) : text(r))
    return 0
  } catch (e) {
    p.done()
    if (!(e instanceof TraceError)) throw e
    err(`mmsim: trace: ${e.message}`)
    return 2
  }
}
