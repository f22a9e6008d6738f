/** /proc/sys and /proc/version: the files Linux users type first, read and written as proc_dointvec does. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ErrnoError, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/index.js'
import { boot } from '../helpers.js'

function errno_of(f: () => unknown): string {
  try {
    f()
  } catch (e) {
    return e instanceof ErrnoError ? e.code : (e as Error).name
  }
  return 'ok'
}

describe('/proc/sys', () => {
  it('reads Linux 6.18\'s defaults and the machine\'s computed values', () => {
    const m = boot({ ram: '64M' })
    const r = (p: string): string => m.proc(`/proc/sys/${p}`)
    expect(r('vm/overcommit_memory')).toBe('0\n')
    expect(r('vm/overcommit_ratio')).toBe('50\n')
    expect(r('vm/swappiness')).toBe('60\n')
    expect(r('vm/max_map_count')).toBe('65530\n')
    expect(r('vm/dirty_ratio')).toBe('20\n')
    expect(r('vm/dirty_background_ratio')).toBe('10\n')
    expect(r('vm/dirty_expire_centisecs')).toBe('3000\n')
    expect(r('vm/dirty_writeback_centisecs')).toBe('500\n')
    expect(r('vm/dirty_bytes')).toBe('0\n')
    expect(r('vm/dirty_background_bytes')).toBe('0\n')
    expect(r('vm/page-cluster')).toBe('3\n')
    expect(r('vm/watermark_scale_factor')).toBe('10\n')
    expect(r('vm/min_free_kbytes')).toBe(`${m.min_free_kbytes}\n`)
    expect(r('kernel/randomize_va_space')).toBe('2\n')
    expect(boot({ ram: '64M', randomize_va_space: 0 }).proc('/proc/sys/kernel/randomize_va_space')).toBe('0\n')
  })

  it('writes take effect: overcommit_memory 2 refuses what heuristic overcommit allows', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'app' })
    const big = 32 * 2 ** 20 // under MemTotal (~46 MiB: heuristic allows it), over CommitLimit (half of it: strict refuses)
    const a = p.mmap(0, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    p.munmap(a, big)
    m.proc_write('/proc/sys/vm/overcommit_memory', '2\n')
    expect(m.proc('/proc/sys/vm/overcommit_memory')).toBe('2\n')
    expect(errno_of(() => p.mmap(0, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS))).toBe('ENOMEM')
  })

  it('randomize_va_space written to 0 gives the next exec the fixed layout', () => {
    const m = boot({ ram: '64M' })
    expect(m.spawn({ name: 'a' }).mm.start_code).not.toBe(0x555555556000)
    m.proc_write('/proc/sys/kernel/randomize_va_space', '0')
    expect(m.spawn({ name: 'b' }).mm.start_code).toBe(0x555555556000)
  })

  it('min_free_kbytes recomputes the watermarks', () => {
    const m = boot({ ram: '64M' })
    const mins = (): number[] => [...m.proc('/proc/zoneinfo').matchAll(/^ {8}min +(\d+)$/gm)].map((x) => Number(x[1]))
    const before = mins()
    m.proc_write('/proc/sys/vm/min_free_kbytes', String(m.min_free_kbytes * 2))
    const after = mins()
    expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(before.reduce((a, b) => a + b, 0))
  })

  it('bad values are EINVAL, fixed sysctls EACCES, other /proc files EACCES, unknown paths ENOENT', () => {
    const m = boot({ ram: '64M' })
    expect(errno_of(() => m.proc_write('/proc/sys/vm/overcommit_memory', '3'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/swappiness', '201'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/swappiness', 'x'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/max_map_count', '-1'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/watermark_scale_factor', '30'))).toBe('EACCES')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/dirty_ratio', '101'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/dirty_bytes', '8191'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/dirty_bytes', '-8192'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/dirty_background_bytes', '0'))).toBe('EINVAL')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/dirty_bytes', String(2 ** 45)))).toBe('ERANGE')
    expect(m.proc('/proc/sys/vm/dirty_bytes')).toBe('0\n')
    expect(errno_of(() => m.proc_write('/proc/meminfo', '1'))).toBe('EACCES')
    expect(errno_of(() => m.proc_write('/proc/sys/vm/nope', '1'))).toBe('ProcNotFound')
    expect(m.proc('/proc/sys/vm/swappiness')).toBe('60\n')
  })

  it('a write takes one integer with blanks around it, as proc_dointvec parses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.constantFrom('', ' ', '\t'), fc.constantFrom('', '\n', ' \n'), (n, pre, post) => {
        const m = boot({ ram: '64M' })
        m.proc_write('/proc/sys/vm/swappiness', `${pre}${n}${post}`)
        return m.proc('/proc/sys/vm/swappiness') === `${n}\n` && m.mm_env.sysctl.swappiness === n
      }),
      { numRuns: 20 },
    )
  })
})

describe('/proc/version', () => {
  it('is the boot log\'s first line', () => {
    const m = boot({ ram: '64M' })
    const v = m.proc('/proc/version')
    expect(v).toMatch(/^Linux version 6\.18\.44-fc-v595 \(/)
    expect(m.dmesg()).toContain(v.trimEnd())
  })
})
