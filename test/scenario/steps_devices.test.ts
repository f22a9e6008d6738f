/**
 * The scenario steps lessons brought: say: lines and title:, the cat
 * filters (grep, from/until, vma), drivers (insmod, ioctl, read, write,
 * irq), memory cgroups, kernel threads, kmap, why, and page replacement
 * on a reference string.
 */
import { describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../src/cli/main.js'
import { load_scenario, ScenarioFileError } from '../../src/scenario/load.js'
import { replacement_table } from '../../src/scenario/refstring.js'

async function run_text(text: string, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-steps-'))
  const out: string[] = []
  const err: string[] = []
  try {
    writeFileSync(join(dir, 's.yaml'), text)
    const code = await main(['run', join(dir, 's.yaml'), ...extra], (s) => out.push(s), (s) => err.push(s))
    return { code, out: out.join('\n'), err: err.join('\n') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const M = 'machine: { ram: 64M, cpus: 1, debug_vm: true, randomize_va_space: 0 }\n'

describe('say: and title:', () => {
  it('a title and description print first; each say: prints after its step, as # lines; --json carries it', async () => {
    const text = `title: T\ndescription: D\n${M}steps:\n  - spawn: a\n    say: "started: it is current"\n  - cat: { path: /proc/self/status, grep: "^Name" }\n    say: >-\n      two\n      words\n`
    const r = await run_text(text)
    expect(r.err).toBe('')
    expect(r.out.split('\n')).toEqual(['== T', 'D', '', 'a: spawn("a") = 100', '  # started: it is current', '$ cat /proc/self/status | grep -E \'^Name\'', 'Name:\ta', '  # two words'])
    const j = JSON.parse((await run_text(text, ['--json'])).out) as { say?: string }[]
    expect(j.map((x) => x.say)).toEqual(['started: it is current', 'two words'])
  })

  it('say: must be text, and only one op per step besides it', async () => {
    expect(() => load_scenario('steps:\n  - spawn: a\n    say: 3\n', 'f.yaml')).toThrow(/^f\.yaml:3:10: say: expected one line of text$/)
    expect(() => load_scenario('steps:\n  - spawn: a\n    use: a\n    say: x\n', 'f.yaml')).toThrow(ScenarioFileError)
    expect(() => load_scenario('titel: x\nsteps: []\n', 'f.yaml')).toThrow(/unknown key 'titel' \(expected title, description, machine, steps\)/)
  })
})

describe('cat filters', () => {
  it('grep keeps matching lines; from/until keep a section; vma keeps the entries of the VMAs at the addresses', async () => {
    const r = await run_text(`${M}steps:
  - spawn: a
  - mmap: { len: 8K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: buf }
  - cat: { path: /proc/meminfo, grep: "^Mem(Total|Free)" }
  - cat: { path: /proc/zoneinfo, from: "zone +DMA32", until: "zone +Normal", grep: "^Node" }
  - cat: { path: /proc/self/smaps, vma: $buf, grep: "^7|^Rss" }
  - cat: { path: /proc/self/maps, vma: [0x555555554000, 0x7ffffffde000] }
`)
    expect(r.err).toBe('')
    const lines = r.out.split('\n')
    expect(lines.filter((l) => /^Mem/.test(l))).toHaveLength(2)
    expect(lines.filter((l) => l.startsWith('Node'))).toEqual(['Node 0, zone    DMA32'])
    expect(r.out).toContain('7ffff7dde000-7ffff7de0000 rw-p 00000000 00:00 0 \nRss:                   0 kB\n')
    expect(r.out).toMatch(/555555554000-555555556000 r--p [^\n]*\/usr\/bin\/a\n7ffffffde000-7ffffffff000 rw-p [^\n]*\[stack\]$/)
  })
})

describe('drivers', () => {
  it('insmod, open, write and read through a user buffer, ioctl; pread of a device is refused with exit 2', async () => {
    const r = await run_text(`${M}steps:
  - insmod: scull
  - spawn: a
  - mmap: { len: 4K, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: buf }
  - open: { path: /dev/scull0, flags: O_RDWR, as: fd }
  - store: { addr: $buf, data: "abc" }
  - write: { fd: $fd, buf: $buf, len: 3, expect: 3 }
  - lseek: { fd: $fd, offset: 1, whence: SEEK_SET }
  - read: { fd: $fd, buf: $buf + 100, len: 10, expect: 2 }
  - load: { addr: $buf + 100, len: 2, expect: { text: "bc" } }
  - ioctl: { fd: $fd, cmd: SCULL_IOCQQSET, expect: 1000 }
  - insmod: { module: scull, expect: { errno: EEXIST } }
  - pread: { fd: $fd, len: 3 }
`)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/s\.yaml:14:5: pread: fd 3 is a device: use read: \{fd, buf, len\}/)
    expect(r.out).toContain('a: ioctl(3, SCULL_IOCQQSET, 0) = 1000')
  })

  it('an unknown ioctl name is a load error suggesting the near ones', async () => {
    expect(() => load_scenario('steps:\n  - ioctl: { fd: 3, cmd: FG_IOC_GRABB }\n', 'f.yaml')).toThrow(/unknown ioctl name 'FG_IOC_GRABB' \(did you mean FG_IOC_GRAB/)
  })

  it('irq: a device interrupt reaches its handler only while the driver wants it', async () => {
    const r = await run_text(`${M}steps:
  - insmod: { module: framegrab, params: { irq: 11 } }
  - spawn: a
  - open: { path: /dev/framegrab0, flags: O_RDWR, as: fd }
  - irq: 11
  - ioctl: { fd: $fd, cmd: FG_IOC_START }
  - irq: { irq: 11 }
  - irq: 10
  - ioctl: { fd: $fd, cmd: FG_IOC_QFRAME, expect: 1 }
`)
    expect(r.err).toBe('')
    expect(r.out.split('\n').filter((l) => l.startsWith('device:'))).toEqual(['device: raise IRQ 11 = IRQ_NONE', 'device: raise IRQ 11 = IRQ_HANDLED', 'device: raise IRQ 10 = IRQ_NONE'])
  })
})

describe('cgroups, kernel threads, kmap, why', () => {
  it('cgroup_create and cgroup_attach charge the process to the group; over its limit it reclaims to swap', async () => {
    const r = await run_text(`machine: { ram: 64M, cpus: 1, swap: 8M }
steps:
  - cgroup_create: { name: g, limit: 1M, swappiness: 100 }
  - spawn: a
  - cgroup_attach: { cgroup: g }
  - cat: { path: /sys/fs/cgroup/memory/g/cgroup.procs, expect: { contains: "100" } }
  - mmap: { len: 2M, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: b }
  - store: { addr: $b, data: { fill: 1, len: 2M } }
  - cat: { path: /sys/fs/cgroup/memory/g/memory.swappiness, expect: { contains: "100" } }
  - cgroup_create: { name: g, expect: { errno: EEXIST } }
`)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('root: echo 100 > /sys/fs/cgroup/memory/g/cgroup.procs  (a) = 0')
    const stat = (await run_text(`machine: { ram: 64M, cpus: 1, swap: 8M }
steps:
  - cgroup_create: { name: g, limit: 1M }
  - spawn: a
  - cgroup_attach: { cgroup: g }
  - mmap: { len: 2M, prot: rw-, flags: MAP_PRIVATE|MAP_ANONYMOUS, as: b }
  - store: { addr: $b, data: { fill: 1, len: 2M } }
  - cat: { path: /sys/fs/cgroup/memory/g/memory.stat, grep: "^(rss|swap) " }
`)).out
    const rss = Number(/^rss (\d+)$/m.exec(stat)?.[1])
    const swap = Number(/^swap (\d+)$/m.exec(stat)?.[1])
    expect(rss).toBeLessThanOrEqual(1 << 20)
    expect(rss + swap).toBe(2 << 20)
  })

  it('kthread: a kernel thread borrows the mm of the task it follows on its CPU, and drops it when that task returns', async () => {
    const r = await run_text(`machine: { ram: 64M, cpus: 2, debug_vm: true, randomize_va_space: 0 }
steps:
  - spawn: a
  - load: { addr: 0x7ffffffde000, len: 1 }
  - kthread: kworker/0:1
  - cat: { path: /proc/101/status, grep: "^Kthread", expect: { contains: "1" } }
  - kthread: { name: idle_one, cpu: 1 }
  - load: { addr: 0x7ffffffde000, len: 1 }
  - kthread: { name: again, cpu: 0 }
`)
    expect(r.err).toBe('')
    const k = r.out.split('\n').filter((l) => l.startsWith('kernel: kthread_run')).map((l) => l.replace(/^.*? on CPU \d+ = /, ''))
    expect(k[0]).toBe("pid 101, mm = NULL, active_mm = a's mm (mm_users 1, mm_count 2); previous task on CPU 0: a (pid 100)")
    expect(k[1]).toMatch(/^pid 102, mm = NULL, active_mm = NULL .* previous task on CPU 1: idle$/)
    expect(k[2]).toBe("pid 103, mm = NULL, active_mm = a's mm (mm_users 1, mm_count 2); previous task on CPU 0: a (pid 100)")
  })

  it('kmap of a highmem page on i386 uses the pkmap area, kmap_local the fixmap; on x86-64 both are the direct map', async () => {
    const r = await run_text(`machine: { arch: i386, ram: 1G, cpus: 1 }
steps:
  - alloc_pages: { order: 0, gfp: GFP_HIGHUSER, as: hp }
  - kmap: { page: $hp, as: a }
  - kunmap: $hp
  - kmap_local: { page: $hp, as: b }
  - kunmap_local: $b
  - free_pages: { page: $hp, order: 0 }
`)
    expect(r.err).toBe('')
    const [a, b] = [/kmap\(pfn 0x[0-9a-f]+\) = (0x[0-9a-f]+)/.exec(r.out)![1], /kmap_local_page\(pfn 0x[0-9a-f]+\) = (0x[0-9a-f]+)/.exec(r.out)![1]]
    expect(Number(a)).toBeGreaterThanOrEqual(0xff000000)
    expect(Number(b)).toBeGreaterThan(Number(a))
    const x = await run_text(`${M}steps:\n  - alloc_pages: { order: 0, as: p }\n  - kmap_local: { page: $p, as: v }\n  - kunmap_local: $v\n  - free_pages: { page: $p, order: 0 }\n`)
    const [, pfn, va] = /kmap_local_page\(pfn (0x[0-9a-f]+)\) = (0x[0-9a-f]+)/.exec(x.out)!
    expect(BigInt(va) - 0xffff888000000000n).toBe(BigInt(pfn) * 4096n)
  })

  it('why: an address of the current process or a pfn', async () => {
    const r = await run_text(`${M}steps:\n  - spawn: a\n  - why: 0x1000\n  - why: { pfn: 0 }\n`)
    expect(r.err).toBe('')
    expect(r.out).toContain('0x1000: not mapped in pid 100')
    expect(r.out).toContain('pfn 0x0: not RAM')
  })
})

describe('replacement', () => {
  it('marks each reference a hit or a miss and counts them as the textbooks do', async () => {
    const t = replacement_table([7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1], 3, ['fifo', 'lru', 'opt'])
    expect(t.split('\n').map((l) => /(\d+) misses/.exec(l)?.[1])).toEqual([undefined, '15', '12', '9', undefined])
    // Belady's anomaly: FIFO takes more faults with 4 frames than with 3
    const b = (n: number): string => replacement_table([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5], n, ['fifo'])
    expect(b(3)).toContain('9 misses')
    expect(b(4)).toContain('10 misses')
  })

  it('linux: the simulated kernel under a memcg limit misses at least as often as OPT, and on every first reference', async () => {
    const refs = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
    const t = replacement_table(refs, 3, ['opt', 'linux'])
    const [opt, linux] = t.split('\n').slice(1, 3).map((l) => l.split(/\s+/).slice(1, 1 + refs.length))
    expect(linux.filter((x) => x === 'M').length).toBeGreaterThanOrEqual(opt.filter((x) => x === 'M').length)
    refs.forEach((r, i) => {
      if (refs.indexOf(r) === i) expect(linux[i]).toBe('M')
    })
  })

  it('a bad reference string is a load error', async () => {
    expect(() => load_scenario('steps:\n  - replacement: { refs: "1 x 2", frames: 3 }\n', 'f.yaml')).toThrow(/expected page numbers separated by spaces or commas/)
  })
})
