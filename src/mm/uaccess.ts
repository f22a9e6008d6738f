/**
 * User memory accesses: what the CPU does for a user-mode load or store
 * (translate through the MMU, fault, retry) and the kernel's user-copy
 * routines (Kernel: arch/x86/mm/fault.c, arch/x86/lib/usercopy,
 * include/linux/uaccess.h copy_to_user/copy_from_user/get_user/put_user).
 *
 * Translation goes through mm.env.mmu_translate (the machine's MMU + TLB,
 * src/hw/mmu.ts). A page is accessed when its PTE
 * is present for the MMU and, for a store, writable; the hardware then sets
 * Accessed (and Dirty for a store). Otherwise the fault handler runs and the
 * access is retried; a fault it cannot fix becomes a signal (user access) or
 * a short copy (kernel user-copy).
 */
import { PAGE_SIZE, PFN_DOWN } from '../include/page_types.js'
import { offset_in_page, page_chunk } from '../include/wide.js'
import type { MmStruct } from './mm_types.js'
import type { PhysMem } from '../hw/physmem.js'
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_NX,
  _PAGE_RW,
  _PAGE_USER,
  type UserFault,
  do_user_addr_fault,
  pte_hw_present,
} from './memory.js'
import { EFAULT } from '../include/errno.js'
import { replacement_touch } from './swap.js'

/**
 * How often an access re-executes after a fault the handler resolved. The
 * CPU retries the instruction for as long as it takes; a handler that
 * reports success without making the page accessible is a simulator bug, so
 * the access gives up with SIGSEGV instead of spinning.
 */
const MAX_FAULT_RETRIES = 4

/** A user access's translation through the executing CPU's MMU and TLB: the pfn, or -1 (fault). */
function translate(mm: MmStruct, vpn: number, write: boolean, exec = false): number {
  return mm.env.mmu_translate(mm, vpn, write, exec)
}

/**
 * A user-mode instruction fetch of [addr, addr+len) (the CPU reading code to
 * run). A page the MMU finds present but NX (or otherwise not executable) is
 * a protection fault: access_error() answers SEGV_ACCERR without calling
 * handle_mm_fault(); a missing page is faulted in as for a read, then the
 * fetch is retried (and may still meet NX).
 */
export function fetch_user(mm: MmStruct, addr: number, len: number): AccessResult {
  const data = new Uint8Array(len)
  for (let done = 0, n = 0; done < len; done += n) {
    const a = addr + done
    n = page_chunk(a, len - done)
    const off = offset_in_page(a)
    const vpn = PFN_DOWN(a)
    let pfn = -1
    let oom = false
    for (let tries = 0; tries < MAX_FAULT_RETRIES && pfn < 0; tries++) {
      pfn = translate(mm, vpn, false, true)
      if (pfn >= 0) break
      const pte = mm.pgd.get(vpn)
      const f: UserFault | null =
        pte_hw_present(pte) && pte & _PAGE_USER ? { signal: 'SIGSEGV', si_code: 'SEGV_ACCERR', addr: a } : do_user_addr_fault(mm, a, false)
      if (f && f.oom_retry !== true) return { data: data.subarray(0, done), done, fault: f }
      if (f) oom = true
    }
    if (pfn < 0) return { data: data.subarray(0, done), done, fault: oom ? oom_livelock(mm, a) : { signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr: a } }
    replacement_touch(mm.env, pfn)
    mm.env.physmem.copy_out(pfn, off, data, done, n)
  }
  return { data, done: len, fault: null }
}

/**
 * Resolve one page (vpn, holding addr) for an access whose first
 * translation just faulted: pfn, or the fault that stops it. The first
 * translation is the caller's (inline there: the path of every TLB hit),
 * so each try here faults, then translates again.
 */
function fault_in_page(mm: MmStruct, addr: number, vpn: number, write: boolean, kernel: boolean): number | UserFault {
  let oom = false
  for (let tries = 0; tries < MAX_FAULT_RETRIES; tries++) {
    if (tries > 0) {
      const pfn = translate(mm, vpn, write)
      if (pfn >= 0) {
        // A user-mode fault returns to user mode, where pending timers run (kswapd, the stats flush):
        // only a fault moves the clock during an access, so a TLB hit or a walk never has to look.
        if (!kernel) mm.env.clock.run_timers()
        return pfn
      }
    }
    const f = do_user_addr_fault(mm, addr, write)
    if (f) {
      if (f.oom_retry !== true) return f
      oom = true
    }
  }
  if (oom) return oom_livelock(mm, addr)
  return { signal: 'SIGSEGV', si_code: 'SEGV_MAPERR', addr }
}

/**
 * A fault that keeps ending in VM_FAULT_OOM with no kill pending: Linux
 * would retry it for as long as the allocation fails (a livelock another
 * task's exit usually ends). mmsim runs nothing else meanwhile, so after
 * MAX_FAULT_RETRIES it says so in the log and kills the task.
 */
function oom_livelock(mm: MmStruct, addr: number): UserFault {
  mm.env.pr_warn(`mmsim: fault at 0x${addr.toString(16)} failed with VM_FAULT_OOM ${MAX_FAULT_RETRIES} times in a row; Linux would retry it until memory frees up, task killed`)
  return { signal: 'SIGKILL', si_code: 'SI_KERNEL', addr: 0 }
}

/** Result of a user-mode access. */
export interface AccessResult {
  /** The bytes loaded (loads only). */
  data: Uint8Array
  /** Bytes accessed before the fault (= len on success). */
  done: number
  fault: UserFault | null
}

/**
 * A user-mode load (write=false) or store (write=true, `src` bytes or a
 * fill byte) of [addr, addr+len), page by page, the first byte of each page
 * first, as a CPU executing the program would. Never throws for a fault:
 * it is reported with the address of the first byte not accessed.
 * `kernel`: the kernel's own copy to or from user memory inside a system
 * call, whose faults return to the kernel, not to user mode.
 */
const EMPTY = new Uint8Array(0)

export function access_user(mm: MmStruct, addr: number, len: number, write: boolean, src?: Uint8Array | number, kernel = false): AccessResult {
  const data = write ? EMPTY : new Uint8Array(len)
  const physmem = mm.env.physmem
  for (let done = 0, n = 0; done < len; done += n) {
    const a = addr + done
    // page_chunk() by hand: the in-page offset is needed anyway (one division, not two, per access)
    const off = offset_in_page(a)
    n = PAGE_SIZE - off < len - done ? PAGE_SIZE - off : len - done
    const vpn = (a - off) / PAGE_SIZE
    const pfn = translate(mm, vpn, write)
    const r = pfn >= 0 ? pfn : fault_in_page(mm, a, vpn, write, kernel)
    if (typeof r !== 'number') return access_faulted(r, data, done)
    if (!write) physmem.copy_out(r, off, data, done, n)
    else if (src !== undefined) store_chunk(physmem, r, off, src, done, n)
  }
  return { data, done: len, fault: null }
}

/** The access loop of mm's machine: access_user_lru() when its replacement policy counts every use. */
function user_access_fn(mm: MmStruct): typeof access_user {
  return mm.env.memcg.replacement?.policy === 'lru' ? access_user_lru : access_user
}

/**
 * access_user() on a machine whose replacement policy is `lru`
 * (replacement.ts), which sees every use: each page is touched as it is
 * accessed. A separate loop, so that the path of every other machine's
 * accesses stays within V8's inlining budget.
 */
export function access_user_lru(mm: MmStruct, addr: number, len: number, write: boolean, src?: Uint8Array | number, kernel = false): AccessResult {
  const data = write ? EMPTY : new Uint8Array(len)
  const physmem = mm.env.physmem
  for (let done = 0, n = 0; done < len; done += n) {
    const a = addr + done
    const off = offset_in_page(a)
    n = PAGE_SIZE - off < len - done ? PAGE_SIZE - off : len - done
    const vpn = (a - off) / PAGE_SIZE
    const pfn = translate(mm, vpn, write)
    const r = pfn >= 0 ? pfn : fault_in_page(mm, a, vpn, write, kernel)
    if (typeof r !== 'number') return access_faulted(r, data, done)
    replacement_touch(mm.env, r)
    if (!write) physmem.copy_out(r, off, data, done, n)
    else if (src !== undefined) store_chunk(physmem, r, off, src, done, n)
  }
  return { data, done: len, fault: null }
}

// access_user()'s fault and store steps, out of line: V8 inlines the whole chain of a user load
// (Process.load down to the copy) only within a bytecode budget, which the TLB lookup needs.
function access_faulted(f: UserFault, data: Uint8Array, done: number): AccessResult {
  // f.addr is what si_addr reports: the faulting address, or 0 for a kill without one (OOM).
  return { data: data.subarray(0, done), done, fault: f }
}
function store_chunk(physmem: PhysMem, pfn: number, off: number, src: Uint8Array | number, done: number, n: number): void {
  if (typeof src === 'number') physmem.fill_at(pfn, off, src, n)
  else physmem.write_at(pfn, off, src, done, n)
}

/**
 * A user access with page faults disabled (pagefault_disable(), as
 * copy_folio_from_iter_atomic runs): stops at the first page the MMU cannot
 * translate instead of faulting. Returns the bytes read.
 */
export function read_user_atomic(mm: MmStruct, addr: number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  let done = 0
  for (let n = 0; done < len; done += n) {
    const a = addr + done
    n = page_chunk(a, len - done)
    const pfn = translate(mm, PFN_DOWN(a), false)
    if (pfn < 0) break
    const off = offset_in_page(a)
    mm.env.physmem.copy_out(pfn, off, out, done, n)
  }
  return out.subarray(0, done)
}

/** Kernel: fault_in_readable(): fault in [addr, addr+len) for reading; returns the bytes NOT faulted in. */
export function fault_in_readable(mm: MmStruct, addr: number, len: number): number {
  const r = access_user(mm, addr, len, false, undefined, true)
  return len - r.done
}

/** Kernel: access_ok(). */
export function access_ok(mm: MmStruct, addr: number, len: number): boolean {
  return addr >= 0 && len <= mm.task_size && addr <= mm.task_size - len
}

/** Kernel: copy_to_user(): returns the number of bytes NOT copied. */
export function copy_to_user(mm: MmStruct, to: number, from: Uint8Array): number {
  if (!access_ok(mm, to, from.length)) return from.length
  const r = user_access_fn(mm)(mm, to, from.length, true, from, true)
  return from.length - r.done
}

/** Kernel: copy_from_user(): fills `to`; returns the number of bytes NOT copied (the rest is zeroed). */
export function copy_from_user(mm: MmStruct, to: Uint8Array, from: number): number {
  if (!access_ok(mm, from, to.length)) {
    to.fill(0)
    return to.length
  }
  const r = user_access_fn(mm)(mm, from, to.length, false, undefined, true)
  to.set(r.data)
  to.fill(0, r.done)
  return to.length - r.done
}

/** Kernel: get_user() of `size` bytes little-endian: [0, value] or [-EFAULT, 0]. */
export function get_user(mm: MmStruct, addr: number, size: 1 | 2 | 4 | 8): [number, number] {
  const b = new Uint8Array(size)
  if (copy_from_user(mm, b, addr)) return [-EFAULT, 0]
  let v = 0
  for (let i = size - 1; i >= 0; i--) v = v * 256 + b[i]
  return [0, v]
}

/** Kernel: put_user(): 0 or -EFAULT. */
export function put_user(mm: MmStruct, addr: number, value: number, size: 1 | 2 | 4 | 8): number {
  const b = new Uint8Array(size)
  let v = value
  for (let i = 0; i < size; i++) {
    b[i] = v % 256
    v = Math.floor(v / 256)
  }
  return copy_to_user(mm, addr, b) ? -EFAULT : 0
}
