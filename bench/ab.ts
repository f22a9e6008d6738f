/**
 * A/B comparison of two builds on the hot paths issue 6 guards:
 *
 *   node dist/bench/ab.js DIST_A DIST_B [--rounds N] [--only fault,mmap,kmalloc,tlb]
 *
 * DIST_A and DIST_B are dist directories of two builds (`npm run build` in
 * each worktree). Each round runs every benchmark once per build, each run
 * in a fresh process (bench/ab_child.ts), A and B back to back and in
 * alternating order (AB, BA, AB, ...) so that drift in the machine's load
 * falls on both alike. Rates are operations per CPU second. Prints, per
 * benchmark, the median rate of each build with its spread (min..max), and
 * B/A as the ratio of the medians with the range of the per-round ratios.
 * A ratio below 0.95 is flagged: issue 6's rule is that none may drop more
 * than 5 %.
 */
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BENCHES = ['fault', 'mmap', 'kmalloc', 'tlb'] as const
const NAMES: Record<string, string> = {
  fault: 'anon write faults/s',
  mmap: 'mmap+munmap pairs/s',
  kmalloc: 'kmalloc64+kfree pairs/s',
  tlb: 'TLB-hit loads/s',
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const h = s.length >> 1
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2
}

function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`
  return x.toFixed(0)
}

function parse_args(argv: string[]): { a: string; b: string; rounds: number; only: string[] } {
  const pos: string[] = []
  let rounds = 7
  let only: string[] = [...BENCHES]
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') rounds = Number(argv[++i])
    else if (argv[i] === '--only') only = argv[++i].split(',')
    else pos.push(argv[i])
  }
  if (pos.length !== 2 || !Number.isInteger(rounds) || rounds < 1 || only.some((b) => !BENCHES.includes(b as never))) {
    process.stderr.write(`usage: ab.js DIST_A DIST_B [--rounds N] [--only ${BENCHES.join(',')}]\n`)
    process.exit(2)
  }
  return { a: pos[0], b: pos[1], rounds, only }
}

const child = fileURLToPath(new URL('./ab_child.js', import.meta.url))

/** One run of one benchmark on one build, in its own process: operations per CPU second. */
function measure(dist: string, bench: string): number {
  const out = execFileSync(process.execPath, [child, dist, bench], { encoding: 'utf8' })
  return (JSON.parse(out) as { rate: number }).rate
}

const { a, b, rounds, only } = parse_args(process.argv.slice(2))
const rates = new Map<string, { a: number[]; b: number[] }>(only.map((n) => [n, { a: [], b: [] }]))
for (let r = 0; r < rounds; r++) {
  for (const name of only) {
    const x = rates.get(name) as { a: number[]; b: number[] }
    if (r % 2 === 0) {
      x.a.push(measure(a, name))
      x.b.push(measure(b, name))
    } else {
      x.b.push(measure(b, name))
      x.a.push(measure(a, name))
    }
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`)
}

console.log(`A = ${a}\nB = ${b}\n${rounds} rounds, CPU time, one process per run, A and B interleaved\n`)
console.log(`${'benchmark'.padEnd(24)} ${'A median (min..max)'.padEnd(26)} ${'B median (min..max)'.padEnd(26)} B/A (per-round range)`)
let low = false
for (const name of only) {
  const x = rates.get(name) as { a: number[]; b: number[] }
  const ma = median(x.a)
  const mb = median(x.b)
  const ratio = mb / ma
  const per_round = x.a.map((v, i) => x.b[i] / v)
  const flag = ratio < 0.95 ? '  << below 0.95' : ''
  if (ratio < 0.95) low = true
  const col = (m: number, xs: number[]): string => `${fmt(m)} (${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))})`.padEnd(26)
  console.log(`${NAMES[name].padEnd(24)} ${col(ma, x.a)} ${col(mb, x.b)} ${ratio.toFixed(3)} (${Math.min(...per_round).toFixed(2)}..${Math.max(...per_round).toFixed(2)})${flag}`)
}
process.exitCode = low ? 1 : 0
