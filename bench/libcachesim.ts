/**
 * `mmsim trace` beside libCacheSim's `cachesim` CLI (issue 8, Performance:
 * "faster than its cachesim CLI"), when the environment names a cachesim
 * binary built from libCacheSim's public source:
 *
 *   LIBCACHESIM_CACHESIM=/path/to/cachesim npm run bench -- --only trace
 *
 * Nothing of libCacheSim is part of mmsim; without the variable these rows
 * are left out. The bench's key stream is written once as an oracleGeneral
 * file (libCacheSim's binary records, next-use times filled in for its
 * Belady); both tools then read that same file, with unit-size objects and
 * the same number of frames. cachesim reports its own throughput (requests
 * per second of its simulation loop, reading included, start-up excluded);
 * mmsim's is `mmsim trace`'s simulate_file() on the file, reading, parsing,
 * interning and the policy (and OPT's two passes through its spool files)
 * included, wall time (cachesim's figure is wall time too), best of five;
 * the two tools take turns.
 *
 * Misses must agree: cachesim prints only a miss ratio, to four decimals,
 * so it must count the same requests and mmsim's misses / refs must round
 * to the same four decimals, or the bench stops.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { simulate_file } from '../src/cli/trace.js'
import type { PolicyName } from '../src/trace/policies/policy.js'

/** mmsim's policy -> libCacheSim's eviction algorithm of the same definition (src/trace/policies). */
const ALGOS: ReadonlyArray<[PolicyName, string]> = [
  ['lru', 'LRU'],
  ['fifo', 'FIFO'],
  ['clock', 'Clock'],
  ['opt', 'Belady'],
]

/** Records of 24 bytes: u32 timestamp, u64 object id, u32 size, i64 next access (request index, -1: never). */
function write_oracle_general(path: string, pages: Float64Array): void {
  const n = pages.length
  const buf = Buffer.alloc(24 * n)
  const next = new Map<number, number>()
  for (let i = n - 1; i >= 0; i--) {
    const o = 24 * i
    buf.writeUInt32LE(i + 1, o)
    buf.writeBigUInt64LE(BigInt(pages[i]), o + 4)
    buf.writeUInt32LE(1, o + 12)
    buf.writeBigInt64LE(BigInt(next.get(pages[i]) ?? -1), o + 16)
    next.set(pages[i], i + 1)
  }
  writeFileSync(path, buf)
}

interface CachesimRun {
  reqs: number
  miss_ratio: string
  refs_per_s: number
}

/** One cachesim run; its summary line: "<trace> <algo> cache size N, R req, miss ratio X, throughput T MQPS". */
function cachesim(bin: string, file: string, algo: string, frames: number): CachesimRun {
  const out = execFileSync(bin, [file, 'oracleGeneral', algo, String(frames), '--ignore-obj-size=true', '--num-thread=1', '-o', file + '.out'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const m = /cache size\s+\d+,\s+(\d+) req, miss ratio ([0-9.]+), throughput ([0-9.]+) MQPS/.exec(out)
  if (!m) throw new Error(`libcachesim bench: cannot read cachesim's output: ${out.trim().slice(-200)}`)
  return { reqs: Number(m[1]), miss_ratio: m[2], refs_per_s: Number(m[3]) * 1e6 }
}

/**
 * The CPU seconds (user + system) of one whole run of a command, from
 * bash's `time` (the child's rusage, to the millisecond): wall time on a
 * shared host swings with the others' load, CPU time much less.
 */
function process_cpu(argv: string[]): number {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; time "$0" "$@" >/dev/null 2>&1', ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const m = /([0-9.]+) ([0-9.]+)\s*$/.exec(r.stderr)
  if (r.status !== 0 || !m) throw new Error(`libcachesim bench: ${argv.join(' ')} failed: ${r.stderr.trim().slice(-200)}`)
  return Number(m[1]) + Number(m[2])
}

function cachesim_cpu(bin: string, file: string, algo: string, frames: number): number {
  return process_cpu([bin, file, 'oracleGeneral', algo, String(frames), '--ignore-obj-size=true', '--num-thread=1', '-o', file + '.out'])
}

/** The bundled command beside this file's build (dist/bench -> dist/bin/mmsim.js), as the package's bin runs it. */
const MMSIM = fileURLToPath(new URL('../bin/mmsim.js', import.meta.url))

/** One whole `mmsim trace` process, as a user runs it: Node's start-up, loading, and V8 compiling the hot loops included. */
function mmsim_cpu(file: string, policy: PolicyName, frames: number): number {
  return process_cpu([process.execPath, MMSIM, 'trace', file, '--policy', policy, '--frames', String(frames)])
}

/**
 * Adds libcachesim_<algo>_refs_per_s and trace_<policy>_vs_libcachesim per
 * policy (wall time, cachesim's own figure),
 * trace_file_<policy>_cpu_vs_libcachesim: cachesim's CPU time for the file,
 * less its CPU time for a one-record file (start-up and set-up), over
 * simulate_file()'s CPU time in this process (best of five: V8 has
 * compiled its loops by then), and trace_cli_<policy>_cpu_vs_libcachesim:
 * the same figure of cachesim over the same of whole `mmsim trace`
 * processes (the file's run less the one-record file's), so each tool's
 * start-up is left out alike and mmsim's compiling of its loops, which a
 * user's single run pays, is counted. Higher is better for mmsim. Returns
 * a note for the text output, or null when no cachesim is set.
 */
export async function libcachesim_rows(metrics: Record<string, number>, pages: Float64Array, frames: number): Promise<string | null> {
  const bin = process.env.LIBCACHESIM_CACHESIM
  if (!bin) return null
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-lcs-'))
  try {
    const file = join(dir, 'keys.oracleGeneral.bin')
    write_oracle_general(file, pages)
    const tiny = join(dir, 'tiny.oracleGeneral.bin')
    write_oracle_general(tiny, pages.subarray(0, 1))
    const notes: string[] = []
    for (const [policy, algo] of ALGOS) {
      // Turn about, best of five each: a busy spell of the shared host falls on both alike.
      let best = Infinity
      let misses = 0
      let refs = 0
      let theirs: CachesimRun | null = null
      let our_cpu = Infinity, their_cpu = Infinity, their_startup = Infinity, cli_cpu = Infinity, cli_startup = Infinity
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now()
        const c0 = process.cpuUsage()
        const r = await simulate_file(file, { policy, frames })
        const c = process.cpuUsage(c0)
        best = Math.min(best, performance.now() - t0)
        our_cpu = Math.min(our_cpu, (c.user + c.system) / 1e6)
        misses = r.misses
        refs = r.refs
        const again = cachesim(bin, file, algo, frames)
        if (!theirs || again.refs_per_s > theirs.refs_per_s) theirs = again
        their_cpu = Math.min(their_cpu, cachesim_cpu(bin, file, algo, frames))
        their_startup = Math.min(their_startup, cachesim_cpu(bin, tiny, algo, frames))
        cli_cpu = Math.min(cli_cpu, mmsim_cpu(file, policy, frames))
        cli_startup = Math.min(cli_startup, mmsim_cpu(tiny, policy, frames))
      }
      if (!theirs) throw new Error('libcachesim bench: no run')
      const ours = (refs / best) * 1000
      const ratio = (misses / refs).toFixed(4)
      if (theirs.reqs !== refs || theirs.miss_ratio !== ratio) {
        throw new Error(`libcachesim bench: ${policy}: mmsim ${misses} misses of ${refs} (${ratio}), cachesim ${theirs.miss_ratio} of ${theirs.reqs}`)
      }
      metrics[`libcachesim_${policy}_refs_per_s`] = Math.round(theirs.refs_per_s)
      metrics[`trace_file_${policy}_refs_per_s`] = Math.round(ours)
      metrics[`trace_file_${policy}_vs_libcachesim`] = Number((ours / theirs.refs_per_s).toFixed(3))
      metrics[`trace_file_${policy}_cpu_vs_libcachesim`] = Number(((their_cpu - their_startup) / our_cpu).toFixed(3))
      metrics[`trace_cli_${policy}_cpu_vs_libcachesim`] = Number(((their_cpu - their_startup) / (cli_cpu - cli_startup)).toFixed(3))
      notes.push(`${policy} ${misses}`)
    }
    return `libCacheSim's cachesim on the same ${pages.length} references as oracleGeneral, miss ratios equal (misses: ${notes.join(', ')})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
