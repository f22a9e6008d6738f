/**
 * `mmsim exercise translate`: translate a virtual address by hand with the
 * page tables of a simulated process. The process maps and touches a few
 * pages, so its page tables are real ones in frames; the question shows CR3
 * and, for each table on the way, the entries that are not zero around the
 * one the walk needs. The answer is the walk (index per level, entry,
 * frame) and the physical address, or the level where the walk stops and
 * what the kernel does about the fault (the access is then made, and its
 * outcome reported).
 */
import { _PAGE_PRESENT, _PAGE_RW, pte_format, pte_pfn } from '../arch/pte.js'
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { Machine } from '../machine.js'
import type { WalkStep } from '../mm/pgtable.js'
import type { Process } from '../user/process.js'
import type { Exercise, ExerciseOptions, Question, Topic } from './exercise.js'
import { ExerciseRng } from './rng.js'

const PAGE = 4096
const hex = (n: number): string => `0x${n.toString(16)}`

export interface TranslateCase {
  machine: Machine
  process: Process
  addr: number
  write: boolean
  /** The pgd's frame (CR3 without the PCID bits). */
  cr3_pfn: number
  walk: WalkStep[]
  /** The physical address, or null when the access faults. */
  phys: number | null
}

/** A user address whose index at each level is drawn from the rng (the pgd's in the user half, away from the stack). */
function random_base(m: Machine, rng: ExerciseRng): number {
  const pt = m.pgtables
  let addr = 0
  for (let lv = 0; lv < pt.levels; lv++) {
    const n = pt.nents[lv]
    const hi = lv === 0 ? Math.max(2, Math.floor(pt.KERNEL_PGD_BOUNDARY * 3 / 4)) - 1 : n - 9
    addr += rng.int(lv === 0 ? 1 : 0, hi) * pt.divs[lv]
  }
  return addr
}

/** The walk for an access, in the profile's order: PFN or the first level that refuses it. */
function decide(m: Machine, walk: readonly WalkStep[], addr: number, write: boolean): { phys: number | null; why: string } {
  const last = walk[walk.length - 1]
  if ((last.val & _PAGE_PRESENT) === 0) return { phys: null, why: `${last.level}[${last.index}] is ${last.val === 0 ? '0' : 'not present'}` }
  // PAE's top level (the PDPT) has no R/W bit: the hardware checks it from the pmd down.
  const pae_top = m.arch.levels === 3
  const denied = walk.find((s, lv) => !(pae_top && lv === 0) && (s.val & _PAGE_RW) === 0)
  if (write && denied) return { phys: null, why: `the access is a write and ${denied.level}[${denied.index}] has R/W clear` }
  return { phys: pte_pfn(last.val) * PAGE + (addr % PAGE), why: '' }
}

export function translate_case(o: ExerciseOptions, rng: ExerciseRng): { c: TranslateCase; kind: string } {
  const m = new Machine({ ram: '64M', ...o.machine, seed: o.seed })
  const p = m.spawn({ name: 'quiz' })
  const base = random_base(m, rng)
  const pages = 8
  const a = p.mmap(base, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)
  const touched = rng.shuffle([0, 1, 2, 3, 4, 5, 6, 7]).slice(0, rng.int(3, 5)).sort((x, y) => x - y)
  for (const i of touched) p.store(a + i * PAGE + rng.int(0, 4095), [rng.int(1, 255)])
  // A second area one table further at a random level, so another table hangs off the walk's path.
  const b = a + rng.int(1, 3) * m.pgtables.divs[rng.int(0, m.pgtables.levels - 2)]
  let other = -1
  if (p.sys_mmap(b, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE) === b) {
    p.store(b, [1])
    other = b
  }
  const untouched = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !touched.includes(i))
  const kind = rng.pick(['present', 'present', 'none', 'table', 'readonly'])
  let addr: number
  let write = rng.chance(1, 2)
  switch (kind) {
    case 'none':
      addr = a + rng.pick(untouched) * PAGE + rng.int(0, 4095)
      break
    case 'table': {
      // The same upper tables, a pmd (or pgd on 2 levels) index no area uses.
      const pt = m.pgtables
      const lv = pt.levels - 2
      addr = a + rng.int(5, 40) * pt.divs[lv] + rng.int(0, pt.divs[lv] - 1)
      break
    }
    case 'readonly': {
      const i = rng.pick(touched)
      p.mprotect(a + i * PAGE, PAGE, PROT_READ)
      addr = a + i * PAGE + rng.int(0, 4095)
      write = true
      break
    }
    default:
      addr = (rng.chance(1, 4) && other >= 0 ? other : a + rng.pick(touched) * PAGE) + rng.int(0, 4095)
  }
  const mm = p.task.mm
  if (!mm) throw new Error('translate: the process has no mm')
  const walk = m.pgtables.walk_levels(mm.pgd.mm, addr)
  const { phys } = decide(m, walk, addr, write)
  return { c: { machine: m, process: p, addr, write, cr3_pfn: mm.pgd.mm.pgd, walk, phys }, kind }
}

/** The non-zero entries of a table near `index` (up to `n`, the needed one included if present). */
function table_entries(m: Machine, table: number, index: number, limit: number, n: number): { i: number; val: number }[] {
  const pt = m.pgtables
  const found: { i: number; val: number }[] = []
  for (let i = 0; i < limit; i++) {
    const val = pt.ptep_get(table * PAGE + i * pt.size)
    if (val !== 0) found.push({ i, val })
  }
  found.sort((x, y) => Math.abs(x.i - index) - Math.abs(y.i - index) || x.i - y.i)
  return found.slice(0, n).sort((x, y) => x.i - y.i)
}

export function translate_exercise(o: ExerciseOptions): Exercise {
  const rng = new ExerciseRng(o.seed)
  const { c } = translate_case(o, rng)
  const m = c.machine
  const pt = m.pgtables
  const names = m.arch.level_names
  const bits = m.arch.bits
  const shown: string[] = []
  for (const st of c.walk) {
    const leaf = st.level === names[names.length - 1]
    const limit = st.level === names[0] ? pt.KERNEL_PGD_BOUNDARY : pt.nents[names.indexOf(st.level)]
    const entries = table_entries(m, st.table_pfn, st.index, limit, 4)
    shown.push(`  ${st.level} table at physical ${hex(st.table_pfn * PAGE)}:`)
    for (const e of entries) shown.push(`    [${String(e.i).padStart(3)}] ${pte_format(e.val, pt.layout, leaf)}`)
  }
  const split = names.map((n, lv) => `${n} index = bits ${Math.log2(pt.divs[lv]) + Math.log2(pt.nents[lv]) - 1}..${Math.log2(pt.divs[lv])} = ${pt.index_of(lv, c.addr)}`).join(', ')
  const steps = c.walk.map((st) => `${st.level}[${st.index}] at ${hex(st.table_pfn * PAGE)} + ${st.index} * ${pt.size} = ${hex(st.entryp)}: ${pte_format(st.val, pt.layout, st.level === names[names.length - 1])}`)
  const verdict = decide(m, c.walk, c.addr, c.write)
  let answer: string
  let tail: string
  if (c.phys !== null) {
    answer = `physical address ${hex(c.phys)} (frame ${hex(c.phys - (c.addr % PAGE))} + offset ${hex(c.addr % PAGE)}; ${c.walk.map((s) => `${s.level} ${s.index}`).join(', ')})`
    tail = `The last entry maps frame ${hex(c.phys - (c.addr % PAGE))}; adding the offset ${hex(c.addr % PAGE)} gives ${hex(c.phys)}.`
  } else {
    const r = c.process.try_access(c.addr, 1, c.write, c.write ? Uint8Array.of(1) : undefined)
    const outcome = r.fault
      ? `the kernel finds no VMA allowing a ${c.write ? 'write' : 'read'} there and sends SIGSEGV`
      : verdict.why.includes('R/W')
        ? 'the kernel makes the page writable (the VMA allows writes) and the access is retried'
        : `the kernel's fault handler finds a VMA there, allocates what is missing (tables and a page) and the access is retried`
    answer = `a page fault: ${verdict.why} (${c.walk.map((s) => `${s.level} ${s.index}`).join(', ')}); ${outcome}`
    tail = `The walk stops: ${verdict.why}, so the MMU raises #PF with the address in CR2; ${outcome}.`
  }
  const q: Question = {
    text: `A process on an ${m.arch.name} machine (${m.arch.levels}-level paging, ${pt.size}-byte entries) ${c.write ? 'writes to' : 'reads from'} virtual address ${hex(c.addr)}. CR3 holds the page-directory base ${hex(c.cr3_pfn * PAGE)}. The tables on the way have these non-zero entries (every entry not listed is 0; flags: P present, RW writable, US user, A accessed, D dirty, NX no-execute):\n${shown.join('\n')}\nWhat is the physical address, or where does the walk fault?`,
    answer,
    reasoning: `Split the address: ${split}, page offset = bits ${Math.log2(PAGE) - 1}..0 = ${hex(c.addr % PAGE)}.\n${steps.join('\n')}\nEach entry's frame (bits 12 and up) is the next table.${bits === 64 ? ' (p4d is folded on 4-level x86_64.)' : ''}\n${tail}`,
  }
  return { topic: 'translate', seed: o.seed, questions: [q] }
}

export const translate: Topic = {
  name: 'translate',
  summary: 'translate a virtual address with a process\'s page tables (CR3 and the entries on the way): physical address or fault',
  generate: translate_exercise,
}
