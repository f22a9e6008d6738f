/** VM events: counted by enum vm_event_item index, read back through /proc/vmstat. */
import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { GFP_KERNEL } from '../../src/index.js'
import type { Machine } from '../../src/index.js'
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../src/include/uapi/mman.js'
import { NR_VM_EVENT_ITEMS, PGFAULT, vm_event_text, vm_event_text_for } from '../../src/mm/vm_event_item.js'

function vmstat(m: Machine): Map<string, number> {
  return new Map(m.proc('/proc/vmstat').trimEnd().split('\n').map((l) => [l.split(' ')[0], Number(l.split(' ')[1])] as [string, number]))
}

describe('vm events', () => {
  it('has one name per enum vm_event_item', () => {
    expect(vm_event_text.length).toBe(NR_VM_EVENT_ITEMS)
    expect(new Set(vm_event_text).size).toBe(NR_VM_EVENT_ITEMS)
    expect(vm_event_text[PGFAULT]).toBe('pgfault')
  })

  it('names the zone groups after the profile zones (i386: no dma32, pgalloc_high, no device slot)', () => {
    const t = vm_event_text_for(['DMA', 'Normal', 'HighMem', 'Movable'])
    expect(t.filter((n) => n?.startsWith('pgalloc_'))).toEqual(['pgalloc_dma', 'pgalloc_normal', 'pgalloc_high', 'pgalloc_movable'])
    expect(t.filter((n) => n === null).length).toBe(3)
  })

  it('counts pgfault, pgalloc_<zone> and pgfree', () => {
    const m = boot()
    const p = m.spawn({ name: 't' })
    const a = p.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const before = vmstat(m)
    for (let i = 0; i < 3; i++) p.store(a + i * 4096, [1])
    const after = vmstat(m)
    expect(after.get('pgfault')! - before.get('pgfault')!).toBe(3)
    const k = m.kernel
    const b2 = vmstat(m)
    k.__free_pages(k.alloc_pages(GFP_KERNEL, 2) as never, 2)
    const a2 = vmstat(m)
    const allocs = ['pgalloc_dma', 'pgalloc_dma32', 'pgalloc_normal', 'pgalloc_movable', 'pgalloc_device'].map((n) => a2.get(n)! - b2.get(n)!)
    expect(allocs.reduce((x, y) => x + y)).toBe(4)
    expect(a2.get('pgfree')! - b2.get('pgfree')!).toBe(4)
  })
})
