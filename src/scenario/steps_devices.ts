/**
 * The scenario steps beyond the Process and slab APIs (docs/scenarios.md):
 * loading drivers (insmod, rmmod), ioctl and interrupts of their devices,
 * memory cgroups, kernel threads, kmap, `why`, and page replacement on a
 * reference string. run.ts dispatches here; the records are the same
 * shape as its own.
 */
import type { Machine } from '../machine.js'
import type { Process } from '../user/process.js'
import type { Cgroup } from '../user/cgroup.js'
import type { Page } from '../mm/page.js'
import { ErrnoError, SignalError } from '../user/errors.js'
import { why_addr, why_pfn } from './why.js'
import { replacement_table } from './refstring.js'
import { ScenarioRunError, enum_text, flags, hex_addr, type FlagsSrc, type ValueSrc } from './values.js'
import type { OpName } from './schema.js'

/** The part of a step record these steps fill (run.ts's StepRecord extends it). */
export interface DeviceRecord {
  /** The process that made the call ('kernel' for the kernel API, '' for looks inside). */
  who: string
  /** The call as C would write it. */
  call: string
  /** Its return value (a number, or text for loads and reads). */
  ret?: number | string
  errno?: string
  signal?: { signal: string; code: string; addr: number | bigint }
  /** The text a look inside printed (a /proc file, pmap, dmesg). */
  text?: string
}

/** What these steps need of the running scenario (run.ts's Run). */
export interface DeviceCtx {
  readonly m: Machine
  readonly cgroups: Map<string, Cgroup>
  readonly procs: Map<string, Process>
  current: string | null
  proc(name?: string): [string, Process]
  v(x: ValueSrc | undefined, dflt?: number): number
  bind(name: string | undefined, n: number | undefined): void
}

export const DEVICE_OPS: ReadonlySet<OpName> = new Set<OpName>(['read', 'write', 'why', 'insmod', 'rmmod', 'ioctl', 'irq', 'cgroup_create', 'cgroup_attach', 'kthread', 'kmap', 'kunmap', 'kmap_local', 'kunmap_local', 'replacement'])

/** Call a Process method, turning its errors into the record's errno or signal. */
export function sys(rec: DeviceRecord, fn: () => number | string | void): void {
  try {
    const r = fn()
    rec.ret = r === undefined ? 0 : r
  } catch (e) {
    if (e instanceof ErrnoError) rec.errno = e.code
    else if (e instanceof SignalError) rec.signal = { signal: e.signal, code: e.code, addr: e.addr }
    else throw e
  }
}

const hex = hex_addr

/** Run one of DEVICE_OPS, filling `rec`. */
export function device_step(run: DeviceCtx, op: OpName, args: unknown, rec: DeviceRecord): void {
  const a = (typeof args === 'object' && args !== null ? args : {}) as Record<string, unknown>
  const scalar = typeof args === 'object' ? undefined : (args as string | number)
  const m = run.m
  const k = m.kernel
  switch (op) {
    case 'read':
    case 'write': {
      // read(2)/write(2) at the file position, through the process's own buffer: what a driver's
      // read and write (copy_to_user, copy_from_user) need.
      const [who, p] = run.proc()
      const [fd, buf, len] = [run.v(a.fd as ValueSrc), run.v(a.buf as ValueSrc), run.v(a.len as ValueSrc)]
      Object.assign(rec, { who, call: `${op}(${fd}, ${hex(buf)}, ${len})` })
      sys(rec, () => {
        const r = op === 'read' ? p.sys_read(fd, buf, len) : p.sys_write(fd, buf, len)
        if (r < 0) throw new ErrnoError(-r, op)
        return r
      })
      break
    }
    case 'why': {
      const self = run.current !== null ? (run.procs.get(run.current) ?? null) : null
      if (a.pfn !== undefined) {
        const pfn = run.v(a.pfn as ValueSrc)
        Object.assign(rec, { call: `why pfn:${hex(pfn)}`, text: why_pfn(m, pfn) })
      } else {
        if (scalar === undefined && a.addr === undefined) throw new ScenarioRunError('expected an address or {pfn: N}')
        const addr = run.v((scalar ?? a.addr) as ValueSrc)
        Object.assign(rec, { call: `why ${hex(addr)}`, text: why_addr(m, addr, self) })
      }
      break
    }
    case 'insmod': {
      const name = scalar !== undefined ? String(scalar) : (a.module as string)
      const params = (a.params ?? {}) as Record<string, string | number>
      const ps = Object.entries(params).map(([key, v]) => ` ${key}=${String(v)}`).join('')
      Object.assign(rec, { who: 'root', call: `insmod ${name}${ps}` })
      sys(rec, () => m.insmod(name, params))
      break
    }
    case 'rmmod': {
      const name = scalar !== undefined ? String(scalar) : (a.module as string)
      Object.assign(rec, { who: 'root', call: `rmmod ${name}` })
      sys(rec, () => m.rmmod(name))
      break
    }
    case 'ioctl': {
      const [who, p] = run.proc()
      const fd = run.v(a.fd as ValueSrc)
      const cmd = flags(a.cmd as FlagsSrc, 'ioctl')
      const arg = run.v(a.arg as ValueSrc | undefined, 0)
      Object.assign(rec, { who, call: `ioctl(${fd}, ${enum_text(cmd, 'ioctl')}, ${arg})` })
      sys(rec, () => p.ioctl(fd, cmd, arg))
      break
    }
    case 'irq': {
      const irq = scalar !== undefined ? Number(scalar) : (a.irq as number)
      Object.assign(rec, { who: 'device', call: `raise IRQ ${irq}`, ret: m.raise_irq(irq) ? 'IRQ_HANDLED' : 'IRQ_NONE' })
      break
    }
    case 'cgroup_create': {
      const name = a.name as string
      const limit = a.limit === undefined ? undefined : run.v(a.limit as ValueSrc)
      Object.assign(rec, { who: 'root', call: `mkdir /sys/fs/cgroup/memory/${name}${limit !== undefined ? `; echo ${limit} > memory.limit_in_bytes` : ''}${a.swappiness !== undefined ? `; echo ${String(a.swappiness)} > memory.swappiness` : ''}` })
      sys(rec, () => {
        run.cgroups.set(name, m.cgroup_create(name, { limit, swappiness: a.swappiness as number | undefined }))
      })
      break
    }
    case 'cgroup_attach': {
      const g = run.cgroups.get(a.cgroup as string)
      if (!g) throw new ScenarioRunError(`no cgroup '${String(a.cgroup)}' (create it with cgroup_create first)`)
      const [who, p] = run.proc(a.process as string | undefined)
      Object.assign(rec, { who: 'root', call: `echo ${p.pid} > /sys/fs/cgroup/memory/${g.name}/cgroup.procs  (${who})` })
      sys(rec, () => g.attach(p))
      break
    }
    case 'kthread': {
      const name = scalar !== undefined ? String(scalar) : (a.name as string)
      // Run it where the current process last ran, so it borrows that address space.
      const cpu = (a.cpu as number | undefined) ?? (run.current !== null ? (run.procs.get(run.current)?.cpu ?? 0) : 0)
      if (cpu >= m.cpus) throw new ScenarioRunError(`cpu ${cpu}: this machine has ${m.cpus} CPUs`)
      const prev = m.syscalls.sched.current[cpu]
      const t = m.syscalls.kthread_create(name)
      rec.who = 'kernel'
      rec.call = `kthread_run(${JSON.stringify(name)}) on CPU ${cpu}`
      if (!t) {
        rec.errno = 'ENOMEM'
        rec.ret = 0
        break
      }
      m.syscalls.sched.switch_to(cpu, t)
      const owner = [...run.procs].find(([, p]) => p.mm === t.active_mm)
      const borrowed = t.active_mm ? `active_mm = ${owner ? `${owner[0]}'s mm` : 'an mm'} (mm_users ${t.active_mm.mm_users}, mm_count ${t.active_mm.mm_count})` : 'active_mm = NULL (the CPU was idle with no user mm)'
      rec.ret = `pid ${t.pid}, mm = NULL, ${borrowed}; previous task on CPU ${cpu}: ${prev ? `${prev.comm} (pid ${prev.pid})` : 'idle'}`
      break
    }
    case 'kmap':
    case 'kmap_local': {
      const page = run.v(a.page as ValueSrc)
      const fn = op === 'kmap' ? 'kmap' : 'kmap_local_page'
      Object.assign(rec, { who: 'kernel', call: `${fn}(pfn ${hex(page)})` })
      rec.ret = op === 'kmap' ? k.kmap(page as Page) : k.kmap_local_page(page as Page)
      run.bind(a.as as string | undefined, rec.ret)
      break
    }
    case 'kunmap': {
      const page = run.v((scalar ?? a.page) as ValueSrc)
      Object.assign(rec, { who: 'kernel', call: `kunmap(pfn ${hex(page)})`, ret: 0 })
      k.kunmap(page as Page)
      break
    }
    case 'kunmap_local': {
      const addr = run.v((scalar ?? a.addr) as ValueSrc)
      Object.assign(rec, { who: 'kernel', call: `kunmap_local(${hex(addr)})`, ret: 0 })
      k.kunmap_local(addr)
      break
    }
    case 'replacement': {
      const refs = typeof a.refs === 'string' ? a.refs.trim().split(/[\s,]+/).map(Number) : (a.refs as number[])
      const policies = (a.policies as string[] | undefined) ?? ['fifo', 'lru', 'opt']
      const frames = a.frames as number
      Object.assign(rec, { call: `replacement of ${refs.length} references in ${frames} frames`, text: replacement_table(refs, frames, policies as never) })
      break
    }
    default:
      throw new ScenarioRunError(`not a device step: ${op}`)
  }
}
