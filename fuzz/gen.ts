/**
 * The generator: the next operation for a world, from its model (addresses
 * of pages the model knows, the break, the files) and a seeded PRNG. Most
 * arguments are well formed; with probability `hostile` an argument is
 * replaced by a hostile one: a value near 0, a negative one, 2^63,
 * 2^64 - 4096, a bigint, and (rarely) what no C caller can pass (NaN,
 * undefined, 1.5, a string, a bigint where an int is expected).
 */
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
  MAP_SHARED_VALIDATE, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, MS_ASYNC, MS_INVALIDATE,
  MS_SYNC, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE,
} from '../src/index.js'
import type { FuzzRng } from './rng.js'
import type { Arg, Op, OpKind } from './ops.js'
import { FILE_FDS, type World } from './exec.js'
import { PAGE } from './shadow.js'

export interface GenOptions {
  /** Probability that an argument is hostile. */
  readonly hostile: number
  /** Swap is on: half the madvise calls are MADV_PAGEOUT (21), so pages really go out and come back. */
  readonly swap?: boolean
}

const ADVICES = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 102, 103]
const PROTS = [PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE, PROT_EXEC]

/** Hostile integers C could pass in an unsigned long (numbers and bigints). */
function hostile_ulong(r: FuzzRng, ts: number): Arg {
  switch (r.below(22)) {
    case 0: return 0
    case 1: return -1
    case 2: return -4096
    case 3: return -(2 ** 31)
    case 4: return 2 ** 31
    case 5: return 2 ** 32
    case 6: return 2 ** 63
    case 7: return 2 ** 64
    case 8: return 2n ** 64n - 4096n
    case 9: return 2n ** 63n
    case 10: return -(2n ** 63n)
    case 11: return r.u64()
    case 12: return ts
    case 13: return ts - PAGE
    case 14: return ts + PAGE
    case 15: return 2 ** 53
    case 16: return 2 ** 53 + 2
    case 17: return -8192
    case 18: return 1
    case 19: return 4095
    case 20: return 2 ** 47
    default: return -r.below(2 ** 31)
  }
}
/** What no C caller can pass. */
function garbage(r: FuzzRng): Arg {
  return r.pick([NaN, undefined, 1.5, Infinity, -Infinity, '4096', null, -0.5])
}

export class Generator {
  constructor(
    readonly r: FuzzRng,
    readonly o: GenOptions,
  ) {}

  private ulong(w: World, v: Arg): Arg {
    const r = this.r
    if (!r.chance(this.o.hostile)) return v
    return r.chance(0.1) ? garbage(r) : hostile_ulong(r, Number(w.task_size))
  }
  private int(v: number): Arg {
    const r = this.r
    if (!r.chance(this.o.hostile)) return v
    return r.chance(0.15) ? r.pick([garbage(r), 5n, 2 ** 40]) : r.pick([-1, 2 ** 31 - 1, -(2 ** 31), 0, 1000, v ^ 0x40, 77])
  }
  private len(v: number): Arg {
    const r = this.r
    if (!r.chance(this.o.hostile)) return v
    return r.pick([-1, -4096, NaN, undefined, 2 ** 53, 1.5, 4n, 2 ** 33, 0])
  }

  /** A page address the model knows in process `slot`, or a random user address. */
  private addr(w: World, slot: number): number {
    const r = this.r
    const m = w.models.get(slot)
    if (m && m.pages.size && !r.chance(0.1)) {
      // A random known page: the map's keys in insertion order, sampled.
      const n = m.pages.size
      const i = r.below(n)
      let j = 0
      for (const v of m.pages.keys()) if (j++ === i) return v * PAGE
    }
    if (m && r.chance(0.3)) return Math.ceil(m.brk / PAGE) * PAGE - PAGE * r.below(4)
    return r.below(Number(w.task_size) / PAGE) * PAGE
  }
  private pages(max: number): number {
    return (1 + this.r.below(this.r.chance(0.8) ? Math.min(max, 8) : max)) * PAGE
  }

  next(w: World): Op {
    const r = this.r
    const live = w.live_slots()
    if (!live.length) return { k: 'spawn', p: 0, a: [], c: w.next_slot }
    const p = r.pick(live)
    const roll = r.below(1000)
    const U = (v: Arg): Arg => this.ulong(w, v)
    const op = (k: OpKind, a: Arg[], d?: Uint8Array): Op => ({ k, p, a, ...(d ? { d } : {}) })
    if (roll < 10) return { k: 'spawn', p, a: [], c: w.next_slot }
    if (roll < 30) return live.length < 6 ? { k: 'fork', p, a: [], c: w.next_slot } : op('exit', [])
    if (roll < 38 && live.length > 1) return op('exit', [])
    if (roll < 200) {
      const fl = r.below(100)
      let flags = fl < 55 ? MAP_PRIVATE | MAP_ANONYMOUS : fl < 70 ? MAP_SHARED | MAP_ANONYMOUS : fl < 85 ? MAP_SHARED : fl < 95 ? MAP_PRIVATE : MAP_SHARED_VALIDATE | (fl & 1 ? MAP_ANONYMOUS : 0)
      let addr = 0
      const place = r.below(25) // 5 in 25: a fixed mapping; 4 in 25: a hint
      if (place < 5) {
        flags |= r.chance(0.8) ? MAP_FIXED : MAP_FIXED_NOREPLACE
        addr = this.addr(w, p)
      } else if (place < 9) addr = this.addr(w, p)
      if (r.chance(0.1)) flags |= MAP_POPULATE
      if (r.chance(0.05)) flags |= MAP_NORESERVE
      if (r.chance(0.03)) flags |= MAP_LOCKED
      if (r.chance(0.02)) flags |= MAP_GROWSDOWN
      const len = this.pages(r.chance(0.05) ? 512 : 64) - (r.chance(0.2) ? r.below(PAGE) : 0)
      return op('mmap', [U(addr), U(len), U(r.pick(PROTS)), U(flags), this.int(flags & MAP_ANONYMOUS ? -1 : r.pick(FILE_FDS)), U(r.below(16) * PAGE)])
    }
    if (roll < 260) return op('munmap', [U(this.addr(w, p)), U(this.pages(16))])
    if (roll < 320) return op('mprotect', [U(this.addr(w, p)), U(this.pages(16)), U(r.pick(PROTS))])
    if (roll < 380) {
      const a = this.addr(w, p)
      const old_len = r.chance(0.05) ? 0 : this.pages(8)
      const new_len = this.pages(16)
      const f = r.below(10)
      const flags = f < 6 ? MREMAP_MAYMOVE : f < 7 ? 0 : f < 9 ? MREMAP_MAYMOVE | MREMAP_FIXED : MREMAP_MAYMOVE | MREMAP_DONTUNMAP
      return op('mremap', [U(a), U(old_len), U(flags & MREMAP_DONTUNMAP ? old_len : new_len), U(flags), U(flags & MREMAP_FIXED ? this.addr(w, p) : 0)])
    }
    if (roll < 450) {
      const advice = this.o.swap && r.chance(0.5) ? 21 : r.pick(ADVICES)
      return op('madvise', [U(this.addr(w, p)), U(this.pages(16)), this.int(advice)])
    }
    if (roll < 475) return op('mlock', [U(this.addr(w, p)), U(this.pages(8))])
    if (roll < 495) return op('munlock', [U(this.addr(w, p)), U(this.pages(8))])
    if (roll < 498) return op('mlockall', [this.int(r.pick([MCL_CURRENT, MCL_FUTURE, MCL_CURRENT | MCL_ONFAULT, MCL_FUTURE | MCL_ONFAULT]))])
    if (roll < 505) return op('munlockall', [])
    if (roll < 530) {
      const m = w.models.get(p)
      const cur = m ? m.brk : 0
      return op('brk', [U(r.chance(0.1) ? 0 : cur + (r.below(64 * 1024) - 16 * 1024))])
    }
    if (roll < 545) return op('msync', [U(this.addr(w, p)), U(this.pages(8)), this.int(r.pick([MS_ASYNC, MS_SYNC, MS_SYNC | MS_INVALIDATE, 0]))])
    if (roll < 720) {
      const a = this.addr(w, p) + r.below(PAGE)
      return op('load', [U(a), this.len(1 + r.below(r.chance(0.1) ? 3 * PAGE : 64))])
    }
    if (roll < 900) {
      const a = this.addr(w, p) + r.below(PAGE)
      const d = new Uint8Array(1 + r.below(r.chance(0.1) ? 2 * PAGE : 64))
      for (let i = 0; i < d.length; i++) d[i] = r.below(256)
      return op('store', [U(a)], d)
    }
    const fd = this.int(r.pick(FILE_FDS))
    const off = (): Arg => (r.chance(this.o.hostile) ? hostile_ulong(r, 0) : r.below(64 * 1024))
    if (roll < 940) {
      const d = new Uint8Array(1 + r.below(r.chance(0.2) ? 3 * PAGE : 200))
      for (let i = 0; i < d.length; i++) d[i] = r.below(256)
      return op('pwrite', [fd, off()], d)
    }
    if (roll < 975) return op('pread', [fd, this.len(1 + r.below(2 * PAGE)), off()])
    if (roll < 983) return op('fsync', [fd])
    if (roll < 990) return op('fdatasync', [fd])
    return op('ftruncate', [fd, r.chance(this.o.hostile) ? hostile_ulong(r, 0) : r.below(64 * 1024)])
  }
}
