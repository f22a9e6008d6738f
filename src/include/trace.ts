/**
 * Tracepoints (Kernel: include/trace/events/*.h). An event has the kernel's
 * tracepoint name and a preformatted ftrace-style text, so consumers can
 * print it as `name: text` like /sys/kernel/tracing/trace does. Emitting
 * costs one branch when nobody listens.
 */
export interface TraceEvent {
  readonly ts_ns: number
  readonly cpu: number
  readonly name: string
  readonly text: string
}

export type TraceListener = (e: TraceEvent) => void

export class Tracer {
  private listeners: TraceListener[] = []
  now: () => number = () => 0
  cpu: () => number = () => 0

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
    const e: TraceEvent = { ts_ns: this.now(), cpu: this.cpu(), name, text: text() }
    for (const l of this.listeners) l(e)
  }
}
