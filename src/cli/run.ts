/**
 * `mmsim run FILE.yaml [--json]`: load a scenario file (docs/scenarios.md),
 * run it on a fresh machine and print one strace-like line per step (with
 * the text of each /proc file, pmap or dmesg after its line), or with
 * --json one JSON array of the step records. Exit status: 0 when every
 * step ran and every expect: held; 1 when an expect: failed or the
 * simulated kernel hit a broken invariant; 2 for a malformed file (one
 * line naming file, line and column).
 */
import { readFileSync } from 'node:fs'
import { KernelBug } from '../include/bug.js'
import { load_scenario, ScenarioFileError } from '../scenario/load.js'
import { run_scenario, record_line, record_json, ScenarioExpectError, type StepRecord } from '../scenario/run.js'
import { ScenarioRunError } from '../scenario/values.js'
import { MachineConfigError } from '../machine.js'
import type { MachineSpec } from '../scenario/schema.js'
import type { z } from 'zod'

type MachineSpecT = z.infer<typeof MachineSpec>

function to_json(records: StepRecord[]): string {
  return JSON.stringify(records.map(record_json), null, 1)
}

export function run_command(path: string, json: boolean, out: (s: string) => void, err: (s: string) => void, machine: Partial<MachineSpecT> = {}): number {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (e) {
    err(`mmsim: run: cannot read ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`)
    return 2
  }
  const records: StepRecord[] = []
  const emit = (r: StepRecord): void => {
    if (json) {
      records.push(r)
      return
    }
    out(record_line(r))
    if (r.text !== undefined) out(r.text.replace(/\n$/, ''))
  }
  try {
    const sc = load_scenario(text, path)
    run_scenario({ ...sc, machine: { ...sc.machine, ...machine } }, emit)
    if (json) out(to_json(records))
    return 0
  } catch (e) {
    if (json && records.length) out(to_json(records))
    if (e instanceof ScenarioFileError || e instanceof ScenarioRunError || e instanceof MachineConfigError) {
      err(`mmsim: run: ${e.message}`)
      return 2
    }
    if (e instanceof ScenarioExpectError) {
      err(`mmsim: run: ${e.message}`)
      return 1
    }
    if (e instanceof KernelBug) {
      err(`mmsim: run: kernel BUG: ${e.message}`)
      return 1
    }
    throw e
  }
}
