/**
 * UIO (SPEC §12; acceptance T-UIO-1, T-UIO-2; SECURITY.md S-A3/S-F3 for
 * the region index, S-A5 for the PHYS size check): the uio core module,
 * uio_demo's three regions mapped by index, the sysfs files a program
 * reads to find them, the interrupt count read(2) returns and the
 * irqcontrol write(2).
 */
import { describe, it, expect } from 'vitest'
import { boot, errno_of } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { ProcessAsleep, SignalError } from '../../src/user/errors.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_NONBLOCK, O_RDWR } from '../../src/include/uapi/fcntl.js'
import { POLLIN, POLLRDNORM } from '../../src/include/uapi/poll.js'
import { UIO_DEMO_REGS } from '../../src/drivers/uio_demo.js'
import { UIO_IRQ_NONE, UIO_MEM_LOGICAL, type UioInfo } from '../../src/drivers/uio_driver.js'
import type { DriverKernel, KernelModule } from '../../src/index.js'

const PG = 4096
const IRQ = 11

function setup(): { m: Machine; p: Process; buf: number; fd: number } {
  const m = boot({ ram: '64M' })
  m.insmod('uio_demo')
  const p = m.spawn({ name: 'uioapp', uid: 0 })
  const buf = p.mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const fd = p.open('/dev/uio0', O_RDWR)
  return { m, p, buf, fd }
}
const u32 = (b: Uint8Array, off = 0): number => new DataView(b.buffer, b.byteOffset).getUint32(off, true)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('the uio core and /dev/uioN', () => {
  it('insmod uio_demo loads uio first (modprobe); "uio" in /proc/devices; rmmod uio is EAGAIN while used', () => {
    const m = boot({ ram: '64M' })
    m.insmod('uio_demo')
    expect(m.modules.list()).toEqual(['uio_demo', 'uio'])
    expect(m.proc('/proc/devices')).toMatch(/\n254 uio\n/)
    expect(m.proc('/sys/class/uio/uio0/dev')).toBe('254:0\n')
    expect(m.proc('/sys/class/uio/uio0/name')).toBe('uio_demo\n')
    expect(m.proc('/sys/class/uio/uio0/version')).toBe('0.1\n')
    expect(errno_of(() => m.rmmod('uio'))).toBe('EAGAIN')
    expect(m.dmesg()).toContain('rmmod: ERROR: Module uio is in use by: uio_demo')
    m.rmmod('uio_demo')
    expect(() => m.proc('/sys/class/uio/uio0/name')).toThrow()
    m.rmmod('uio')
    expect(m.proc('/proc/devices')).not.toMatch(/ uio\n/)
  })

  it('sysfs maps/mapN: name, addr (%pa), size (%pa), offset; no map3', () => {
    const { m } = setup()
    const d = '/sys/class/uio/uio0/maps'
    expect(m.proc(`${d}/map0/name`)).toBe('registers\n')
    expect(m.proc(`${d}/map0/addr`)).toBe('0x00000000000d0000\n')
    expect(m.proc(`${d}/map0/size`)).toBe('0x0000000000001000\n')
    expect(m.proc(`${d}/map0/offset`)).toBe('0x0\n')
    expect(m.proc(`${d}/map1/size`)).toBe('0x0000000000002000\n')
    expect(m.proc(`${d}/map2/name`)).toBe('ring\n')
    expect(m.sysfs.list(d)).toEqual(['map0', 'map1', 'map2'])
    expect(() => m.proc(`${d}/map3/addr`)).toThrow()
  })

  it('map0 (PHYS) by offset 0: the card\'s registers through remap_pfn_range, VM_IO|VM_PFNMAP, uncached; /dev/mem sees the same bytes', () => {
    const { m, p, fd } = setup()
    const regs = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    expect(text(p.load(regs, 4))).toBe('UIOD')
    expect(u32(p.load(regs + 8, 4))).toBe(1)
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps).toMatch(/VmFlags: rd wr sh mr mw me ms pf io de dd/)
    // The PTE maps the card's frame (remap_pfn_range from the region's first page).
    const pte = p.pagemap(regs, 1)[0]
    expect(Number(pte & 0x7fffffffffffffn)).toBe(UIO_DEMO_REGS / PG)
    p.store(regs + 16, [0xaa, 0xbb])
    const mem = p.open('/dev/mem', O_RDWR)
    const out = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.lseek(mem, UIO_DEMO_REGS, 0)
    expect(p.read(mem, out, 18)).toBe(18)
    const phys = p.load(out, 18)
    expect(Array.from(phys.subarray(0, 4))).toEqual([0x55, 0x49, 0x4f, 0x44]) // "UIOD"
    expect(Array.from(phys.subarray(16, 18))).toEqual([0xaa, 0xbb])
    // Growing a PFN map is EFAULT (S-E2).
    expect(errno_of(() => p.mremap(regs, PG, 2 * PG, MREMAP_MAYMOVE))).toBe('EFAULT')
  })

  it('S-E2: map1 (LOGICAL) by offset 4096 faults in the driver\'s pages; map2 (VIRTUAL) by 8192 through vmalloc_to_page; both DONTEXPAND|DONTDUMP', () => {
    const { m, p, fd } = setup()
    const b = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG)
    expect(text(p.load(b, 15))).toBe('uio_demo buffer')
    p.store(b + PG, [1, 2, 3])
    const ring = p.mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * PG)
    p.store(ring + 2 * PG + 5, [9])
    // A second process maps the same regions and sees the first one's bytes: they are the driver's pages.
    const q = m.spawn({ name: 'other', uid: 0 })
    const fd2 = q.open('/dev/uio0', O_RDWR)
    const b2 = q.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd2, PG)
    const r2 = q.mmap(0, 3 * PG, PROT_READ, MAP_SHARED, fd2, 2 * PG)
    expect(Array.from(q.load(b2 + PG, 3))).toEqual([1, 2, 3])
    expect(q.load(r2 + 2 * PG + 5, 1)[0]).toBe(9)
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps).toMatch(/VmFlags: rd wr sh mr mw me ms de dd/)
    expect(errno_of(() => p.mremap(b, 2 * PG, 3 * PG, MREMAP_MAYMOVE))).toBe('EFAULT')
    expect(m.driver_check.findings).toEqual([])
  })

  it('T-UIO-1/S-F3/S-A3: offset 5*4096 and a region of size 0 (map3) are EINVAL; a region of 2 pages mapped from page 1 is still region 1', () => {
    const { p, fd } = setup()
    expect(errno_of(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 5 * PG))).toBe('EINVAL')
    expect(errno_of(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 3 * PG))).toBe('EINVAL')
    expect(errno_of(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 1000 * PG))).toBe('EINVAL')
  })

  it('T-UIO-2: region 1 mapped longer than its pages is EINVAL; read(fd, buf, 8) is EINVAL; a PHYS map past its size too (S-A5)', () => {
    const { p, fd, buf } = setup()
    expect(errno_of(() => p.mmap(0, 3 * PG, PROT_READ, MAP_SHARED, fd, PG))).toBe('EINVAL')
    expect(errno_of(() => p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0))).toBe('EINVAL')
    expect(errno_of(() => p.read(fd, buf, 8))).toBe('EINVAL')
    expect(errno_of(() => p.read(fd, buf, 3))).toBe('EINVAL')
    expect(errno_of(() => p.write(fd, buf, 8))).toBe('EINVAL')
  })

  it('read returns the interrupt count: EAGAIN with O_NONBLOCK before an event; a blocked reader is woken by the interrupt', () => {
    const { m, p, buf } = setup()
    const nb = p.open('/dev/uio0', O_RDWR | O_NONBLOCK)
    expect(errno_of(() => p.read(nb, buf, 4))).toBe('EAGAIN')
    expect(m.raise_irq(IRQ)).toBe(true)
    expect(p.read(nb, buf, 4)).toBe(4)
    expect(u32(p.load(buf, 4))).toBe(1)
    expect(errno_of(() => p.read(nb, buf, 4))).toBe('EAGAIN') // this file saw event 1 already
    // A blocking reader sleeps until the next interrupt.
    const fd = p.open('/dev/uio0', O_RDWR)
    const pending = p.begin_read(fd, buf + 64, 4)
    expect(typeof pending).toBe('object')
    if (typeof pending === 'number') return
    expect(pending.result).toBeNull()
    expect(() => p.read(nb, buf, 4)).toThrow(ProcessAsleep)
    m.raise_irq(IRQ)
    expect(pending.result).toBe(4)
    expect(u32(p.load(buf + 64, 4))).toBe(2)
    // The registers count acknowledged interrupts too.
    const regs = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(u32(p.load(regs + 4, 4))).toBe(2)
    expect(m.proc('/sys/class/uio/uio0/event')).toBe('2\n')
  })

  it('poll: POLLIN|POLLRDNORM once an event is pending; a poll with a timeout sleeps until the interrupt', () => {
    const { m, p, fd, buf } = setup()
    const fds = [{ fd, events: POLLIN, revents: 0 }]
    expect(p.poll(fds, 0)).toBe(0)
    const pending = p.begin_poll(fds, -1)
    if (typeof pending === 'number') throw new Error('poll did not sleep')
    m.raise_irq(IRQ)
    expect(pending.result).toBe(1)
    expect(fds[0].revents).toBe(POLLIN)
    const all = [{ fd, events: POLLIN | POLLRDNORM, revents: 0 }, { fd: 99, events: POLLIN, revents: 0 }, { fd: -1, events: POLLIN, revents: 0 }]
    expect(p.poll(all)).toBe(2)
    expect(all.map((x) => x.revents)).toEqual([POLLIN | POLLRDNORM, 0x20, 0]) // POLLNVAL for a closed fd
    expect(p.read(fd, buf, 4)).toBe(4)
  })

  it('write(0) masks the interrupt (irqcontrol -> disable_irq): no event until write(1) replays the pending one', () => {
    const { m, p, fd, buf } = setup()
    p.store(buf, [0, 0, 0, 0])
    expect(p.write(fd, buf, 4)).toBe(4)
    expect(m.raise_irq(IRQ)).toBe(false)
    const nb = p.open('/dev/uio0', O_RDWR | O_NONBLOCK)
    expect(errno_of(() => p.read(nb, buf + 16, 4))).toBe('EAGAIN')
    p.store(buf, [1, 0, 0, 0])
    expect(p.write(fd, buf, 4)).toBe(4)
    expect(p.read(nb, buf + 16, 4)).toBe(4)
    p.store(buf, [7, 0, 0, 0])
    expect(errno_of(() => p.write(fd, buf, 4))).toBe('EINVAL') // the driver's own answer
  })

  it('a device without an interrupt: read and write EIO; without irqcontrol write is ENOSYS; unregistered: mmap EINVAL, faults SIGBUS, open ENODEV', () => {
    const m = boot({ ram: '64M' })
    let info: UioInfo | null = null
    let page = 0
    const mod: KernelModule = {
      name: 'uio_mine',
      requires: ['uio'],
      init(k: DriverKernel) {
        page = k.__get_free_pages(0xcc0, 0)
        k.memset0(page, PG)
        info = { name: 'mine', version: '1', irq: UIO_IRQ_NONE, mem: [{ addr: page, size: PG, memtype: UIO_MEM_LOGICAL }] }
        return k.uio_register_device(info)
      },
      exit(k: DriverKernel) {
        if (info) k.uio_unregister_device(info)
        k.free_pages(page, 0)
      },
    }
    m.insmod(mod)
    const p = m.spawn({ name: 'app', uid: 0 })
    const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const fd = p.open('/dev/uio0', O_RDWR)
    expect(errno_of(() => p.read(fd, buf, 4))).toBe('EIO')
    expect(errno_of(() => p.write(fd, buf, 4))).toBe('EIO')
    const map = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    // The module cannot go while the file is open; its device can (a driver's unbind).
    expect(errno_of(() => m.rmmod('uio_mine'))).toBe('EBUSY')
    m.driver_kernel.for_module(m.modules.find_module('uio_mine')!).uio_unregister_device(info!)
    expect(() => p.load(map, 1)).toThrow(SignalError)
    expect(p.alive).toBe(false)
    const q = m.spawn({ name: 'app2', uid: 0 })
    expect(q.sys_open('/dev/uio0', O_RDWR)).toBe(-2) // the node went with the device
  })
})
