/** Program images (ELF loader layout), address-space randomisation, kernel threads and lazy TLB. */
import { describe, expect, it } from 'vitest'
import { Machine, default_image } from '../../src/index.js'

function maps(m: Machine, pid: number): string {
  return m.proc(`/proc/${pid}/maps`)
}

describe('exec: the layout of a new process', () => {
  it('sets the mm fields as load_elf_binary()/setup_arg_pages() do, with argv and envp on the stack', () => {
    const m = new Machine({ ram: '256M', debug_vm: true })
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
    const m = new Machine({ ram: '256M', debug_vm: true })
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
    const m = new Machine({ arch: 'i386', ram: '256M' })
    const p = m.spawn({ name: 'app' })
    const t = maps(m, p.pid)
    expect(t).toMatch(/^56555000-56557000 r--p 00000000 fe:00 \d+ +\/usr\/bin\/app$/m)
    expect(t).toMatch(/\/usr\/lib\/i386-linux-gnu\/ld-linux.so.2\n/)
    expect(t).toMatch(/^bffdf000-c0000000 rw-p 00000000 00:00 0 +\[stack\]$/m)
    expect(t).not.toContain('vsyscall')
    m.check()
  })

  it('randomize_va_space=2 moves mmap base, stack, PIE and brk, reproducibly from the seed', () => {
    const layout = (seed: number, aslr: 0 | 2): string => {
      const m = new Machine({ ram: '256M', seed, randomize_va_space: aslr })
      const p = m.spawn({ name: 'app' })
      const mm = p.mm
      expect(mm.start_brk).toBeGreaterThanOrEqual(mm.end_data)
      expect(mm.start_brk - mm.end_data).toBeLessThan(2 ** 30)
      if (aslr) {
        // mmap_base = TASK_SIZE - (stack rlimit + guard gap + stack_maxrandom_size) - 28 random bits of pages
        expect(mm.mmap_base).toBeLessThanOrEqual(0x7ffffffff000 - (0x3fffff * 4096 + 9 * 2 ** 20))
        expect(mm.mmap_base).toBeGreaterThan(0x7ffffffff000 - 2 ** 35 - 2 ** 40)
      }
      return maps(m, p.pid)
    }
    const a = layout(1, 2)
    expect(layout(1, 2)).toBe(a)
    expect(layout(2, 2)).not.toBe(a)
    expect(layout(1, 0)).not.toBe(a)
    expect(layout(1, 0)).toBe(layout(7, 0))
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
