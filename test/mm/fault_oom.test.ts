import { describe, expect, it } from 'vitest'
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE, SignalError } from '../../src/index.js'
import { boot } from '../helpers.js'

/**
 * A page fault whose allocations fail (the page-table levels, the page, the copy) returns
 * VM_FAULT_OOM. As in Linux since 5.16, pagefault_out_of_memory() does not kill: the
 * allocator already ran the OOM killer; an injected failure (which skips it) leaks out,
 * is logged as "Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF", and the
 * access retries. A failure that never ends would spin forever on Linux; mmsim stops after
 * a few retries and kills the task with SIGKILL (SI_KERNEL, no address), saying so in the log.
 * Either way no reference or map count is left behind.
 */
describe('page faults under allocation failure', () => {
  const kinds = [
    { name: 'anonymous', flags: MAP_PRIVATE | MAP_ANONYMOUS, path: '' },
    { name: 'shared tmpfs', flags: MAP_SHARED, path: '/tmp/f' },
    { name: 'shared ext4', flags: MAP_SHARED, path: '/data/f' },
    { name: 'private ext4 (COW)', flags: MAP_PRIVATE, path: '/data/f' },
  ]
  const setup = (kind: (typeof kinds)[number]) => {
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
    return { m, p, a }
  }
  const HUH = 'Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF'
  for (const kind of kinds) {
    for (const write of [false, true]) {
      it(`${kind.name} ${write ? 'write' : 'read'} fault: one failed allocation is retried, nothing leaked`, () => {
        let retried = 0
        for (let k = 1; k <= 6; k++) {
          const { m, p, a } = setup(kind)
          Object.assign(m.fail_page_alloc, { probability: 100, interval: k, times: 1, min_order: 0, ignore_gfp_reclaim: false, verbose: 0 })
          if (write) p.store(a + 10, [1, 2, 3])
          else p.load(a + 10, 3)
          expect(p.alive).toBe(true)
          if (m.dmesg().includes(HUH)) retried++
          m.fail_page_alloc.probability = 0
          // The recount includes every page's map count against the page tables.
          m.check()
        }
        // Some of the six injection points hit the fault's own allocations.
        expect(retried).toBeGreaterThan(0)
      })
      it(`${kind.name} ${write ? 'write' : 'read'} fault: allocations that always fail end in SIGKILL (SI_KERNEL, no address)`, () => {
        const { m, p, a } = setup(kind)
        Object.assign(m.fail_page_alloc, { probability: 100, interval: 1, times: -1, min_order: 0, ignore_gfp_reclaim: false, verbose: 0 })
        try {
          if (write) p.store(a + 10, [1, 2, 3])
          else p.load(a + 10, 3)
          expect.unreachable()
        } catch (e) {
          expect(e).toBeInstanceOf(SignalError)
          const s = e as SignalError
          expect([s.signal, s.code, s.addr]).toEqual(['SIGKILL', 'SI_KERNEL', 0])
        }
        m.fail_page_alloc.probability = 0
        expect(p.wait()).toBe('signal:SIGKILL')
        expect(m.dmesg()).toContain(HUH)
        expect(m.dmesg()).toMatch(/mmsim: fault at 0x[0-9a-f]+ failed with VM_FAULT_OOM \d+ times in a row/)
        m.check()
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
