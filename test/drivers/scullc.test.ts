/**
 * scullc (LDD3 scullc/, SPEC §4.1): scull whose quanta are objects of its
 * own kmem_cache "scullc", seen in /proc/slabinfo; no mmap. And the `ldd3`
 * machine preset, which loads the book's modules with its parameters.
 */
import { describe, it, expect } from 'vitest'
import { boot, fill_bytes } from '../helpers.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { O_RDONLY, O_RDWR, O_WRONLY, SEEK_SET } from '../../src/include/uapi/fcntl.js'
import { ENODEV } from '../../src/include/errno.js'
import { scullc_module } from '../../src/drivers/scullp/main.js'
import { LDD3_MODULES } from '../../src/machine.js'

const slabinfo_line = (text: string, name: string): number[] | null => {
  const l = text.split('\n').find((x) => x.startsWith(`${name} `))
  return l ? l.trim().split(/\s+/).slice(1, 6).map(Number) : null
}

describe('scullc', () => {
  it('quanta are objects of the "scullc" cache: 10 000 bytes take three 4000-byte objects; trim frees them; rmmod destroys the cache', () => {
    const m = boot({ ram: '128M' })
    const mod = scullc_module()
    m.insmod(mod)
    expect(m.proc('/proc/devices')).toContain('\n254 scullc\n')
    // active_objs, num_objs, objsize (4000 rounded to the cache line), objperslab, pagesperslab
    expect(slabinfo_line(m.proc('/proc/slabinfo'), 'scullc')!.slice(0, 3)).toEqual([0, 0, 4032])
    const p = m.spawn({ name: 'p', uid: 0 })
    const buf = p.mmap(0, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
    const data = fill_bytes(10000, (i) => (i * 11) & 0xff)
    p.store(buf, data)
    const w = p.open('/dev/scullc0', O_WRONLY)
    const got: number[] = []
    for (let done = 0; done < 10000; ) {
      const n = p.write(w, buf + done, 10000 - done)
      got.push(n)
      done += n
    }
    expect(got).toEqual([4000, 4000, 2000])
    // SLUB's active_objs counts the whole CPU slab: the three objects are in it
    expect(slabinfo_line(m.proc('/proc/slabinfo'), 'scullc')![0]).toBeGreaterThanOrEqual(3)
    const r = p.open('/dev/scullc0', O_RDONLY)
    p.lseek(r, 3990, SEEK_SET)
    expect(p.read(r, buf, 100)).toBe(10) // one quantum per call
    expect(p.load(buf, 10)).toEqual(data.subarray(3990, 4000))
    // the quantum's bytes are the cache object's
    const k = m.driver_kernel
    const arr = mod.scullp!.devices[0].data
    const quanta = [0, 1, 2].map((i) => k.read_ptr(arr + 8 * i))
    expect(new Set(quanta).size).toBe(3)
    for (const q of quanta) expect(m.slab.virt_to_slab(q)!.cache.name).toBe('scullc')
    expect(k.kernel_read(quanta[1], 16)).toEqual(data.subarray(4000, 4016))
    expect(p.sys_mmap(0, 4096, PROT_READ, MAP_SHARED, r, 0)).toBe(-ENODEV)
    p.close(r)
    p.close(w)
    p.close(p.open('/dev/scullc0', O_WRONLY)) // trim: the objects go back to the cache
    expect(mod.scullp!.devices[0].data).toBe(0)
    p.open('/dev/scullc1', O_RDWR)
    p.exit(0)
    m.rmmod('scullc')
    expect(slabinfo_line(m.proc('/proc/slabinfo'), 'scullc')).toBeNull()
  })

  it('scullc_quantum sets the cache\'s object size; 0 is EINVAL', () => {
    const m = boot({ ram: '128M' })
    m.insmod('scullc', { scullc_quantum: 1000 })
    expect(slabinfo_line(m.proc('/proc/slabinfo'), 'scullc')![2]).toBe(1024)
    const m2 = boot({ ram: '128M' })
    expect(() => m2.insmod('scullc', { scullc_quantum: 0 })).toThrow(/EINVAL/)
  })
})

describe('the ldd3 preset', () => {
  it('boots with scull, scullp, scullv, scullc and simple loaded, with the book\'s parameters; modern loads none', () => {
    const m = boot({ ram: '128M', preset: 'ldd3' })
    expect(LDD3_MODULES.map(([n]) => n)).toEqual(['scull', 'scullp', 'scullv', 'scullc', 'simple'])
    const devices = m.proc('/proc/devices')
    for (const n of ['scull', 'scullp', 'sculla', 'scullv', 'scullc', 'simple']) expect(devices).toMatch(new RegExp(`\\n\\d+ ${n}\\n`))
    for (const node of ['scull0', 'scullpipe3', 'scullsingle', 'scullpriv', 'scullp0', 'scullv3', 'scullc0', 'simpler', 'simplen']) {
      expect(m.fs.lookup(`/dev/${node}`), node).not.toBeNull()
    }
    const p = m.spawn({ name: 'reader', uid: 0 })
    const s = p.open('/dev/scull0', O_RDONLY)
    expect(p.ioctl(s, 0x6b07)).toBe(4000) // SCULL_IOCQQUANTUM
    expect(p.ioctl(s, 0x6b08)).toBe(1000) // SCULL_IOCQQSET
    expect(slabinfo_line(m.proc('/proc/slabinfo'), 'scullc')![2]).toBe(4032)
    expect(boot({ ram: '128M', preset: 'modern' }).proc('/proc/devices')).not.toContain('scull')
    expect(() => boot({ ram: '128M', preset: 'book' as 'ldd3' })).toThrow(/preset: 'book' is not modern or ldd3/)
  })
})
