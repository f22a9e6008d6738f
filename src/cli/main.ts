/**
 * The `mmsim` command: demo, proc, dmesg, run, lesson, shell, why, replay, trace, mrc, exercise (usage() below). Bad arguments print one line and exit with 2.
 * main() runs one command line; src/cli/mmsim.ts is the process that calls it.
 */
import { parseArgs } from 'node:util'
import type { MachineOptions } from '../machine.js'
import { MachineConfigError, host_memory_problem } from '../machine_config.js'
import { totalmem } from 'node:os'
import { ProcNotFound } from '../fs/proc/internal.js'
import { OBSERVE_PARSE_OPTIONS, ObserveFlagError, observe_flags_given, parse_observe_flags } from './observe_flags.js'
import { ExerciseError } from '../exercise/exercise.js'
import type { MachineSpec } from '../scenario/schema.js'
import type { z } from 'zod'

type MachineSpecT = z.infer<typeof MachineSpec>

/** The commands that run scenarios and so take the observation flags (observe_flags.ts). */
const OBSERVE_COMMANDS = ['run', 'shell', 'lesson']

/** The usage text; the /proc files it lists come from /proc's own table (loaded only for help). */
async function usage(): Promise<string> {
  const { proc_paths } = await import('../fs/proc/root.js')
  return `usage: mmsim <command> [options]

commands:
  demo                 boot a machine and walk through the page allocator, slab and a process's address space
  proc PATH            boot a machine and print a /proc file (${proc_paths().join(', ')})
  dmesg                boot a machine and print its kernel log
  run FILE.yaml        run a scenario file (docs/scenarios.md): one strace-like line per step,
                       /proc files, pmap and dmesg where the steps ask; --json for the step records;
                       --explain: why the kernel decided what it did, under each step (docs/explain.md);
                       --trace OUT.json (Chrome trace for Perfetto) or OUT.txt / --ftrace OUT.txt
                       (trace-cmd report text); --counters OUT.csv [--counter-names a,b] per step
  lesson [TOPIC]       a lesson: a scenario that shows one part of the memory manager, each step
                       followed by what to look at in its output; --list: the topics; --explain, --trace as run
  shell [FILE.yaml]    a shell inside a simulated machine (scenario steps typed directly, why,
                       ps, back, explain on|off); reads commands from standard input when it is
                       not a terminal; takes run's --explain, --trace, --ftrace, --counters
  why pfn:N|0xADDR     what a page frame or address of a freshly booted machine is
                       (--scenario FILE.yaml: at the end of that scenario)
  replay FILE.json     run a kernel-oracle scenario (docs/replay.md; '-' reads stdin)
                       and print the result JSON as the real-kernel oracle prints it
  trace FILE           a page-replacement policy's hits and misses on a page-reference trace:
                       --policy lru|fifo|clock|random|opt|linux --frames N [--seed S] [--json];
                       linux: a simulated process under a memcg limit (--backing file|anon;
                       --reclaim fifo|lru|clock|random: the machine's reclaim picks by that policy);
                       FILE: <page>,<R|W> lines, page numbers, valgrind lackey output or
                       libCacheSim oracleGeneral records, plain, gzip or zstd
  mrc FILE             the whole miss-ratio curve in one pass: --policy lru|opt (default lru),
                       --max-frames N, CSV (default), --json, or --svg OUT.svg for a plot
  exercise TOPIC       a generated exercise with its answers and reasoning (docs/exercises.md):
                       --seed N (the same seed gives the same exercise), --answers, --json;
                       --list prints the topics
  help                 this text

machine options:
  --arch x86_64|i386|i386-pae   (default x86_64)
  --ram SIZE                    e.g. 64M, 1G (default 64M for demo, 256M otherwise)
  --cpus N                      (default 2)
  --seed N                      (default 1): drives every random choice; the same seed
                                gives the same output, byte for byte
  --norandmaps                  no address-space randomisation (kernel.randomize_va_space=0,
                                as Linux's norandmaps boot option); the default is 2, as on Linux
  --slab slub|slab              (default slub)
  --preset modern|ldd3          (default modern; ldd3 loads scull, scullp, scullv, scullc, simple)
  --reclaim linux|fifo|lru|clock|random
                                the page-replacement policy of reclaim (default linux, the kernel's
                                LRU lists; the others for studies: docs/replacement.md)`
}

class UsageError extends Error {}

function machine_options(v: Record<string, string | boolean | undefined>, default_ram: string): MachineOptions {
  const ram = (v.ram as string | undefined) ?? default_ram
  // Refuse before allocating what this host cannot hold (the library throws for what V8 cannot index).
  const too_big = host_memory_problem(ram, totalmem())
  if (too_big) throw new UsageError(too_big)
  const int = (name: string): number | undefined => {
    const s = v[name]
    if (s === undefined) return undefined
    if (typeof s !== 'string' || !/^\d+$/.test(s)) throw new UsageError(`--${name}: '${String(s)}' is not a non-negative integer`)
    return Number(s)
  }
  return {
    arch: (v.arch as MachineOptions['arch']) ?? 'x86_64',
    ram,
    cpus: int('cpus'),
    seed: int('seed'),
    slab: v.slab as MachineOptions['slab'],
    preset: v.preset as MachineOptions['preset'],
    reclaim: v.reclaim as MachineOptions['reclaim'],
    ...(v.norandmaps === true ? { randomize_va_space: 0 as const } : {}),
  }
}

/** The command-line options that become machine fields (what a scenario's own machine gives way to). */
const MACHINE_FLAGS: Record<string, keyof MachineSpecT> = { arch: 'arch', ram: 'ram', cpus: 'cpus', seed: 'seed', slab: 'slab', norandmaps: 'randomize_va_space', reclaim: 'reclaim' }

/** Only the machine fields given on the command line (they override a scenario's machine). */
function given_machine(v: Record<string, string | boolean | undefined>): Partial<MachineSpecT> {
  const spec = machine_spec(v)
  const out: Partial<MachineSpecT> = {}
  for (const [flag, field] of Object.entries(MACHINE_FLAGS)) {
    if (v[flag] !== undefined) Object.assign(out, { [field]: spec[field] })
  }
  return out
}

/** The machine section of a scenario, from the command line's machine options. */
function machine_spec(v: Record<string, string | boolean | undefined>): MachineSpecT {
  const o = machine_options(v, '256M')
  return {
    arch: o.arch as MachineSpecT['arch'], ram: typeof o.ram === 'number' ? String(o.ram) : o.ram, cpus: o.cpus, seed: o.seed, slab: o.slab,
    randomize_va_space: o.randomize_va_space as MachineSpecT['randomize_va_space'],
    reclaim: o.reclaim,
  }
}

/** The command line's options (node:util parseArgs). */
const CLI_OPTIONS = {
  arch: { type: 'string' },
  ram: { type: 'string' },
  cpus: { type: 'string' },
  seed: { type: 'string' },
  slab: { type: 'string' },
  preset: { type: 'string' },
  reclaim: { type: 'string' },
  norandmaps: { type: 'boolean' },
  json: { type: 'boolean' },
  scenario: { type: 'string' },
  policy: { type: 'string' },
  frames: { type: 'string' },
  backing: { type: 'string' },
  'max-frames': { type: 'string' },
  csv: { type: 'boolean' },
  svg: { type: 'string' },
  list: { type: 'boolean' },
  answers: { type: 'boolean' },
  ...OBSERVE_PARSE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * A string option's value that begins with '-' (`--ram -1G`, `--seed -1`)
 * is glued to its option (`--ram=-1G`), so that the option's own check
 * says what is wrong with it: parseArgs would only call it "ambiguous".
 */
function values_glued(argv: readonly string[], options: Record<string, { type: string }>): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : ''
    if (name && options[name]?.type === 'string' && i + 1 < argv.length && /^-[^-]/.test(argv[i + 1])) out.push(`${a}=${argv[++i]}`)
    else out.push(a)
  }
  return out
}

/**
 * Runs a command: its exit status. Each command's module, and the machine,
 * is loaded when the command runs: help and usage errors load no kernel,
 * `mmsim proc` no scenario parser (zod, yaml), `mmsim trace` no machine
 * (test/cli/startup.test.ts). Loading and compiling ~300 modules was most
 * of every command's start-up.
 */
export async function main(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  // What `mmsim shell` reads: the command's standard input (a test passes a stream of its own).
  input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: values_glued(argv, CLI_OPTIONS), allowPositionals: true, options: CLI_OPTIONS })
  } catch (e) {
    err(`mmsim: ${(e as Error).message.split('\n')[0]}`)
    return 2
  }
  const [cmd, ...rest] = parsed.positionals
  try {
    if (parsed.values.help || cmd === 'help' || cmd === undefined) {
      out(await usage())
      if (cmd !== undefined || parsed.values.help) return 0
      // No command: the usage, and the one line every usage error has.
      err('mmsim: no command given (the commands are listed above; mmsim help prints them again)')
      return 2
    }
    // --explain, --trace, --ftrace, --counters belong to the commands that run scenarios.
    let observe: ReturnType<typeof parse_observe_flags> | undefined
    if (observe_flags_given(parsed.values)) {
      if (!OBSERVE_COMMANDS.includes(cmd)) throw new UsageError(`${cmd}: --explain, --trace, --ftrace and --counters are options of ${OBSERVE_COMMANDS.join(', ')}`)
      observe = parse_observe_flags(parsed.values)
    }
    switch (cmd) {
      case 'demo': {
        if (rest.length) throw new UsageError(`demo: unexpected argument '${rest[0]}'`)
        const o = machine_options(parsed.values, '64M')
        const [{ run_demo }, { Machine }] = await Promise.all([import('./demo.js'), import('../machine.js')])
        run_demo(new Machine(o), out)
        return 0
      }
      case 'proc': {
        if (rest.length !== 1) throw new UsageError('proc: expected one path, e.g. mmsim proc /proc/buddyinfo')
        const o = machine_options(parsed.values, '256M')
        const { Machine } = await import('../machine.js')
        const m = new Machine(o)
        let path = rest[0]
        // /proc/self is the reader, as with cat(1) on Linux: a process named cat, just started.
        if (/^\/proc\/self(\/|$)/.test(path)) path = path.replace(/^\/proc\/self/, `/proc/${m.spawn({ name: 'cat' }).pid}`)
        try {
          out(m.proc(path).replace(/\n$/, ''))
        } catch (e) {
          // A write-only sysctl (vm.drop_caches): what cat(1) says, with its exit status.
          if ((e as { code?: string }).code === 'EACCES') {
            err(`mmsim: proc: ${rest[0]}: Permission denied`)
            return 1
          }
          if (!(e instanceof ProcNotFound)) throw e
          const { proc_paths } = await import('../fs/proc/root.js')
          throw new UsageError(`proc: no file ${rest[0]} (there are ${proc_paths().join(', ')}, and /proc/self/{maps,smaps,smaps_rollup,status,...})`)
        }
        return 0
      }
      case 'dmesg': {
        if (rest.length) throw new UsageError(`dmesg: unexpected argument '${rest[0]}'`)
        const o = machine_options(parsed.values, '256M')
        const { Machine } = await import('../machine.js')
        out(new Machine(o).dmesg().replace(/\n$/, ''))
        return 0
      }
      case 'run': {
        if (rest.length !== 1) throw new UsageError('run: expected one scenario file, e.g. mmsim run examples/fork-cow.yaml')
        const { run_command } = await import('./run.js')
        return run_command(rest[0], { json: parsed.values.json === true, run: observe?.opts, outputs: observe?.outputs, machine: given_machine(parsed.values) }, out, err)
      }
      case 'lesson': {
        if (rest.length > 1) throw new UsageError(`lesson: unexpected argument '${rest[1]}'`)
        const { lesson_command } = await import('./lesson.js')
        return lesson_command(rest[0], parsed.values.list === true, { json: parsed.values.json === true, run: observe?.opts, outputs: observe?.outputs, machine: given_machine(parsed.values) }, out, err)
      }
      case 'shell': {
        if (rest.length > 1) throw new UsageError(`shell: unexpected argument '${rest[1]}'`)
        // Only the options given on the command line override the scenario's machine.
        const { shell_command } = await import('./shell.js')
        return await shell_command(given_machine(parsed.values), rest[0], input, out, err, observe)
      }
      case 'why': {
        if (rest.length !== 1) throw new UsageError('why: expected one pfn:N or 0xADDR, e.g. mmsim why pfn:0x1000')
        const { why_command } = await import('./why.js')
        return await why_command(rest[0], machine_spec(parsed.values), parsed.values.scenario as string | undefined, out, err)
      }
      case 'replay': {
        if (rest.length !== 1) throw new UsageError('replay: expected one scenario file, e.g. mmsim replay scenario.json')
        const { replay_command } = await import('./replay.js')
        return replay_command(rest[0], machine_options(parsed.values, '256M'), out, err)
      }
      case 'trace': {
        if (rest.length !== 1) throw new UsageError('trace: expected one trace file, e.g. mmsim trace refs.csv.zst --policy lru --frames 64')
        const v = parsed.values
        const { trace_command } = await import('./trace.js')
        return await trace_command(rest[0], { policy: v.policy, frames: v.frames, seed: v.seed, json: v.json, backing: v.backing, reclaim: v.reclaim }, out, err)
      }
      case 'mrc': {
        if (rest.length !== 1) throw new UsageError('mrc: expected one trace file, e.g. mmsim mrc refs.csv.zst --svg mrc.svg')
        const v = parsed.values
        const { mrc_command } = await import('./mrc.js')
        return await mrc_command(rest[0], { policy: v.policy, 'max-frames': v['max-frames'], csv: v.csv, json: v.json, svg: v.svg }, out, err)
      }
      case 'exercise': {
        const v = parsed.values
        if (v.list) {
          if (rest.length) throw new UsageError(`exercise: --list takes no topic`)
        } else if (rest.length !== 1) throw new UsageError('exercise: expected one topic, e.g. mmsim exercise buddy --seed 7 (mmsim exercise --list for the topics)')
        const o = machine_options(v, '256M')
        // Only the machine options given: each topic has its own default machine.
        const machine: Omit<MachineOptions, 'seed'> = { arch: o.arch }
        if (v.ram !== undefined) machine.ram = o.ram
        if (o.cpus !== undefined) machine.cpus = o.cpus
        if (o.slab !== undefined) machine.slab = o.slab
        const { exercise_command } = await import('./exercise.js')
        return exercise_command({ topic: rest[0], seed: o.seed ?? 1, list: v.list === true, answers: v.answers === true, json: v.json === true, machine }, out)
      }
      default:
        throw new UsageError(`unknown command '${cmd}' (try: mmsim help)`)
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof MachineConfigError || e instanceof ExerciseError || e instanceof ObserveFlagError) {
      err(`mmsim: ${e.message}`)
      return 2
    }
    if ((e as { code?: string }).code === 'ENOENT') {
      err(`mmsim: ${(e as Error).message}`)
      return 1
    }
    throw e
  }
}
