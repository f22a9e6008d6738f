/**
 * The user-side contract of issue 3: a process from a program image, the
 * mmap family throwing ErrnoError like Node's fs, user-mode loads and stores
 * through the MMU, signals (death by SIGSEGV with the machine going on, or a
 * handler), fork, files, /proc.
 */
import { describe, expect, it } from 'vitest'
import { Machine, type MachineOptions } from '../../src/index.js'
import {
  PROT_NONE, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE,
  MREMAP_MAYMOVE, MADV_DONTNEED, MS_SYNC, MCL_CURRENT,
} from '../../src/include/uapi/mman.js'
import { ErrnoError, SignalError } from '../../src/user/errors.js'
import { O_CREAT, O_RDWR, O_RDONLY } from '../../src/user/process.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS

function machine(opts: MachineOptions = {}): Machine {
  return new Machine({ arch: 'x86_64', ram: '256M', seed: 1, debug_vm: true, ...opts })
}

function errno_of(f: () => unknown): { code: string; errno: number; message: string } {
  try {
    f()
  } catch (e) {
    if (e instanceof ErrnoError) return { code: e.code, errno: e.errno, message: e.message }
    throw e
  }
  throw new Error('no ErrnoError')
}

describe('Process: the mmap family', () => {
  it('maps, stores and loads through the MMU', () => {
    const m = machine()
    const p = m.spawn({ name: 'app', uid: 0 })
    expect(p.pid).toBeGreaterThan(0)
    const a = p.mmap(0, 8192, RW, ANON)
    expect(a % 4096).toBe(0)
    p.store(a, new Uint8Array([1, 2, 3]))
    expect([...p.load(a, 4)]).toEqual([1, 2, 3, 0])
    expect([...p.load(a + 4096, 2)]).toEqual([0, 0])
    p.munmap(a, 8192)
    m.check()
  })

  it('throws ErrnoError with the kernel errno, like Node fs errors', () => {
    const m = machine()
    const p = m.spawn({ name: 'app' })
    const e = errno_of(() => p.mmap(0, 0, RW, ANON))
    expect(e).toMatchObject({ code: 'EINVAL', errno: 22 })
    expect(e.message).toBe('EINVAL: invalid argument, mmap')
    expect(errno_of(() => p.munmap(4097, 4096)).code).toBe('EINVAL')
    expect(errno_of(() => p.mmap(0, 4096, RW, MAP_PRIVATE)).code).toBe('EBADF')
    const a = p.mmap(0, 4096, RW, ANON)
    expect(errno_of(() => p.mmap(a, 4096, RW, ANON | MAP_FIXED_NOREPLACE)).code).toBe('EEXIST')
    expect(errno_of(() => p.mprotect(0x10000000, 4096, PROT_READ)).code).toBe('ENOMEM')
    expect(errno_of(() => p.madvise(a + 1, 4096, MADV_DONTNEED)).code).toBe('EINVAL')
    m.check()
  })

  it('mremap, mprotect, mlock, msync, mincore, brk', () => {
    const m = machine()
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [7])
    const b = p.mremap(a, 4096, 3 * 4096, MREMAP_MAYMOVE)
    expect([...p.load(b, 1)]).toEqual([7])
    expect([...p.mincore(b, 3 * 4096)].map((x) => x & 1)).toEqual([1, 0, 0])
    p.mprotect(b, 4096, PROT_READ)
    p.mlock(b, 4096)
    p.msync(b, 4096, MS_SYNC)
    p.mlockall(MCL_CURRENT)
    p.munlockall()
    const brk0 = p.brk(0)
    expect(p.brk(brk0 + 8192)).toBe(brk0 + 8192)
    p.store(brk0, [1])
    expect(m.proc(`/proc/${p.pid}/maps`)).toMatch(/ rw-p 00000000 00:00 0 {26}\[heap\]\n/)
    m.check()
  })
})

describe('Process: signals', () => {
  it('a store to read-only memory kills the process with SIGSEGV/SEGV_ACCERR; the machine goes on', () => {
    const m = machine()
    const p = m.spawn({ name: 'victim' })
    const a = p.mmap(0, 4096, PROT_READ, ANON)
    let err: unknown
    try {
      p.store(a, [1])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SignalError)
    expect(err).toMatchObject({ signal: 'SIGSEGV', code: 'SEGV_ACCERR', addr: a, signo: 11, si_code: 2 })
    expect(p.alive).toBe(false)
    expect(p.wait()).toBe('signal:SIGSEGV')
    expect(errno_of(() => p.mmap(0, 4096, RW, ANON)).code).toBe('ESRCH')
    const q = m.spawn({ name: 'next' })
    const b = q.mmap(0, 4096, RW, ANON)
    q.store(b, [9])
    expect([...q.load(b, 1)]).toEqual([9])
    m.check()
  })

  it('an unmapped address is SEGV_MAPERR; a handler keeps the process alive', () => {
    const m = machine()
    const p = m.spawn({ name: 'app' })
    const seen: { signo: number; code: number; addr: number | bigint }[] = []
    p.sigaction(11, (info) => seen.push(info))
    const a = p.mmap(0, 4096, PROT_NONE, ANON)
    p.munmap(a, 4096)
    expect(() => p.load(a, 1)).toThrow(SignalError)
    expect(seen).toEqual([{ signo: 11, code: 1, addr: a }])
    expect(p.alive).toBe(true)
    p.exit(3)
    expect(p.wait()).toBe('exit:3')
    m.check()
  })

  it('a shared file mapping past EOF is SIGBUS/BUS_ADRERR', () => {
    const m = machine()
    const p = m.spawn({ name: 'app' })
    const fd = p.open('/dev/shm/f', O_CREAT | O_RDWR)
    p.pwrite(fd, new Uint8Array(100).fill(5), 0)
    const a = p.mmap(0, 8192, RW, MAP_SHARED, fd, 0)
    expect([...p.load(a + 99, 2)]).toEqual([5, 0])
    expect(() => p.load(a + 4096, 1)).toThrow(expect.objectContaining({ signal: 'SIGBUS', code: 'BUS_ADRERR', addr: a + 4096 }))
    expect(p.alive).toBe(false)
    m.check()
  })
})

describe('Process: fork, files', () => {
  it('fork copies on write; the parent keeps its bytes', () => {
    const m = machine()
    const p = m.spawn({ name: 'parent' })
    const a = p.mmap(0, 4096, RW, ANON)
    p.store(a, [1])
    const c = p.fork()
    expect(c.pid).not.toBe(p.pid)
    expect([...c.load(a, 1)]).toEqual([1])
    c.store(a, [2])
    expect([...p.load(a, 1)]).toEqual([1])
    expect([...c.load(a, 1)]).toEqual([2])
    c.exit(0)
    expect(c.wait()).toBe('exit:0')
    m.check()
  })

  it('open, pread, pwrite, ftruncate and the errors of a read-only descriptor', () => {
    const m = machine()
    const p = m.spawn({ name: 'app' })
    const fd = p.open('/dev/shm/data', O_CREAT | O_RDWR)
    expect(p.pwrite(fd, [1, 2, 3], 0)).toBe(3)
    expect([...p.pread(fd, 10, 0)]).toEqual([1, 2, 3])
    p.ftruncate(fd, 1)
    expect([...p.pread(fd, 10, 0)]).toEqual([1])
    const ro = p.open('/dev/shm/data', O_RDONLY)
    expect(errno_of(() => p.pwrite(ro, [1], 0)).code).toBe('EBADF')
    expect(errno_of(() => p.ftruncate(ro, 0)).code).toBe('EINVAL')
    expect(errno_of(() => p.open('/dev/shm/missing')).code).toBe('ENOENT')
    expect(errno_of(() => p.mmap(0, 4096, RW, MAP_SHARED, ro, 0)).code).toBe('EACCES')
    m.check()
  })
})

describe('Process: the program image and /proc', () => {
  it('lays out text, data, heap, libraries, vdso and stack like the ELF loader', () => {
    const m = machine({ randomize_va_space: 0 })
    const p = m.spawn({ name: 'app' })
    const maps = m.proc(`/proc/${p.pid}/maps`)
    const lines = maps.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^555555554000-555555556000 r--p 00000000 fe:00 \d+ +\/usr\/bin\/app$/)
    expect(lines[1]).toMatch(/^555555556000-55555555b000 r-xp 00002000 fe:00 \d+ +\/usr\/bin\/app$/)
    expect(maps).toMatch(/ rw-p 0000a000 fe:00 \d+ +\/usr\/bin\/app\n/)
    expect(maps).toMatch(/r-xp 00001000 fe:00 \d+ +\/usr\/lib\/x86_64-linux-gnu\/ld-linux-x86-64.so.2\n/)
    expect(maps).toMatch(/r-xp 00026000 fe:00 \d+ +\/usr\/lib\/x86_64-linux-gnu\/libc.so.6\n/)
    expect(maps).toMatch(/^7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 {26}\[stack\]$/m)
    expect(lines[lines.length - 1]).toBe('ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]')
    const status = m.proc(`/proc/${p.pid}/status`)
    expect(status).toMatch(/^Name:\tapp$/m)
    expect(status).toMatch(/^VmExe:\t {6}20 kB$/m)
    expect(m.proc(`/proc/${p.pid}/smaps`)).toMatch(/\[stack\]\nSize: {16}132 kB\n/)
    expect(m.proc(`/proc/${p.pid}/statm`)).toMatch(/^\d+ \d+ \d+ 5 0 \d+ 0\n$/)
    m.check()
  })

  it('is deterministic: two machines with the same seed lay out the same process', () => {
    const a = machine()
    const b = machine()
    const pa = a.spawn({ name: 'x' })
    const pb = b.spawn({ name: 'x' })
    expect(a.proc(`/proc/${pa.pid}/maps`)).toBe(b.proc(`/proc/${pb.pid}/maps`))
  })
})

describe('Process: /proc/self/pagemap', () => {
  it('reports present, exclusive, file and PFN bits as Linux does', () => {
    const m = machine()
    const p = m.spawn({ name: 'root', uid: 0 })
    const a = p.mmap(0, 4 * 4096, RW, ANON)
    p.store(a, [1])
    p.load(a + 4096, 1)
    const PRESENT = 1n << 63n
    const FILE = 1n << 61n
    const EXCL = 1n << 56n
    const PFN = (1n << 55n) - 1n
    const [w, r, none] = p.pagemap(a, 3)
    expect(w & PRESENT).toBe(PRESENT)
    expect(w & EXCL).toBe(EXCL)
    expect(w & FILE).toBe(0n)
    expect(w & PFN).not.toBe(0n)
    // The zero page: present, its PFN, neither exclusive nor file (vm_normal_page() is NULL for it).
    expect(r & (PRESENT | EXCL | FILE)).toBe(PRESENT)
    expect(r & PFN).toBe(BigInt(m.zero_pfn))
    expect(none).toBe(0n)
    // After fork the page is mapped twice: no longer exclusive.
    const c = p.fork()
    expect(p.pagemap(a, 1)[0] & EXCL).toBe(0n)
    c.exit(0)
    // A shared file page is a file page; a user without CAP_SYS_ADMIN sees no PFN.
    const fd = p.open('/dev/shm/pm', O_CREAT | O_RDWR)
    p.pwrite(fd, [1], 0)
    const f = p.mmap(0, 4096, RW, MAP_SHARED, fd, 0)
    p.load(f, 1)
    expect(p.pagemap(f, 1)[0] & (PRESENT | FILE)).toBe(PRESENT | FILE)
    const u = m.spawn({ name: 'user', uid: 1000 })
    const b = u.mmap(0, 4096, RW, ANON)
    u.store(b, [1])
    expect(u.pagemap(b, 1)[0]).toBe(PRESENT | EXCL)
    m.check()
  })
})
