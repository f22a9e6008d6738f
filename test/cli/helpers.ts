/**
 * Two ways to run the `mmsim` command in a test. `mmsim()` calls the
 * command's entry point, main(), in the test's own process, with stdout and
 * stderr collected as console.log/console.error would write them: the same
 * argument parsing, subcommands and exit codes, without a node start (~0.5 s
 * of CPU per spawn, most of it loading the modules a worker already has);
 * `mmsim_piped()` gives it a standard input, as a pipe would (`mmsim shell`).
 * `mmsim_spawned()` runs the built command as a user does; a few tests per
 * command keep it, so what only a real process shows (process.exitCode, a
 * piped stdin or stderr, the bin's own startup) stays tested end to end.
 */
import { spawnSync } from 'node:child_process'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { main } from '../../src/cli/main.js'

export interface CliResult {
  status: number
  stdout: string
  stderr: string
}

/** main(argv) in this process; each out()/err() line ends in '\n' as console.log writes it. */
export async function mmsim(...args: string[]): Promise<CliResult> {
  return run_main(args)
}

/** mmsim(...args) with `input` as its standard input, as from a pipe (not a terminal: no prompt). */
export async function mmsim_piped(input: string, ...args: string[]): Promise<CliResult> {
  return run_main(args, Readable.from([Buffer.from(input)]))
}

async function run_main(args: string[], input?: Readable): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const status = await main(args, (s) => (stdout += `${s}\n`), (s) => (stderr += `${s}\n`), input)
  return { status, stdout, stderr }
}

const bin = fileURLToPath(new URL('../../dist/bin/mmsim.js', import.meta.url))

/** The built command in a new node process (npm test builds first). */
export function mmsim_spawned(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
