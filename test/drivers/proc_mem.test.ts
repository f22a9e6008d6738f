/**
 * /proc/<pid>/mem (SECURITY.md S-K2): the kernel reaching another
 * process's memory, as ptrace(PEEKDATA) and /proc/<pid>/mem do. Pages go
 * through get_user_pages with FOLL_FORCE; a VM_IO/VM_PFNMAP mapping only
 * through its driver's vm_ops->access (generic_access_phys for /dev/mem
 * and UIO's physical maps), and a mapping without one reads nothing (EIO).
 */
import { describe, it, expect } from 'vitest'
import { boot, errno_of } from '../helpers.js'
import { SignalError } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR } from '../../src/include/uapi/fcntl.js'
import { UIO_DEMO_REGS } from '../../src/drivers/uio_demo.js'

const PG = 4096

describe('/proc/<pid>/mem (S-K2)', () => {
  it('reads and writes another process of the same user; another user\'s is EACCES unless CAP_SYS_PTRACE; no such pid is ENOENT', () => {
    const m = boot()
    const a = m.spawn({ name: 'a', uid: 1000 })
    const b = m.spawn({ name: 'b', uid: 1000 })
    const c = m.spawn({ name: 'c', uid: 1001 })
    const root = m.spawn({ name: 'root', uid: 0 })
    const x = a.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    a.store(x + PG - 2, [1, 2, 3, 4])
    // a read across the page boundary comes back whole
    expect([...b.proc_mem_read(a.pid, x + PG - 2, 4)]).toEqual([1, 2, 3, 4])
    expect(b.proc_mem_write(a.pid, x + 8, [7, 7])).toBe(2)
    expect([...a.load(x + 8, 2)]).toEqual([7, 7])
    expect(errno_of(() => c.proc_mem_read(a.pid, x, 4))).toBe('EACCES')
    expect([...root.proc_mem_read(a.pid, x + PG - 2, 2)]).toEqual([1, 2])
    expect(errno_of(() => b.proc_mem_read(99999, x, 4))).toBe('ENOENT')
  })

  it('reads stop short at a hole and fail with EIO when no byte could be read', () => {
    const m = boot()
    const a = m.spawn({ name: 'a', uid: 1000 })
    const x = a.mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    a.munmap(x + PG, PG)
    a.store(x + PG - 4, [9, 9, 9, 9])
    expect([...a.proc_mem_read(a.pid, x + PG - 4, 16)]).toEqual([9, 9, 9, 9])
    expect(errno_of(() => a.proc_mem_read(a.pid, x + PG, 16))).toBe('EIO')
  })

  it('FOLL_FORCE: writes into a read-only private mapping (the copy stays read-only to the process), never into a read-only shared one', () => {
    const m = boot()
    const a = m.spawn({ name: 'a', uid: 1000 })
    const ro = a.mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
    expect(a.proc_mem_write(a.pid, ro + 100, [0xaa])).toBe(1)
    expect(a.load(ro + 100, 1)[0]).toBe(0xaa)
    expect(() => a.store(ro + 100, [1])).toThrow(SignalError)
    const b = m.spawn({ name: 'b', uid: 1000 })
    const sh = b.mmap(0, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS)
    expect(errno_of(() => b.proc_mem_write(b.pid, sh, [1]))).toBe('EIO')
    // a forced read of PROT_NONE (VM_MAYREAD) sees the bytes
    const c = m.spawn({ name: 'c', uid: 1000 })
    const pn = c.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    c.store(pn, [5])
    c.mprotect(pn, PG, 0)
    expect([...c.proc_mem_read(c.pid, pn, 1)]).toEqual([5])
  })

  it('a /dev/mem mapping is reached only through generic_access_phys: the bytes at the PTE\'s physical address', () => {
    const m = boot()
    const p = m.spawn({ name: 'root', uid: 0 })
    const fd = p.open('/dev/mem', O_RDWR)
    const v = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xa0000)
    m.physmem.write(0xa1000 + 16, new Uint8Array([0xde, 0xad]))
    const pins = m.page_alloc.pages._refcount.slice(0xa0, 0xa2).join()
    expect([...p.proc_mem_read(p.pid, v + PG + 16, 2)]).toEqual([0xde, 0xad])
    expect(p.proc_mem_write(p.pid, v + 32, [1, 2, 3])).toBe(3)
    expect(m.physmem.read(0xa0000 + 32, 3)).toEqual(new Uint8Array([1, 2, 3]))
    // no reference was taken on the frames (get_user_pages refused the VMA)
    expect(m.page_alloc.pages._refcount.slice(0xa0, 0xa2).join()).toBe(pins)
    // a read-only mapping refuses the write (generic_access_phys needs a writable PTE)
    const fr = p.open('/dev/mem', O_RDONLY)
    const r = p.mmap(0, PG, PROT_READ, MAP_SHARED, fr, 0xa0000)
    expect(errno_of(() => p.proc_mem_write(p.pid, r, [1]))).toBe('EIO')
  })

  it('a PFN map whose driver gives no vm_ops->access reads nothing (EIO); UIO\'s physical registers read through it', () => {
    const m = boot()
    m.insmod('simple')
    const p = m.spawn({ name: 'root', uid: 0 })
    const fd = p.open('/dev/simpler', O_RDWR)
    const s = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xa0000)
    expect(p.load(s, 1).length).toBe(1)
    expect(errno_of(() => p.proc_mem_read(p.pid, s, 4))).toBe('EIO')
    m.insmod('uio_demo')
    const u = p.open('/dev/uio0', O_RDWR)
    const regs = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, u, 0)
    m.physmem.write(UIO_DEMO_REGS + 8, new Uint8Array([0x42]))
    expect([...p.proc_mem_read(p.pid, regs + 8, 1)]).toEqual([0x42])
    expect([...p.load(regs + 8, 1)]).toEqual([0x42])
  })
})
