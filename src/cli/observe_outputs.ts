/**
 * After a run of `mmsim run`, `mmsim shell` or a lesson: the files the
 * observation flags named (observe_flags.ts), written from the step records.
 */
import { writeFileSync } from 'node:fs'
import type { StepRecord } from '../scenario/run.js'
import { chrome_trace, counters_csv, ftrace_text } from '../scenario/trace_export.js'
import type { ObserveOutputs } from './observe_flags.js'

/** Write the files the flags named; an error message (one line) when one cannot be written. */
export function write_observe_outputs(outputs: ObserveOutputs, records: readonly StepRecord[], cpus: number, source: string): string | null {
  const write = (f: string, text: string): string | null => {
    try {
      writeFileSync(f, text)
      return null
    } catch (e) {
      return `cannot write ${f}: ${(e as { code?: string }).code ?? (e as Error).message}`
    }
  }
  if (outputs.chrome) {
    const r = write(outputs.chrome, JSON.stringify(chrome_trace(records, cpus, { source })) + '\n')
    if (r) return r
  }
  if (outputs.ftrace) {
    const r = write(outputs.ftrace, ftrace_text(records, cpus))
    if (r) return r
  }
  if (outputs.csv) {
    const r = write(outputs.csv, counters_csv(records, outputs.counter_names))
    if (r) return r
  }
  return null
}
