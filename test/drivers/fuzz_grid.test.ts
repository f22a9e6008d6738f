/**
 * SECURITY.md §4.2 (the minimum suite's fuzz item): every built-in mmap-capable node fuzzed over
 * (len, offset, prot, flags) in {0, 1, page-1, page, 2^31±page, 2^32±page,
 * 2^63, 2^64-page, 2^64-2·page}² × {R, RW, RWX} × {SHARED, PRIVATE} as root
 * (the strongest caller: every open and capability check passes): each
 * call ends in one of the errnos SPEC §4/§7/§11/§12 list, or in a mapping
 * whose first page reads (data or zeros) or is SIGBUS; no checker error,
 * and the machine's invariants hold (test/setup.ts recounts it).
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import { SignalError } from '../../src/user/errors.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDWR, O_WRONLY } from '../../src/include/uapi/fcntl.js'
import { EACCES, EAGAIN, EINVAL, ENODEV, ENOMEM, ENXIO, EOVERFLOW, EPERM } from '../../src/include/errno.js'

const PG = 4096n
const VALUES = [0n, 1n, PG - 1n, PG, 2n ** 31n - PG, 2n ** 31n + PG, 2n ** 32n - PG, 2n ** 32n + PG, 2n ** 63n, 2n ** 64n - PG, 2n ** 64n - 2n * PG]
const PROTS = [PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC]
const FLAGS = [MAP_SHARED, MAP_PRIVATE]
const ALLOWED = new Set([EAGAIN, EINVAL, EACCES, ENODEV, ENOMEM, ENXIO, EOVERFLOW, EPERM])

describe('mmap fuzz grid over the built-in nodes (SECURITY.md §4.2)', () => {
  it('only the listed errnos, data or SIGBUS on touch, and no checker error, for every node', { timeout: 120_000 }, () => {
    // ~9000 system calls: the invariants are recounted once at the end instead of after each
    const m = boot({ ram: '128M', debug_vm: false })
    for (const mod of ['scullp', 'scullv', 'simple', 'uio_demo']) m.insmod(mod)
    const p = m.spawn({ name: 'fuzz', uid: 0 })
    p.sigaction(7, () => {})
    // some data in the sculls: one page and a bit
    const buf = p.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(buf, new Uint8Array(5000).fill(0x5a))
    for (const n of ['/dev/scullp0', '/dev/scullv0']) {
      const w = p.open(n, O_WRONLY)
      let done = 0
      while (done < 5000) done += p.write(w, buf + done, 5000 - done)
      p.close(w)
    }
    const nodes = ['/dev/scullp0', '/dev/scullv0', '/dev/simpler', '/dev/simplen', '/dev/mem', '/dev/zero', '/dev/uio0']
    const outcomes = new Map<string, number>()
    for (const node of nodes) {
      const fd = p.open(node, O_RDWR)
      for (const len of VALUES) {
        for (const off of VALUES) {
          for (const prot of PROTS) {
            for (const flags of FLAGS) {
              const a = p.sys_mmap(0, len, prot, flags, fd, off)
              let what: string
              if (a < 0 && a > -4096) {
                if (!ALLOWED.has(-a)) throw new Error(`${node} len ${len} off ${off} prot ${prot} flags ${flags}: errno ${-a}`)
                what = `errno ${-a}`
              } else {
                try {
                  p.load(a, 1)
                  what = 'mapped'
                } catch (e) {
                  if (!(e instanceof SignalError) || e.signal !== 'SIGBUS') throw e
                  what = 'SIGBUS'
                }
                expect(p.sys_munmap(a, len)).toBe(0)
              }
              const key = `${node} ${what}`
              outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
            }
          }
        }
      }
      p.close(fd)
    }
    // no error; the only warning is S-H4 for uio's PHYS map with PROT_EXEC: Linux's uio_mmap_physical
    // does not clear VM_MAYEXEC, and mmsim's UIO is Linux's
    expect(m.driver_check.findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(new Set(m.driver_check.findings.map((f) => `${f.id} ${f.module}`))).toEqual(new Set(['S-H4 uio']))
    m.check()
    // every node both maps and refuses somewhere in the grid: the grid reaches the drivers' checks
    for (const node of nodes) {
      expect([...outcomes.keys()].some((k) => k.startsWith(`${node} mapped`) || k.startsWith(`${node} SIGBUS`))).toBe(true)
      expect([...outcomes.keys()].some((k) => k.startsWith(`${node} errno`))).toBe(true)
    }
  })
})
