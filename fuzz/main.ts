/**
 * npm run fuzz -- [--ops N] [--seeds A-B] [--ram 32M] [--swap 16M] [--hostile 0.2] [--fail 1]
 *                 [--check 200] [--hang-ms 60000] [--replay FILE] [--minimise] [--out DIR] [--json]
 *
 * Runs one fuzz run per seed (each on a fresh machine), prints the
 * failures by class, writes each failing op list (minimised with
 * --minimise) to DIR/seed-<n>.json, and exits 1 if anything failed.
 * --replay FILE runs a recorded list instead (with the seed and machine
 * options given).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { decode_ops, encode_ops, show_op } from './ops.js'
import { fuzz_minimise, fuzz_replay, fuzz_run } from './run.js'

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`)

const ops = Number(arg('ops', '2000'))
const [a, b] = arg('seeds', '1-4').split('-').map(Number)
const ram = arg('ram', '32M')
const hostile = Number(arg('hostile', '0.2'))
const fail_percent = Number(arg('fail', '1'))
const check_every = Number(arg('check', '200'))
const out = arg('out', '/tmp/fuzz/failures')
const swap = arg('swap', '') || undefined
const hang_ms = Number(arg('hang-ms', '60000'))
const opts = { ram, fail_percent, check_every, swap }

const replay = arg('replay', '')
if (replay) {
  const list = decode_ops(readFileSync(replay, 'utf8'))
  const r = fuzz_replay({ ...opts, seed: a }, list)
  console.log(r.failure ? `op ${r.at}: ${r.ops[r.at] ? show_op(r.ops[r.at]) : '(final check)'}\n${r.failure.message}` : `no failure in ${list.length} ops`)
  process.exit(r.failure ? 1 : 0)
}

const by_class = new Map<string, number[]>()
let total = 0
const t0 = performance.now()
for (let seed = a; seed <= (b ?? a); seed++) {
  const r = fuzz_run({ ...opts, seed, ops, hostile, hang_ms })
  total += r.at
  if (!r.failure) continue
  const cls = r.failure.cls
  by_class.set(cls, [...(by_class.get(cls) ?? []), seed])
  let list = r.ops
  if (flag('minimise')) list = fuzz_minimise({ ...opts, seed }, list, cls)
  mkdirSync(out, { recursive: true })
  writeFileSync(`${out}/seed-${seed}.json`, encode_ops(list))
  console.log(`seed ${seed}: op ${r.at} ${r.ops[r.at] ? show_op(r.ops[r.at]) : '(final check)'}: ${r.failure.message}`)
  if (flag('minimise')) for (const o of list) console.log(`    ${show_op(o)}`)
}
const secs = (performance.now() - t0) / 1000
const summary = { ops: total, seeds: `${a}-${b ?? a}`, ram, hostile, fail_percent, seconds: Math.round(secs), failures: Object.fromEntries([...by_class].map(([k, v]) => [k, v.length])) }
console.log(flag('json') ? JSON.stringify(summary) : `${total} ops, seeds ${summary.seeds}, ${summary.seconds} s; failures: ${by_class.size ? [...by_class].map(([k, v]) => `${k} ${v.length} (seeds ${v.slice(0, 8).join(',')}${v.length > 8 ? ',...' : ''})`).join('; ') : 'none'}`)
process.exit(by_class.size ? 1 : 0)
