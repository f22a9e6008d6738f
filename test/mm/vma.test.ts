/**
 * The VMA tree and the mmap family: merges, splits, errno order, and a
 * model-based property test of mmap/munmap/mprotect/mlock/madvise sequences
 * against a naive per-page model (sorted, disjoint, maximally merged VMAs).
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { make_machine_env, check_mm, type TestEnv } from './env.js'
import { mm_alloc } from '../../src/kernel/sched_mm.js'
import { mmput } from '../../src/kernel/sched_mm.js'
import { type MmStruct, VM_ACCOUNT, VM_LOCKED, VM_NORESERVE, VM_SEALED, vm_flags_test, VM_NONE, VM_READ, VM_WRITE, vm_flags_and, vm_flags_or } from '../../src/mm/mm_types.js'
import { do_munmap, sys_brk, vm_mmap_pgoff, sys_mmap } from '../../src/mm/mmap.js'
import { do_mprotect_pkey } from '../../src/mm/mprotect.js'
import { do_madvise } from '../../src/mm/madvise.js'
import { do_mlock, do_munlock } from '../../src/mm/mlock.js'
import { do_mseal } from '../../src/mm/mseal.js'
import { do_mremap } from '../../src/mm/mremap.js'
import { find_vma, find_vma_prev, find_vma_intersection, validate_mm } from '../../src/mm/vma.js'
import { vm_flags_string } from '../../src/mm/vmflags.js'
import * as M from '../../src/mm/mman.js'
import { EINVAL, ENOMEM, EEXIST, EPERM, EACCES, EBADF, EOPNOTSUPP } from '../../src/include/errno.js'

const P = 4096
const BASE = 0x7e0000000000
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS
const RW = M.PROT_READ | M.PROT_WRITE

/** The test machine behind each mm (a fresh 32M machine per mm: tests change its sysctls). */
const machines = new WeakMap<MmStruct, TestEnv>()

function new_mm(): MmStruct {
  const t = make_machine_env('32M')
  const mm = mm_alloc(t.env, 0x7ffffffff000)
  if (!mm) throw new Error('mm_alloc')
  mm.mmap_base = 0x7f0000000000
  mm.mmap_legacy_base = 0x2aaaaaaab000
  machines.set(mm, t)
  return mm
}
function map(mm: MmStruct, off: number, pages: number, prot = RW, flags = ANON | M.MAP_FIXED): number {
  return vm_mmap_pgoff(mm, null, BASE + off * P, pages * P, prot, flags, 0)
}
function layout(mm: MmStruct): string[] {
  return mm.mm_mt.to_array().map((v) => `${(v.vm_start - BASE) / P}-${(v.vm_end - BASE) / P} ${vm_flags_string(v.vm_flags)}`)
}
function done(mm: MmStruct): void {
  validate_mm(mm)
  check_mm(mm)
  const t = machines.get(mm)!
  const env = t.env
  const before = t.nr_free()
  mmput(mm)
  expect(t.nr_free()).toBeGreaterThanOrEqual(before)
  expect(t.live('vm_area_struct')).toBe(0)
  expect(env.anon_vmas.size).toBe(0)
  expect(env.vm_committed_as).toBe(0)
}

describe('VMA merge and split', () => {
  it('adjacent anonymous mappings with equal flags merge; prot, noreserve and shared keep them apart', () => {
    const mm = new_mm()
    map(mm, 0, 2)
    map(mm, 2, 2)
    map(mm, 4, 2, M.PROT_READ)
    expect(layout(mm)).toEqual(['0-4 rd wr mr mw me ac', '4-6 rd mr mw me'])
    expect(do_mprotect_pkey(mm, BASE + 4 * P, 2 * P, RW)).toBe(0)
    expect(layout(mm)).toEqual(['0-6 rd wr mr mw me ac'])
    map(mm, 6, 2, RW, ANON | M.MAP_FIXED | M.MAP_NORESERVE)
    map(mm, 8, 1, RW, M.MAP_SHARED | M.MAP_ANONYMOUS | M.MAP_FIXED)
    map(mm, 9, 1, RW, M.MAP_SHARED | M.MAP_ANONYMOUS | M.MAP_FIXED)
    expect(layout(mm)).toEqual([
      '0-6 rd wr mr mw me ac',
      '6-8 rd wr mr mw me nr',
      '8-9 rd wr sh mr mw me ms',
      '9-10 rd wr sh mr mw me ms',
    ])
    done(mm)
  })

  it('mprotect of a middle range splits into three and restoring re-merges; a hole stops it with ENOMEM', () => {
    const mm = new_mm()
    map(mm, 0, 8)
    expect(do_mprotect_pkey(mm, BASE + 2 * P, 2 * P, M.PROT_READ)).toBe(0)
    expect(mm.map_count).toBe(3)
    expect(do_mprotect_pkey(mm, BASE + 2 * P, 2 * P, RW)).toBe(0)
    expect(mm.map_count).toBe(1)
    expect(do_mprotect_pkey(mm, BASE + 6 * P, 4 * P, M.PROT_READ)).toBe(-ENOMEM)
    // an anonymous VMA without anon_vma loses VM_ACCOUNT when it stops being writable
    expect(layout(mm)).toEqual(['0-6 rd wr mr mw me ac', '6-8 rd mr mw me'])
    expect(do_mprotect_pkey(mm, BASE + 1, P, M.PROT_READ)).toBe(-EINVAL)
    expect(do_mprotect_pkey(mm, BASE, 0, M.PROT_READ)).toBe(0)
    done(mm)
  })

  it('munmap punches holes; errno for unaligned, zero and wrapping lengths', () => {
    const mm = new_mm()
    map(mm, 0, 16)
    expect(do_munmap(mm, BASE + 4 * P, 2 * P)).toBe(0)
    expect(mm.map_count).toBe(2)
    expect(do_munmap(mm, BASE + 8 * P + 1, P)).toBe(-EINVAL)
    expect(do_munmap(mm, BASE + 8 * P, 0)).toBe(-EINVAL)
    expect(do_munmap(mm, BASE + 8 * P, 1)).toBe(0)
    expect(do_munmap(mm, BASE + 0xa000, 0xffffffffffff0000)).toBe(-EINVAL)
    expect(layout(mm)).toEqual(['0-4 rd wr mr mw me ac', '6-8 rd wr mr mw me ac', '9-16 rd wr mr mw me ac'])
    done(mm)
  })

  it('find_vma family', () => {
    const mm = new_mm()
    map(mm, 2, 2)
    map(mm, 6, 2, M.PROT_READ)
    expect(find_vma(mm, BASE)?.vm_start).toBe(BASE + 2 * P)
    expect(find_vma(mm, BASE + 4 * P)?.vm_start).toBe(BASE + 6 * P)
    expect(find_vma(mm, BASE + 8 * P)).toBeNull()
    const [v, prev] = find_vma_prev(mm, BASE + 5 * P)
    expect(v?.vm_start).toBe(BASE + 6 * P)
    expect(prev?.vm_start).toBe(BASE + 2 * P)
    expect(find_vma_intersection(mm, BASE + 4 * P, BASE + 6 * P)).toBeNull()
    expect(find_vma_intersection(mm, BASE + 4 * P, BASE + 7 * P)?.vm_start).toBe(BASE + 6 * P)
    done(mm)
  })

  it('vm.max_map_count: a split that would exceed it is ENOMEM', () => {
    const mm = new_mm()
    mm.env.sysctl.max_map_count = 3
    map(mm, 0, 8)
    expect(do_mprotect_pkey(mm, BASE + P, P, M.PROT_READ)).toBe(0)
    expect(mm.map_count).toBe(3)
    expect(do_mprotect_pkey(mm, BASE + 5 * P, P, M.PROT_READ)).toBe(-ENOMEM)
    expect(do_munmap(mm, BASE + 6 * P, P)).toBe(-ENOMEM)
    done(mm)
  })
})

describe('mmap errno order', () => {
  it('argument errors as Linux checks them', () => {
    const mm = new_mm()
    const fget = () => null
    expect(sys_mmap(mm, 0, 0, RW, ANON, -1, 0, fget)).toBe(-EINVAL)
    expect(sys_mmap(mm, 0, P, RW, M.MAP_ANONYMOUS, -1, 0, fget)).toBe(-EINVAL)
    expect(sys_mmap(mm, 0, P, RW, M.MAP_SHARED_VALIDATE | M.MAP_ANONYMOUS, -1, 0, fget)).toBe(-EINVAL)
    expect(sys_mmap(mm, BASE + 1, P, RW, ANON | M.MAP_FIXED, -1, 0, fget)).toBe(-EINVAL)
    // Lengths are unsigned longs: one that PAGE_ALIGNs past 2^64 wraps to 0 (ENOMEM), as does
    // one above TASK_SIZE; a number is taken modulo 2^64 like a register (2 ** 64 is 0: EINVAL).
    expect(sys_mmap(mm, 0, 2n ** 64n - 1n, RW, ANON, -1, 0, fget)).toBe(-ENOMEM)
    expect(sys_mmap(mm, 0, 2 ** 63, RW, ANON, -1, 0, fget)).toBe(-ENOMEM)
    expect(sys_mmap(mm, 0, 2 ** 64, RW, ANON, -1, 0, fget)).toBe(-EINVAL)
    expect(sys_mmap(mm, 0, P, RW, M.MAP_PRIVATE, -1, 0, fget)).toBe(-EBADF)
    expect(sys_mmap(mm, 0, P, RW, M.MAP_PRIVATE, 3, 100, fget)).toBe(-EINVAL)
    expect(sys_mmap(mm, 0, P, RW, ANON | M.MAP_HUGETLB, -1, 0, fget)).toBe(-ENOMEM)
    map(mm, 4, 2)
    expect(map(mm, 5, 2, RW, ANON | M.MAP_FIXED_NOREPLACE)).toBe(-EEXIST)
    expect(map(mm, 0, 1, RW, M.MAP_SHARED | M.MAP_ANONYMOUS | M.MAP_FIXED | M.MAP_GROWSDOWN)).toBe(-EINVAL)
    void EACCES
    void EOPNOTSUPP
    done(mm)
  })

  it('top-down placement takes the highest gap that fits; a hint is honoured when free', () => {
    const mm = new_mm()
    const a = vm_mmap_pgoff(mm, null, 0, 4 * P, RW, ANON, 0)
    expect(a).toBe(mm.mmap_base - 4 * P)
    const b = vm_mmap_pgoff(mm, null, 0, 2 * P, M.PROT_READ, ANON, 0)
    expect(b).toBe(a - 2 * P)
    expect(do_munmap(mm, a + P, P)).toBe(0)
    expect(vm_mmap_pgoff(mm, null, 0, P, RW, ANON, 0)).toBe(a + P)
    expect(vm_mmap_pgoff(mm, null, BASE, P, RW, ANON, 0)).toBe(BASE)
    expect(vm_mmap_pgoff(mm, null, BASE, P, RW, ANON, 0)).toBe(b - P)
    done(mm)
  })

  it('overcommit: mode 2 refuses what exceeds CommitLimit, MAP_NORESERVE is not charged in mode 0', () => {
    const mm = new_mm()
    const env = mm.env
    env.sysctl.overcommit_memory = 2
    env.sysctl.overcommit_ratio = 50
    const limit = Math.floor(env.totalram_pages() / 2)
    expect(map(mm, 0, limit + 10)).toBe(-ENOMEM)
    expect(env.vm_committed_as).toBe(0)
    expect(map(mm, 0, 16)).toBe(BASE)
    expect(env.vm_committed_as).toBe(16)
    env.sysctl.overcommit_memory = 0
    expect(map(mm, 32, 16, RW, ANON | M.MAP_FIXED | M.MAP_NORESERVE)).toBe(BASE + 32 * P)
    expect(env.vm_committed_as).toBe(16)
    expect(vm_flags_test(mm.mm_mt.to_array()[1].vm_flags, VM_NORESERVE)).toBe(true)
    expect(map(mm, 64, env.totalram_pages() + 1)).toBe(-ENOMEM)
    env.sysctl.overcommit_memory = 1
    expect(map(mm, 64, env.totalram_pages() + 1)).toBe(BASE + 64 * P)
    done(mm)
  })
})

describe('brk, mlock, mseal, mremap', () => {
  it('brk grows and shrinks the heap and refuses to go below start_brk', () => {
    const mm = new_mm()
    mm.start_brk = mm.brk = 0x555555a00000
    expect(sys_brk(mm, mm.brk + 2 * P)).toBe(0x555555a00000 + 2 * P)
    expect(sys_brk(mm, mm.brk + 1)).toBe(0x555555a00000 + 2 * P + 1)
    expect(mm.mm_mt.to_array().map((v) => v.vm_end - v.vm_start)).toEqual([3 * P])
    expect(sys_brk(mm, 0x555555a00000 - P)).toBe(0x555555a00000 + 2 * P + 1)
    expect(sys_brk(mm, 0x555555a00000)).toBe(0x555555a00000)
    expect(mm.map_count).toBe(0)
    done(mm)
  })

  it('mlock splits and counts locked_vm; munlock re-merges; a hole is ENOMEM after the change', () => {
    const mm = new_mm()
    map(mm, 0, 8)
    expect(do_mlock(mm, BASE + 2 * P, 2 * P, VM_NONE)).toBe(0)
    expect(mm.locked_vm).toBe(2)
    expect(vm_flags_test(mm.mm_mt.to_array()[1].vm_flags, VM_LOCKED)).toBe(true)
    expect(mm.rss_stat[1]).toBe(2)
    expect(do_munlock(mm, BASE, 8 * P)).toBe(0)
    expect(mm.locked_vm).toBe(0)
    expect(mm.map_count).toBe(1)
    expect(do_mlock(mm, BASE + 6 * P, 4 * P, VM_NONE)).toBe(-ENOMEM)
    expect(mm.locked_vm).toBe(2)
    done(mm)
  })

  it('mseal forbids munmap, mprotect and mremap of the sealed range', () => {
    const mm = new_mm()
    map(mm, 0, 4)
    expect(do_mseal(mm, BASE + P, 2 * P, 0)).toBe(0)
    expect(vm_flags_test(mm.mm_mt.to_array()[1].vm_flags, VM_SEALED)).toBe(true)
    expect(do_munmap(mm, BASE, 4 * P)).toBe(-EPERM)
    expect(mm.map_count).toBe(3)
    expect(do_mprotect_pkey(mm, BASE + 2 * P, P, M.PROT_READ)).toBe(-EPERM)
    expect(do_mremap(mm, BASE + P, P, 2 * P, M.MREMAP_MAYMOVE, 0)).toBe(-EPERM)
    expect(do_madvise(mm, BASE + P, P, M.MADV_DONTNEED)).toBe(0)
    expect(do_mseal(mm, BASE + 2 * P, 4 * P, 0)).toBe(-ENOMEM)
    // a sealed mm can still exit
    done(mm)
  })

  it('mremap grows in place, refuses without MAYMOVE and moves top-down with it', () => {
    const mm = new_mm()
    map(mm, 0, 2)
    expect(do_mremap(mm, BASE, 2 * P, 3 * P, 0, 0)).toBe(BASE)
    map(mm, 3, 1, M.PROT_READ)
    expect(do_mremap(mm, BASE, 3 * P, 5 * P, 0, 0)).toBe(-ENOMEM)
    const r = do_mremap(mm, BASE, 3 * P, 5 * P, M.MREMAP_MAYMOVE, 0)
    expect(r).toBe(mm.mmap_base - 5 * P)
    expect(find_vma(mm, BASE)?.vm_start).toBe(BASE + 3 * P)
    expect(vm_flags_test(find_vma(mm, r)?.vm_flags ?? VM_NONE, VM_ACCOUNT)).toBe(true)
    done(mm)
  })
})

/** Naive model: one record per page. */
interface PageModel {
  prot: number
  locked: boolean
}

describe('property: the VMA tree against a per-page model', () => {
  it('any sequence of mmap/munmap/mprotect/mlock/munlock/madvise keeps VMAs sorted, disjoint and maximally merged', () => {
    const N = 32
    const op = fc.oneof(
      fc.record({ k: fc.constant('mmap'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.nat(3) }),
      fc.record({ k: fc.constant('munmap'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.constant(0) }),
      fc.record({ k: fc.constant('mprotect'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.nat(3) }),
      fc.record({ k: fc.constant('mlock'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.constant(0) }),
      fc.record({ k: fc.constant('munlock'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.constant(0) }),
      fc.record({ k: fc.constant('dontneed'), s: fc.nat(N - 1), n: fc.integer({ min: 1, max: 8 }), prot: fc.constant(0) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const mm = new_mm()
        const model: (PageModel | null)[] = new Array(N).fill(null)
        for (const o of ops) {
          const end = Math.min(N, o.s + o.n)
          const a = BASE + o.s * P
          const len = (end - o.s) * P
          const mapped = (i: number) => model[i] !== null
          if (o.k === 'mmap') {
            // all pages are written to, so every VMA has an anon_vma only after a write; keep none
            expect(vm_mmap_pgoff(mm, null, a, len, o.prot, ANON | M.MAP_FIXED, 0)).toBe(a)
            for (let i = o.s; i < end; i++) model[i] = { prot: o.prot, locked: false }
          } else if (o.k === 'munmap') {
            expect(do_munmap(mm, a, len)).toBe(0)
            for (let i = o.s; i < end; i++) model[i] = null
          } else if (o.k === 'mprotect') {
            const r = do_mprotect_pkey(mm, a, len, o.prot)
            let i = o.s
            // mprotect requires the start to be mapped; changes up to the first hole
            if (!mapped(i)) expect(r).toBe(-ENOMEM)
            else {
              for (; i < end && mapped(i); i++) (model[i] as PageModel).prot = o.prot
              expect(r).toBe(i < end ? -ENOMEM : 0)
            }
          } else if (o.k === 'mlock' || o.k === 'munlock') {
            const r = o.k === 'mlock' ? do_mlock(mm, a, len, VM_NONE) : do_munlock(mm, a, len)
            let i = o.s
            if (!mapped(i)) expect(r).toBe(-ENOMEM)
            else {
              for (; i < end && mapped(i); i++) (model[i] as PageModel).locked = o.k === 'mlock'
              if (i < end) expect(r).toBe(-ENOMEM)
              else if (o.k === 'munlock') expect(r).toBe(0)
            }
          } else {
            const r = do_madvise(mm, a, len, M.MADV_DONTNEED)
            const locked = model.slice(o.s, end).some((m) => m?.locked)
            const holes = model.slice(o.s, end).some((m) => m === null)
            if (!locked) expect(r).toBe(holes ? -ENOMEM : 0)
          }
          validate_mm(mm)
          check_mm(mm)
        }
        // Every page has the model's protection and lock state...
        const got: string[] = []
        const want: string[] = []
        for (let i = 0; i < N; i++) {
          const m = model[i]
          want.push(m ? `${m.prot}${m.locked ? 'L' : ''}` : '-')
          const v = find_vma(mm, BASE + i * P)
          got.push(v && v.vm_start <= BASE + i * P ? `${vm_flags_and(v.vm_flags, vm_flags_or(VM_READ, VM_WRITE))}${vm_flags_test(v.vm_flags, VM_LOCKED) ? 'L' : ''}` : '-')
        }
        expect(got).toEqual(want)
        // ...and no two adjacent VMAs could have been merged by Linux's rules.
        const vmas = mm.mm_mt.to_array()
        for (let i = 1; i < vmas.length; i++) {
          const a = vmas[i - 1]
          const b = vmas[i]
          expect(a.vm_end).toBeLessThanOrEqual(b.vm_start)
          if (a.vm_end !== b.vm_start) continue
          const mergeable =
            a.vm_flags === b.vm_flags &&
            a.vm_file === b.vm_file &&
            a.vm_pgoff + (a.vm_end - a.vm_start) / P === b.vm_pgoff &&
            (!a.anon_vma || !b.anon_vma || a.anon_vma === b.anon_vma)
          expect(mergeable).toBe(false)
        }
        done(mm)
      }),
      { numRuns: 150, seed: 42 },
    )
  })
})
