/**
 * fsync(2) vs fdatasync(2), sync(2) and syncfs(2): the requests the root
 * disk sees, against test/fixtures/probes/fdatasync.c's recording on Linux
 * 6.18.44 (ext4 without a journal, mounted discard): [writes, sectors
 * written, discards, flushes] around each call, in the probe's shapes.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ErrnoError, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, type Machine, type Process } from '../../src/index.js'
import { boot, fill_bytes } from '../helpers.js'

interface Case { case: string; runs: number[][] }
const recorded = new Map(
  readFileSync(new URL('../fixtures/probes/fdatasync.txt', import.meta.url), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Case | { note: string })
    .filter((c): c is Case => 'case' in c)
    .map((c) => [c.case, c.runs]),
)

const vda = (m: Machine): number[] => m.proc('/sys/block/vda/stat').trim().split(/\s+/).map(Number)
const delta = (a: number[], z: number[]): number[] => [4, 6, 11, 15].map((i) => z[i] - a[i])
const bytes = (n: number, seed: number): Uint8Array => fill_bytes(n, (i) => (i * 31 + seed) & 255)
const sleep = (m: Machine, s: number): void => m.clock.sleep_until(m.clock.now() + s * 1e9)

type Shape = 'overwrite' | 'append' | 'truncate_shrink' | 'truncate_grow' | 'clean'
const SHAPES: Shape[] = ['overwrite', 'append', 'truncate_shrink', 'truncate_grow', 'clean']

/** One run of the probe's fsync_case(): a synced 64 KiB file, two seconds, the shape, then fsync or fdatasync. */
function fsync_case(m: Machine, p: Process, shape: Shape, data: boolean): number[] {
  const fd = p.open('/fdsprobe.bin', O_RDWR | O_CREAT | O_TRUNC, 0o644)
  p.pwrite(fd, bytes(65536, 1), 0)
  p.fsync(fd)
  p.sync()
  sleep(m, 2)
  const a = vda(m)
  if (shape === 'overwrite') p.pwrite(fd, bytes(4096, 2), 0)
  if (shape === 'append') p.pwrite(fd, bytes(4096, 3), 65536)
  if (shape === 'truncate_shrink') p.ftruncate(fd, 32768)
  if (shape === 'truncate_grow') p.ftruncate(fd, 131072)
  if (data) p.fdatasync(fd)
  else p.fsync(fd)
  const d = delta(a, vda(m))
  p.close(fd)
  p.sync()
  return d
}

describe('fsync and fdatasync on the disk', () => {
  it('write the requests the real kernel wrote in each recorded shape', () => {
    const m = boot({ ram: '128M' })
    const p = m.spawn({ name: 'probe' })
    for (const shape of SHAPES) {
      for (const data of [false, true]) {
        const name = `${shape}_${data ? 'fdatasync' : 'fsync'}`
        const runs = recorded.get(name)
        expect(runs, name).toBeDefined()
        for (const r of runs!) expect(r).toEqual(runs![0])
        expect(fsync_case(m, p, shape, data), name).toEqual(runs![0])
      }
    }
  })

  it('fdatasync skips sync_inode_metadata for a change of times alone: I_DIRTY_SYNC stays, I_DIRTY_DATASYNC does not', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'w' })
    const fd = p.open('/f', O_RDWR | O_CREAT | O_TRUNC, 0o644)
    p.pwrite(fd, bytes(8192, 1), 0)
    p.fsync(fd)
    const mapping = [...m.mm_env.mappings.values()].find((x) => x.backing === 'disk' && x.i_size === 8192)!
    expect(mapping.i_state).toBe(0)
    p.pwrite(fd, bytes(4096, 2), 0) // the times change, the size does not
    expect(mapping.i_state).toBe(1)
    p.fdatasync(fd)
    expect(mapping.i_state).toBe(1) // left for the flusher
    expect(mapping.itable_dirty).toBe(false) // but the block was written (ext4_write_inode())
    p.pwrite(fd, bytes(4096, 3), 8192) // the size changes
    expect(mapping.i_state).toBe(3)
    p.fdatasync(fd)
    expect(mapping.i_state).toBe(0)
    p.close(fd)
  })

  it('errors: EBADF for a closed descriptor, EINVAL for a file without fsync; a read-only descriptor may be synced', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'e' })
    expect(p.sys_fdatasync(99)).toBe(-9)
    expect(p.sys_syncfs(99)).toBe(-9)
    expect(() => p.fdatasync(99)).toThrow(ErrnoError)
    const fd = p.open('/dev/null', O_RDWR)
    expect(p.sys_fdatasync(fd)).toBe(-22)
    expect(p.sys_syncfs(fd)).toBe(0)
    const w = p.open('/ro', O_RDWR | O_CREAT, 0o644)
    p.pwrite(w, bytes(100, 1), 0)
    const r = p.open('/ro', O_RDONLY)
    expect(p.sys_fdatasync(r)).toBe(0)
    expect(p.cachestat(r, 0, 0).nr_dirty).toBe(0)
  })
})

type SyncShape = 'new_file' | 'overwrite' | 'clean'

/** One run of the probe's sync_case() for the shapes that create no file in the window. */
function sync_case(m: Machine, p: Process, shape: SyncShape, fs: boolean): number[] {
  const fd = p.open('/syncprobe.bin', O_RDWR | O_CREAT | O_TRUNC, 0o644)
  if (shape === 'overwrite') {
    p.pwrite(fd, bytes(65536, 1), 0)
    p.fsync(fd)
  }
  p.sync()
  sleep(m, 2)
  const a = vda(m)
  if (shape === 'new_file') p.pwrite(fd, bytes(65536, 4), 0)
  if (shape === 'overwrite') p.pwrite(fd, bytes(4096, 5), 0)
  if (fs) p.syncfs(fd)
  else p.sync()
  const d = delta(a, vda(m))
  p.close(fd)
  p.sync()
  return d
}

describe('sync and syncfs', () => {
  it('write every dirty file, its inode block, the allocator\'s blocks and a flush, as the real kernel did', () => {
    const m = boot({ ram: '128M' })
    const p = m.spawn({ name: 'probe' })
    for (const shape of ['new_file', 'overwrite', 'clean'] as SyncShape[]) {
      for (const fs of [true, false]) {
        const name = `${fs ? 'syncfs' : 'sync'}_${shape}`
        const runs = recorded.get(name)!
        const got = sync_case(m, p, shape, fs)
        expect(runs, name).toContainEqual(got)
      }
    }
  })

  it('leave nothing dirty: a file written by several processes is clean on every page after sync, and reads back', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9000 })), { minLength: 1, maxLength: 10 }), fc.boolean(), (writes, fs) => {
        const m = boot({ ram: '64M' })
        const p = m.spawn({ name: 's' })
        const fds = [0, 1, 2].map((i) => p.open(`/s${i}`, O_RDWR | O_CREAT | O_TRUNC, 0o644))
        const model = [0, 1, 2].map(() => new Uint8Array(50 * 4096))
        const size = [0, 0, 0]
        for (const [f, page, len] of writes) {
          const data = bytes(len, page + f)
          p.pwrite(fds[f], data, page * 4096)
          model[f].set(data, page * 4096)
          size[f] = Math.max(size[f], page * 4096 + len)
        }
        if (fs) p.syncfs(fds[0])
        else p.sync()
        for (let f = 0; f < 3; f++) {
          const cs = p.cachestat(fds[f], 0, 0)
          if (cs.nr_dirty || cs.nr_writeback) return false
          if (Buffer.compare(Buffer.from(p.pread(fds[f], size[f], 0)), Buffer.from(model[f].subarray(0, size[f])))) return false
        }
        return true
      }),
      { numRuns: 20 },
    )
  })
})
