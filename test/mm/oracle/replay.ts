/**
 * A test-side replay of oracle scenarios (../shared/oracle/FORMAT.md) on the
 * kernel-side mm API, used to check the semantics against the recorded
 * results of the real kernel. The product's runner (`mmsim replay`) lives in
 * the user layer; this one only exists so the mm tests can compare directly.
 */
import { make_env, make_machine_env, check_mm, type TestEnv } from '../env.js'
import { mm_alloc, dup_mm } from '../../../src/kernel/fork.js'
import { mmput } from '../../../src/kernel/exit.js'
import { type MmStruct, type VmFile, FMODE_READ, FMODE_WRITE, VM_MAYSHARE } from '../../../src/mm/mm_types.js'
import { sys_mmap, do_munmap, sys_brk, vm_mmap_pgoff } from '../../../src/mm/mmap.js'
import { do_mprotect_pkey } from '../../../src/mm/mprotect.js'
import { do_mremap } from '../../../src/mm/mremap.js'
import { do_madvise } from '../../../src/mm/madvise.js'
import { do_mlock, sys_mlock2, do_munlock, do_mlockall, do_munlockall } from '../../../src/mm/mlock.js'
import { do_msync } from '../../../src/mm/msync.js'
import { do_mincore } from '../../../src/mm/mincore.js'
import { do_mseal } from '../../../src/mm/mseal.js'
import { access_user } from '../../../src/mm/uaccess.js'
import { file_read_to_user, file_write_from_user, vfs_pread, vfs_pwrite, vfs_ftruncate } from '../../../src/mm/file_rw.js'
import { shmem_file_setup, file_reopen, file_write, filemap_write_and_wait_range } from '../../../src/mm/shmem.js'
import { smaps_walk, kB, pss_kB } from '../../../src/mm/smaps.js'
import { validate_mm } from '../../../src/mm/vma.js'
import { vm_flags_string } from '../../../src/mm/vmflags.js'
import { errno_name } from '../../../src/kernel/errno.js'
import * as M from '../../../src/mm/mman.js'

type J = Record<string, unknown>
const PAGE = 4096
const TASK_SIZE = 0x7ffffffff000
const MMAP_BASE = 0x7f0000000000
const HUGE_LEN_MIN = 2n ** 57n
const SMALL_LEN_MAX = 2n ** 30n
const WRAP_LEN_MIN = 0xffffffffffff0000n
const NOREPLACE_SLACK = 64n << 20n
const BRK0 = 0x555555a00000
const BRK_LIMIT = 1 << 30

function big(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v)
  if (typeof v === 'string') {
    const neg = v.startsWith('-')
    const s = neg ? v.slice(1) : v
    const b = BigInt(s)
    return neg ? -b : b
  }
  throw new Error(`bad number ${String(v)}`)
}
/** 64-bit two's complement, as unsigned. */
function u64(v: unknown): bigint {
  return BigInt.asUintN(64, big(v))
}
function i64(v: unknown): bigint {
  return BigInt.asIntN(64, big(v))
}

const MMAP_FLAGS: Record<string, number> = {
  private: 2, shared: 1, shared_validate: 3, droppable: 8, anonymous: 0x20, anon: 0x20, fixed: 0x10,
  fixed_noreplace: 0x100000, populate: 0x8000, noreserve: 0x4000, norserve: 0x4000, grows_down: 0x100,
  growsdown: 0x100, locked: 0x2000, stack: 0x20000, nonblock: 0x10000, hugetlb: 0x40000, sync: 0x80000,
  '32bit': 0x40, uninitialized: 0x4000000, denywrite: 0x800, executable: 0x1000, file: 0,
}
const MREMAP_FLAGS: Record<string, number> = { maymove: 1, fixed: 2, dontunmap: 4 }
const MSYNC_FLAGS: Record<string, number> = { async: 1, invalidate: 2, sync: 4 }
const MLOCK_FLAGS: Record<string, number> = { onfault: 1 }
const MLOCKALL_FLAGS: Record<string, number> = { current: 1, future: 2, onfault: 4 }
const ADVICE: Record<string, number> = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9, dontfork: 10, dofork: 11,
  mergeable: 12, unmergeable: 13, hugepage: 14, nohugepage: 15, dontdump: 16, dodump: 17, wipeonfork: 18,
  keeponfork: 19, cold: 20, pageout: 21, populate_read: 22, populate_write: 23, dontneed_locked: 24, collapse: 25,
  guard_install: 102, guard_remove: 103,
}

function flags_of(v: unknown, names: Record<string, number>): number {
  if (v === undefined || v === null) return 0
  const list = Array.isArray(v) ? v : [v]
  let f = 0n
  for (const x of list) {
    if (typeof x === 'string' && x in names) f |= BigInt(names[x])
    else f |= u64(x)
  }
  return Number(f)
}

function prot_of(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v !== 'string') return 0
  const [p, extra] = v.split('|')
  let r = 0
  if (p !== 'none') {
    if (p.includes('r')) r |= 1
    if (p.includes('w')) r |= 2
    if (p.includes('x')) r |= 4
  }
  if (/^-?\d|^0x/.test(p)) r = Number(u64(p))
  if (extra === 'growsdown') r |= M.PROT_GROWSDOWN
  if (extra === 'growsup') r |= M.PROT_GROWSUP
  if (extra === 'sem') r |= M.PROT_SEM
  return r
}

function off_str(rel: bigint | number): string {
  const b = BigInt(rel)
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`
}

function fnv(data: Uint8Array, h = 0x811c9dc5): number {
  for (const b of data) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h >>> 0
}
function hex8(h: number): string {
  return '0x' + h.toString(16).padStart(8, '0')
}

interface SFile {
  name: string
  file: VmFile
}

class World {
  readonly env: TestEnv
  base = 0
  npages: number
  wlo: bigint
  whi: bigint
  files: SFile[] = []
  fs: 'tmpfs' | 'disk'
  constructor(sc: J, real: boolean) {
    this.env = real ? make_machine_env() : make_env(65536)
    this.npages = Number(sc.arena_pages ?? 64)
    this.wlo = -BigInt(PAGE)
    this.whi = BigInt(this.npages * PAGE + PAGE)
    this.fs = sc.fs === 'disk' ? 'disk' : 'tmpfs'
  }

  /** setup_window() of the oracle, on a fresh mm. */
  setup(mm: MmStruct): void {
    const PT = 2 << 20
    const total = this.npages * PAGE + 4 * PT
    const anon = M.MAP_PRIVATE | M.MAP_ANONYMOUS
    const r = vm_mmap_pgoff(mm, null, 0, total, 0, anon | M.MAP_NORESERVE, 0)
    if (r < 0) throw new Error('reserve')
    // fill every free gap above the reservation up to mmap_base
    if (r + total < MMAP_BASE) vm_mmap_pgoff(mm, null, r + total, MMAP_BASE - (r + total), 0, anon | M.MAP_FIXED, 0)
    const base = Math.ceil(r / PT) * PT + PT
    const top = base + this.npages * PAGE + PAGE
    const sent = M.MAP_SHARED | M.MAP_ANONYMOUS | M.MAP_FIXED
    if (vm_mmap_pgoff(mm, null, base - 2 * PAGE, PAGE, 0, sent, 0) !== base - 2 * PAGE) throw new Error('sentinel')
    if (vm_mmap_pgoff(mm, null, top, PAGE, 0, sent, 0) !== top) throw new Error('sentinel')
    this.base = base
    if (do_munmap(mm, base, this.npages * PAGE)) throw new Error('free arena')
  }

  span_in_window(rel: bigint, len: bigint): boolean {
    const s = rel
    const e = rel + len
    const fl = s - (((s % 4096n) + 4096n) % 4096n)
    const ce = e + ((4096n - (((e % 4096n) + 4096n) % 4096n)) % 4096n)
    return fl >= this.wlo && ce <= this.whi
  }
  addr_in_window(rel: bigint): boolean {
    const fl = rel - (((rel % 4096n) + 4096n) % 4096n)
    return fl >= this.wlo && fl < this.whi
  }
  abs(rel: bigint): number {
    return this.base + Number(rel)
  }
  file(name: unknown): SFile {
    const f = this.files.find((x) => x.name === name)
    if (!f) throw new Error(`unknown file ${String(name)}`)
    return f
  }
}

function vmflags_of(flags: number): string {
  return vm_flags_string(flags)
}

function dump(w: World, mm: MmStruct, at: number | 'final'): J {
  const wlo = w.base - PAGE
  const whi = w.base + w.npages * PAGE + PAGE
  const vmas = mm.mm_mt.filter((v) => v.vm_end > wlo && v.vm_start < whi)
  const maps: string[] = []
  const smaps: J[] = []
  const res = new Array<string>(w.npages).fill('-')
  for (const v of vmas) {
    const s = Math.max(v.vm_start, wlo)
    const e = Math.min(v.vm_end, whi)
    const perms =
      (v.vm_flags & 1 ? 'r' : '-') + (v.vm_flags & 2 ? 'w' : '-') + (v.vm_flags & 4 ? 'x' : '-') + (v.vm_flags & VM_MAYSHARE ? 's' : 'p')
    const off = v.vm_file ? v.vm_pgoff * PAGE : 0
    const name = v.vm_file && !v.vm_file.anon_shared ? ' ' + v.vm_file.name : ''
    maps.push(`${off_str(s - w.base)}-${off_str(e - w.base)} ${perms} ${off.toString(16).padStart(8, '0')}${name}`)
    const m = smaps_walk(mm, v)
    smaps.push({
      vma: `${off_str(v.vm_start - w.base)}-${off_str(v.vm_end - w.base)}`,
      Rss: kB(m.resident),
      Pss: pss_kB(m.pss),
      Shared_Clean: kB(m.shared_clean),
      Shared_Dirty: kB(m.shared_dirty),
      Private_Clean: kB(m.private_clean),
      Private_Dirty: kB(m.private_dirty),
      Anonymous: kB(m.anonymous),
      LazyFree: kB(m.lazyfree),
      Swap: 0,
      Locked: pss_kB(m.pss_locked),
      VmFlags: vmflags_of(v.vm_flags),
    })
    const as = Math.max(v.vm_start, w.base)
    const ae = Math.min(v.vm_end, w.base + w.npages * PAGE)
    if (as < ae) {
      const vec = new Uint8Array((ae - as) / PAGE)
      if (do_mincore(mm, as, ae - as, vec)) throw new Error('mincore in dump')
      for (let i = 0; i < vec.length; i++) res[(as - w.base) / PAGE + i] = vec[i] & 1 ? '1' : '0'
    }
  }
  const hmaps: string[] = []
  for (const v of mm.mm_mt) {
    if (v.vm_end <= BRK0 || v.vm_start >= BRK0 + BRK_LIMIT + PAGE) continue
    const perms =
      (v.vm_flags & 1 ? 'r' : '-') + (v.vm_flags & 2 ? 'w' : '-') + (v.vm_flags & 4 ? 'x' : '-') + (v.vm_flags & VM_MAYSHARE ? 's' : 'p')
    const heap = v.vm_start <= mm.brk && v.vm_end >= mm.start_brk ? ' [heap]' : ''
    hmaps.push(`${off_str(v.vm_start - BRK0)}-${off_str(v.vm_end - BRK0)} ${perms}${heap}`)
  }
  return { at, maps, resident: res.join(''), smaps, heap: { brk: off_str(mm.brk - BRK0), maps: hmaps } }
}

function ret_errno(r: number): string {
  return errno_name(-r)
}

function run_ops(w: World, mm: MmStruct, ops: J[], results: J[], dumps: J[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]
    const name = op.op as string
    const out: J = { op: name }
    results.push(out)
    const skip = (why: string) => {
      out.ret = 'skipped'
      out.why = why
    }
    const mapping_ret = (r: number, len: number) => {
      if (r < 0) {
        out.ret = ret_errno(r)
        return
      }
      const rel = BigInt(r - w.base)
      if (rel >= w.wlo && rel < w.whi) out.ret = off_str(rel)
      else {
        out.ret = 'outside'
        do_munmap(mm, r, Math.ceil(len / PAGE) * PAGE)
      }
    }
    const ok = (r: number) => {
      out.ret = r === 0 ? 'ok' : ret_errno(r)
    }
    switch (name) {
      case 'mmap': {
        const has_addr = op.addr !== undefined && op.addr !== null
        const addr = has_addr ? i64(op.addr) : 0n
        const len = u64(op.len)
        const prot = prot_of(op.prot)
        const flags = flags_of(op.flags, MMAP_FLAGS)
        const off = op.off !== undefined ? u64(op.off) : 0n
        let fd = -1
        let file: VmFile | null = null
        if (op.file !== undefined && op.file !== null) {
          file = w.file(op.file).file
          fd = 3 + w.files.findIndex((f) => f.name === op.file)
        } else if (op.fd !== undefined) fd = Number(i64(op.fd))
        const fixed = (flags & (M.MAP_FIXED | M.MAP_FIXED_NOREPLACE)) !== 0
        if (fixed && !has_addr) {
          skip('fixed mapping without addr')
          break
        }
        if (!fixed) {
          if (has_addr && !w.addr_in_window(addr)) {
            skip('hint outside window')
            break
          }
          if (len > SMALL_LEN_MAX && len < HUGE_LEN_MIN) {
            skip('length between 1GiB and 2^57')
            break
          }
        } else if (len !== 0n && len < HUGE_LEN_MIN && !w.span_in_window(addr, len)) {
          let okk = false
          if (flags & M.MAP_FIXED_NOREPLACE) {
            const e = addr + len
            const ce = e + ((4096n - (((e % 4096n) + 4096n) % 4096n)) % 4096n)
            okk = w.addr_in_window(addr) && ce <= w.whi + NOREPLACE_SLACK
          }
          if (!okk) {
            skip('fixed range outside window')
            break
          }
        }
        const a = has_addr ? Number(BigInt.asUintN(64, BigInt(w.base) + addr)) : 0
        const fget = (n: number): VmFile | null => {
          if (file && n === fd) return file
          const k = n - 3
          return k >= 0 && k < w.files.length ? w.files[k].file : null
        }
        const r = sys_mmap(mm, a, Number(len), prot, flags, fd, Number(off), fget)
        mapping_ret(r, Number(len))
        break
      }
      case 'munmap':
      case 'mprotect':
      case 'madvise':
      case 'msync':
      case 'mlock':
      case 'munlock':
      case 'mseal':
      case 'mincore': {
        const addr = i64(op.addr)
        const len = u64(op.len)
        if (!(w.span_in_window(addr, len) || (len >= WRAP_LEN_MIN && w.addr_in_window(addr)))) {
          skip('range outside window')
          break
        }
        const a = w.abs(addr)
        const l = Number(len)
        if (name === 'munmap') ok(do_munmap(mm, a, l))
        else if (name === 'mprotect') ok(do_mprotect_pkey(mm, a, l, prot_of(op.prot)))
        else if (name === 'madvise') {
          const adv = typeof op.advice === 'string' && op.advice in ADVICE ? ADVICE[op.advice] : Number(u64(op.advice))
          if (adv === 100 || adv === 101) {
            skip('advice not allowed')
            break
          }
          if (adv === 21 && w.fs === 'disk' && len < WRAP_LEN_MIN) {
            const s = Math.floor(a / PAGE) * PAGE
            const e = Math.ceil((a + l) / PAGE) * PAGE
            if (mm.mm_mt.some((v) => v.vm_end > s && v.vm_start < e && v.vm_file && !v.vm_file.anon_shared)) {
              skip('pageout of disk file pages')
              break
            }
          }
          ok(do_madvise(mm, a, l, adv))
        } else if (name === 'msync') ok(do_msync(mm, a, l, flags_of(op.flags, MSYNC_FLAGS)))
        else if (name === 'mlock') {
          if (op.flags !== undefined) ok(sys_mlock2(mm, a, l, flags_of(op.flags, MLOCK_FLAGS)))
          else ok(do_mlock(mm, a, l, 0))
        } else if (name === 'munlock') ok(do_munlock(mm, a, l))
        else if (name === 'mseal') ok(do_mseal(mm, a, l, 0))
        else {
          const npg = Math.ceil(l / PAGE)
          if (len < WRAP_LEN_MIN && npg > 4096 * 4) {
            skip('range outside window')
            break
          }
          const vec = new Uint8Array(len < WRAP_LEN_MIN ? npg : 0)
          const r = do_mincore(mm, a, l, vec)
          out.ret = r === 0 ? Array.from(vec, (b) => (b & 1 ? '1' : '0')).join('') : ret_errno(r)
        }
        break
      }
      case 'mremap': {
        const addr = i64(op.addr)
        const old_len = u64(op.old_len)
        const new_len = u64(op.new_len)
        const flags = flags_of(op.flags, MREMAP_FLAGS)
        const has_new = op.new_addr !== undefined && op.new_addr !== null
        const new_addr = has_new ? i64(op.new_addr) : 0n
        if (!w.span_in_window(addr, old_len)) {
          skip('old range outside window')
          break
        }
        if (new_len > SMALL_LEN_MAX && new_len < HUGE_LEN_MIN) {
          skip('length between 1GiB and 2^57')
          break
        }
        if (flags & M.MREMAP_FIXED && !has_new) {
          skip('MREMAP_FIXED without new_addr')
          break
        }
        if (has_new) {
          if (flags & M.MREMAP_FIXED) {
            if (new_len < HUGE_LEN_MIN && !w.span_in_window(new_addr, new_len)) {
              skip('new range outside window')
              break
            }
          } else if (!w.addr_in_window(new_addr)) {
            skip('new address outside window')
            break
          }
        }
        const r = do_mremap(mm, w.abs(addr), Number(old_len), Number(new_len), flags, has_new ? w.abs(new_addr) : 0)
        mapping_ret(r, Number(new_len))
        break
      }
      case 'read':
      case 'write': {
        const addr = i64(op.addr)
        const len = u64(op.len)
        if (!w.span_in_window(addr, len)) {
          skip('range outside window')
          break
        }
        const a = w.abs(addr)
        const byte = op.byte !== undefined ? Number(u64(op.byte) & 0xffn) : 0xab
        const r = name === 'read' ? access_user(mm, a, Number(len), false) : access_user(mm, a, Number(len), true, byte)
        if (r.fault) {
          const code = r.fault.si_code.replace('SEGV_', '').replace('BUS_', '')
          out.ret = `${r.fault.signal}:${code}`
          out.fault_at = off_str(Math.max(Math.floor(r.fault.addr / PAGE) * PAGE, a) - w.base)
        } else out.ret = name === 'read' ? hex8(fnv(r.data)) : 'ok'
        break
      }
      case 'brk': {
        const delta = Number(i64(op.delta))
        const target = mm.brk - BRK0 + delta
        if (Math.abs(delta) > BRK_LIMIT || Math.abs(target) > BRK_LIMIT) {
          skip('brk outside +-1GiB')
          break
        }
        const r = sys_brk(mm, BRK0 + target)
        out.ret = off_str(r - BRK0)
        break
      }
      case 'ftruncate':
        ok(vfs_ftruncate(w.env, w.file(op.file).file, Number(i64(op.size))))
        break
      case 'pread': {
        const len = u64(op.len)
        if (len > 4n << 20n) {
          skip('length above 4MiB')
          break
        }
        const d = vfs_pread(w.env, w.file(op.file).file, Number(i64(op.off ?? 0)), Number(len))
        if (typeof d === 'number') out.ret = ret_errno(d)
        else {
          out.ret = hex8(fnv(d))
          out.n = d.length
        }
        break
      }
      case 'pwrite': {
        const f = w.file(op.file)
        const len = u64(op.len)
        if (len > 4n << 20n) {
          skip('length above 4MiB')
          break
        }
        const off = Number(i64(op.off ?? 0))
        const byte = op.byte !== undefined ? Number(u64(op.byte) & 0xffn) : 0xab
        const n = Number(len)
        let done = 0
        let err = 0
        // one pwrite() per page-aligned chunk, as the oracle does
        while (done < n) {
          const pos = off + done
          const chunk = Math.min(PAGE - (((pos % PAGE) + PAGE) % PAGE), n - done)
          const r = vfs_pwrite(w.env, f.file, pos, new Uint8Array(chunk).fill(byte))
          if (r < 0) {
            if (done === 0) err = r
            break
          }
          done += r
          if (r < chunk) break
        }
        out.ret = err ? ret_errno(err) : String(done)
        break
      }
      case 'pread_into':
      case 'pwrite_from': {
        const f = w.file(op.file)
        const addr = i64(op.addr)
        const len = Number(u64(op.len))
        const off = Number(i64(op.off ?? 0))
        if (!w.span_in_window(addr, BigInt(len))) {
          skip('range outside window')
          break
        }
        const a = w.abs(addr)
        if (name === 'pread_into') {
          const r = file_read_to_user(mm, f.file, off, a, len)
          out.ret = r < 0 ? ret_errno(r) : String(r)
        } else {
          const r = file_write_from_user(mm, f.file, off, a, len)
          out.ret = r < 0 ? ret_errno(r) : String(r)
        }
        break
      }
      case 'mlockall':
        ok(do_mlockall(mm, flags_of(op.flags, MLOCKALL_FLAGS)))
        break
      case 'munlockall':
        ok(do_munlockall(mm))
        break
      case 'dump':
        out.ret = 'ok'
        out.dump = dumps.length
        dumps.push(dump(w, mm, i))
        break
      case 'fork': {
        const child = dup_mm(mm)
        if (!child) {
          out.ret = 'ENOMEM'
          break
        }
        const cres: J[] = []
        const cdumps: J[] = []
        run_ops(w, child, (op.ops as J[] | undefined) ?? [], cres, cdumps)
        cdumps.push(dump(w, child, 'final'))
        validate_mm(child)
        check_mm(child)
        mmput(child)
        out.ret = 'exit:0'
        out.child = { results: cres, dumps: cdumps }
        break
      }
      default:
        throw new Error(`unknown op ${name}`)
    }
    validate_mm(mm)
    check_mm(mm)
  }
}

/** Replay a scenario; returns the result object as the oracle prints it (minus kernel/env). */
export function replay(sc: J, real = false): { result: J; env: TestEnv; mm: MmStruct } {
  const w = new World(sc, real)
  const mm = mm_alloc(w.env, TASK_SIZE)
  if (!mm) throw new Error('mm_alloc')
  mm.mmap_base = MMAP_BASE
  mm.mmap_legacy_base = 0x2aaaaaaab000
  mm.start_brk = mm.brk = BRK0
  mm.start_data = mm.end_data = BRK0 - 0x1000
  for (const f of (sc.files as J[] | undefined) ?? []) {
    const size = Number(u64(f.size))
    const seed = Number(u64(f.seed ?? 0))
    const file = shmem_file_setup(w.env, String(f.name), 0, w.fs === 'disk' ? 'disk' : 'shmem')
    for (let pos = 0; pos < size; pos += PAGE) {
      const chunk = Math.min(PAGE, size - pos)
      const d = new Uint8Array(chunk)
      for (let k = 0; k < chunk; k++) d[k] = ((pos + k) * 131 + seed * 17) & 0xff
      file_write(w.env, file.f_mapping, pos, d)
    }
    filemap_write_and_wait_range(w.env, file.f_mapping, 0, Number.MAX_SAFE_INTEGER)
    const mode = f.mode === 'r' ? FMODE_READ : f.mode === 'w' ? FMODE_WRITE : FMODE_READ | FMODE_WRITE
    w.files.push({ name: String(f.name), file: mode === (FMODE_READ | FMODE_WRITE) ? file : file_reopen(file, mode) })
  }
  w.setup(mm)
  const results: J[] = []
  const dumps: J[] = []
  run_ops(w, mm, sc.ops as J[], results, dumps)
  dumps.push(dump(w, mm, 'final'))
  return {
    result: { name: sc.name, fs: w.fs === 'disk' ? 'ext4' : 'tmpfs', arena_pages: w.npages, results, dumps },
    env: w.env,
    mm,
  }
}
