/**
 * Runs of the fuzzer: a seeded run that generates and executes operations
 * (recording them), the replay of a recorded list, and the minimisation of
 * a failing list (delta debugging: drop chunks of operations while the
 * failure keeps its class).
 */
import { KernelBug } from '../src/index.js'
import { FuzzFailure, World, type FailureClass, type WorldOptions } from './exec.js'
import { Generator } from './gen.js'
import type { Op } from './ops.js'
import { FuzzRng } from './rng.js'

export interface RunOptions extends WorldOptions {
  /** Operations to run. */
  readonly ops: number
  /** Whole-machine check every `check_every` operations (and at the end). */
  readonly check_every: number
  /** Probability that an argument is hostile. */
  readonly hostile: number
  /** An op slower than this many ms is a hang (default 60 s). */
  readonly hang_ms?: number
}

export interface RunResult {
  readonly ops: Op[]
  readonly failure: FuzzFailure | null
  /** Index of the failing op (ops.length when the final check failed). */
  readonly at: number
  readonly counts: ReadonlyMap<string, number>
}

/**
 * A single op slower than this (wall time) is a hang. Legitimate ops can be long: a
 * MAP_POPULATE of a 2 GiB sparse file on a 32 MiB machine faults and reclaims half a million
 * pages (17-27 s on a loaded 2-core host); a livelock runs until the limit.
 */
const HANG_MS = 60_000

function step(w: World, op: Op, i: number, check_every: number, hang_ms = HANG_MS): void {
  const t0 = performance.now()
  w.run(op)
  if (performance.now() - t0 > hang_ms) throw new FuzzFailure('hang' as FailureClass, `op ${i} took ${Math.round(performance.now() - t0)} ms`)
  if ((i + 1) % check_every === 0) {
    check(w)
    // No user-space operation may make the kernel report a bug ("BUG: Bad page state",
    // "kernel BUG at", KASAN): the log is read before it is cleared.
    const bug = w.m.printk.records.find((r) => /^BUG: |kernel BUG at/.test(r.text))
    if (bug) throw new FuzzFailure('invariant', `dmesg: ${bug.text}`)
    // dmesg -C: the injected failures and OOM kills fill the log.
    w.m.printk.records.length = 0
  }
}

function check(w: World): void {
  try {
    w.m.check()
  } catch (e) {
    if (e instanceof KernelBug) throw new FuzzFailure('invariant', `checker: ${e.message}`)
    throw e
  }
}

function wrap(e: unknown): FuzzFailure {
  if (e instanceof FuzzFailure) return e
  if (e instanceof KernelBug) return new FuzzFailure('invariant', e.message)
  return new FuzzFailure('escaped', `${(e as Error)?.name}: ${(e as Error)?.message}`)
}

/** Generate and run `o.ops` operations from `o.seed`. */
export function fuzz_run(o: RunOptions): RunResult {
  const w = new World(o)
  const gen = new Generator(new FuzzRng(o.seed * 7919 + 17), { hostile: o.hostile, swap: o.swap !== undefined })
  const ops: Op[] = []
  let i = 0
  try {
    for (; i < o.ops; i++) {
      const op = gen.next(w)
      ops.push(op)
      step(w, op, i, o.check_every, o.hang_ms)
    }
    check(w)
  } catch (e) {
    return { ops, failure: wrap(e), at: i, counts: w.counts }
  }
  return { ops, failure: null, at: i, counts: w.counts }
}

/** Run a recorded list on a fresh world. */
export function fuzz_replay(o: WorldOptions & { check_every: number }, ops: readonly Op[]): RunResult {
  const w = new World(o)
  let i = 0
  try {
    for (; i < ops.length; i++) step(w, ops[i], i, o.check_every)
    check(w)
  } catch (e) {
    return { ops: [...ops], failure: wrap(e), at: i, counts: w.counts }
  }
  return { ops: [...ops], failure: null, at: i, counts: w.counts }
}

/**
 * Delta debugging (ddmin): the smallest list found that still fails with
 * the same class. The list is first cut after the failing op; then chunks
 * of halving size are removed while the failure persists.
 */
export function fuzz_minimise(o: WorldOptions & { check_every: number }, ops: readonly Op[], cls: FailureClass, budget = 400, seconds = 120): Op[] {
  const deadline = performance.now() + seconds * 1000
  const fails = (l: readonly Op[]): RunResult | null => {
    const r = fuzz_replay(o, l)
    return r.failure?.cls === cls ? r : null
  }
  const first = fails(ops)
  if (!first) return [...ops]
  let cur = ops.slice(0, first.at + 1)
  let n = 2
  let tries = 0
  while (cur.length >= 2 && tries < budget && performance.now() < deadline) {
    const chunk = Math.ceil(cur.length / n)
    let reduced = false
    for (let s = 0; s < cur.length && tries < budget; s += chunk) {
      const cand = [...cur.slice(0, s), ...cur.slice(s + chunk)]
      tries++
      const r = fails(cand)
      if (r) {
        cur = cand.slice(0, r.at + 1)
        n = Math.max(n - 1, 2)
        reduced = true
        break
      }
    }
    if (!reduced) {
      if (chunk === 1) break
      n = Math.min(n * 2, cur.length)
    }
  }
  return cur
}
