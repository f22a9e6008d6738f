/**
 * scull through the library API and a process (LDD3 ch. 3 and 6; SPEC §2,
 * acceptance T-SC-1..7, T-CDEV-2, T-MM-1, T-PIPE-1): load, the nodes the load
 * script makes, read/write/llseek/ioctl exactly as the book's driver, the
 * data in kmalloc'd kernel memory, and rmmod's EBUSY.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { boot, fill_bytes } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { ErrnoError } from '../../src/user/errors.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_APPEND, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { _IO, _IOC_DIR, _IOC_NR, _IOC_SIZE, _IOC_TYPE, _IOR, _IOW, _IOWR } from '../../src/include/uapi/ioctl.js'
import * as S from '../../src/drivers/scull/scull.js'
import { MAJOR, MINOR } from '../../src/fs/fs.js'

const PG = 4096

function setup(opts: { uid?: number; params?: Record<string, number> } = {}): { m: Machine; p: Process; buf: number } {
  const m = boot({ ram: '128M' })
  m.insmod('scull', opts.params ?? {})
  const p = m.spawn({ name: 'scull_user', uid: opts.uid ?? 0 })
  const buf = p.mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  return { m, p, buf }
}

const bytes = (n: number, seed = 1): Uint8Array => fill_bytes(n, (i) => (i * 7 + seed) & 0xff)

describe('ioctl encoding', () => {
  it('has the bit layout of asm-generic/ioctl.h and scull\'s numbers', () => {
    expect(_IO('k', 0)).toBe(0x6b00)
    expect(_IOW('k', 1, 4)).toBe(0x40046b01)
    expect(_IOR('k', 5, 4)).toBe(0x80046b05)
    expect(_IOWR('k', 9, 4)).toBe(0xc0046b09)
    expect([S.SCULL_IOCRESET, S.SCULL_IOCSQUANTUM, S.SCULL_IOCSQSET, S.SCULL_IOCTQUANTUM, S.SCULL_IOCTQSET]).toEqual([0x6b00, 0x40046b01, 0x40046b02, 0x6b03, 0x6b04])
    expect([S.SCULL_IOCGQUANTUM, S.SCULL_IOCGQSET, S.SCULL_IOCQQUANTUM, S.SCULL_IOCQQSET]).toEqual([0x80046b05, 0x80046b06, 0x6b07, 0x6b08])
    expect([S.SCULL_IOCXQUANTUM, S.SCULL_IOCXQSET, S.SCULL_IOCHQUANTUM, S.SCULL_IOCHQSET]).toEqual([0xc0046b09, 0xc0046b0a, 0x6b0b, 0x6b0c])
    expect([S.SCULL_P_IOCTSIZE, S.SCULL_P_IOCQSIZE]).toEqual([0x6b0d, 0x6b0e])
    const c = 0xc0046b0a
    expect([_IOC_DIR(c), _IOC_TYPE(c), _IOC_NR(c), _IOC_SIZE(c)]).toEqual([3, 0x6b, 10, 4])
  })
})

describe('insmod scull', () => {
  it('takes dynamic major 254 with scull, scullp and sculla ranges, and makes scull0-3 and scullpipe0-3', () => {
    const { m } = setup()
    expect(m.proc('/proc/devices')).toContain('\n254 scull\n254 scullp\n254 sculla\n\nBlock devices:')
    for (let i = 0; i < 4; i++) {
      const n = m.fs.lookup(`/dev/scull${i}`)!
      expect([MAJOR(n.i_rdev), MINOR(n.i_rdev), n.i_mode.toString(8)]).toEqual([254, i, '20664'])
      expect(MINOR(m.fs.lookup(`/dev/scullpipe${i}`)!.i_rdev)).toBe(4 + i)
    }
    expect(m.dmesg()).toContain('scull: loading out-of-tree module taints kernel.')
    m.rmmod('scull')
    expect(m.fs.lookup('/dev/scull0')).toBeNull()
    expect(m.proc('/proc/devices')).not.toContain('scull')
  })

  it('a static major that is taken fails with EBUSY and the book\'s message', () => {
    const m = boot()
    expect(() => m.insmod('scull', { scull_major: 1 })).toThrow(/EBUSY/)
    expect(m.dmesg()).toContain("scull: can't get major 1")
    m.insmod('scull', { scull_major: 240, scull_nr_devs: 2 })
    expect(m.proc('/proc/devices')).toContain('240 scull\n240 scullp\n')
    expect(() => m.insmod('scull')).toThrow(/EEXIST/)
    expect(() => m.insmod('nosuch')).toThrow(/ENOENT/)
    expect(() => m.rmmod('nosuch')).toThrow(/ENOENT/)
  })

  it('warns about an unknown parameter and refuses a value of the wrong type', () => {
    const m = boot()
    expect(() => m.insmod('scull', { scull_quantum: 'lots' as unknown as number })).toThrow(/EINVAL/)
    expect(m.dmesg()).toContain("scull: 'lots' invalid for parameter 'scull_quantum'")
    m.insmod('scull', { bogus: 1 })
    expect(m.dmesg()).toContain("scull: unknown parameter 'bogus' ignored")
  })
})

describe('scull read/write/llseek (§2.3)', () => {
  it('T-SC-1: write(10000) stores one quantum per call (4000, 4000, 2000) and the bytes come back', () => {
    const { m, p, buf } = setup()
    const data = bytes(10000)
    p.store(buf, data)
    const fd = p.open('/dev/scull0', O_RDWR)
    expect(p.write(fd, buf, 10000)).toBe(4000)
    expect(p.write(fd, buf + 4000, 6000)).toBe(4000)
    expect(p.write(fd, buf + 8000, 2000)).toBe(2000)
    expect(p.lseek(fd, 0, SEEK_END)).toBe(10000)
    p.lseek(fd, 0, SEEK_SET)
    const got = new Uint8Array(10000)
    let off = 0
    for (;;) {
      const n = p.read(fd, buf + 20000, 10000)
      if (n === 0) break
      expect(n).toBeLessThanOrEqual(4000)
      got.set(p.load(buf + 20000, n), off)
      off += n
    }
    expect(off).toBe(10000)
    expect(got).toEqual(data)
    // The data lives in kmalloc'd kernel memory: three quanta of 4000 bytes in kmalloc-4k.
    expect(m.proc('/proc/slabinfo')).toMatch(/^kmalloc-4k /m)
    p.close(fd)
  })

  it('T-SC-2: a hole reads as 0 bytes (premature EOF) after lseek(8000000); write("x")', () => {
    const { p, buf } = setup()
    const fd = p.open('/dev/scull1', O_RDWR)
    p.store(buf, [0x78])
    expect(p.lseek(fd, 8000000, SEEK_SET)).toBe(8000000)
    expect(p.write(fd, buf, 1)).toBe(1)
    expect(p.lseek(fd, 0, SEEK_END)).toBe(8000001)
    p.lseek(fd, 0, SEEK_SET)
    expect(p.read(fd, buf + PG, 100)).toBe(0)
    p.lseek(fd, 8000000, SEEK_SET)
    expect(p.read(fd, buf + PG, 100)).toBe(1)
    expect(p.load(buf + PG, 1)[0]).toBe(0x78)
  })

  it('T-SC-3/T-SC-4: O_WRONLY (also with O_APPEND) trims the device, O_RDWR does not; O_APPEND writes at f_pos', () => {
    const { p, buf } = setup()
    p.store(buf, bytes(100))
    let fd = p.open('/dev/scull2', O_RDWR)
    p.write(fd, buf, 100)
    p.close(fd)
    fd = p.open('/dev/scull2', O_RDWR)
    expect(p.lseek(fd, 0, SEEK_END)).toBe(100)
    p.close(fd)
    fd = p.open('/dev/scull2', O_WRONLY | O_APPEND)
    expect(p.lseek(fd, 0, SEEK_END)).toBe(0)
    expect(p.write(fd, buf, 10)).toBe(10)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(10)
    p.close(fd)
  })

  it('T-SC-5/T-SC-6: SEEK_END is relative to size, a negative result or bad whence is EINVAL, no upper bound', () => {
    const { p, buf } = setup()
    const fd = p.open('/dev/scull0', O_RDWR)
    p.write(fd, buf, 50)
    expect(p.lseek(fd, -10, SEEK_END)).toBe(40)
    expect(p.lseek(fd, 5, SEEK_CUR)).toBe(45)
    expect(p.sys_lseek(fd, -46, SEEK_CUR)).toBe(-22)
    expect(p.sys_lseek(fd, 0, 3)).toBe(-22)
    expect(p.lseek(fd, 2 ** 40, SEEK_SET)).toBe(2 ** 40)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(2 ** 40)
  })

  it('a bad user buffer is EFAULT and counts nothing', () => {
    const { p, buf } = setup()
    const fd = p.open('/dev/scull0', O_RDWR)
    expect(p.sys_write(fd, 0x1000, 10)).toBe(-14)
    expect(p.lseek(fd, 0, SEEK_END)).toBe(0)
    p.write(fd, buf, 10)
    p.lseek(fd, 0, SEEK_SET)
    expect(p.sys_read(fd, 0x1000, 10)).toBe(-14)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(0)
  })

  it('T-MM-1: mmap of scull0 is ENODEV', () => {
    const { p } = setup()
    const fd = p.open('/dev/scull0', O_RDWR)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-19)
  })

  it('behaves like a byte array under random writes, seeks and reads, with any quantum and qset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('write' as const), pos: fc.integer({ min: 0, max: 1500 }), len: fc.integer({ min: 0, max: 300 }), seed: fc.nat(255) }),
            fc.record({ op: fc.constant('read' as const), pos: fc.integer({ min: 0, max: 1800 }), len: fc.integer({ min: 0, max: 300 }) }),
          ),
          { maxLength: 25 },
        ),
        (quantum, qset, ops) => {
          const { m, p, buf } = setup({ params: { scull_quantum: quantum, scull_qset: qset } })
          m.deferred_check(() => {
            const fd = p.open('/dev/scull0', O_RDWR)
            // The model: the bytes, and which ones belong to an allocated quantum.
            const model = new Uint8Array(4096)
            const alloc = new Set<number>() // indexes of allocated quanta (pos / quantum)
            let size = 0
            for (const o of ops) {
              expect(p.lseek(fd, o.pos, SEEK_SET)).toBe(o.pos)
              if (o.op === 'write') {
                const data = bytes(o.len, o.seed)
                p.store(buf, data.length ? data : [0])
                const n = p.write(fd, buf, o.len)
                const expect_n = Math.min(o.len, quantum - (o.pos % quantum))
                expect(n).toBe(expect_n)
                model.set(data.subarray(0, n), o.pos)
                alloc.add(Math.floor(o.pos / quantum))
                size = Math.max(size, o.pos + n)
              } else {
                const n = p.read(fd, buf + 8192, o.len)
                let want = 0
                if (o.pos < size && alloc.has(Math.floor(o.pos / quantum))) {
                  want = Math.min(o.len, size - o.pos, quantum - (o.pos % quantum))
                }
                expect(n).toBe(want)
                if (n) expect(p.load(buf + 8192, n)).toEqual(model.subarray(o.pos, o.pos + n))
              }
              expect(p.lseek(fd, 0, SEEK_END)).toBe(size)
            }
            p.close(fd)
          })
          m.rmmod('scull')
        },
      ),
      { numRuns: 25 },
    )
  })
})

describe('scull ioctl (§2.4)', () => {
  it('queries, sets and exchanges the module-wide quantum; a trim gives it to the device', () => {
    const { p, buf } = setup()
    const fd = p.open('/dev/scull0', O_RDWR)
    expect(p.ioctl(fd, S.SCULL_IOCQQUANTUM)).toBe(4000)
    expect(p.ioctl(fd, S.SCULL_IOCQQSET)).toBe(1000)
    expect(p.ioctl(fd, S.SCULL_IOCTQUANTUM, 100)).toBe(0)
    p.store(buf, [0xd2, 0x04, 0, 0]) // 1234
    expect(p.ioctl(fd, S.SCULL_IOCSQSET, buf)).toBe(0)
    expect(p.ioctl(fd, S.SCULL_IOCGQUANTUM, buf + 8)).toBe(0)
    expect([...p.load(buf + 8, 4)]).toEqual([100, 0, 0, 0])
    p.store(buf, [50, 0, 0, 0])
    expect(p.ioctl(fd, S.SCULL_IOCXQUANTUM, buf)).toBe(0)
    expect([...p.load(buf, 4)]).toEqual([100, 0, 0, 0])
    expect(p.ioctl(fd, S.SCULL_IOCHQUANTUM, 60)).toBe(50)
    expect(p.ioctl(fd, S.SCULL_IOCQQSET)).toBe(1234)
    // The open device keeps its geometry until trimmed: a write still takes 4000.
    expect(p.write(fd, buf, 5000)).toBe(4000)
    const w = p.open('/dev/scull0', O_WRONLY)
    expect(p.write(w, buf, 5000)).toBe(60)
    expect(p.ioctl(fd, S.SCULL_IOCRESET)).toBe(0)
    expect(p.ioctl(fd, S.SCULL_IOCQQUANTUM)).toBe(4000)
    expect(p.ioctl(fd, S.SCULL_P_IOCQSIZE)).toBe(4000)
  })

  it('T-SC-7: wrong magic and nr 15 are ENOTTY, setters need CAP_SYS_ADMIN, bad pointers EFAULT, bad values EINVAL', () => {
    const { m, p, buf } = setup()
    const fd = p.open('/dev/scull0', O_RDWR)
    expect(p.sys_ioctl(fd, _IO('j', 7))).toBe(-25)
    expect(p.sys_ioctl(fd, _IO('k', 15))).toBe(-25)
    expect(p.sys_ioctl(fd, S.SCULL_IOCGQUANTUM, 0x1000)).toBe(-14)
    expect(p.sys_ioctl(fd, S.SCULL_IOCGQUANTUM, 2 ** 47 - 2)).toBe(-14) // access_ok fails
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQUANTUM, 0)).toBe(-22)
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQSET, -1)).toBe(-22)
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQUANTUM, 2 ** 22)).toBe(-22) // 2^22 * 1000 > INT_MAX
    expect(p.sys_ioctl(99, S.SCULL_IOCQQUANTUM)).toBe(-9)
    const u = m.spawn({ name: 'user', uid: 1000 })
    const ufd = u.open('/dev/scull0', O_RDONLY)
    expect(u.sys_ioctl(ufd, S.SCULL_IOCTQUANTUM, 10)).toBe(-1)
    expect(u.sys_ioctl(ufd, S.SCULL_IOCRESET)).toBe(-1)
    expect(u.sys_ioctl(ufd, S.SCULL_P_IOCTSIZE, 10)).toBe(-1)
    expect(u.ioctl(ufd, S.SCULL_IOCQQUANTUM)).toBe(4000)
    void buf
  })

  it('ioctl on a file without unlocked_ioctl is ENOTTY', () => {
    const { p } = setup()
    const fd = p.open('/tmp/f', 0o100 | O_RDWR)
    expect(p.sys_ioctl(fd, S.SCULL_IOCQQUANTUM)).toBe(-25)
    const z = p.open('/dev/zero', O_RDONLY)
    expect(() => p.ioctl(z, 0x5401)).toThrow(ErrnoError)
  })
})

describe('rmmod and scullpipe', () => {
  it('T-CDEV-2/S-I3: rmmod is EBUSY while a device is open (also through a forked child), then unloads', () => {
    const { m, p } = setup()
    const fd = p.open('/dev/scull0', O_RDONLY)
    expect(() => m.rmmod('scull')).toThrow(/EBUSY/)
    const c = p.fork()
    p.close(fd)
    expect(() => m.rmmod('scull')).toThrow(/EBUSY/)
    c.exit(0)
    c.wait()
    m.rmmod('scull')
    expect(m.modules.find_module('scull')).toBeNull()
    expect(p.sys_open('/dev/scull0', O_RDONLY)).toBe(-2)
  })

  it('T-PIPE-1: an empty pipe reads EAGAIN with O_NONBLOCK; 5000 bytes into an empty pipe take 3999', () => {
    const { p, buf } = setup()
    const r = p.open('/dev/scullpipe0', O_RDONLY | O_NONBLOCK)
    const w = p.open('/dev/scullpipe0', O_WRONLY | O_NONBLOCK)
    expect(p.sys_read(r, buf, 10)).toBe(-11)
    p.store(buf, bytes(5000))
    expect(p.write(w, buf, 5000)).toBe(3999)
    expect(p.sys_write(w, buf, 1)).toBe(-11)
    expect(p.read(r, buf + 8192, 5000)).toBe(3999)
    expect(p.load(buf + 8192, 3999)).toEqual(bytes(5000).subarray(0, 3999))
    // Wrapped: 100 bytes land at the end and the start of the ring; a read returns the part up to the end.
    expect(p.write(w, buf, 100)).toBe(1)
    expect(p.write(w, buf + 1, 99)).toBe(99)
    expect(p.read(r, buf + 8192, 100)).toBe(1)
    expect(p.read(r, buf + 8192, 100)).toBe(99)
    expect(p.sys_lseek(r, 0, SEEK_SET)).toBe(-29)
    p.close(r)
    p.close(w)
  })
})
