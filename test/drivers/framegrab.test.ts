/**
 * The DMA frame grabber (issue 9): a dma_alloc_coherent buffer from
 * ZONE_DMA32 for the card's 32-bit mask, mapped with dma_mmap_coherent;
 * frames the card DMA-writes are the bytes a process reads through its
 * mapping and /dev/mem at the buffer's physical address; ioctls start,
 * stop, query and grab; read(2) and poll wait for a new frame.
 */
import { describe, it, expect } from 'vitest'
import { boot, fill_bytes } from '../helpers.js'
import { ErrnoError } from '../../src/user/errors.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_NONBLOCK, O_RDONLY } from '../../src/include/uapi/fcntl.js'
import { POLLIN, POLLRDNORM } from '../../src/include/uapi/poll.js'
import { FG_IOC_GRAB, FG_IOC_QFRAME, FG_IOC_START, FG_IOC_STOP, fg_pixel, framegrab_module } from '../../src/drivers/framegrab.js'

const PG = 4096
const frame = (n: number, len: number): Uint8Array => fill_bytes(len, (i) => fg_pixel(n, i))

function setup(ram = '64M') {
  const m = boot({ ram, strict_devmem: false })
  const mod = framegrab_module()
  m.insmod(mod)
  const fg = mod.framegrab!
  const p = m.spawn({ name: 'viewer', uid: 0 })
  const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const fd = p.open('/dev/framegrab0', O_RDONLY)
  return { m, fg, p, buf, fd }
}

describe('framegrab', () => {
  it('the coherent buffer comes from ZONE_DMA32 (32-bit mask), zeroed, below 4 GiB; /proc/devices has framegrab', () => {
    const { m, fg, p, fd } = setup('6G')
    const pfn = fg.dma_handle / PG
    const zone = m.page_alloc.zones.find((z) => pfn >= z.zone_start_pfn && pfn < z.zone_end_pfn)!
    expect(zone.name).toBe('DMA32')
    expect(fg.dma_handle + fg.size).toBeLessThanOrEqual(2 ** 32)
    expect(m.proc('/proc/devices')).toMatch(/\n254 framegrab\n/)
    const map = p.mmap(0, fg.size, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.load(map, fg.size).every((b) => b === 0)).toBe(true)
  })

  it('grabbed frames are the bytes of the mapping, of the driver\'s CPU address and of /dev/mem at the bus address', () => {
    const { m, fg, p, fd, buf } = setup()
    const map = p.mmap(0, fg.size, PROT_READ, MAP_SHARED, fd, 0)
    const len = fg.width * fg.height
    for (let n = 0; n < 5; n++) expect(p.ioctl(fd, FG_IOC_GRAB)).toBe(0)
    expect(p.ioctl(fd, FG_IOC_QFRAME)).toBe(5)
    // Frame 4 overwrote slot 0; frames 1..3 are in slots 1..3.
    expect(p.load(map, len)).toEqual(frame(4, len))
    expect(p.load(map + 2 * fg.slot, len)).toEqual(frame(2, len))
    expect(m.driver_kernel.kernel_read(fg.cpu_addr + 3 * fg.slot, len)).toEqual(frame(3, len))
    const mem = p.open('/dev/mem', O_RDONLY)
    p.lseek(mem, fg.dma_handle + fg.slot, 0)
    expect(p.read(mem, buf, 100)).toBe(100)
    expect(p.load(buf, 100)).toEqual(frame(1, 100))
    expect(m.proc(`/proc/${p.pid}/smaps`)).toMatch(/VmFlags: rd mr me ms pf io de dd /)
    expect(m.driver_check.findings).toEqual([])
  })

  it('dma_mmap_coherent: a mapping past the buffer or at an offset beyond it is ENXIO; an offset inside maps that slot', () => {
    const { fg, p, fd } = setup()
    const code = (f: () => unknown): string => {
      try {
        f()
        return 'ok'
      } catch (e) {
        return (e as ErrnoError).code
      }
    }
    expect(code(() => p.mmap(0, fg.size + PG, PROT_READ, MAP_SHARED, fd, 0))).toBe('ENXIO')
    expect(code(() => p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, fg.size))).toBe('ENXIO')
    expect(code(() => p.mmap(0, 2 * fg.slot, PROT_READ, MAP_SHARED, fd, 3 * fg.slot))).toBe('ENXIO')
    p.ioctl(fd, FG_IOC_GRAB)
    p.ioctl(fd, FG_IOC_GRAB)
    const one = p.mmap(0, fg.slot, PROT_READ, MAP_SHARED, fd, fg.slot)
    expect(p.load(one, 64)).toEqual(frame(1, 64))
  })

  it('streaming: each vsync interrupt captures a frame; a blocked read wakes with the frame number; poll; stop', () => {
    const { m, p, fd, buf } = setup()
    const nb = p.open('/dev/framegrab0', O_RDONLY | O_NONBLOCK)
    expect(p.sys_read(nb, buf, 4)).toBe(-11)
    expect(p.sys_read(nb, buf, 8)).toBe(-22)
    expect(m.raise_irq(10)).toBe(false) // not streaming: the card ignores vsync
    p.ioctl(fd, FG_IOC_START)
    const s = p.begin_read(fd, buf, 4)
    if (typeof s === 'number') throw new Error('read did not sleep')
    expect(m.raise_irq(10)).toBe(true)
    expect(s.result).toBe(4)
    expect(new DataView(p.load(buf, 4).buffer).getUint32(0, true)).toBe(0)
    const fds = [{ fd: nb, events: POLLIN, revents: 0 }]
    expect(p.poll(fds)).toBe(1)
    expect(fds[0].revents).toBe(POLLIN)
    m.raise_irq(10)
    m.raise_irq(10)
    expect(p.read(nb, buf, 4)).toBe(4)
    expect(new DataView(p.load(buf, 4).buffer).getUint32(0, true)).toBe(2)
    p.ioctl(fd, FG_IOC_STOP)
    m.raise_irq(10)
    expect(p.ioctl(fd, FG_IOC_QFRAME)).toBe(3)
    fds[0].events = POLLIN | POLLRDNORM
    expect(p.poll(fds)).toBe(0)
    expect(() => p.ioctl(fd, 0x4605)).toThrow(ErrnoError)
  })

  it('rmmod is EBUSY while mapped; after munmap and close it frees the buffer', () => {
    const { m, fg, p, fd } = setup()
    const map = p.mmap(0, fg.size, PROT_READ, MAP_SHARED, fd, 0)
    p.close(fd)
    expect(() => m.rmmod('framegrab')).toThrow(ErrnoError)
    p.munmap(map, fg.size)
    m.rmmod('framegrab')
    expect(m.page_alloc.pages.page_count(fg.dma_handle / PG)).toBe(0)
  })
})
