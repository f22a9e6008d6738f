/**
 * `mmsim shell [SCENARIO]`: the shell of src/scenario/shell.ts on a
 * terminal (a prompt, line editing, history, tab completion of commands)
 * or reading commands from a pipe (each command's output, no prompt).
 * A SCENARIO file's steps run first. Exit status 0 at `exit` or the end
 * of input; 2 when the scenario file is malformed.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Shell } from '../scenario/shell.js'
import { load_scenario, ScenarioFileError } from '../scenario/load.js'
import type { MachineSpec } from '../scenario/schema.js'
import type { z } from 'zod'
import type { RunOptions } from '../scenario/observe.js'
import type { ObserveOutputs } from './observe_flags.js'
import { write_observe_outputs } from './observe_outputs.js'

export async function shell_command(
  machine: z.infer<typeof MachineSpec>,
  scenario: string | undefined,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  out: (s: string) => void,
  err: (s: string) => void,
  observe?: { opts: RunOptions; outputs: ObserveOutputs },
): Promise<number> {
  if (observe) {
    const problem = write_observe_outputs(observe.outputs, [], 0, scenario ?? '<shell>')
    if (problem) {
      err(`mmsim: shell: ${problem}`)
      return 2
    }
  }
  let sh: Shell
  let cpus = machine.cpus ?? 2
  let n = 0
  if (scenario !== undefined) {
    let sc
    try {
      sc = load_scenario(readFileSync(scenario, 'utf8'), scenario)
    } catch (e) {
      if (!(e instanceof ScenarioFileError) && !(e as { code?: string }).code) throw e
      err(`mmsim: shell: ${e instanceof ScenarioFileError ? e.message : `cannot read ${scenario}: ${(e as { code?: string }).code}`}`)
      return 2
    }
    cpus = machine.cpus ?? sc.machine.cpus ?? 2
    sh = new Shell({ machine: { ...sc.machine, ...machine }, run: observe?.opts })
    for (const step of sc.steps) {
      const o = sh.step(step)
      if (o) out(o)
    }
  } else {
    sh = new Shell({ machine, run: observe?.opts })
  }
  const tty = input.isTTY === true
  const rl = createInterface({
    input,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    historySize: 1000,
    completer: (line: string): [string[], string] => sh.complete(line),
  })
  if (tty) {
    // Ctrl-C cancels the line being typed, as bash does (readline's default closes the interface).
    rl.on('SIGINT', () => {
      rl.write(null, { ctrl: true, name: 'e' })
      process.stdout.write('^C\n')
      rl.write(null, { ctrl: true, name: 'u' })
    })
    out('mmsim shell: type help for the commands, exit to leave')
    rl.setPrompt('mmsim> ')
    rl.prompt()
  }
  for await (const line of rl) {
    const o = sh.line(line, ++n)
    if (o) out(o)
    if (sh.done) break
    if (tty) rl.prompt()
  }
  // Ctrl-D (end of input) on a terminal: leave the parent's prompt on a line of its own.
  if (tty && !sh.done) out('')
  rl.close()
  if (observe) {
    const problem = write_observe_outputs(observe.outputs, sh.records, cpus, scenario ?? '<shell>')
    if (problem) {
      err(`mmsim: shell: ${problem}`)
      return 2
    }
  }
  return 0
}
