/**
 * SECURITY.md cases (../shared/drivers/SECURITY.md) not covered by the
 * example drivers' tests (mmap_security.test.ts): each built-in's
 * resistance, and each driver-API mistake with the finding the checker
 * (src/drivers/mmap_check.ts) must raise. The drivers that make the
 * mistakes are small "probe" drivers written here (probe.ts); docs/drivers.md
 * maps every case to its test.
 * The probe drivers with a bug are part of SECURITY.md §4.4's catalogue.
 */
import { describe, it, expect } from 'vitest'
import { boot, corrupted } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { EACCES, EAGAIN, EBUSY, EFAULT, EFBIG, EINVAL, ENOMEM, EPERM } from '../../src/include/errno.js'
import { MAJOR, MKDEV, S_IFCHR } from '../../src/fs/fs.js'
import type { Module } from '../../src/include/module.js'
import {
  type DriverKernel, type VmArea, type VmFault, GFP_KERNEL, VM_DONTEXPAND, VM_MIXEDMAP, VM_PFNMAP,
} from '../../src/drivers/driver_api.js'
import { __GFP_DMA32 } from '../../src/mm/gfp.js'
import type { KernelModule } from '../../src/drivers/module.js'
import * as S from '../../src/drivers/scull/scull.js'
import { scull_module } from '../../src/drivers/scull/main.js'
import { scullp_module } from '../../src/drivers/scullp/main.js'
import { type Probe, load, probe_module, signal_of } from './probe.js'

const PG = 4096
const ids = (m: Machine): string[] => m.driver_check.findings.map((f) => f.id)
const slab_active = (m: Machine): number => m.slab.slabinfo().reduce((n, c) => n + c.info.active_objs, 0)
const remap_all = (pr: Probe, vma: VmArea): number => pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn + vma.vm_pgoff, vma.vm_end - vma.vm_start)
const with_fault = (fault: (pr: Probe, vmf: VmFault) => number, flags?: (pr: Probe, vma: VmArea) => void) =>
  probe_module((pr, vma) => {
    flags?.(pr, vma)
    vma.vm_ops = { fault: (vmf) => fault(pr, vmf) }
    return 0
  })
/** A fault handler that hands out the driver's page at pgoff, with the reference the PTE will own. */
const page_at = (pr: Probe, vmf: VmFault): number => {
  pr.k.get_page(pr.pfn + vmf.pgoff)
  vmf.page = pr.pfn + vmf.pgoff
  return 0
}

describe('S-A: unchecked offset and size', () => {
  it('S-A3/S-F1: a length-only check with a fault handler that turns any pgoff into a page (usx2y): the page past the buffer is S-D4', () => {
    // the buffer is 4 pages; mmap checks the length only, the fault takes pgoff as it comes
    const { m, p, fd, pr } = load(with_fault(page_at))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 6 * PG)
    p.load(a, 1)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr, f.pfn])).toEqual([['S-D4', a, pr.pfn + 6]])
    // it took a reference on a free page: the machine is as broken as Linux's would be
    corrupted(m)
    // scullp, the built-in, bounds every fault by its size: an offset past it is SIGBUS
    const sp = boot({ ram: '128M' })
    sp.insmod('scullp')
    const q = sp.spawn({ name: 'q', uid: 0 })
    const b = q.mmap(0, PG, PROT_READ, MAP_SHARED, q.open('/dev/scullp0', O_RDONLY), 6 * PG)
    expect(signal_of(() => q.load(b, 1))).toBe('SIGBUS')
    expect(sp.driver_check.findings).toEqual([])
  })

  it('S-A4: the book\'s I/O-region recipe (unsigned size - off) wraps for an offset past the region: S-A1; vm_iomap_memory refuses it (EINVAL)', () => {
    // LDD3 15.2.5: psize = region_size - off, compared with the request: off > size wraps to 2^64 - ...
    const book = probe_module((pr, vma) => {
      const off = BigInt(vma.vm_pgoff) * 4096n
      const psize = (4n * 4096n - off) & (2n ** 64n - 1n)
      if (BigInt(vma.vm_end - vma.vm_start) > psize) return -EINVAL
      return remap_all(pr, vma)
    })
    let l = load(book)
    const a = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 6 * PG)
    expect(l.m.driver_check.findings.map((f) => [f.id, f.addr, f.pfn])).toEqual([['S-A1', a, l.pr.pfn + 6]])
    l.p.munmap(a, PG)
    const fixed = probe_module((pr, vma) => pr.k.vm_iomap_memory(vma, pr.k.virt_to_phys(pr.buf), 4 * PG))
    l = load(fixed)
    expect(l.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 6 * PG)).toBe(-EINVAL)
    expect(l.p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, l.fd, 3 * PG)).toBe(-EINVAL)
    expect(l.p.sys_mmap(0, 5 * PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
    l.pr.k.kernel_write(l.pr.buf + 3 * PG, new TextEncoder().encode('last'))
    const b = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 3 * PG)
    expect(new TextDecoder().decode(l.p.load(b, 4))).toBe('last')
    expect(l.m.driver_check.findings).toEqual([])
  })

  it('S-A6: an empty handler (returns 0, maps nothing, no fault) is a warning at mmap; every touch is SIGBUS', () => {
    const { m, p, fd } = load(probe_module(() => 0))
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.driver_check.findings.map((f) => [f.id, f.severity, f.addr])).toEqual([['S-A6', 'warning', a]])
    expect(signal_of(() => p.load(a + PG, 1))).toBe('SIGBUS')
    // a handler that populates the VMA, or installs a fault handler, is not flagged
    const l = load(probe_module(remap_all))
    l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(l.m.driver_check.findings).toEqual([])
  })
})

describe('S-B: the LDD3 drivers, hardened', () => {
  function scull(): { m: Machine; p: Process; buf: number; mod: ReturnType<typeof scull_module> } {
    const m = boot({ ram: '128M' })
    const mod = scull_module()
    m.insmod(mod)
    const p = m.spawn({ name: 'root', uid: 0 })
    return { m, p, mod, buf: p.mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) }
  }

  it('S-B1: a quantum reused from freed kmalloc memory full of 0xaa reads as zeros where nothing was written', () => {
    const { m, p, buf, mod } = scull()
    const k = m.driver_kernel
    const stale = k.kmalloc(4000)
    k.kernel_write(stale, new Uint8Array(4000).fill(0xaa))
    k.kfree(stale)
    const w = p.open('/dev/scull0', O_WRONLY)
    p.lseek(w, 3999, SEEK_SET)
    p.store(buf, [0x55])
    expect(p.write(w, buf, 1)).toBe(1)
    p.close(w)
    // the quantum is the very object that held the 0xaa bytes (the slab's freelist is LIFO)
    const dev = mod.scull!.devices[0]
    expect(k.read_ptr(k.read_ptr(dev.data))).toBe(stale)
    const r = p.open('/dev/scull0', O_RDONLY)
    expect(p.read(r, buf, 4000)).toBe(4000)
    const got = p.load(buf, 4000)
    expect(got.subarray(0, 3999).every((b) => b === 0)).toBe(true)
    expect(got[3999]).toBe(0x55)
  })

  it('S-B2: TSIZE needs CAP_SYS_ADMIN; a new size applies only when the buffer is allocated again, never to the open one', () => {
    const { m, p, buf, mod } = scull()
    const u = m.spawn({ name: 'user', uid: 1000 })
    const ufd = u.open('/dev/scull0', O_RDONLY)
    expect(u.sys_ioctl(ufd, S.SCULL_P_IOCTSIZE, 1 << 20)).toBe(-EPERM)
    const a = p.open('/dev/scullpipe0', O_RDONLY | O_NONBLOCK)
    expect(p.ioctl(a, S.SCULL_P_IOCTSIZE, 8000)).toBe(0)
    expect(p.sys_ioctl(a, S.SCULL_P_IOCTSIZE, 0xffffffff)).toBe(-EINVAL) // (int)-1
    const w = p.open('/dev/scullpipe0', O_WRONLY | O_NONBLOCK)
    const dev = mod.pipes!.devices[0]
    expect(dev.buffersize).toBe(4000)
    p.store(buf, new Uint8Array(PG).fill(7))
    expect(p.write(w, buf, 5000 > PG ? PG : 5000)).toBe(3999)
    expect(p.sys_write(w, buf, 1)).toBe(-EAGAIN) // full at 3999: no write past the 4000-byte allocation
    p.close(w)
    p.close(a)
    const again = p.open('/dev/scullpipe0', O_RDONLY | O_NONBLOCK)
    expect(dev.buffersize).toBe(8000)
    p.close(again)
  })

  it('S-B3: quantum 0, qset 0 and a product past INT_MAX are EINVAL; IOCRESET is EPERM for a user; a load with quantum 0 fails', () => {
    const { m, p } = scull()
    const fd = p.open('/dev/scull0', O_RDONLY)
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQUANTUM, 0)).toBe(-EINVAL)
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQSET, 0)).toBe(-EINVAL)
    expect(p.sys_ioctl(fd, S.SCULL_IOCTQUANTUM, 0x7fffffff)).toBe(-EINVAL) // 0x7fffffff * 1000 overflows an int
    expect(p.ioctl(fd, S.SCULL_IOCQQUANTUM, 0)).toBe(4000)
    const u = m.spawn({ name: 'user', uid: 1000 })
    expect(u.sys_ioctl(u.open('/dev/scull0', O_RDONLY), S.SCULL_IOCRESET, 0)).toBe(-EPERM)
    const m2 = boot({ ram: '128M' })
    expect(() => m2.insmod('scull', { scull_quantum: 0 })).toThrow(/EINVAL/)
  })

  it('S-B4: opening scullpipe resets its pointers: unread bytes are lost (the book\'s behaviour, kept)', () => {
    const { p, buf } = scull()
    const r = p.open('/dev/scullpipe1', O_RDONLY | O_NONBLOCK)
    const w = p.open('/dev/scullpipe1', O_WRONLY | O_NONBLOCK)
    expect(p.write(w, buf, 100)).toBe(100)
    p.open('/dev/scullpipe1', O_RDONLY | O_NONBLOCK) // a second reader comes
    expect(p.sys_read(r, buf, 100)).toBe(-EAGAIN)
  })

  it('S-B5: simpler and simplen are root\'s alone (0600), no S-H5 finding; a user driver that maps physical memory with a 0664 node is S-H5', () => {
    const m = boot({ ram: '128M' })
    m.insmod('simple')
    for (const n of ['simpler', 'simplen']) {
      const i = m.fs.lookup(`/dev/${n}`)!
      expect((i.i_mode & 0o7777).toString(8)).toBe('600')
    }
    expect(m.driver_check.findings).toEqual([])
    let major = 0
    const clone: KernelModule = {
      name: 'exynos_mem',
      init(k: DriverKernel, _p: unknown, owner: Module): number {
        k.declare_raw_physical()
        const dev = { value: 0 }
        k.alloc_chrdev_region(dev, 0, 1, 'exynos-mem')
        major = MAJOR(dev.value)
        return k.cdev_add(k.cdev_init({ owner, open: () => 0 }), dev.value, 1)
      },
      exit(k: DriverKernel): void {
        k.unregister_chrdev_region(MKDEV(major, 0), 1)
      },
      nodes: () => [{ name: 'exynos-mem', dev: MKDEV(major, 0), mode: S_IFCHR | 0o664 }],
    }
    m.insmod(clone)
    expect(m.driver_check.findings.map((f) => [f.id, f.module])).toEqual([['S-H5', 'exynos_mem']])
    expect(m.dmesg()).toContain('mmsim driver check: exynos_mem: /dev/exynos-mem is mode 0664: a physical-memory device open to group or others [S-H5]')
  })

  it('S-B7/S-L2: a write at 2^50 is EFBIG on scull and scullp; nothing is allocated for it', () => {
    const { m, p, buf } = scull()
    m.insmod('scullp')
    for (const node of ['/dev/scull1', '/dev/scullp1']) {
      const fd = p.open(node, O_RDWR)
      const before = slab_active(m)
      p.lseek(fd, 2 ** 50, SEEK_SET)
      expect(p.sys_write(fd, buf, 1)).toBe(-EFBIG)
      expect(slab_active(m)).toBe(before)
    }
  })
})

describe('S-C: overflow, truncation, signedness, zero size', () => {
  /** A driver whose 4 pages sit in ZONE_DMA32 (a device buffer), with the mmap check the test gives. */
  /** check: the driver's bound, and the page offset it then maps from (null: refused). */
  function big_probe(gfp: number, check: (pgoff: bigint, len: bigint) => bigint | null): { m: Machine; p: Process; fd: number; base: number } {
    let major = 0
    let base = -1
    const mod: KernelModule = {
      name: 'probe',
      init(k: DriverKernel, _p: unknown, owner: Module): number {
        base = k.alloc_pages(gfp as typeof GFP_KERNEL, 2)
        const dev = { value: 0 }
        k.alloc_chrdev_region(dev, 0, 1, 'probe')
        major = MAJOR(dev.value)
        const mmap = (_f: unknown, vma: VmArea): number => {
          const from = check(BigInt(vma.vm_pgoff), BigInt(vma.vm_end - vma.vm_start))
          if (from === null) return -EINVAL
          return k.remap_pfn_range(vma, vma.vm_start, base + Number(from), vma.vm_end - vma.vm_start)
        }
        return k.cdev_add(k.cdev_init({ owner, open: () => 0, mmap }), dev.value, 1)
      },
      exit(k: DriverKernel): void {
        k.__free_pages(base, 2)
        k.unregister_chrdev_region(MKDEV(major, 0), 1)
      },
      nodes: () => [{ name: 'probe', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
    }
    // 5 GiB: RAM above 4 GiB, 2^20 frames past a buffer below it
    const m = boot({ ram: '5G' })
    m.insmod(mod)
    const p = m.spawn({ name: 'attacker', uid: 1000 })
    return { m, p, fd: p.open('/dev/probe', O_RDWR), base }
  }

  it('S-C2: an offset kept in 32 bits passes the check at 4 GiB + 1 page; the pfn from the full pgoff is somebody else\'s RAM: S-A1', () => {
    const u32 = (x: bigint): bigint => x & 0xffffffffn
    // the check sees the truncated offset, the remap the full pgoff; the buffer is a DMA32 one, below 4 GiB
    const { m, p, fd, base } = big_probe(GFP_KERNEL | __GFP_DMA32, (pgoff, len) => (u32(pgoff << 12n) + len <= 4n * 4096n ? pgoff : null))
    const a = p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 2n ** 32n + 4096n)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr, f.pfn])).toEqual([['S-A1', a, base + 2 ** 20 + 1]])
    p.munmap(a, PG)
  })

  it('S-C3: a signed int offset (pgoff 0x80000 -> -2 GiB) passes "off + len <= size" and maps 2 GiB below the buffer: S-A1', () => {
    const s32 = (x: bigint): bigint => BigInt.asIntN(32, x)
    // int off = pgoff << PAGE_SHIFT; if (off + len > size) fail; map buffer + off
    const { m, p, fd, base } = big_probe(GFP_KERNEL, (pgoff, len) => {
      const off = s32(pgoff << 12n)
      return off + len <= 4n * 4096n ? off / 4096n : null
    })
    expect(base).toBeGreaterThan(2 ** 19) // the buffer is above 2 GiB, so 2 GiB below it is RAM
    const a = p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0x80000n * 4096n)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr, f.pfn])).toEqual([['S-A1', a, base - 2 ** 19]])
    p.munmap(a, PG)
  })

  it('S-C4: an empty scullp device maps but every touch is SIGBUS; vm_iomap_memory of a 0-byte object is EINVAL', () => {
    const m = boot({ ram: '128M' })
    m.insmod('scullp')
    const p = m.spawn({ name: 'p', uid: 0 })
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/scullp2', O_RDONLY), 0)
    expect(signal_of(() => p.load(a, 1))).toBe('SIGBUS')
    const l = load(probe_module((pr, vma) => pr.k.vm_iomap_memory(vma, pr.k.virt_to_phys(pr.buf), 0)))
    expect(l.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
  })
})

describe('S-D: memory the driver should not expose', () => {
  it('S-D2: a page scullp takes from the allocator right after somebody freed it dirty reads as zeros past the written byte', () => {
    const m = boot({ ram: '128M' })
    const mod = scullp_module()
    m.insmod(mod)
    const k = m.driver_kernel
    const p = m.spawn({ name: 'p', uid: 0 })
    const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(buf, [1])
    const w = p.open('/dev/scullp0', O_WRONLY)
    // scullp's first write takes its qset array from kmalloc, then the page: make both find what they need
    // ready, and put a dirty page on top of the per-cpu list
    const arr = k.kmalloc(500 * 8)
    k.kfree(arr)
    const dirty = k.__get_free_pages(GFP_KERNEL, 0)
    k.kernel_write(dirty, new Uint8Array(PG).fill(0xcc))
    k.free_pages(dirty, 0)
    expect(p.write(w, buf, 1)).toBe(1)
    expect(k.read_ptr(mod.scullp!.devices[0].data)).toBe(dirty) // the same frame came back
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/scullp0', O_RDONLY), 0)
    const page = p.load(a, PG)
    expect(page[0]).toBe(1)
    expect(page.subarray(1).every((b) => b === 0)).toBe(true)
  })

  it('S-D3: vm_insert_page of a frame without struct page is EINVAL; a fault handler returning one is the oops, SIGBUS; simplen past RAM is SIGBUS', () => {
    const beyond = (pr: Probe): number => pr.k.virt_to_pfn(pr.buf) + 10 ** 7
    let l = load(probe_module((pr, vma) => pr.k.vm_insert_page(vma, vma.vm_start, beyond(pr))))
    expect(l.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
    l = load(with_fault((pr, vmf) => {
      vmf.page = beyond(pr)
      return 0
    }))
    const a = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(signal_of(() => l.p.load(a, 1))).toBe('SIGBUS')
    expect(l.m.dmesg()).toContain('BUG: kernel NULL pointer dereference: /dev/probe fault handler returned 0 without vmf->page')
    const m = boot({ ram: '128M' })
    m.insmod('simple')
    const p = m.spawn({ name: 'root', uid: 0 })
    const b = p.mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/simplen', O_RDWR), 2 ** 40)
    expect(signal_of(() => p.load(b, 1))).toBe('SIGBUS')
  })
})

describe('S-E: growth past what was validated', () => {
  it('S-E2: remap_vmalloc_range and remap_pfn_range mappings cannot grow (EFAULT)', () => {
    const area = { addr: 0 }
    let l = load(probe_module((pr, vma) => {
      area.addr ||= pr.k.vmalloc_user(2 * PG)
      return pr.k.remap_vmalloc_range(vma, area.addr, 0)
    }))
    let a = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(l.p.sys_mremap(a, PG, 2 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    l = load(probe_module(remap_all))
    a = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(l.p.sys_mremap(a, PG, 2 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    expect(l.m.driver_check.findings).toEqual([])
  })

  it('S-E3: a driver that clears VM_DONTEXPAND after remap_pfn_range is flagged; mremap still refuses a PFN map (EFAULT)', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => {
      const r = remap_all(pr, vma)
      pr.k.vm_flags_clear(vma, VM_DONTEXPAND)
      return r
    }))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr])).toEqual([['S-E3', a]])
    expect(p.sys_mremap(a, PG, 2 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
  })
})

describe('S-F: fault handler references', () => {
  it('S-F5: a fault handler that returns its page without get_page is reported (the unmap would free the driver\'s page)', () => {
    const { m, p, fd, pr } = load(with_fault((q, vmf) => {
      vmf.page = q.pfn + vmf.pgoff
      return 0
    }))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    p.load(a, 1)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr, f.pfn])).toEqual([['S-F5', a, pr.pfn]])
    // the page is now referenced by the PTE only: the test leaves the machine as Linux would be, broken
    corrupted(m)
    // with the reference: two processes, two PTEs, no finding
    const l = load(with_fault(page_at))
    const b = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    l.p.load(b, 1)
    const q = l.m.spawn({ name: 'q', uid: 0 })
    q.load(q.mmap(0, PG, PROT_READ, MAP_SHARED, q.open('/dev/probe', O_RDWR), 0), 1)
    expect(l.m.driver_check.findings).toEqual([])
  })
})

describe('S-G: helper misuse', () => {
  it('S-G2: remapping over PTEs that exist is the kernel BUG, refused (EBUSY)', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => remap_all(pr, vma) || remap_all(pr, vma)))
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EBUSY)
    expect(m.dmesg()).toContain('kernel BUG at mm/memory.c remap_pte_range: PTE at 0x')
  })

  it('S-G3: an unaligned address is EINVAL (warned); a partial remap of a MAP_PRIVATE VMA is EINVAL', () => {
    let l = load(probe_module((pr, vma) => pr.k.remap_pfn_range(vma, vma.vm_start + 12, pr.pfn, PG)))
    expect(l.p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
    expect(l.m.dmesg()).toContain('is not page aligned')
    l = load(probe_module((pr, vma) => pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn, PG)))
    expect(l.p.sys_mmap(0, 2 * PG, PROT_READ, MAP_PRIVATE, l.fd, 0)).toBe(-EINVAL)
    expect(l.p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBeGreaterThan(0)
  })

  it('S-G4: vmf_insert_pfn with both PFNMAP and MIXEDMAP, or on a COW PFN map, and vm_insert_page on a PFN map are kernel BUGs', () => {
    const insert_pfn = (pr: Probe, vmf: VmFault): number => pr.k.vmf_insert_pfn(vmf.vma, vmf.address, pr.pfn + vmf.pgoff)
    let l = load(with_fault(insert_pfn, (pr, vma) => pr.k.vm_flags_set(vma, VM_PFNMAP)))
    // both flags
    l = load(with_fault(insert_pfn, (pr, vma) => {
      pr.k.vm_flags_set(vma, VM_PFNMAP)
      pr.k.vm_flags_set(vma, VM_MIXEDMAP)
    }))
    let a = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(signal_of(() => l.p.load(a, 1))).toBe('SIGBUS')
    expect(l.m.dmesg()).toContain('needs exactly one of VM_PFNMAP and VM_MIXEDMAP')
    // COW: a private PFN map (is_cow_mapping)
    l = load(with_fault(insert_pfn, (pr, vma) => pr.k.vm_flags_set(vma, VM_PFNMAP)))
    a = l.p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, l.fd, 0)
    expect(signal_of(() => l.p.load(a, 1))).toBe('SIGBUS')
    expect(l.m.dmesg()).toContain('kernel BUG at mm/memory.c vmf_insert_pfn: COW VM_PFNMAP VMA')
    // vm_insert_page on VM_PFNMAP
    l = load(probe_module((pr, vma) => {
      pr.k.vm_flags_set(vma, VM_PFNMAP)
      return pr.k.vm_insert_page(vma, vma.vm_start, pr.pfn)
    }))
    expect(l.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
    expect(l.m.dmesg()).toContain('kernel BUG at mm/memory.c vm_insert_page: VMA 0x')
  })

  it('S-G5: an error path that frees the wrong pages is reported and refused; the driver\'s own pages stay allocated', () => {
    const { m, p, fd, pr } = load(probe_module((q, vma) => {
      const r = q.k.remap_pfn_range(vma, vma.vm_start, q.pfn, 2 * PG)
      // the cleanup releases the page after the buffer instead of a page it allocated for this mapping
      if (r) q.k.__free_pages(q.pfn + 4, 0)
      return r
    }))
    const before = m.page_alloc.pages.page_count(pr.pfn + 4)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(m.driver_check.findings.map((f) => [f.id, f.pfn])).toEqual([['S-G5', pr.pfn + 4]])
    expect(m.page_alloc.pages.page_count(pr.pfn + 4)).toBe(before)
  })
})

describe('S-H: permissions', () => {
  it('S-H2: MAP_SHARED|PROT_WRITE of an O_RDONLY fd is EACCES; any mapping of an O_WRONLY fd is EACCES', () => {
    const m = boot({ ram: '128M' })
    m.insmod('scullp')
    const p = m.spawn({ name: 'p', uid: 0 })
    expect(p.sys_mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, p.open('/dev/scullp0', O_RDONLY), 0)).toBe(-EACCES)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/scullp0', O_WRONLY), 0)).toBe(-EACCES)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_PRIVATE, p.open('/dev/scullp0', O_WRONLY), 0)).toBe(-EACCES)
  })

  it('S-H4: device memory mapped PROT_EXEC is a warning; without PROT_EXEC there is none', () => {
    const { m, p, fd } = load(probe_module(remap_all))
    p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.driver_check.findings).toEqual([])
    const a = p.mmap(0, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0)
    expect(m.driver_check.findings.map((f) => [f.id, f.severity, f.addr])).toEqual([['S-H4', 'warning', a]])
  })
})

describe('S-I: lifetime', () => {
  it('S-I1: a driver that frees pages a process still maps is reported; the pages live on through the PTEs\' references', () => {
    const FREE = 0x1234
    const { m, p, fd, pr } = load(probe_module(
      (q, vma) => q.k.vm_insert_page(vma, vma.vm_start, q.pfn),
      (q, cmd) => {
        if (cmd !== FREE) return -EINVAL
        q.k.__free_pages(q.pfn, 2)
        return 0
      },
    ))
    pr.k.kernel_write(pr.buf, new TextEncoder().encode('still here'))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.ioctl(fd, FREE, 0)).toBe(0)
    expect(m.driver_check.findings.map((f) => [f.id, f.pfn])).toEqual([['S-I1', pr.pfn]])
    expect(new TextDecoder().decode(p.load(a, 10))).toBe('still here')
    expect(m.page_alloc.pages.page_count(pr.pfn)).toBe(1)
    p.munmap(a, PG)
    expect(m.page_alloc.pages.page_count(pr.pfn)).toBe(0)
  })

  it('S-I2: get_page on page 1 of a non-compound order-2 block is reported; after split_page it is not', () => {
    const { m, p, fd } = load(with_fault(page_at))
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    p.load(a, 1)
    expect(m.driver_check.findings).toEqual([])
    p.load(a + PG, 1)
    expect(ids(m)).toEqual(['S-I2', 'S-F5'])
    corrupted(m)
    const l = load(with_fault(page_at, (pr) => {
      if (pr.k.page_count(pr.pfn + 1) === 0) pr.k.split_page(pr.pfn, 2)
    }))
    const b = l.p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, l.fd, 0)
    l.p.load(b + PG, 1)
    expect(l.m.driver_check.findings).toEqual([])
  })
})

describe('S-K / S-L', () => {
  it('S-K3: a VM_IO mapping whose vm_ops has a name is flagged (core dumps would read the device)', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => {
      const r = remap_all(pr, vma)
      vma.vm_ops = { name: '[regs]' }
      return r
    }))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.driver_check.findings.map((f) => [f.id, f.addr])).toEqual([['S-K3', a]])
    expect(signal_of(() => p.load(a, 1))).toBe('none')
  })

  it('S-L1: thousands of tiny driver VMAs stop at vm.max_map_count (ENOMEM)', () => {
    const { m, p, fd } = load(probe_module(remap_all))
    const base = p.task.mm!.map_count
    m.mm_env.sysctl.max_map_count = base + 40
    let n = 0
    let r = 0
    // PROT alternates so neighbours never merge into one VMA
    while ((r = p.sys_mmap(0, PG, n % 2 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) > 0) n++
    expect(r).toBe(-ENOMEM)
    // do_mmap refuses when map_count is already past the limit: the last one allowed makes it limit + 1
    expect(p.task.mm!.map_count).toBe(base + 41)
    expect(n).toBe(41)
  })
})
