/**
 * Device numbers and cdevs (fs/char_dev.c): the region allocator's dynamic
 * majors in 6.18's order, overlaps, exact-match unregister, the cdev map,
 * chrdev_open's errors, and /proc/devices (SPEC §1, acceptance T-NUM-*, T-CDEV-1).
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import { MKDEV, MAJOR, MINOR, new_encode_dev, new_decode_dev, S_IFCHR } from '../../src/fs/fs.js'
import { ChrdevRegistry } from '../../src/fs/char_dev.js'
import { EACCES, EBUSY, EINVAL, ENXIO } from '../../src/include/errno.js'
import { O_RDONLY, O_RDWR, O_WRONLY } from '../../src/include/uapi/fcntl.js'
import { ErrnoError } from '../../src/user/errors.js'
import type { FileOperations } from '../../src/fs/fs.js'

/** A registry whose objects cost nothing (the machine's kmallocs them). */
function registry(): { reg: ChrdevRegistry; log: string[] } {
  const log: string[] = []
  let a = 0x1000
  return { reg: new ChrdevRegistry({ kzalloc: () => (a += 128), kfree: () => {}, pr_err: (t) => void log.push(t) }), log }
}

describe('dev_t', () => {
  it('packs 12-bit majors and 20-bit minors; the user encoding is new_encode_dev', () => {
    expect(MKDEV(254, 3)).toBe(254 * 2 ** 20 + 3)
    expect(MAJOR(MKDEV(511, 0xfffff))).toBe(511)
    expect(MINOR(MKDEV(511, 0xfffff))).toBe(0xfffff)
    // glibc makedev(1, 5) = 0x105; makedev(254, 0x12345) = 0x12345fe45... low byte of minor, major, high minor bits
    expect(new_encode_dev(MKDEV(1, 5))).toBe(0x105)
    expect(new_encode_dev(MKDEV(254, 0x12345))).toBe(0x45 | (254 << 8) | (0x12300 << 12))
    expect(new_decode_dev(new_encode_dev(MKDEV(300, 0xabcde)))).toBe(MKDEV(300, 0xabcde))
  })
})

describe('register_chrdev_region / alloc_chrdev_region', () => {
  it('T-NUM-1: dynamic majors 254, 253, ... down to 234, then 511..384', () => {
    const { reg } = registry()
    const majors: number[] = []
    for (let i = 0; i < 21 + 128; i++) {
      const dev = { value: 0 }
      expect(reg.alloc_chrdev_region(dev, 0, 1, `d${i}`)).toBe(0)
      majors.push(MAJOR(dev.value))
    }
    expect(majors.slice(0, 3)).toEqual([254, 253, 252])
    expect(majors[20]).toBe(234)
    expect(majors[21]).toBe(511)
    expect(majors[21 + 127]).toBe(384)
    const dev = { value: 0 }
    expect(reg.alloc_chrdev_region(dev, 0, 1, 'full')).toBe(-EBUSY)
  })

  it('T-NUM-1: /proc/devices lines "%3d %s" in major order', () => {
    const m = boot()
    const a = { value: 0 }
    const b = { value: 0 }
    expect(m.chrdevs.alloc_chrdev_region(a, 0, 4, 'a')).toBe(0)
    expect(m.chrdevs.alloc_chrdev_region(b, 0, 4, 'b')).toBe(0)
    expect([MAJOR(a.value), MAJOR(b.value)]).toEqual([254, 253])
    expect(m.proc('/proc/devices')).toBe('Character devices:\n  1 mem\n253 b\n254 a\n\nBlock devices:\n254 virtblk\n259 blkext\n')
  })

  it('the first pass looks at hash buckets: a major in 489..509 hides major - 255', () => {
    const { reg } = registry()
    expect(reg.register_chrdev_region(MKDEV(509, 0), 1, 'high')).toBe(0) // bucket 254
    const dev = { value: 0 }
    expect(reg.alloc_chrdev_region(dev, 0, 1, 'dyn')).toBe(0)
    expect(MAJOR(dev.value)).toBe(253)
  })

  it('T-NUM-2: an overlapping static region is EBUSY, a disjoint one on the same major is fine', () => {
    const { reg } = registry()
    const a = { value: 0 }
    reg.alloc_chrdev_region(a, 0, 4, 'a')
    expect(reg.register_chrdev_region(MKDEV(254, 0), 1, 'x')).toBe(-EBUSY)
    expect(reg.register_chrdev_region(MKDEV(254, 3), 2, 'x')).toBe(-EBUSY)
    expect(reg.register_chrdev_region(MKDEV(254, 4), 4, 'x')).toBe(0)
    expect(reg.chrdev_show()).toBe('254 a\n254 x\n')
  })

  it('T-NUM-3: unregister with the wrong count leaves the region; re-register is EBUSY', () => {
    const { reg } = registry()
    expect(reg.register_chrdev_region(MKDEV(240, 0), 4, 'drv')).toBe(0)
    reg.unregister_chrdev_region(MKDEV(240, 0), 3)
    expect(reg.chrdev_show()).toBe('240 drv\n')
    expect(reg.register_chrdev_region(MKDEV(240, 0), 4, 'drv')).toBe(-EBUSY)
    reg.unregister_chrdev_region(MKDEV(240, 0), 4)
    expect(reg.chrdev_show()).toBe('')
  })

  it('T-NUM-4: major 512 and a minor range past 2^20 are EINVAL, with the kernel\'s messages', () => {
    const { reg, log } = registry()
    expect(reg.register_chrdev_region(MKDEV(512, 0), 1, 'big')).toBe(-EINVAL)
    expect(reg.__register_chrdev_region(10, 0xfffff, 2, 'wide')).toBe(-EINVAL)
    expect(log).toEqual([
      'CHRDEV "big" major requested (512) is greater than the maximum (511)',
      'CHRDEV "wide" minor range requested (1048575-1048576) is out of range of maximum range (0-1048575) for a single major',
    ])
  })

  it('a range across majors is split per major, and rolled back when a piece fails', () => {
    const { reg } = registry()
    expect(reg.register_chrdev_region(MKDEV(101, 0xffffe), 4, 'span')).toBe(0)
    expect(reg.regions(101).map((r) => [r.baseminor, r.minorct])).toEqual([[0xffffe, 2]])
    expect(reg.regions(102).map((r) => [r.baseminor, r.minorct])).toEqual([[0, 2]])
    expect(reg.register_chrdev_region(MKDEV(201, 0), 1, 'block')).toBe(0)
    expect(reg.register_chrdev_region(MKDEV(200, 0xfffff), 2, 'half')).toBe(-EBUSY)
    expect(reg.regions(200)).toEqual([])
  })

  it('register_chrdev with major 0 returns the major; names are cut to 63 characters', () => {
    const { reg } = registry()
    const fops: FileOperations = {}
    expect(reg.register_chrdev(0, 'x'.repeat(70), fops)).toBe(254)
    expect(reg.register_chrdev(10, 'misc', fops)).toBe(0)
    expect(reg.chrdev_show()).toBe(` 10 misc\n254 ${'x'.repeat(63)}\n`)
    expect(reg.kobj_lookup(MKDEV(254, 255))).not.toBeNull()
    expect(reg.kobj_lookup(MKDEV(254, 256))).toBeNull()
    reg.unregister_chrdev(254, 'x')
    expect(reg.kobj_lookup(MKDEV(254, 0))).toBeNull()
  })
})

describe('cdev and chrdev_open', () => {
  it('T-CDEV-1: a node with no cdev is ENXIO; after cdev_del the open file still reads, a new open is ENXIO', () => {
    const m = boot()
    const p = m.spawn({ name: 'opener' })
    p.mknod('/dev/nodrv', S_IFCHR | 0o666, new_encode_dev(MKDEV(240, 0)))
    expect(p.sys_open('/dev/nodrv', O_RDONLY)).toBe(-ENXIO)
    expect(m.chrdevs.register_chrdev_region(MKDEV(240, 0), 1, 'one')).toBe(0)
    const reads: number[] = []
    const cdev = m.chrdevs.cdev_init({ read: (_f, _b, n) => (reads.push(n), 0) })
    expect(m.chrdevs.cdev_add(cdev, MKDEV(240, 0), 1)).toBe(0)
    const fd = p.open('/dev/nodrv', O_RDWR)
    const buf = p.mmap(0, 4096, 3, 0x22)
    m.chrdevs.cdev_del(cdev)
    expect(p.read(fd, buf, 7)).toBe(0)
    expect(reads).toEqual([7])
    expect(p.sys_open('/dev/nodrv', O_RDONLY)).toBe(-ENXIO)
    p.close(fd)
    m.chrdevs.unregister_chrdev_region(MKDEV(240, 0), 1)
  })

  it('mknod needs CAP_MKNOD and refuses an existing path', () => {
    const m = boot()
    const user = m.spawn({ name: 'user', uid: 1000 })
    expect(() => user.mknod('/dev/x', S_IFCHR | 0o600, 0x105)).toThrow(ErrnoError)
    expect(user.sys_mknod('/dev/x', S_IFCHR | 0o600, 0x105)).toBe(-1)
    const root = m.spawn({ name: 'root' })
    expect(root.sys_mknod('/dev/zero', S_IFCHR | 0o666, 0x105)).toBe(-17)
    root.mknod('/tmp/myzero', S_IFCHR | 0o666, 0x105)
    const fd = root.open('/tmp/myzero', O_RDONLY)
    const a = root.mmap(0, 4096, 3, 0x22)
    root.store(a, [1, 2, 3])
    expect(root.read(fd, a, 3)).toBe(3)
    expect([...root.load(a, 3)]).toEqual([0, 0, 0])
  })

  it('node modes: mknod keeps the mode and the maker as owner; open checks owner, group and other bits (EACCES); CAP_DAC_OVERRIDE passes', () => {
    const m = boot()
    const root = m.spawn({ name: 'root' })
    root.mknod('/dev/zero0660', S_IFCHR | 0o660, 0x105)
    const n = m.fs.lookup('/dev/zero0660')!
    expect([n.i_mode.toString(8), n.i_uid, n.i_gid]).toEqual(['20660', 0, 0])
    const other = m.spawn({ name: 'other', uid: 1000 })
    expect(other.sys_open('/dev/zero0660', O_RDONLY)).toBe(-EACCES)
    const member = m.spawn({ name: 'member', uid: 1000, gid: 0 })
    expect(member.sys_open('/dev/zero0660', O_RDWR)).toBeGreaterThanOrEqual(0)
    expect(root.sys_open('/dev/zero0660', O_RDWR)).toBeGreaterThanOrEqual(0)
    // LDD3's load script: 0664, group staff (50): the group writes, others only read
    m.insmod('scull')
    const s = m.fs.lookup('/dev/scull0')!
    expect([s.i_mode.toString(8), s.i_uid, s.i_gid]).toEqual(['20664', 0, 50])
    expect(other.sys_open('/dev/scull0', O_RDONLY)).toBeGreaterThanOrEqual(0)
    expect(other.sys_open('/dev/scull0', O_WRONLY)).toBe(-EACCES)
    expect(m.spawn({ name: 'staff', uid: 1000, gid: 50 }).sys_open('/dev/scull0', O_RDWR)).toBeGreaterThanOrEqual(0)
    // the built-in nodes: /dev/null and /dev/zero 0666, /dev/mem 0600
    expect(other.sys_open('/dev/null', O_RDWR)).toBeGreaterThanOrEqual(0)
    expect(other.sys_open('/dev/mem', O_RDONLY)).toBe(-EACCES)
  })
})
