/**
 * i386 (2-level, 4-byte entries, no NX) and i386-pae (3-level, 8-byte
 * entries, NX) processes end to end through the MMU: spawn, mmap, store,
 * load, fork, copy-on-write, exit; the user PTEs in their frames in the
 * profile's hardware layout, as the walk reads them.
 */
import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/index.js'
import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MADV_GUARD_INSTALL } from '../../src/include/uapi/mman.js'
import { SignalError } from '../../src/user/errors.js'
import type { FramePageTables } from '../../src/mm/pgtable_mm.js'
import type { Process } from '../../src/user/process.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS

/** The raw bytes of the PTE of `addr` in its frame, little endian, as hex (high byte first). */
function raw_pte(m: Machine, p: Process, addr: number): string {
  const pt = p.mm.pgd as FramePageTables
  const ptep = m.pgtables.walk(pt.mm, addr)
  expect(ptep).not.toBe(0)
  const size = m.arch.pte_size
  const pfn = Math.floor(ptep / 4096)
  const b = m.physmem.peek(pfn).subarray(ptep - pfn * 4096, ptep - pfn * 4096 + size)
  return [...b].reverse().map((x) => x.toString(16).padStart(2, '0')).join('')
}

describe.each(['i386', 'i386-pae', 'x86_64'] as const)('%s process through the MMU', (arch) => {
  it('spawn, mmap, store, load, fork, COW, exit', () => {
    const m = new Machine({ arch, ram: '128M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8192, RW, ANON)
    expect(a + 8192).toBeLessThanOrEqual(m.arch.TASK_SIZE)
    p.store(a, [1, 2, 3])
    p.store(a + 4096, [4])
    expect([...p.load(a, 3)]).toEqual([1, 2, 3])
    // The PTE in the frame: present, RW, US, A, D; NX (bit 63) on PAE and x86_64, none on i386.
    const hex = raw_pte(m, p, a)
    expect(hex.length).toBe(m.arch.pte_size * 2)
    const low = parseInt(hex.slice(-3), 16)
    expect(low & 0x67).toBe(0x67)
    if (arch === 'i386') expect(hex.length).toBe(8)
    else expect(parseInt(hex.slice(0, 1), 16) & 8).toBe(8)
    const c = p.fork()
    expect(c.load(a, 1)[0]).toBe(1)
    c.store(a, [9]) // COW in the child
    expect(p.load(a, 1)[0]).toBe(1)
    expect(c.load(a, 1)[0]).toBe(9)
    p.store(a + 4096, [5]) // COW in the parent
    expect(c.load(a + 4096, 1)[0]).toBe(4)
    const t = m.mmu.cpus[p.cpu].tlb
    const h = t.hits
    p.load(a + 4096, 1)
    expect(t.hits).toBe(h + 1)
    c.exit(0)
    m.check()
    p.munmap(a, 8192)
    m.check()
  })
})

describe.each(['i386', 'i386-pae', 'x86_64'] as const)('%s non-present user PTEs in their frames', (arch) => {
  it('PROT_NONE keeps the page behind a PROTNONE entry (PFN inverted on 64-bit entries); a guard is a PTE marker', () => {
    const m = new Machine({ arch, ram: '128M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8192, RW, ANON)
    p.store(a, [42])
    const present = raw_pte(m, p, a)
    p.mprotect(a, 4096, PROT_NONE)
    const none = raw_pte(m, p, a)
    const lo = parseInt(none.slice(-3), 16)
    expect(lo & 0x1).toBe(0) // P clear: the MMU faults
    expect(lo & 0x100).toBe(0x100) // _PAGE_PROTNONE
    expect(lo & 0x4).toBe(0) // PAGE_NONE has no US
    if (arch !== 'i386') {
      // pte_modify + protnone_mask(): the PFN bits are stored inverted (L1TF)
      const pfn_of = (hex: string): bigint => (BigInt('0x' + hex) >> 12n) & ((1n << 40n) - 1n)
      expect(pfn_of(none)).toBe(((1n << 40n) - 1n) ^ pfn_of(present))
    }
    expect(() => p.load(a, 1)).toThrow(SignalError)
    m.check()
  })

  it('mprotect back to RW restores a user-accessible entry; MADV_GUARD_INSTALL writes a marker (type 31)', () => {
    const m = new Machine({ arch, ram: '128M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8192, RW, ANON)
    p.store(a, [42])
    p.mprotect(a, 4096, PROT_NONE)
    p.mprotect(a, 4096, RW)
    expect(p.load(a, 1)[0]).toBe(42)
    p.madvise(a + 4096, 4096, MADV_GUARD_INSTALL)
    const g = BigInt('0x' + raw_pte(m, p, a + 4096))
    if (arch === 'i386') expect((g >> 1n) & 31n).toBe(31n)
    else expect(g >> 59n).toBe(31n)
    expect(() => p.load(a + 4096, 1)).toThrow(SignalError)
    m.check()
  })
})

describe.each(['i386', 'i386-pae', 'x86_64'] as const)('%s instruction fetches', (arch) => {
  it('NX data pages fault on a fetch where the profile has NX; executable pages and i386 pages do not', () => {
    const m = new Machine({ arch, ram: '128M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'app' })
    p.sigaction(11, () => undefined)
    // the program's text (r-xp) is executable
    expect(p.fetch(p.mm.start_code, 4).length).toBe(4)
    const a = p.mmap(0, 8192, RW, ANON)
    p.store(a, [0x90, 0xc3])
    p.load(a, 1) // the TLB caches a non-executable translation
    if (m.arch.has_nx) {
      let err: unknown = null
      try {
        p.fetch(a, 2)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(SignalError)
      expect((err as SignalError).code).toBe('SEGV_ACCERR')
    } else {
      expect([...p.fetch(a, 2)]).toEqual([0x90, 0xc3])
    }
    // mprotect(PROT_READ|PROT_EXEC) clears NX and flushes: the fetch now runs the bytes stored
    p.mprotect(a, 4096, PROT_READ | PROT_EXEC)
    expect([...p.fetch(a, 2)]).toEqual([0x90, 0xc3])
    // a fetch from an untouched executable page faults it in (the zero page) like a read
    expect([...p.fetch(p.mmap(0, 4096, PROT_READ | PROT_EXEC, ANON), 2)]).toEqual([0, 0])
    m.check()
  })
})
