/**
 * The reclaim oracle's scenarios as a rate (issue 8: the simulated
 * machine's pgsteal rate beside the real kernel's): `node
 * dist/bench/reclaim_oracle_child.js` replays every recorded scenario in
 * test/fixtures/reclaim (public, generated and extra) and prints one JSON object:
 * for the simulator, pages reclaimed (pgsteal_file + pgsteal_anon of its
 * final dump) per second of wall time of each replay (machine boot, set-up
 * and ops, as roracle's wall time covers its set-up and ops); for the real
 * kernel, the same from each scenario's recorded result and the roracle
 * wall time recorded beside it (test/fixtures/reclaim/wall_times.json:
 * the median of the recording runs). Scenarios without a recorded wall
 * time count for the simulator only.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { replay_text } from '../src/cli/replay.js'

interface Dump {
  vmstat: { pgsteal_file: number; pgsteal_anon: number }
}

const root = fileURLToPath(new URL('../../test/fixtures/reclaim/', import.meta.url))
const walls = (JSON.parse(readFileSync(`${root}wall_times.json`, 'utf8')) as { scenarios: Record<string, { wall_s: number }> }).scenarios
const steal = (text: string): number => {
  const d = (JSON.parse(text) as { dumps: Dump[] }).dumps.at(-1)!.vmstat
  return d.pgsteal_file + d.pgsteal_anon
}

let n = 0
let sim_pages = 0
let sim_s = 0
let timed = 0
let real_pages = 0
let real_s = 0
let timed_sim_s = 0
const per: number[] = []
for (const [dir, prefix] of [['', 'p'], ['generated/', ''], ['extra/', '']] as const) {
  for (const name of readdirSync(`${root}${dir}scenarios`).filter((f) => f.endsWith('.json')).sort()) {
    const text = readFileSync(`${root}${dir}scenarios/${name}`, 'utf8')
    const t0 = performance.now()
    const got = replay_text(text)
    const dt = (performance.now() - t0) / 1000
    n++
    sim_pages += steal(got)
    sim_s += dt
    per.push(dt)
    const w = walls[prefix + name]
    if (w) {
      timed++
      real_pages += steal(readFileSync(`${root}${dir}expected/${name}`, 'utf8'))
      real_s += w.wall_s
      timed_sim_s += dt
    }
  }
}
per.sort((a, b) => a - b)
process.stdout.write(
  JSON.stringify({
    scenarios: n,
    sim_pages,
    sim_wall_s: sim_s,
    sim_pages_per_s: sim_pages / sim_s,
    sim_median_wall_s: per[per.length >> 1],
    timed,
    real_pages,
    real_wall_s: real_s,
    real_pages_per_s: real_s ? real_pages / real_s : null,
    sim_wall_s_of_timed: timed_sim_s,
  }) + '\n',
)
