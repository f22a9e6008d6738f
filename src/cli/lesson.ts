/**
 * `mmsim lesson [TOPIC]`: the lessons are scenario files shipped in the
 * package (lessons/NN-topic.yaml), run as `mmsim run` runs any scenario,
 * with a `say:` line after each step explaining what to look at. The
 * topic is the file's name without its number; the number orders them.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load_scenario, ScenarioFileError } from '../scenario/load.js'
import { run_command, type RunCommandOptions } from './run.js'

/** The lessons directory: the package's lessons/, from dist/src/cli (installed or in the clone). */
export const LESSON_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../lessons')

export interface Lesson {
  topic: string
  file: string
  title: string
}

/** Every lesson, in the order of their numbers. */
export function lessons(dir = LESSON_DIR): Lesson[] {
  return readdirSync(dir)
    .filter((f) => /^\d+-[a-z0-9-]+\.yaml$/.test(f))
    .sort()
    .map((f) => {
      const file = join(dir, f)
      const sc = load_scenario(readFileSync(file, 'utf8'), file)
      return { topic: f.replace(/^\d+-/, '').replace(/\.yaml$/, ''), file, title: sc.title ?? '' }
    })
}

export function lesson_command(topic: string | undefined, list: boolean, o: RunCommandOptions, out: (s: string) => void, err: (s: string) => void): number {
  let all: Lesson[]
  try {
    all = lessons()
  } catch (e) {
    // A lesson file that does not load is a packaging bug; still one line, not a stack trace.
    if (!(e instanceof ScenarioFileError) && (e as { code?: string }).code === undefined) throw e
    err(`mmsim: lesson: ${(e as Error).message.split('\n')[0]}`)
    return 2
  }
  if (list || topic === undefined) {
    const w = Math.max(...all.map((l) => l.topic.length))
    for (const l of all) out(`${l.topic.padEnd(w)}  ${l.title}`)
    return 0
  }
  const l = all.find((x) => x.topic === topic)
  if (!l) {
    err(`mmsim: lesson: no lesson '${topic}' (topics: ${all.map((x) => x.topic).join(', ')})`)
    return 2
  }
  return run_command(l.file, o, out, err)
}
