/**
 * Tracepoints (Kernel: include/trace/events/*.h) and explanations.
 *
 * A trace event has the kernel's tracepoint name and a preformatted
 * ftrace-style text, so consumers can print it as `name: text` like
 * /sys/kernel/tracing/trace does.
 *
 * An explanation (mmsim's own, no kernel counterpart) is one line saying
 * why the kernel decided what it did: which free list a block came from,
 * which merge rule joined two VMAs, why a fault was major. Its name is the
 * kind of decision (EXPLAIN_KINDS). Callers guard the call with the
 * `explaining` field so a hot path pays one load and one branch when
 * nobody listens; the text is only computed when someone does.
 */
export interface TraceEvent {
  readonly ts_ns: number
  readonly cpu: number
  /** The running task (comm and pid; 'swapper' 0 outside any task), as ftrace records it. */
  readonly comm: string
  readonly pid: number
  readonly name: string
  readonly text: string
}

export type TraceListener = (e: TraceEvent) => void

/** The kinds of decision an explanation line names (docs/explain.md). */
export const EXPLAIN_KINDS = ['page_alloc', 'page_free', 'vma_merge', 'pgtable', 'fault', 'cow', 'slab', 'reclaim'] as const
export type ExplainKind = (typeof EXPLAIN_KINDS)[number]

const IDLE = ['swapper', 0] as const

export class Tracer {
  private listeners: TraceListener[] = []
  private explainers: TraceListener[] = []
  /** True while someone listens to explanations (a plain field: the hot-path test). */
  explaining = false
  now: () => number = () => 0
  cpu: () => number = () => 0
  /** The running task's comm and pid. */
  task: () => readonly [string, number] = () => IDLE

  get enabled(): boolean {
    return this.listeners.length !== 0
  }
  on(l: TraceListener): () => void {
    this.listeners.push(l)
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l)
    }
  }
  /** Emit an event; `text` is only computed when someone listens. */
  emit(name: string, text: () => string): void {
    if (this.listeners.length === 0) return
    const [comm, pid] = this.task()
    const e: TraceEvent = { ts_ns: this.now(), cpu: this.cpu(), comm, pid, name, text: text() }
    for (const l of this.listeners) l(e)
  }

  /** Listen to explanations; returns the function that stops listening. */
  on_explain(l: TraceListener): () => void {
    this.explainers.push(l)
    this.explaining = true
    return () => {
      this.explainers = this.explainers.filter((x) => x !== l)
      this.explaining = this.explainers.length !== 0
    }
  }
  /** One explanation line of the given kind; `text` is only computed when someone listens. */
  explain(kind: ExplainKind, text: () => string): void {
    if (!this.explaining) return
    const [comm, pid] = this.task()
    const e: TraceEvent = { ts_ns: this.now(), cpu: this.cpu(), comm, pid, name: kind, text: text() }
    for (const l of this.explainers) l(e)
  }
}
