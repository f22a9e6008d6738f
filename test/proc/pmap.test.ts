import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { pmap, parse_smaps } from '../../src/user/pmap.js'

const REF = new URL('../fixtures/reference', import.meta.url).pathname
const ref = (f: string): string => readFileSync(`${REF}/${f}`, 'utf8')
const smaps = ref('pid-smaps.txt')
// The [stack] VMA of the reference process is 7ffd644f1000-7ffd64512000; start_stack lies inside it.
const input = { pid: 6192, cmdline: 'sleep 30', start_stack: 0x7ffd64510f80n, smaps }

describe('pmap (procps-ng) from /proc/<pid>/smaps', () => {
  it('parses every VMA of the reference smaps', () => {
    const e = parse_smaps(smaps)
    expect(e.length).toBe(37)
    expect(e[0].path).toBe('/usr/bin/sleep')
    expect(e[0].fields.find(([k]) => k === 'Rss')?.[1]).toBe(8)
    expect(e[36].path).toBe('[vsyscall]')
  })
  it('pmap PID matches the reference byte for byte', () => {
    expect(pmap(input)).toBe(ref('pmap.txt'))
  })
  it('pmap -x PID matches the reference byte for byte', () => {
    expect(pmap(input, 'x')).toBe(ref('pmap-x.txt'))
  })
  it('pmap -X PID matches the reference byte for byte', () => {
    // pmap-XX.txt (made with -X) was taken a moment after pid-smaps.txt: the Pss of two shared
    // file VMAs (LC_CTYPE 22 -> 20 kB, libc r-x 91 -> 85 kB) changed as other processes mapped
    // them. Feed the smaps the Pss values that pmap saw; every other byte comes from pid-smaps.txt.
    const lines = smaps.split('\n')
    const fix = (vma: string, pss: number): void => {
      const i = lines.findIndex((l) => l.startsWith(vma))
      const j = lines.findIndex((l, k) => k > i && l.startsWith('Pss:'))
      lines[j] = 'Pss:            ' + String(pss).padStart(8) + ' kB'
    }
    fix('7fe70eb39000-', 20)
    fix('7fe70ebc2000-', 85)
    expect(pmap({ ...input, smaps: lines.join('\n') }, 'X')).toBe(ref('pmap-XX.txt'))
  })
  it('pmap -XX adds the hidden fields and VmFlags', () => {
    const out = pmap(input, 'XX')
    const header = out.split('\n')[1]
    expect(header).toContain('KernelPageSize')
    expect(header).toContain('Private_Dirty')
    expect(header).toContain('VmFlags')
    expect(out.split('\n')[2]).toContain('rd mr mw me')
  })
  it('the stack is found by start_stack, not by name', () => {
    const moved = pmap({ ...input, start_stack: 0n })
    expect(moved).not.toContain('[ stack ]')
  })
})

describe('pmap on a 32-bit machine', () => {
  it('prints 8-digit addresses and an 8-column total', () => {
    const smaps32 = [
      '08048000-0804a000 r-xp 00000000 fe:00 12          /bin/app',
      'Rss:                   8 kB',
      'Private_Dirty:         0 kB',
      'Swap:                  0 kB',
      'bffdf000-c0000000 rw-p 00000000 00:00 0          [stack]',
      'Rss:                   4 kB',
      'Private_Dirty:         4 kB',
      'Swap:                  0 kB',
      '',
    ].join('\n')
    const inp = { pid: 7, cmdline: 'app', start_stack: 0xbfffe000n, smaps: smaps32, bits: 32 as const }
    expect(pmap(inp)).toBe('7:   app\n08048000      8K r-x-- app\nbffdf000    132K rw---   [ stack ]\n total      140K\n')
    expect(pmap(inp, 'x')).toBe(
      '7:   app\nAddress   Kbytes     RSS   Dirty Mode  Mapping\n' +
        '08048000       8       8       0 r-x-- app\nbffdf000     132       4       4 rw---   [ stack ]\n' +
        '-------- ------- ------- ------- \ntotal kB     140      12       4\n',
    )
  })
})
