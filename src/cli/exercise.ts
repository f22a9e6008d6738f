/** `mmsim exercise TOPIC --seed N [--answers] [--json]` and `mmsim exercise --list`. */
import type { MachineOptions } from '../machine.js'
import { exercise_text } from '../exercise/exercise.js'
import { TOPICS, generate_exercise } from '../exercise/topics.js'

export interface ExerciseArgs {
  topic: string | undefined
  seed: number
  list: boolean
  answers: boolean
  json: boolean
  /** Only the machine options given on the command line (each topic has its own defaults). */
  machine: Omit<MachineOptions, 'seed'>
}

export function exercise_command(a: ExerciseArgs, out: (s: string) => void): number {
  if (a.list) {
    for (const t of TOPICS) out(`${t.name.padEnd(12)} ${t.summary}`)
    return 0
  }
  const ex = generate_exercise(a.topic as string, { seed: a.seed, machine: a.machine })
  out(a.json ? JSON.stringify(ex, null, 2) : exercise_text(ex, a.answers))
  return 0
}
