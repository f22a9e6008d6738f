/**
 * `mmsim why pfn:N|0xADDR [--scenario FILE.yaml]`: what a page frame or an
 * address is on a freshly booted machine, or at the end of a scenario (its
 * last current process is the one user addresses refer to). Exit 2 with one
 * line for a malformed argument or scenario.
 */
import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { Shell } from '../scenario/shell.js'
import type { MachineSpec } from '../scenario/schema.js'

export async function why_command(what: string, machine: z.infer<typeof MachineSpec>, scenario: string | undefined, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (!/^(pfn:(0x[0-9a-fA-F]+|\d+)|0x[0-9a-fA-F]+|\d+)$/.test(what)) {
    err(`mmsim: why: '${what}' is not pfn:N or an address (0x...)`)
    return 2
  }
  let sh = new Shell({ machine })
  if (scenario !== undefined) {
    // The YAML reader only when there is a file to read.
    const { load_scenario, ScenarioFileError } = await import('../scenario/load.js')
    try {
      const sc = load_scenario(readFileSync(scenario, 'utf8'), scenario)
      sh = new Shell({ machine: { ...sc.machine, ...strip(machine) } })
      for (const s of sc.steps) sh.step(s)
    } catch (e) {
      if (!(e instanceof ScenarioFileError) && !(e as { code?: string }).code) throw e
      err(`mmsim: why: ${e instanceof ScenarioFileError ? e.message : `cannot read ${scenario}: ${(e as { code?: string }).code}`}`)
      return 2
    }
  }
  out(sh.line(`why ${what}`, 1))
  return 0
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
