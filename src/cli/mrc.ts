/** `mmsim mrc FILE [--policy lru|opt] [--max-frames N] [--csv|--json|--svg OUT.svg]`: a whole miss-ratio curve. */
import { writeFileSync } from 'node:fs'
import { TraceError } from '../trace/error.js'
import type { Curve } from '../trace/mrc.js'
import { miss_ratio_curve, type CurveOptions } from '../trace/mrc_run.js'
import { curve_svg } from '../trace/svg.js'
import { parse_count, progress_line } from './trace.js'
import { open_trace } from './trace_source.js'
import { NextUseSpool } from './trace_spool.js'

export interface MrcArgs {
  policy?: string
  'max-frames'?: string
  csv?: boolean
  json?: boolean
  svg?: string
}

/** miss_ratio_curve() on a file, OPT's next uses spooled to temporary files. */
export async function curve_file(path: string, o: Omit<CurveOptions, 'store'>): Promise<Curve> {
  return await miss_ratio_curve(open_trace(path), { ...o, store: () => new NextUseSpool() })
}

function csv(c: Curve): string {
  const rows = ['frames,misses,miss_ratio']
  c.misses.forEach((m, i) => rows.push(`${i + 1},${m},${c.refs ? m / c.refs : 0}`))
  return rows.join('\n')
}

export async function mrc_command(path: string, a: MrcArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const p = progress_line()
  try {
    const policy = a.policy ?? 'lru'
    if (policy !== 'lru' && policy !== 'opt') throw new TraceError(`--policy: '${policy}' has no one-pass curve (lru or opt)`)
    if ([a.csv, a.json, a.svg !== undefined].filter(Boolean).length > 1) throw new TraceError('choose one of --csv, --json, --svg')
    const max_frames = a['max-frames'] === undefined ? undefined : parse_count('--max-frames', a['max-frames'])
    const c = await curve_file(path, { policy, max_frames, progress: p.tick })
    p.done()
    if (a.json) {
      out(JSON.stringify({ ...c, miss_ratio: c.misses.map((m) => (c.refs ? m / c.refs : 0)) }))
    } else if (a.svg !== undefined) {
      writeFileSync(a.svg, curve_svg(c, `${policy.toUpperCase()} miss-ratio curve of ${path.split('/').pop()}`))
      out(`${a.svg}: ${policy} miss-ratio curve, 1..${c.misses.length} frames, ${c.refs} references`)
    } else {
      out(csv(c))
    }
    return 0
  } catch (e) {
    p.done()
    if (!(e instanceof TraceError) && (e as NodeJS.ErrnoException).code === undefined) throw e
    err(`mmsim: mrc: ${(e as Error).message.split('\n')[0]}`)
    return 2
  }
}
