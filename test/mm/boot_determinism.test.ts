/**
 * Boot is a function of the machine's options: two machines booted with the
 * same options are in the same state, frame for frame and object for object;
 * and the same calls on them keep them so (re-execution restores a state
 * exactly: the shell's `back` is built on it). Tests rely on it (test/helpers.ts recounts only the first
 * fresh machine of each option set per worker; the shell's `back` replays on
 * a fresh machine), and the simulator promises it (one seed drives every
 * choice, no module-global state).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Machine, type MachineOptions, type Process } from '../../src/index.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from '../../src/include/uapi/mman.js'
import { proc_paths } from '../../src/fs/proc/root.js'

/**
 * The two object graphs reachable from a and b have the same shape and
 * values: a walk of both in step (own properties in order, Map and Set
 * entries in insertion order, typed arrays byte for byte), where an object
 * met again must be met in step with the same partner. Functions are not
 * compared (the machines' wiring closures differ by identity only).
 */
function expect_same_graph(a: unknown, b: unknown): void {
  const partner = new Map<object, object>()
  const stack: [unknown, unknown, string][] = [[a, b, 'm']]
  let objects = 0
  while (stack.length) {
    const [x, y, path] = stack.pop() as [unknown, unknown, string]
    if (typeof x !== typeof y) expect.fail(`${path}: ${typeof x} vs ${typeof y}`)
    if (x === null || typeof x !== 'object') {
      if (typeof x !== 'function' && !Object.is(x, y)) expect.fail(`${path}: ${String(x)} vs ${String(y)}`)
      continue
    }
    const yo = y as object
    if (yo === null) expect.fail(`${path}: object vs null`)
    const seen = partner.get(x)
    if (seen !== undefined) {
      if (seen !== yo) expect.fail(`${path}: shared differently`)
      continue
    }
    partner.set(x, yo)
    objects++
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(yo)) expect.fail(`${path}: different classes`)
    if (ArrayBuffer.isView(x)) {
      const v = yo as ArrayBufferView
      if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength))) expect.fail(`${path}: bytes differ`)
      continue
    }
    if (x instanceof WeakMap || x instanceof WeakSet || x instanceof ArrayBuffer) continue
    if (x instanceof Map || x instanceof Set) {
      const xe = [...(x as Map<unknown, unknown>).entries()]
      const ye = [...(yo as Map<unknown, unknown>).entries()]
      if (xe.length !== ye.length) expect.fail(`${path}: ${xe.length} vs ${ye.length} entries`)
      xe.forEach(([k, v], i) => {
        stack.push([k, ye[i][0], `${path}.<key ${i}>`])
        stack.push([v, ye[i][1], `${path}.get(${String(k).slice(0, 20)})`])
      })
    }
    const xk = Reflect.ownKeys(x)
    const yk = Reflect.ownKeys(yo)
    if (xk.length !== yk.length || xk.some((k, i) => k !== yk[i])) expect.fail(`${path}: different properties`)
    for (const k of xk) {
      const dx = Object.getOwnPropertyDescriptor(x, k) as PropertyDescriptor
      const dy = Object.getOwnPropertyDescriptor(yo, k) as PropertyDescriptor
      if ('value' in dx) stack.push([dx.value, dy.value, `${path}.${String(k)}`])
    }
  }
  expect(objects).toBeGreaterThan(1000)
}

/** Every frame's bytes, as the machine reads them. */
function expect_same_frames(a: Machine, b: Machine): void {
  expect(b.physmem.nr_frames).toBe(a.physmem.nr_frames)
  for (let pfn = 0; pfn < a.physmem.nr_frames; pfn++) {
    const x = a.physmem.peek(pfn)
    const y = b.physmem.peek(pfn)
    if (x !== y && !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))) {
      expect.fail(`frame 0x${pfn.toString(16)} differs`)
    }
  }
}

/** The whole object graph, every frame's bytes, the log and the global /proc files. */
function expect_same_state(a: Machine, b: Machine): void {
  expect_same_graph(a, b)
  expect_same_frames(a, b)
  expect(b.dmesg()).toBe(a.dmesg())
  // vm.drop_caches is write-only (a read is EACCES, as on Linux).
  for (const path of proc_paths().filter((x) => x !== '/proc/sys/vm/drop_caches')) expect(b.proc(path), path).toBe(a.proc(path))
}

describe('a machine is deterministic', () => {
  it('the same options give the same machine, byte for byte', () => {
    fc.assert(
      fc.property(
        fc.record({
          arch: fc.constantFrom('x86_64' as const, 'i386' as const, 'i386-pae' as const),
          ram: fc.constantFrom('32M', '64M', '96M', '128M'),
          cpus: fc.integer({ min: 1, max: 4 }),
          seed: fc.integer({ min: 0, max: 1000 }),
          slab: fc.constantFrom('slub' as const, 'slab' as const),
          debug_vm: fc.boolean(),
          slub_debug: fc.constantFrom(undefined, '', 'P'),
          init_on_free: fc.boolean(),
        }),
        (o: MachineOptions) => {
          expect_same_state(new Machine(o), new Machine(o))
        },
      ),
      { numRuns: 12 },
    )
  })

  it('the same calls on two such machines leave them in the same state', () => {
    const op = fc.record({
      k: fc.constantFrom('mmap', 'shared', 'store', 'munmap', 'mprotect', 'fork', 'exit', 'kmalloc', 'kfree', 'cpu'),
      who: fc.nat(),
      page: fc.nat({ max: 15 }),
      v: fc.integer({ min: 1, max: 255 }),
    })
    fc.assert(
      fc.property(fc.array(op, { minLength: 5, maxLength: 40 }), fc.constantFrom('x86_64' as const, 'i386' as const), (ops, arch) => {
        const run = (): Machine => {
          const m = new Machine({ arch, ram: '64M', seed: 3 })
          const procs: Process[] = [m.spawn({ name: 'a' })]
          const maps: number[] = []
          const objs: number[] = []
          for (const o of ops) {
            const p = procs[o.who % procs.length]
            const at = maps.length ? maps[o.who % maps.length] + o.page * 4096 : 0
            switch (o.k) {
              case 'mmap':
              case 'shared':
                maps.push(p.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, (o.k === 'mmap' ? MAP_PRIVATE : MAP_SHARED) | MAP_ANONYMOUS))
                break
              case 'store':
                if (at) p.try_access(at, 1, true, new Uint8Array([o.v]))
                break
              case 'munmap':
                if (at) p.sys_munmap(at, 4096)
                break
              case 'mprotect':
                if (at) p.sys_mprotect(at, 4096, PROT_READ)
                break
              case 'fork':
                if (procs.length < 4) procs.push(p.fork())
                break
              case 'exit':
                if (procs.length > 1) procs.splice(procs.indexOf(p), 1)[0].exit(0)
                break
              case 'kmalloc':
                objs.push(m.kernel.kmalloc(o.v, 0xcc0))
                break
              case 'kfree':
                if (objs.length) m.kernel.kfree(objs.splice(o.who % objs.length, 1)[0])
                break
              case 'cpu':
                p.run_on(o.who % 2)
                break
            }
          }
          return m
        }
        const a = run()
        const b = run()
        expect_same_state(a, b)
        a.check()
      }),
      { numRuns: 10 },
    )
  })

  it('a difference in the options shows in the state the comparison reads (the comparison can fail)', () => {
    const a = new Machine({ ram: '64M', seed: 1 })
    const b = new Machine({ ram: '64M', seed: 1 })
    b.kernel.kmalloc(64, 0xcc0)
    expect(() => expect_same_state(a, b)).toThrow(/^m\./)
    const c = new Machine({ ram: '64M', seed: 1 })
    c.physmem.write(0x10_0000, new Uint8Array([1]))
    expect(() => expect_same_state(a, c)).toThrow(/^m\./)
    expect(() => expect_same_frames(a, c)).toThrow(/frame 0x100 differs/)
  })
})
