/**
 * Every example in README.md and docs/*.md is executed: this file finds
 * every fenced block and fails for one no test runs. Commands (`$ mmsim
 * ...`, `mmsim ...`, `npx mmsim ...`, `printf ... | mmsim shell`) run and
 * exit 0, and the output shown under a `$` line is what they print (`...`
 * stands for lines left out); YAML scenarios and step fragments run; replay
 * JSON replays; TypeScript fragments that need a machine run with the
 * setup their prose describes; output excerpts shown without a command are
 * found in the output of the command the prose names. The README's
 * library examples (`import ... from 'mmsim'`) are compiled and run from
 * the packed package by readme_examples.test.ts, which also checks the
 * fork-cow output; the `--explain` excerpt is checked by
 * test/cli/explain.test.ts. The few blocks not run say why below.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { mmsim, mmsim_piped } from '../cli/helpers.js'
import * as lib from '../../src/index.js'
import { badmap_module } from '../../examples/drivers/badmap.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// typescript is CommonJS: require() loads it; an ESM import first scans its 9 MB for the
// names it exports (cjs-module-lexer), ~0.4 s of CPU for transpileModule alone.
const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript')
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-docs-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

interface Block {
  file: string
  line: number
  lang: string
  text: string
}

const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const blocks: Block[] = FILES.flatMap((file) => {
  const src = readFileSync(join(ROOT, file), 'utf8')
  return [...src.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ file, line: src.slice(0, m.index).split('\n').length, lang: m[1], text: m[2] }))
})
const name = (b: Block): string => `${b.file}:${b.line}`
const first = (b: Block): string => b.text.split('\n')[0]

/** Blocks run elsewhere or not runnable, each with the reason. */
const NOT_HERE: { file: string; first: RegExp; why: string }[] = [
  { file: 'README.md', first: /^npm ci && npm start/, why: 'the install and the whole test suite (CI runs exactly these)' },
  { file: 'README.md', first: /^parent: spawn\("parent"\) = 100$/, why: 'checked against the packed package by readme_examples.test.ts' },
  { file: 'README.md', first: /^child: store\(/, why: 'the --explain excerpt, checked by test/cli/explain.test.ts' },
  { file: 'docs/explain.md', first: /^ {2}\| KIND: TEXT$/, why: 'the format of a line, not an example; test/cli/explain.test.ts checks every line has it' },
  { file: 'docs/exercises.md', first: /^mmsim exercise TOPIC \[/, why: 'the synopsis; the commands below it in the same file run here' },
]
const not_here = (b: Block): string | undefined => NOT_HERE.find((n) => n.file === b.file && n.first.test(first(b)))?.why

/** The commands of a shell-like block, each with the output shown under it. */
function commands(b: Block): { cmd: string; shown: string[] }[] {
  const out: { cmd: string; shown: string[] }[] = []
  for (const l of b.text.split('\n')) {
    const c = /^(?:\$ )?(?:npx )?(mmsim .*|printf .*\| mmsim .*)$/.exec(l)
    if (c && (l.startsWith('$ ') || b.lang === 'sh' || !out.length)) out.push({ cmd: c[1].replace(/\s+#.*$/, '').trim(), shown: [] })
    else if (out.length) out[out.length - 1].shown.push(l)
  }
  for (const c of out) while (c.shown.length && c.shown[c.shown.length - 1] === '') c.shown.pop()
  return out
}

/** Split a command line as sh would (single and double quotes, no expansions). */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3])
}

/** `shown` (with `...` for omitted lines) appears in `out`: its runs of lines consecutively, in order. */
function shows(out: string, shown: string[]): void {
  const lines = out.split('\n')
  let at = 0
  const runs: string[][] = [[]]
  for (const l of shown) {
    if (l === '...') runs.push([])
    else runs[runs.length - 1].push(l)
  }
  for (const run of runs.filter((r) => r.length)) {
    let i = lines.indexOf(run[0], at)
    while (i >= 0 && !run.every((l, k) => lines[i + k] === l)) i = lines.indexOf(run[0], i + 1)
    expect(i, `the lines from ${JSON.stringify(run[0])} on, in:\n${out}`).toBeGreaterThanOrEqual(0)
    at = i + run.length
  }
}

/** Output files a command names (--trace out.json) go to the temporary directory. */
const OUT_FLAGS = new Set(['--trace', '--ftrace', '--counters', '--svg'])

async function run_command(cmd: string): Promise<string> {
  // `printf '...' | mmsim ...`: the printf's text is the command's standard input, as from a pipe
  // (test/scenario/shell.test.ts runs the built command on a real one).
  const piped = /^printf '([^']*)' \| (mmsim .*)$/.exec(cmd)
  const args = argv(piped ? piped[2] : cmd).slice(1)
  for (let i = 0; i < args.length; i++) {
    if (OUT_FLAGS.has(args[i - 1]) && !args[i].startsWith('/')) args[i] = join(tmp, args[i])
    else if (/^(examples|lessons|test)\//.test(args[i])) args[i] = join(ROOT, args[i])
  }
  const r = piped ? await mmsim_piped(piped[1].replace(/\\n/g, '\n'), ...args) : await mmsim(...args)
  expect(r.stderr, cmd).toBe('')
  expect(r.status, cmd).toBe(0)
  return r.stdout
}

/** The 35M-reference trace of ../shared is not in the repository (npm test runs without ../shared). */
const SHARED_TRACE = /python3_pywork5000_pages\.csv\.zst/
/** A synopsis line (`mmsim exercise TOPIC [--seed N] ...`), not a command. */
const SYNOPSIS = /\[|[A-Z]{3,}/

/** Output excerpts shown without their command: the command the prose names. */
const EXCERPTS: { file: string; first: RegExp; cmd: string }[] = [
  { file: 'README.md', first: /^parent: fork\(\) = 101$/, cmd: 'mmsim lesson cow' },
  { file: 'docs/explain.md', first: /^cpus=2$/, cmd: '' },
]

/** TypeScript fragments of the prose: the setup the surrounding text describes, and what the comments promise. */
const FRAGMENTS: { file: string; first: RegExp; setup: string; after_line?: number; then: string }[] = [
  {
    file: 'README.md',
    first: /^import \{ badmap_module \} from '\.\/examples\/drivers\/badmap\.js'$/,
    setup: "const m = new Machine({ ram: '64M', seed: 1 }); const p = m.spawn({ uid: 0 })",
    then: "if (!/mmsim driver check: badmap: remap_pfn_range maps pfn 0x[0-9a-f]+ .*past the end of its own allocation.*\\[S-A2\\]/.test(m.dmesg())) throw new Error(m.dmesg())",
  },
  {
    file: 'README.md',
    first: /^m\.insmod\('scull'\)$/,
    setup: "const m = new Machine({ ram: '64M', seed: 1 }); const reader = m.spawn({ name: 'reader' }), writer = m.spawn({ name: 'writer' })\n" +
      'const rbuf = reader.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS); const wbuf = writer.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)\n' +
      "writer.store(wbuf, new TextEncoder().encode('hello'))",
    after_line: 1,
    then: 'if (s.result !== 5) throw new Error(`the woken read returned ${String(s.result)}`)',
  },
  {
    file: 'docs/drivers.md',
    first: /^\/\/ Users of group staff/,
    setup: "const m = new Machine({ ram: '64M', seed: 1 }); m.insmod('scull')",
    then: "if (typeof s.result !== 'number' || s.result < 0) throw new Error(`the woken open returned ${String(s.result)}`)",
  },
]

// The writer's line of the scullpipe fragment needs `w`, opened after the module is loaded.
const LATE_SETUP: Record<string, string> = {
  "m.insmod('scull')": "const w = writer.open('/dev/scullpipe0', O_WRONLY)",
}

function run_fragment(b: Block, f: (typeof FRAGMENTS)[number]): void {
  const body = b.text.split('\n').filter((l) => !l.startsWith('import '))
  if (f.after_line !== undefined) body.splice(f.after_line, 0, LATE_SETUP[body[f.after_line - 1]] ?? '')
  const src = `${f.setup}\n${body.join('\n')}\n${f.then}\n`
  const js = ts.transpileModule(src, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
  const scope: Record<string, unknown> = { ...lib, badmap_module }
  // The names the library exports, plus the example driver the README imports.
  const fn = new Function(...Object.keys(scope), js) as (...a: unknown[]) => void
  fn(...Object.values(scope))
}

describe('every example in README.md and docs/', () => {
  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(25)
    expect(FILES).toContain('docs/scenarios.md')
  })

  it.each(blocks.map((b) => [name(b), b] as const))('%s runs', async (_n, b) => {
    const why = not_here(b)
    if (why) {
      expect(why.length).toBeGreaterThan(10)
      return
    }
    if (b.lang === 'ts') {
      if (b.file === 'README.md' && /^import [^\n]* from 'mmsim'$/m.test(b.text)) return // readme_examples.test.ts
      const f = FRAGMENTS.find((x) => x.file === b.file && x.first.test(first(b)))
      expect(f, `${name(b)}: a TypeScript fragment no test runs; add its setup to FRAGMENTS`).toBeDefined()
      run_fragment(b, f!)
      return
    }
    if (b.lang === 'yaml') {
      // A whole scenario, or a fragment of steps (it runs after a process is spawned).
      const text = /^steps:/m.test(b.text) ? b.text : `steps:\n  - spawn: a\n${b.text.replace(/^/gm, '  ')}`
      const path = join(tmp, `${b.file.replace(/\W/g, '_')}_${b.line}.yaml`)
      writeFileSync(path, text)
      await run_command(`mmsim run ${path}`)
      // The README shows examples/fork-cow.yaml without its description and comments: the file has every line, in order.
      if (b.file === 'README.md') {
        const file = readFileSync(join(ROOT, 'examples/fork-cow.yaml'), 'utf8').split('\n')
        let at = 0
        for (const l of b.text.trimEnd().split('\n')) {
          at = file.indexOf(l, at) + 1
          expect(at, `examples/fork-cow.yaml has ${JSON.stringify(l)}`).toBeGreaterThan(0)
        }
      }
      return
    }
    if (b.lang === 'json') {
      const path = join(tmp, `${b.file.replace(/\W/g, '_')}_${b.line}.json`)
      writeFileSync(path, b.text)
      expect((await run_command(`mmsim replay ${path}`)).trim().startsWith('{')).toBe(true)
      return
    }
    const cmds = commands(b)
    if (cmds.length === 0) {
      const ex = EXCERPTS.find((x) => x.file === b.file && x.first.test(first(b)))
      expect(ex, `${name(b)}: an output excerpt without its command; add it to EXCERPTS`).toBeDefined()
      if (ex!.cmd) shows(await run_command(ex!.cmd), b.text.trimEnd().split('\n'))
      else {
        // The ftrace sample: a fork-cow run's ftrace text has its header and a line of the same shape.
        const out = join(tmp, 'sample.txt')
        await run_command(`mmsim run examples/fork-cow.yaml --ftrace ${out}`)
        const text = readFileSync(out, 'utf8').split('\n')
        const [head, sample] = b.text.trimEnd().split('\n')
        expect(text[0]).toBe(head)
        const shape = (l: string): string => l.replace(/^ *\S+-\d+ /, 'TASK-PID ').replace(/gfp_flags=\S+/, 'gfp_flags=G').replace(/\b0x[0-9a-f]+\b/g, 'H').replace(/\d+/g, 'N').replace(/ +/g, ' ')
        expect(text.map(shape)).toContain(shape(sample))
      }
      return
    }
    let ran = 0
    for (const { cmd, shown } of cmds) {
      if (SHARED_TRACE.test(cmd) || SYNOPSIS.test(cmd.replace(/'[^']*'/g, ''))) continue
      const out = await run_command(cmd)
      ran++
      if (shown.length) shows(out, shown)
    }
    expect(ran, `${name(b)}: no command of the block ran`).toBeGreaterThan(0)
  }, 120_000)
})
