/**
 * The lessons (lessons/*.yaml, `mmsim lesson`): each runs to the end with
 * the invariant checker on (debug_vm), prints every step's `say:` line, and
 * shows the numbers its explanations talk about. When the simulator's
 * output changes, these lines fail first, and the explanation next to them
 * must be checked again.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { lesson_command, lesson_files } from '../../src/cli/lesson.js'
import { load_scenario } from '../../src/scenario/load.js'
import { mmsim, mmsim_piped, mmsim_spawned } from '../cli/helpers.js'

/** Lines (exact substrings) each lesson's explanations rely on. */
const KEY_LINES: Record<string, string[]> = {
  'address-space': ['= 0x7ffff7dd0000', 'VmSize:\t    2544 kB', 'VmRSS:\t      56 kB', 'VmExe:\t      20 kB', 'VmLib:\t    1528 kB', ' total             2548K', 'VmRSS:\t      60 kB', '[vsyscall]'],
  'vma-flags': ['VmFlags: rd sh mr mw me ms ', 'VmFlags: rd wr mr mw me ac ', '7ffff7ddd000-7ffff7dde000 r--p', 'VmFlags: rd wr mr mw me lo ac ', 'Locked:               16 kB', 'VmFlags: rd wr mr mw me gd ac ', 'SEGV_ACCERR'],
  'mmap-merging': ['7ffff7ddc000-7ffff7de0000 rw-p', '7ffff7ddc000-7ffff7ddd000 rw-p', '7ffff7ddf000-7ffff7de0000 rw-p', '7ffff7dda000-7ffff7de0000 rw-p'],
  'page-tables': ['pgd 255, pud 511, pmd 446, pte 479, offset 0x000', 'pmd[446] in pfn 0x205f: 0x0000000000000000 (none)', '(P RW US A D NX pfn=', 'pgd 0, pud 0, pmd 128, pte 0', 'VmPTE:\t      48 kB'],
  'demand-paging': ['Rss:                   0 kB', 'pgfault 20', '(P US A SPECIAL NX pfn=0x1dfd)', 'reserved at boot', 'Rss:                  16 kB', 'pgfault 25'],
  cow: ['refcount 2, mapcount 2', '0x8000000001f7f065 (P US A D NX pfn=0x1f7f)', 'mapped by pid 101', '(P RW US A D NX pfn=0x1f80)', 'Private_Dirty:         4 kB'],
  'page-cache': ['Cached:             2132 kB', 'Cached:             2148 kB', 'a page-cache page of address_space', 'file page index 1', '(P US A NX pfn=', 'Mapped:               16 kB', 'Dirty:              2132 kB'],
  'swap-lru': ['16380\t\t0', 'rss 1933312', 'swap 1212416', 'inactive_anon 1933312', 'active_anon 0', 'pswpout 296', 'pswpin 1', 'pgmajfault 1', '16380\t\t1180'],
  replacement: ['linux  M M M M . M M M M M M . . M M . . M M M   15 misses', '15 misses', '12 misses', '11 misses', '9 misses, 11 hits', 'fifo  M M M M M M M . . M M .   9 misses', 'fifo  M M M M . . M M M M M M   10 misses', 'lru   M M M M . . M . . M M M   8 misses', 'opt    M M M M . . M . . M . .   6 misses, 6 hits'],
  'zones-gfp': ['Normal   empty', 'Memory: 46460K/65016K available', '18280K reserved', 'MemTotal:          47760 kB', 'pfn 0x400', 'min      145', 'low      181', 'high     217', 'protection: (0, 30, 30, 30, 30)', 'managed  8100', 'batch:    1', 'high:     184', 'high_min: 181', 'high_max: 980'],
  buddy: ['DMA32      3      1      3      2      1      3      1      3      3      1      6', 'type    Unmovable      1      0      1      1      0      1', '= pfn 0x2060', '= pfn 0x2070', 'DMA32      3      1      3      2      1      2      1      3      3      1      6', 'page 0 of an order-4 block', 'DMA32      3      2      2      2      1      3', '= pfn 0x2054', 'alloc_pages(0xcc0(GFP_KERNEL), 11) = NULL'],
  'slab-colouring': ['frame_desc             0      0   1800    2    1 : tunables   24   12    0', '= 0xffff888002050000', '= 0xffff888002051040', '= 0xffff888002052080', '= 0xffff888002050708', 'frame_desc             6      6   1800    2    1 : tunables   24   12    0 : slabdata      3      3'],
  'kmalloc-vmalloc': ['kmalloc-128           32     32    128   32    1', 'kmalloc-8k             0      0   8192    4    8', 'a slab of cache kmalloc-128', 'page 0 of an order-3 block', 'pages=5 vmalloc', '24576', 'VmallocTotal:   34359738367 kB', 'VmallocUsed:          20 kB'],
  'kmap-highmem': ['HighMem  [mem 0x00000000373fe000', '143240K highmem', '= pfn 0x37400', 'kmap(pfn 0x200f) = 0xc200f000', 'kmap(pfn 0x37400) = 0xff401000', 'kmap_local_page(pfn 0x37400) = 0xfffbb000', 'HighTotal:        143240 kB'],
  'kmap-x86-64': ['zone    DMA32', 'GFP_HIGHUSER), 0) = pfn 0x2052', 'kmap_local_page(pfn 0x2052) = 0xffff888002052000', 'in the direct map'],
  'kthreads-active-mm': ["mm = NULL, active_mm = app's mm (mm_users 1, mm_count 2); previous task on CPU 0: app (pid 100)", 'Kthread:\t1', 'pid 102, mm = NULL'],
  scull: ['scull', 'write(3, 0x7ffff7dde000, 12) = 12', 'kmalloc-8k             4      4   8192    4    8', 'kmalloc-4k             8      8   4096    8    8', 'read(3, 0x7ffff7ddf000, 100) = 12', '"hello, scull"', 'SCULL_IOCQQUANTUM, 0) = 4000'],
  'scullp-mmap': ['= 4096', '/dev/scullp0', 'Rss:                   0 kB', 'VmFlags: rd wr sh mr mw me ms ', '"bbbb"', 'refcount 2, mapcount 1', '"AAAA"', 'SIGBUS'],
  'dev-mem': ['000f0000-000fffff : System ROM', '0009fc00-0009ffff : Reserved', 'EPERM', '[0, 0, 0, 0, 0, 0, 0, 0]', 'r--s 000f0000', 'VmFlags: rd mr me ms pf io de dd '],
  'dma-framegrab': ['[0, 31, 62, 93]', 'FG_IOC_QFRAME, 0) = 1', 'IRQ_NONE', 'IRQ_HANDLED', '[7, 38, 69, 100]', 'pf io de dd', 'page 1 of an order-2 block', 'refcount 0', 'SPECIAL'],
  'oom-killer': ['SIGKILL', 'invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0', 'memory: usage 4096kB, limit 4096kB', 'anon-rss:4140kB', 'signal:SIGKILL'],
}

function run_lesson(topic: string): { status: number; out: string; err: string } {
  let out = ''
  let err = ''
  const status = lesson_command(topic, false, { json: false, machine: { debug_vm: true } }, (s: string) => (out += s + '\n'), (s: string) => (err += s + '\n'))
  return { status, out, err }
}

describe('lessons', () => {
  const all = lesson_files()

  it('there is one for every topic checked here, and each loads with a title and a say: on its steps', () => {
    expect(all.map((l) => l.topic).sort()).toEqual(Object.keys(KEY_LINES).sort())
    for (const l of all) {
      const sc = load_scenario(readFileSync(l.file, 'utf8'), l.file)
      expect(sc.title, l.topic).toBeTruthy()
      expect(sc.description, l.topic).toBeTruthy()
      // every output a learner looks at is explained; steps without say: are plumbing (a free, a second allocation)
      for (const s of sc.steps.filter((x) => ['cat', 'pmap', 'dmesg', 'why', 'free', 'replacement', 'kthread'].includes(x.op))) expect(s.say, `${l.topic}:${s.line}`).toBeTruthy()
      expect(sc.steps.filter((s) => s.say).length, l.topic).toBeGreaterThanOrEqual(4)
    }
  })

  for (const l of lesson_files()) {
    it(`${l.topic}: runs to the end with debug_vm and shows what its explanations say`, () => {
      const sc = load_scenario(readFileSync(l.file, 'utf8'), l.file)
      const r = run_lesson(l.topic)
      expect(r.err).toBe('')
      expect(r.status).toBe(0)
      const lines = r.out.split('\n')
      expect(lines[0]).toBe(`== ${sc.title}`)
      // every explanation printed, after its step, in order
      const says = lines.filter((x) => x.startsWith('  # ')).join('\n')
      const want = sc.steps.filter((s) => s.say).map((s) => s.say!.replace(/\n$/, '').split('\n').map((x) => `  # ${x}`).join('\n'))
      expect(says).toBe(want.join('\n'))
      for (const k of KEY_LINES[l.topic]) expect(r.out, `${l.topic}: ${k}`).toContain(k)
    })
  }
})

describe('mmsim lesson', () => {
  it('--list prints one lesson a line, its topic first', async () => {
    const r = await mmsim('lesson', '--list')
    expect(r.status).toBe(0)
    const rows = r.stdout.trimEnd().split('\n')
    expect(rows.map((x) => x.split(/\s+/)[0])).toEqual(lesson_files().map((l) => l.topic))
    expect(rows[0]).toMatch(/^address-space\s+A process's address space/)
  })

  it('an unknown topic is one line listing the topics, exit 2', async () => {
    const r = await mmsim('lesson', 'no-such-topic')
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain("no lesson 'no-such-topic' (topics: address-space, vma-flags,")
  })

  it('machine options apply as on run: --seed and --ram reach the machine', async () => {
    const a = await mmsim('lesson', 'zones-gfp', '--ram', '128M')
    expect(a.status).toBe(0)
    expect(a.stdout).toContain('DMA32    [mem 0x0000000001000000-0x0000000007fdffff]')
  })

  it('a lesson opened in the shell prints its explanations too, then takes commands', async () => {
    const r = await mmsim_piped('cat /proc/buddyinfo\nexit\n', 'shell', lesson_files().find((l) => l.topic === 'kmap-x86-64')!.file)
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('  # No HighMem zone on x86-64.')
    expect(r.stdout).toMatch(/kunmap_local\(0xffff888[0-9a-f]+\) = 0\n[^]*Node 0, zone {4}DMA32/)
  })

  it('runs end to end as the installed command does, from dist', () => {
    const r = mmsim_spawned(['lesson', 'cow'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^== Copy-on-write after fork\n/)
    expect(r.stdout).toContain('parent: fork() = 101')
    expect(r.stdout).toContain('  # The child gets a copy of the VMAs and page tables')
  })
})
