/**
 * The README's examples, run as a user of the published package runs them:
 * `npm pack` makes the tarball npm would publish, unpacked into a fresh
 * project's node_modules/mmsim (its dependencies linked from this clone's
 * node_modules: offline, seconds); every ```ts block that imports 'mmsim'
 * is compiled with strict TypeScript against the package's own .d.ts files
 * and run with node, and `mmsim run examples/fork-cow.yaml` through the
 * package's bin prints what the README shows.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]).filter((b) => /^import [^\n]* from 'mmsim'$/m.test(b))
let proj = ''
/** node -e program: import each file named on the command line in order; a throw names its file and exits 1. */
const RUN_ALL = `import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
const ran = []
for (const f of process.argv.slice(1)) {
  try { await import(pathToFileURL(f).href) } catch (e) { process.stderr.write(basename(f) + ': ' + (e?.stack ?? e) + '\\n'); process.exit(1) }
  ran.push(basename(f))
}
console.log('ran ' + ran.join(' '))`

beforeAll(() => {
  proj = mkdtempSync(join(tmpdir(), 'mmsim-user-'))
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', proj], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!
  const nm = join(proj, 'node_modules')
  mkdirSync(nm)
  execFileSync('tar', ['-xzf', join(proj, packed), '-C', nm])
  renameSync(join(nm, 'package'), join(nm, 'mmsim'))
  const pkg = JSON.parse(readFileSync(join(nm, 'mmsim', 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  for (const dep of [...Object.keys(pkg.dependencies), '@types']) symlinkSync(join(root, 'node_modules', dep), join(nm, dep))
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module', dependencies: { mmsim: '0.1.0' } }))
  // A Node project's settings: the ES library and @types/node, no DOM (which the target's default
  // lib adds). The package's types must stand on those alone, and tsc parses 40,000 fewer lines.
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: ['node'], outDir: 'out', skipLibCheck: true },
    include: ['ex*.ts'],
  }))
  blocks.forEach((b, i) => writeFileSync(join(proj, `ex${i + 1}.ts`), b))
}, 60_000)

afterAll(() => {
  if (proj) rmSync(proj, { recursive: true, force: true })
})

describe('README examples against the packed package', () => {
  it('the library examples type-check under strict TypeScript and run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5)
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', proj], { encoding: 'utf8' })
    expect(tsc.stdout + tsc.stderr, 'tsc').toBe('')
    expect(tsc.status).toBe(0)
    const out = readdirSync(join(proj, 'out')).filter((f) => f.endsWith('.js')).sort()
    expect(out.length).toBe(blocks.length)
    // One node runs them all, each imported (so run) in turn: the examples are independent
    // scripts (each builds its own Machine and touches no global), so this is what five
    // `node exN.js` would do, without four more start-ups of node and of the package.
    // A throw stops the run with the example's name. The bin test below is the separate
    // end-to-end process start.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', RUN_ALL, ...out.map((f) => join(proj, 'out', f))], { cwd: proj, encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout.trimEnd().split('\n').pop()).toBe(`ran ${out.join(' ')}`)
  }, 60_000)

  it('ships no source map whose sources the package lacks (src/ is not published: such a map only misleads a debugger)', () => {
    const pkg = join(proj, 'node_modules/mmsim')
    const files = readdirSync(pkg, { recursive: true, encoding: 'utf8' })
    expect(files.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(100)
    const missing = files.filter((f) => f.endsWith('.map')).flatMap((f) => {
      const map = JSON.parse(readFileSync(join(pkg, f), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] }
      return map.sources.filter((src, i) => !map.sourcesContent?.[i] && !existsSync(join(pkg, dirname(f), src))).map((src) => `${f}: ${src}`)
    })
    expect(missing).toEqual([])
  })

  it('`mmsim run examples/fork-cow.yaml` through the package\'s bin prints the README\'s lines', () => {
    const shown = /`npx mmsim run examples\/fork-cow.yaml` prints\n\n```\n([\s\S]*?)```/.exec(readme)![1].split('\n').filter((l) => l && l !== '...')
    expect(shown.length).toBeGreaterThan(3)
    const pkg = join(proj, 'node_modules/mmsim')
    const bin = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: { mmsim: string } }).bin.mmsim
    const r = spawnSync(process.execPath, [join(pkg, bin), 'run', join(root, 'examples/fork-cow.yaml')], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    const lines = r.stdout.split('\n')
    for (const l of shown) expect(lines).toContain(l)
  })
})
