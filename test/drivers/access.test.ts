/**
 * scull's access-controlled devices (LDD3 ch. 6; SPEC §3.2; acceptance
 * T-ACC-1; SECURITY.md S-B9, S-L2): scullsingle's single open, sculluid's
 * owner rule (uid or euid, CAP_DAC_OVERRIDE), scullwuid's sleeping open
 * woken by the owner's last close (EAGAIN with O_NONBLOCK), and
 * scullpriv's device per controlling terminal, capped.
 */
import { describe, it, expect } from 'vitest'
import { boot } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import type { Sleeping } from '../../src/kernel/wait.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../../src/include/uapi/fcntl.js'
import { EAGAIN, EBUSY, EINVAL, ENOMEM } from '../../src/include/errno.js'
import { MAJOR, MINOR, MKDEV } from '../../src/fs/fs.js'
import { scull_module } from '../../src/drivers/scull/main.js'
import { SCULLPRIV_MAX_DEVS } from '../../src/drivers/scull/access.js'
import { STAFF_GID } from '../../src/drivers/module.js'

const PG = 4096
const PTS = (n: number): number => MKDEV(136, n)

function setup(): { m: Machine; mod: ReturnType<typeof scull_module> } {
  const m = boot({ ram: '128M' })
  const mod = scull_module()
  m.insmod(mod)
  return { m, mod }
}

/** A user of the group the load script gives the nodes (staff), who may write them (0664). */
function user(m: Machine, uid: number, tty = 0): { p: Process; buf: number } {
  const p = m.spawn({ name: `u${uid}`, uid, tty, gid: STAFF_GID })
  return { p, buf: p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS) }
}

function asleep(r: Sleeping | number): Sleeping {
  if (typeof r === 'number') throw new Error(`expected the call to sleep, got ${r}`)
  return r
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('the "sculla" region', () => {
  it('T-ACC-1: four devices after the pipes (minors 8-11), "sculla" in /proc/devices, "registered at" in the log; rmmod removes them', () => {
    const { m } = setup()
    expect(m.proc('/proc/devices')).toContain('\n254 scull\n254 scullp\n254 sculla\n')
    ;['scullsingle', 'sculluid', 'scullwuid', 'scullpriv'].forEach((name, i) => {
      const n = m.fs.lookup(`/dev/${name}`)!
      expect([MAJOR(n.i_rdev), MINOR(n.i_rdev), n.i_mode.toString(8)]).toEqual([254, 8 + i, '20664'])
      expect(m.dmesg()).toContain(`${name} registered at ${MKDEV(254, 8 + i).toString(16)}`)
    })
    m.rmmod('scull')
    expect(m.fs.lookup('/dev/scullpriv')).toBeNull()
    expect(m.proc('/proc/devices')).not.toContain('sculla')
  })
})

describe('scullsingle', () => {
  it('T-ACC-1: a second open is EBUSY, also from another process; after the close it opens again; a scull device underneath', () => {
    const { m } = setup()
    const { p, buf } = user(m, 1000)
    const fd = p.open('/dev/scullsingle', O_RDWR)
    expect(p.sys_open('/dev/scullsingle', O_RDONLY)).toBe(-EBUSY)
    expect(user(m, 0).p.sys_open('/dev/scullsingle', O_RDONLY)).toBe(-EBUSY)
    p.store(buf, text('single'))
    expect(p.write(fd, buf, 6)).toBe(6)
    p.close(fd)
    const again = p.open('/dev/scullsingle', O_RDONLY)
    expect(p.read(again, buf + 100, 100)).toBe(6)
    expect(new TextDecoder().decode(p.load(buf + 100, 6))).toBe('single')
    // a write-only open trims, as scull's does
    p.close(again)
    p.close(p.open('/dev/scullsingle', O_WRONLY))
    expect(p.read(p.open('/dev/scullsingle', O_RDONLY), buf, 100)).toBe(0)
  })
})

describe('sculluid', () => {
  it('T-ACC-1: held by uid 1000, uid 1001 gets EBUSY (not EPERM); the owner and root (CAP_DAC_OVERRIDE) open it; free again, 1001 owns it', () => {
    const { m } = setup()
    const a = user(m, 1000).p
    const b = user(m, 1001).p
    const fa = a.open('/dev/sculluid', O_RDWR)
    expect(b.sys_open('/dev/sculluid', O_RDONLY)).toBe(-EBUSY)
    const fa2 = a.open('/dev/sculluid', O_RDONLY)
    const root = user(m, 0).p
    const fr = root.open('/dev/sculluid', O_RDONLY)
    a.close(fa)
    expect(b.sys_open('/dev/sculluid', O_RDONLY)).toBe(-EBUSY) // still open twice
    a.close(fa2)
    root.close(fr)
    const fb = b.open('/dev/sculluid', O_RDONLY)
    expect(a.sys_open('/dev/sculluid', O_RDONLY)).toBe(-EBUSY)
    b.close(fb)
  })
})

describe('scullwuid', () => {
  it('T-ACC-1: another uid sleeps in open until the owner\'s last close; with O_NONBLOCK it is EAGAIN', () => {
    const { m } = setup()
    const a = user(m, 1000)
    const b = user(m, 1001)
    const fa = a.p.open('/dev/scullwuid', O_WRONLY)
    const fa2 = a.p.open('/dev/scullwuid', O_RDONLY)
    expect(b.p.sys_open('/dev/scullwuid', O_RDONLY | O_NONBLOCK)).toBe(-EAGAIN)
    const s = asleep(b.p.begin_open('/dev/scullwuid', O_RDONLY))
    expect(s.syscall).toBe('open')
    expect(m.proc(`/proc/${b.p.pid}/stat`).split(' ')[2]).toBe('S')
    a.p.store(a.buf, text('from a'))
    expect(a.p.write(fa, a.buf, 6)).toBe(6)
    a.p.close(fa)
    expect(s.result).toBeNull() // one open left
    a.p.close(fa2)
    expect(s.result).toBeGreaterThanOrEqual(0)
    expect(b.p.sleeping).toBeNull()
    const fb = s.result!
    expect(b.p.read(fb, b.buf, 100)).toBe(6)
    expect(new TextDecoder().decode(b.p.load(b.buf, 6))).toBe('from a')
    // now b owns it: a would sleep
    expect(a.p.sys_open('/dev/scullwuid', O_RDONLY | O_NONBLOCK)).toBe(-EAGAIN)
  })

  it('two sleepers of different uids: the last close wakes both; one gets it, the other sleeps again', () => {
    const { m } = setup()
    const a = user(m, 1000).p
    const fa = a.open('/dev/scullwuid', O_RDONLY)
    const s1 = asleep(user(m, 1001).p.begin_open('/dev/scullwuid', O_RDONLY))
    const c = user(m, 1002).p
    const s2 = asleep(c.begin_open('/dev/scullwuid', O_RDONLY))
    a.close(fa)
    expect(s1.result).toBeGreaterThanOrEqual(0)
    expect(s2.result).toBeNull()
    expect(c.sleeping).toBe(s2)
  })
})

describe('scullpriv', () => {
  it('T-ACC-1: one device per controlling terminal: processes of one tty share it, another tty has its own, no tty is EINVAL', () => {
    const { m, mod } = setup()
    const a = user(m, 1000, PTS(0))
    const b = user(m, 1001, PTS(0))
    const c = user(m, 1000, PTS(1))
    expect(user(m, 1000).p.sys_open('/dev/scullpriv', O_RDONLY)).toBe(-EINVAL)
    const fa = a.p.open('/dev/scullpriv', O_RDWR)
    a.p.store(a.buf, text('pts0'))
    expect(a.p.write(fa, a.buf, 4)).toBe(4)
    expect(b.p.read(b.p.open('/dev/scullpriv', O_RDONLY), b.buf, 100)).toBe(4)
    expect(c.p.read(c.p.open('/dev/scullpriv', O_RDONLY), c.buf, 100)).toBe(0)
    // a forked child has its parent's terminal
    const child = a.p.fork()
    expect(child.read(child.open('/dev/scullpriv', O_RDONLY), a.buf + 100, 100)).toBe(4)
    expect(mod.access!.scull_c_list.map((l) => l.key)).toEqual([PTS(0), PTS(1)])
  })

  it('S-B9/S-L2: at most SCULLPRIV_MAX_DEVS devices (ENOMEM past them); each is a kmalloc\'d item; rmmod frees them all', () => {
    const { m, mod } = setup()
    for (let i = 0; i < SCULLPRIV_MAX_DEVS; i++) {
      const p = m.spawn({ name: 'login', uid: 1000, tty: PTS(i), gid: STAFF_GID })
      p.close(p.open('/dev/scullpriv', O_RDONLY))
      p.exit(0)
    }
    expect(mod.access!.scull_c_list.length).toBe(SCULLPRIV_MAX_DEVS)
    // each item is a live kmalloc object of its own (struct scull_listitem: 192 bytes on x86_64)
    const items = mod.access!.scull_c_list.map((l) => l.kaddr)
    expect(new Set(items).size).toBe(SCULLPRIV_MAX_DEVS)
    for (const a of items) expect(m.slab.ksize(a)).toBe(192)
    const late = m.spawn({ name: 'login', uid: 1000, tty: PTS(SCULLPRIV_MAX_DEVS) })
    expect(late.sys_open('/dev/scullpriv', O_RDONLY)).toBe(-ENOMEM)
    // an existing terminal's device still opens
    const again = m.spawn({ name: 'again', uid: 1000, tty: PTS(3) })
    again.close(again.open('/dev/scullpriv', O_RDONLY))
    late.exit(0)
    again.exit(0)
    const access = mod.access!
    m.rmmod('scull')
    expect(access.scull_c_list).toEqual([])
    expect(mod.access).toBeNull()
  })
})
