/**
 * vmstat(8) (src/user/vmstat.ts) and /proc/stat (src/fs/proc/stat.ts):
 * the recorded procps output (test/fixtures/reference/vmstat-cmd.txt) is
 * reproduced byte for byte from /proc texts that hold its numbers, the
 * since-boot averages follow procps' rounding, and on a simulated machine
 * the columns are the machine's own counters.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { vmstat } from '../../src/user/vmstat.js'
import { Machine } from '../../src/index.js'
import { MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_CREAT, O_RDWR } from '../../src/user/process.js'
import { POSIX_FADV_DONTNEED, MADV_RANDOM } from '../../src/index.js'

const REF = readFileSync(new URL('../fixtures/reference/vmstat-cmd.txt', import.meta.url), 'utf8').split('\n')

function stat_text(cpu: number[], intr: number, ctxt: number, running: number, blocked: number): string {
  return `cpu  ${cpu.join(' ')}\ncpu0 ${cpu.join(' ')}\nintr ${intr} 0 0\nctxt ${ctxt}\nbtime 0\nprocesses 1\nprocs_running ${running}\nprocs_blocked ${blocked}\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n`
}

describe('vmstat', () => {
  it('prints the recorded procps report byte for byte from /proc texts holding its numbers', () => {
    // 100 ticks: us 7 (user 5 + nice 2), sy 5 (system 3 + irq 1 + softirq 1), id 88; each rate is n * 100 / 100.
    const out = vmstat({
      stat: stat_text([5, 2, 3, 88, 0, 1, 1, 0, 0, 0], 151, 289, 2, 0),
      meminfo: 'MemFree:        23783104 kB\nBuffers:           14808 kB\nCached:           700000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nSReclaimable:      43064 kB\n',
      vmstat: 'pgpgin 1134\npgpgout 280\npswpin 0\npswpout 0\n',
      page_kb: 4,
      hz: 100,
    })
    expect(out).toBe(`${REF.slice(0, 3).join('\n')}\n`)
  })

  it('rounds the averages since boot as procps does, and counts idle 1 when no tick has passed', () => {
    const one = (cpu: number[], pgpgin: number, pswpout: number): string[] =>
      vmstat({ stat: stat_text(cpu, 0, 0, 1, 0), meminfo: '', vmstat: `pgpgin ${pgpgin}\npswpout ${pswpout}\n`, page_kb: 4, hz: 100 }).split('\n')[2].trim().split(/\s+/)
    // Div 3: bi = (10 * 100 + 1) / 3 = 333, so = (2 * 4 * 100 + 1) / 3 = 267; us/sy/id = 33/33/33.
    expect(one([1, 0, 1, 1, 0, 0, 0, 0, 0, 0], 10, 2)).toEqual(['1', '0', '0', '0', '0', '0', '0', '267', '333', '0', '0', '0', '33', '33', '33', '0', '0'])
    // No ticks yet: Div 1 and idle 100.
    expect(one([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1, 0).slice(8)).toEqual(['100', '0', '0', '0', '0', '0', '100', '0', '0'])
    fc.assert(fc.property(fc.array(fc.nat(1e6), { minLength: 8, maxLength: 8 }), (t) => {
      const f = one([...t, 0, 0], 0, 0).slice(12).map(Number)
      const div = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]
      if (div === 0) return
      expect(f[0]).toBe(Math.floor((100 * (t[0] + t[1]) + Math.floor(div / 2)) / div))
      expect(Math.abs(f.reduce((a, b) => a + b, 0) - 100)).toBeLessThanOrEqual(3)
    }))
  })

  it('shows the simulated machine\'s counters', () => {
    const m = new Machine({ ram: '256M', seed: 1 })
    const p = m.spawn()
    const fd = p.open('/var/tmp/f', O_CREAT | O_RDWR)
    p.pwrite(fd, new Uint8Array(4 << 20), 0)
    expect(p.sys_fsync(fd)).toBe(0)
    p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    const a = p.mmap(0, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
    p.madvise(a, 4 << 20, MADV_RANDOM)
    // 1024 major faults without readahead, 80 us of disk wait each: 8 ticks of iowait.
    for (let i = 0; i < 1024; i++) p.load(a + i * 4096, 1)
    const stat = m.proc('/proc/stat')
    const cpu = stat.split('\n')[0].split(/\s+/).slice(1).map(Number)
    expect(cpu[4]).toBeGreaterThan(0) // iowait ticks from the disk reads
    expect(cpu[0]).toBe(0) // user mode costs no simulated time
    const meminfo = m.proc('/proc/meminfo')
    const out = vmstat({ stat, meminfo, vmstat: m.proc('/proc/vmstat'), page_kb: 4, hz: 100 }).split('\n')
    const f = out[2].trim().split(/\s+/).map(Number)
    expect(f[3]).toBe(Number(/MemFree:\s+(\d+)/.exec(meminfo)![1]))
    expect(f[0]).toBe(1) // the process is current on its CPU
    const vm = m.proc('/proc/vmstat')
    expect(vm).toMatch(/^pgpgin 4096$/m) // 1024 pages read from the disk, in kB
    expect(vm).toMatch(/^pgpgout 4100$/m) // and written by fsync: the 4096 kB of data and the inode's 4 kB block (ext4_sync_file)
    // bi = pgpgin * USER_HZ / Div, Div = every CPU's ticks.
    const div = cpu.slice(0, 8).reduce((x, y) => x + y, 0)
    expect(f[8]).toBe(Math.floor((4096 * 100 + Math.floor(div / 2)) / div))
    expect(f[15]).toBeGreaterThan(0) // wa
    expect(stat).toMatch(/^ctxt [1-9]\d*$/m)
    expect(stat).toMatch(/^processes 1$/m)
    expect(stat.split('\n').find((l) => l.startsWith('intr '))!.split(' ')).toHaveLength(2 + 256)
  })
})
