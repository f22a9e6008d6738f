/**
 * /dev/mem (SPEC §11.1; acceptance T-MEM-1, T-MEM-2; SECURITY.md S-J1,
 * S-J2, S-J3, S-J4): CAP_SYS_RAWIO, the STRICT_DEVMEM page policy for read,
 * write and mmap, and the physical address as the file position: with the
 * policy off, the bytes scullp keeps in a page are what read(2) and a
 * mapping of /dev/mem return at that page's physical address.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR, O_WRONLY, SEEK_END, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { EACCES, EFAULT, EINVAL, EPERM } from '../../src/include/errno.js'
import { MKDEV, S_IFCHR, new_encode_dev } from '../../src/fs/fs.js'
import { scullp_module } from '../../src/drivers/scullp/main.js'

const PG = 4096

function root(m: Machine): { p: Process; buf: number } {
  const p = m.spawn({ name: 'root', uid: 0 })
  return { p, buf: p.mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) }
}

describe('/dev/mem', () => {
  it('is major 1 minor 1, root only (0600); T-MEM-1: an unprivileged open is refused', () => {
    const m = boot()
    const n = m.fs.lookup('/dev/mem')!
    expect([n.i_rdev, n.i_mode.toString(8)]).toEqual([(1 << 20) | 1, '20600'])
    // the nodes of the reference machine keep their numbers (mem.ts: /dev/mem is made last)
    expect(['null', 'zero', 'full', 'mem'].map((d) => m.fs.lookup(`/dev/${d}`)!.i_ino)).toEqual([3, 4, 5, 6])
    const u = m.spawn({ name: 'user', uid: 1000 })
    // the node's mode answers first (may_open: 0600 root is EACCES for anybody else without CAP_DAC_OVERRIDE)
    expect(u.sys_open('/dev/mem', O_RDONLY)).toBe(-EACCES)
    // through a node anybody may open, open_mem's CAP_SYS_RAWIO check answers (S-J1)
    m.spawn({ name: 'root', uid: 0 }).mknod('/dev/mem_open', S_IFCHR | 0o666, new_encode_dev(MKDEV(1, 1)))
    expect(u.sys_open('/dev/mem_open', O_RDONLY)).toBe(-EPERM)
    u.exit(0)
  })

  it('T-MEM-2: RAM at or above 1 MiB: mmap EPERM, read EPERM; RAM below 1 MiB reads as zeros and swallows writes', () => {
    const m = boot()
    const { p, buf } = root(m)
    const fd = p.open('/dev/mem', O_RDWR)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0x200000)).toBe(-EPERM)
    p.lseek(fd, 0x200000, SEEK_SET)
    expect(p.sys_read(fd, buf, 16)).toBe(-EPERM)
    // pfn 1 is System RAM below 1 MiB: zeros whatever it holds
    m.physmem.write(0x1000, new Uint8Array([1, 2, 3, 4]))
    p.store(buf, new Uint8Array(16).fill(0x55))
    p.lseek(fd, 0x1000, SEEK_SET)
    expect(p.read(fd, buf, 16)).toBe(16)
    expect(p.load(buf, 16)).toEqual(new Uint8Array(16))
    p.lseek(fd, 0x1000, SEEK_SET)
    p.store(buf, new Uint8Array([9, 9, 9, 9]))
    expect(p.write(fd, buf, 4)).toBe(4)
    expect(m.physmem.read(0x1000, 4)).toEqual(new Uint8Array([1, 2, 3, 4]))
    // below 1 MiB, mmap is still allowed (current mem.c) and shows the real frame
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0x1000)
    expect(p.load(a, 4)).toEqual(new Uint8Array([1, 2, 3, 4]))
  })

  it('the legacy hole at 0xa0000 is not RAM: read, write and a shared mapping all reach the frame; maps shows the physical offset', () => {
    const m = boot()
    const { p, buf } = root(m)
    const fd = p.open('/dev/mem', O_RDWR)
    const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xa0000)
    p.store(buf, new TextEncoder().encode('VGA'))
    p.lseek(fd, 0xa0010, SEEK_SET)
    expect(p.write(fd, buf, 3)).toBe(3)
    expect(new TextDecoder().decode(p.load(a + 0x10, 3))).toBe('VGA')
    p.store(a + PG, new TextEncoder().encode('mapped'))
    expect(new TextDecoder().decode(m.physmem.read(0xa1000, 6))).toBe('mapped')
    const maps = m.proc(`/proc/${p.pid}/maps`)
    expect(maps).toMatch(new RegExp(`${a.toString(16)}-${(a + 2 * PG).toString(16)} rw-s 000a0000 00:06 6 +/dev/mem\\n`))
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps.slice(smaps.indexOf(a.toString(16)))).toMatch(/^VmFlags: rd wr sh mr mw me ms pf io de dd \n/m)
    expect(p.sys_mremap(a, 2 * PG, 3 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
  })

  it('S-J4: lseek SEEK_END is EINVAL; read past the direct map is EFAULT; a range past the physical address bits is EINVAL', () => {
    const m = boot()
    const { p, buf } = root(m)
    const fd = p.open('/dev/mem', O_RDWR)
    expect(p.sys_lseek(fd, 0, SEEK_END)).toBe(-EINVAL)
    p.lseek(fd, 64 * 1024 * 1024, SEEK_SET)
    expect(p.sys_read(fd, buf, 1)).toBe(-EFAULT)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 2n ** 63n)).toBe(-EINVAL)
    // an unsigned-offset file has no mmap ceiling of its own: the driver's checks answer
    expect(p.sys_mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 2n ** 64n - 4096n)).toBe(-EINVAL)
  })

  it('without STRICT_DEVMEM, the bytes scullp keeps in a page are read(2) and mapped at its physical address', () => {
    const m = boot({ ram: '128M', strict_devmem: false })
    const mod = scullp_module()
    m.insmod(mod)
    const { p, buf } = root(m)
    const w = p.open('/dev/scullp0', O_WRONLY)
    const data = new TextEncoder().encode('scullp bytes, seen through /dev/mem')
    p.store(buf, data)
    p.write(w, buf, data.length)
    const k = m.driver_kernel
    const page = k.read_ptr(mod.scullp!.devices[0].data)
    const pa = k.virt_to_phys(page)
    expect(pa % PG).toBe(0)
    const fd = p.open('/dev/mem', O_RDWR)
    p.lseek(fd, pa, SEEK_SET)
    expect(p.read(fd, buf + PG, data.length)).toBe(data.length)
    expect(p.load(buf + PG, data.length)).toEqual(data)
    const a = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pa)
    expect(p.load(a, data.length)).toEqual(data)
    p.store(a, new TextEncoder().encode('S'))
    expect(k.kernel_read(page, 1)).toEqual(new TextEncoder().encode('S'))
    // /dev/mem answers for its mappings with its policy: no checker finding
    expect(m.driver_check.findings).toEqual([])
  })

  it('S-J3/S-J6: under lockdown (integrity or confidentiality) root\'s open of /dev/mem and of simple\'s clones is EPERM, with the LSM\'s notice', () => {
    for (const level of ['integrity', 'confidentiality'] as const) {
      const m = boot({ lockdown: level })
      m.insmod('simple')
      const p = m.spawn({ name: 'devmem', uid: 0 })
      for (const node of ['/dev/mem', '/dev/simpler', '/dev/simplen']) expect(p.sys_open(node, O_RDONLY)).toBe(-EPERM)
      expect(m.dmesg()).toContain('Lockdown: devmem: /dev/mem,kmem,port is restricted; see man kernel_lockdown.7')
    }
    const m = boot({ lockdown: 'none' })
    expect(m.spawn({ name: 'devmem', uid: 0 }).sys_open('/dev/mem', O_RDONLY)).toBeGreaterThanOrEqual(0)
  })
})
