/**
 * /proc/cpuinfo (src/fs/proc/cpuinfo.ts) against a real Linux 6.18's
 * (test/fixtures/reference/cpuinfo.txt, the first block of an x86-64
 * host's file): the same field names with the same tab layout in the same
 * order (less the lines the kernel leaves out for a CPU without microcode
 * revision, cache size or VMX), and fields that follow the machine.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/index.js'

const REF = readFileSync(new URL('../fixtures/reference/cpuinfo.txt', import.meta.url), 'utf8')
/** A block's "name<tabs>:" prefixes, in order. */
const keys = (block: string): string[] => block.split('\n').filter((l) => l !== '').map((l) => /^[^:]*:/.exec(l)![0])

function cpuinfo(opts: ConstructorParameters<typeof Machine>[0]): string {
  return new Machine({ ram: '64M', ...opts }).proc('/proc/cpuinfo')
}

describe('/proc/cpuinfo', () => {
  it('has the kernel\'s fields, separators and order, one block per CPU ending in a blank line', () => {
    const text = cpuinfo({ cpus: 3 })
    const blocks = text.split('\n\n')
    expect(blocks.pop()).toBe('')
    expect(blocks).toHaveLength(3)
    const omitted = new Set(['microcode\t:', 'cache size\t:', 'vmx flags\t:', 'TLB size\t:'])
    for (const b of blocks) expect(keys(b)).toEqual(keys(REF.split('\n\n')[0]).filter((k) => !omitted.has(k)))
    expect(blocks.map((b) => /^processor\t: (\d+)$/m.exec(b)![1])).toEqual(['0', '1', '2'])
    expect(blocks.map((b) => /^core id\t\t: (\d+)$/m.exec(b)![1])).toEqual(['0', '1', '2'])
    for (const b of blocks) {
      expect(b).toMatch(/^siblings\t: 3$/m)
      expect(b).toMatch(/^cpu cores\t: 3$/m)
      expect(b).toMatch(/^bogomips\t: 4000\.00$/m) // 2 * cpu MHz, as the TSC-calibrated delay loop gives
      expect(b).toMatch(/^cpu MHz\t\t: 2000\.000$/m)
    }
  })

  it('follows the machine: address sizes, paging features, PCID', () => {
    const x64 = cpuinfo({})
    expect(x64).toMatch(/^address sizes\t: 46 bits physical, 48 bits virtual$/m)
    const flags = (t: string): string[] => /^flags\t\t: (.*)$/m.exec(t)![1].split(' ')
    for (const f of ['pse', 'pae', 'pge', 'pat', 'nx', 'lm', 'pdpe1gb', 'pcid', 'invpcid']) expect(flags(x64)).toContain(f)
    expect(flags(x64)).not.toContain('la57') // 4-level paging
    expect(flags(cpuinfo({ pcid: false }))).not.toContain('pcid')
    const i386 = cpuinfo({ arch: 'i386' })
    expect(i386).toMatch(/^address sizes\t: 32 bits physical, 32 bits virtual$/m)
    expect(flags(i386)).not.toContain('pae')
    expect(flags(i386)).not.toContain('nx')
    expect(flags(i386)).not.toContain('lm')
    expect(keys(i386.split('\n\n')[0])).toContain('fdiv_bug\t:') // the 32-bit kernel's misc lines
    const pae = cpuinfo({ arch: 'i386-pae' })
    expect(pae).toMatch(/^address sizes\t: 36 bits physical, 32 bits virtual$/m)
    expect(flags(pae)).toEqual(expect.arrayContaining(['pae', 'nx']))
    expect(flags(pae)).not.toContain('lm')
  })
})
