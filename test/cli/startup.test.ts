/**
 * What the `mmsim` command loads at start-up (src/cli/main.ts loads each
 * command's module when the command runs): help and usage errors load no
 * kernel, `mmsim proc` no scenario parser (zod, yaml), `mmsim trace` no
 * machine. Every process start of the command pays for what it loads
 * (compiling and resolving ~300 modules was ~0.5 s of CPU), so an eager
 * import that comes back fails here, by name, rather than as a slower suite.
 *
 * The built command runs with a preload (--import) that connects an
 * inspector session in the command's own thread and records the URL of
 * every script V8 compiles (Debugger.scriptParsed: each module loaded, ES
 * or CommonJS, also one a CommonJS module require()s, is compiled before
 * it runs), written to a file at exit. An ESM loader hook (module.register)
 * sees the same ES modules, but its hooks thread doubled the CPU of the
 * start-up under test (~0.3 s of a proc command's 0.3 s).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The command as tsc built it, one file per module (the bundled dist/bin follows the same lazy imports: the last test). */
const BIN = join(ROOT, 'dist/src/cli/mmsim.js')
const BUNDLED = join(ROOT, 'dist/bin/mmsim.js')
const FIXTURE = join(ROOT, 'test/fixtures/traces/pywork5000_34000001-34005000.csv.zst')
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-startup-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** The preload: scripts parsed before Debugger.enable are reported by it too; the exit handler runs on process.exit() and on a throw. */
const RECORD = (log: string): string => `import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
const urls = []
const session = new Session()
session.connect()
session.on('Debugger.scriptParsed', (m) => urls.push(m.params.url))
session.post('Debugger.enable')
process.on('exit', () => writeFileSync(${JSON.stringify(log)}, urls.join('\\n') + '\\n'))`

let runs = 0
/** The file: URLs `mmsim ...args` loads, relative to the repository ('dist/src/...', 'node_modules/...'), and its exit status. */
function loaded(args: string[], bin = BIN): { status: number | null; stderr: string; files: string[] } {
  const log = join(tmp, `modules-${++runs}.txt`)
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(RECORD(log))}`, bin, ...args], { encoding: 'utf8' })
  // node:internal scripts have no scheme; a CommonJS module's URL is file: as an ES module's is.
  const files = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u).slice(ROOT.length).replace(/^\//, ''))
  return { status: r.status, stderr: r.stderr, files }
}

const under = (files: string[], ...prefixes: string[]): string[] => files.filter((f) => prefixes.some((p) => f.startsWith(p)))
const PARSERS = ['node_modules/zod/', 'node_modules/yaml/', 'dist/src/scenario/']
const KERNEL = ['dist/src/machine.js', 'dist/src/kernel/', 'dist/src/user/', 'dist/src/drivers/']

describe('what the mmsim command loads', () => {
  it('--help: the usage and /proc\'s table of files, no kernel, no scenario parser, no trace reader', () => {
    const r = loaded(['--help'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.files).toContain('dist/src/cli/main.js')
    expect(r.files).toContain('dist/src/fs/proc/root.js')
    expect(under(r.files, ...KERNEL, ...PARSERS, 'dist/src/trace/', 'dist/src/oracle/', 'node_modules/')).toEqual([])
  })

  it('a usage error: a dozen modules', () => {
    const r = loaded(['proc'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^mmsim: proc: expected one path/)
    expect(under(r.files, ...KERNEL, ...PARSERS, 'dist/src/fs/proc/root.js', 'node_modules/')).toEqual([])
    expect(r.files.length).toBeLessThan(20)
  })

  it('proc: the machine, no scenario parser, oracle, trace reader or exercise topics', () => {
    const r = loaded(['proc', '/proc/meminfo'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.files).toContain('dist/src/machine.js')
    expect(under(r.files, ...PARSERS, 'dist/src/oracle/', 'dist/src/trace/', 'dist/src/exercise/topics.js', 'node_modules/')).toEqual([])
  })

  it('trace with a policy of its own: the trace reader and zstd, no machine, no scenario parser', () => {
    const r = loaded(['trace', FIXTURE, '--policy', 'lru', '--frames', '16'])
    expect(r.status, r.stderr).toBe(0)
    expect(r.files).toContain('dist/src/trace/simulate.js')
    expect(r.files.some((f) => f.startsWith('node_modules/zstddec/'))).toBe(true)
    expect(under(r.files, ...KERNEL, ...PARSERS, 'dist/src/mm/vmscan.js')).toEqual([])
  })

  it('the bundled command (the package\'s bin) keeps the split: help does not load the chunk holding the machine, proc does', () => {
    const chunks = readdirSync(join(ROOT, 'dist/bin')).filter((f) => f.endsWith('.js'))
    const machine = chunks.filter((f) => /^var Machine = class /m.test(readFileSync(join(ROOT, 'dist/bin', f), 'utf8'))).map((f) => `dist/bin/${f}`)
    expect(machine.length).toBe(1)
    const help = loaded(['--help'], BUNDLED)
    const proc = loaded(['proc', '/proc/meminfo'], BUNDLED)
    expect(help.status, help.stderr).toBe(0)
    expect(proc.status, proc.stderr).toBe(0)
    expect(help.files).not.toContain(machine[0])
    expect(proc.files).toContain(machine[0])
    // The project's code only: zod, yaml and zstddec stay packages, which neither command loads.
    expect([...help.files, ...proc.files].filter((f) => !f.startsWith('dist/bin/'))).toEqual([])
  })
})
