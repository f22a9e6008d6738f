import { describe, expect, it } from 'vitest'
import {
  ErrnoError, type Machine, type Process,
  MADV_DONTFORK, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED,
  MREMAP_FIXED, MREMAP_MAYMOVE, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE,
} from '../../src/index.js'
import { boot } from '../helpers.js'

/**
 * Every system call that allocates slab objects (vm_area_struct, anon_vma, anon_vma_chain,
 * mm_struct) with the k-th of those allocations failing (failslab with ignore_gfp_reclaim 0, as
 * the fuzzer runs it), for every k the call reaches: it fails with Linux's errno and leaves the
 * address space as it was (Linux keeps a split it made before failing: the layout is compared
 * with adjacent equal VMAs joined), the commit charge unchanged, every byte in place; or it
 * succeeds and does what it says. The checker (which counts the cache objects against the
 * VMAs, chains and anon_vmas) passes after each.
 */

const A = 0x200000000000
const PAGE = 4096
const RW = PROT_READ | PROT_WRITE

/** /proc/<pid>/maps with adjacent lines of equal permissions and name joined (a split is not a change). */
function layout(m: Machine, p: Process): string[] {
  const out: { s: number; e: number; rest: string }[] = []
  for (const line of m.proc(`/proc/${p.pid}/maps`).trim().split('\n')) {
    const [range, perms, , , , ...name] = line.split(/\s+/)
    const [s, e] = range.split('-').map((x) => parseInt(x, 16))
    const rest = `${perms} ${name.join(' ')}`
    const last = out.at(-1)
    if (last && last.e === s && last.rest === rest) last.e = e
    else out.push({ s, e, rest })
  }
  return out.map((r) => `${r.s.toString(16)}-${r.e.toString(16)} ${r.rest}`)
}

const committed = (m: Machine): string => m.proc('/proc/meminfo').match(/Committed_AS:\s+(\d+)/)![1]

/** The errno of a raw call's result, or null for success. */
function errno_of(r: number): string | null {
  if (r >= 0 || r < -4095) return null
  try {
    throw new ErrnoError(-r, 'x')
  } catch (e) {
    return (e as ErrnoError).code
  }
}

interface Case {
  /** What the process holds before the call (its bytes are checked after). */
  setup(m: Machine, p: Process): void
  /** The call: its raw result (an address, 0, or -errno). */
  call(m: Machine, p: Process): number
  /** The errnos Linux gives when the allocation fails. */
  errnos: string[]
  /** After a failure: whether the layout may differ (MAP_FIXED leaves the replaced range unmapped). */
  gap?: [number, number]
  /** After a success: what must hold. */
  ok(m: Machine, p: Process, r: number): void
}

/** Two marker bytes (tag, page index) in each of `pages` pages at base. */
function fill(p: Process, base: number, pages: number, tag: number): void {
  for (let i = 0; i < pages; i++) p.store(base + i * PAGE + 7, [tag, i])
}
/** The marker bytes of pages [first, first+pages) of the mapping fill() wrote at base (moved to `at`). */
function same_bytes(p: Process, at: number, pages: number, tag: number, first = 0): void {
  for (let i = first; i < first + pages; i++) expect([...p.load(at + (i - first) * PAGE + 7, 2)], `page ${i} at 0x${at.toString(16)}`).toEqual([tag, i])
}

const anon8 = (p: Process): void => {
  p.mmap(A, 8 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
  fill(p, A, 8, 0x5a)
}

const CASES: Record<string, Case> = {
  'mmap of a new mapping (vm_area_alloc)': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_mmap(A + 64 * PAGE, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE),
    errnos: ['ENOMEM'],
    ok: (_m, p, r) => expect([...p.load(r, 4)]).toEqual([0, 0, 0, 0]),
  },
  'mmap of a shared file over the middle of a mapping (two splits, then the new VMA)': {
    setup: (m, p) => {
      anon8(p)
      const fd = p.open('/tmp/f', O_CREAT | O_RDWR)
      p.pwrite(fd, new Uint8Array(4 * PAGE).fill(3))
    },
    call: (_m, p) => p.sys_mmap(A + 2 * PAGE, 3 * PAGE, RW, MAP_SHARED | MAP_FIXED, 3, 0),
    errnos: ['ENOMEM'],
    gap: [A + 2 * PAGE, A + 5 * PAGE],
    ok: (_m, p) => {
      expect([...p.load(A + 2 * PAGE, 2)]).toEqual([3, 3])
      same_bytes(p, A, 2, 0x5a)
      same_bytes(p, A + 5 * PAGE, 3, 0x5a, 5)
    },
  },
  'munmap of the middle of a mapping (__split_vma twice)': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_munmap(A + 3 * PAGE, 2 * PAGE),
    errnos: ['ENOMEM'],
    ok: (_m, p) => {
      expect(p.try_access(A + 3 * PAGE, 1, false).fault).toBeDefined()
      same_bytes(p, A + 5 * PAGE, 3, 0x5a, 5)
    },
  },
  'mprotect of the middle of a mapping (vma_modify splits)': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_mprotect(A + 2 * PAGE, 3 * PAGE, PROT_READ),
    errnos: ['ENOMEM'],
    ok: (_m, p) => expect(p.try_access(A + 3 * PAGE, 1, true, new Uint8Array([1])).fault).toBeDefined(),
  },
  'madvise(MADV_DONTFORK) of the middle of a mapping (EAGAIN when a split cannot be had)': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_madvise(A + 2 * PAGE, 3 * PAGE, MADV_DONTFORK),
    errnos: ['EAGAIN'],
    ok: (m, p) => expect(m.proc(`/proc/${p.pid}/smaps`)).toContain('dc'),
  },
  'mlock of the middle of a mapping': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_mlock(A + 2 * PAGE, 3 * PAGE),
    errnos: ['ENOMEM'],
    ok: (m, p) => expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/VmLck:\s+12 kB/),
  },
  'mremap moving part of a faulted mapping (copy_vma: vm_area_dup, anon_vma_clone)': {
    setup: (_m, p) => {
      anon8(p)
      p.mmap(A + 8 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) // no room to grow in place
    },
    call: (_m, p) => p.sys_mremap(A + 4 * PAGE, 4 * PAGE, 6 * PAGE, MREMAP_MAYMOVE),
    errnos: ['ENOMEM'],
    ok: (_m, p, r) => {
      for (let i = 0; i < 4; i++) expect([...p.load(r + i * PAGE + 7, 2)]).toEqual([0x5a, 4 + i])
      same_bytes(p, A, 4, 0x5a)
    },
  },
  'mremap with MREMAP_FIXED to a free place': {
    setup: (_m, p) => anon8(p),
    call: (_m, p) => p.sys_mremap(A, 8 * PAGE, 8 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, A + 256 * PAGE),
    errnos: ['ENOMEM'],
    ok: (_m, p, r) => {
      expect(r).toBe(A + 256 * PAGE)
      same_bytes(p, r, 8, 0x5a)
    },
  },
  'brk growing the heap (do_brk_flags: vm_area_alloc)': {
    setup: (_m, p) => {
      anon8(p)
      // An empty heap: the growth needs a new VMA (the data segment is not adjacent).
      p.sys_brk(p.mm.start_brk)
    },
    call: (_m, p) => {
      const old = p.sys_brk(0)
      const r = p.sys_brk(old + 3 * PAGE)
      return r === old ? -12 : r
    },
    errnos: ['ENOMEM'],
    ok: (_m, p, r) => expect(p.sys_brk(0)).toBe(r),
  },
  'fork (dup_mmap: vm_area_dup, anon_vma_fork; mm_alloc)': {
    setup: (_m, p) => anon8(p),
    call: (m, p) => {
      const before = m.syscalls.tasks.size
      try {
        const c = p.fork()
        same_bytes(c, A, 8, 0x5a)
        c.exit(0)
        c.wait()
        return 0
      } catch (e) {
        expect(m.syscalls.tasks.size).toBe(before)
        return -(e as ErrnoError).errno
      }
    },
    errnos: ['ENOMEM'],
    ok: () => {},
  },
  'execve of a new process (mm_alloc, the image\'s VMAs, [vdso])': {
    setup: (_m, p) => anon8(p),
    call: (m) => {
      const before = m.syscalls.tasks.size
      try {
        const c = m.spawn({ name: 'child' })
        c.exit(0)
        c.wait()
        return 0
      } catch (e) {
        expect(m.syscalls.tasks.size).toBe(before)
        return -(e as ErrnoError).errno
      }
    },
    // load_elf_binary() fails with EFAULT when a copy into the new mm cannot fault its page in.
    errnos: ['ENOMEM', 'EFAULT'],
    ok: () => {},
  },
  'the first write fault of a mapping (anon_vma_prepare: VM_FAULT_OOM, then the retry)': {
    setup: (_m, p) => {
      anon8(p)
      p.mmap(A + 32 * PAGE, 4 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    },
    call: (_m, p) => {
      p.store(A + 33 * PAGE + 5, [9, 8, 7])
      return 0
    },
    errnos: [],
    ok: (_m, p) => expect([...p.load(A + 33 * PAGE + 5, 3)]).toEqual([9, 8, 7]),
  },
}

describe('system calls under slab allocation failure', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const seen = new Set<string>()
      const start = (): [Machine, Process] => {
        const m = boot({ ram: '32M' })
        const p = m.spawn({ name: 'p' })
        c.setup(m, p)
        return [m, p]
      }
      // How many slab allocations the call makes: counted by an attribute that never fires.
      const [m0, p0] = start()
      Object.assign(m0.failslab, { probability: 100, interval: 2 ** 30, ignore_gfp_reclaim: false, verbose: 0 })
      c.call(m0, p0)
      const n = (m0.failslab as unknown as { count: number }).count
      expect(n).toBeGreaterThan(0)
      // Every k up to 24, then a spread, and one past the last allocation.
      const ks = [...new Set([...Array.from({ length: Math.min(n, 24) }, (_, i) => i + 1), ...Array.from({ length: 8 }, (_, i) => Math.ceil(((i + 1) * n) / 8)), n + 1])]
      for (const k of ks) {
        const [m, p] = start()
        const maps = layout(m, p)
        const charge = committed(m)
        Object.assign(m.failslab, { probability: 100, interval: k, times: 1, ignore_gfp_reclaim: false, verbose: 0 })
        const r = c.call(m, p)
        const injected = m.failslab.times === 0
        Object.assign(m.failslab, { probability: 0, times: -1, interval: 1 })
        const e = errno_of(r)
        if (e) {
          expect(c.errnos, `k=${k}`).toContain(e)
          expect(injected).toBe(true)
          seen.add('failed')
          if (c.gap) {
            // What MAP_FIXED replaced is unmapped or intact; the rest is as it was.
            const [gs, ge] = c.gap
            same_bytes(p, A, (gs - A) / PAGE, 0x5a)
            same_bytes(p, ge, (A + 8 * PAGE - ge) / PAGE, 0x5a, (ge - A) / PAGE)
          } else {
            expect(layout(m, p), `k=${k}`).toEqual(maps)
            expect(committed(m), `k=${k}`).toBe(charge)
            same_bytes(p, A, 8, 0x5a)
          }
        } else {
          seen.add(injected ? 'ok despite a failure' : 'ok')
          c.ok(m, p, r)
        }
        m.check()
      }
      // Some allocation of the call failed it (or was retried), and past its last one it succeeds.
      expect(seen.has('ok')).toBe(true)
      expect(seen.has('failed') || c.errnos.length === 0).toBe(true)
    })
  }
})
