/**
 * vm.drop_caches (src/fs/drop_caches.ts): 1 drops exactly the clean,
 * unmapped page cache and keeps dirty, mapped and tmpfs pages with their
 * data; 2 frees the xarray nodes that hold only shadow entries; the log
 * line, the /proc/vmstat counts, the 1..4 range and the write-only mode are
 * Linux's; and no sequence of file operations followed by drop_caches
 * loses a byte or breaks an invariant.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Machine, POSIX_FADV_DONTNEED, ErrnoError } from '../../src/index.js'
import { O_CREAT, O_RDWR } from '../../src/user/process.js'
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { XA_CHUNK_SHIFT } from '../../src/mm/xarray.js'

const kb = (m: Machine, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(m.proc('/proc/meminfo'))![1])
const vm = (m: Machine, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(m.proc('/proc/vmstat'))![1])

describe('vm.drop_caches', () => {
  it('1 drops the clean unmapped page cache only; dirty, mapped and tmpfs pages stay with their data', () => {
    const m = new Machine({ ram: '256M', seed: 1, debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const clean = p.open('/var/tmp/clean', O_CREAT | O_RDWR)
    p.pwrite(clean, new Uint8Array(8 << 20).fill(7), 0)
    expect(p.sys_fsync(clean)).toBe(0)
    const dirty = p.open('/var/tmp/dirty', O_CREAT | O_RDWR)
    p.pwrite(dirty, new Uint8Array(1 << 20).fill(1), 0)
    const mapped = p.open('/var/tmp/mapped', O_CREAT | O_RDWR)
    p.pwrite(mapped, new Uint8Array(1 << 20).fill(2), 0)
    expect(p.sys_fsync(mapped)).toBe(0)
    const a = p.mmap(0, 1 << 20, PROT_READ, MAP_SHARED, mapped, 0)
    for (let i = 0; i < 256; i++) p.load(a + i * 4096, 1)
    const shm = p.open('/dev/shm/s', O_CREAT | O_RDWR)
    p.ftruncate(shm, 65536)
    const b = p.mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0)
    p.store(b + 4096, new Uint8Array([9, 9, 9]))
    p.munmap(b, 65536)
    const [cached, dirty_kb] = [kb(m, 'Cached'), kb(m, 'Dirty')]
    m.proc_write('/proc/sys/vm/drop_caches', '1\n', p)
    expect(kb(m, 'Cached')).toBe(cached - 8192) // the clean file's 2048 pages, nothing else
    expect(kb(m, 'Dirty')).toBe(dirty_kb)
    expect(vm(m, 'drop_pagecache')).toBe(1)
    expect(vm(m, 'drop_slab')).toBe(0)
    expect(Array.from(p.pread(shm, 3, 4096))).toEqual([9, 9, 9])
    expect(Array.from(p.pread(dirty, 2, 4096))).toEqual([1, 1])
    expect(Array.from(p.pread(clean, 2, 4096))).toEqual([7, 7]) // read back from the disk
    expect(m.dmesg()).toMatch(/^\[ *\d+\.\d{6}\] app \(100\): drop_caches: 1$/m)
  })

  it('2 frees the page-cache xarray nodes holding only shadow entries (the shadow-node shrinker)', () => {
    const m = new Machine({ ram: '256M', seed: 1, debug_vm: true })
    const g = m.cgroup_create('box', { limit: '1M' })
    const p = m.spawn()
    g.attach(p)
    const fd = p.open('/var/tmp/data', O_CREAT | O_RDWR)
    p.pwrite(fd, new Uint8Array(4 << 20), 0)
    p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    for (let i = 0; i < 1024; i++) p.pread(fd, 4096, i * 4096) // reads past the limit leave shadows
    const mapping = [...m.mm_env.mappings.values()].find((x) => x.i_shadows.size > 0)!
    const leaf = (i: number): number => Math.floor(i / 2 ** XA_CHUNK_SHIFT)
    const busy = new Set([...mapping.i_pages.keys(), ...mapping.i_swap.keys()].map(leaf))
    const shadow_only = new Set([...mapping.i_shadows.keys()].map(leaf).filter((l) => !busy.has(l)))
    expect(shadow_only.size).toBeGreaterThan(0)
    const [pages, left] = [mapping.i_pages.size, [...mapping.i_shadows.keys()].filter((i) => busy.has(leaf(i))).length]
    m.proc_write('/proc/sys/vm/drop_caches', '2', p)
    expect(vm(m, 'workingset_nodereclaim')).toBe(shadow_only.size)
    expect(mapping.i_shadows.size).toBe(left)
    expect(mapping.i_pages.size).toBe(pages)
    expect(vm(m, 'drop_slab')).toBe(1)
    expect(vm(m, 'drop_pagecache')).toBe(0)
    // 1 clears the remaining shadows with the pages (invalidate_mapping_pages).
    m.proc_write('/proc/sys/vm/drop_caches', '1', p)
    expect(mapping.i_shadows.size).toBe(0)
  })

  it('logs as Linux does until 4 silences it, takes 1..4 only, and cannot be read', () => {
    const m = new Machine({ ram: '64M', seed: 1 })
    m.proc_write('/proc/sys/vm/drop_caches', '3') // no process: the idle task writes it
    const sh = m.spawn({ name: 'sh' })
    m.proc_write('/proc/sys/vm/drop_caches', '4', sh)
    m.proc_write('/proc/sys/vm/drop_caches', '3', sh)
    expect(m.dmesg().split('\n').filter((l) => l.includes('drop_caches')).map((l) => l.replace(/^\[[^\]]*\] /, ''))).toEqual([
      'swapper/0 (0): drop_caches: 3',
      'sh (100): drop_caches: 4',
    ])
    expect(vm(m, 'drop_pagecache')).toBe(2)
    expect(vm(m, 'drop_slab')).toBe(2)
    for (const bad of ['0', '5', '-1', 'x', '']) expect(() => m.proc_write('/proc/sys/vm/drop_caches', bad, sh)).toThrow(/EINVAL/)
    expect(() => m.proc('/proc/sys/vm/drop_caches')).toThrow(ErrnoError)
    expect(() => m.proc('/proc/sys/vm/drop_caches')).toThrow(/EACCES/)
  })

  it('never loses data or breaks an invariant, whatever the files went through', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ file: fc.nat(2), page: fc.nat(15), byte: fc.nat(255), sync: fc.boolean(), map: fc.boolean() }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(1, 2, 3),
        (ops, value) => {
          // The full invariant check once, after drop_caches (per call it would take minutes over the runs).
          const m = new Machine({ ram: '64M', seed: 1 })
          const p = m.spawn()
          const paths = ['/var/tmp/a', '/var/tmp/b', '/tmp/c']
          const fds = paths.map((path) => p.open(path, O_CREAT | O_RDWR))
          const want = paths.map(() => new Uint8Array(16 * 4096))
          fds.forEach((fd) => p.ftruncate(fd, 16 * 4096))
          for (const o of ops) {
            if (o.map) {
              const a = p.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[o.file], 0)
              p.store(a + o.page * 4096 + 1, new Uint8Array([o.byte]))
              p.munmap(a, 16 * 4096)
            } else p.pwrite(fds[o.file], new Uint8Array([o.byte]), o.page * 4096 + 1)
            want[o.file][o.page * 4096 + 1] = o.byte
            if (o.sync) p.sys_fsync(fds[o.file])
          }
          m.proc_write('/proc/sys/vm/drop_caches', String(value), p)
          m.check()
          // Buffer.equals: vitest's deep equality walks 64 KiB arrays element by element, for seconds.
          fds.forEach((fd, i) => expect(Buffer.from(p.pread(fd, 16 * 4096, 0)).equals(Buffer.from(want[i])), paths[i]).toBe(true))
        },
      ),
      { numRuns: 20 },
    )
  })
})
