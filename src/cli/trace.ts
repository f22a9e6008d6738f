/** `mmsim trace FILE --policy P --frames N [--json] [--seed S]`: a page-replacement policy's misses on a trace. */
import { TraceError } from '../trace/error.js'
import { simulate, trace_result, type TraceOptions, type TraceResult } from '../trace/simulate.js'
import { open_trace } from './trace_source.js'
import { NextUseSpool } from './trace_spool.js'
import type { PolicyName } from '../trace/policies/policy.js'
import type { LinuxBacking, LinuxTraceResult } from '../trace/linux.js'
import { RECLAIM_POLICIES, type ReclaimPolicy } from '../mm/replacement.js'

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
  backing?: string
  reclaim?: string
}

/** --policy linux: TraceResult's fields, and what the kernel did. */
function linux_result(r: LinuxTraceResult, frames: number, seed: number | undefined): TraceResult & { linux: LinuxTraceResult['linux'] } {
  return { ...trace_result('linux', frames, r.shape, r.misses, r.cold_misses), ...(seed !== undefined ? { seed } : {}), linux: r.linux }
}

function linux_text(l: LinuxTraceResult['linux']): string {
  return [
    `memcg:        ${l.backing} mapping, limit ${l.limit_pages} pages (${l.kmem_pages} of them page tables${l.backing === 'file' ? ' and page-cache nodes' : ''})${l.reclaim !== 'linux' ? `, reclaim by ${l.reclaim}` : ''}`,
    `faults:       ${l.major_faults} major, ${l.minor_faults} minor`,
    `reclaim:      pgscan file ${l.pgscan_file} anon ${l.pgscan_anon}, pgsteal file ${l.pgsteal_file} anon ${l.pgsteal_anon}, pgactivate ${l.pgactivate}, pgdeactivate ${l.pgdeactivate}`,
    `workingset:   refault file ${l.workingset_refault_file} anon ${l.workingset_refault_anon}, activate file ${l.workingset_activate_file} anon ${l.workingset_activate_anon}`,
    ...(l.backing === 'anon' ? [`swap:         pswpin ${l.pswpin}, pswpout ${l.pswpout}`] : []),
  ].join('\n')
}

export async function trace_command(path: string, a: TraceArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const p = progress_line()
  try {
    const frames = parse_count('--frames', a.frames)
    const seed = a.seed === undefined ? undefined : parse_count('--seed', a.seed)
    if (a.backing !== undefined && a.policy !== 'linux') throw new TraceError('--backing is an option of --policy linux')
    if (a.reclaim !== undefined && a.policy !== 'linux') throw new TraceError('--reclaim is an option of --policy linux (the simulated machine\'s own replacement policy)')
    if (a.policy === 'linux') {
      // Only --policy linux boots a machine: the other policies never load the kernel.
      const { LINUX_BACKINGS, simulate_linux } = await import('../trace/linux.js')
      const backing = (a.backing ?? 'file') as LinuxBacking
      if (!LINUX_BACKINGS.includes(backing)) throw new TraceError(`--backing: '${a.backing}' is not one of ${LINUX_BACKINGS.join(', ')}`)
      const reclaim = (a.reclaim ?? 'linux') as ReclaimPolicy
      if (!RECLAIM_POLICIES.includes(reclaim)) throw new TraceError(`--reclaim: '${a.reclaim}' is not one of ${RECLAIM_POLICIES.join(', ')}`)
      const r = linux_result(await simulate_linux(open_trace(path), { frames, backing, reclaim, seed, progress: p.tick }), frames, seed)
      p.done()
      out(a.json ? JSON.stringify(r) : `${text(r)}\n${linux_text(r.linux)}`)
      return 0
    }
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
