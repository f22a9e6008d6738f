/**
 * scullp and the device mmap path (SPEC §4.2, §7, §8; acceptance T-MM-2..6,
 * T-MM-8..12): pages from the buddy allocator mapped through a fault
 * handler, SIGBUS past the size and in holes, the VMA count kept by
 * vm_ops open/close through fork, split and exit, and the bytes the driver
 * wrote through its kernel address read back through the mapping.
 */
import { describe, it, expect } from 'vitest'
import { boot, fill_bytes } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { type ErrnoError, SignalError } from '../../src/user/errors.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR, O_WRONLY, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { scullp_module, scullv_module, type Scullp, type ScullpDev } from '../../src/drivers/scullp/main.js'

const PG = 4096
const SIGBUS = 7

function setup(params: Record<string, number> = {}): { m: Machine; p: Process; buf: number; dev: () => ScullpDev; drv: () => Scullp } {
  const m = boot({ ram: '128M' })
  // the built-in's factory, loaded as an object so the test can look at its devices
  const mod = scullp_module()
  m.insmod(mod, params)
  const p = m.spawn({ name: 'mapper', uid: 0 })
  const buf = p.mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const drv = (): Scullp => mod.scullp!
  return { m, p, buf, drv, dev: () => drv().devices[0] }
}

const pattern = (n: number, seed = 3): Uint8Array => fill_bytes(n, (i) => (i * 13 + seed) & 0xff)

/** Write `data` to /dev/scullp0 from p (one quantum per call, as the driver takes it). */
function fill(p: Process, buf: number, data: Uint8Array): void {
  const fd = p.open('/dev/scullp0', O_WRONLY)
  let done = 0
  while (done < data.length) {
    const n = Math.min(data.length - done, 16 * PG)
    p.store(buf, data.subarray(done, done + n))
    let off = 0
    while (off < n) off += p.write(fd, buf + off, n - off)
    done += n
  }
  p.close(fd)
}

function sigbus(p: Process, addr: number): boolean {
  try {
    p.load(addr, 1)
    return false
  } catch (e) {
    if (e instanceof SignalError && e.signal === 'SIGBUS') return true
    throw e
  }
}

describe('scullp mmap (SPEC §4.2)', () => {
  it('T-MM-2: 10 000 bytes mapped 16 KiB: data, then zeros to the page end, then SIGBUS at 12 288; the frames are the driver\'s pages', () => {
    const { m, p, buf, dev } = setup()
    expect(m.proc('/proc/devices')).toContain('\n254 scullp\n')
    const data = pattern(10000)
    fill(p, buf, data)
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.load(a, 10000)).toEqual(data)
    expect(p.load(a + 10000, 12288 - 10000)).toEqual(new Uint8Array(2288))
    // the kernel address of the driver's third page holds what the process reads at a + 8192
    const k = m.driver_kernel
    const page2 = k.read_ptr(dev().data + 2 * k.sizeof_long)
    expect(k.kernel_read(page2, 1808)).toEqual(data.subarray(8192, 10000))
    k.kernel_write(page2 + 5, new Uint8Array([0xee]))
    expect(p.load(a + 8192 + 5, 1)[0]).toBe(0xee)
    p.sigaction(SIGBUS, () => {})
    expect(sigbus(p, a + 12288)).toBe(true)
    const maps = m.proc(`/proc/${p.pid}/maps`)
    expect(maps).toMatch(new RegExp(`${a.toString(16)}-${(a + 4 * PG).toString(16)} r--s 00000000 00:0\\d \\d+ +/dev/scullp0`))
    expect(m.driver_check.findings).toEqual([])
  })

  it('T-MM-2: a one-page mapping at offset 12 288 of a 10 000-byte device is SIGBUS on touch', () => {
    const { p, buf } = setup()
    fill(p, buf, pattern(10000))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 12288)
    p.sigaction(SIGBUS, () => {})
    expect(sigbus(p, a)).toBe(true)
  })

  it('T-MM-3: after lseek(40960) and write("x"), pages 0-9 are holes (SIGBUS) and page 10 has the byte', () => {
    const { p, buf } = setup()
    const fd = p.open('/dev/scullp0', O_RDWR)
    p.lseek(fd, 40960, SEEK_SET)
    p.store(buf, new TextEncoder().encode('x'))
    expect(p.write(fd, buf, 1)).toBe(1)
    const a = p.mmap(0, 11 * PG, PROT_READ, MAP_SHARED, fd, 0)
    p.sigaction(SIGBUS, () => {})
    for (let i = 0; i < 10; i++) expect(sigbus(p, a + i * PG)).toBe(true)
    expect(p.load(a + 10 * PG, 2)).toEqual(new Uint8Array([0x78, 0]))
  })

  it('T-MM-4/S-B6/S-F6/S-I1: trim is refused while mapped: open O_WRONLY keeps the data; after munmap it trims', () => {
    const { p, buf, dev } = setup()
    fill(p, buf, pattern(5000))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(dev().vmas).toBe(1)
    p.close(p.open('/dev/scullp0', O_WRONLY))
    expect(dev().size).toBe(5000)
    expect(p.load(a, 5000)).toEqual(pattern(5000))
    p.munmap(a, 2 * PG)
    expect(dev().vmas).toBe(0)
    p.close(p.open('/dev/scullp0', O_WRONLY))
    expect(dev().size).toBe(0)
  })

  it('T-MM-5/S-I2: a device of order 1 cannot be mapped (ENODEV); scull0 neither has mmap (T-MM-1 is in scull.test.ts)', () => {
    const { p } = setup({ scullp_order: 1 })
    const fd = p.open('/dev/scullp0', O_RDWR)
    expect(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toThrow(expect.objectContaining({ code: 'ENODEV' }))
  })

  it('T-MM-6: mremap growth is allowed; the new page past the size is SIGBUS, the pages inside still read', () => {
    const { m, p, buf } = setup()
    fill(p, buf, pattern(3 * PG))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    const b = p.mremap(a, 2 * PG, 4 * PG, MREMAP_MAYMOVE)
    expect(p.load(b + 2 * PG, 4)).toEqual(pattern(3 * PG).subarray(2 * PG, 2 * PG + 4))
    p.sigaction(SIGBUS, () => {})
    expect(sigbus(p, b + 3 * PG)).toBe(true)
    // page 2 was served past what mmap saw: a warning (scullp has no VM_DONTEXPAND); its size check held, no error
    expect(m.driver_check.findings.map((f) => [f.id, f.severity, f.module, f.addr])).toEqual([['S-E1', 'warning', 'scullp', b + 2 * PG]])
  })

  it('T-MM-8: MAP_SHARED|PROT_WRITE of an O_RDONLY fd is EACCES; a read-only shared mapping cannot be mprotected writable', () => {
    const { p, buf } = setup()
    fill(p, buf, pattern(100))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    expect(() => p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)).toThrow(expect.objectContaining({ code: 'EACCES' }))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(() => p.mprotect(a, PG, PROT_READ | PROT_WRITE)).toThrow(expect.objectContaining({ code: 'EACCES' }))
    const w = p.open('/dev/scullp0', O_WRONLY)
    expect(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, w, 0)).toThrow(expect.objectContaining({ code: 'EACCES' }))
  })

  it('T-MM-9: offset 4095 is EINVAL; pgoff*4096+len past 2^64-1 on a char device is EOVERFLOW before the driver runs', () => {
    const { p, dev } = setup()
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const err = (f: () => unknown): string => {
      try {
        f()
        return 'ok'
      } catch (e) {
        return (e as ErrnoError).code
      }
    }
    expect(err(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 4095))).toBe('EINVAL')
    expect(p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 4096n)).toBe(-75) // EOVERFLOW
    expect(dev().vmas).toBe(0)
    // file_mmap_ok(): pgoff <= (ULONG_MAX - len) >> PAGE_SHIFT, so the highest page that maps is 2^52 - 2
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 4096n)).toBe(-75)
    const a = p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 8192n)
    expect(a).toBeGreaterThan(0)
    expect(dev().vmas).toBe(1)
    p.munmap(a, PG)
    expect(dev().vmas).toBe(0)
  })

  it('T-MM-10/S-I3: close(fd) then access works; the file is released at munmap (rmmod EBUSY until then)', () => {
    const { m, p, buf } = setup()
    fill(p, buf, pattern(64))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    p.close(fd)
    expect(p.load(a, 64)).toEqual(pattern(64))
    expect(() => m.rmmod('scullp')).toThrow(expect.objectContaining({ code: 'EBUSY' }))
    p.munmap(a, PG)
    m.rmmod('scullp')
    expect(m.proc('/proc/devices')).not.toContain('scullp')
  })

  it('T-MM-11/S-I5: fork: the child reads through its own VMA (vm_ops->open: vmas 2); both exits bring it to 0', () => {
    const { p, buf, dev } = setup()
    fill(p, buf, pattern(2 * PG))
    const fd = p.open('/dev/scullp0', O_RDWR)
    const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    expect(p.load(a, 8)).toEqual(pattern(8))
    const c = p.fork()
    expect(dev().vmas).toBe(2)
    c.store(a + PG, new Uint8Array([1, 2, 3]))
    // shared: the child's store went to the device's page
    expect(p.load(a + PG, 3)).toEqual(new Uint8Array([1, 2, 3]))
    c.exit(0)
    expect(dev().vmas).toBe(1)
    p.exit(0)
    expect(dev().vmas).toBe(0)
  })

  it('T-MM-12/S-I5: munmap of the middle page of a 3-page mapping splits it: vmas 1 -> 2', () => {
    const { p, buf, dev } = setup()
    fill(p, buf, pattern(3 * PG))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, 3 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(dev().vmas).toBe(1)
    p.munmap(a + PG, PG)
    expect(dev().vmas).toBe(2)
    // the right piece's vm_pgoff advanced by 2: it still maps device page 2
    expect(p.load(a + 2 * PG, 4)).toEqual(pattern(3 * PG).subarray(2 * PG, 2 * PG + 4))
  })

  it('S-H3: MAP_PRIVATE: a write copies the page (COW); the device keeps its bytes; the page references balance', () => {
    const { m, p, buf, dev } = setup()
    fill(p, buf, pattern(PG))
    const k = m.driver_kernel
    const page0 = k.read_ptr(dev().data)
    const pfn = k.virt_to_pfn(page0)
    expect(k.page_count(pfn)).toBe(1)
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
    expect(p.load(a, 4)).toEqual(pattern(4))
    expect(k.page_count(pfn)).toBe(2) // the PTE holds the reference the fault handler took
    p.store(a, new Uint8Array([9, 9]))
    expect(p.load(a, 3)).toEqual(new Uint8Array([9, 9, pattern(3)[2]]))
    expect(k.kernel_read(page0, 2)).toEqual(pattern(2))
    expect(k.page_count(pfn)).toBe(1)
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps).toMatch(/\/dev\/scullp0\n(?:.*\n)*?Anonymous: +4 kB/)
    p.munmap(a, PG)
    expect(k.page_count(pfn)).toBe(1)
  })

  it('a shared write through the mapping reaches read(2) of the device', () => {
    const { p, buf } = setup()
    fill(p, buf, pattern(PG))
    const fd = p.open('/dev/scullp0', O_RDWR)
    const a = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    p.store(a + 100, new TextEncoder().encode('through the mapping'))
    p.lseek(fd, 100, SEEK_SET)
    expect(p.read(fd, buf, 19)).toBe(19)
    expect(new TextDecoder().decode(p.load(buf, 19))).toBe('through the mapping')
  })

  it('an unhandled SIGBUS kills the process; the machine goes on', () => {
    const { p } = setup()
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(() => p.load(a, 1)).toThrow(expect.objectContaining({ signal: 'SIGBUS', code: 'BUS_ADRERR', addr: a }))
  })
})

describe('scullv (SPEC §4.3)', () => {
  it('vmalloc\'d 64 KiB quanta: any order maps; page k is bytes [4096k, 4096k+4096) through vmalloc_to_page; SIGBUS past the size', () => {
    const m = boot({ ram: '128M' })
    const mod = scullv_module()
    m.insmod(mod, { scullv_qset: 2 })
    expect(m.proc('/proc/devices')).toContain('\n254 scullv\n')
    const p = m.spawn({ name: 'mapper', uid: 0 })
    const buf = p.mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    // three quanta over two nodes (qset 2): 150 000 bytes
    const data = pattern(150000, 11)
    const w = p.open('/dev/scullv0', O_WRONLY)
    for (let done = 0; done < data.length; ) {
      const n = Math.min(data.length - done, 16 * PG)
      p.store(buf, data.subarray(done, done + n))
      let off = 0
      while (off < n) off += p.write(w, buf + off, n - off)
      done += n
    }
    const dev = mod.scullp!.devices[0]
    expect([dev.order, dev.size, dev.next !== null]).toEqual([4, 150000, true])
    const fd = p.open('/dev/scullv0', O_RDONLY)
    const a = p.mmap(0, 40 * PG, PROT_READ, MAP_SHARED, fd, 0)
    for (const pg of [0, 1, 15, 16, 17, 31, 32, 36]) {
      expect(p.load(a + pg * PG, 64)).toEqual(data.subarray(pg * PG, pg * PG + 64))
    }
    // the mapped frame is the vmalloc area's page, as the driver sees it
    const k = m.driver_kernel
    const q1 = k.read_ptr(dev.data + k.sizeof_long)
    k.kernel_write(q1 + 5 * PG, new Uint8Array([0xab]))
    expect(p.load(a + 21 * PG, 1)[0]).toBe(0xab)
    p.sigaction(SIGBUS, () => {})
    expect(sigbus(p, a + 37 * PG)).toBe(true)
    p.munmap(a, 40 * PG)
    p.close(p.open('/dev/scullv0', O_WRONLY)) // trimmed: every vmalloc area goes back
    expect(dev.size).toBe(0)
    expect(m.driver_check.findings).toEqual([])
  })
})

describe('port-compat mode (SECURITY.md S-B8)', () => {
  it('S-B8: scullp_port=1 runs the port\'s fault handler: past the size it returns VM_FAULT_NOPAGE without a PTE, the fault livelock is reported and the task killed; the book\'s mode is SIGBUS', () => {
    const { m, p, buf } = setup({ scullp_port: 1 })
    fill(p, buf, pattern(100))
    const fd = p.open('/dev/scullp0', O_RDONLY)
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.load(a, 4)).toEqual(pattern(4))
    let sig = ''
    try {
      p.load(a + PG, 1)
    } catch (e) {
      if (e instanceof SignalError) sig = e.signal
    }
    expect(sig).toBe('SIGKILL')
    expect(p.alive).toBe(false)
    expect(m.dmesg()).toContain('fault livelock: /dev/scullp0 fault handler returned VM_FAULT_NOPAGE without a PTE')
    // the machine goes on: another process maps and reads the device
    const q = m.spawn({ name: 'after', uid: 0 })
    const b = q.mmap(0, PG, PROT_READ, MAP_SHARED, q.open('/dev/scullp0', O_RDONLY), 0)
    expect(q.load(b, 4)).toEqual(pattern(4))
    expect(() => setup({ scullp_port: 2 })).toThrow()
  })

  it('S-B8: scullv_port=1 does the same for scullv', () => {
    const m = boot({ ram: '128M' })
    m.insmod(scullv_module(), { scullv_port: 1 })
    const p = m.spawn({ name: 'v', uid: 0 })
    const fd = p.open('/dev/scullv0', O_RDWR)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    let sig = ''
    try {
      p.load(a, 1)
    } catch (e) {
      if (e instanceof SignalError) sig = e.signal
    }
    expect(sig).toBe('SIGKILL')
    expect(m.dmesg()).toContain('fault livelock: /dev/scullv0 fault handler returned VM_FAULT_NOPAGE')
  })
})
