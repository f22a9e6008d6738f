import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  ENOSPC, EINVAL, EOPNOTSUPP, EBADF, ENODEV, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_NO_HIDE_STALE,
  MAP_ANONYMOUS, MAP_SHARED, O_CREAT, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE, SignalError, type Machine,
} from '../../src/index.js'
import { boot } from '../helpers.js'
import { readFileSync } from 'node:fs'
import { errno_name } from '../../src/index.js'

const MiB = 1 << 20
const meminfo = (m: Machine, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(m.proc('/proc/meminfo'))![1])
/** shmem_default_max_blocks(): totalram_pages() / 2. */
const max_blocks = (m: Machine): number => Math.floor(meminfo(m, 'MemTotal') / 4 / 2)

describe('tmpfs size: half of RAM, ENOSPC past it', () => {
  it('a 400 MiB write into /dev/shm on a 256 MiB machine stops at totalram/2 pages with ENOSPC', () => {
    const m = boot({ ram: '256M' })
    const p = m.spawn({ name: 'w' })
    const fd = p.open('/dev/shm/big', O_CREAT | O_RDWR)
    const chunk = new Uint8Array(MiB).fill(0x5a)
    const limit = max_blocks(m) * 4096
    let written = 0
    let err = 0
    m.deferred_check(() => {
      for (let i = 0; i < 400 && !err; i++) {
        const r = p.sys_pwrite(fd, chunk, written)
        if (r < 0) err = r
        else written += r
      }
    })
    expect(err).toBe(-ENOSPC)
    expect(written).toBe(limit)
    // The machine still has memory: the tmpfs did not eat it.
    expect(meminfo(m, 'MemFree')).toBeGreaterThan(64 * 1024)
    expect(meminfo(m, 'Shmem')).toBe(limit / 1024)
    // write(2) from user memory: the same ENOSPC
    const buf = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    p.store(buf, [1, 2, 3])
    expect(p.sys_pwrite_user(fd, buf, 4096, written)).toBe(-ENOSPC)
    // df: statfs shows the instance full
    const st = p.statfs('/dev/shm/big')
    expect(st).toMatchObject({ f_type: 0x01021994, f_bsize: 4096, f_blocks: max_blocks(m), f_bfree: 0, f_bavail: 0, f_namelen: 255 })
    expect(st.f_files - st.f_ffree).toBe(2) // the root and big
    // Truncating gives the blocks back.
    p.ftruncate(fd, 0)
    expect(p.pwrite(fd, chunk, 0)).toBe(MiB)
  })

  it('a short write when the limit falls inside it', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    const fd = p.open('/tmp/f', O_CREAT | O_RDWR)
    const limit = max_blocks(m) * 4096
    const big = new Uint8Array(limit + 3 * 4096)
    expect(p.pwrite(fd, big, 0)).toBe(limit)
    expect(p.sys_pwrite(fd, big.subarray(0, 1), limit)).toBe(-ENOSPC)
    // Writing into pages already there needs no block.
    expect(p.pwrite(fd, [7, 7, 7], 100)).toBe(3)
  })

  it('a shared mapping faulting past the limit gets SIGBUS (shmem_fault); MAP_SHARED|MAP_ANONYMOUS has no limit', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    const fd = p.open('/dev/shm/m', O_CREAT | O_RDWR)
    const pages = max_blocks(m)
    p.ftruncate(fd, (pages + 4) * 4096)
    const a = p.mmap(0, (pages + 4) * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    m.deferred_check(() => {
      for (let i = 0; i < pages; i++) p.store(a + i * 4096, [i & 0xff])
    })
    let sig: unknown = null
    try {
      p.store(a + pages * 4096, [1])
    } catch (e) {
      sig = e
    }
    expect(sig).toBeInstanceOf(SignalError)
    expect((sig as SignalError).signal).toBe('SIGBUS')
    // Internal shmem (shm_mnt) is not on the tmpfs instance.
    const q = m.spawn({ name: 'anon' })
    const fd2 = q.open('/dev/shm/other', O_CREAT | O_RDWR)
    expect(q.sys_pwrite(fd2, new Uint8Array(1), 0)).toBe(-ENOSPC)
    const b = q.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)
    q.store(b + 7 * 4096, [9])
    expect(q.load(b + 7 * 4096, 1)[0]).toBe(9)
  })
})

describe('tmpfs inodes: as many as half of RAM in pages', () => {
  it('creating a file past max_inodes is ENOSPC; statfs counts them', () => {
    const m = boot({ ram: '32M' })
    const p = m.spawn({ name: 'c' })
    const st = p.statfs('/tmp')
    expect(st.f_files).toBe(max_blocks(m))
    expect(st.f_ffree).toBe(st.f_files - 1) // the root directory
    let made = 0
    let err = 0
    m.deferred_check(() => {
      for (; !err; made++) {
        const fd = p.sys_open(`/tmp/f${made}`, O_CREAT | O_RDWR, 0o600)
        if (fd < 0) err = fd
        else p.close(fd)
      }
    })
    expect(err).toBe(-ENOSPC)
    expect(made - 1).toBe(st.f_ffree)
    expect(p.statfs('/dev/shm').f_ffree).toBe(0)
    // an existing file still opens
    p.close(p.open('/tmp/f0', O_RDWR))
  })
})

describe('fallocate(2)', () => {
  it('tmpfs: allocates zeroed pages and grows i_size; KEEP_SIZE does not; ENOSPC for a range past the size, undone', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'f' })
    const fd = p.open('/dev/shm/fa', O_CREAT | O_RDWR)
    const shmem0 = meminfo(m, 'Shmem')
    p.fallocate(fd, 0, 4096, 3 * 4096 + 1)
    expect(p.lseek(fd, 0, 2)).toBe(4 * 4096 + 1)
    expect(meminfo(m, 'Shmem') - shmem0).toBe(4 * 4)
    p.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16 * 4096)
    expect(p.lseek(fd, 0, 2)).toBe(4 * 4096 + 1)
    expect(meminfo(m, 'Shmem') - shmem0).toBe(16 * 4)
    expect(p.pread(fd, 8, 4096)).toEqual(new Uint8Array(8))
    const pages = max_blocks(m)
    // larger than the whole instance: at once
    expect(p.sys_fallocate(fd, 0, 0, (pages + 1) * 4096)).toBe(-ENOSPC)
    // fits the instance but not what is left: the pages it took are given back
    expect(p.sys_fallocate(fd, 0, 16 * 4096, pages * 4096 - 8 * 4096)).toBe(-ENOSPC)
    expect(meminfo(m, 'Shmem') - shmem0).toBe(16 * 4)
    expect(p.lseek(fd, 0, 2)).toBe(4 * 4096 + 1)
  })

  it('punching a hole drops whole pages and zeroes the edges (tmpfs and ext4)', () => {
    for (const path of ['/dev/shm/h', '/data/h']) {
      const m = boot()
      const p = m.spawn({ name: 'h' })
      const fd = p.open(path, O_CREAT | O_RDWR)
      const data = new Uint8Array(4 * 4096).fill(0xee)
      p.pwrite(fd, data, 0)
      p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 2 * 4096)
      const back = p.pread(fd, 4 * 4096, 0)
      const want = data.slice()
      want.fill(0, 100, 100 + 2 * 4096)
      expect(back).toEqual(want)
      expect(p.lseek(fd, 0, 2)).toBe(4 * 4096)
    }
  })

  it('ext4: allocating grows i_size with zeros and no page cache', () => {
    const m = boot()
    const p = m.spawn({ name: 'e' })
    const fd = p.open('/data/e', O_CREAT | O_RDWR)
    const cached = meminfo(m, 'Cached')
    p.fallocate(fd, 0, 0, 1 << 20)
    expect(meminfo(m, 'Cached')).toBe(cached)
    expect(p.lseek(fd, 0, 2)).toBe(1 << 20)
    expect(p.pread(fd, 16, 4096)).toEqual(new Uint8Array(16))
  })

  it('errno in vfs_fallocate()\'s order', () => {
    const m = boot()
    const p = m.spawn({ name: 'e' })
    const fd = p.open('/dev/shm/e', O_CREAT | O_RDWR)
    const ro = p.open('/dev/shm/e', O_RDONLY)
    expect(p.sys_fallocate(99, 0, 0, 1)).toBe(-EBADF)
    expect(p.sys_fallocate(fd, 0, -1, 1)).toBe(-EINVAL)
    expect(p.sys_fallocate(fd, 0, 0, 0)).toBe(-EINVAL)
    expect(p.sys_fallocate(ro, 0, 0, -1)).toBe(-EINVAL)
    expect(p.sys_fallocate(fd, 0x100, 0, 1)).toBe(-EOPNOTSUPP)
    expect(p.sys_fallocate(fd, FALLOC_FL_NO_HIDE_STALE, 0, 1)).toBe(-EOPNOTSUPP)
    expect(p.sys_fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1)).toBe(-EOPNOTSUPP)
    expect(p.sys_fallocate(fd, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 1)).toBe(-EOPNOTSUPP)
    expect(p.sys_fallocate(ro, 0, 0, 1)).toBe(-EBADF)
    // tmpfs has no collapse
    expect(p.sys_fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096)).toBe(-EOPNOTSUPP)
    const z = p.open('/dev/zero', O_RDWR)
    expect(p.sys_fallocate(z, 0, 0, 1)).toBe(-ENODEV)
  })

  it('property: tmpfs blocks in use always equal the cached pages, and never pass the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('write', 'falloc', 'punch', 'trunc'), fc.integer({ min: 0, max: 9000 }), fc.integer({ min: 1, max: 9000 })), { maxLength: 12 }),
        (ops) => {
          const m = boot({ ram: '64M' })
          const p = m.spawn({ name: 'p' })
          const fds = [p.open('/dev/shm/a', O_CREAT | O_RDWR), p.open('/tmp/b', O_CREAT | O_RDWR)]
          const limit = max_blocks(m)
          const shmem0 = meminfo(m, 'Shmem')
          m.deferred_check(() => {
            ops.forEach(([op, a, b], i) => {
              const fd = fds[i % 2]
              const off = a * 4096 + (b % 4096)
              if (op === 'write') p.sys_pwrite(fd, new Uint8Array(b * 8), off)
              else if (op === 'falloc') p.sys_fallocate(fd, b & 1 ? FALLOC_FL_KEEP_SIZE : 0, off, b * 4096)
              else if (op === 'punch') p.sys_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, b * 4096)
              else p.sys_ftruncate(fd, off)
            })
          })
          const used = (meminfo(m, 'Shmem') - shmem0) / 4
          expect(used).toBeLessThanOrEqual(limit)
          const st = p.statfs('/dev/shm')
          expect(st.f_blocks - st.f_bfree).toBe(used)
        },
      ),
      { numRuns: 15 },
    )
  })
})

describe('a tmpfs filling up, as test/fixtures/probes/tmpfs_full.c saw it on Linux 6.18.44', () => {
  it('prints the probe\'s lines (sizes relative to f_blocks)', () => {
    const m = boot({ ram: '32M' })
    const p = m.spawn({ name: 'tmpfs_full' })
    const out: string[] = []
    let blocks = 0
    const rel = (n: number): string => (n === 0 ? '0' : n === blocks ? 'blocks' : n === Math.floor(blocks / 2) ? 'blocks/2' : n < blocks && n > blocks - 8 ? `blocks-${blocks - n}` : `${n}`)
    const st = (label: string): void => {
      const s = p.statfs('/dev/shm')
      blocks = s.f_blocks
      out.push(`${label}: type=0x${s.f_type.toString(16)} bsize=${s.f_bsize} used=${rel(s.f_blocks - s.f_bfree)} free=${rel(s.f_bfree)}`)
    }
    const rc = (what: string, r: number): void => {
      out.push(r < 0 ? `${what}: -1 ${errno_name(-r)}` : `${what}: ${r}`)
    }
    const PG = 4096
    m.deferred_check(() => {
      st('empty')
      const a = p.open('/dev/shm/a', O_CREAT | O_RDWR, 0o600)
      rc('fallocate blocks+1 pages', p.sys_fallocate(a, 0, 0, (blocks + 1) * PG))
      rc('fallocate blocks-2 pages', p.sys_fallocate(a, 0, 0, (blocks - 2) * PG))
      st('after fallocate')
      rc('fallocate 4 more pages (2 fit)', p.sys_fallocate(a, 0, (blocks - 2) * PG, 4 * PG))
      st('after failed fallocate')
      rc('ftruncate 0', p.sys_ftruncate(a, 0))
      const w = p.sys_pwrite(a, new Uint8Array((blocks + 3) * PG).fill(0x78), 0)
      out.push(`pwrite blocks+3 pages: ${w === blocks * PG ? 'blocks pages' : 'other'}`)
      rc('pwrite 1 more byte', p.sys_pwrite(a, new Uint8Array(1), w))
      rc('pwrite into a page already there', p.sys_pwrite(a, new Uint8Array(10), 0))
      st('full')
      rc('ftruncate to half', p.sys_ftruncate(a, Math.floor(blocks / 2) * PG))
      st('half')
      const mf = p.open('/dev/shm/m', O_CREAT | O_RDWR, 0o600)
      rc('ftruncate m to blocks pages', p.sys_ftruncate(mf, blocks * PG))
      const addr = p.mmap(0, blocks * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mf, 0)
      p.sigaction(7, () => {})
      let i = 0
      let sig = 'none'
      for (; i < blocks; i++) {
        const r = p.try_access(addr + i * PG, 1, true, new Uint8Array([1]))
        if (r.fault) {
          sig = r.fault.signal === 7 ? 'SIGBUS' : 'other'
          break
        }
      }
      out.push(`stores into m: ${i === blocks - Math.floor(blocks / 2) ? 'blocks/2 pages' : 'other'}, signal ${sig}`)
      st('after stores')
    })
    const recorded = readFileSync(new URL('../fixtures/probes/tmpfs_full.txt', import.meta.url), 'utf8')
    expect(out).toEqual(recorded.trimEnd().split('\n'))
  })
})
