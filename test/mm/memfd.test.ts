/**
 * memfd_create(2) and file seals against the real kernel: the simulated
 * process runs test/fixtures/probes/memfd_seals.c's steps and prints its
 * lines, which must equal what the program printed on Linux 6.18.44.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  F_ADD_SEALS, F_GET_SEALS, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC, FD_CLOEXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MAP_PRIVATE, MAP_SHARED, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL, O_CREAT, O_RDWR,
  PROT_READ, PROT_WRITE, EBADF, EINVAL, ENOSYS, errno_name, type Machine, type Process,
} from '../../src/index.js'
import { boot } from '../helpers.js'

const PG = 4096
const recorded = readFileSync(new URL('../fixtures/probes/memfd_seals.txt', import.meta.url), 'utf8')
/** Lines the simulated process cannot produce: it has no /proc/self/fd to reopen the memfd read-only. */
const NOT_SIMULATED = new Set(['read-only fd F_ADD_SEALS(SHRINK)', 'read-only fd F_GET_SEALS'])

function probe(m: Machine, p: Process): string[] {
  const out: string[] = []
  const rc = (what: string, r: number): void => {
    out.push(r < 0 ? `${what}: -1 ${errno_name(-r)}` : `${what}: ${r}`)
  }
  const rmap = (what: string, r: number): void => {
    out.push(r < 0 && r > -4096 ? `${what}: MAP_FAILED ${errno_name(-r)}` : `${what}: ok`)
  }
  const maps = (label: string, a: number): void => {
    for (const line of m.proc(`/proc/${p.pid}/maps`).split('\n')) {
      const f = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line)
      if (f && a >= parseInt(f[1], 16) && a < parseInt(f[2], 16)) out.push(`${label}: ${f[3]} ${f[4]} ${f[5]} ${f[7]}`)
    }
  }
  const buf = new Uint8Array(PG).fill(0x61)
  const pw = (fd: number, n: number, off: number): number => p.sys_pwrite(fd, buf.subarray(0, n), off)
  const mm = (len: number, prot: number, flags: number, fd: number): number => p.sys_mmap(0, len, prot, flags, fd, 0)

  const plain = p.memfd_create('plain', MFD_EXEC)
  rc('plain F_GET_SEALS', p.sys_fcntl(plain, F_GET_SEALS))
  rc('plain F_ADD_SEALS(SHRINK)', p.sys_fcntl(plain, F_ADD_SEALS, F_SEAL_SHRINK))
  rc('plain F_GETFD', p.sys_fcntl(plain, F_GETFD))
  const ce = p.memfd_create('ce', MFD_CLOEXEC | MFD_EXEC)
  rc('cloexec F_GETFD', p.sys_fcntl(ce, F_GETFD))
  rc('flags 0x100', p.sys_memfd_create('x', 0x100))
  rc('MFD_EXEC|MFD_NOEXEC_SEAL', p.sys_memfd_create('x', MFD_EXEC | MFD_NOEXEC_SEAL))
  rc('name of 250 bytes', p.sys_memfd_create('n'.repeat(250), MFD_EXEC))
  const ln = p.sys_memfd_create('n'.repeat(249), MFD_EXEC)
  out.push(`name of 249 bytes: ${ln >= 0 ? 'ok' : errno_name(-ln)}`)
  p.close(ln)
  const nx = p.memfd_create('nx', MFD_NOEXEC_SEAL)
  rc('noexec F_GET_SEALS', p.sys_fcntl(nx, F_GET_SEALS))

  const fd = p.memfd_create('sealed', MFD_ALLOW_SEALING | MFD_EXEC)
  rc('sealing F_GET_SEALS', p.sys_fcntl(fd, F_GET_SEALS))
  rc('ftruncate 4 pages', p.sys_ftruncate(fd, 4 * PG))
  rc('F_ADD_SEALS(0x40)', p.sys_fcntl(fd, F_ADD_SEALS, 0x40))
  const w = mm(4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd)
  rmap('mmap shared rw', w)
  maps('maps', w)
  p.store(w, [0x7a])
  rc('F_ADD_SEALS(WRITE) while mapped rw', p.sys_fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE))
  p.munmap(w, 4 * PG)
  const r = mm(4 * PG, PROT_READ, MAP_SHARED, fd)
  rmap('mmap shared ro', r)
  rc('F_ADD_SEALS(WRITE) while mapped shared ro', p.sys_fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE))
  p.munmap(r, 4 * PG)
  const pv = mm(4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd)
  rmap('mmap private rw', pv)
  rc('F_ADD_SEALS(WRITE) with a private mapping', p.sys_fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE))
  rc('F_GET_SEALS', p.sys_fcntl(fd, F_GET_SEALS))
  p.store(pv + 1, [0x70])
  rc('pwrite after WRITE', pw(fd, 10, 0))
  rc('pwrite 0 bytes after WRITE', pw(fd, 0, 0))
  rmap('mmap shared rw after WRITE', mm(PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd))
  const r2 = mm(PG, PROT_READ, MAP_SHARED, fd)
  rmap('mmap shared ro after WRITE', r2)
  rc('mprotect rw of it', p.sys_mprotect(r2, PG, PROT_READ | PROT_WRITE))
  rmap('mmap private rw after WRITE', mm(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd))
  rc('ftruncate shrink (no SHRINK seal)', p.sys_ftruncate(fd, 3 * PG))
  rc('fallocate punch after WRITE', p.sys_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG))
  rc('fallocate grow (no GROW seal)', p.sys_fallocate(fd, 0, 0, 5 * PG))
  rc('F_ADD_SEALS(SHRINK|GROW)', p.sys_fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
  rc('ftruncate shrink', p.sys_ftruncate(fd, 2 * PG))
  rc('ftruncate grow', p.sys_ftruncate(fd, 8 * PG))
  rc('ftruncate same', p.sys_ftruncate(fd, 5 * PG))
  rc('fallocate grow', p.sys_fallocate(fd, 0, 4 * PG, 2 * PG))
  rc('fallocate inside', p.sys_fallocate(fd, 0, 0, 2 * PG))
  rc('F_ADD_SEALS(SEAL)', p.sys_fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL))
  rc('F_ADD_SEALS(0) after SEAL', p.sys_fcntl(fd, F_ADD_SEALS, 0))
  rc('F_GET_SEALS', p.sys_fcntl(fd, F_GET_SEALS))

  const g = p.memfd_create('grow', MFD_ALLOW_SEALING | MFD_EXEC)
  rc('grow: pwrite 2 pages', pw(g, PG, PG))
  rc('grow: F_ADD_SEALS(GROW)', p.sys_fcntl(g, F_ADD_SEALS, F_SEAL_GROW))
  rc('grow: pwrite inside', pw(g, 100, 0))
  rc('grow: pwrite across EOF', pw(g, 200, 2 * PG - 100))
  rc('grow: pwrite at EOF', pw(g, 1, 2 * PG))

  const fw = p.memfd_create('future', MFD_ALLOW_SEALING | MFD_EXEC)
  p.ftruncate(fw, 2 * PG)
  const mf = mm(2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fw)
  rc('future: F_ADD_SEALS(FUTURE_WRITE) while mapped rw', p.sys_fcntl(fw, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
  p.store(mf, [0x6d])
  out.push(`future: store through the old mapping: ${String.fromCharCode(p.load(mf, 1)[0])}`)
  rc('future: pwrite', pw(fw, 1, 0))
  rmap('future: mmap shared rw', mm(PG, PROT_READ | PROT_WRITE, MAP_SHARED, fw))
  rmap('future: mmap private rw', mm(PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fw))
  rc('future: F_ADD_SEALS(WRITE) while mapped rw', p.sys_fcntl(fw, F_ADD_SEALS, F_SEAL_WRITE))
  rc('future: F_GET_SEALS', p.sys_fcntl(fw, F_GET_SEALS))

  const t = p.open('/dev/shm/memfd_probe_file', O_RDWR | O_CREAT)
  rc('tmpfs file F_GET_SEALS', p.sys_fcntl(t, F_GET_SEALS))
  rc('tmpfs file F_ADD_SEALS(WRITE)', p.sys_fcntl(t, F_ADD_SEALS, F_SEAL_WRITE))
  const e = p.open('/var/tmp/memfd_probe_file', O_RDWR | O_CREAT)
  rc('ext4 file F_GET_SEALS', p.sys_fcntl(e, F_GET_SEALS))
  rc('ext4 file F_ADD_SEALS(WRITE)', p.sys_fcntl(e, F_ADD_SEALS, F_SEAL_WRITE))
  return out
}

describe('memfd_create and seals', () => {
  it('print what memfd_seals.c printed on Linux 6.18.44', () => {
    const m = boot()
    const p = m.spawn({ name: 'memfd_seals' })
    const want = recorded.trimEnd().split('\n').filter((l) => !NOT_SIMULATED.has(l.slice(0, l.indexOf(':'))))
    expect(probe(m, p)).toEqual(want)
  })

  it('neither exec flag warns once in the log; MFD_HUGETLB is not simulated; fcntl errors', () => {
    const m = boot()
    const p = m.spawn({ name: 'w' })
    const a = p.memfd_create('a')
    p.memfd_create('b')
    const warn = m.dmesg().split('\n').filter((l) => l.includes('memfd_create() without MFD_EXEC nor MFD_NOEXEC_SEAL'))
    expect(warn.length).toBe(1)
    expect(warn[0]).toContain(`pid=${p.pid} 'w'`)
    expect(p.sys_memfd_create('h', MFD_HUGETLB | MFD_EXEC)).toBe(-ENOSYS)
    expect(p.sys_fcntl(99, F_GETFD)).toBe(-EBADF)
    expect(p.sys_fcntl(a, 9999)).toBe(-EINVAL)
    expect(p.sys_fcntl(a, F_ADD_SEALS, 2 ** 32)).toBe(-EINVAL)
    p.fcntl(a, F_SETFD, FD_CLOEXEC)
    expect(p.fcntl(a, F_GETFD)).toBe(FD_CLOEXEC)
    const d = p.fcntl(a, F_DUPFD_CLOEXEC, 10)
    expect(d).toBe(10)
    // the duplicate names the same file: same data
    p.pwrite(a, [1, 2, 3], 0)
    expect([...p.pread(d, 3, 0)]).toEqual([1, 2, 3])
    // the memfd is on the internal tmpfs: no size limit, not in /dev/shm's statfs
    const before = p.statfs('/dev/shm').f_bfree
    p.ftruncate(a, 1 << 20)
    p.pwrite(a, new Uint8Array(1 << 20), 0)
    expect(p.statfs('/dev/shm').f_bfree).toBe(before)
  })

  it('property: seals only grow, and each refuses exactly what it names', () => {
    const ops = fc.constantFrom('seal_write', 'seal_future', 'seal_grow', 'seal_shrink', 'seal_seal', 'write_in', 'write_past', 'grow', 'shrink', 'map_rw', 'unmap')
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 14 }), (list) => {
        const m = boot()
        const p = m.spawn({ name: 'p' })
        const fd = p.memfd_create('p', MFD_ALLOW_SEALING | MFD_EXEC)
        p.ftruncate(fd, 4 * PG)
        let seals = 0
        let size = 4 * PG
        const maps: number[] = []
        for (const op of list) {
          const before = p.fcntl(fd, F_GET_SEALS)
          expect(before).toBe(seals)
          const add = (s: number): void => {
            const r = p.sys_fcntl(fd, F_ADD_SEALS, s)
            if (seals & F_SEAL_SEAL) expect(r).toBeLessThan(0)
            else if (s === F_SEAL_WRITE && !(seals & F_SEAL_WRITE) && maps.length) expect(r).toBeLessThan(0)
            else {
              expect(r).toBe(0)
              seals |= s
            }
          }
          if (op === 'seal_write') add(F_SEAL_WRITE)
          else if (op === 'seal_future') add(F_SEAL_FUTURE_WRITE)
          else if (op === 'seal_grow') add(F_SEAL_GROW)
          else if (op === 'seal_shrink') add(F_SEAL_SHRINK)
          else if (op === 'seal_seal') add(F_SEAL_SEAL)
          else if (op === 'write_in') expect(p.sys_pwrite(fd, new Uint8Array(8), 0) === 8).toBe(!(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
          else if (op === 'write_past') {
            const ok = !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_GROW))
            expect(p.sys_pwrite(fd, new Uint8Array(8), size) === 8).toBe(ok)
            if (ok) size += 8
          } else if (op === 'grow' || op === 'shrink') {
            const n = op === 'grow' ? size + PG : Math.max(0, size - PG)
            const ok = n === size || !(seals & (op === 'grow' ? F_SEAL_GROW : F_SEAL_SHRINK))
            expect(p.sys_ftruncate(fd, n) === 0).toBe(ok)
            if (ok) size = n
          } else if (op === 'map_rw') {
            const a = p.sys_mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            expect(a >= 0).toBe(!(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
            if (a >= 0) maps.push(a)
          } else if (maps.length) p.munmap(maps.pop()!, PG)
        }
      }),
      { numRuns: 25 },
    )
  })
})
