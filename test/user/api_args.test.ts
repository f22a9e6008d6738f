import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ErrnoError, Machine, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SignalError, type Process } from '../../src/index.js'
import { boot } from '../helpers.js'

const ANON = MAP_PRIVATE | MAP_ANONYMOUS
const RW = PROT_READ | PROT_WRITE

function proc(m: Machine = boot()): Process {
  return m.spawn({ name: 'args' })
}

/** The Node-style programming error a call throws (its class, code and message), or null. */
function arg_error(fn: () => unknown): { type: string; code: string; message: string } | null {
  try {
    fn()
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) return { type: e.name, code: (e as { code?: string }).code ?? '', message: e.message }
    throw e
  }
  return null
}

describe('values no C caller can pass are programming errors, as in Node', () => {
  const p = proc()
  const bad: [string, () => unknown, string, string][] = [
    // [what, the call, the code, words the message must name]
    ['mmap len NaN', () => p.sys_mmap(0, NaN, RW, ANON), 'ERR_OUT_OF_RANGE', 'mmap: The value of "len"'],
    ['mmap len undefined', () => p.sys_mmap(0, undefined as never, RW, ANON), 'ERR_INVALID_ARG_TYPE', 'mmap: The "len" argument'],
    ['mmap addr 1.5', () => p.sys_mmap(1.5, 4096, RW, ANON), 'ERR_OUT_OF_RANGE', 'mmap: The value of "addr"'],
    ['mmap flags "34"', () => p.sys_mmap(0, 4096, RW, '34' as never), 'ERR_INVALID_ARG_TYPE', 'mmap: The "flags" argument'],
    ['mmap fd bigint', () => p.sys_mmap(0, 4096, RW, ANON, 3n as never), 'ERR_INVALID_ARG_TYPE', 'mmap: The "fd" argument'],
    ['madvise advice Infinity', () => p.sys_madvise(0, 4096, Infinity), 'ERR_OUT_OF_RANGE', 'madvise: The value of "advice"'],
    ['munmap len null', () => p.sys_munmap(0, null as never), 'ERR_INVALID_ARG_TYPE', 'munmap: The "len" argument'],
    ['brk -Infinity', () => p.sys_brk(-Infinity), 'ERR_OUT_OF_RANGE', 'brk: The value of "brk"'],
    ['load len -1', () => p.load(0x10000, -1), 'ERR_OUT_OF_RANGE', 'load: The value of "len"'],
    ['fetch len undefined', () => p.fetch(0x10000, undefined as never), 'ERR_INVALID_ARG_TYPE', 'fetch: The "len" argument'],
    ['store bytes a string', () => p.store(0x10000, 'abc' as never), 'ERR_INVALID_ARG_TYPE', 'store: The "bytes" argument'],
    ['store addr NaN', () => p.store(NaN, [1]), 'ERR_OUT_OF_RANGE', 'store: The value of "addr"'],
    ['pagemap pages -4096', () => p.pagemap(0, -4096), 'ERR_OUT_OF_RANGE', 'pagemap: The value of "pages"'],
    ['pread len 2^53', () => p.sys_pread(3, 2 ** 53, 0), 'ERR_OUT_OF_RANGE', 'pread: The value of "len"'],
    ['pread into an Array', () => p.sys_pread(3, 4, 0, [0, 0, 0, 0] as never), 'ERR_INVALID_ARG_TYPE', 'pread: The "into" argument'],
    ['pread into shorter than len', () => p.sys_pread(3, 4, 0, new Uint8Array(3)), 'ERR_OUT_OF_RANGE', 'pread: The value of "into.length"'],
    ['pwrite off NaN', () => p.sys_pwrite(3, new Uint8Array(1), NaN), 'ERR_OUT_OF_RANGE', 'pwrite: The value of "off"'],
    ['mlockall flags 2^40', () => p.sys_mlockall(2 ** 40), 'ERR_OUT_OF_RANGE', 'mlockall: The value of "flags"'],
    ['open path a number', () => p.sys_open(5 as never, 0), 'ERR_INVALID_ARG_TYPE', 'open: The "path" argument'],
    // The calls that take paths, names, arrays and objects check them too (an ad-hoc probe of
    // every Process method found each of these escaping as a crash inside, or a bare TypeError).
    ['swapon path undefined', () => p.sys_swapon(undefined as never, 0), 'ERR_INVALID_ARG_TYPE', 'swapon: The "path" argument'],
    ['swapoff path an object', () => p.sys_swapoff({} as never), 'ERR_INVALID_ARG_TYPE', 'swapoff: The "path" argument'],
    ['memfd_create name a number', () => p.sys_memfd_create(3 as never), 'ERR_INVALID_ARG_TYPE', 'memfd_create: The "name" argument'],
    ['statfs path null', () => p.sys_statfs(null as never), 'ERR_INVALID_ARG_TYPE', 'statfs: The "path" argument'],
    ['mknod path a bigint', () => p.sys_mknod(1n as never, 0o20644, 0), 'ERR_INVALID_ARG_TYPE', 'mknod: The "path" argument'],
    ['mknod dev a Symbol', () => p.sys_mknod('/dev/x', 0o20644, Symbol('d') as never), 'ERR_INVALID_ARG_TYPE', 'mknod: The "dev" argument'],
    ['poll fds a string', () => p.sys_poll('fds' as never, 0), 'ERR_INVALID_ARG_TYPE', 'poll: The "fds" argument'],
    ['poll fds[0] a number', () => p.sys_poll([4096] as never, 0), 'ERR_INVALID_ARG_TYPE', 'poll: The "fds[0]" argument'],
    ['poll fds[0].fd NaN', () => p.sys_poll([{ fd: NaN, events: 1, revents: 0 }], 0), 'ERR_OUT_OF_RANGE', 'poll: The value of "fds[0].fd"'],
    ['getrlimit out a number', () => p.sys_getrlimit(7, 5 as never), 'ERR_INVALID_ARG_TYPE', 'getrlimit: The "rlim" argument'],
    ['setrlimit rlim undefined', () => p.sys_setrlimit(7, undefined as never), 'ERR_INVALID_ARG_TYPE', 'setrlimit: The "rlim" argument'],
    ['setrlimit lim.cur NaN', () => p.setrlimit(7, { cur: NaN, max: 1 }), 'ERR_OUT_OF_RANGE', 'setrlimit: The value of "lim.cur"'],
    ['sigaction handler a number', () => p.sigaction(10, 5 as never), 'ERR_INVALID_ARG_TYPE', 'sigaction: The "handler" argument'],
    ['write_oom_score_adj target an object', () => p.write_oom_score_adj('5', {} as never), 'ERR_INVALID_ARG_TYPE', 'write_oom_score_adj: The "target" argument'],
    ['write_oom_score_adj text an object without a prototype', () => p.write_oom_score_adj(Object.create(null) as never), 'ERR_INVALID_ARG_TYPE', 'write_oom_score_adj: The "text" argument'],
    ['set_oom_score_adj 1.5', () => p.set_oom_score_adj(1.5), 'ERR_OUT_OF_RANGE', 'set_oom_score_adj: The value of "v"'],
    ['mincore vec an array', () => p.sys_mincore(0, 4096, [0] as never), 'ERR_INVALID_ARG_TYPE', 'mincore: The "vec" argument'],
    ['mincore len a string', () => p.mincore(0, '4096' as never), 'ERR_INVALID_ARG_TYPE', 'mincore: The "len" argument'],
    ['pwrite data undefined', () => p.pwrite(3, undefined as never), 'ERR_INVALID_ARG_TYPE', 'pwrite: The "data" argument'],
    ['try_access data a string', () => p.try_access(0x10000, 1, true, 'x' as never), 'ERR_INVALID_ARG_TYPE', 'try_access: The "data" argument'],
    ['ioctl fd NaN', () => p.sys_ioctl(NaN, 0), 'ERR_OUT_OF_RANGE', 'ioctl: The value of "fd"'],
    ['run_on cpu a string', () => p.run_on('0' as never), 'ERR_INVALID_ARG_TYPE', 'sched_setaffinity: The "cpu" argument'],
    ['clone_thread cpu NaN', () => p.clone_thread(NaN), 'ERR_OUT_OF_RANGE', 'clone_thread: The value of "cpu"'],
    ['Machine.spawn options null', () => boot().spawn(null as never), 'ERR_INVALID_ARG_TYPE', 'spawn: The "options" argument'],
    ['Machine.spawn options.name a number', () => boot().spawn({ name: 5 as never }), 'ERR_INVALID_ARG_TYPE', 'spawn: The "options.name" argument'],
    ['Machine.proc path undefined', () => boot().proc(undefined as never), 'ERR_INVALID_ARG_TYPE', 'proc: The "path" argument'],
    ['Machine.proc_write text a Symbol', () => boot().proc_write('/proc/sys/vm/swappiness', Symbol('x') as never), 'ERR_INVALID_ARG_TYPE', 'proc_write: The "text" argument'],
    ['Machine.cgroup_create name a Symbol', () => boot().cgroup_create(Symbol('x') as never), 'ERR_INVALID_ARG_TYPE', 'cgroup_create: The "name" argument'],
    ['store bytes [Object.create(null)]', () => p.store(0x10000, [Object.create(null)] as never), 'ERR_OUT_OF_RANGE', 'store: The value of "bytes[]"'],
  ]
  for (const [what, call, code, words] of bad) {
    it(`${what}: ${code}`, () => {
      const e = arg_error(call)
      expect(e?.code).toBe(code)
      expect(e?.type).toBe(code === 'ERR_INVALID_ARG_TYPE' ? 'TypeError' : 'RangeError')
      expect(e?.message).toContain(words)
    })
  }
})

describe('the C types narrower than a long, and loff_t', () => {
  it('mknod and ioctl see the low bits of what they are given; fadvise takes any 64-bit offset and length', () => {
    const p = proc()
    // ioctl's cmd is an unsigned int: 2^32 + cmd is cmd; a bad descriptor is EBADF whatever the cmd.
    expect(p.sys_ioctl(99, 2 ** 32 + 5)).toBe(-9)
    expect(p.sys_ioctl(99, -1n as never)).toBe(-9)
    const fd = p.open('/tmp/fa', 0o102)
    // An offset past 2^31 is a loff_t C passes: the kernel answers (0), no RangeError.
    expect(p.sys_fadvise(fd, 2 ** 40, 4096, 3)).toBe(0)
    expect(p.sys_fadvise(fd, 0, -1, 3)).toBe(-22)
    expect(p.sys_fadvise(fd, 2n ** 62n, 0, 0)).toBe(0)
  })
})

describe('a process asleep in a call', () => {
  it('may still be accessed; a fault that kills it asleep takes it off its wait queue (do_exit)', () => {
    const m = boot()
    const p = proc(m)
    const a = p.mmap(0, 4096, RW, ANON)
    // poll on nothing ready with an infinite timeout sleeps.
    const s = p.begin_poll([], -1)
    expect(typeof s).not.toBe('number')
    expect(p.sleeping).not.toBeNull()
    expect([...p.load(a, 1)]).toEqual([0])
    expect(() => p.store(0x10, [1])).toThrow(SignalError)
    expect(p.alive).toBe(false)
    expect(p.sleeping).toBeNull()
    m.check()
  })
})

describe('every integer is a register value: the kernel answers', () => {
  it('lengths and addresses of any size or sign, number or bigint, get the errno Linux gives', () => {
    const p = proc()
    expect(p.sys_mmap(0, -4096, RW, ANON)).toBe(-12) // 2^64 - 4096 > TASK_SIZE: ENOMEM
    expect(p.sys_mmap(-8192, 4096, RW, ANON | 0x10)).toBe(-12) // MAP_FIXED at 2^64 - 8192
    expect(p.sys_mmap(0, 2n ** 64n - 4096n, RW, ANON)).toBe(-12)
    expect(p.sys_munmap(2 ** 63, 4096)).toBe(-22)
    const a = p.mmap(0, 8192, RW, ANON)
    expect(p.sys_madvise(a, -(2 ** 31), 2)).toBe(-22) // MADV_SEQUENTIAL of 2^64 - 2^31 bytes: end wraps
    expect(p.sys_mprotect(a, 2 ** 64, PROT_READ)).toBe(0) // 2^64 is 0 in the register: a no-op
    expect(p.sys_brk(2n ** 64n - 4096n)).toBe(p.sys_brk(0)) // past TASK_SIZE: the old break
    p.store(a, [1, 2, 3])
    expect([...p.load(a, 3)]).toEqual([1, 2, 3])
  })
})

describe('user accesses the page tables never translate', () => {
  // The real kernel's answers (test/fixtures/probes/user_access_traps.c, recorded on 6.18).
  const lines = readFileSync(new URL('../fixtures/probes/user_access_traps.txt', import.meta.url), 'utf8').trim().split('\n')
  for (const line of lines) {
    const [, hex, code, si_addr] = /^load (0x[0-9a-f]+): SEGV si_code=(\d+) si_addr=(0x[0-9a-f]+|0)$/.exec(line) as RegExpExecArray
    it(`a load at ${hex} is SIGSEGV si_code ${code}, si_addr ${si_addr}, and the machine goes on`, () => {
      const m = boot()
      const p = proc(m)
      const addr = BigInt(hex)
      // The address as a caller passes it: a negative number, a bigint, or a plain number.
      const arg = addr >= 2n ** 63n ? (addr - 2n ** 64n > -(2n ** 53n) ? Number(addr - 2n ** 64n) : addr) : Number(addr)
      let err: unknown
      try {
        p.load(arg, 1)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(SignalError)
      const s = err as SignalError
      expect(s.signal).toBe('SIGSEGV')
      expect(s.si_code).toBe(Number(code))
      expect(BigInt(s.addr)).toBe(BigInt(si_addr))
      expect(p.wait()).toBe('signal:SIGSEGV')
      m.check()
      // The machine goes on: another process runs and exits.
      const q = proc(m)
      q.store(q.mmap(0, 4096, RW, ANON), [1])
      q.exit(0)
      m.check()
    })
  }

  it('store(-745) kills with SIGSEGV at 2^64 - 745 and the exit that follows is clean', () => {
    const m = boot()
    const p = proc(m)
    expect(() => p.store(-745, [1, 2])).toThrow(SignalError)
    const q = proc(m)
    expect(() => q.store(-745, [1])).toThrow(SignalError)
    expect(() => q.exit(0)).toThrow(ErrnoError) // it died of the signal already: ESRCH
    m.check()
  })

  it('on i386 a negative address wraps to 32 bits: a kernel address, SEGV_MAPERR there', () => {
    const m = boot({ arch: 'i386' })
    const p = proc(m)
    let err: unknown
    try {
      p.load(-745, 1)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SignalError)
    expect([(err as SignalError).code, (err as SignalError).addr]).toEqual(['SEGV_MAPERR', 2 ** 32 - 745])
  })
})
