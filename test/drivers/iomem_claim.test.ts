/**
 * Claims of device memory against /dev/mem (SECURITY.md S-J5): a driver's
 * request_mem_region() in the iomem tree (/proc/iomem), the claims
 * devmem_is_allowed() refuses (exclusive, or any with
 * CONFIG_IO_STRICT_DEVMEM; iomem=relaxed; the low MiB's bypass), and the
 * revocation of existing /dev/mem mappings through the shared iomem
 * address_space (revoke_iomem: the next access is SIGBUS).
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import { ErrnoError, MachineConfigError, SignalError, type DriverKernel, type KernelModule, type Machine, type Process } from '../../src/index.js'
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDWR, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { EBUSY, EPERM } from '../../src/include/errno.js'

const PG = 4096
const DEV = 0x2000000 // memmap=1M$0x2000000: a Reserved MiB above the kernel image, no longer RAM

/** A driver that claims [start, start+n) at load and gives it back at unload. */
function claimer(name: string, start: number, n: number, exclusive: boolean, ret: { rc?: number } = {}): KernelModule {
  return {
    name,
    init(k: DriverKernel) {
      ret.rc = exclusive ? k.request_mem_region_exclusive(start, n, name) : k.request_mem_region(start, n, name)
      return ret.rc
    },
    exit(k: DriverKernel) {
      k.release_mem_region(start, n)
    },
  }
}

function mapper(m: Machine): { p: Process; fd: number; a: number } {
  const p = m.spawn({ name: 'devmem', uid: 0 })
  const fd = p.open('/dev/mem', O_RDWR)
  const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, DEV)
  p.store(a, [1, 2, 3])
  p.store(a + PG, [4, 5, 6])
  return { p, fd, a }
}
const sig = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    if (e instanceof SignalError) return e.signal
    if (e instanceof ErrnoError) return e.code
    throw e
  }
  return 'ok'
}

describe('iomem claims and /dev/mem (S-J5)', () => {
  it('memmap=nn$ss makes a Reserved range of RAM; boot refuses one that is not page-aligned RAM clear of the kernel', () => {
    const m = boot({ memmap: '1M$0x2000000' })
    expect(m.proc('/proc/iomem')).toContain('02000000-020fffff : Reserved\n')
    expect(m.dmesg()).toContain('user: [mem 0x0000000002000000-0x00000000020fffff] reserved')
    expect(m.pfn_present(DEV / PG)).toBe(false)
    expect(() => boot({ memmap: '1M$0x1000000' })).toThrow(MachineConfigError) // the kernel image
    expect(() => boot({ memmap: '1M$0x2000800' })).toThrow(/page-aligned/)
    expect(() => boot({ memmap: '1M@0x2000000' })).toThrow(/nn\$ss/)
  })

  it('CONFIG_IO_STRICT_DEVMEM: a claim revokes the /dev/mem PTEs of its range (SIGBUS), refuses new mmaps (EPERM) and reads; rmmod opens it again', () => {
    const m = boot({ memmap: '1M$0x2000000', io_strict_devmem: true })
    const { p, fd, a } = mapper(m)
    m.insmod(claimer('mydev', DEV, PG, false))
    expect(m.proc('/proc/iomem')).toContain('02000000-020fffff : Reserved\n  02000000-02000fff : mydev\n')
    // the claimed page's PTE is gone and /dev/mem has no fault handler: SIGBUS; the next page stays
    expect(p.mm.pgd.get(a / PG)).toBe(0)
    expect([...p.load(a + PG, 3)]).toEqual([4, 5, 6])
    expect(sig(() => p.proc_mem_read(p.pid, a, 3))).toBe('EIO')
    expect(sig(() => p.load(a, 1))).toBe('SIGBUS')
    const q = m.spawn({ name: 'again', uid: 0 })
    const qfd = q.open('/dev/mem', O_RDWR)
    expect(q.sys_mmap(0, PG, PROT_READ, MAP_SHARED, qfd, DEV)).toBe(-EPERM)
    expect(q.sys_mmap(0, PG, PROT_READ, MAP_SHARED, qfd, DEV + PG)).toBeGreaterThan(0)
    const buf = q.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, qfd, DEV + PG)
    q.lseek(qfd, DEV, SEEK_SET)
    expect(q.sys_read(qfd, buf, 4)).toBe(-EPERM)
    m.rmmod('mydev')
    expect(m.proc('/proc/iomem')).not.toContain('mydev')
    const b = q.mmap(0, PG, PROT_READ, MAP_SHARED, qfd, DEV)
    expect([...q.load(b, 3)]).toEqual([1, 2, 3]) // the device's bytes were never touched
    void fd
  })

  it('without it (the Kconfig default): an exclusive claim refuses new mmaps but leaves existing ones; a plain claim refuses nothing', () => {
    const m = boot({ memmap: '1M$0x2000000' })
    const { p, fd, a } = mapper(m)
    m.insmod(claimer('excl', DEV, PG, true))
    expect([...p.load(a, 3)]).toEqual([1, 2, 3])
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, DEV)).toBe(-EPERM)
    m.insmod(claimer('plain', DEV + PG, PG, false))
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, DEV + PG)).toBeGreaterThan(0)
  })

  it('iomem=relaxed: no claim closes /dev/mem or revokes; the low MiB bypasses exclusivity', () => {
    const m = boot({ memmap: '1M$0x2000000', io_strict_devmem: true, iomem: 'relaxed' })
    const { p, fd, a } = mapper(m)
    m.insmod(claimer('mydev', DEV, PG, true))
    expect([...p.load(a, 3)]).toEqual([1, 2, 3])
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, DEV)).toBeGreaterThan(0)
    const s = boot({ io_strict_devmem: true })
    const r = s.spawn({ name: 'root', uid: 0 })
    const rfd = r.open('/dev/mem', O_RDWR)
    const v = r.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0xd0000)
    r.store(v, [9])
    s.insmod(claimer('isa', 0xd0000, PG, true))
    expect([...r.load(v, 1)]).toEqual([9])
    expect(r.sys_mmap(0, PG, PROT_READ, MAP_SHARED, rfd, 0xd0000)).toBeGreaterThan(0)
  })

  it('a claim overlapping System RAM or another busy claim is EBUSY; a release of no claim warns', () => {
    const m = boot({ memmap: '1M$0x2000000' })
    const got: { rc?: number } = {}
    expect(() => m.insmod(claimer('ram', 0x3000000, PG, false, got))).toThrow()
    expect(got.rc).toBe(-EBUSY)
    m.insmod(claimer('first', DEV, 2 * PG, false))
    expect(() => m.insmod(claimer('second', DEV + PG, PG, false, got))).toThrow()
    expect(got.rc).toBe(-EBUSY)
    // a range running out of the Reserved MiB crosses its end: EBUSY
    expect(() => m.insmod(claimer('cross', DEV + 0xff000, 2 * PG, false, got))).toThrow()
    expect(got.rc).toBe(-EBUSY)
    m.insmod({ name: 'bogus', init: (k) => (k.release_mem_region(DEV + 0x80000, PG), 0), exit: () => {} })
    expect(m.dmesg()).toContain('Trying to free nonexistent resource <0x0000000002080000-0x0000000002080fff>')
  })
})
