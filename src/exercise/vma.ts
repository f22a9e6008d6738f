/**
 * `mmsim exercise vma`: which VMAs exist after a few mmap, mprotect and
 * munmap calls on a window of a process's address space. The calls run on
 * a simulated process (the kernel's vma_merge / split_vma decide); the
 * answer is /proc/<pid>/maps over the window, and the reasoning follows the
 * VMA list from call to call.
 */
import { errno_name } from '../include/uapi/errno.js'
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { Machine } from '../machine.js'
import type { Process } from '../user/process.js'
import type { Exercise, ExerciseOptions, Topic } from './exercise.js'
import { ExerciseRng } from './rng.js'

const PAGE = 4096
const WINDOW = 16
const hex = (n: number): string => `0x${n.toString(16)}`

export interface VmaCall {
  op: 'mmap' | 'mprotect' | 'munmap'
  /** First page and page count, relative to the window. */
  page: number
  pages: number
  prot: number
}

interface Area {
  start: number
  end: number
  perms: string
}

/** The maps lines of `p` that overlap [lo, hi). */
export function maps_in(m: Machine, p: Process, lo: number, hi: number): string[] {
  return m.proc(`/proc/${p.pid}/maps`).split('\n').filter((l) => {
    const r = /^([0-9a-f]+)-([0-9a-f]+) /.exec(l)
    return r !== null && parseInt(r[1], 16) < hi && parseInt(r[2], 16) > lo
  })
}

function areas(lines: readonly string[]): Area[] {
  return lines.map((l) => {
    const r = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(l) as RegExpExecArray
    return { start: parseInt(r[1], 16), end: parseInt(r[2], 16), perms: r[3] }
  })
}

const perms_of = (prot: number): string => `${prot & PROT_READ ? 'r' : '-'}${prot & PROT_WRITE ? 'w' : '-'}-p`
const prot_of = (perms: string): number => (perms[0] === 'r' ? PROT_READ : 0) | (perms[1] === 'w' ? PROT_WRITE : 0)
const prot_name = (prot: number): string => (prot === PROT_NONE ? 'PROT_NONE' : [prot & PROT_READ ? 'PROT_READ' : '', prot & PROT_WRITE ? 'PROT_WRITE' : ''].filter(Boolean).join('|'))

export function call_text(c: VmaCall, w: number): string {
  const a = hex(w + c.page * PAGE), len = `${c.pages * 4}K`
  if (c.op === 'mmap') return `mmap(${a}, ${len}, ${prot_name(c.prot)}, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED)`
  if (c.op === 'mprotect') return `mprotect(${a}, ${len}, ${prot_name(c.prot)})`
  return `munmap(${a}, ${len})`
}

/** Runs one call; returns what it returned (the address, 0, or -errno). */
export function vma_call(p: Process, w: number, c: VmaCall): number {
  const a = w + c.page * PAGE, len = c.pages * PAGE
  if (c.op === 'mmap') return p.sys_mmap(a, len, c.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
  if (c.op === 'mprotect') return p.sys_mprotect(a, len, c.prot)
  return p.sys_munmap(a, len)
}

/** Why the VMA list changed as it did, from the lists before and after. */
function explain(c: VmaCall, w: number, before: readonly Area[], after: readonly Area[], ret: number): string {
  if (ret < 0) {
    return `fails with ${errno_name(-ret)}${c.op === 'mprotect' ? ' (part of the range is not mapped: mprotect needs the whole range mapped, and changes nothing)' : ''}; the VMAs stay as they were.`
  }
  const lo = w + c.page * PAGE, hi = lo + c.pages * PAGE
  const key = (a: Area): string => `${a.start}-${a.end}-${a.perms}`
  const kept = new Set(before.map(key))
  const fresh = after.filter((a) => !kept.has(key(a)))
  const r = (a: Area): string => `${hex(a.start)}-${hex(a.end)} ${a.perms}`
  const overlapped = before.filter((a) => a.start < hi && a.end > lo)
  const parts: string[] = []
  if (c.op === 'mmap') {
    if (overlapped.length) parts.push(`MAP_FIXED first unmaps the range from what covered it (${overlapped.map(r).join(', ')})`)
    const home = after.find((a) => a.start <= lo && a.end >= hi)
    if (home && (home.start < lo || home.end > hi)) parts.push(`the new range merges with its neighbour${home.start < lo && home.end > hi ? 's on both sides' : home.start < lo ? ' below' : ' above'} into ${r(home)}: adjacent, anonymous, same flags (vma_merge)`)
    else parts.push('a VMA of its own: no adjacent VMA with the same flags to merge with')
  } else if (c.op === 'munmap') {
    if (!overlapped.length) parts.push('nothing was mapped there: munmap succeeds and changes nothing')
    for (const a of overlapped) {
      if (a.start < lo && a.end > hi) parts.push(`${r(a)} is split in two around the hole (split_vma twice)`)
      else if (a.start < lo || a.end > hi) parts.push(`${r(a)} is trimmed (split_vma, then the inner part is removed)`)
      else parts.push(`${r(a)} is removed whole`)
    }
  } else if (overlapped.every((a) => a.perms === perms_of(c.prot))) {
    parts.push(`the flags are already ${perms_of(c.prot)}: nothing changes (mprotect_fixup returns at once, no split)`)
  } else {
    for (const a of overlapped) {
      if (a.perms === perms_of(c.prot)) continue
      if (a.start < lo || a.end > hi) parts.push(`${r(a)} is split at the range's edges (split_vma) so that only the pages in the range change`)
    }
    const merged = fresh.filter((a) => a.start <= lo && a.end >= hi && (a.start < lo || a.end > hi) && a.perms === perms_of(c.prot))
    for (const a of merged) parts.push(`the changed range merges with a neighbour that already has these flags: ${r(a)} (vma_merge)`)
    if (!parts.length) parts.push('the range is exactly one VMA: its flags change in place')
  }
  return `${parts.join('; ')}. VMAs in the window now: ${after.length ? after.map(r).join(', ') : 'none'}.`
}

export function vma_exercise(o: ExerciseOptions): Exercise {
  const rng = new ExerciseRng(o.seed)
  const m = new Machine({ ram: '64M', ...o.machine, seed: o.seed })
  const p = m.spawn({ name: 'quiz' })
  // A window with a free window-sized gap on each side, so nothing outside it merges in.
  const g = p.mmap(0, 3 * WINDOW * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
  p.munmap(g, 3 * WINDOW * PAGE)
  const w = g + WINDOW * PAGE
  const prots = [PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE]
  // Each call is drawn against the VMAs as they are, mostly aimed at them (a split, a merge), sometimes anywhere.
  const calls: VmaCall[] = []
  const steps: string[] = []
  const window = (): Area[] => areas(maps_in(m, p, w, w + WINDOW * PAGE))
  const n = rng.int(3, 5)
  for (let i = 0; i < n; i++) {
    const now = window()
    let c: VmaCall
    if (i === 0) c = { op: 'mmap', page: rng.int(0, 4), pages: rng.int(6, 10), prot: PROT_READ | PROT_WRITE }
    else if (!now.length || rng.chance(1, 6)) {
      const page = rng.int(0, WINDOW - 2)
      c = { op: rng.pick(['mmap', 'mprotect', 'munmap'] as const), page, pages: rng.int(1, Math.min(5, WINDOW - page)), prot: rng.pick(prots) }
    } else {
      const a = rng.pick(now)
      const first = (a.start - w) / PAGE, count = (a.end - a.start) / PAGE
      const op = rng.pick(['mprotect', 'mprotect', 'munmap', 'mmap'] as const)
      if (op === 'mmap') {
        // Right after or before the area, often with its protection: a merge candidate.
        const after_it = first + count < WINDOW - 1 && (first === 0 || rng.chance(1, 2))
        const pages = after_it ? rng.int(1, Math.min(3, WINDOW - first - count)) : rng.int(1, Math.min(3, first))
        const page = after_it ? first + count : first - pages
        c = { op, page, pages, prot: rng.chance(2, 3) ? prot_of(a.perms) : rng.pick(prots) }
      } else {
        const page = first + rng.int(0, count - 1)
        const pages = rng.int(1, first + count - page)
        const other = prots.filter((x) => x !== prot_of(a.perms))
        c = { op, page, pages, prot: rng.pick(op === 'mprotect' && rng.chance(1, 3) ? prots : other) }
      }
    }
    const ret = vma_call(p, w, c)
    calls.push(c)
    steps.push(`${call_text(c, w)} = ${ret < 0 ? `-${errno_name(-ret)}` : ret === 0 ? '0' : hex(ret)}: ${explain(c, w, now, window(), ret)}`)
  }
  const lines = maps_in(m, p, w, w + WINDOW * PAGE)
  return {
    topic: 'vma',
    seed: o.seed,
    questions: [
      {
        text: `Process ${p.pid} has nothing mapped in ${hex(w)}-${hex(w + WINDOW * PAGE)} (${WINDOW} pages) nor in the ${WINDOW} pages on either side. It calls, in order:\n${calls.map((c) => `  ${call_text(c, w)}`).join('\n')}\nWhich VMAs exist in the window afterwards? Give the lines of /proc/${p.pid}/maps.`,
        answer: lines.length ? `${lines.length} VMA${lines.length > 1 ? 's' : ''}:\n${lines.join('\n')}` : 'none: nothing is mapped in the window',
        reasoning: `Anonymous private VMAs next to each other merge when their flags are equal; an mprotect or munmap of part of a VMA splits it first.\n${steps.join('\n')}`,
      },
    ],
  }
}

export const vma: Topic = {
  name: 'vma',
  summary: 'which VMAs (/proc/<pid>/maps lines) exist after mmap, mprotect and munmap calls, with the merges and splits',
  generate: vma_exercise,
}
