/** The user-side contract of issue 3, written as a user of the package would. */
import { expect, it } from 'vitest'
import {
  Machine, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MREMAP_MAYMOVE, MADV_DONTNEED, MS_SYNC, ErrnoError,
  SignalError,
} from '../../src/index.js'

it('works as the issue shows it', () => {
  const m = new Machine({ arch: 'x86_64', ram: '256M', seed: 1 })
  const p = m.spawn({ name: 'app', uid: 0 })
  expect(p.pid).toBeGreaterThan(0)
  const a = p.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  p.store(a, new Uint8Array([1, 2, 3]))
  expect(p.load(a, 3)).toEqual(new Uint8Array([1, 2, 3]))
  p.mprotect(a, 4096, PROT_READ)
  expect(() => p.store(a, [9])).toThrow(SignalError)
  const q = m.spawn({ name: 'app2' })
  const b = q.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const b2 = q.mremap(b, 8192, 16384, MREMAP_MAYMOVE)
  q.madvise(b2, 4096, MADV_DONTNEED)
  const brk = q.brk(0)
  q.brk(brk + 4096)
  q.mlock(b2, 4096)
  q.msync(b2, 4096, MS_SYNC)
  expect(q.mincore(b2, 16384).length).toBe(4)
  const c = q.fork()
  c.exit(0)
  q.munmap(b2, 16384)
  expect(() => q.munmap(b2 + 1, 4096)).toThrow(ErrnoError)
  expect(m.proc(`/proc/${q.pid}/maps`)).toContain('[heap]')
  expect(p.alive).toBe(false)
  m.check()
})
