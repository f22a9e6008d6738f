/**
 * simple (SPEC §5; SECURITY.md S-A1, S-J6): /dev/simpler maps the whole
 * VMA with remap_pfn_range from the physical frame vm_pgoff names,
 * /dev/simplen maps it page by page from a fault handler; both are gated
 * like /dev/mem (CAP_SYS_RAWIO, STRICT_DEVMEM's page policy), and both show
 * the same physical frame /dev/mem shows.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { scullp_module } from '../../src/drivers/scullp/main.js'
import { O_RDWR, O_WRONLY } from '../../src/include/uapi/fcntl.js'
import { EACCES, EFAULT, EPERM } from '../../src/include/errno.js'
import { MKDEV, S_IFCHR, new_encode_dev } from '../../src/fs/fs.js'
import { SignalError } from '../../src/user/errors.js'

const PG = 4096

describe('simple', () => {
  it('registers "simple" with simpler (minor 0) and simplen (minor 1); an unprivileged open is EACCES (0600), EPERM through a 0666 node', () => {
    const m = boot()
    m.insmod('simple')
    expect(m.proc('/proc/devices')).toContain('\n254 simple\n')
    const u = m.spawn({ name: 'user', uid: 1000 })
    expect(u.sys_open('/dev/simpler', O_RDWR)).toBe(-EACCES)
    expect(u.sys_open('/dev/simplen', O_RDWR)).toBe(-EACCES)
    // a node anybody may open (the book's 0664 to a group, or worse): the driver's CAP_SYS_RAWIO check answers
    const root = m.spawn({ name: 'root', uid: 0 })
    root.mknod('/dev/simpler_open', S_IFCHR | 0o666, new_encode_dev(MKDEV(254, 0)))
    expect(u.sys_open('/dev/simpler_open', O_RDWR)).toBe(-EPERM)
  })

  it('simpler: remap of the 0xa0000 hole; the bytes are /dev/mem\'s; the VMA cannot grow (T-MM-7); open/close are logged', () => {
    const m = boot()
    m.insmod('simple')
    const p = m.spawn({ name: 'root', uid: 0 })
    const fd = p.open('/dev/simpler', O_RDWR)
    const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0xa0000)
    expect(m.dmesg()).toContain(`Simple VMA open, virt ${a.toString(16)}, phys a0000`)
    p.store(a + 8, new TextEncoder().encode('remapped'))
    expect(new TextDecoder().decode(m.physmem.read(0xa0008, 8))).toBe('remapped')
    const mem = p.open('/dev/mem', O_RDWR)
    const b = p.mmap(0, PG, PROT_READ, MAP_SHARED, mem, 0xa0000)
    expect(new TextDecoder().decode(p.load(b + 8, 8))).toBe('remapped')
    expect(p.sys_mremap(a, 2 * PG, 3 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    // System RAM above 1 MiB is refused as /dev/mem refuses it (S-A1 for the book's driver)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0x400000)).toBe(-EPERM)
    p.munmap(a, 2 * PG)
    expect(m.dmesg()).toContain(`Simple VMA close, virt ${a.toString(16)}, phys a0000`)
    expect(m.driver_check.findings).toEqual([])
  })

  it('S-D4/S-J6: simplen: RAM the policy refuses is SIGBUS; without STRICT_DEVMEM a page scullp holds maps, page by page, with its bytes', () => {
    const strict = boot()
    strict.insmod('simple')
    const q = strict.spawn({ name: 'root', uid: 0 })
    const r = q.mmap(0, PG, PROT_READ, MAP_SHARED, q.open('/dev/simplen', O_RDWR), 0x400000)
    q.sigaction(7, () => {})
    expect(() => q.load(r, 1)).toThrow(SignalError)

    const m = boot({ ram: '128M', strict_devmem: false })
    const sp = scullp_module()
    m.insmod(sp)
    m.insmod('simple')
    const p = m.spawn({ name: 'root', uid: 0 })
    const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(buf, new TextEncoder().encode('scullp page'))
    p.write(p.open('/dev/scullp0', O_WRONLY), buf, 11)
    const k = m.driver_kernel
    const pfn = k.virt_to_pfn(k.read_ptr(sp.scullp!.devices[0].data))
    const before = k.page_count(pfn)
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/simplen', O_RDWR), pfn * PG)
    expect(new TextDecoder().decode(p.load(a, 11))).toBe('scullp page')
    expect(k.page_count(pfn)).toBe(before + 1)
    p.munmap(a, PG)
    expect(k.page_count(pfn)).toBe(before)
    // simple maps physical memory by design (declare_raw_physical): no ownership finding
    expect(m.driver_check.findings).toEqual([])
  })
})
