import { describe, expect, it } from 'vitest'
import { Machine } from '../../src/machine.js'

const kernel_stack_kb = (m: Machine): number => Number(/^KernelStack:\s+(\d+) kB$/m.exec(m.proc('/proc/meminfo'))?.[1])

describe('kernel stacks', () => {
  it('x86_64: 16 KiB vmalloc areas aligned to 16 KiB, cached per CPU, KernelStack for live ones only', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: true })
    const ts = m.thread_stacks
    const start = m.vmalloc.layout.VMALLOC_START
    const s1 = ts.alloc_thread_stack_node()
    const io = m.kernel.ioremap(0xfebf0000, 8192, 'vp_modern_map_capability+0x12d/0x1c0')
    const s2 = ts.alloc_thread_stack_node()
    expect((s1 - start) % 16384).toBe(0)
    expect((s2 - start) % 16384).toBe(0)
    expect(io).toBe(start + 0x6000) // 8 KiB + guard, aligned to 8 KiB: [0x6000, 0x9000)
    expect(s2).toBe(start + 0xc000) // the next 16 KiB boundary with 20 KiB free
    expect(m.proc('/proc/vmallocinfo')).toBe(
      '0xffffc90000000000-0xffffc90000005000   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4\n' +
        '0xffffc90000006000-0xffffc90000009000   12288 vp_modern_map_capability+0x12d/0x1c0 phys=0x00000000febf0000 ioremap\n' +
        '0xffffc9000000c000-0xffffc90000011000   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4\n',
    )
    expect(kernel_stack_kb(m)).toBe(32)
    m.kernel.kernel_write(s1, new Uint8Array([1, 2, 3]))
    ts.free_thread_stack(s1)
    expect(kernel_stack_kb(m)).toBe(16)
    expect(ts.nr_cached).toBe(1)
    expect(m.proc('/proc/meminfo')).toMatch(/^VmallocUsed:\s+32 kB$/m) // the cached stack stays allocated
    const s3 = ts.alloc_thread_stack_node()
    expect(s3).toBe(s1) // reused from the cache, cleared
    expect(Array.from(m.kernel.kernel_read(s3, 3))).toEqual([0, 0, 0])
    for (const s of [s2, s3]) ts.free_thread_stack(s)
    const s4 = ts.alloc_thread_stack_node()
    const s5 = ts.alloc_thread_stack_node()
    const s6 = ts.alloc_thread_stack_node()
    for (const s of [s4, s5, s6]) ts.free_thread_stack(s)
    expect(ts.nr_cached).toBe(2)
    expect(m.proc('/proc/vmallocinfo')).toContain('   20480 unpurged vm_area') // the third was vfree()d
    expect(kernel_stack_kb(m)).toBe(0)
    expect(() => ts.free_thread_stack(s6)).toThrow(/not a live kernel stack/)
    m.check()
  })

  it('i386: 8 KiB order-1 blocks from the direct map, nothing in vmalloc', () => {
    const m = new Machine({ arch: 'i386', ram: '256M', debug_vm: true })
    const ts = m.thread_stacks
    const s = ts.alloc_thread_stack_node()
    expect(m.page_alloc.virt_to_pfn(s) % 2).toBe(0)
    expect(kernel_stack_kb(m)).toBe(8)
    expect(m.proc('/proc/vmallocinfo')).toBe('')
    ts.free_thread_stack(s)
    expect(kernel_stack_kb(m)).toBe(0)
    m.check()
  })
})

describe('the kernel stacks check', () => {
  it('after a call, looks the stacks up again only when a stack or a vmap area changed; the full check always does', () => {
    const m = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: false })
    const ts = m.thread_stacks
    const s1 = ts.alloc_thread_stack_node()
    ts.check(true)
    // a live stack's area freed behind the stack allocator's back: the vmap areas changed, so the next per-call check looks
    m.vmalloc.vfree(s1)
    expect(() => ts.check(true)).toThrow(/is not a THREAD_SIZE vmalloc area/)
    const m2 = new Machine({ arch: 'x86_64', ram: '64M', debug_vm: false })
    const ts2 = m2.thread_stacks
    const s2 = ts2.alloc_thread_stack_node()
    ts2.check(true)
    // a stack's vm_struct resized behind everyone's back: no generation moved, so only the full check sees it
    const vm = m2.vmalloc.find_vm_area(s2)
    if (!vm) throw new Error('no area')
    vm.nr_pages--
    expect(() => ts2.check(true)).not.toThrow()
    expect(() => ts2.check()).toThrow(/is not a THREAD_SIZE vmalloc area/)
    vm.nr_pages++
  })
})
