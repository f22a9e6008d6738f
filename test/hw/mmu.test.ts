/**
 * The MMU through the Process API: TLB hits and misses, A/D bits written by
 * the page walk into the PTE in its frame, flushes where Linux flushes (each
 * test would fail if the flush were missing: a stale translation is
 * observable), shootdowns across two CPUs, lazy TLB for kernel threads, the
 * tlb_entries option, and machines not sharing translation state.
 */
import { describe, expect, it } from 'vitest'
import { Machine, type MachineOptions } from '../../src/index.js'
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MADV_COLD, MADV_DONTNEED, MREMAP_MAYMOVE } from '../../src/include/uapi/mman.js'
import { SignalError } from '../../src/user/errors.js'
import { O_CREAT, O_RDWR, type Process } from '../../src/user/process.js'
import { FramePageTables } from '../../src/mm/pgtable_mm.js'
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_RW } from '../../src/arch/pte.js'
import { SIGSEGV } from '../../src/include/uapi/signal.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS

function boot(o: MachineOptions = {}): Machine {
  const m = new Machine({ arch: 'x86_64', ram: '128M', seed: 1, debug_vm: true, ...o })
  m.check()
  return m
}

/** The PTE of `addr` as it is in its page-table frame (0 when none). */
function frame_pte(m: Machine, p: Process, addr: number): number {
  const pt = p.mm.pgd as FramePageTables
  const ptep = m.pgtables.walk(pt.mm, addr)
  return ptep === 0 ? 0 : m.pgtables.ptep_get(ptep)
}

/** Does a store fault (SIGSEGV delivered to a handler, the process lives on)? */
function store_faults(p: Process, addr: number, v: number): boolean {
  try {
    p.store(addr, [v])
    return false
  } catch (e) {
    if (e instanceof SignalError) return true
    throw e
  }
}

function catch_segv(p: Process): void {
  p.sigaction(SIGSEGV, () => undefined)
}

describe('MMU: TLB hits and misses', () => {
  it('a fault then a walk fill the TLB; later loads hit', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [7])
    const t = m.mmu.cpus[p.cpu].tlb
    const h0 = t.hits
    const m0 = t.misses
    for (let i = 0; i < 100; i++) expect(p.load(a + i, 1)[0]).toBe(i === 0 ? 7 : 0)
    expect(t.hits - h0).toBe(100)
    expect(t.misses - m0).toBe(0)
    // 100 hits and the earlier misses: the effective access time is close to one memory access
    const st = m.tlb.tlb_stats()[p.cpu]
    expect(st.walks).toBeGreaterThan(0)
    expect(st.walk_reads).toBeGreaterThanOrEqual(st.walks)
    const eat = m.mmu.effective_access_ns(p.cpu, 1, 100)
    expect(eat).toBeCloseTo(101 + (100 * st.walk_reads) / (st.hits + st.misses), 6)
    expect(eat).toBeGreaterThan(101)
    const vpn = (a / 4096).toString(16)
    expect(m.tlb.tlb_text(p.cpu)).toMatch(new RegExp(`pcid \\d+  vpn 0x${vpn} -> pfn 0x[0-9a-f]+  W U D\\n`))
    m.check()
  })

  it('counts misses per CPU and honours the tlb_entries option (capacity misses)', () => {
    for (const [entries, expect_misses] of [
      [64, 0],
      [8, 16],
    ] as const) {
      const m = boot({ tlb_entries: entries, tlb_ways: entries === 8 ? 2 : 4 })
      expect(m.mmu.cpus[0].tlb.nr_entries).toBe(entries)
      const p = m.spawn({ name: 'app' })
      const a = p.mmap(0, 16 * 4096, RW, ANON)
      for (let i = 0; i < 16; i++) p.store(a + i * 4096, [i])
      const t = m.mmu.cpus[p.cpu].tlb
      const m0 = t.misses
      for (let i = 0; i < 16; i++) expect(p.load(a + i * 4096, 1)[0]).toBe(i)
      expect(t.misses - m0).toBe(expect_misses)
      expect(m.mmu.cpus[1].tlb.hits + m.mmu.cpus[1].tlb.misses).toBe(0)
      m.check()
    }
  })

  it('rejects TLB geometries without a power-of-two number of sets', () => {
    expect(() => new Machine({ ram: '64M', tlb_entries: 48 })).toThrow(/tlb_entries/)
    expect(() => new Machine({ ram: '64M', tlb_entries: 64, tlb_ways: 3 })).toThrow(/tlb_entries/)
    const m = new Machine({ ram: '64M', tlb_entries: 1536, tlb_ways: 12 }) // an L2 STLB's shape
    expect(m.mmu.cpus[0].tlb.sets).toBe(128)
    m.check()
  })

  it('two machines in one host process keep separate MMUs', () => {
    const m1 = boot()
    const m2 = boot()
    const p1 = m1.spawn({ name: 'a' })
    const p2 = m2.spawn({ name: 'b' })
    const a1 = p1.mmap(0, 4096, RW, ANON)
    const a2 = p2.mmap(0, 4096, RW, ANON)
    p1.store(a1, [1])
    p2.store(a2, [2])
    const before = m2.mmu.cpus[0].tlb.hits
    for (let i = 0; i < 10; i++) p1.load(a1, 1)
    expect(m2.mmu.cpus[0].tlb.hits).toBe(before)
    expect(p2.load(a2, 1)[0]).toBe(2)
    m1.check()
    m2.check()
  })
})

describe('MMU: Accessed and Dirty bits in the frame PTE', () => {
  it('a store through a clean shared mapping sets D in the PTE; MADV_COLD clears A and the next load sets it again', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const fd = p.open('/tmp/f', O_CREAT | O_RDWR)
    p.ftruncate(fd, 4096)
    const a = p.mmap(0, 4096, RW, MAP_SHARED, fd, 0)
    p.load(a, 1) // read fault: mapped writable (tmpfs: no write notify), clean
    let pte = frame_pte(m, p, a)
    expect(pte & _PAGE_RW).toBe(_PAGE_RW)
    expect(pte & _PAGE_DIRTY).toBe(0)
    expect(pte & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED)
    p.store(a, [1]) // no fault: the MMU sets D itself
    pte = frame_pte(m, p, a)
    expect(pte & _PAGE_DIRTY).toBe(_PAGE_DIRTY)
    // The TLB now has the entry with D set: a second store hits without a walk.
    const t = m.mmu.cpus[p.cpu].tlb
    const m0 = t.misses
    p.store(a + 1, [2])
    expect(t.misses).toBe(m0)
    // MADV_COLD ages the page (clears A) and flushes: the next load walks and sets A.
    const b = p.mmap(0, 4096, RW, ANON)
    p.store(b, [3])
    p.madvise(b, 4096, MADV_COLD)
    expect(frame_pte(m, p, b) & _PAGE_ACCESSED).toBe(0)
    p.load(b, 1)
    expect(frame_pte(m, p, b) & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED)
    m.check()
  })

  it("fork leaves the child's PTEs old; the child's first load sets A in its frame PTE", () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [5])
    const c = p.fork()
    expect(frame_pte(m, c, a) & _PAGE_ACCESSED).toBe(0)
    expect(c.load(a, 1)[0]).toBe(5)
    expect(frame_pte(m, c, a) & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED)
    expect(frame_pte(m, c, a) & _PAGE_RW).toBe(0) // COW: write-protected
    m.check()
  })
})

describe('MMU: flushes where Linux flushes (each would be caught if missing)', () => {
  it('mprotect(PROT_READ): a store through the CPU that cached the writable translation faults', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1])
    p.store(a, [2]) // cached writable and dirty
    p.mprotect(a, 4096, PROT_READ)
    expect(store_faults(p, a, 3)).toBe(true)
    expect(p.load(a, 1)[0]).toBe(2)
    m.check()
  })

  it('the same sequence with the flush hook removed lets the store through a stale entry (the detector works)', () => {
    // The test breaks the kernel on purpose: the checker runs where the test asks, not after every call.
    const m = boot({ debug_vm: false })
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1])
    const hook = m.mm_env.flush_tlb_range
    m.mm_env.flush_tlb_range = () => {}
    p.mprotect(a, 4096, PROT_READ)
    m.mm_env.flush_tlb_range = hook
    expect(store_faults(p, a, 3)).toBe(false) // a missing flush is observable
    // and munmap without a flush is reported by the invariant checker
    const b = p.mmap(0, 4096, RW, ANON)
    p.store(b, [1])
    m.mm_env.flush_tlb_range = () => {}
    p.munmap(b, 4096)
    m.mm_env.flush_tlb_range = hook
    expect(() => m.check()).toThrow(/missing TLB flush/)
  })

  it('the checker finds a stale writable entry among fresh ones of the same pte table', () => {
    const m = boot({ debug_vm: false })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8 * 4096, RW, ANON)
    for (let i = 0; i < 8; i++) p.store(a + i * 4096, [i])
    m.check()
    const hook = m.mm_env.flush_tlb_range
    m.mm_env.flush_tlb_range = () => {}
    p.mprotect(a + 5 * 4096, 4096, PROT_READ)
    m.mm_env.flush_tlb_range = hook
    expect(() => m.check()).toThrow(/caches vpn 0x[0-9a-f]+ -> pfn 0x[0-9a-f]+ writable, the page tables say 0x[0-9a-f]+ read-only/)
  })

  it('munmap, MADV_DONTNEED and mremap drop the old translations', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const a = p.mmap(0, 3 * 4096, RW, ANON)
    for (let i = 0; i < 3; i++) p.store(a + i * 4096, [9])
    p.madvise(a, 4096, MADV_DONTNEED)
    expect(p.load(a, 1)[0]).toBe(0) // a fresh zero page, not the old frame
    m.check()
    const b = p.mremap(a + 4096, 4096, 8192, MREMAP_MAYMOVE)
    expect(b).not.toBe(a + 4096)
    expect(p.load(b, 1)[0]).toBe(9)
    expect(() => p.load(a + 4096, 1)).toThrow(SignalError)
    p.munmap(a + 2 * 4096, 4096)
    expect(() => p.load(a + 2 * 4096, 1)).toThrow(SignalError)
    m.check()
  })

  it("fork write-protects the parent's PTEs and flushes: the parent's next store copies (COW)", () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1]) // parent caches a writable, dirty entry
    const before = m.tlb.events.nr_tlb_local_flush_all
    const c = p.fork()
    expect(m.tlb.events.nr_tlb_local_flush_all).toBe(before + 1) // flush_tlb_mm
    p.store(a, [2])
    expect(c.load(a, 1)[0]).toBe(1) // without the flush the parent would have written the shared page
    expect(p.load(a, 1)[0]).toBe(2)
    c.store(a, [3]) // the child's page is now exclusive: reused in place
    expect(p.load(a, 1)[0]).toBe(2)
    c.exit(0)
    m.check()
  })
})

describe('MMU: paging-structure cache and freed page tables', () => {
  /** A 2-page mapping alone in its pte table, with the table cached by a failed walk and no PTE left. */
  function table_cached_no_pte(m: Machine): { p: Process; x: number } {
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const x = p.mmap(0x7e0000000000, 8192, RW, ANON | 0x10 /* MAP_FIXED */)
    p.store(x, [1])
    p.madvise(x, 4096, MADV_DONTNEED) // zapped and flushed: no PTE, no cached table
    p.mprotect(x + 4096, 4096, PROT_READ)
    p.mprotect(x + 4096, 4096, 0)
    expect(() => p.load(x + 4096, 1)).toThrow(SignalError) // the walk reaches the pte table: cached
    expect(m.mmu.cpus[p.cpu].tlb.pde_region.some((r) => r === Math.floor(x / 4096 / 512))).toBe(true)
    return { p, x }
  }

  it('walks start from the cached pte table; munmap flushes when it frees page tables even with no PTE cleared', () => {
    const m = boot()
    const { p, x } = table_cached_no_pte(m)
    const before = m.tlb.events.nr_tlb_local_flush_one + m.tlb.events.nr_tlb_local_flush_all
    p.munmap(x, 8192) // frees the pte table: tlb_finish_mmu() flushes (freed_tables)
    expect(m.tlb.events.nr_tlb_local_flush_one + m.tlb.events.nr_tlb_local_flush_all).toBe(before + 1)
    expect(m.mmu.cpus[p.cpu].tlb.pde_region.some((r) => r === Math.floor(x / 4096 / 512))).toBe(false)
    m.check()
  })

  it('a missing freed-tables flush is caught (the cached table was freed)', () => {
    const m = boot({ debug_vm: false })
    const { p, x } = table_cached_no_pte(m)
    const hook = m.mm_env.flush_tlb_range
    m.mm_env.flush_tlb_range = () => {}
    p.munmap(x, 8192)
    m.mm_env.flush_tlb_range = hook
    expect(() => m.check()).toThrow(/freeing page tables/)
  })
})

describe('MMU: shootdowns and lazy TLB', () => {
  it('counts a remote flush sent and received when two CPUs run the same mm', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1])
    // A second thread of the process on CPU 1 (clone(CLONE_VM)).
    const thr = p.clone_thread(1)
    catch_segv(thr)
    expect(thr.load(a, 1)[0]).toBe(1)
    expect([...p.mm.cpu_bitmap].sort()).toEqual([0, 1])
    const ev = { ...m.tlb.events }
    p.munmap(a, 4096) // on CPU 0
    expect(m.tlb.events.nr_tlb_remote_flush - ev.nr_tlb_remote_flush).toBe(1)
    expect(m.tlb.state[0].events.nr_tlb_remote_flush).toBeGreaterThanOrEqual(1)
    expect(m.tlb.events.nr_tlb_remote_flush_received - ev.nr_tlb_remote_flush_received).toBe(1)
    expect(m.tlb.state[1].events.nr_tlb_remote_flush_received).toBe(1)
    expect(m.tlb.events.nr_tlb_local_flush_one - ev.nr_tlb_local_flush_one).toBe(1)
    expect(() => thr.load(a, 1)).toThrow(SignalError) // CPU 1's entry is gone
    m.check()
    // A big range is a full flush (above tlb_single_page_flush_ceiling = 33 pages).
    // The gather flushes the span of the PTEs actually cleared: one page here...
    const b = p.mmap(0, 64 * 4096, RW, ANON)
    p.store(b, [1])
    let one = m.tlb.events.nr_tlb_local_flush_one
    p.munmap(b, 64 * 4096)
    expect(m.tlb.events.nr_tlb_local_flush_one).toBeGreaterThan(one)
    // ...and everything when more than 33 pages were cleared.
    const c = p.mmap(0, 64 * 4096, RW, ANON)
    for (let i = 0; i < 64; i++) p.store(c + i * 4096, [1])
    const all = m.tlb.events.nr_tlb_local_flush_all
    one = m.tlb.events.nr_tlb_local_flush_one
    p.munmap(c, 64 * 4096)
    expect(m.tlb.events.nr_tlb_local_flush_all).toBe(all + 1)
    expect(m.tlb.events.nr_tlb_local_flush_one).toBe(one)
    thr.exit(0)
    expect(p.mm.mm_users).toBe(1)
    m.check()
  })

  it('a kernel thread borrows the mm lazily, skips shootdowns and the CPU catches up when the task returns', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    catch_segv(p)
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1]) // CPU 0 caches a
    const mm = p.mm
    const kt = m.syscalls.kthread_create('kworker/0:1')!
    const count0 = mm.mm_count
    m.syscalls.sched.switch_to(0, kt)
    expect(kt.mm).toBe(null)
    expect(kt.active_mm).toBe(mm)
    expect(mm.mm_count).toBe(count0 + 1) // mmgrab
    expect(m.tlb.loaded(0).mm === mm && m.tlb.loaded(0).lazy).toBe(true)
    p.run_on(1) // the task moves to CPU 1; CPU 0 stays lazy on its mm
    const rcv = m.tlb.events.nr_tlb_remote_flush_received
    p.munmap(a, 4096)
    expect(m.tlb.events.nr_tlb_remote_flush_received).toBe(rcv) // lazy CPU 0 skipped
    expect(m.mmu.cpus[0].tlb.nr_valid).toBeGreaterThan(0) // its stale entry is still there...
    p.run_on(0) // ...until it switches back: tlb_gen is behind, so it flushes
    expect(mm.mm_count).toBe(count0) // mmdrop of the borrowed mm
    expect(kt.active_mm).toBe(null)
    expect(() => p.load(a, 1)).toThrow(SignalError)
    m.check()
  })

  it('tracepoints carry the CPU the task runs on', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8192, RW, ANON)
    const cpus: number[] = []
    const off = m.trace.on((e) => {
      if (e.name === 'page_fault_user') cpus.push(e.cpu)
    })
    p.store(a, [1])
    p.run_on(1)
    p.store(a + 4096, [1])
    off()
    expect(cpus).toEqual([0, 1])
    m.check()
  })

  it('exit drops the mm from every CPU before its page tables go', () => {
    const m = boot()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1])
    const c = p.fork()
    c.run_on(1)
    c.load(a, 1)
    c.exit(0)
    expect(m.tlb.loaded(1).mm).toBe(null)
    expect(p.load(a, 1)[0]).toBe(1)
    m.check()
  })

  it('without PCID every switch to another mm flushes; with PCID the entries survive', () => {
    for (const pcid of [true, false]) {
      const m = boot({ pcid })
      const p = m.spawn({ name: 'a' })
      const q = m.spawn({ name: 'b' })
      const a = p.mmap(0, 4096, RW, ANON)
      const b = q.mmap(0, 4096, RW, ANON)
      p.store(a, [1])
      q.store(b, [2])
      const t = m.mmu.cpus[0].tlb
      const m0 = t.misses
      p.load(a, 1)
      q.load(b, 1)
      expect(t.misses - m0).toBe(pcid ? 0 : 2)
      m.check()
    }
  })
})
