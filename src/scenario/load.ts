/**
 * Loading a scenario file: YAML with positions (yaml's parseDocument and
 * LineCounter), then the schemas of schema.ts step by step, so that every
 * problem is reported as `FILE:LINE:COLUMN: what was expected`, the place
 * being the offending node itself.
 */
import { LineCounter, isMap, isScalar, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml'
import type { z } from 'zod'
import { MachineSpec, OP_NAMES, op_schema, type OpName } from './schema.js'
import { nearest } from './values.js'

/** A malformed scenario file; the message is one line, starting with file:line:column. */
export class ScenarioFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ScenarioFileError'
  }
}

export interface Step {
  op: OpName
  /** The arguments as the file wrote them, validated by op_schema(op). */
  args: unknown
  /** Where the step starts (1-based), for messages. */
  line: number
  col: number
  /** The step's `say:` line: what to look at in its output, printed after it. */
  say?: string
}

export interface Scenario {
  file: string
  /** A lesson's heading. */
  title?: string
  description?: string
  machine: z.infer<typeof MachineSpec>
  steps: Step[]
}

const TOP_KEYS = new Set(['title', 'description', 'machine', 'steps'])

/** Parse and validate a scenario's text; throws ScenarioFileError. */
export function load_scenario(text: string, file = '<scenario>'): Scenario {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true })
  const at = (offset: number): string => {
    const p = lc.linePos(offset)
    return `${file}:${p.line}:${p.col}`
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    throw new ScenarioFileError(`${at(e.pos[0])}: ${e.message.split('\n')[0]}`)
  }
  const root = doc.contents
  if (!isMap(root)) throw new ScenarioFileError(`${at(root?.range?.[0] ?? 0)}: expected a map with machine: and steps:`)
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '?'
    if (!TOP_KEYS.has(k)) throw new ScenarioFileError(`${at(node_offset(pair.key as YamlNode))}: unknown key '${k}' (expected title, description, machine, steps)`)
  }
  let js: Record<string, unknown>
  try {
    js = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>
  } catch (e) {
    // An alias without its anchor, or too many aliases: name the first alias that fails.
    let offset = 0
    visit(doc, {
      Alias(_, node) {
        if (node.resolve(doc) === undefined) {
          offset = node.range?.[0] ?? 0
          return visit.BREAK
        }
      },
    })
    throw new ScenarioFileError(`${at(offset)}: ${(e as Error).message.split('\n')[0]}`)
  }
  const where = (path: (string | number)[]): string => at(path_offset(doc, path))

  const description = js.description
  if (description !== undefined && typeof description !== 'string') throw new ScenarioFileError(`${where(['description'])}: expected text`)
  const title = js.title
  if (title !== undefined && typeof title !== 'string') throw new ScenarioFileError(`${where(['title'])}: expected text`)
  const machine = check(MachineSpec, js.machine ?? {}, ['machine'], where)

  const steps_node = doc.get('steps', true) as YamlNode | undefined
  if (!Array.isArray(js.steps)) throw new ScenarioFileError(`${steps_node ? where(['steps']) : at(0)}: expected steps: a list of steps`)
  const steps: Step[] = js.steps.map((raw: unknown, i: number): Step => {
    const path = ['steps', i]
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ScenarioFileError(`${where(path)}: expected a step, a one-key map like '- mmap: {len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS}'`)
    }
    const say = (raw as Record<string, unknown>).say
    if (say !== undefined && (typeof say !== 'string' || say === '')) throw new ScenarioFileError(`${where([...path, 'say'])}: say: expected one line of text`)
    const keys = Object.keys(raw).filter((k) => k !== 'say')
    if (keys.length !== 1) throw new ScenarioFileError(`${where(path)}: a step has one op, this one has ${keys.length} (${keys.join(', ') || 'none'})`)
    const op = keys[0]
    if (!(OP_NAMES as string[]).includes(op)) {
      const near = nearest(op, OP_NAMES).map((o) => o.toLowerCase())
      throw new ScenarioFileError(`${where(path)}: unknown op '${op}'${near.length ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : ''}`)
    }
    const args = check(op_schema(op as OpName), (raw as Record<string, unknown>)[op], [...path, op], where)
    const p = lc.linePos(path_offset(doc, path))
    return { op: op as OpName, args, line: p.line, col: p.col, ...(say !== undefined ? { say: say as string } : {}) }
  })
  return { file, title: title as string | undefined, description: description as string | undefined, machine, steps }
}

/** Validate with a schema; the first issue becomes a ScenarioFileError at its node. */
function check<T>(schema: z.ZodType<T>, value: unknown, path: (string | number)[], where: (p: (string | number)[]) => string): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const ipath = [...path, ...issue.path.filter((k): k is string | number => typeof k !== 'symbol')]
  return fail(where(ipath), issue.message, issue.code === 'unrecognized_keys' ? (issue as { keys?: string[] }).keys : undefined)
}

function fail(place: string, message: string, keys?: string[]): never {
  const what = keys ? `unknown argument${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}` : message.replace(/^Invalid input: /, '')
  throw new ScenarioFileError(`${place}: ${what}`)
}

function node_offset(n: YamlNode | null | undefined): number {
  return n?.range?.[0] ?? 0
}

/** The offset of the deepest node of `path` that exists (a missing key: its map). */
function path_offset(doc: Document, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as YamlNode | undefined
    if (node && typeof node === 'object' && 'range' in node && node.range) return node.range[0]
  }
  return 0
}
