/**
 * The VFS of a machine (src/fs): the mount table and path lookup, inodes
 * on their super block, struct file with its own position, the descriptor
 * table, and read(2)/write(2)/lseek(2) through file_operations.
 */
import { describe, expect, it } from 'vitest'
import {
  Machine, ErrnoError, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, PROT_READ, PROT_WRITE,
  O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET, RLIMIT_NOFILE, POSIX_FADV_DONTNEED,
} from '../../src/index.js'
import { FsNamespace } from '../../src/fs/namei.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS

function boot() {
  const m = new Machine({ ram: '64M', debug_vm: true })
  const p = m.spawn({ name: 'io' })
  const buf = p.mmap(0, 4 * 4096, RW, ANON)
  return { m, p, buf }
}

describe('VFS', () => {
  it('resolves a path by its longest mount point', () => {
    const m = new Machine({ ram: '32M' })
    const ns = new FsNamespace(m.mm_env)
    expect(ns.lookup_mnt('/dev/shm/x').mnt_sb.s_type.name).toBe('tmpfs')
    expect(ns.lookup_mnt('/tmp/a/b').mnt_sb.s_type.name).toBe('tmpfs')
    expect(ns.lookup_mnt('/tmpfoo').mnt_sb.s_type.name).toBe('ext4')
    expect(ns.lookup_mnt('/var/tmp/f').mnt_sb.s_type.name).toBe('ext4')
    // one tmpfs instance behind every tmpfs mount point
    expect(ns.lookup_mnt('/run/x').mnt_sb).toBe(ns.lookup_mnt('/dev/shm/x').mnt_sb)
  })

  it('read(2) and write(2) move the file position; lseek(2) sets it; O_APPEND writes at EOF', () => {
    const { m, p, buf } = boot()
    const fd = p.open('/var/tmp/f', O_CREAT | O_RDWR)
    p.store(buf, [1, 2, 3, 4, 5, 6])
    expect(p.write(fd, buf, 6)).toBe(6)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(6)
    expect(p.lseek(fd, 2, SEEK_SET)).toBe(2)
    expect(p.read(fd, buf + 4096, 10)).toBe(4) // short at EOF
    expect([...p.load(buf + 4096, 4)]).toEqual([3, 4, 5, 6])
    expect(p.read(fd, buf + 4096, 10)).toBe(0)
    expect(p.lseek(fd, -1, SEEK_END)).toBe(5)
    expect(() => p.lseek(fd, -7, SEEK_END)).toThrow(expect.objectContaining({ code: 'EINVAL' }))
    expect(() => p.lseek(fd, 0, 3)).toThrow(expect.objectContaining({ code: 'EINVAL' }))
    // a seek past EOF is allowed; the write there leaves a hole of zeros
    expect(p.lseek(fd, 8192, SEEK_SET)).toBe(8192)
    expect(p.write(fd, buf, 1)).toBe(1)
    expect([...p.pread(fd, 3, 8190)]).toEqual([0, 0, 1])
    const ap = p.open('/var/tmp/f', O_WRONLY | O_APPEND)
    expect(p.write(ap, buf + 1, 2)).toBe(2)
    expect(p.lseek(ap, 0, SEEK_CUR)).toBe(8195)
    expect([...p.pread(fd, 2, 8193)]).toEqual([2, 3])
    m.check()
  })

  it('checks the mode before the operation: EBADF for a read of a write-only file and the reverse', () => {
    const { p, buf } = boot()
    const w = p.open('/tmp/w', O_CREAT | O_WRONLY)
    const r = p.open('/tmp/w', O_RDONLY)
    expect(p.sys_read(w, buf, 1)).toBe(-9)
    expect(p.sys_write(r, buf, 1)).toBe(-9)
    expect(p.sys_read(99, buf, 1)).toBe(-9)
    expect(p.sys_lseek(99, 0, SEEK_SET)).toBe(-9)
  })

  it('pread into a caller\'s buffer reads what a fresh buffer gets, short at EOF, and leaves the cache the same', () => {
    for (const path of ['/var/tmp/f', '/tmp/f']) {
      const run = (reuse: boolean) => {
        const m = new Machine({ ram: '64M', debug_vm: true })
        const p = m.spawn({ name: 'io' })
        const fd = p.open(path, O_CREAT | O_RDWR)
        p.pwrite(fd, Uint8Array.from({ length: 3 * 4096 + 100 }, (_, i) => (i * 7) & 0xff), 0)
        p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) // the reads below fill the cache again (ext4)
        const into = new Uint8Array(2 * 4096).fill(0xee)
        const got = [0, 8192, 12288, 20000].map((off) => {
          const r = p.sys_pread(fd, 8192, off, reuse ? into : undefined)
          if (typeof r === 'number') return r
          if (reuse) expect(r.buffer).toBe(into.buffer)
          return [...r]
        })
        return { got, meminfo: m.proc('/proc/meminfo'), vmstat: m.proc('/proc/vmstat') }
      }
      const fresh = run(false)
      expect(fresh.got.map((r) => (typeof r === 'number' ? r : r.length))).toEqual([8192, 4196, 100, 0])
      expect(run(true)).toEqual(fresh)
    }
  })

  it('a read into an unmapped buffer is EFAULT and leaves the position', () => {
    const { p, buf } = boot()
    const fd = p.open('/tmp/f', O_CREAT | O_RDWR)
    p.store(buf, [7, 7, 7])
    p.write(fd, buf, 3)
    p.lseek(fd, 0, SEEK_SET)
    p.munmap(buf + 4096, 4096)
    expect(p.sys_read(fd, buf + 4096, 3)).toBe(-14)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(0)
  })

  it('fork shares open file descriptions: the child moves the parent\'s position', () => {
    const { m, p, buf } = boot()
    const fd = p.open('/tmp/shared', O_CREAT | O_RDWR)
    const c = p.fork()
    c.store(buf, [9, 9])
    expect(c.write(fd, buf, 2)).toBe(2)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(2)
    c.close(fd)
    expect(p.lseek(fd, 0, SEEK_CUR)).toBe(2) // the parent's descriptor still holds the file
    c.exit(0)
    c.wait()
    m.check()
  })

  it('hands out the lowest free descriptor from 3, EMFILE at RLIMIT_NOFILE, EBADF for a closed one', () => {
    const { p } = boot()
    const a = p.open('/tmp/a', O_CREAT | O_RDWR)
    const b = p.open('/tmp/b', O_CREAT | O_RDWR)
    expect([a, b]).toEqual([3, 4])
    p.close(a)
    expect(p.open('/tmp/b', O_RDONLY)).toBe(3)
    expect(() => p.close(a + 10)).toThrow(ErrnoError)
    p.setrlimit(RLIMIT_NOFILE, { cur: 5, max: 5 })
    expect(p.sys_open('/tmp/c', O_CREAT | O_RDWR)).toBe(-24)
  })

  it('maps show the inode: device of its super block, inode numbers in creation order', () => {
    const { m, p } = boot()
    const f1 = p.open('/dev/shm/one', O_CREAT | O_RDWR)
    const f2 = p.open('/var/tmp/two', O_CREAT | O_RDWR)
    p.ftruncate(f1, 4096)
    p.ftruncate(f2, 4096)
    const a = p.mmap(0, 4096, PROT_READ, MAP_SHARED, f1, 0)
    const b = p.mmap(0, 4096, PROT_READ, MAP_SHARED, f2, 0)
    const maps = m.proc(`/proc/${p.pid}/maps`).split('\n')
    const line = (addr: number) => maps.find((l) => l.startsWith(addr.toString(16).padStart(12, '0')))?.split(/\s+/)
    const la = line(a)!
    const lb = line(b)!
    expect([la[3], la[5]]).toEqual(['00:19', '/dev/shm/one'])
    expect([lb[3], lb[5]]).toEqual(['fe:00', '/var/tmp/two'])
    expect(Number(lb[4])).toBe(Number(la[4]) + 1)
  })
})
