/**
 * vitest globalSetup: the tests run the compiled dist/src (vitest.config.ts
 * maps their src/ imports there), so dist must be up to date with src
 * before any test starts, whether the run came from `npm test` (whose
 * pretest has just built) or from `npx vitest`. When a source file or a
 * tsconfig is newer than the last build, run the incremental build (tsc -b)
 * here; a type error fails the run as it would fail `npm run build`.
 * The bundled command (dist/bin, which the CLI tests spawn as a user's
 * `mmsim` runs) is rebuilt when it is older than that build.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { OutputOptions, RolldownOptions } from 'rolldown'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Newest modification time (ms) of the .ts files under dir. */
function newest_ts(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`
    if (e.isDirectory()) t = Math.max(t, newest_ts(p))
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs)
  }
  return t
}

export default async function setup(): Promise<void> {
  const info = `${root}dist/tsconfig.tsbuildinfo`
  const built = existsSync(info) ? statSync(info).mtimeMs : 0
  const sources = Math.max(newest_ts(`${root}src`), newest_ts(`${root}bench`), statSync(`${root}tsconfig.json`).mtimeMs)
  if (sources > built) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-b', `${root}tsconfig.json`], { stdio: 'inherit' })
  }
  const bin = `${root}dist/bin/mmsim.js`
  const bundled = existsSync(bin) ? statSync(bin).mtimeMs : 0
  if (bundled > statSync(info).mtimeMs && bundled > statSync(`${root}rolldown.config.js`).mtimeMs) return
  const { rolldown } = await import('rolldown')
  const { default: config } = (await import(`${root}rolldown.config.js`)) as { default: RolldownOptions & { output: OutputOptions } }
  const bundle = await rolldown(config)
  await bundle.write(config.output)
  await bundle.close()
}
