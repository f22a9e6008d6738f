/**
 * What every exercise topic shares: the exercise's shape (the `--json`
 * output), the options a generator gets, and the text rendering.
 */
import type { MachineOptions } from '../machine.js'

/** One question: what is asked, the answer, and how the answer comes about. */
export interface Question {
  text: string
  answer: string
  reasoning: string
}

export interface Exercise {
  topic: string
  seed: number
  questions: Question[]
}

/** What a generator gets: the exercise seed and the machine options of the command line. */
export interface ExerciseOptions {
  seed: number
  /** arch, ram, cpus, slab for the machines a generator boots (its seed is the exercise's). */
  machine?: Omit<MachineOptions, 'seed'>
}

export interface Topic {
  readonly name: string
  /** One line for `mmsim exercise --list`. */
  readonly summary: string
  generate(o: ExerciseOptions): Exercise
}

/** A bad topic, seed or machine for an exercise: the CLI prints the message and exits 2. */
export class ExerciseError extends Error {}

/** The text rendering: every question first, then (with answers) the answers and the reasoning. */
export function exercise_text(ex: Exercise, answers: boolean): string {
  const n = ex.questions.length
  const label = (i: number): string => (n === 1 ? '' : ` ${i + 1}`)
  const out: string[] = [`Exercise: ${ex.topic}, seed ${ex.seed}`, '']
  ex.questions.forEach((q, i) => out.push(`Question${label(i)}:`, q.text, ''))
  if (answers) {
    out.push('Answers', '-------')
    ex.questions.forEach((q, i) => out.push(`Answer${label(i)}:`, q.answer, ''))
    out.push('Reasoning', '---------')
    ex.questions.forEach((q, i) => out.push(`Reasoning${label(i)}:`, q.reasoning, ''))
  } else {
    out.push('(run again with --answers for the answers and the reasoning)')
  }
  while (out[out.length - 1] === '') out.pop()
  return out.join('\n')
}
