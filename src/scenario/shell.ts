/**
 * The shell inside a simulated machine (`mmsim shell`): each line is a
 * scenario step typed directly (`mmap len=8K prot=rw- flags=MAP_PRIVATE|MAP_ANONYMOUS as=buf`,
 * `kmalloc 128`, `cat /proc/self/maps`) or a shell command (`why`, `ps`,
 * `back`, `help`, `exit`). Steps go through the same schemas and
 * the same Run as scenario files; `back` undoes the last step exactly, by
 * replaying the ones before it on a fresh machine with the same seed (the
 * simulation is deterministic). A bad line prints one error line and the
 * shell goes on.
 */
import type { z } from 'zod'
import { KernelBug } from '../include/bug.js'
import { OP_NAMES, MachineSpec, op_schema, type OpName } from './schema.js'
import type { Step } from './load.js'
import { Run, record_text, ScenarioExpectError, type StepRecord } from './run.js'
import type { RunOptions } from './observe.js'
import { ScenarioRunError, VALUE_RE, nearest } from './values.js'
import { why_addr, why_pfn } from './why.js'
import { proc_paths, proc_pid_entries } from '../fs/proc/root.js'

/** Each op's arguments in the order a shell line gives them without names. */
const POSITIONAL: Partial<Record<OpName, string[]>> = {
  mmap: ['len', 'prot', 'flags'],
  munmap: ['addr', 'len'],
  munlock: ['addr', 'len'],
  mlock: ['addr', 'len'],
  mprotect: ['addr', 'len', 'prot'],
  madvise: ['addr', 'len', 'advice'],
  mremap: ['addr', 'old_len', 'new_len', 'flags'],
  msync: ['addr', 'len', 'flags'],
  mlockall: ['flags'],
  brk: ['addr'],
  store: ['addr', 'data'],
  load: ['addr', 'len'],
  open: ['path', 'flags'],
  pread: ['fd', 'len', 'off'],
  pwrite: ['fd', 'data', 'off'],
  lseek: ['fd', 'offset', 'whence'],
  ftruncate: ['fd', 'len'],
  fallocate: ['fd', 'mode', 'off', 'len'],
  memfd_create: ['name', 'flags'],
  fcntl: ['fd', 'cmd', 'arg'],
  alloc_pages: ['order', 'gfp'],
  free_pages: ['page', 'order'],
  kmalloc: ['size', 'gfp'],
  vmalloc: ['size'],
  kmem_cache_create: ['name', 'size', 'align'],
  kmem_cache_alloc: ['cache'],
  kmem_cache_free: ['cache', 'ptr'],
}

/** Arguments that stay text even when they look like numbers. */
const TEXT_ARGS = new Set(['data', 'path', 'name', 'cache', 'as', 'process'])
/** Arguments the schemas take as plain integers, not value expressions. */
const INT_ARGS = new Set(['order', 'uid', 'code', 'mode'])

const SHELL_HELP = `commands: every scenario op (docs/scenarios.md) as 'op arg... key=value...', e.g.
  spawn a | mmap 8K rw- MAP_PRIVATE|MAP_ANONYMOUS as=buf | store $buf "hello" | load $buf 5
  kmalloc 128 [GFP] | alloc_pages 2 | cat /proc/self/maps | pmap | free [m] | vmstat | dmesg | check
and: why ADDR|pfn:N|$name (what a page or address is) | ps | back (undo the last step)
  explain on|off (one line per kernel decision under each step, docs/explain.md) | help | exit`

/** Split a line into words; "double quoted" words keep their spaces. */
function words(line: string): string[] {
  const out: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : m[2])
  return out
}

function arg_value(key: string, w: string): unknown {
  if (TEXT_ARGS.has(key)) return w
  if (INT_ARGS.has(key) && /^-?\d+$/.test(w)) return Number(w)
  if (/^-?\d+$/.test(w) && !VALUE_RE.test(w)) return Number(w)
  return w
}

export class ShellError extends Error {}

/** The shell's own commands (beside every scenario op). */
export const SHELL_COMMANDS = ['why', 'ps', 'back', 'explain', 'help', 'exit']

/**
 * Tab completion as bash does it: the first word among the commands, a
 * path argument one component at a time ("/proc/s" offers /proc/self/,
 * /proc/slabinfo, /proc/swaps, /proc/sys/), `explain` its on/off.
 * Returns the candidates and the word they complete (readline's completer).
 */
export function complete_line(line: string, pids: number[]): [string[], string] {
  const m = /^(\s*)(\S*)$/.exec(line)
  if (m) {
    const all = [...new Set([...OP_NAMES, ...SHELL_COMMANDS])].sort()
    return [all.filter((c) => c.startsWith(m[2])), m[2]]
  }
  const word = /(\S*)$/.exec(line)![1]
  const cmd = line.trim().split(/\s+/)[0]
  if (cmd === 'explain') return [['on', 'off'].filter((w) => w.startsWith(word)), word]
  if (!word.startsWith('/') && !(cmd === 'cat' && word === '')) return [[], word]
  const files = [
    ...proc_paths(),
    ...['self', ...pids.map(String)].flatMap((p) => proc_pid_entries().map((e) => `/proc/${p}/${e}`)),
  ]
  const next = new Set<string>()
  for (const f of files) {
    if (!f.startsWith(word)) continue
    const slash = f.indexOf('/', word.length)
    next.add(slash < 0 ? f : f.slice(0, slash + 1))
  }
  return [[...next].sort(), word]
}

/** A shell line as a step (the same validation as a scenario file's step). */
export function parse_step(line: string, n: number): Step {
  const [op, ...rest] = words(line)
  if (!(OP_NAMES as string[]).includes(op)) {
    const near = nearest(op, OP_NAMES).map((o) => o.toLowerCase())
    throw new ShellError(`unknown command '${op}'${near.length ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : ''}; try help`)
  }
  const schema = op_schema(op as OpName)
  const named: Record<string, unknown> = {}
  const positional: string[] = []
  for (const w of rest) {
    const eq = /^([a-z_]+)=(.*)$/.exec(w)
    if (eq) named[eq[1]] = arg_value(eq[1], eq[2])
    else positional.push(w)
  }
  const order = POSITIONAL[op as OpName] ?? []
  let args: unknown
  if (order.length === 0 && Object.keys(named).length === 0) {
    // One-argument ops (spawn a, cat PATH, kfree $p) or none (dmesg, check).
    args = positional.length === 0 ? true : positional.length === 1 ? arg_value(op === 'exit' ? 'code' : 'x', positional[0]) : positional
  } else {
    if (positional.length > order.length) throw new ShellError(`${op}: too many arguments (${op} takes ${order.join(', ')}, then key=value)`)
    positional.forEach((w, i) => (named[order[i]] = arg_value(order[i], w)))
    args = named
  }
  const r = schema.safeParse(args)
  if (!r.success) {
    const issue = r.error.issues[0]
    const where = issue.path.length ? `${issue.path.join('.')}: ` : ''
    const keys = (issue as { keys?: string[] }).keys
    throw new ShellError(`${op}: ${where}${keys ? `unknown argument ${keys.join(', ')}` : issue.message.replace(/^Invalid input: /, '')}`)
  }
  return { op: op as OpName, args: r.data, line: n, col: 1 }
}

export interface ShellOptions {
  machine: z.infer<typeof MachineSpec>
  /** Explanations, trace events, counters per step (observe.ts); `explain on|off` toggles the first. */
  run?: RunOptions
}

/** A shell session: feed it lines, it returns what to print. */
export class Shell {
  private run: Run
  /** The steps that ran, for `back`. */
  private readonly history: Step[] = []
  /** Their records (what --trace and --counters write at the end); `back` drops the last. */
  readonly records: StepRecord[] = []
  done = false
  private run_opts: RunOptions

  constructor(private readonly opts: ShellOptions) {
    this.run_opts = opts.run ?? {}
    this.run = new Run({ file: '<shell>', machine: opts.machine }, this.run_opts)
  }

  /** Run one line; returns the text to print (possibly empty). Never throws for a bad line. */
  line(text: string, n: number): string {
    const t = text.trim()
    if (t === '' || t.startsWith('#')) return ''
    const [cmd, ...rest] = words(t)
    try {
      switch (cmd) {
        case 'exit':
        case 'quit':
          if (rest.length === 0) {
            this.done = true
            return ''
          }
          break
        case 'help':
          return SHELL_HELP
        case 'back':
          return this.back()
        case 'why':
          return this.why(rest[0])
        case 'ps':
          return this.ps()
        case 'explain':
          return this.explain(rest)
      }
      return this.step(parse_step(t, n))
    } catch (e) {
      return this.error_text(e)
    }
  }

  /** Run a validated step (a shell line, or a step of the scenario the shell starts from). */
  step(s: Step): string {
    try {
      const r = this.exec(s)
      this.history.push(s)
      this.records.push(r)
      return this.format(r)
    } catch (e) {
      return this.error_text(e)
    }
  }

  /** A bad line or step as one line of text (anything else is a bug of mmsim and propagates). */
  private error_text(e: unknown): string {
    const place = /^<shell>:\d+:\d+: /
    if (e instanceof ShellError || e instanceof ScenarioRunError) return `error: ${e.message.replace(place, '')}`
    if (e instanceof ScenarioExpectError) return `${e.record ? this.format(e.record) + '\n' : ''}expect failed: ${e.message.replace(place, '')}`
    if (e instanceof KernelBug) return `kernel BUG: ${e.message}`
    throw e
  }

  private exec(s: Step): StepRecord {
    return this.run.exec(s, this.history.length)
  }

  private format(r: StepRecord): string {
    return record_text(r)
  }

  /** `explain on|off` (no argument: say which). */
  private explain(rest: string[]): string {
    if (rest.length === 0) return `explain is ${this.run_opts.explain ? 'on' : 'off'}`
    if (rest.length !== 1 || (rest[0] !== 'on' && rest[0] !== 'off')) return 'explain: expected on or off'
    this.run_opts = { ...this.run_opts, explain: rest[0] === 'on' }
    this.run.observer.set_explain(rest[0] === 'on')
    return `explain ${rest[0]}`
  }

  /** Undo the last step: replay all before it on a fresh machine (same seed: the same machine). */
  private back(): string {
    const last = this.history.pop()
    if (!last) return 'back: nothing to undo'
    this.records.pop()
    this.run.observer.close()
    this.run = new Run({ file: '<shell>', machine: this.opts.machine }, this.run_opts)
    for (const s of this.history) {
      try {
        this.run.exec(s, 0)
      } catch (e) {
        // A step whose expect failed the first time fails again the same way: its effect is the same.
        if (!(e instanceof ScenarioExpectError)) throw e
      }
    }
    return `back: undid '${last.op}' (${this.history.length} step${this.history.length === 1 ? '' : 's'} replayed)`
  }

  private why(what: string | undefined): string {
    if (!what) return 'why: expected ADDR (0x...) or pfn:N'
    const m = this.run.m
    const pfn = /^pfn:(0x[0-9a-fA-F]+|\d+)$/.exec(what)
    if (pfn) return why_pfn(m, Number(pfn[1]))
    const addr = /^-?(0x[0-9a-fA-F]+|\d+)$/.test(what) ? Number(BigInt.asIntN(64, BigInt(what))) : this.run.env.get(what.replace(/^\$/, ''))
    if (addr === undefined || !Number.isSafeInteger(addr)) return `why: '${what}' is not an address, pfn:N or a bound $name`
    const self = this.run.current !== null ? (this.run.procs.get(this.run.current) ?? null) : null
    return why_addr(m, addr, self)
  }

  /** Tab completion for a line being typed (complete_line with this machine's processes). */
  complete(line: string): [string[], string] {
    return complete_line(line, [...this.run.m.syscalls.tasks.values()].filter((t) => t.exit_state === 0).map((t) => t.pid))
  }

  private ps(): string {
    const rows = ['  PID COMMAND          STAT']
    for (const t of this.run.m.syscalls.tasks.values()) {
      const cur = this.run.current !== null && this.run.procs.get(this.run.current)?.pid === t.pid
      rows.push(`${String(t.pid).padStart(5)} ${t.comm.padEnd(16)} ${t.exit_state ? 'Z' : 'S'}${cur ? '  <- current' : ''}`)
    }
    return rows.join('\n')
  }
}
