/**
 * /dev/null, /dev/zero and /dev/full (drivers/char/mem.c) against the real
 * kernel: test/fixtures/probes/dev_zero.c ran on Linux 6.18.44 and recorded
 * dev_zero.txt; the same steps in a simulated process print the same lines
 * (maps fields and smaps counters; the shared mapping's inode number is
 * the internal shmem inode's, which differs between any two boots, and is
 * left out of the comparison). SPEC §11.2, acceptance T-ZERO-1.
 */
import { it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { boot } from '../helpers.js'
import type { Process } from '../../src/index.js'
import { SignalError } from '../../src/user/errors.js'
import { errno_name } from '../../src/include/uapi/errno.js'
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, MREMAP_MAYMOVE, MAP_ANONYMOUS } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { MAJOR, MINOR } from '../../src/fs/fs.js'

const PG = 4096
const recorded = readFileSync(new URL('../fixtures/probes/dev_zero.txt', import.meta.url), 'utf8').trimEnd().split('\n')
const STRERROR: Record<string, string> = { ENODEV: 'No such device', ENOSPC: 'No space left on device', EACCES: 'Permission denied' }
const strerror = (r: number): string => STRERROR[errno_name(-r)] ?? errno_name(-r)
const SMAPS_KEYS = ['Rss:', 'Pss:', 'Shared_Clean:', 'Shared_Dirty:', 'Private_Clean:', 'Private_Dirty:', 'Anonymous:', 'VmFlags:']

/** The probe's show(): the VMA's maps line without its range, then the smaps fields. */
function show(m: ReturnType<typeof boot>, p: Process, label: string, addr: number, out: string[]): void {
  const lines = m.proc(`/proc/${p.pid}/smaps`).split('\n')
  let inside = false
  for (const line of lines) {
    const h = /^([0-9a-f]+)-([0-9a-f]+) (.*)$/.exec(line)
    if (h) {
      const s = parseInt(h[1], 16)
      const e = parseInt(h[2], 16)
      inside = addr >= s && addr < e
      if (inside) out.push(`${label}: size=${(e - s) / 1024}kB ${h[3]}`)
      continue
    }
    if (!inside) continue
    for (const k of SMAPS_KEYS) if (line.startsWith(k)) out.push(`  ${k} ${line.slice(k.length).trimStart()}`)
  }
}

/** The probe's rw(). */
function rw(p: Process, dev: string, buf: number, out: string[]): void {
  p.store(buf, new TextEncoder().encode('abcdefg\0'))
  const fd = p.open(dev, O_RDWR)
  const r = p.sys_read(fd, buf, 8)
  out.push(`${dev} read(8): ${r}${r < 0 ? ' ' + strerror(r) : ''} first=${p.load(buf, 1)[0]}`)
  const w = p.sys_write(fd, buf, 8)
  out.push(`${dev} write(8): ${w < 0 ? '-1 ' + strerror(w) : w}`)
  out.push(`${dev} lseek(100, SEEK_SET): ${p.lseek(fd, 100, SEEK_SET)}`)
  const a = p.sys_mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 0)
  out.push(`${dev} mmap(MAP_PRIVATE): ${a < 0 ? strerror(a) : 'ok'}`)
  p.close(fd)
}

/** Drop the inode number of the shared mapping's lines ("00:01 865   /dev/zero (deleted)"). */
function no_shm_ino(lines: string[]): string[] {
  return lines.map((l) => l.replace(/ 00:01 \d+ +\/dev\/zero \(deleted\)$/, ' 00:01 N /dev/zero (deleted)'))
}

it('maps /dev/zero privately as anonymous memory and shared as shmem, like Linux 6.18', () => {
  const m = boot({ ram: '128M' })
  const p = m.spawn({ name: 'dev_zero' })
  const out: string[] = []
  const ino = m.fs.lookup('/dev/zero')!
  out.push(`/dev/zero: rdev=${MAJOR(ino.i_rdev)}:${MINOR(ino.i_rdev)} mode=${ino.i_mode.toString(8)} ino=${ino.i_ino} dev=0:6`)
  for (const d of ['null', 'full']) {
    const i = m.fs.lookup(`/dev/${d}`)!
    out.push(`/dev/${d}: rdev=${MAJOR(i.i_rdev)}:${MINOR(i.i_rdev)} mode=${i.i_mode.toString(8)}`)
  }
  const buf = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  rw(p, '/dev/zero', buf, out)
  rw(p, '/dev/null', buf, out)
  rw(p, '/dev/full', buf, out)

  const fd = p.open('/dev/zero', O_RDWR)
  const priv = p.mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
  const shared = p.mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
  show(m, p, 'private, untouched', priv, out)
  show(m, p, 'shared, untouched', shared, out)
  p.load(priv, 1)
  p.store(priv + PG, [1])
  p.store(priv + 2 * PG, [2])
  p.load(shared, 1)
  p.store(shared + PG, [3])
  p.store(shared + 2 * PG, [4])
  show(m, p, 'private, read page 0, wrote pages 1-2', priv, out)
  show(m, p, 'shared, read page 0, wrote pages 1-2', shared, out)

  const c = p.fork()
  c.store(priv + PG, [11])
  c.store(shared + PG, [33])
  show(m, c, 'child after writing page 1 of each: private', priv, out)
  show(m, c, 'child after writing page 1 of each: shared', shared, out)
  c.exit(0)
  c.wait()
  out.push(`parent after the child wrote: private[PG]=${p.load(priv + PG, 1)[0]} shared[PG]=${p.load(shared + PG, 1)[0]}`)
  show(m, p, 'parent after fork: private', priv, out)
  show(m, p, 'parent after fork: shared', shared, out)

  const p2 = p.mremap(priv, 4 * PG, 8 * PG, MREMAP_MAYMOVE)
  out.push('mremap private 4->8 pages: ok')
  p.store(p2 + 6 * PG, [5])
  show(m, p, 'private after mremap, wrote page 6', p2, out)
  const s2 = p.mremap(shared, 4 * PG, 8 * PG, MREMAP_MAYMOVE)
  out.push('mremap shared 4->8 pages: ok')
  p.sigaction(7, () => {}) // SIGBUS handled, as the probe's siglongjmp handler
  try {
    p.store(s2 + 6 * PG, [6])
    out.push('shared after mremap: wrote page 6')
  } catch (e) {
    if (!(e instanceof SignalError) || e.signal !== 'SIGBUS') throw e
    out.push("shared after mremap: writing page 6 (past the object's size) is SIGBUS")
  }
  out.push(`shared after mremap: [PG]=${p.load(s2 + PG, 1)[0]}`)
  show(m, p, 'shared after mremap, wrote page 6', s2, out)
  const ro = p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, p.open('/dev/zero', O_RDONLY), 0)
  out.push(`mmap O_RDONLY /dev/zero MAP_SHARED PROT_READ: ${ro < 0 ? strerror(ro) : 'ok'}`)
  const rw2 = p.sys_mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, p.open('/dev/zero', O_RDONLY), 0)
  out.push(`mmap O_RDONLY /dev/zero MAP_SHARED PROT_WRITE: ${rw2 < 0 ? strerror(rw2) : 'ok'}`)
  expect(no_shm_ino(out).join('\n')).toBe(no_shm_ino(recorded).join('\n'))
})

it('T-ZERO-1: a shared /dev/zero mapping is shared with a forked child, a private one is not', () => {
  const m = boot()
  const p = m.spawn({ name: 'zero' })
  const fd = p.open('/dev/zero', O_RDWR)
  const sh = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
  const pr = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
  p.close(fd)
  const c = p.fork()
  c.store(sh, [7])
  c.store(pr, [9])
  expect(p.load(sh, 1)[0]).toBe(7)
  expect(p.load(pr, 1)[0]).toBe(0)
  c.exit(0)
  c.wait()
  p.munmap(sh, PG)
  p.munmap(pr, PG)
})

it('minors of major 1 without a device open with ENXIO; /dev/zero reads across pages', () => {
  const m = boot()
  const p = m.spawn({ name: 'mem' })
  p.mknod('/dev/kmem', 0o20000 | 0o600, 0x102)
  expect(p.sys_open('/dev/kmem', O_RDONLY)).toBe(-6)
  const buf = p.mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  p.store(buf + PG + 5, [1, 2, 3])
  const fd = p.open('/dev/zero', O_RDONLY)
  expect(p.read(fd, buf + 10, 2 * PG)).toBe(2 * PG)
  expect(p.load(buf + PG + 5, 3)).toEqual(new Uint8Array(3))
  // A buffer running into an unmapped page: the bytes up to it, then EFAULT when none could be copied.
  p.munmap(buf + 2 * PG, PG)
  expect(p.sys_read(fd, buf + PG + 100, 2 * PG)).toBe(PG - 100)
  expect(p.sys_read(fd, buf + 2 * PG, 16)).toBe(-14)
})
