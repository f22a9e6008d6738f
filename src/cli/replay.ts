/**
 * `mmsim replay FILE.json`: run one oracle scenario (../shared/oracle/) on a
 * fresh simulated machine and print the result JSON exactly as oracle.c
 * prints it. A malformed scenario prints one line on stderr and exits with 2.
 */
import { readFileSync } from 'node:fs'
import { Machine, type MachineOptions } from '../machine.js'
import { default_image } from '../kernel/exec.js'
import { KernelBug } from '../include/bug.js'
import { replay_scenario, ScenarioError, KERNEL_RELEASE } from '../oracle/replay.js'
import { is_reclaim_scenario, parse_reclaim_scenario, run_reclaim_scenario } from '../oracle/reclaim.js'

/** read_ahead_kb of the disk the oracle's "disk" files live on. */
const ORACLE_READ_AHEAD_KB = 8192

/** Replay a scenario text on a new machine; returns the result text (ending in a newline). */
export function replay_text(text: string, opts: MachineOptions = {}): string {
  if (is_reclaim_scenario(text)) return reclaim_text(text, opts)
  // The oracle's disk (/dev/vda under /var/tmp) has read_ahead_kb 8192 (../shared/oracle/FORMAT.md §3.4).
  const m = new Machine({ arch: 'x86_64', ram: '256M', seed: 1, read_ahead_kb: ORACLE_READ_AHEAD_KB, ...opts })
  const out = replay_scenario(text, {
    // The oracle's malloc is a static pool: its program break never moves (no [heap]).
    spawn: (name) => m.spawn({ name, image: { ...default_image(name, m.arch.bits), heap: 0 } }),
    swap_total_kb: m.swap_total_pages * 4,
    ksm_run: 0,
    kernel_release: KERNEL_RELEASE,
  })
  m.check()
  return out
}

/**
 * A reclaim-oracle scenario (it has a "cgroup" key): the oracle's machine has
 * 2 CPUs and its files on a zram device without readahead ("nora") or the disk.
 */
function reclaim_text(text: string, opts: MachineOptions): string {
  const s = parse_reclaim_scenario(text)
  // "zram": the oracle's set-up swaps on a zram device only (setup.sh swap).
  const swap = s.swap === 'zram' ? { swap: { size: '1G', kind: 'zram' as const } } : {}
  // "nora": the oracle's files are on ext4 on a zram device without readahead (setup.sh nora), so a
  // page read costs microseconds, and the time between sync points (in which RCU grace periods end)
  // is the sync points' own.
  const disk: MachineOptions = s.fs === 'nora' ? { read_ahead_kb: 0, root_disk: 'zram' } : { read_ahead_kb: ORACLE_READ_AHEAD_KB }
  const m = new Machine({ arch: 'x86_64', ram: '256M', cpus: 2, seed: 1, ...disk, ...swap, ...opts })
  const out = run_reclaim_scenario(s, {
    spawn: (name) => m.spawn({ name }),
    memcg: m.mm_env.memcg,
    vmstat: m.vmstat,
    kernel_release: KERNEL_RELEASE,
    flush_tlb_mm: (mm) => m.mm_env.flush_tlb_mm(mm),
    elapse: (ns) => {
      m.clock.advance(ns)
      m.clock.run_timers()
    },
    swap: s.swap,
  })
  m.check()
  return out + '\n'
}

/**
 * The replay subcommand: 0 with the result on stdout; 2 with one line on
 * stderr for a malformed scenario; 1 with the oops line when the simulated
 * kernel hit a broken invariant (KernelBug), never a JS stack trace.
 */
export function replay_command(path: string, opts: MachineOptions, out: (s: string) => void, err: (s: string) => void): number {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (e) {
    err(`mmsim: replay: open ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`)
    return 2
  }
  try {
    out(replay_text(text, opts).replace(/\n$/, ''))
    return 0
  } catch (e) {
    if (e instanceof ScenarioError) {
      err(`mmsim: replay: ${e.message}`)
      return 2
    }
    if (e instanceof KernelBug) {
      err(`mmsim: replay: kernel BUG: ${e.message}`)
      return 1
    }
    throw e
  }
}
