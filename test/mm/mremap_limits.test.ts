import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE, type Process } from '../../src/index.js'
import { boot } from '../helpers.js'

const probe = (name: string): string => readFileSync(new URL(`../fixtures/probes/${name}.txt`, import.meta.url), 'utf8')
const ERRNO: Record<number, string> = { 12: 'ENOMEM', 14: 'EFAULT', 22: 'EINVAL', 17: 'EEXIST' }

/**
 * test/fixtures/probes/mremap_special.c and mremap_tail.c run in a simulated process: each
 * prints the lines the real 6.18 kernel printed.
 */
describe('mremap and brk limits, against the real kernel', () => {
  it('special mappings do not move in part; old_len 0 duplicates shared memory only; brk stops a page short of a mapping', () => {
    const m = boot()
    const p = m.spawn({ name: 'probe' })
    const out: string[] = []
    const show = (w: string, r: number): void => void out.push(`${w} = ${r < 0 ? `-1 ${ERRNO[-r]}` : 'ok'}`)
    const find = (name: string): [number, number] => {
      const line = m.proc(`/proc/${p.pid}/maps`).split('\n').find((l) => l.includes(name)) as string
      return line.split(' ')[0].split('-').map((h) => parseInt(h, 16)) as [number, number]
    }
    const [vs, ve] = find('[vdso]')
    out.push(`[vdso] pages: ${(ve - vs) / 4096}`)
    const dst = p.mmap(0, 0x10000, 0, MAP_PRIVATE | MAP_ANONYMOUS)
    show('mremap(first page of [vdso], 4096, 4096, MAYMOVE|FIXED)', p.sys_mremap(vs, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst))
    show('mremap([vdso] shrink by a page)', p.sys_mremap(vs, ve - vs, ve - vs - 4096, 0))
    show('mremap([vdso] grow by a page, MAYMOVE)', p.sys_mremap(vs, ve - vs, ve - vs + 4096, MREMAP_MAYMOVE))
    const [vvs] = find('[vvar]')
    show('mremap(first page of [vvar], 4096, 4096, MAYMOVE|FIXED)', p.sys_mremap(vvs, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 0x8000))
    const sh = p.mmap(0, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    p.store(sh + 5, [42])
    const dup = p.sys_mremap(sh, 0, 0x2000, MREMAP_MAYMOVE)
    show('mremap(shared anon, old_len 0, 0x2000, MAYMOVE)', dup)
    p.store(dup + 6, [43])
    out.push(`duplicate sees ${p.load(dup + 5, 1)[0]}, original sees ${p.load(sh + 6, 1)[0]}`)
    const pr = p.mmap(0, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    show('mremap(private anon, old_len 0, 0x2000, MAYMOVE)', p.sys_mremap(pr, 0, 0x2000, MREMAP_MAYMOVE))
    const b = p.sys_brk(0)
    const top = Math.ceil(b / 4096) * 4096
    show('mmap one page above the break + 0x1000', p.sys_mmap(top + 0x1000, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE))
    out.push(`brk(break + 0x3000) ${p.sys_brk(top + 0x3000) === b ? '= the old break' : 'moved the break'}`)
    out.push(`brk(break + 0x1000) ${p.sys_brk(top + 0x1000) === top + 0x1000 ? 'moved the break' : '= the old break'}`)
    expect(out.join('\n') + '\n').toBe(probe('mremap_special'))
    // Exactly one [vdso] and one [vvar] are left.
    const maps = m.proc(`/proc/${p.pid}/maps`)
    expect(maps.split('[vdso]').length).toBe(2)
    expect(maps.split('[vvar]\n').length).toBe(2)
  })

  it('a shrink whose unmapped tail ends past TASK_SIZE is EINVAL; same-size calls return addr unchecked; brk past TASK_SIZE keeps the break', () => {
    // A randomised layout, so the stack is not at the top (as on the probe's machine).
    const m = boot({ randomize_va_space: 2, seed: 3 })
    const p: Process = m.spawn({ name: 'probe' })
    const TS = 0x7ffffffff000
    const a = TS - 0x2000
    const out: string[] = []
    const show = (w: string, r: number): void => void out.push(`${w} = ${r < 0 ? `-1 ${ERRNO[-r]}` : '0x' + r.toString(16)}`)
    show('mmap(TASK_SIZE-0x2000, 0x2000)', p.sys_mmap(a, 0x2000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE))
    show('mremap(a, 0x4000, 0x4000, 0)', p.sys_mremap(a, 0x4000, 0x4000, 0))
    show('mremap(a, 0x4000, 0x1000, 0)', p.sys_mremap(a, 0x4000, 0x1000, 0))
    show('mremap(a, 0x4000, 0x1000, MAYMOVE)', p.sys_mremap(a, 0x4000, 0x1000, MREMAP_MAYMOVE))
    show('mremap(a, 0x3000, 0x3000, MAYMOVE)', p.sys_mremap(a, 0x3000, 0x3000, MREMAP_MAYMOVE))
    show('mremap(a, 0x2000, 0x2000, 0)', p.sys_mremap(a, 0x2000, 0x2000, 0))
    show('mremap(a, 0x2000, 0x1000, 0)', p.sys_mremap(a, 0x2000, 0x1000, 0))
    show('mremap(a+0x1000, 0x1000, 0x1000, 0) after shrink', p.sys_mremap(a + 0x1000, 0x1000, 0x1000, 0))
    const old = p.sys_brk(0)
    out.push(`brk(TASK_SIZE + 0x1000) ${p.sys_brk(TS + 0x1000) === old ? '= the old break' : 'moved the break'}`)
    out.push(`brk(-4096) ${p.sys_brk(-4096) === old ? '= the old break' : 'moved the break'}`)
    expect(out.join('\n') + '\n').toBe(probe('mremap_tail'))
  })
})
