import { describe, expect, it } from 'vitest'
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, SignalError } from '../../src/index.js'
import { boot } from '../helpers.js'

/**
 * A page fault whose allocations fail (the page-table levels, the page, the copy) is
 * VM_FAULT_OOM: the task is killed by the OOM path with SIGKILL, which carries no fault
 * code or address; never SIGSEGV or SIGBUS, and no reference or map count is left behind.
 */
describe('page faults under allocation failure', () => {
  const kinds = [
    { name: 'anonymous', flags: MAP_PRIVATE | MAP_ANONYMOUS, path: '' },
    { name: 'shared tmpfs', flags: MAP_SHARED, path: '/tmp/f' },
    { name: 'shared ext4', flags: MAP_SHARED, path: '/data/f' },
    { name: 'private ext4 (COW)', flags: MAP_PRIVATE, path: '/data/f' },
  ]
  for (const kind of kinds) {
    for (const write of [false, true]) {
      it(`${kind.name} ${write ? 'write' : 'read'} fault: SIGKILL (SI_KERNEL, no address) or success, nothing leaked`, () => {
        const outcomes = new Set<string>()
        for (let k = 1; k <= 6; k++) {
          const m = boot({ ram: '32M' })
          const p = m.spawn({ name: 'faulter' })
          let fd = -1
          if (kind.path) {
            fd = p.open(kind.path, O_CREAT | O_RDWR)
            p.pwrite(fd, new Uint8Array(8192).fill(7), 0)
          }
          // 1 GiB aligned and far from everything: the fault needs a pud, a pmd and a pte table.
          const a = 0x200000000000
          p.mmap(a, 8192, PROT_READ | PROT_WRITE, kind.flags | MAP_FIXED, fd, 0)
          Object.assign(m.fail_page_alloc, { probability: 100, interval: k, times: 1, min_order: 0, ignore_gfp_reclaim: false, verbose: 0 })
          try {
            if (write) p.store(a + 10, [1, 2, 3])
            else p.load(a + 10, 3)
            outcomes.add('ok')
          } catch (e) {
            expect(e).toBeInstanceOf(SignalError)
            const s = e as SignalError
            expect([s.signal, s.code, s.addr]).toEqual(['SIGKILL', 'SI_KERNEL', 0])
            expect(p.wait()).toBe('signal:SIGKILL')
            outcomes.add('killed')
          }
          m.fail_page_alloc.probability = 0
          // The recount includes every page's map count against the page tables.
          m.check()
        }
        expect(outcomes).toEqual(new Set(['ok', 'killed']))
      })
    }
  }
})

describe('mremap under allocation failure', () => {
  it('a move whose destination page tables cannot be allocated fails with ENOMEM, the mapping and its data intact', () => {
    const outcomes = new Set<string>()
    for (let k = 1; k <= 4; k++) {
      const m = boot({ ram: '32M' })
      const p = m.spawn({ name: 'mover' })
      const a = 0x200000000000
      const to = 0x200040000000 // 1 GiB away: new pud, pmd and pte tables
      p.mmap(a, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED)
      for (let i = 0; i < 3; i++) p.store(a + i * 4096, [i + 1])
      Object.assign(m.fail_page_alloc, { probability: 100, interval: k, times: 1, min_order: 0, ignore_gfp_reclaim: false, verbose: 0 })
      const r = p.sys_mremap(a, 3 * 4096, 3 * 4096, 3 /* MAYMOVE | FIXED */, to)
      m.fail_page_alloc.probability = 0
      const at = r === to ? to : a
      expect(r === to || r === -12).toBe(true)
      outcomes.add(String(r))
      for (let i = 0; i < 3; i++) expect(p.load(at + i * 4096, 1)[0]).toBe(i + 1)
      m.check()
    }
    expect(outcomes.has('-12')).toBe(true)
  })
})
