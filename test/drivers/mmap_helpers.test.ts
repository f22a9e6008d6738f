/**
 * The mapping helpers and vm_operations a driver's mmap uses (SPEC §7-§10;
 * acceptance T-MM-7, T-MM-13, T-MM-14), through small drivers written
 * here against the driver API: remap_pfn_range's flags and the maps/smaps
 * lines they give, mremap and get_user_pages refusing PFN maps,
 * vm_insert_page's refcounted pages, vmf_insert_pfn from a fault handler,
 * remap_vmalloc_range, and what each VM_FAULT_* code does to the process.
 * The drivers that misuse a helper are part of SECURITY.md §4.4's catalogue.
 */
import { describe, it, expect } from 'vitest'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDWR } from '../../src/include/uapi/fcntl.js'
import { EACCES, EFAULT, EINVAL } from '../../src/include/errno.js'
import { type MmStruct, VM_WRITE, VM_MAYWRITE, vm_flags_test } from '../../src/mm/mm_types.js'
import {
  type VmArea, type VmFault, GFP_KERNEL, VM_FAULT_NOPAGE, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_PFNMAP,
} from '../../src/drivers/driver_api.js'
import { type Probe, load, probe_module, signal_of } from './probe.js'

const PG = 4096

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('remap_pfn_range (SPEC §9)', () => {
  const remap_all = (pr: Probe, vma: VmArea): number => pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn + vma.vm_pgoff, vma.vm_end - vma.vm_start)

  it('maps the frames now: the driver\'s bytes are the process\'s, both ways; VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP in smaps', () => {
    const { m, p, fd, pr } = load(probe_module(remap_all))
    pr.k.kernel_write(pr.buf + PG + 10, text('from the driver'))
    const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    expect(new TextDecoder().decode(p.load(a + PG + 10, 15))).toBe('from the driver')
    p.store(a + 3, text('user'))
    expect(pr.k.kernel_read(pr.buf + 3, 4)).toEqual(text('user'))
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    const block = smaps.slice(smaps.indexOf(a.toString(16)))
    expect(block).toMatch(/^VmFlags: rd wr sh mr mw me ms pf io de dd \n/m)
    expect(block).toMatch(/^Rss: +0 kB$/m) // special PTEs are not counted
    expect(m.driver_check.findings).toEqual([])
  })

  it('T-MM-7: growing a remap_pfn_range mapping with mremap is EFAULT; shrinking works', () => {
    const { p, fd } = load(probe_module(remap_all))
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.sys_mremap(a, 2 * PG, 3 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    expect(p.mremap(a, 2 * PG, PG)).toBe(a)
    expect(signal_of(() => p.load(a + PG, 1))).toBe('SIGSEGV')
  })

  it('T-MM-14/S-K1/S-I4: get_user_pages (a driver\'s direct I/O) refuses a VM_IO|VM_PFNMAP buffer with EFAULT', () => {
    const gup = (pr: Probe, _cmd: number, arg: number, mm: MmStruct): number => {
      const r = pr.k.get_user_pages(mm, arg, 1, false)
      if (typeof r === 'number') return r
      for (const pfn of r) pr.k.put_page(pfn)
      return r.length
    }
    const { p, fd } = load(probe_module(remap_all, gup))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(p.sys_ioctl(fd, 1, a)).toBe(-EFAULT)
    const anon = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    expect(p.sys_ioctl(fd, 1, anon)).toBe(1)
  })

  it('S-H3: a MAP_PRIVATE remap must cover the whole VMA; vm_pgoff becomes the pfn; a write copies the frame, the driver\'s stays', () => {
    const { m, p, fd, pr } = load(probe_module(remap_all))
    pr.k.kernel_write(pr.buf, text('original'))
    const a = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
    expect(m.proc(`/proc/${p.pid}/maps`)).toContain(`${a.toString(16)}-${(a + PG).toString(16)} rw-p ${(pr.pfn * PG).toString(16).padStart(8, '0')} `)
    p.store(a, text('O'))
    expect(new TextDecoder().decode(p.load(a, 8))).toBe('Original')
    expect(pr.k.kernel_read(pr.buf, 8)).toEqual(text('original'))
    const partial = probe_module((q, vma) => q.k.remap_pfn_range(vma, vma.vm_start, q.pfn, PG))
    const l = load(partial)
    expect(l.p.sys_mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, l.fd, 0)).toBe(-EINVAL)
  })

  it('fork copies the PFN map\'s PTEs: the child reads without a fault handler', () => {
    const { p, fd, pr } = load(probe_module(remap_all))
    pr.k.kernel_write(pr.buf, text('shared frame'))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    const c = p.fork()
    expect(new TextDecoder().decode(c.load(a, 12))).toBe('shared frame')
    c.exit(0)
  })

  it('S-G1: a range past vm_end is refused with EINVAL and a warning (Linux would write PTEs outside the VMA)', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn, 4 * PG)))
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(m.dmesg()).toMatch(/WARNING: remap_pfn_range: \[0x[0-9a-f]+, 0x[0-9a-f]+\) is outside the VMA .*\[S-G1\]/)
  })

  it('a driver that fails after remapping gets its PTEs torn down and the VMA discarded', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => (pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn, PG) || -EINVAL)))
    const before = m.proc(`/proc/${p.pid}/maps`)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(m.proc(`/proc/${p.pid}/maps`)).toBe(before)
  })
})

describe('vm_insert_page, remap_vmalloc_range, vmf_insert_pfn', () => {
  it('vm_insert_page: refcounted pages, VM_MIXEDMAP ("mm" in smaps), RssFile; get_user_pages works on them (T-MM-14)', () => {
    const gup = (pr: Probe, _cmd: number, arg: number, mm: MmStruct): number => {
      const r = pr.k.get_user_pages(mm, arg, 2, false)
      if (typeof r === 'number') return r
      for (const pfn of r) pr.k.put_page(pfn)
      return r.length
    }
    let second = -1
    const mod = probe_module((pr, vma) => {
      second = pr.k.alloc_pages(GFP_KERNEL, 0)
      pr.k.kernel_write(pr.k.page_address(second), text('page one'))
      return pr.k.vm_insert_page(vma, vma.vm_start, pr.pfn) || pr.k.vm_insert_page(vma, vma.vm_start + PG, second)
    }, gup)
    const { m, p, fd, pr } = load(mod)
    // __get_free_pages(order 2) is not compound: only its head page has a count, a tail page is refused
    const tail = load(probe_module((q, vma) => q.k.vm_insert_page(vma, vma.vm_start, q.pfn + 1)))
    expect(tail.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, tail.fd, 0)).toBe(-EINVAL)
    const before = pr.k.page_count(pr.pfn)
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(pr.k.page_count(pr.pfn)).toBe(before + 1)
    expect(pr.k.page_count(second)).toBe(2)
    expect(new TextDecoder().decode(p.load(a + PG, 8))).toBe('page one')
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    const block = smaps.slice(smaps.indexOf(a.toString(16)))
    expect(block).toMatch(/^Rss: +8 kB$/m)
    expect(block).toMatch(/^VmFlags: rd sh mr mw me ms mm \n/m)
    expect(p.sys_ioctl(fd, 1, a)).toBe(2)
    p.munmap(a, 2 * PG)
    expect(pr.k.page_count(pr.pfn)).toBe(before)
    expect(pr.k.page_count(second)).toBe(1)
    pr.k.__free_pages(second, 0)
  })

  it('vm_insert_page refuses a slab page (EINVAL) and the checker names the driver [S-D1]', () => {
    let obj = 0
    const mod = probe_module((pr, vma) => {
      obj = pr.k.kmalloc(64)
      return pr.k.vm_insert_page(vma, vma.vm_start, pr.k.virt_to_pfn(obj))
    })
    const { m, p, fd, pr } = load(mod)
    expect(p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(m.driver_check.findings.map((f) => [f.id, f.module])).toEqual([['S-D1', 'probe']])
    expect(m.dmesg()).toContain('mmsim driver check: probe: vm_insert_page maps pfn 0x')
    pr.k.kfree(obj)
  })

  it('remap_vmalloc_range maps a vmalloc_user area (DONTEXPAND|DONTDUMP); a plain vmalloc area is EINVAL', () => {
    let area = 0
    const mod = probe_module((pr, vma) => {
      area = pr.k.vmalloc_user(3 * PG)
      pr.k.kernel_write(area + 2 * PG, text('vmalloc page 2'))
      return pr.k.remap_vmalloc_range(vma, area, 0)
    })
    const { m, p, fd, pr } = load(mod)
    const a = p.mmap(0, 3 * PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(new TextDecoder().decode(p.load(a + 2 * PG, 14))).toBe('vmalloc page 2')
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    expect(smaps.slice(smaps.indexOf(a.toString(16)))).toMatch(/^VmFlags: rd sh mr mw me ms de dd mm \n/m)
    expect(p.sys_mremap(a, 3 * PG, 4 * PG, MREMAP_MAYMOVE, 0)).toBe(-EFAULT)
    // a mapping longer than the area: EINVAL
    expect(p.sys_mmap(0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0)).toBe(-EINVAL)
    expect(m.driver_check.findings).toEqual([])
    p.munmap(a, 3 * PG)
    pr.k.vfree(area)
    const plain = probe_module((q, vma) => q.k.remap_vmalloc_range(vma, q.k.vmalloc(PG), 0))
    const l = load(plain)
    expect(l.p.sys_mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)).toBe(-EINVAL)
  })

  it('vmf_insert_pfn from a fault handler on a VM_PFNMAP VMA maps the frame; without PFNMAP/MIXEDMAP it is a kernel BUG and SIGBUS', () => {
    const fault_pfn = (pr: Probe, flags: boolean) => (vma: VmArea): number => {
      if (flags) pr.k.vm_flags_set(vma, VM_PFNMAP)
      vma.vm_ops = { fault: (vmf: VmFault) => pr.k.vmf_insert_pfn(vmf.vma, vmf.address, pr.pfn + vmf.pgoff) }
      return 0
    }
    let l = load(probe_module((pr, vma) => fault_pfn(pr, true)(vma)))
    l.pr.k.kernel_write(l.pr.buf + PG, text('pfn one'))
    const a = l.p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(new TextDecoder().decode(l.p.load(a + PG, 7))).toBe('pfn one')
    l = load(probe_module((pr, vma) => fault_pfn(pr, false)(vma)))
    const b = l.p.mmap(0, PG, PROT_READ, MAP_SHARED, l.fd, 0)
    expect(signal_of(() => l.p.load(b, 1))).toBe('SIGBUS')
    expect(l.m.dmesg()).toContain('kernel BUG at mm/memory.c vmf_insert_pfn: VMA 0x')
  })
})

describe('vm_operations and VM_FAULT_* results (SPEC §8)', () => {
  const with_fault = (fault: (pr: Probe, vmf: VmFault) => number) =>
    probe_module((pr, vma) => {
      vma.vm_ops = { fault: (vmf) => fault(pr, vmf) }
      return 0
    })

  it('T-MM-13: an empty mmap handler (returns 0, sets nothing): the mapping exists, a touch is SIGBUS', () => {
    const { m, p, fd } = load(probe_module(() => 0))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.proc(`/proc/${p.pid}/maps`)).toContain(`${a.toString(16)}-${(a + PG).toString(16)} r--s 00000000`)
    expect(signal_of(() => p.load(a, 1))).toBe('SIGBUS')
  })

  it('VM_FAULT_SIGSEGV is SIGSEGV, VM_FAULT_OOM kills the task, VM_FAULT_SIGBUS is SIGBUS', () => {
    for (const [code, sig] of [[VM_FAULT_SIGSEGV, 'SIGSEGV'], [VM_FAULT_OOM, 'SIGKILL'], [VM_FAULT_SIGBUS, 'SIGBUS']] as const) {
      const { p, fd } = load(with_fault(() => code))
      const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
      expect(signal_of(() => p.load(a, 1))).toBe(sig)
    }
  })

  it('S-K4: a kernel access (read(2) into the mapping) that the handler refuses is EFAULT, not a signal', () => {
    const { p, fd } = load(with_fault(() => VM_FAULT_SIGBUS))
    const a = p.mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    const z = p.open('/dev/zero', O_RDWR)
    expect(p.sys_read(z, a, 16)).toBe(-EFAULT)
  })

  it('S-F4/S-L3/S-B8: VM_FAULT_NOPAGE without a PTE would fault forever: warned, the task is killed', () => {
    const { m, p, fd } = load(with_fault(() => VM_FAULT_NOPAGE))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(signal_of(() => p.load(a, 1))).toBe('SIGKILL')
    expect(m.dmesg()).toContain('fault livelock: /dev/probe fault handler returned VM_FAULT_NOPAGE without a PTE')
  })

  it('returning 0 without vmf->page is the NULL dereference Linux would oops on: reported, SIGBUS', () => {
    const { m, p, fd } = load(with_fault(() => 0))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(signal_of(() => p.load(a, 1))).toBe('SIGBUS')
    expect(m.dmesg()).toContain('BUG: kernel NULL pointer dereference: /dev/probe fault handler returned 0 without vmf->page')
  })

  it('page_mkwrite: read faults map read-only; the first write asks the driver, whose refusal is SIGBUS', () => {
    let allow = false
    const calls: number[] = []
    const mod = probe_module((pr, vma) => {
      vma.vm_ops = {
        fault: (vmf) => {
          pr.k.get_page(pr.pfn + vmf.pgoff)
          vmf.page = pr.pfn + vmf.pgoff
          return 0
        },
        page_mkwrite: (vmf) => {
          calls.push(vmf.pgoff)
          return allow ? 0 : VM_FAULT_SIGBUS
        },
      }
      return 0
    })
    const { p, fd, pr } = load(mod)
    const a = p.mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    expect(p.load(a, 1)).toEqual(new Uint8Array([0]))
    p.sigaction(7, () => {})
    expect(signal_of(() => p.store(a, text('x')))).toBe('SIGBUS')
    allow = true
    p.store(a, text('y'))
    p.store(a + PG, text('z')) // a write fault with no PTE asks too
    expect(calls).toEqual([0, 0, 1])
    expect(pr.k.kernel_read(pr.buf, 1)).toEqual(text('y'))
    expect(pr.k.kernel_read(pr.buf + PG, 1)).toEqual(text('z'))
  })

  it('map_pages is asked for the fault-around window, clipped to the VMA', () => {
    const windows: [number, number][] = []
    const mod = probe_module((pr, vma) => {
      vma.vm_ops = {
        map_pages: (_vmf, s, e) => {
          windows.push([s, e])
          return 0
        },
        fault: (vmf) => {
          pr.k.get_page(pr.pfn + vmf.pgoff)
          vmf.page = pr.pfn + vmf.pgoff
          return 0
        },
      }
      return 0
    })
    const { p, fd } = load(mod)
    const a = p.mmap(0, 3 * PG, PROT_READ, MAP_SHARED, fd, PG)
    p.load(a + PG, 1)
    expect(windows.length).toBe(1)
    const [s, e] = windows[0]
    expect(s).toBeGreaterThanOrEqual(1)
    expect(e).toBeLessThanOrEqual(3)
    expect(s <= 2 && 2 <= e).toBe(true)
  })

  it('vm_ops.name labels the VMA in /proc/<pid>/maps only without a file; a device VMA shows its node', () => {
    const { m, p, fd } = load(probe_module((_pr, vma) => {
      vma.vm_ops = { name: () => '[probe]' }
      return 0
    }))
    const a = p.mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0)
    expect(m.proc(`/proc/${p.pid}/maps`)).toMatch(new RegExp(`${a.toString(16)}-.* /dev/probe\\n`))
  })
})

describe('VMA flags a driver sets (SPEC §10; SECURITY.md S-H1, S-L4)', () => {
  /** A read-only device: VM_WRITE is refused at mmap; VM_MAYWRITE cleared or (the bug) kept. */
  const read_only = (clear_maywrite: boolean) => (pr: Probe, vma: VmArea): number => {
    if (vm_flags_test(vma.vm_flags, VM_WRITE)) return -EACCES
    if (clear_maywrite) pr.k.vm_flags_clear(vma, VM_MAYWRITE)
    return pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn, vma.vm_end - vma.vm_start)
  }

  it('S-H1: a driver that clears VM_MAYWRITE keeps its mapping read-only (mprotect EACCES); one that keeps it can be upgraded', () => {
    const good = load(probe_module(read_only(true)))
    expect(good.p.sys_mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, good.fd, 0)).toBe(-EACCES)
    const a = good.p.mmap(0, PG, PROT_READ, MAP_SHARED, good.fd, 0)
    expect(good.p.sys_mprotect(a, PG, PROT_READ | PROT_WRITE)).toBe(-EACCES)
    const bad = load(probe_module(read_only(false)))
    const b = bad.p.mmap(0, PG, PROT_READ, MAP_SHARED, bad.fd, 0)
    bad.p.mprotect(b, PG, PROT_READ | PROT_WRITE)
    bad.p.store(b, text('written'))
    expect(bad.pr.k.kernel_read(bad.pr.buf, 7)).toEqual(text('written'))
  })

  it('S-L4: mlock of a VM_IO|VM_PFNMAP mapping succeeds without locking it (VM_SPECIAL is skipped)', () => {
    const { m, p, fd } = load(probe_module((pr, vma) => pr.k.remap_pfn_range(vma, vma.vm_start, pr.pfn, vma.vm_end - vma.vm_start)))
    const a = p.mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0)
    p.mlock(a, 2 * PG)
    const smaps = m.proc(`/proc/${p.pid}/smaps`)
    const block = smaps.slice(smaps.indexOf(a.toString(16)))
    expect(block).toMatch(/^VmFlags: rd sh mr mw me ms pf io de dd \n/m)
    expect(m.proc(`/proc/${p.pid}/status`)).toMatch(/^VmLck:\s+0 kB$/m)
  })
})
