/**
 * Issue 8's full-system reclaim rows: pages reclaimed per CPU second
 * (bench/reclaim_child.ts in a fresh process) under a streaming file read
 * through a memory cgroup smaller than the file, and under anonymous
 * pressure with zram swap, each beside the real kernel doing the same
 * (bench/reclaim_bench.c: it needs root and the cgroup v1 memory
 * controller, else the real side is left out). The real anonymous row needs
 * swap on zram: when the host has no swap, it is switched on for that one
 * run with the reclaim oracle's setup.sh (../shared/reclaim-oracle, or
 * $MMSIM_ZRAM_SETUP) and off again right after, whatever happens; without
 * the script, or with swap on another kind of device, the row is left out.
 * Then bench/reclaim_oracle_rows.ts: pgsteal per second of wall time on
 * the reclaim oracle's recorded scenarios.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compiled, run_child, run_real } from './cc.js'
import { put_rate, type Metrics } from './rows.js'
import { reclaim_oracle_rows } from './reclaim_oracle_rows.js'

interface Reclaim {
  pages_reclaimed: number
  swapped_out?: number
  pages_per_s: number
}

const ANON_ARGS = [96, 32, 2] as const

/** The swap areas on the host (/proc/swaps without its header). */
function swaps(): string[] {
  return readFileSync('/proc/swaps', 'utf8').split('\n').slice(1).filter((l) => l.trim())
}

/** The real kernel's anonymous row, or why it is left out. */
function real_anon(): Reclaim | string {
  if (process.getuid?.() !== 0) return 'not root'
  if (!existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) return 'no cgroup v1 memory controller'
  const exe = compiled('reclaim_bench')
  if (!exe) return 'reclaim_bench.c does not build'
  const on = swaps()
  if (on.length) {
    // Someone else's swap: used as it is when it is zram only, never switched off here.
    if (!on.every((l) => l.startsWith('/dev/zram'))) return 'swap is on a device other than zram'
    return run_real<Reclaim>('reclaim_bench', ['anon', ...ANON_ARGS]) ?? 'reclaim_bench anon failed'
  }
  const setup = process.env.MMSIM_ZRAM_SETUP ?? fileURLToPath(new URL('../../../shared/reclaim-oracle/setup.sh', import.meta.url))
  if (!existsSync(setup)) return `no swap and no zram set-up script (${setup}; set MMSIM_ZRAM_SETUP)`
  // A private state directory: setup.sh off then removes only the zram device made here.
  const state = mkdtempSync(join(tmpdir(), 'mmsim-zram-'))
  try {
    const out = execFileSync('sh', ['-c', 'trap "sh \\"$0\\" off" EXIT INT TERM; sh "$0" swap >/dev/null && "$1" anon "$2" "$3" "$4"', setup, exe, ...ANON_ARGS.map(String)], {
      encoding: 'utf8',
      env: { ...process.env, RORACLE_STATE: state },
    })
    return JSON.parse(out) as Reclaim
  } catch (e) {
    return `reclaim_bench anon failed: ${(e as Error).message.split('\n')[0]}`
  } finally {
    rmSync(state, { recursive: true, force: true })
    if (swaps().length) process.stderr.write('bench: WARNING: swap is still on after the anonymous reclaim row\n')
  }
}

/** The rows; returns a note on what was left out (empty when nothing was). */
export function reclaim_rows(metrics: Metrics): string {
  const notes: string[] = []
  const sim = run_child<Reclaim>('reclaim_child.js', ['stream', 128, 32, 3])
  const real = run_real<Reclaim>('reclaim_bench', ['stream', 128, 32, 3])
  if (!real) notes.push('streaming row without the real side (needs root, cgroup v1 and cc)')
  put_rate(metrics, 'reclaim_stream_pages', sim.pages_per_s, real?.pages_per_s)
  metrics.sim_reclaim_stream_pages = sim.pages_reclaimed
  if (real) metrics.real_reclaim_stream_pages = real.pages_reclaimed
  const anon = run_child<Reclaim>('reclaim_child.js', ['anon', ...ANON_ARGS])
  const ra = real_anon()
  if (typeof ra === 'string') notes.push(`anonymous row without the real side: ${ra}`)
  const r = typeof ra === 'string' ? null : ra
  put_rate(metrics, 'reclaim_anon_swap_pages', anon.pages_per_s, r?.pages_per_s)
  metrics.sim_reclaim_anon_pages = anon.pages_reclaimed
  metrics.sim_reclaim_anon_swapped_out = anon.swapped_out ?? 0
  if (r) {
    metrics.real_reclaim_anon_pages = r.pages_reclaimed
    metrics.real_reclaim_anon_swapped_out = r.swapped_out ?? 0
  }
  notes.push(...reclaim_oracle_rows(metrics))
  return notes.join('; ')
}
