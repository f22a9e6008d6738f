/**
 * Faults, copy-on-write and fork: the zero page, COW with reuse, exact page
 * refcounts and mapcounts across fork and exit, file faults past EOF,
 * stack growth, lazy free and truncation of private COW copies, and the
 * user-copy routines. Runs on the booted Machine (buddy allocator, page
 * tables in frames) and checks the machine after each case.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { make_machine_env, check_mm } from './env.js'
import { mm_alloc, dup_mm } from '../../src/kernel/sched_mm.js'
import { mmput } from '../../src/kernel/sched_mm.js'
import type { MmStruct } from '../../src/mm/mm_types.js'
import { vm_mmap_pgoff, do_munmap } from '../../src/mm/mmap.js'
import { do_madvise } from '../../src/mm/madvise.js'
import { access_user, copy_to_user, copy_from_user, get_user, put_user } from '../../src/mm/uaccess.js'
import { pte_pfn, pte_write, pte_present, pte_special } from '../../src/mm/memory.js'
import { shmem_file_setup, file_write } from '../../src/mm/shmem.js'
import { truncate_setsize } from '../../src/mm/truncate.js'
import { smaps_walk, kB, pss_kB } from '../../src/mm/smaps.js'
import { validate_mm } from '../../src/mm/vma.js'
import * as M from '../../src/mm/mman.js'
import { EFAULT } from '../../src/include/errno.js'

const P = 4096
const BASE = 0x7e0000000000
const ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS | M.MAP_FIXED
const RW = M.PROT_READ | M.PROT_WRITE

function setup() {
  const t = make_machine_env('64M')
  const env = t.env
  const mk = (): MmStruct => {
    const mm = mm_alloc(env, 0x7ffffffff000)
    if (!mm) throw new Error('mm_alloc')
    mm.mmap_base = 0x7f0000000000
    return mm
  }
  const free0 = t.nr_free()
  const finish = (...mms: MmStruct[]) => {
    for (const mm of mms) {
      validate_mm(mm)
      check_mm(mm)
    }
    for (const mm of mms) mmput(mm)
    t.machine.check()
  }
  return { env, t, mk, free0, finish }
}

function pte(mm: MmStruct, addr: number): number {
  return mm.pgd.get(Math.floor(addr / P))
}

describe('demand paging', () => {
  it('a read maps the shared zero page (special, no rss), a write allocates a zeroed private page', () => {
    const { env, t, mk, free0, finish } = setup()
    const mm = mk()
    expect(vm_mmap_pgoff(mm, null, BASE, 8 * P, RW, ANON, 0)).toBe(BASE)
    const r = access_user(mm, BASE + 3 * P, 10, false)
    expect(r.fault).toBeNull()
    expect([...r.data]).toEqual(new Array(10).fill(0))
    expect(pte_pfn(pte(mm, BASE + 3 * P))).toBe(env.zero_pfn)
    expect(pte_special(pte(mm, BASE + 3 * P))).toBe(true)
    expect(mm.rss_stat[1]).toBe(0)
    // write to the zero-page PTE: COW from the zero page
    expect(access_user(mm, BASE + 3 * P, 1, true, 7).fault).toBeNull()
    const pfn = pte_pfn(pte(mm, BASE + 3 * P))
    expect(pfn).not.toBe(env.zero_pfn)
    expect(env.pages._refcount[pfn]).toBe(1)
    expect(env.pages._mapcount[pfn]).toBe(1)
    expect(mm.rss_stat[1]).toBe(1)
    expect([...access_user(mm, BASE + 3 * P, 2, false).data]).toEqual([7, 0])
    const s = smaps_walk(mm, mm.mm_mt.first()!)
    expect(kB(s.resident)).toBe(4)
    expect(kB(s.private_dirty)).toBe(4)
    finish(mm)
    expect(t.nr_free()).toBe(free0)
  })

  it('an unmapped address is SEGV_MAPERR, a read-only page written is SEGV_ACCERR', () => {
    const { mk, finish } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE, P, M.PROT_READ, ANON, 0)
    expect(access_user(mm, BASE + P, 1, false).fault).toEqual({ signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr: BASE + P })
    expect(access_user(mm, BASE, 1, true, 1).fault).toEqual({ signal: 'SIGSEGV', si_code: 'SEGV_ACCERR', addr: BASE })
    finish(mm)
  })

  it('a GROWSDOWN VMA grows to a touched address unless an accessible VMA is within the guard gap', () => {
    const { mk, finish } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE + 0x18000, 2 * P, RW, ANON | M.MAP_GROWSDOWN, 0)
    expect(access_user(mm, BASE + 0x14000, 1, true, 1).fault).toBeNull()
    expect(mm.mm_mt.first()!.vm_start).toBe(BASE + 0x14000)
    vm_mmap_pgoff(mm, null, BASE, P, RW, ANON, 0)
    expect(access_user(mm, BASE + 0x8000, 1, false).fault?.si_code).toBe('SEGV_MAPERR')
    finish(mm)
  })
})

describe('fork and copy-on-write', () => {
  it('shares anonymous pages read-only, copies on write, reuses once exclusive; counts stay exact', () => {
    const { env, t, mk, free0, finish } = setup()
    const p = mk()
    vm_mmap_pgoff(p, null, BASE, 4 * P, RW, ANON, 0)
    access_user(p, BASE, 4 * P, true, 0x61)
    const pfns = [0, 1, 2, 3].map((i) => pte_pfn(pte(p, BASE + i * P)))
    const c = dup_mm(p)
    if (!c) throw new Error('dup_mm')
    for (const pfn of pfns) {
      expect(env.pages._refcount[pfn]).toBe(2)
      expect(env.pages._mapcount[pfn]).toBe(2)
    }
    expect(pte_write(pte(p, BASE))).toBe(false)
    expect(pte_write(pte(c, BASE))).toBe(false)
    const ps = smaps_walk(p, p.mm_mt.first()!)
    expect(kB(ps.shared_dirty)).toBe(16)
    expect(pss_kB(ps.pss)).toBe(8)
    // child writes page 0: it gets its own copy, the parent keeps the old data
    access_user(c, BASE, 1, true, 0x62)
    expect(pte_pfn(pte(c, BASE))).not.toBe(pfns[0])
    expect(env.pages._refcount[pfns[0]]).toBe(1)
    expect(access_user(p, BASE, 1, false).data[0]).toBe(0x61)
    // parent writes page 0: exclusive now, reused in place (no copy)
    access_user(p, BASE, 1, true, 0x63)
    expect(pte_pfn(pte(p, BASE))).toBe(pfns[0])
    mmput(c)
    for (const pfn of pfns.slice(1)) {
      expect(env.pages._refcount[pfn]).toBe(1)
      expect(env.pages._mapcount[pfn]).toBe(1)
    }
    // after the child's exit the parent's write to page 1 reuses the page
    access_user(p, BASE + P, 1, true, 0x64)
    expect(pte_pfn(pte(p, BASE + P))).toBe(pfns[1])
    expect(kB(smaps_walk(p, p.mm_mt.first()!).private_dirty)).toBe(16)
    finish(p)
    expect(t.nr_free()).toBe(free0)
  })

  it('DONTFORK VMAs are left out, WIPEONFORK ones start empty, shared anonymous memory stays shared', () => {
    const { env, t, mk, finish, free0 } = setup()
    // The page caches that exist before (the /dev nodes' inodes have theirs).
    const mappings0 = env.mappings.size
    const p = mk()
    vm_mmap_pgoff(p, null, BASE, 2 * P, RW, ANON, 0)
    vm_mmap_pgoff(p, null, BASE + 4 * P, 2 * P, RW, ANON, 0)
    vm_mmap_pgoff(p, null, BASE + 8 * P, 2 * P, RW, M.MAP_SHARED | M.MAP_ANONYMOUS | M.MAP_FIXED, 0)
    access_user(p, BASE, 10 * P, true, 9)
    expect(do_madvise(p, BASE, 2 * P, M.MADV_DONTFORK)).toBe(0)
    expect(do_madvise(p, BASE + 4 * P, 2 * P, M.MADV_WIPEONFORK)).toBe(0)
    const c = dup_mm(p)
    if (!c) throw new Error('dup_mm')
    expect(c.map_count).toBe(2)
    expect(access_user(c, BASE, 1, false).fault?.si_code).toBe('SEGV_MAPERR')
    expect(access_user(c, BASE + 4 * P, 1, false).data[0]).toBe(0)
    // the shared mapping starts with no PTEs in the child but sees the same object
    expect(pte(c, BASE + 8 * P)).toBe(0)
    access_user(c, BASE + 8 * P, 1, true, 42)
    expect(access_user(p, BASE + 8 * P, 1, false).data[0]).toBe(42)
    finish(c, p)
    // the shared anonymous object goes with its last mapping
    expect(env.mappings.size).toBe(mappings0)
    expect(t.nr_free()).toBe(free0)
  })

  it('property: random writes in parent and children keep refcount = mapcount for anonymous pages and free everything at exit', () => {
    const { env, t, mk, free0 } = setup()
    fc.assert(
      fc.property(
        fc.array(fc.record({ who: fc.nat(2), page: fc.nat(7), fork: fc.boolean() }), { maxLength: 30 }),
        (steps) => {
          const mms: MmStruct[] = [mk()]
          vm_mmap_pgoff(mms[0], null, BASE, 8 * P, RW, ANON, 0)
          for (const s of steps) {
            const mm = mms[s.who % mms.length]
            if (s.fork && mms.length < 3) {
              const c = dup_mm(mm)
              if (c) mms.push(c)
            } else {
              access_user(mm, BASE + s.page * P, 1, true, s.page)
            }
            for (const m of mms) check_mm(m)
            const seen = new Map<number, number>()
            for (const m of mms) {
              m.pgd.each(BASE / P, BASE / P + 8, (_v, e) => {
                if (!pte_present(e) || pte_special(e)) return
                const pfn = pte_pfn(e)
                seen.set(pfn, (seen.get(pfn) ?? 0) + 1)
              })
            }
            for (const [pfn, n] of seen) {
              expect(env.pages._mapcount[pfn]).toBe(n)
              expect(env.pages._refcount[pfn]).toBe(n)
            }
          }
          // every process reads back what it wrote last on its own pages (or 0)
          for (const m of mms) mmput(m)
          expect(t.nr_free()).toBe(free0)
        },
      ),
      { numRuns: 60, seed: 7 },
    )
    t.machine.check()
  })
})

describe('files, lazy free, truncation and user copies', () => {
  it('a private file mapping reads the page cache until written; truncate zaps COW copies past EOF (SIGBUS)', () => {
    const { env, mk, finish } = setup()
    const mm = mk()
    const f = shmem_file_setup(env, 'f', 0, 'shmem')
    file_write(env, f.f_mapping, 0, new Uint8Array(4 * P).fill(5))
    vm_mmap_pgoff(mm, f, BASE, 4 * P, RW, M.MAP_PRIVATE | M.MAP_FIXED, 0)
    access_user(mm, BASE, 4 * P, true, 0x21)
    expect(mm.rss_stat[1]).toBe(4)
    expect(truncate_setsize(env, f.f_mapping, P)).toBe(0)
    expect(access_user(mm, BASE, 1, false).data[0]).toBe(0x21)
    expect(access_user(mm, BASE + P, 1, false).fault).toEqual({ signal: 'SIGBUS', si_code: 'BUS_ADRERR', addr: BASE + P })
    expect(mm.rss_stat[1]).toBe(1)
    finish(mm)
  })

  it('MADV_FREE makes clean lazy-free pages, a write cancels it, PAGEOUT discards the lazy ones', () => {
    const { mk, finish } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE, 4 * P, RW, ANON, 0)
    access_user(mm, BASE, 4 * P, true, 0xb1)
    expect(do_madvise(mm, BASE, 4 * P, M.MADV_FREE)).toBe(0)
    let s = smaps_walk(mm, mm.mm_mt.first()!)
    expect(kB(s.lazyfree)).toBe(16)
    expect(kB(s.private_clean)).toBe(16)
    access_user(mm, BASE + P, 1, true, 0xb2)
    s = smaps_walk(mm, mm.mm_mt.first()!)
    expect(kB(s.lazyfree)).toBe(12)
    expect(do_madvise(mm, BASE, 4 * P, M.MADV_PAGEOUT)).toBe(0)
    expect(mm.rss_stat[1]).toBe(1)
    expect(access_user(mm, BASE, 1, false).data[0]).toBe(0)
    expect(access_user(mm, BASE + P, 1, false).data[0]).toBe(0xb2)
    expect(do_munmap(mm, BASE, 4 * P)).toBe(0)
    finish(mm)
  })

  it('copy_to_user / copy_from_user return the bytes not copied; get_user / put_user return -EFAULT', () => {
    const { mk, finish } = setup()
    const mm = mk()
    vm_mmap_pgoff(mm, null, BASE, P, RW, ANON, 0)
    vm_mmap_pgoff(mm, null, BASE + P, P, M.PROT_READ, ANON, 0)
    expect(copy_to_user(mm, BASE + P - 8, new Uint8Array(16).fill(3))).toBe(8)
    const buf = new Uint8Array(16)
    expect(copy_from_user(mm, buf, BASE + 2 * P - 8)).toBe(8)
    expect(put_user(mm, BASE + 16, 0x1234, 4)).toBe(0)
    expect(get_user(mm, BASE + 16, 4)).toEqual([0, 0x1234])
    expect(put_user(mm, BASE + P, 1, 4)).toBe(-EFAULT)
    expect(get_user(mm, BASE + 8 * P, 8)).toEqual([-EFAULT, 0])
    finish(mm)
  })
})
