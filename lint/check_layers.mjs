#!/usr/bin/env node
/**
 * The layer rule of docs/ARCHITECTURE.md, enforced: every import in src/
 * (type-only imports and re-exports included) must point to the same layer
 * or a lower one, and no files may import each other in a circle.
 *
 *   node lint/check_layers.mjs          # prints each violation, exit status 1 if any
 *
 * A file's layer is the one of the longest prefix in LAYERS that names it.
 * A dynamic import('./x.js') (the CLI loads each command's module when it
 * runs) and a type's import('./x.js').T count as imports too: loading
 * later does not make an upward import right. An import() of a computed
 * path is a problem of its own, as the rule could not follow it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** @typedef {Map<string, string[]>} Graph a repository path -> the repository paths it imports */

/**
 * Lowest first. Same rank: the same layer (imports both ways allowed, cycles are not).
 * @type {[string, number][]}
 */
export const LAYERS = [
  ['src/include/', 0],
  ['src/arch/', 1],
  ['src/hw/', 2],
  ['src/arch/x86/', 3],
  ['src/mm/', 4],
  ['src/fs/', 5],
  ['src/drivers/', 6],
  ['src/kernel/', 7],
  ['src/fs/proc/', 8],
  ['src/user/', 9],
  ['src/machine.ts', 10],
  ['src/machine_config.ts', 10],
  ['src/oracle/', 11],
  ['src/scenario/', 11],
  ['src/trace/', 11],
  ['src/exercise/', 11],
  ['src/index.ts', 12],
  ['src/cli/', 13],
  ['src/web/', 13],
]

/**
 * The layer of a repository path, or null when the rule does not cover it.
 * @param {string} path
 * @returns {[string, number] | null}
 */
export function layer_of(path) {
  /** @type {[string, number] | null} */
  let best = null
  for (const [prefix, rank] of LAYERS) {
    if ((path === prefix || path.startsWith(prefix)) && (!best || prefix.length > best[0].length)) best = [prefix, rank]
  }
  return best
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

/**
 * The relative imports of a source text (static, dynamic and in types), as
 * repository paths of .ts files.
 * @param {string} path
 * @param {string} text
 * @returns {string[]}
 */
export function imports_of(path, text) {
  const out = []
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]
    out.push(join(dirname(path), spec).replace(/\.js$/, '.ts'))
  }
  if (COMPUTED_IMPORT.test(text)) out.push(COMPUTED)
  return out
}

/** An import() whose path is not a string literal. */
const COMPUTED_IMPORT = /\bimport\(\s*[^'"\s)]/
/** What imports_of() lists for one. */
export const COMPUTED = '<import() of a computed path>'

/**
 * Violations of a graph (path -> imported paths): imports that run up the
 * layers, and circles (strongly connected components of more than one file,
 * or a file importing itself).
 * @param {Graph} graph
 * @returns {string[]}
 */
export function check_graph(graph) {
  /** @type {string[]} */
  const problems = []
  for (const [from, tos] of graph) {
    const lf = layer_of(from)
    for (const to of tos) {
      if (to === COMPUTED) {
        problems.push(`${from}: import() of a computed path, which the layer rule cannot follow`)
        continue
      }
      const lt = layer_of(to)
      if (lf && lt && lt[1] > lf[1]) problems.push(`${from} imports ${to}: ${lt[0]} is above ${lf[0]}`)
    }
  }
  // Tarjan's strongly connected components.
  let index = 0
  /** @type {Map<string, number>} */
  const idx = new Map()
  /** @type {Map<string, number>} */
  const low = new Map()
  /** @type {Set<string>} */
  const on = new Set()
  /** @type {string[]} */
  const stack = []
  /** @param {string} v */
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(Number(low.get(v)), Number(low.get(w)))) }
      else if (on.has(w)) low.set(v, Math.min(Number(low.get(v)), Number(idx.get(w))))
    }
    if (low.get(v) === idx.get(v)) {
      /** @type {string[]} */
      const scc = []
      /** @type {string | undefined} */
      let w
      do { w = /** @type {string} */ (stack.pop()); on.delete(w); scc.push(w) } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) problems.push(`import cycle: ${scc.sort().join(' -> ')}`)
    }
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v)
  return problems
}

/**
 * @param {string} dir
 * @returns {string[]}
 */
function ts_files(dir) {
  /** @type {string[]} */
  const out = []
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...ts_files(p))
    else if (p.endsWith('.ts')) out.push(p)
  }
  return out
}

/**
 * The import graph of the repository's src/.
 * @param {string} root
 * @returns {Graph}
 */
export function src_graph(root) {
  /** @type {Graph} */
  const graph = new Map()
  for (const abs of ts_files(join(root, 'src'))) {
    const path = relative(root, abs)
    graph.set(path, imports_of(path, readFileSync(abs, 'utf8')))
  }
  return graph
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const problems = check_graph(src_graph(root))
  for (const p of problems) console.log(p)
  if (problems.length) {
    console.log(`${problems.length} layer problem(s): see docs/ARCHITECTURE.md`)
    process.exit(1)
  }
  console.log('layers: ok')
}
