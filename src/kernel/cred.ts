/**
 * struct cred in kernel memory (Kernel: kernel/cred.c cred_init,
 * prepare_creds, copy_creds, get_cred, put_cred, __put_cred;
 * include/linux/cred.h struct cred).
 *
 * Every user task's credentials live in an object of the "cred_jar" slab
 * cache, laid out as Linux 6.18 lays out struct cred: the usage count
 * (atomic_long_t), then the eight ids as consecutive 32-bit words (uid,
 * gid, suid, sgid, euid, egid, fsuid, fsgid), then securebits and the five
 * capability sets. fork gives the child a new object (copy_creds ->
 * prepare_creds); a thread (CLONE_VM) shares its parent's and takes a
 * reference; the last put_cred() frees it when the task is reaped. Kernel
 * threads use init_cred, which is kernel data, not a slab object (no
 * object here).
 *
 * The ids a check reads are the task's Cred (the same values); the object
 * is what a physical-memory mapping would expose, so the cred-scan exploit
 * of SECURITY.md (scan mapped memory for eight copies of one's uid and
 * zero them) has something real to find. check_creds() (the invariant
 * recount) proves no byte of a live cred was changed behind the kernel's
 * back: a change is reported as the SECURITY.md S-A1 critical event.
 */
import { KernelBug } from '../include/bug.js'
import type { Cred } from '../include/cred.js'
import type { MmEntry } from './mm_entry.js'
import type { TaskStruct } from './task.js'

/** offsetof(struct cred, uid): after the usage count (a long). */
export function cred_ids_offset(bits: 32 | 64): number {
  return bits === 64 ? 8 : 4
}

/** The bytes of struct cred up to the capability sets (usage, the ids, securebits, five kernel_cap_t). */
function cred_bytes(c: Cred, usage: number, bits: 32 | 64): Uint8Array {
  const ids = cred_ids_offset(bits)
  const caps = ids + 40 // after the ids and securebits, kernel_cap_t (u64) aligned to 8
  const b = new Uint8Array(caps + 40)
  const v = new DataView(b.buffer)
  if (bits === 64) set_u64(v, 0, usage)
  else v.setUint32(0, usage, true)
  v.setUint32(ids, c.uid, true)
  v.setUint32(ids + 4, c.gid, true)
  v.setUint32(ids + 8, c.suid, true)
  v.setUint32(ids + 12, c.sgid, true)
  v.setUint32(ids + 16, c.euid, true)
  v.setUint32(ids + 20, c.egid, true)
  v.setUint32(ids + 24, c.fsuid, true)
  v.setUint32(ids + 28, c.fsgid, true)
  set_u64(v, caps, c.cap_inheritable)
  set_u64(v, caps + 8, c.cap_permitted)
  set_u64(v, caps + 16, c.cap_effective)
  set_u64(v, caps + 24, c.cap_bset)
  set_u64(v, caps + 32, c.cap_ambient)
  return b
}

/**
 * A u64 field little endian, from a non-negative integer below 2^53 (a
 * count, a kernel_cap_t) as its two 32-bit halves: no BigInt (the per-call
 * checker builds every live task's cred image after each call).
 */
function set_u64(v: DataView, off: number, x: number): void {
  v.setUint32(off, x >>> 0, true)
  v.setUint32(off + 4, Math.floor(x / 2 ** 32), true)
}

/** Kernel: prepare_creds() for `t`: its cred in a new cred_jar object (usage 1). False when out of memory. */
export function prepare_creds(k: MmEntry, t: TaskStruct): boolean {
  const addr = k.alloc_cred()
  if (!addr) return false
  k.kmem_write(addr, cred_bytes(t.cred, 1, k.arch.bits))
  t.cred_kaddr = addr
  return true
}

/** Kernel: get_cred(): `t` shares `from`'s cred object (a thread). */
export function get_cred(k: MmEntry, t: TaskStruct, from: TaskStruct): void {
  t.cred_kaddr = from.cred_kaddr
  if (!t.cred_kaddr) return
  k.kmem_write(t.cred_kaddr, usage_bytes(read_usage(k, t.cred_kaddr) + 1, k.arch.bits))
}

/** Kernel: put_cred(): drop `t`'s reference; the last one frees the object (__put_cred). */
export function put_cred(k: MmEntry, t: TaskStruct): void {
  const addr = t.cred_kaddr
  if (!addr) return
  t.cred_kaddr = 0
  const usage = read_usage(k, addr) - 1
  if (usage > 0) k.kmem_write(addr, usage_bytes(usage, k.arch.bits))
  else k.free_cred(addr)
}

function usage_bytes(usage: number, bits: 32 | 64): Uint8Array {
  const b = new Uint8Array(bits === 64 ? 8 : 4)
  const v = new DataView(b.buffer)
  if (bits === 64) set_u64(v, 0, usage)
  else v.setUint32(0, usage, true)
  return b
}
function read_usage(k: MmEntry, addr: number): number {
  const b = k.kmem_read(addr, k.arch.bits === 64 ? 8 : 4)
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return k.arch.bits === 64 ? Number(v.getBigUint64(0, true)) : v.getUint32(0, true)
}

/** The eight ids as the object holds them (uid, gid, suid, sgid, euid, egid, fsuid, fsgid). */
export function cred_ids_in_memory(k: MmEntry, addr: number): number[] {
  const b = k.kmem_read(addr + cred_ids_offset(k.arch.bits), 32)
  const v = new DataView(b.buffer, b.byteOffset, 32)
  return Array.from({ length: 8 }, (_, i) => v.getUint32(4 * i, true))
}

/**
 * A Cred's struct cred bytes with a zero usage count, made once per Cred and
 * word size: a Cred never changes (a change of ids or capabilities is a new
 * one), and the per-call checker compares every live task's after each call.
 */
const images = { 32: new WeakMap<Cred, Uint8Array>(), 64: new WeakMap<Cred, Uint8Array>() }
/** check_creds() reads each live cred into this buffer: a new array per task after every call was most of its cost. */
let scratch = new Uint8Array(0)
function cred_image(c: Cred, bits: 32 | 64): Uint8Array {
  let b = images[bits].get(c)
  if (b === undefined) images[bits].set(c, (b = cred_bytes(c, 0, bits)))
  return b
}

/**
 * The recount: each live task's cred object holds its ids and capability
 * sets (the usage count aside). A difference means something wrote into a
 * struct cred without the kernel: a KernelBug naming the task.
 */
export function check_creds(k: MmEntry, tasks: Iterable<TaskStruct>): void {
  const bits = k.arch.bits
  const skip = bits === 64 ? 8 : 4
  for (const t of tasks) {
    if (!t.cred_kaddr || t.exit_state !== 0) continue
    const want = cred_image(t.cred, bits).subarray(skip)
    const got = k.kmem_read(t.cred_kaddr + skip, want.length, scratch.length === want.length ? scratch : (scratch = new Uint8Array(want.length)))
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) {
        const ids = cred_ids_in_memory(k, t.cred_kaddr)
        throw new KernelBug(`check_creds: the struct cred of pid ${t.pid} (${t.comm}) was written behind the kernel's back (S-A1, critical): ids in memory ${ids.join(',')}, the task's uid ${t.cred.uid} gid ${t.cred.gid}`)
      }
    }
  }
}
