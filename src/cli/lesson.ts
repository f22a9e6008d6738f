/**
 * `mmsim lesson [TOPIC]`: the lessons are scenario files shipped in the
 * package (lessons/NN-topic.yaml), run as `mmsim run` runs any scenario,
 * with a `say:` line after each step explaining what to look at. The
 * topic is the file's name without its number; the number orders them.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load_scenario, ScenarioFileError } from '../scenario/load.js'
import { run_command, type RunCommandOptions } from './run.js'

/**
 * The lessons directory: lessons/ beside the package.json nearest above this
 * file, which is dist/src/cli/lesson.js or a chunk of the bundled command in
 * dist/bin/ (installed or in the clone).
 */
export const LESSON_DIR = join(package_root(dirname(fileURLToPath(import.meta.url))), 'lessons')

function package_root(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d
    // No package.json up to the root (a copied dist/): where tsc's layout puts the package.
    if (dirname(d) === d) return resolve(dir, '../../..')
  }
}

export interface LessonFile {
  topic: string
  file: string
}

export interface Lesson extends LessonFile {
  title: string
}

/** Every lesson's topic and file, in the order of their numbers, from the file names alone. */
export function lesson_files(dir = LESSON_DIR): LessonFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d+-[a-z0-9-]+\.yaml$/.test(f))
    .sort()
    .map((f) => ({ topic: f.replace(/^\d+-/, '').replace(/\.yaml$/, ''), file: join(dir, f) }))
}

/** Every lesson with its title: each file is loaded (parsed and validated). */
export function lessons(dir = LESSON_DIR): Lesson[] {
  return lesson_files(dir).map((l) => ({ ...l, title: load_scenario(readFileSync(l.file, 'utf8'), l.file).title ?? '' }))
}

/**
 * f() over the lesson directory; a lesson file or directory that does not
 * load is a packaging bug: still one line on stderr, not a stack trace.
 */
function from_lessons<T>(f: () => T, err: (s: string) => void): T | undefined {
  try {
    return f()
  } catch (e) {
    if (!(e instanceof ScenarioFileError) && (e as { code?: string }).code === undefined) throw e
    err(`mmsim: lesson: ${(e as Error).message.split('\n')[0]}`)
    return undefined
  }
}

export function lesson_command(topic: string | undefined, list: boolean, o: RunCommandOptions, out: (s: string) => void, err: (s: string) => void): number {
  if (list || topic === undefined) {
    // The list shows titles: every lesson is loaded.
    const all = from_lessons(() => lessons(), err)
    if (!all) return 2
    const w = Math.max(...all.map((l) => l.topic.length))
    for (const l of all) out(`${l.topic.padEnd(w)}  ${l.title}`)
    return 0
  }
  // One lesson is found by its file name and loaded once, by run_command as `mmsim run` loads
  // a scenario (loading every lesson to find it was most of a lesson's start-up).
  const all = from_lessons(() => lesson_files(), err)
  if (!all) return 2
  const l = all.find((x) => x.topic === topic)
  if (!l) {
    err(`mmsim: lesson: no lesson '${topic}' (topics: ${all.map((x) => x.topic).join(', ')})`)
    return 2
  }
  return run_command(l.file, o, out, err)
}
