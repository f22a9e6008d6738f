/**
 * The /proc files against the real 6.18 x86_64 files in
 * test/fixtures/reference (facts recorded from a real machine): same lines,
 * labels and column layout; the numbers are the simulated machine's own.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'

const ref = (name: string): string => readFileSync(new URL(`../fixtures/reference/${name}`, import.meta.url), 'utf8')
/** A line's shape: digits replaced by 9 keeping widths. */
const shape = (line: string): string => line.replace(/\d/g, '9')
/** A line's labels: numbers removed, spaces collapsed. */
const labels = (line: string): string => line.replace(/\d+/g, '').replace(/\s+/g, ' ')

describe('/proc formats match a real Linux 6.18 x86_64 machine', () => {
  const m = boot({ ram: '8G' })

  it('/proc/meminfo has the same fields in the same order and columns', () => {
    const ours = m.proc('/proc/meminfo').split('\n')
    const theirs = ref('meminfo.txt').split('\n')
    expect(ours.map((l) => l.split(':')[0])).toEqual(theirs.map((l) => l.split(':')[0]))
    for (let i = 0; i < ours.length; i++) {
      // The value column ends at the same place unless the number is wider than 8 digits.
      if (!/VmallocTotal/.test(ours[i])) expect(ours[i].length).toBe(theirs[i].length)
    }
  })

  it('/proc/buddyinfo has the same columns', () => {
    const ours = m.proc('/proc/buddyinfo').trimEnd().split('\n')
    const theirs = ref('buddyinfo.txt').trimEnd().split('\n')
    expect(ours.map((l) => l.slice(0, 21))).toEqual(theirs.map((l) => l.slice(0, 21)))
    for (let i = 0; i < ours.length; i++) expect(ours[i].length).toBe(theirs[i].length)
  })

  it('/proc/pagetypeinfo has the same layout', () => {
    const ours = m.proc('/proc/pagetypeinfo').split('\n')
    const theirs = ref('pagetypeinfo.txt').split('\n')
    expect(ours.length).toBe(theirs.length)
    for (let i = 0; i < ours.length; i++) expect(labels(ours[i])).toBe(labels(theirs[i]))
    for (let i = 0; i < ours.length; i++) if (!/^Node 0, zone/.test(ours[i])) expect(shape(ours[i]).length).toBe(shape(theirs[i]).length)
  })

  it('/proc/zoneinfo prints every zone with the kernel field sequence', () => {
    const ours = m.proc('/proc/zoneinfo').split('\n')
    const theirs = ref('zoneinfo.txt').split('\n')
    expect(ours.map(labels)).toEqual(theirs.map(labels))
  })

  it('/proc/vmstat prints the kernel items in the kernel order (vm events as enum vm_event_item)', () => {
    const name = (l: string): string => l.split(' ')[0]
    expect(m.proc('/proc/vmstat').split('\n').map(name)).toEqual(ref('vmstat.txt').split('\n').map(name))
  })

  it('/proc/iomem nests the kernel image inside System RAM', () => {
    const iomem = m.proc('/proc/iomem')
    expect(iomem).toMatch(/^00000000-00000fff : Reserved\n00001000-0009fbff : System RAM\n/)
    expect(iomem).toMatch(/\n {2}01000000-[0-9a-f]{8} : Kernel code\n/)
    expect(iomem).toMatch(/\n100000000-[0-9a-f]+ : System RAM\n/)
  })

  it('/proc paths mmsim lacks fail with ENOENT', () => {
    expect(() => m.proc('/proc/nope')).toThrow(/ENOENT/)
  })
})
