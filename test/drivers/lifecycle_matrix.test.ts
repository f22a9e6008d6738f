/**
 * SECURITY.md §4.3 for every built-in mmap-capable node: mremap growth,
 * partial munmap, mprotect upgrade, fork and the child's access, close
 * before access, and module removal while mapped. Each cell is what Linux
 * gives for that driver (mremap of a VM_PFNMAP/VM_DONTEXPAND mapping is
 * EFAULT; growth of a fault-based one is allowed and the new page SIGBUS
 * past the object; rmmod is EBUSY while a VMA holds the file), and the
 * machine's invariants hold after each (the test setup recounts them).
 * UIO's logical and virtual maps find their region by the VMA's vm_pgoff
 * (uio_find_mem_index), so the part a partial munmap leaves of the ring
 * (index 2) has vm_pgoff 3, no region: SIGBUS, as in Linux.
 */
import { describe, it, expect } from 'vitest'
import { boot, errno_of } from '../helpers.js'
import { ErrnoError, SignalError, type Process } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDWR } from '../../src/include/uapi/fcntl.js'

const PG = 4096

interface Node {
  readonly mod: string | null
  readonly path: string
  readonly off: number
  /** Pages mapped (UIO's register region is one page). */
  readonly pages: number
  readonly want: string
}

const NODES: readonly Node[] = [
  { mod: 'scullp', path: '/dev/scullp0', off: 0, pages: 2, want: 'mremap:ok+SIGBUS munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  { mod: 'scullv', path: '/dev/scullv0', off: 0, pages: 2, want: 'mremap:ok+SIGBUS munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  { mod: 'simple', path: '/dev/simpler', off: 0xa0000, pages: 2, want: 'mremap:EFAULT munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  // the legacy hole has no struct page: simplen's fault handler answers SIGBUS for every page (S-D3)
  { mod: 'simple', path: '/dev/simplen', off: 0xa0000, pages: 2, want: 'mremap:ok+SIGBUS munmap:ok+SIGBUS mprotect:ok+SIGBUS fork:SIGBUS close:SIGBUS rmmod:EBUSY+SIGBUS after:ok' },
  { mod: null, path: '/dev/mem', off: 0xa0000, pages: 2, want: 'mremap:EFAULT munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:n/a' },
  { mod: null, path: '/dev/zero', off: 0, pages: 2, want: 'mremap:ok+SIGBUS munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:n/a' },
  { mod: 'uio_demo', path: '/dev/uio0', off: 0, pages: 1, want: 'mremap:EFAULT munmap:n/a mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  { mod: 'uio_demo', path: '/dev/uio0', off: PG, pages: 2, want: 'mremap:EFAULT munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  { mod: 'uio_demo', path: '/dev/uio0', off: 2 * PG, pages: 2, want: 'mremap:EFAULT munmap:ok+SIGBUS mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
  { mod: 'framegrab', path: '/dev/framegrab0', off: 0, pages: 2, want: 'mremap:EFAULT munmap:ok+ok mprotect:ok+ok fork:ok close:ok rmmod:EBUSY+ok after:ok' },
]

function touch(p: Process, a: number, write: boolean): string {
  try {
    if (write) p.store(a, [0x5a])
    else p.load(a, 1)
    return 'ok'
  } catch (e) {
    if (e instanceof SignalError) return e.signal
    throw e
  }
}

/** A machine with the node's module and a root process (fault signals handled, so it lives on) holding two pages of data in the sculls. */
function setup(n: Node): { m: ReturnType<typeof boot>; p: Process; fd: number } {
  const m = boot()
  if (n.mod) m.insmod(n.mod)
  const p = m.spawn({ name: 'r', uid: 0 })
  p.sigaction(7, () => {})
  p.sigaction(11, () => {})
  if (n.path.startsWith('/dev/scull')) {
    const fd = p.open(n.path, O_RDWR)
    const b = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.store(b, new Uint8Array(2 * PG).fill(7))
    let done = 0
    while (done < 2 * PG) done += p.write(fd, b + done, 2 * PG - done)
    p.close(fd)
  }
  return { m, p, fd: p.open(n.path, O_RDWR) }
}

describe('§4.3: mremap, partial munmap, mprotect, fork, close, rmmod for every built-in', () => {
  for (const n of NODES) {
    it(`§4.3 ${n.path}${n.off ? ` at offset 0x${n.off.toString(16)}` : ''}`, () => {
      const RW = PROT_READ | PROT_WRITE
      const len = n.pages * PG
      const row: string[] = []
      {
        const { p, fd } = setup(n)
        const a = p.mmap(0, len, RW, MAP_SHARED, fd, n.off)
        const r = p.sys_mremap(a, len, len + PG, MREMAP_MAYMOVE, 0)
        row.push(`mremap:${r < 0 && r > -4096 ? new ErrnoError(-r, 'mremap').code : `ok+${touch(p, r + len, false)}`}`)
      }
      if (n.pages < 2) row.push('munmap:n/a')
      else {
        const { p, fd } = setup(n)
        const a = p.mmap(0, len, RW, MAP_SHARED, fd, n.off)
        p.munmap(a, PG)
        row.push(`munmap:ok+${touch(p, a + PG, false)}`)
      }
      {
        const { p, fd } = setup(n)
        const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, n.off)
        p.mprotect(a, PG, RW)
        row.push(`mprotect:ok+${touch(p, a, true)}`)
      }
      {
        const { p, fd } = setup(n)
        const a = p.mmap(0, PG, RW, MAP_SHARED, fd, n.off)
        const before = touch(p, a, false) === 'ok' ? p.load(a, 16) : null
        const c = p.fork()
        c.sigaction(7, () => {})
        const got = touch(c, a, false)
        row.push(`fork:${got}`)
        // a shared mapping: the child sees the parent's bytes
        if (got === 'ok' && before) expect(c.load(a, 16)).toEqual(before)
      }
      {
        const { p, fd } = setup(n)
        const a = p.mmap(0, PG, RW, MAP_SHARED, fd, n.off)
        p.close(fd)
        row.push(`close:${touch(p, a, false)}`)
      }
      {
        const { m, p, fd } = setup(n)
        const a = p.mmap(0, PG, RW, MAP_SHARED, fd, n.off)
        p.close(fd)
        if (!n.mod) row.push('rmmod:n/a')
        else {
          row.push(`rmmod:${errno_of(() => m.rmmod(n.mod!))}+${touch(p, a, false)}`)
          p.munmap(a, PG)
          row.push(`after:${errno_of(() => m.rmmod(n.mod!))}`)
        }
      }
      expect(row.join(' ')).toBe(n.want)
    })
  }
})
