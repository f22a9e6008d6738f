/**
 * A scenario run's records as files other tools read (docs/explain.md):
 *
 * - Chrome trace JSON (Perfetto, chrome://tracing): an object with
 *   `traceEvents`; simulated time in microseconds since boot; one track
 *   (tid) per CPU of one process (pid 1, the machine); each step a
 *   complete slice ("X") on the CPU it ran on, each tracepoint event an
 *   instant ("i", thread scope) with its fields as args, each explanation
 *   an instant of category `explain`.
 * - ftrace text as `trace-cmd report` prints it:
 *   `           a-100   [000]     0.000123: mm_page_alloc:        page=...`
 * - counters as CSV: one row per step, the counters a run read after it.
 */
import type { StepRecord } from './run.js'
import { record_line } from './run.js'

/** A Chrome trace event (the subset of the format mmsim writes). */
export interface ChromeEvent {
  name: string
  cat?: string
  ph: 'X' | 'i' | 'M'
  ts: number
  dur?: number
  s?: 't'
  pid: number
  tid: number
  args?: Record<string, unknown>
}

/** The machine is one process of the trace. */
const PID = 1

/** ns -> µs, the unit of Chrome traces (fractions keep the ns). */
function us(ns: number): number {
  return ns / 1000
}

/** A tracepoint's text as args: its key=value fields (values as printed), and the text itself. */
export function trace_fields(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of text.matchAll(/(\w+)=(\S+)/g)) out[m[1]] = m[2]
  return out
}

/** The run's records as a Chrome trace object ({traceEvents, displayTimeUnit, otherData}). */
export function chrome_trace(records: readonly StepRecord[], cpus: number, meta: Record<string, string> = {}): { traceEvents: ChromeEvent[]; displayTimeUnit: 'ns'; otherData: Record<string, string> } {
  const ev: ChromeEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: 'mmsim machine' } }]
  for (let c = 0; c < cpus; c++) ev.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: c, args: { name: `CPU ${c}` } })
  const timed: ChromeEvent[] = []
  for (const r of records) {
    const t0 = r.t0_ns ?? 0
    const t1 = r.t1_ns ?? t0
    const cpu = r.cpu ?? 0
    const args: Record<string, unknown> = { step: r.step, line: r.line, op: r.op }
    if (r.ret !== undefined) args.ret = typeof r.ret === 'number' && (r.ret < 0 || r.ret >= 0x10000) ? `0x${(r.ret < 0 ? BigInt(r.ret) + (1n << 64n) : BigInt(r.ret)).toString(16)}` : r.ret
    if (r.errno) args.errno = r.errno
    if (r.signal) args.signal = r.signal.signal
    timed.push({ name: record_line(r), cat: 'step', ph: 'X', ts: us(t0), dur: us(t1 - t0), pid: PID, tid: cpu, args })
    // Explanations carry no timestamp of their own that matters: they sit at the step's start, in order.
    for (const x of r.explain ?? []) timed.push({ name: x.kind, cat: 'explain', ph: 'i', s: 't', ts: us(t0), pid: PID, tid: cpu, args: { text: x.text } })
    for (const e of r.events ?? []) {
      timed.push({ name: e.name, cat: 'tracepoint', ph: 'i', s: 't', ts: us(e.ts_ns), pid: PID, tid: e.cpu, args: { ...trace_fields(e.text), text: e.text, task: `${e.comm}-${e.pid}` } })
    }
  }
  // Time order (stable: a step's slice stays before the instants at its start), so every track's ts never decreases.
  timed.sort((a, b) => a.ts - b.ts)
  return { traceEvents: [...ev, ...timed], displayTimeUnit: 'ns', otherData: { generator: 'mmsim', clock: 'simulated ns since boot (src/hw/clock.ts)', ...meta } }
}

/** The run's tracepoint events as `trace-cmd report` text. */
export function ftrace_text(records: readonly StepRecord[], cpus: number): string {
  const lines = [`cpus=${cpus}`]
  for (const r of records) {
    for (const e of r.events ?? []) {
      const task = `${e.comm}-${e.pid}`.padStart(16)
      const cpu = String(e.cpu).padStart(3, '0')
      const secs = Math.floor(e.ts_ns / 1e9)
      const micros = String(Math.floor((e.ts_ns % 1e9) / 1e3)).padStart(6, '0')
      const ts = `${secs}.${micros}`.padStart(12)
      lines.push(`${task} [${cpu}] ${ts}: ${`${e.name}:`.padEnd(22)} ${e.text}`)
    }
  }
  return lines.join('\n') + '\n'
}

/** The counters read after each step, as CSV: step, line, op, time_ns, then one column per counter. */
export function counters_csv(records: readonly StepRecord[], names: readonly string[]): string {
  const rows = [['step', 'line', 'op', 'time_ns', ...names].join(',')]
  for (const r of records) {
    if (!r.counters) continue
    rows.push([r.step, r.line, r.op, r.t1_ns ?? 0, ...names.map((n) => r.counters?.[n] ?? '')].join(','))
  }
  return rows.join('\n') + '\n'
}
