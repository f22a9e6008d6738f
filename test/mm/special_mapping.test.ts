/** [vvar], [vvar_vclock] and [vdso]: placed, flagged, faulted and counted as Linux 6.18 does. */
import { describe, expect, it } from 'vitest'
import { Machine, SignalError } from '../../src/index.js'
import { MAP_FIXED, MAP_PRIVATE, MAP_ANONYMOUS, PROT_READ, PROT_WRITE, MREMAP_MAYMOVE } from '../../src/include/uapi/mman.js'

function vmas(m: Machine, pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const l of m.proc(`/proc/${pid}/maps`).split('\n')) {
    const name = l.split(/\s+/)[5]
    if (name && /^\[v/.test(name)) out.set(name, parseInt(l.split('-')[0], 16))
  }
  return out
}

function block(m: Machine, pid: number, name: string): string {
  return m.proc(`/proc/${pid}/smaps`).split(/\n(?=[0-9a-f]+-)/).find((b) => b.split('\n')[0].endsWith(name)) ?? ''
}

describe('special mappings', () => {
  it('exec maps [vvar] (4 pages), [vvar_vclock] (2) and [vdso] (2) with the reference machine flags', () => {
    const m = new Machine({ ram: '128M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const v = vmas(m, p.pid)
    expect(v.get('[vvar_vclock]')).toBe((v.get('[vvar]') as number) + 4 * 4096)
    expect(v.get('[vdso]')).toBe((v.get('[vvar_vclock]') as number) + 2 * 4096)
    expect(block(m, p.pid, '[vvar]')).toMatch(/VmFlags: rd mr pf io de dd \n?$/)
    expect(block(m, p.pid, '[vdso]')).toMatch(/VmFlags: rd ex mr mw me de \n?$/)
    expect(m.proc(`/proc/${p.pid}/maps`)).toMatch(/ r-xp 00000000 00:00 0 {26}\[vdso\]\n/)
  })

  it('the vDSO page is a shared kernel page counted in Rss; [vvar] is PFNMAP and never is', () => {
    const m = new Machine({ ram: '128M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const v = vmas(m, p.pid)
    expect([...p.load(v.get('[vdso]') as number, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]) // "\x7fELF"
    p.load(v.get('[vvar]') as number, 8)
    expect(block(m, p.pid, '[vdso]')).toMatch(/\nRss: +4 kB\n/)
    expect(block(m, p.pid, '[vvar]')).toMatch(/\nRss: +0 kB\n/)
    const c = p.fork()
    c.load(v.get('[vdso]') as number, 1)
    expect(block(m, p.pid, '[vdso]')).toMatch(/\nPss: +2 kB\n/)
    expect(block(m, p.pid, '[vdso]')).toMatch(/\nShared_Clean: +4 kB\n/)
    c.exit(0)
    p.exit(0)
    m.check()
  })

  it('[vvar_vclock] has no page without a paravirt clock: touching it is SIGBUS', () => {
    const m = new Machine({ ram: '128M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const at = vmas(m, p.pid).get('[vvar_vclock]') as number
    let err: unknown
    try {
      p.load(at, 1)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SignalError)
    expect((err as SignalError).signal).toBe('SIGBUS')
    m.check()
  })

  it('cannot be split, and MAP_FIXED over it replaces it like any mapping', () => {
    const m = new Machine({ ram: '128M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const vdso = vmas(m, p.pid).get('[vdso]') as number
    expect(() => p.mprotect(vdso, 4096, PROT_READ)).toThrow(/EINVAL/)
    // VM_DONTEXPAND: growing it is EFAULT (vma_to_resize())
    expect(() => p.mremap(vdso, 8192, 16384, MREMAP_MAYMOVE)).toThrow(/EFAULT/)
    p.mmap(vdso, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    expect(vmas(m, p.pid).has('[vdso]')).toBe(false)
    m.check()
  })
})

describe('kernel stacks', () => {
  it('every task gets a 16 KiB vmalloc stack from kernel_clone; exit gives it back to the per-CPU cache', () => {
    const m = new Machine({ ram: '128M', debug_vm: true })
    const ks = (): number => Number(/^KernelStack:\s+(\d+) kB$/m.exec(m.proc('/proc/meminfo'))?.[1])
    expect(ks()).toBe(0)
    const p = m.spawn({ name: 'app' })
    const c = p.fork()
    expect(ks()).toBe(32)
    expect(m.proc('/proc/vmallocinfo')).toMatch(/^0xffffc9[0-9a-f]{10}-0xffffc9[0-9a-f]{10} {3}20480 kernel_clone\+0x94\/0x3e0 pages=4 vmalloc N0=4$/m)
    c.exit(0)
    p.exit(0)
    expect(ks()).toBe(0)
    m.check()
  })
})
