/**
 * The scenario file format (docs/scenarios.md), as zod schemas: the
 * machine, then a list of steps, each a one-key map `- <op>: <arguments>`.
 * The same schemas validate a file when it loads and generate the JSON
 * Schema editors use (schema/scenario.schema.json, `npm run schema`).
 */
import { RLIMIT_NAMES } from '../include/resource.js'
import { z } from 'zod'
import { VALUE_RE, flags_problem, type FlagKind } from './values.js'
import { RECLAIM_POLICIES } from '../mm/replacement.js'

const VALUE_MSG = 'expected a number, 0x hex, a size like 4K or 2M, or $name [+ value]'

/** A number: integer, 0x hex, a size, or an expression over `as:` names. */
export const Value = z.union([z.number({ error: VALUE_MSG }).int({ error: VALUE_MSG }), z.string({ error: VALUE_MSG }).regex(VALUE_RE, { error: VALUE_MSG })], { error: VALUE_MSG })

/** A flag word: C names joined by |, a list of names, a number (a protection also as rw-). */
function Flags(kind: FlagKind): z.ZodType<number | string | string[]> {
  return z
    .union([z.number().int().nonnegative(), z.string(), z.array(z.string())], { error: `expected ${kind} flags: names joined by |, a list of names, or a number` })
    .superRefine((f, ctx) => {
      const p = flags_problem(f, kind)
      if (p) ctx.addIssue({ code: 'custom', message: p })
    })
}

/** A regular expression: a look inside prints only the lines it matches. */
const Grep = z.string().min(1).superRefine((g, ctx) => {
  try {
    new RegExp(g)
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `grep: not a regular expression (${(e as Error).message})` })
  }
})

/** One line of explanation a step prints after its output (lessons explain each step with it). */
export const Say = z.string().min(1)

/** A name to bind the step's result to (`$name` in later steps). */
const Name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a name (letters, digits, _)' })

/**
 * What a step must produce: a return value, `ok`, an errno, a signal (the
 * process dies of it), text a /proc file or a load must contain, or exact
 * bytes. A mismatch stops the run with exit status 1.
 */
export const Expect = z.union(
  [
    Value,
    z.literal('ok'),
    z.strictObject({ errno: z.string().regex(/^E[A-Z0-9]+$/) }),
    z.strictObject({ signal: z.string().regex(/^SIG[A-Z0-9]+$/), code: z.string().optional() }),
    z.strictObject({ contains: z.union([z.string(), z.array(z.string())]) }),
    z.strictObject({ lacks: z.union([z.string(), z.array(z.string())]) }),
    z.strictObject({ text: z.string() }),
    z.strictObject({ bytes: z.array(z.number().int().min(0).max(255)) }),
  ],
  { error: 'expected a value, ok, {errno: E...}, {signal: SIG...}, {contains: text}, {lacks: text}, {text: ...} or {bytes: [...]}' },
)
export type ExpectSrc = z.infer<typeof Expect>

const common = { expect: Expect.optional() }
const bind = { as: Name.optional() }
const range = { addr: Value, len: Value }

/** Bytes to store or write: text (UTF-8), a list of byte values, or a fill pattern. */
const Data = z.union(
  [z.string(), z.array(z.number().int().min(0).max(255)), z.strictObject({ fill: z.number().int().min(0).max(255), len: Value })],
  { error: 'expected text, a list of bytes, or {fill: byte, len: n}' },
)

/**
 * The arguments of every step, by op. A string or number stands for the
 * op's one main argument. Each schema is built on first use (op_schema()):
 * building all of them costs more than a short scenario's whole run.
 */
const OPS = {
  // processes
  spawn: () => z.union([Name, z.strictObject({ name: Name, uid: z.number().int().nonnegative().optional() })]),
  use: () => Name,
  fork: () => z.union([Name, z.strictObject({ as: Name, ...common })]),
  exit: () => z.union([z.number().int(), z.strictObject({ code: z.number().int().optional() })]),
  wait: () => z.union([Name, z.strictObject({ process: Name, ...common })]),
  setrlimit: () => z.strictObject({ resource: z.enum(RLIMIT_NAMES as [string, ...string[]]), cur: Value, max: Value.optional(), ...common }),
  // the address space
  mmap: () => z.strictObject({ addr: Value.optional(), len: Value, prot: Flags('prot'), flags: Flags('map'), fd: Value.optional(), off: Value.optional(), ...bind, ...common }),
  munmap: () => z.strictObject({ ...range, ...common }),
  mprotect: () => z.strictObject({ ...range, prot: Flags('prot'), ...common }),
  madvise: () => z.strictObject({ ...range, advice: Flags('madv'), ...common }),
  mremap: () => z.strictObject({ addr: Value, old_len: Value, new_len: Value, flags: Flags('mremap').optional(), new_addr: Value.optional(), ...bind, ...common }),
  mlock: () => z.strictObject({ ...range, flags: Flags('mlock').optional(), ...common }),
  munlock: () => z.strictObject({ ...range, ...common }),
  mlockall: () => z.strictObject({ flags: Flags('mcl'), ...common }),
  munlockall: () => z.union([z.literal(true), z.strictObject({ ...common })]),
  msync: () => z.strictObject({ ...range, flags: Flags('msync'), ...common }),
  brk: () => z.strictObject({ addr: Value, ...bind, ...common }),
  store: () => z.strictObject({ addr: Value, data: Data, ...common }),
  load: () => z.strictObject({ addr: Value, len: Value, ...common }),
  // files
  open: () => z.strictObject({ path: z.string().min(1), flags: Flags('open').optional(), mode: z.number().int().optional(), ...bind, ...common }),
  close: () => z.union([Value, z.strictObject({ fd: Value, ...common })]),
  pread: () => z.strictObject({ fd: Value, len: Value, off: Value.optional(), ...common }),
  pwrite: () => z.strictObject({ fd: Value, data: Data, off: Value.optional(), ...common }),
  lseek: () => z.strictObject({ fd: Value, offset: Value, whence: Flags('seek').optional(), ...common }),
  ftruncate: () => z.strictObject({ fd: Value, len: Value, ...common }),
  fsync: () => z.union([Value, z.strictObject({ fd: Value, ...common })]),
  fdatasync: () => z.union([Value, z.strictObject({ fd: Value, ...common })]),
  syncfs: () => z.union([Value, z.strictObject({ fd: Value, ...common })]),
  sync: () => z.union([z.literal(true), z.strictObject({ ...common })]),
  sleep: () => z.union([Value, z.strictObject({ ms: Value, ...common })]),
  read: () => z.strictObject({ fd: Value, buf: Value, len: Value, ...common }),
  write: () => z.strictObject({ fd: Value, buf: Value, len: Value, ...common }),
  fallocate: () => z.strictObject({ fd: Value, mode: Flags('falloc').optional(), off: Value.optional(), len: Value, ...common }),
  memfd_create: () => z.strictObject({ name: z.string(), flags: Flags('memfd').optional(), ...bind, ...common }),
  fcntl: () => z.strictObject({ fd: Value, cmd: Flags('fcntl'), arg: Flags('seal').optional(), ...bind, ...common }),
  // the kernel side
  alloc_pages: () => z.strictObject({ order: z.number().int(), gfp: Flags('gfp').optional(), ...bind, ...common }),
  free_pages: () => z.strictObject({ page: Value, order: z.number().int() }),
  kmalloc: () => z.strictObject({ size: Value, gfp: Flags('gfp').optional(), ...bind, ...common }),
  kfree: () => z.union([Value, z.strictObject({ ptr: Value })]),
  vmalloc: () => z.strictObject({ size: Value, ...bind, ...common }),
  vfree: () => z.union([Value, z.strictObject({ addr: Value })]),
  kmem_cache_create: () => z.strictObject({ name: z.string().min(1), size: Value, align: Value.optional(), ...bind, ...common }),
  kmem_cache_alloc: () => z.strictObject({ cache: Name, ...bind, ...common }),
  kmem_cache_free: () => z.strictObject({ cache: Name, ptr: Value }),
  kmem_cache_destroy: () => z.union([Name, z.strictObject({ cache: Name })]),
  // looking inside
  cat: () => z.union([z.string().min(1), z.strictObject({ path: z.string().min(1), from: Grep.optional(), until: Grep.optional(), grep: Grep.optional(), vma: z.union([Value, z.array(Value).min(1)]).optional(), ...common })]),
  pmap: () => z.union([z.literal(true), Name, z.strictObject({ process: Name.optional(), ...common })]),
  dmesg: () => z.union([z.literal(true), z.strictObject({ grep: Grep.optional(), ...common })]),
  readelf: () => z.union([z.string().min(1), z.strictObject({ path: z.string().min(1), ...common })]),
  free: () => z.union([z.literal(true), z.enum(['k', 'm', 'g']), z.strictObject({ unit: z.enum(['k', 'm', 'g']).optional(), ...common })]),
  vmstat: () => z.union([z.literal(true), z.strictObject({ ...common })]),
  sysctl: () => z.union([
    z.string().regex(/^[a-z_][a-z0-9_.-]*=-?\d+$/, { error: 'expected NAME=VALUE, e.g. vm.drop_caches=3' }),
    z.strictObject({ name: z.string().regex(/^[a-z_][a-z0-9_.-]*$/, { error: 'expected a sysctl name, e.g. vm.drop_caches' }), value: z.number().int(), ...common }),
  ]),
  check: () => z.literal(true),
  why: () => z.union([Value, z.strictObject({ addr: Value.optional(), pfn: Value.optional(), ...common })]),
  // drivers, devices, cgroups, kernel threads, kmap
  insmod: () => z.union([Name, z.strictObject({ module: Name, params: z.record(z.string(), z.union([z.number().int(), z.string()])).optional(), ...common })]),
  rmmod: () => z.union([Name, z.strictObject({ module: Name, ...common })]),
  ioctl: () => z.strictObject({ fd: Value, cmd: Flags('ioctl'), arg: Value.optional(), ...common }),
  irq: () => z.union([z.number().int().nonnegative(), z.strictObject({ irq: z.number().int().nonnegative(), ...common })]),
  cgroup_create: () => z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a cgroup name (letters, digits, _ . -)' }), limit: Value.optional(), swappiness: z.number().int().min(0).max(200).optional(), ...common }),
  cgroup_attach: () => z.strictObject({ cgroup: z.string().min(1), process: Name.optional(), ...common }),
  kthread: () => z.union([z.string().min(1), z.strictObject({ name: z.string().min(1), cpu: z.number().int().nonnegative().optional(), ...common })]),
  kmap: () => z.strictObject({ page: Value, as: Name.optional(), ...common }),
  kunmap: () => z.union([Value, z.strictObject({ page: Value })]),
  kmap_local: () => z.strictObject({ page: Value, as: Name.optional(), ...common }),
  kunmap_local: () => z.union([Value, z.strictObject({ addr: Value })]),
  // page replacement on a reference string (the policies of `mmsim trace`)
  replacement: () => z.strictObject({
    refs: z.union([z.string().regex(/^\s*\d+(\s*[ ,]\s*\d+)*\s*$/, { error: 'expected page numbers separated by spaces or commas' }), z.array(z.number().int().nonnegative()).min(1)]),
    frames: z.number().int().min(1).max(64),
    policies: z.array(z.enum(['fifo', 'lru', 'clock', 'random', 'opt', 'linux', 'kernel-fifo', 'kernel-lru', 'kernel-clock', 'kernel-random'])).min(1).optional(),
    ...common,
  }),
} as const

export type OpName = keyof typeof OPS
export const OP_NAMES = Object.keys(OPS) as OpName[]

const built = new Map<OpName, z.ZodType>()

/** The schema of an op's arguments (built once, on first use). */
export function op_schema(op: OpName): z.ZodType {
  let schema = built.get(op)
  if (!schema) {
    schema = OPS[op]() as z.ZodType
    built.set(op, schema)
  }
  return schema
}

/** The machine a scenario boots (the same options as the command line's). */
export const MachineSpec = z.strictObject({
  arch: z.enum(['x86_64', 'i386', 'i386-pae']).optional(),
  ram: z.string().regex(/^\d+[KMGT]?$/, { error: 'expected a size like 256M or 1G' }).optional(),
  cpus: z.number().int().min(1).max(64).optional(),
  seed: z.number().int().nonnegative().optional(),
  /** kernel.randomize_va_space: 2 (default, as on Linux), 1 (all but brk), 0 (the fixed layout, like norandmaps). */
  randomize_va_space: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  slab: z.enum(['slub', 'slab']).optional(),
  debug_vm: z.boolean().optional(),
  /** A zram swap area of this size, swapped on at boot (MachineOptions.swap). */
  swap: z.string().regex(/^\d+[KMGT]?$/, { error: 'expected a size like 256M or 1G' }).optional(),
  /** The page-replacement policy of reclaim (MachineOptions.reclaim): linux (default), fifo, lru, clock, random. */
  reclaim: z.enum(RECLAIM_POLICIES).optional(),
})

/** A whole file, for the JSON Schema (steps are checked one by one when loading, for exact error places). */
export function scenario_schema(): z.ZodType {
  return z.strictObject({
    /** A lesson's heading, printed first. */
    title: z.string().optional(),
    description: z.string().optional(),
    machine: MachineSpec.optional(),
    steps: z.array(z.union(OP_NAMES.map((op) => z.strictObject({ [op]: op_schema(op), say: Say.optional() })) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])),
  })
}
