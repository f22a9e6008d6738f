/**
 * scullpipe's blocking I/O and poll (LDD3 chapter 6; SPEC §3.1; T-PIPE-1's
 * non-blocking half is in scull.test.ts): a reader of an empty pipe sleeps
 * until a writer comes, a writer of a full one until a reader makes room,
 * and poll reports POLLIN|POLLRDNORM / POLLOUT|POLLWRNORM.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import type { Process } from '../../src/index.js'
import { ProcessAsleep } from '../../src/user/errors.js'
import type { Sleeping } from '../../src/kernel/wait.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_NONBLOCK, O_RDONLY, O_WRONLY } from '../../src/include/uapi/fcntl.js'
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../src/include/uapi/poll.js'
import { EINTR, EPERM, ESRCH } from '../../src/include/errno.js'
import { SIGTERM, SIGUSR1 } from '../../src/include/uapi/signal.js'
import { STAFF_GID } from '../../src/drivers/module.js'

function two(): { a: Process; b: Process; abuf: number; bbuf: number; m: ReturnType<typeof boot> } {
  const m = boot({ ram: '64M' })
  m.insmod('scull')
  const a = m.spawn({ name: 'reader', uid: 0 })
  const b = m.spawn({ name: 'writer', uid: 0 })
  const abuf = a.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const bbuf = b.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  return { m, a, b, abuf, bbuf }
}
const asleep = (r: Sleeping | number): Sleeping => {
  if (typeof r === 'number') throw new Error(`did not sleep: ${r}`)
  return r
}

describe('scullpipe blocking and poll', () => {
  it('a reader of an empty pipe sleeps (state S) until another process writes; then it gets the bytes', () => {
    const { m, a, b, abuf, bbuf } = two()
    const r = a.open('/dev/scullpipe0', O_RDONLY)
    const w = b.open('/dev/scullpipe0', O_WRONLY)
    const s = asleep(a.begin_read(r, abuf, 100))
    expect(s.result).toBeNull()
    expect(a.sleeping).toBe(s)
    expect(m.proc(`/proc/${a.pid}/stat`).split(' ')[2]).toBe('S')
    expect(() => a.load(abuf, 1)).not.toThrow() // a user access is not a syscall; the API still allows inspection
    expect(() => a.close(r)).toThrow(ProcessAsleep)
    b.store(bbuf, new TextEncoder().encode('hello'))
    expect(b.write(w, bbuf, 5)).toBe(5)
    expect(s.result).toBe(5)
    expect(a.sleeping).toBeNull()
    expect(new TextDecoder().decode(a.load(abuf, 5))).toBe('hello')
  })

  it('two sleeping readers: the first woken takes the data, the second sleeps again', () => {
    const { m, a, b, abuf, bbuf } = two()
    const c = m.spawn({ name: 'reader2', uid: 0 })
    const cbuf = c.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const ra = a.open('/dev/scullpipe0', O_RDONLY)
    const rc = c.open('/dev/scullpipe0', O_RDONLY)
    const w = b.open('/dev/scullpipe0', O_WRONLY)
    const sa = asleep(a.begin_read(ra, abuf, 100))
    const sc = asleep(c.begin_read(rc, cbuf, 100))
    b.store(bbuf, [1, 2, 3])
    b.write(w, bbuf, 3)
    expect(sa.result).toBe(3)
    expect(sc.result).toBeNull()
    expect(c.sleeping).toBe(sc)
    b.write(w, bbuf, 2)
    expect(sc.result).toBe(2)
  })

  it('a writer of a full pipe sleeps until a reader makes room', () => {
    const { a, b, abuf, bbuf } = two()
    const r = a.open('/dev/scullpipe0', O_RDONLY)
    const w = b.open('/dev/scullpipe0', O_WRONLY)
    expect(b.write(w, bbuf, 5000)).toBe(3999)
    const s = asleep(b.begin_write(w, bbuf, 10))
    expect(a.read(r, abuf, 1000)).toBe(1000)
    expect(s.result).toBe(1) // room up to the buffer's end: one byte before wrapping
  })

  it('poll masks: empty POLLOUT|POLLWRNORM, with data also POLLIN|POLLRDNORM, full only POLLIN|POLLRDNORM', () => {
    const { b, bbuf } = two()
    const w = b.open('/dev/scullpipe0', O_WRONLY | O_NONBLOCK)
    const fds = [{ fd: w, events: POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, revents: 0 }]
    expect(b.poll(fds)).toBe(1)
    expect(fds[0].revents).toBe(POLLOUT | POLLWRNORM)
    b.write(w, bbuf, 10)
    b.poll(fds)
    expect(fds[0].revents).toBe(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM)
    b.write(w, bbuf, 5000)
    b.poll(fds)
    expect(fds[0].revents).toBe(POLLIN | POLLRDNORM)
    fds[0].events = POLLOUT
    expect(b.poll(fds)).toBe(0)
  })

  it('poll with a timeout sleeps until a writer comes; a sleeping process can still be ended', () => {
    const { m, a, b, bbuf } = two()
    const r = a.open('/dev/scullpipe0', O_RDONLY)
    const w = b.open('/dev/scullpipe0', O_WRONLY)
    const fds = [{ fd: r, events: POLLIN, revents: 0 }]
    const s = asleep(a.begin_poll(fds, 1000))
    b.write(w, bbuf, 1)
    expect(s.result).toBe(1)
    expect(fds[0].revents).toBe(POLLIN)
    const c = m.spawn({ name: 'doomed', uid: 0 })
    const cbuf = c.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const rc = c.open('/dev/scullpipe1', O_RDONLY)
    asleep(c.begin_read(rc, cbuf, 10))
    c.exit(9)
    expect(c.wait()).toBe('exit:9')
    expect(m.syscalls.sleepers.asleep.size).toBe(0)
  })
})

describe('a sleeper interrupted by a signal (LDD3: -ERESTARTSYS)', () => {
  it('a caught signal wakes the sleeping reader: its handler runs, read returns EINTR; nothing is consumed', () => {
    const { m, a, b, abuf, bbuf } = two()
    const r = a.open('/dev/scullpipe0', O_RDONLY)
    const caught: number[] = []
    a.sigaction(SIGUSR1, (info) => caught.push(info.signo))
    const s = asleep(a.begin_read(r, abuf, 100))
    expect(b.sys_kill(a.pid, SIGUSR1)).toBe(0)
    expect(s.result).toBe(-EINTR)
    expect(caught).toEqual([SIGUSR1])
    expect(a.sleeping).toBeNull()
    // the pipe is intact: the next read gets what a writer puts in
    const w = b.open('/dev/scullpipe0', O_WRONLY)
    b.store(bbuf, [7, 8])
    b.write(w, bbuf, 2)
    expect(a.read(r, abuf, 10)).toBe(2)
    void m
  })

  it('a sleeping open of scullwuid is EINTR too; a signal with the default action ends the sleeper; kill checks', () => {
    const m = boot({ ram: '64M' })
    m.insmod('scull')
    const owner = m.spawn({ name: 'owner', uid: 1000, gid: STAFF_GID })
    owner.open('/dev/scullwuid', O_RDONLY)
    const waiter = m.spawn({ name: 'waiter', uid: 1001 })
    waiter.sigaction(SIGUSR1, () => {})
    const s = asleep(waiter.begin_open('/dev/scullwuid', O_RDONLY))
    // another user may not signal it (no CAP_KILL); root may
    expect(owner.sys_kill(waiter.pid, SIGUSR1)).toBe(-EPERM)
    const root = m.spawn({ name: 'root', uid: 0 })
    expect(root.sys_kill(waiter.pid, SIGUSR1)).toBe(0)
    expect(s.result).toBe(-EINTR)
    const s2 = asleep(waiter.begin_open('/dev/scullwuid', O_RDONLY))
    expect(root.sys_kill(waiter.pid, SIGTERM)).toBe(0)
    expect(waiter.alive).toBe(false)
    expect(waiter.status).toBe('signal:SIGTERM')
    expect(s2.result).toBeNull()
    expect(root.sys_kill(waiter.pid, SIGTERM)).toBe(-ESRCH)
  })
})
