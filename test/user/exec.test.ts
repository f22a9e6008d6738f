/** Program images (ELF loader layout), address-space randomisation, kernel threads and lazy TLB. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Machine, default_image } from '../../src/index.js'

function maps(m: Machine, pid: number): string {
  return m.proc(`/proc/${pid}/maps`)
}

describe('exec: the layout of a new process', () => {
  // These pin the fixed layout: randomize_va_space 0, as with norandmaps or `setarch -R`.
  it('sets the mm fields as load_elf_binary()/setup_arg_pages() do, with argv and envp on the stack', () => {
    const m = new Machine({ ram: '256M', debug_vm: true, randomize_va_space: 0 })
    const p = m.spawn({ name: 'app' })
    const mm = p.mm
    expect(mm.start_code).toBe(0x555555556000)
    expect(mm.end_code).toBe(0x55555555b000)
    expect(mm.start_data).toBe(0x55555555e000)
    expect(mm.end_data).toBe(0x55555555f000)
    expect(mm.start_brk).toBe(0x55555555f000)
    // glibc's malloc took its first 132 KiB with brk() before main(): [heap], one page touched.
    expect(mm.brk).toBe(mm.start_brk + 0x21000)
    expect(maps(m, p.pid)).toMatch(/^55555555f000-555555580000 rw-p 00000000 00:00 0 +\[heap\]$/m)
    expect(mm.mmap_base).toBe(0x7ffff7fff000)
    expect(mm.start_stack).toBeGreaterThan(0x7ffffffde000)
    expect(mm.start_stack % 16).toBe(0)
    const args = new TextDecoder().decode(p.load(mm.arg_start, mm.env_end - mm.arg_start))
    expect(args).toBe('app\0PATH=/usr/bin:/bin\0HOME=/root\0')
    expect(mm.env_start).toBe(mm.arg_start + 4)
    // The interpreter lies right below mmap_base, libc below it; RELRO stays apart from rodata.
    expect(maps(m, p.pid)).toMatch(/^7ffff7fca000-7ffff7fcb000 r--p 00000000 fe:00 \d+ +\S+ld-linux-x86-64.so.2$/m)
    expect(maps(m, p.pid)).toMatch(/^7ffff7ffb000-7ffff7ffd000 r--p 00031000 /m)
    m.check()
  })

  it('maps a custom image: its own segments, an anonymous .bss, the break after it', () => {
    const m = new Machine({ ram: '256M', debug_vm: true, randomize_va_space: 0 })
    const image = {
      ...default_image('big'),
      segments: [
        { prot: 'r--', size: 0x1000 },
        { prot: 'r-x', size: 0x3000 },
        { prot: 'rw-', size: 0x2000, relocated: true },
      ],
      text_index: 1,
      data_index: 2,
      bss: 0x5000,
      heap: 0,
      argv: ['big', '-v'],
    }
    const p = m.spawn({ name: 'big', image })
    const t = maps(m, p.pid)
    expect(t).toMatch(/^555555554000-555555555000 r--p 00000000 fe:00 \d+ +\/usr\/bin\/big$/m)
    expect(t).toMatch(/^555555555000-555555558000 r-xp 00001000 /m)
    expect(t).toMatch(/^555555558000-55555555a000 rw-p 00004000 /m)
    expect(t).toMatch(/^55555555a000-55555555f000 rw-p 00000000 00:00 0 $/m)
    expect(p.mm.start_brk).toBe(0x55555555f000)
    expect(p.task.cmdline).toEqual(['big', '-v'])
    expect(m.proc(`/proc/${p.pid}/cmdline`)).toBe('big\0-v\0')
    expect([...p.load(0x55555555a000, 2)]).toEqual([0, 0])
    m.check()
  })

  it('uses the i386 multiarch paths and the 3 GiB split on 32-bit profiles', () => {
    const m = new Machine({ arch: 'i386', ram: '256M', randomize_va_space: 0 })
    const p = m.spawn({ name: 'app' })
    const t = maps(m, p.pid)
    // ELF_ET_DYN_BASE of a 32-bit kernel: 0x400000.
    expect(t).toMatch(/^00400000-00402000 r--p 00000000 fe:00 \d+ +\/usr\/bin\/app$/m)
    expect(t).toMatch(/\/usr\/lib\/i386-linux-gnu\/ld-linux.so.2\n/)
    expect(t).toMatch(/^bffdf000-c0000000 rw-p 00000000 00:00 0 +\[stack\]$/m)
    expect(t).not.toContain('vsyscall')
    m.check()
  })

  it('randomize_va_space=2 moves mmap base, stack, PIE and brk, reproducibly from the seed', () => {
    const layout = (seed: number, aslr: 0 | 1 | 2): string => maps_of(new Machine({ ram: '256M', seed, randomize_va_space: aslr }))
    const a = layout(1, 2)
    expect(layout(1, 2)).toBe(a)
    expect(layout(2, 2)).not.toBe(a)
    expect(layout(1, 0)).not.toBe(a)
    expect(layout(1, 0)).toBe(layout(7, 0))
    // Linux's default is 2, and so is the library's.
    expect(maps_of(new Machine({ ram: '256M', seed: 1 }))).toBe(a)
  })
})

const TASK_SIZE = 0x7ffffffff000
const ELF_ET_DYN_BASE = 0x555555554000

function maps_of(m: Machine): string {
  return maps(m, m.spawn({ name: 'app' }).pid)
}

describe('address-space randomisation (arch/x86/mm/mmap.c, fs/binfmt_elf.c, mm/util.c)', () => {
  it('each random offset stays in the range Linux draws it from, for any seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom<1 | 2>(1, 2), (seed, aslr) => {
        const m = new Machine({ ram: '64M', seed, randomize_va_space: aslr })
        const mm = m.spawn({ name: 'app', image: { ...default_image('app'), heap: 0 } }).mm
        // The PIE: ELF_ET_DYN_BASE plus 28 random bits of pages (arch_mmap_rnd()).
        const bias = mm.start_code - 0x2000
        expect(bias).toBeGreaterThanOrEqual(ELF_ET_DYN_BASE)
        expect(bias).toBeLessThan(ELF_ET_DYN_BASE + 2 ** 40)
        expect(bias % 4096).toBe(0)
        // mmap_base: below the stack rlimit, the stack's random range (16 GiB) and the guard gap, minus 28 bits of pages.
        const top = TASK_SIZE - (8 * 2 ** 20 + 0x3fffff * 4096 + 256 * 4096)
        expect(mm.mmap_base).toBeLessThanOrEqual(top)
        expect(mm.mmap_base).toBeGreaterThan(top - 2 ** 40)
        // The stack: its top at most 16 GiB (and one page of arch_align_stack) below TASK_SIZE, above mmap_base.
        const stack = m.proc(`/proc/${mm.owner!.pid}/maps`).split('\n').find((l) => l.endsWith('[stack]'))!
        const stack_end = parseInt(stack.split(/[- ]/)[1], 16)
        expect(stack_end).toBeLessThanOrEqual(TASK_SIZE)
        expect(stack_end).toBeGreaterThanOrEqual(TASK_SIZE - 0x3fffff * 4096 - 4096)
        expect(mm.start_stack).toBeLessThan(stack_end)
        // The brk: with 2, a page after .bss then a random page of the next GiB; with 1, right after .bss.
        if (aslr === 2) {
          expect(mm.start_brk).toBeGreaterThanOrEqual(mm.end_data + 4096)
          expect(mm.start_brk).toBeLessThan(mm.end_data + 4096 + 2 ** 30)
        } else {
          expect(mm.start_brk).toBe(mm.end_data)
        }
        expect(mm.brk).toBe(mm.start_brk)
      }),
      { numRuns: 12 },
    )
  })

  it('different seeds give different layouts; no two of 8 seeds share a PIE base, mmap base or stack', () => {
    const bases = new Set<number>()
    const mmaps = new Set<number>()
    const stacks = new Set<number>()
    for (let seed = 1; seed <= 8; seed++) {
      const mm = new Machine({ ram: '64M', seed }).spawn({ name: 'app' }).mm
      bases.add(mm.start_code)
      mmaps.add(mm.mmap_base)
      stacks.add(mm.start_stack)
    }
    expect([bases.size, mmaps.size, stacks.size]).toEqual([8, 8, 8])
  })

  it('a fork keeps the parent\'s layout; the next exec draws a new one', () => {
    const m = new Machine({ ram: '64M', seed: 5 })
    const p = m.spawn({ name: 'app' })
    const c = p.fork()
    expect(maps(m, c.pid)).toBe(maps(m, p.pid))
    const q = m.spawn({ name: 'app' })
    expect(q.mm.mmap_base).not.toBe(p.mm.mmap_base)
  })

  it('i386: 8 random bits of pages for mmap and the PIE, 32 MiB for the brk', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const mm = new Machine({ arch: 'i386', ram: '64M', seed }).spawn({ name: 'app', image: { ...default_image('app', 32), heap: 0 } }).mm
      const fixed = new Machine({ arch: 'i386', ram: '64M', seed, randomize_va_space: 0 }).spawn({ name: 'app', image: { ...default_image('app', 32), heap: 0 } }).mm
      // The stack's reserve (8 MiB + its 8 MiB random range + the guard gap) is below the 128 MiB minimum gap: only the 8 bits move mmap_base.
      expect(fixed.mmap_base - mm.mmap_base).toBeGreaterThanOrEqual(0)
      expect(fixed.mmap_base - mm.mmap_base).toBeLessThan(256 * 4096)
      expect(mm.start_code - fixed.start_code).toBeLessThan(256 * 4096)
      expect(mm.start_brk - mm.end_data).toBeLessThan(4096 + 32 * 2 ** 20)
    }
  })

  it('the option is checked', () => {
    expect(() => new Machine({ ram: '64M', randomize_va_space: 3 as 2 })).toThrow(/randomize_va_space: '3' is not 0, 1 or 2/)
  })
})

describe('kernel threads borrow the previous mm (lazy TLB)', () => {
  it('active_mm and mm_count follow context switches', () => {
    const m = new Machine({ ram: '256M' })
    const p = m.spawn({ name: 'user' })
    const q = m.spawn({ name: 'other' })
    const kt = m.syscalls.kthread_create('kworker/0:1')!
    expect(kt.mm).toBeNull()
    expect(kt.is_kthread).toBe(true)
    const mm = p.mm
    const count0 = mm.mm_count
    m.syscalls.sched.switch_to(0, p.task)
    expect(p.task.active_mm).toBe(mm)
    m.syscalls.sched.switch_to(0, kt)
    expect(kt.mm).toBeNull()
    expect(kt.active_mm).toBe(mm)
    expect(mm.mm_count).toBe(count0 + 1)
    m.syscalls.sched.switch_to(0, q.task)
    expect(kt.active_mm).toBeNull()
    expect(mm.mm_count).toBe(count0)
    expect(q.task.active_mm).toBe(q.mm)
    expect(m.proc(`/proc/${kt.pid}/status`)).toMatch(/^Kthread:\t1$/m)
    expect(m.proc(`/proc/${kt.pid}/status`)).not.toMatch(/^VmSize/m)
    expect(m.proc(`/proc/${kt.pid}/maps`)).toBe('')
    m.check()
  })
})

describe('kernel objects of processes come from their slab caches', () => {
  const CACHES = ['task_struct', 'mm_struct', 'vm_area_struct', 'anon_vma', 'anon_vma_chain']
  it('task_struct, mm_struct, vm_area_struct and anon_vma objects are allocated and given back', () => {
    const m = new Machine({ ram: '256M', debug_vm: true })
    const live = (c: string): number => m.kernel_objects.count(c)
    const slabinfo_objs = (c: string): number => {
      const line = m.proc('/proc/slabinfo').split('\n').find((l) => l.startsWith(c + ' '))
      return Number(line?.split(/\s+/)[2])
    }
    expect(CACHES.map(live)).toEqual([0, 0, 0, 0, 0])
    const p = m.spawn({ name: 'app' })
    expect(live('task_struct')).toBe(1)
    expect(live('mm_struct')).toBe(1)
    expect(live('vm_area_struct')).toBe(p.mm.map_count)
    expect(live('anon_vma')).toBeGreaterThan(0)
    for (const c of CACHES) expect(slabinfo_objs(c), c).toBeGreaterThanOrEqual(live(c))
    const c = p.fork()
    expect(live('task_struct')).toBe(2)
    expect(live('mm_struct')).toBe(2)
    expect(live('vm_area_struct')).toBe(p.mm.map_count + c.mm.map_count)
    c.exit(0)
    expect(live('mm_struct')).toBe(1)
    expect(live('task_struct')).toBe(2) // a zombie until reaped
    c.wait()
    expect(live('task_struct')).toBe(1)
    p.exit(0)
    p.wait()
    expect(CACHES.map(live)).toEqual([0, 0, 0, 0, 0])
    m.check()
  })
})

describe('/proc/<pid>/stat and cmdline', () => {
  it('has the 52 fields of proc(5) with the mm layout and fault counts', () => {
    const m = new Machine({ ram: '256M', debug_vm: true })
    const p = m.spawn({ name: 'app' })
    const stat = (): string[] => m.proc(`/proc/${p.pid}/stat`).trimEnd().split(' ')
    const f = stat()
    expect(f.length).toBe(52)
    expect(f.slice(0, 4)).toEqual([String(p.pid), '(app)', 'S', '1'])
    const kb = Number(/^VmSize:\s+(\d+) kB$/m.exec(m.proc(`/proc/${p.pid}/status`))?.[1])
    expect(Number(f[22])).toBe(kb * 1024)
    expect(Number(f[25])).toBe(p.mm.start_code)
    expect(Number(f[27])).toBe(p.mm.start_stack)
    expect(Number(f[47])).toBe(p.mm.arg_start)
    const flt = Number(f[9])
    const a = p.mmap(0, 8192, 3, 0x22)
    p.store(a, [1])
    p.store(a + 4096, [1])
    expect(Number(stat()[9])).toBe(flt + 2)
    expect(m.proc(`/proc/${p.pid}/cmdline`)).toBe('app\0')
    m.syscalls.sched.switch_to(0, p.task)
    expect(stat()[2]).toBe('R')
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/^State:\tR \(running\)$/m)
    m.check()
  })
})
