/**
 * SECURITY.md §4.1, the minimum suite's cred scan: the F-Secure (MWR)
 * exploit run against every built-in mmap-capable node as an unprivileged
 * user with group access (the load scripts' group, staff): spray creds by
 * forking, map a huge window (0xf0000000 bytes at 0x42424000, MAP_SHARED,
 * RW, offset 0; smaller windows when refused), scan it for the caller's
 * struct cred ids (uid, gid, suid, sgid, euid, egid, fsuid, fsgid: the
 * paper's "uid x8" when gid == uid) and zero them. Creds are real objects
 * of the cred_jar slab cache (src/kernel/cred.ts): no built-in node lets a
 * mapping reach a frame holding one, and no cred changes (the recount
 * proves every cred object still holds its task's ids). The control: a
 * driver that maps vm_pgoff as a frame number unchecked (S-A1) hands the
 * same scan the caller's cred, and the write into it is the critical event.
 */
import { describe, it, expect } from 'vitest'
import { boot, corrupted } from '../helpers.js'
import { KernelBug, MKDEV, MAJOR, S_IFCHR, type Cdev, type DriverKernel, type KernelModule, type Machine, type Module, type Process } from '../../src/index.js'
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDWR } from '../../src/include/uapi/fcntl.js'
import { STAFF_GID } from '../../src/drivers/module.js'
import { pte_pfn } from '../../src/arch/pte.js'

const PG = 4096
/** The paper's window: 0xf0000000 bytes; refused, the attacker looks for the longest one that maps. */
const WINDOW = 0xf0000000

interface ScanResult {
  node: string
  outcome: string
  found: number
  /** Where the first cred was found. */
  at?: number
}

/**
 * The exploit's scan of one node: the outcome of open and mmap, and how
 * many creds it found (and zeroed) in the first `max_pages` pages.
 */
function cred_scan(p: Process, node: string, write: boolean, max_pages: number): ScanResult {
  const fd = p.sys_open(node, O_RDWR)
  if (fd < 0) return { node, outcome: `open ${-fd}`, found: 0 }
  const try_map = (len: number): number => {
    const r = p.sys_mmap(0x42424000, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    return r >= 0 || r < -4095 ? r : -1
  }
  let len = WINDOW
  let a = try_map(len)
  if (a < 0) {
    // bisect the page count for the longest mapping the driver accepts
    let lo = 0, hi = WINDOW / PG
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      const r = try_map(mid * PG)
      if (r < 0) hi = mid
      else {
        p.munmap(r, mid * PG)
        lo = mid
      }
    }
    if (lo === 0) return { node, outcome: 'mmap refused', found: 0 }
    len = lo * PG
    a = try_map(len)
  }
  const c = p.task.cred
  const ids = [c.uid, c.gid, c.suid, c.sgid, c.euid, c.egid, c.fsuid, c.fsgid]
  let found = 0
  const r0: { at?: number } = {}
  for (let i = 0; i < Math.min(len / PG, max_pages); i++) {
    const r = p.try_access(a + i * PG, PG, false)
    if (r.fault) break
    const v = new DataView(r.data!.buffer, r.data!.byteOffset, PG)
    for (let off = 0; off + 32 <= PG; off += 4) {
      let hit = true
      for (let k = 0; k < 8 && hit; k++) hit = v.getUint32(off + 4 * k, true) === ids[k]
      if (!hit) continue
      found++
      r0.at ??= a + i * PG + off
      if (write) p.try_access(a + i * PG + off, 32, true, new Uint8Array(32))
    }
  }
  if (!write) return { node, outcome: 'mapped', found, at: r0.at }
  p.munmap(a, len)
  p.close(fd)
  return { node, outcome: 'mapped', found, at: r0.at }
}

/** Frames holding a live task's struct cred. */
function cred_frames(m: Machine): Set<number> {
  const out = new Set<number>()
  for (const t of m.syscalls.tasks.values()) if (t.cred_kaddr) out.add(m.page_alloc.virt_to_pfn(t.cred_kaddr))
  return out
}

/** A /dev/mem clone with no policy at all (S-A1): vm_pgoff is the frame number, node 0666. */
function rawmap(): KernelModule {
  let major = 0
  let cdev: Cdev | null = null
  return {
    name: 'rawmap',
    init(k: DriverKernel, _p: unknown, owner: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'rawmap')
      if (err) return err
      major = MAJOR(dev.value)
      cdev = k.cdev_init({ owner, open: () => 0, mmap: (_f, vma) => k.remap_pfn_range(vma, vma.vm_start, vma.vm_pgoff, vma.vm_end - vma.vm_start) })
      return k.cdev_add(cdev, dev.value, 1)
    },
    exit(k: DriverKernel): void {
      if (cdev) k.cdev_del(cdev)
      k.unregister_chrdev_region(MKDEV(major, 0), 1)
    },
    nodes: () => [{ name: 'rawmap', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
}

describe('the cred scan (SECURITY.md §4.1)', () => {
  it('creds are cred_jar objects holding the eight ids; fork makes a new one, a thread shares it, reaping frees it', () => {
    const m = boot()
    const before = m.slab.find_cache('cred_jar')!
    const p = m.spawn({ name: 'u', uid: 1000, gid: 50 })
    const mem = (addr: number): number[] => {
      const b = m.physmem.read(m.page_alloc.virt_to_pfn(addr) * PG + (addr % PG), 40)
      const v = new DataView(b.buffer)
      return [Number(v.getBigUint64(0, true)), ...Array.from({ length: 8 }, (_, i) => v.getUint32(8 + 4 * i, true))]
    }
    expect(mem(p.task.cred_kaddr)).toEqual([1, 1000, 50, 1000, 50, 1000, 50, 1000, 50])
    const child = p.fork()
    expect(child.task.cred_kaddr).not.toBe(p.task.cred_kaddr)
    const thread = p.clone_thread()
    expect(thread.task.cred_kaddr).toBe(p.task.cred_kaddr)
    expect(mem(p.task.cred_kaddr)[0]).toBe(2)
    expect(m.proc('/proc/slabinfo')).toMatch(/^cred_jar +\d+ +\d+ +192 /m)
    child.exit(0)
    const live = m.syscalls.tasks.size
    child.wait()
    expect(m.syscalls.tasks.size).toBe(live - 1)
    expect(before.name).toBe('cred_jar')
    m.check()
  })

  it('no built-in node maps a frame holding a cred to an unprivileged user of the staff group; no cred changes', () => {
    const m = boot({ ram: '64M' })
    for (const mod of ['scullp', 'scullv', 'simple', 'uio_demo']) m.insmod(mod)
    const p = m.spawn({ name: 'exploit', uid: 1000, gid: STAFF_GID })
    // the paper's spray: more creds in memory
    const kids = Array.from({ length: 16 }, () => p.fork())
    const nodes = ['/dev/scullp0', '/dev/scullv0', '/dev/simpler', '/dev/simplen', '/dev/mem', '/dev/zero', '/dev/uio0']
    const creds = cred_frames(m)
    const results = nodes.map((n) => {
      // (the scan reads 4 MiB of each: a /dev/zero window is fresh memory, all of it zeros)
      const r = cred_scan(p, n, true, 1024)
      return r
    })
    // the nodes a staff member may open are mapped; the physical-memory ones are not even opened
    expect(results.map((r) => `${r.node} ${r.outcome} ${r.found}`)).toEqual([
      '/dev/scullp0 mapped 0',
      '/dev/scullv0 mapped 0',
      '/dev/simpler open 13 0',
      '/dev/simplen open 13 0',
      '/dev/mem open 13 0',
      '/dev/zero mapped 0',
      '/dev/uio0 open 13 0',
    ])
    // and no PTE of the attacker ever pointed at a cred frame (every mapping is still there to check: map again)
    for (const n of ['/dev/scullp0', '/dev/scullv0', '/dev/zero']) {
      const fd = p.open(n, O_RDWR)
      const a = p.mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
      for (let i = 0; i < 16; i++) p.try_access(a + i * PG, 1, false)
      for (let i = 0; i < 16; i++) {
        const pte = p.mm.pgd.get(a / PG + i)
        if (pte) expect(creds.has(pte_pfn(pte))).toBe(false)
      }
    }
    expect(m.driver_check.findings.filter((f) => f.severity === 'error')).toEqual([])
    m.check()
    expect(kids.length).toBe(16)
  })

  it('the control: through a driver that maps any frame (S-A1), the same scan finds the cred, and zeroing it is caught as the critical event', () => {
    const m = boot({ ram: '64M' })
    m.insmod(rawmap())
    const p = m.spawn({ name: 'exploit', uid: 1000 })
    const r = cred_scan(p, '/dev/rawmap', false, Infinity)
    expect(r.outcome).toBe('mapped')
    expect(r.found).toBeGreaterThanOrEqual(1)
    expect(m.driver_check.findings.some((f) => f.id === 'S-A1')).toBe(true)
    // the exploit's write: the invariant recount (after every call with debug_vm) catches it
    corrupted(m)
    p.try_access(r.at!, 32, true, new Uint8Array(32))
    expect(() => m.check()).toThrow(KernelBug)
    expect(() => m.check()).toThrow(/struct cred of pid \d+ \(exploit\) was written behind the kernel's back \(S-A1, critical\): ids in memory 0,0,0,0,0,0,0,0/)
  })
})
