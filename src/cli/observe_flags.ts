/**
 * The run-time observation flags of `mmsim run`, `mmsim shell` (and
 * lessons, which run scenarios the same way): `--explain`, `--trace
 * FILE.json|FILE.txt`, `--ftrace FILE.txt`, `--counters FILE.csv` with
 * `--counter-names a,b,...`. They become the scenario runner's RunOptions
 * (src/scenario/observe.ts) and, after the run, the files they name
 * (observe_outputs.ts). Light on purpose: every `mmsim` command loads this
 * to parse its arguments.
 */
import type { RunOptions } from '../scenario/observe.js'

/** The counters `--counters` writes without `--counter-names`: /proc/vmstat's names, and /proc/meminfo's (their kB values). */
export const DEFAULT_COUNTERS = ['nr_free_pages', 'nr_anon_pages', 'nr_file_pages', 'pgfault', 'pgmajfault', 'pgalloc_normal', 'pgfree', 'pswpin', 'pswpout', 'MemFree', 'Cached', 'AnonPages', 'Slab'] as const

/** A flag used wrongly: one line, exit status 2. */
export class ObserveFlagError extends Error {}

/** The flags as parseArgs gives them. */
export interface ObserveFlagValues {
  explain?: boolean
  trace?: string
  ftrace?: string
  counters?: string
  'counter-names'?: string
}

/** Where the run's observations go after it. */
export interface ObserveOutputs {
  chrome?: string
  ftrace?: string
  csv?: string
  counter_names: readonly string[]
}

/** Options the command-line parser must declare for these flags. */
export const OBSERVE_PARSE_OPTIONS = {
  explain: { type: 'boolean' },
  trace: { type: 'string' },
  ftrace: { type: 'string' },
  counters: { type: 'string' },
  'counter-names': { type: 'string' },
} as const

/** Are any of these flags given? */
export function observe_flags_given(v: ObserveFlagValues): boolean {
  return v.explain !== undefined || v.trace !== undefined || v.ftrace !== undefined || v.counters !== undefined || v['counter-names'] !== undefined
}

/** The runner's options and the output files; ObserveFlagError for a wrong use. */
export function parse_observe_flags(v: ObserveFlagValues): { opts: RunOptions; outputs: ObserveOutputs } {
  const outputs: ObserveOutputs = { counter_names: [] }
  const file = (flag: string, f: string): string => {
    if (f === '' || f.startsWith('-')) throw new ObserveFlagError(`--${flag}: expected a file name, got '${f}'`)
    return f
  }
  if (v.trace !== undefined) {
    const f = file('trace', v.trace)
    if (/\.json$/i.test(f)) outputs.chrome = f
    else if (/\.(txt|dat|ftrace)$/i.test(f)) outputs.ftrace = f
    else throw new ObserveFlagError(`--trace: '${f}' must end in .json (Chrome trace JSON for Perfetto) or .txt (ftrace text)`)
  }
  if (v.ftrace !== undefined) {
    if (outputs.ftrace) throw new ObserveFlagError('--ftrace: the ftrace text already goes to the --trace file')
    outputs.ftrace = file('ftrace', v.ftrace)
  }
  if (v['counter-names'] !== undefined && v.counters === undefined) throw new ObserveFlagError('--counter-names: only with --counters FILE.csv')
  if (v.counters !== undefined) {
    outputs.csv = file('counters', v.counters)
    const names = v['counter-names'] !== undefined ? v['counter-names'].split(',').map((s) => s.trim()) : [...DEFAULT_COUNTERS]
    if (names.some((n) => !/^[A-Za-z0-9_()]+$/.test(n))) throw new ObserveFlagError(`--counter-names: '${v['counter-names']}' is not a comma-separated list of counter names`)
    outputs.counter_names = names
  }
  const opts: RunOptions = {
    explain: v.explain === true,
    trace: outputs.chrome !== undefined || outputs.ftrace !== undefined,
    counters: outputs.csv !== undefined ? outputs.counter_names : undefined,
  }
  return { opts, outputs }
}
