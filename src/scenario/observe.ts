/**
 * What a scenario run records beside its step lines, on request (the
 * runner's options, shared by `mmsim run`, `mmsim shell` and lessons):
 * explanations (`--explain`: why the kernel decided what it did, one line
 * each, docs/explain.md), tracepoint events (`--trace`, `--ftrace`, and in
 * `--json`), and counters after each step (`--counters`).
 *
 * Each step's explanations and events are collected while it runs and
 * attached to its record; the simulated clock's reading before and after
 * the step gives the record its time span.
 */
import type { Machine } from '../machine.js'
import type { TraceEvent } from '../include/trace.js'
import { ScenarioRunError } from './values.js'

/** Options of a scenario run (all off by default: a plain run pays nothing). */
export interface RunOptions {
  /** Attach each step's explanation lines to its record. */
  explain?: boolean
  /** Attach each step's tracepoint events to its record. */
  trace?: boolean
  /** Read these /proc/vmstat and /proc/meminfo counters after each step (the command line's default list: src/cli/observe_flags.ts). */
  counters?: readonly string[]
}

/** One explanation line of a step: its kind (page_alloc, vma_merge, ...) and text. */
export interface ExplainLine {
  kind: string
  text: string
}

/** What a step did beside its result, when the run asked for it. */
export interface StepObservations {
  /** Simulated nanoseconds since boot when the step started and ended. */
  t0_ns?: number
  t1_ns?: number
  /** The CPU the step ran on (its first event's, else the last CPU that ran kernel code). */
  cpu?: number
  explain?: ExplainLine[]
  events?: TraceEvent[]
  counters?: Record<string, number>
}

/** Listens to a machine's tracer while steps run; one instance per Run. */
export class Observer {
  private explain_buf: ExplainLine[] = []
  private event_buf: TraceEvent[] = []
  private off_explain: (() => void) | null = null
  private off_trace: (() => void) | null = null
  private first_cpu = -1

  constructor(
    private readonly m: Machine,
    private opts: RunOptions,
  ) {
    if (opts.counters) {
      const known = new Set(counter_names(m))
      const bad = opts.counters.find((n) => !known.has(n))
      if (bad !== undefined) throw new ScenarioRunError(`--counter-names: no counter '${bad}' in /proc/vmstat or /proc/meminfo`)
    }
    this.set_explain(opts.explain === true)
    if (opts.trace) {
      this.off_trace = m.trace.on((e) => {
        if (this.first_cpu < 0) this.first_cpu = e.cpu
        this.event_buf.push(e)
      })
    }
  }

  get options(): RunOptions {
    return this.opts
  }

  /** Turn explanations on or off (the shell's `explain on|off`). */
  set_explain(on: boolean): void {
    this.opts = { ...this.opts, explain: on }
    if (on && !this.off_explain) {
      this.off_explain = this.m.trace.on_explain((e) => {
        if (this.first_cpu < 0) this.first_cpu = e.cpu
        this.explain_buf.push({ kind: e.name, text: e.text })
      })
    } else if (!on && this.off_explain) {
      this.off_explain()
      this.off_explain = null
    }
  }

  /** Before a step: forget what the last one left and note the time. */
  begin(): number {
    this.explain_buf = []
    this.event_buf = []
    this.first_cpu = -1
    return this.m.clock.now()
  }

  /** After a step: what it did, to merge into its record. */
  end(t0: number): StepObservations {
    const o: StepObservations = {}
    if (!this.opts.explain && !this.opts.trace && !this.opts.counters) return o
    o.t0_ns = t0
    o.t1_ns = this.m.clock.now()
    o.cpu = this.first_cpu >= 0 ? this.first_cpu : this.m.trace.cpu()
    if (this.opts.explain && this.explain_buf.length) o.explain = this.explain_buf
    if (this.opts.trace && this.event_buf.length) o.events = this.event_buf
    this.explain_buf = []
    this.event_buf = []
    // Reading /proc is a look from outside: whatever it might emit is not the step's.
    if (this.opts.counters) o.counters = read_counters(this.m, this.opts.counters)
    this.explain_buf = []
    this.event_buf = []
    return o
  }

  /** Stop listening (the machine lives on). */
  close(): void {
    this.off_explain?.()
    this.off_trace?.()
    this.off_explain = this.off_trace = null
  }
}

/** name -> value of /proc/vmstat's and /proc/meminfo's lines (meminfo in kB). */
function proc_counters(m: Machine): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of m.proc('/proc/vmstat').split('\n')) {
    const [k, v] = line.split(' ')
    if (k && v !== undefined) out.set(k, Number(v))
  }
  for (const line of m.proc('/proc/meminfo').split('\n')) {
    const r = /^([A-Za-z0-9_()]+):\s+(\d+)/.exec(line)
    if (r) out.set(r[1], Number(r[2]))
  }
  return out
}

/** The counters a run asked for, in its order. */
export function read_counters(m: Machine, names: readonly string[]): Record<string, number> {
  const all = proc_counters(m)
  const o: Record<string, number> = {}
  for (const n of names) o[n] = all.get(n) ?? NaN
  return o
}

/** The names of every counter a machine offers (to check `--counters` against). */
export function counter_names(m: Machine): string[] {
  return [...proc_counters(m).keys()]
}
