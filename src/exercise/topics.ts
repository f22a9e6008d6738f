/** The exercise topics, in `mmsim exercise --list` order. */
import { buddy } from './buddy.js'
import { type Exercise, ExerciseError, type ExerciseOptions, type Topic } from './exercise.js'
import { replacement } from './replacement.js'
import { translate } from './translate.js'
import { vma } from './vma.js'
import { slab } from './slab.js'
import { cow } from './cow.js'

export const TOPICS: readonly Topic[] = [buddy, translate, replacement, vma, slab, cow]

export function topic_names(): string[] {
  return TOPICS.map((t) => t.name)
}

/** Generates an exercise; an unknown topic or a seed that is not a safe non-negative integer is an ExerciseError. */
export function generate_exercise(topic: string, o: ExerciseOptions): Exercise {
  const t = TOPICS.find((x) => x.name === topic)
  if (!t) throw new ExerciseError(`exercise: unknown topic '${topic}' (topics: ${topic_names().join(', ')})`)
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new ExerciseError(`exercise: --seed: '${o.seed}' is not a non-negative integer`)
  return t.generate(o)
}
