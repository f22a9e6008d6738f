/**
 * A one-device test driver, "probe", whose mmap (and ioctl) each test
 * writes against the driver API: four zeroed pages the driver owns, the
 * node /dev/probe (mode 0666), and a root process with it open.
 */
import { boot } from '../helpers.js'
import type { Machine, Process } from '../../src/index.js'
import { SignalError } from '../../src/user/errors.js'
import { O_RDWR } from '../../src/include/uapi/fcntl.js'
import { MAJOR, MKDEV, S_IFCHR, type File } from '../../src/fs/fs.js'
import type { Module } from '../../src/include/module.js'
import type { MmStruct } from '../../src/mm/mm_types.js'
import { type DriverKernel, type VmArea, GFP_KERNEL } from '../../src/drivers/driver_api.js'
import type { KernelModule } from '../../src/drivers/module.js'

const PG = 4096

export interface Probe {
  k: DriverKernel
  /** Four zeroed pages the driver owns, by kernel address. */
  buf: number
  pfn: number
}

/** A one-device driver "probe" whose mmap (and ioctl) the test writes. */
export function probe_module(
  mmap: (pr: Probe, vma: VmArea, filp: File) => number,
  ioctl?: (pr: Probe, cmd: number, arg: number, mm: MmStruct) => number,
): KernelModule & { pr: Probe | null } {
  let major = 0
  const m = {
    name: 'probe',
    pr: null as Probe | null,
    init(k: DriverKernel, _p: unknown, THIS_MODULE: Module): number {
      const dev = { value: 0 }
      const err = k.alloc_chrdev_region(dev, 0, 1, 'probe')
      if (err) return err
      major = MAJOR(dev.value)
      const buf = k.__get_free_pages(GFP_KERNEL, 2)
      k.memset0(buf, 4 * PG)
      const pr = (m.pr = { k, buf, pfn: k.virt_to_pfn(buf) })
      const cdev = k.cdev_init({
        owner: THIS_MODULE,
        open: () => 0,
        mmap: (f, vma) => mmap(pr, vma, f),
        unlocked_ioctl: ioctl ? (_f, cmd, arg, mm) => ioctl(pr, cmd, arg, mm) : undefined,
      })
      return k.cdev_add(cdev, dev.value, 1)
    },
    exit(k: DriverKernel): void {
      if (m.pr) k.free_pages(m.pr.buf, 2)
      k.unregister_chrdev_region(MKDEV(major, 0), 1)
    },
    nodes: () => [{ name: 'probe', dev: MKDEV(major, 0), mode: S_IFCHR | 0o666 }],
  }
  return m
}

export function load(mod: KernelModule & { pr: Probe | null }): { m: Machine; p: Process; fd: number; pr: Probe } {
  const m = boot({ ram: '128M' })
  m.insmod(mod)
  const p = m.spawn({ name: 'user', uid: 0 })
  return { m, p, fd: p.open('/dev/probe', O_RDWR), pr: mod.pr! }
}

export function signal_of(f: () => unknown): string {
  try {
    f()
    return 'none'
  } catch (e) {
    if (e instanceof SignalError) return e.signal
    throw e
  }
}

