/**
 * walk_page_range() (src/mm/pagewalk.ts) and the smaps walk built on it
 * (smaps_pte_range in src/mm/smaps.ts), against per-page references on
 * random address spaces: the walk must hand pmd_entry exactly the non-none
 * ptes PgTables.for_each_pte visits, and smaps_walk() must give the
 * statistics of a page-by-page lookup (FramePageTables.get + vm_normal_page,
 * the shape smaps_walk had before the walker).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/machine.js'
import type { ArchName } from '../../src/arch/profile.js'
import { PAGE_SIZE } from '../../src/include/page_types.js'
import { pte_dirty, pte_from_hw, pte_present, pte_young } from '../../src/arch/pte.js'
import { vm_normal_page } from '../../src/mm/memory.js'
import { PG_dirty, PG_referenced, PG_swapbacked } from '../../src/mm/page.js'
import { VM_EXEC, VM_LOCKED, VM_READ, VM_WRITE, vm_flags_test, type MmStruct, type VmArea } from '../../src/mm/mm_types.js'
import { flags_union } from '../../src/include/wide.js'
import { empty_mss, smaps_walk, PSS_SHIFT, type MemSizeStats } from '../../src/mm/smaps.js'
import { walk_page_range, type MmWalkOps } from '../../src/mm/pagewalk.js'
import {
  MADV_DONTNEED, MADV_FREE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE,
} from '../../src/include/uapi/mman.js'
import { O_CREAT, O_RDWR, type Process } from '../../src/user/process.js'

/** smaps_walk() as it was: one FramePageTables.get() per page of the VMA. */
function smaps_reference(mm: MmStruct, vma: VmArea): MemSizeStats {
  const mss = empty_mss()
  const pages = mm.env.pages
  const locked = vm_flags_test(vma.vm_flags, VM_LOCKED)
  for (let vpn = vma.vm_start / PAGE_SIZE; vpn < vma.vm_end / PAGE_SIZE; vpn++) {
    const pte = mm.pgd.get(vpn)
    if (!pte_present(pte)) continue
    const pfn = vm_normal_page(vma, pte)
    if (pfn < 0) continue
    const anon = pages.mapping[pfn] < 0
    const swapbacked = pages.test(pfn, PG_swapbacked)
    const dirty = pte_dirty(pte) || pages.test(pfn, PG_dirty)
    if (anon) {
      mss.anonymous += PAGE_SIZE
      if (!swapbacked && !dirty) mss.lazyfree += PAGE_SIZE
    }
    mss.resident += PAGE_SIZE
    if (pte_young(pte) || pages.test(pfn, PG_referenced)) mss.referenced += PAGE_SIZE
    const mapcount = pages._mapcount[pfn]
    const shared = pages._refcount[pfn] !== 1 && mapcount >= 2
    const pss = shared ? Math.floor((PAGE_SIZE * 2 ** PSS_SHIFT) / mapcount) : PAGE_SIZE * 2 ** PSS_SHIFT
    mss.pss += pss
    if (anon) mss.pss_anon += pss
    else if (swapbacked) mss.pss_shmem += pss
    else mss.pss_file += pss
    if (locked) mss.pss_locked += pss
    if (dirty) {
      mss.pss_dirty += pss
      if (shared) mss.shared_dirty += PAGE_SIZE
      else mss.private_dirty += PAGE_SIZE
    } else if (shared) mss.shared_clean += PAGE_SIZE
    else mss.private_clean += PAGE_SIZE
  }
  return mss
}

/** Every non-none pte in [start, end) as walk_page_range() hands them to pmd_entry: address -> PteVal. */
function walked(mm: MmStruct, start: number, end: number): Map<number, number> {
  const out = new Map<number, number>()
  const ops: MmWalkOps<null> = {
    pmd_entry(walk, ptes, off, addr, next) {
      expect(next).toBeGreaterThan(addr)
      for (let a = addr, o = off; a < next; a += PAGE_SIZE, o += walk.entry_size) {
        const lo = ptes.getUint32(o, true)
        const hi = walk.entry_size === 8 ? ptes.getUint32(o + 4, true) : 0
        if (lo !== 0 || hi !== 0) out.set(a, pte_from_hw(lo, hi, walk.layout))
      }
      return 0
    },
  }
  walk_page_range(mm, start, end, ops, null)
  return out
}

function visited(mm: MmStruct, start: number, end: number): Map<number, number> {
  const out = new Map<number, number>()
  mm.pgd.pgtables.for_each_pte(mm.pgd.mm, start, end, (addr, _ptep, pte) => void out.set(addr, pte))
  return out
}

type Op =
  | { op: 'mmap'; at: number; pages: number; prot: number; kind: 'anon' | 'shared' | 'tmpfs' | 'disk' }
  | { op: 'touch'; at: number; pages: number; write: boolean }
  | { op: 'mprotect'; at: number; pages: number; prot: number }
  | { op: 'munmap' | 'dontneed' | 'free'; at: number; pages: number }
  | { op: 'fork' }

const PROTS = [PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE]
const ACCESS = flags_union(VM_READ, VM_WRITE, VM_EXEC)

const KINDS = ['anon', 'shared', 'tmpfs', 'disk'] as const

/**
 * A run on a window of `span` pages (page numbers relative to it): regions
 * of every kind mapped side by side, stored to or loaded from whole (some
 * half MADV_FREEd), then a random mix of changes and accesses, so that the
 * runs end with resident pages of every kind, some shared with a child,
 * some lazily freed, some PROT_NONE.
 */
function ops_arb(span: number): fc.Arbitrary<Op[]> {
  const at = fc.integer({ min: 0, max: span - 1 })
  const pages = fc.integer({ min: 1, max: 600 })
  const region = fc.record({ pages: fc.integer({ min: 1, max: 400 }), kind: fc.constantFrom(...KINDS), write: fc.boolean(), free: fc.boolean() })
  const change: fc.Arbitrary<Op> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ op: fc.constant('mmap' as const), at, pages, prot: fc.constantFrom(...PROTS), kind: fc.constantFrom(...KINDS) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('touch' as const), at, pages, write: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('mprotect' as const), at, pages, prot: fc.constantFrom(...PROTS) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('munmap' as const, 'dontneed' as const, 'free' as const), at, pages }) },
    { weight: 1, arbitrary: fc.constant({ op: 'fork' as const }) },
  )
  return fc.tuple(fc.array(region, { minLength: 1, maxLength: 8 }), fc.array(change, { maxLength: 16 })).map(([regions, changes]) => {
    const ops: Op[] = []
    let at = 0
    for (const r of regions) {
      if (at >= span) break
      ops.push({ op: 'mmap', at, pages: r.pages, prot: PROT_READ | PROT_WRITE, kind: r.kind })
      ops.push({ op: 'touch', at, pages: r.pages, write: r.write })
      if (r.free) ops.push({ op: 'free', at, pages: Math.ceil(r.pages / 2) })
      at += r.pages
    }
    return [...ops, ...changes]
  })
}

/** Runs the ops in [base, base + span pages); failures (EFAULT, ENOMEM, SIGSEGV) are part of the game. */
function run(p: Process, fds: { tmpfs: number; disk: number }, base: number, span: number, ops: Op[]): Process[] {
  const children: Process[] = []
  for (const o of ops) {
    if (o.op === 'fork') {
      children.push(p.fork())
      continue
    }
    const n = Math.min(o.pages, span - o.at)
    const a = base + o.at * PAGE_SIZE
    const len = n * PAGE_SIZE
    if (o.op === 'mmap') {
      const flags = MAP_FIXED | (o.kind === 'anon' ? MAP_PRIVATE | MAP_ANONYMOUS : o.kind === 'shared' ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED)
      const fd = o.kind === 'tmpfs' ? fds.tmpfs : o.kind === 'disk' ? fds.disk : -1
      p.sys_mmap(a, len, o.prot, flags, fd, o.kind === 'tmpfs' || o.kind === 'disk' ? o.at * PAGE_SIZE : 0)
    } else if (o.op === 'touch') {
      for (let i = 0; i < n; i++) p.try_access(a + i * PAGE_SIZE, 1, o.write, o.write ? new Uint8Array([i]) : undefined)
    } else if (o.op === 'mprotect') {
      p.sys_mprotect(a, len, o.prot)
    } else if (o.op === 'munmap') {
      p.sys_munmap(a, len)
    } else {
      p.sys_madvise(a, len, o.op === 'free' ? MADV_FREE : MADV_DONTNEED)
    }
  }
  return children
}

describe('walk_page_range and smaps_pte_range', () => {
  for (const arch of ['x86_64', 'i386', 'i386-pae'] as ArchName[]) {
    it(`${arch}: the walk visits what for_each_pte visits; smaps_walk equals the per-page reference`, () => {
      const m = new Machine({ arch, ram: '128M', seed: 1, debug_vm: false })
      // A window straddling a pte table boundary (and, on x86_64, a pud boundary).
      const span = 1536
      const boundary = arch === 'x86_64' ? 2 ** 30 * 5 : 2 ** 22 * 64
      const base = boundary - 768 * PAGE_SIZE
      // What the runs reached: VMAs of the window with resident pages of each kind.
      const seen = { protnone: 0, anon: 0, file: 0, shmem: 0, shared: 0, clean: 0, lazyfree: 0 }
      fc.assert(
        fc.property(ops_arb(span), fc.integer({ min: 0, max: span }), fc.integer({ min: 0, max: span }), (ops, x, y) => {
          const p = m.spawn({ name: 'walk' })
          const fds = { tmpfs: p.open('/tmp/walk', O_CREAT | O_RDWR), disk: p.open('/walk', O_CREAT | O_RDWR) }
          p.ftruncate(fds.tmpfs, span * PAGE_SIZE)
          p.ftruncate(fds.disk, span * PAGE_SIZE)
          const children = m.deferred_check(() => run(p, fds, base, span, ops))
          const mm = p.mm
          const lo = base + Math.min(x, y) * PAGE_SIZE
          const hi = base + Math.max(x, y) * PAGE_SIZE
          expect(walked(mm, lo, hi)).toEqual(visited(mm, lo, hi))
          expect(walked(mm, 0, m.arch.TASK_SIZE)).toEqual(visited(mm, 0, m.arch.TASK_SIZE))
          // Every VMA's walk against the reference, in one comparison.
          const vmas = [...mm.mm_mt]
          const walks = vmas.map((vma) => smaps_walk(mm, vma))
          expect(walks).toEqual(vmas.map((vma) => smaps_reference(mm, vma)))
          for (const [i, vma] of vmas.entries()) {
            const got = walks[i]
            if (vma.vm_start < base || vma.vm_end > base + span * PAGE_SIZE || got.resident === 0) continue
            if (!vm_flags_test(vma.vm_flags, ACCESS)) seen.protnone++
            if (got.pss_anon !== 0) seen.anon++
            if (got.pss_file !== 0) seen.file++
            if (got.pss_shmem !== 0) seen.shmem++
            if (got.shared_clean + got.shared_dirty !== 0) seen.shared++
            if (got.private_clean + got.shared_clean !== 0) seen.clean++
            if (got.lazyfree !== 0) seen.lazyfree++
          }
          for (const c of children) c.exit(0)
          p.exit(0)
        }),
        { numRuns: 30 },
      )
      for (const [what, n] of Object.entries(seen)) expect(n, `runs with resident ${what} pages`).toBeGreaterThan(0)
      m.check()
    })
  }

  it('a pmd_entry result stops the walk and is returned', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'stop' })
    const a = p.mmap(0, 4 * 2 ** 21, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    for (let i = 0; i < 4; i++) p.store(a + i * 2 ** 21, [1])
    let calls = 0
    const r = walk_page_range(p.mm, a, a + 4 * 2 ** 21, { pmd_entry: () => (++calls === 2 ? 7 : 0) }, null)
    expect(r).toBe(7)
    expect(calls).toBe(2)
  })
})
