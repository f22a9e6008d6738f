/**
 * `mmsim run FILE.yaml [--json] [--explain] [--trace FILE.json|.txt]
 * [--ftrace FILE.txt] [--counters FILE.csv]`: load a scenario file
 * (docs/scenarios.md), run it on a fresh machine and print one strace-like
 * line per step (its explanations indented under it with --explain, then
 * the text of each /proc file, pmap or dmesg), or with --json one JSON
 * array of the step records (with their explanations and, when a trace is
 * written, their tracepoint events). Exit status: 0 when every step ran
 * and every expect: held; 1 when an expect: failed or the simulated kernel
 * hit a broken invariant; 2 for a malformed file (one line naming file,
 * line and column) or an output file that cannot be written.
 */
import { readFileSync } from 'node:fs'
import { KernelBug } from '../include/bug.js'
import { load_scenario, ScenarioFileError } from '../scenario/load.js'
import { run_scenario, record_text, record_json, ScenarioExpectError, type StepRecord } from '../scenario/run.js'
import { ScenarioRunError } from '../scenario/values.js'
import { MachineConfigError } from '../machine.js'
import type { ObserveOutputs } from './observe_flags.js'
import { write_observe_outputs } from './observe_outputs.js'
import type { RunOptions } from '../scenario/observe.js'
import type { MachineSpec } from '../scenario/schema.js'
import type { z } from 'zod'

function to_json(records: StepRecord[]): string {
  return JSON.stringify(records.map(record_json), null, 1)
}

export interface RunCommandOptions {
  json: boolean
  run?: RunOptions
  outputs?: ObserveOutputs
  /** Machine options given on the command line: they override the scenario's own. */
  machine?: z.infer<typeof MachineSpec>
}

/** A scenario with a `title:` (a lesson) prints it and its description first. */
export function run_command(path: string, o: RunCommandOptions, out: (s: string) => void, err: (s: string) => void): number {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (e) {
    err(`mmsim: run: cannot read ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`)
    return 2
  }
  // An output file that cannot be written is a usage error, found before the run.
  if (o.outputs) {
    const problem = write_observe_outputs(o.outputs, [], 0, path)
    if (problem) {
      err(`mmsim: run: ${problem}`)
      return 2
    }
  }
  const records: StepRecord[] = []
  const emit = (r: StepRecord): void => {
    records.push(r)
    if (!o.json) out(record_text(r))
  }
  let cpus = 2
  // The files --trace/--counters name get what ran, also when the run stopped early.
  const finish = (): void => {
    if (o.json && records.length) out(to_json(records))
    if (o.outputs) {
      const problem = write_observe_outputs(o.outputs, records, cpus, path)
      if (problem) throw new Error(`mmsim: run: ${problem} (it was writable before the run)`)
    }
  }
  try {
    const sc = load_scenario(text, path)
    sc.machine = { ...sc.machine, ...o.machine }
    cpus = sc.machine.cpus ?? 2
    if (!o.json && sc.title !== undefined) {
      out(`== ${sc.title}`)
      if (sc.description !== undefined) out(sc.description.trim())
      out('')
    }
    run_scenario(sc, emit, o.run)
    if (o.json && !records.length) out('[]')
    finish()
    return 0
  } catch (e) {
    if (e instanceof ScenarioFileError || e instanceof ScenarioRunError || e instanceof MachineConfigError) {
      finish()
      err(`mmsim: run: ${e.message}`)
      return 2
    }
    if (e instanceof ScenarioExpectError) {
      finish()
      err(`mmsim: run: ${e.message}`)
      return 1
    }
    if (e instanceof KernelBug) {
      finish()
      err(`mmsim: run: kernel BUG: ${e.message}`)
      return 1
    }
    throw e
  }
}
