/**
 * A user-written module through the same API the built-in drivers use:
 * insmod with parameters, its device read from a process, the module
 * reference an open file holds (rmmod EBUSY), release at the last close.
 */
import { it, expect } from 'vitest'
import { boot } from '../helpers.js'
import type { KernelModule } from '../../src/drivers/module.js'
import type { Cdev } from '../../src/fs/char_dev.js'
import { MKDEV, MAJOR, S_IFCHR } from '../../src/fs/fs.js'
import { O_RDONLY } from '../../src/include/uapi/fcntl.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'

function hello(): KernelModule & { releases: number } {
  let dev = 0
  let cdev: Cdev | null = null
  let greeting = ''
  const m = {
    name: 'hello',
    params: { greeting: 'charp' } as const,
    releases: 0,
    init(k, params, THIS_MODULE) {
      greeting = String(params.greeting ?? 'hello')
      const out = { value: 0 }
      const r = k.alloc_chrdev_region(out, 0, 1, 'hello')
      if (r) return r
      dev = out.value
      cdev = k.cdev_init({
        owner: THIS_MODULE,
        read(_f, buf, count, ppos) {
          const data = new TextEncoder().encode(greeting).subarray(ppos.pos, ppos.pos + count)
          if (k.copy_to_user(buf, data)) return -14
          ppos.pos += data.length
          return data.length
        },
        release: () => (m.releases++, 0),
      })
      k.pr_info(`hello: major ${MAJOR(dev)}`)
      return k.cdev_add(cdev, dev, 1)
    },
    exit(k) {
      if (cdev) k.cdev_del(cdev)
      k.unregister_chrdev_region(dev, 1)
    },
    nodes: () => [{ name: 'hello', dev, mode: S_IFCHR | 0o644 }],
  } satisfies KernelModule & { releases: number }
  return m
}

it('loads a user module, serves its device, refuses rmmod while open and unloads after', () => {
  const m = boot()
  const mod = hello()
  m.insmod(mod, { greeting: 'hi there' })
  expect(m.dmesg()).toContain('hello: major 254')
  expect(m.fs.lookup('/dev/hello')!.i_rdev).toBe(MKDEV(254, 0))
  const p = m.spawn({ name: 'cat', uid: 1000 })
  const buf = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  const fd = p.open('/dev/hello', O_RDONLY)
  expect(m.modules.find_module('hello')!.refcnt).toBe(2) // cdev_get + fops_get
  expect(p.read(fd, buf, 100)).toBe(8)
  expect(new TextDecoder().decode(p.load(buf, 8))).toBe('hi there')
  expect(p.read(fd, buf, 100)).toBe(0)
  expect(() => m.rmmod('hello')).toThrow(/EBUSY/)
  p.close(fd)
  expect(mod.releases).toBe(1)
  m.rmmod('hello')
  expect(m.proc('/proc/devices')).not.toContain('hello')
  expect(p.sys_open('/dev/hello', O_RDONLY)).toBe(-2)
})

it('an init that fails leaves nothing loaded', () => {
  const m = boot()
  const bad: KernelModule = { name: 'bad', init: () => -19, exit: () => {} }
  expect(() => m.insmod(bad)).toThrow(/ENODEV/)
  expect(m.modules.find_module('bad')).toBeNull()
  m.insmod({ name: 'bad', init: () => 0, exit: () => {} })
  expect(m.modules.list()).toEqual(['bad'])
})
