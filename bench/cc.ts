/**
 * Running the bench's helpers: the node children that measure the simulator
 * in a fresh process each, and our C programs that measure the real kernel
 * (compiled here with the system's `cc -O2`, once per run; without a
 * working compiler the real kernel's numbers are left out, not the run).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Runs dist/bench/<script> in a fresh node process; its one line of JSON, parsed. */
export function run_child<T>(script: string, args: readonly (string | number)[]): T {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url))
  return JSON.parse(execFileSync(process.execPath, [file, ...args.map(String)], { encoding: 'utf8' })) as T
}

let dir: string | null = null
const exes = new Map<string, string | null>()

/** bench/<name>.c compiled (once per run) into a temporary directory removed at exit; null when cc fails. */
export function compiled(name: string): string | null {
  let exe = exes.get(name)
  if (exe !== undefined) return exe
  if (!dir) {
    const d = mkdtempSync(join(tmpdir(), 'mmsim-bench-'))
    process.on('exit', () => rmSync(d, { recursive: true, force: true }))
    dir = d
  }
  exe = join(dir, name)
  try {
    execFileSync('cc', ['-O2', '-o', exe, fileURLToPath(new URL(`../../bench/${name}.c`, import.meta.url))], { stdio: 'ignore' })
  } catch {
    exe = null
  }
  exes.set(name, exe)
  return exe
}

/** Runs our C program bench/<name>.c with `args`; its one line of JSON, or null when it cannot be built or fails. */
export function run_real<T>(name: string, args: readonly (string | number)[]): T | null {
  const exe = compiled(name)
  if (!exe) return null
  try {
    return JSON.parse(execFileSync(exe, args.map(String), { encoding: 'utf8' })) as T
  } catch {
    return null
  }
}
