/**
 * slub_debug: red zones, poisoning, user tracking and consistency checks
 * (Kernel: mm/slub.c, the CONFIG_SLUB_DEBUG part: init_object(),
 * check_object(), check_bytes_and_report(), on_freelist(),
 * alloc_debug_processing(), free_debug_processing(), print_trailer(),
 * slab_err(), object_err(), list_slab_objects()).
 *
 * A detected corruption is reported in the kernel log the way Linux
 * reports it ("BUG <cache> (Not tainted): ..." followed by INFO/FIX lines
 * and hex dumps) and repaired as Linux repairs it (restore_bytes, freelist
 * cleared, object not freed); it never throws.
 *
 * Invariant kept by the debug paths: an object of a debug cache is either
 * on its slab's freelist with SLUB_RED_INACTIVE red zones (and POISON_FREE
 * contents when poisoning), or allocated with SLUB_RED_ACTIVE red zones.
 */
import { PAGE_SIZE } from '../include/page_types.js'
import { POISON_END, POISON_FREE, POISON_INUSE, SLAB_CONSISTENCY_CHECKS, SLAB_KMALLOC, SLAB_POISON, SLAB_RED_ZONE, SLAB_STORE_USER, SLAB_TRACE, SLUB_RED_ACTIVE, SLUB_RED_INACTIVE, __OBJECT_POISON, OBJ_FREE, OBJ_LEAKED } from './slab_h.js'
import { TAINT_BAD_PAGE, type SlabEnv } from './slab_env.js'
import {
  freeptr_outside_object,
  get_freepointer,
  get_info_end,
  MAX_OBJS_PER_PAGE,
  order_objects,
  ORIG_SIZE_BYTES,
  set_freepointer,
  size_from_object,
  slub_debug_orig_size,
  type Slab,
  type SlubCache,
} from './slub_cache.js'

export const TRACK_ALLOC = 0
export const TRACK_FREE = 1

export class SlubDebug {
  constructor(readonly env: SlabEnv) {}

  private get P(): number {
    return this.env.mem.ptr_size
  }

  // ------------------------------------------------------------ pointers

  /** Kernel: check_valid_pointer(): NULL or the start of an object of this slab. */
  check_valid_pointer(s: SlubCache, slab: Slab, object: number): boolean {
    if (object === 0) return true
    const base = slab.base
    const o = object - s.red_left_pad
    return !(o < base || o >= base + slab.objects * s.size || (o - base) % s.size !== 0)
  }

  // ------------------------------------------------------------ tracking

  /** Kernel: get_track(). */
  get_track(s: SlubCache, object: number, alloc: number): number {
    return object + get_info_end(s, this.P) + alloc * this.env.geo.track_size
  }

  /** Kernel: set_track(): caller, cpu, pid and jiffies of an alloc or free. */
  set_track(s: SlubCache, object: number, alloc: number, caller: string): void {
    const t = this.get_track(s, object, alloc)
    const m = this.env.mem
    const P = this.P
    m.write_ptr(t, this.env.caller_id(caller))
    m.write_u32(t + P, 0)
    m.write_u32(t + P + 4, this.env.cpu())
    m.write_u32(t + P + 8, this.env.task().pid)
    m.write_ptr(t + (P === 8 ? 24 : 16), this.env.jiffies())
  }

  /** Kernel: init_tracking(). */
  init_tracking(s: SlubCache, object: number): void {
    if (!(s.flags & SLAB_STORE_USER)) return
    this.env.mem.memset(this.get_track(s, object, TRACK_ALLOC), 0, 2 * this.env.geo.track_size)
  }

  /** Kernel: print_track(). */
  private print_track(what: string, t: number, pr_time: number): void {
    const m = this.env.mem
    const P = this.P
    const addr = m.read_ptr(t)
    if (!addr) return
    const cpu = m.read_u32(t + P + 4)
    const pid = m.read_u32(t + P + 8) | 0
    const when = m.read_ptr(t + (P === 8 ? 24 : 16))
    this.env.printk.pr_err(`${what} in ${this.env.caller_name(addr)} age=${pr_time - when} cpu=${cpu} pid=${pid}`)
  }

  /** Kernel: print_tracking(). */
  print_tracking(s: SlubCache, object: number): void {
    if (!(s.flags & SLAB_STORE_USER)) return
    const now = this.env.jiffies()
    this.print_track('Allocated', this.get_track(s, object, TRACK_ALLOC), now)
    this.print_track('Freed', this.get_track(s, object, TRACK_FREE), now)
  }

  /** Kernel: set_orig_size(). */
  set_orig_size(s: SlubCache, object: number, orig_size: number): void {
    if (!slub_debug_orig_size(s)) return
    this.env.mem.write_u32(object + get_info_end(s, this.P) + 2 * this.env.geo.track_size, orig_size)
  }
  /** Kernel: get_orig_size(). */
  get_orig_size(s: SlubCache, object: number): number {
    if (!slub_debug_orig_size(s)) return s.object_size
    return this.env.mem.read_u32(object + get_info_end(s, this.P) + 2 * this.env.geo.track_size)
  }

  // ------------------------------------------------------------ reports

  /** Kernel: print_slab_info(). */
  print_slab_info(slab: Slab): void {
    const m = this.env.mem
    this.env.printk.pr_err(
      `Slab 0x${this.slab_ptr(slab)} objects=${slab.objects} used=${slab.inuse} fp=${m.p(slab.freelist)} flags=${this.env.page_flags(slab.pfn)}`,
    )
  }
  /** The struct slab (= struct page) pointer, vmemmap + pfn * 64 on x86_64. */
  private slab_ptr(slab: Slab): string {
    if (this.P === 8) return (0xffffea0000000000n + BigInt(slab.pfn) * 64n).toString(16)
    return (0xf6000000 + slab.pfn * 32).toString(16).padStart(8, '0')
  }

  /** Kernel: slab_bug(). */
  slab_bug(s: SlubCache | null, msg: string): void {
    const p = this.env.printk
    p.pr_err('=============================================================================')
    p.pr_err(`BUG ${s ? s.name : '<unknown>'} (${this.env.print_tainted()}): ${msg}`)
    p.pr_err('-----------------------------------------------------------------------------')
    p.pr_err('')
  }

  /** Kernel: slab_fix(). */
  slab_fix(s: SlubCache, msg: string): void {
    this.env.printk.pr_err(`FIX ${s.name}: ${msg}`)
  }

  /** Kernel: print_trailer(). */
  print_trailer(s: SlubCache, slab: Slab, p: number): void {
    const m = this.env.mem
    const err = (lines: string[]): void => {
      for (const l of lines) this.env.printk.pr_err(l)
    }
    this.print_tracking(s, p)
    this.print_slab_info(slab)
    this.env.printk.pr_err(`Object ${m.p(p)} @offset=${p - slab.base} fp=${m.p(get_freepointer(m, s, p))}`)
    this.env.printk.pr_err('')
    if (s.flags & SLAB_RED_ZONE) err(m.hex_dump('Redzone  ', p - s.red_left_pad, s.red_left_pad))
    else if (p > slab.base + 16) err(m.hex_dump('Bytes b4 ', p - 16, 16))
    err(m.hex_dump('Object   ', p, Math.min(s.object_size, PAGE_SIZE)))
    if (s.flags & SLAB_RED_ZONE) err(m.hex_dump('Redzone  ', p + s.object_size, s.inuse - s.object_size))
    let off = get_info_end(s, this.P)
    if (s.flags & SLAB_STORE_USER) off += 2 * this.env.geo.track_size
    if (slub_debug_orig_size(s)) off += ORIG_SIZE_BYTES
    if (off !== size_from_object(s)) err(m.hex_dump('Padding  ', p + off, size_from_object(s) - off))
  }

  /** Kernel: object_err(). */
  object_err(s: SlubCache, slab: Slab, object: number, reason: string): void {
    this.slab_bug(s, reason)
    if (!object || !this.check_valid_pointer(s, slab, object)) {
      this.print_slab_info(slab)
      this.env.printk.pr_err(`Invalid pointer ${this.env.mem.p(object)}`)
    } else {
      this.print_trailer(s, slab, object)
    }
    this.env.add_taint(TAINT_BAD_PAGE)
    this.env.warn('mm/slub.c', 'object_err')
  }

  /** Kernel: slab_err(). */
  slab_err(s: SlubCache | null, slab: Slab, msg: string): void {
    this.slab_bug(s, msg)
    this.print_slab_info(slab)
    this.env.add_taint(TAINT_BAD_PAGE)
    this.env.warn('mm/slub.c', 'slab_err')
  }

  /** Kernel: list_slab_objects(): the objects still allocated when a cache is destroyed. */
  list_slab_objects(s: SlubCache, slab: Slab): void {
    this.slab_bug(s, 'Objects remaining on __kmem_cache_shutdown()')
    const free = this.free_map(s, slab)
    for (let i = 0; i < slab.objects; i++) {
      if (free[i]) continue
      const p = slab.obj(i)
      this.env.printk.pr_err(`Object ${this.env.mem.p(p)} @offset=${p - slab.base}`)
      this.print_tracking(s, p)
    }
    this.print_slab_info(slab)
    this.env.add_taint(TAINT_BAD_PAGE)
    this.env.warn('mm/slub.c', '__kmem_cache_shutdown')
  }

  /** Kernel: __fill_map(): objects on the slab's freelist (bounded walk). */
  free_map(s: SlubCache, slab: Slab): Uint8Array {
    const map = new Uint8Array(slab.objects)
    let p = slab.freelist
    for (let n = 0; p && n <= slab.objects; n++) {
      const i = slab.obj_to_index(p)
      if (i < 0) break
      map[i] = 1
      p = get_freepointer(this.env.mem, s, p)
    }
    return map
  }

  // ------------------------------------------------------------ init / checks

  /** Kernel: init_object(): red zones set to `val`, contents poisoned when the cache poisons. */
  init_object(s: SlubCache, object: number, val: number): void {
    const m = this.env.mem
    let poison_size = s.object_size
    if (s.flags & SLAB_RED_ZONE) {
      m.memset(object - s.red_left_pad, val, s.red_left_pad)
      if (slub_debug_orig_size(s) && val === SLUB_RED_ACTIVE) poison_size = this.get_orig_size(s, object)
    }
    if (s.flags & __OBJECT_POISON) {
      m.memset(object, POISON_FREE, poison_size - 1)
      m.memset(object + poison_size - 1, POISON_END, 1)
    }
    if (s.flags & SLAB_RED_ZONE) m.memset(object + poison_size, val, s.inuse - poison_size)
  }

  /** Kernel: restore_bytes(). */
  private restore_bytes(s: SlubCache, message: string, data: number, from: number, to: number): void {
    const m = this.env.mem
    this.slab_fix(s, `Restoring ${message} ${m.p(from)}-${m.p(to - 1)}=0x${data.toString(16)}`)
    m.memset(from, data, to - from)
  }

  /** Kernel: check_bytes_and_report(). */
  check_bytes_and_report(s: SlubCache, slab: Slab, object: number, what: string, start: number, value: number, bytes: number, print_obj: boolean): boolean {
    const m = this.env.mem
    const fault = m.memchr_inv(start, value, bytes)
    if (!fault) return true
    let end = start + bytes
    while (end > fault && m.read(end - 1, 1)[0] === value) end--
    const first = m.read(fault, 1)[0]
    this.env.printk.pr_err(
      `[${what} overwritten] ${m.p(fault)}-${m.p(end - 1)} @offset=${fault - slab.base}. First byte 0x${first.toString(16)} instead of 0x${value.toString(16)}`,
    )
    if (print_obj) this.object_err(s, slab, object, 'Object corrupt')
    this.restore_bytes(s, what, value, fault, end)
    return false
  }

  /** Kernel: check_pad_bytes(). */
  private check_pad_bytes(s: SlubCache, slab: Slab, p: number): boolean {
    let off = get_info_end(s, this.P)
    if (s.flags & SLAB_STORE_USER) {
      off += 2 * this.env.geo.track_size
      if (s.flags & SLAB_KMALLOC) off += ORIG_SIZE_BYTES
    }
    if (size_from_object(s) === off) return true
    return this.check_bytes_and_report(s, slab, p, 'Object padding', p + off, POISON_INUSE, size_from_object(s) - off, true)
  }

  /** Kernel: slab_pad_check(): the bytes after the last object. */
  slab_pad_check(s: SlubCache, slab: Slab): void {
    if (!(s.flags & SLAB_POISON)) return
    const m = this.env.mem
    const length = PAGE_SIZE * 2 ** slab.order
    const remainder = length % s.size
    if (!remainder) return
    const start = slab.base
    const pad = start + length - remainder
    const fault = m.memchr_inv(pad, POISON_INUSE, remainder)
    if (!fault) return
    let end = start + length
    while (end > fault && m.read(end - 1, 1)[0] === POISON_INUSE) end--
    this.slab_bug(s, `Padding overwritten. ${m.p(fault)}-${m.p(end - 1)} @offset=${fault - start}`)
    for (const l of m.hex_dump('Padding ', pad, remainder)) this.env.printk.pr_err(l)
    this.print_slab_info(slab)
    this.env.add_taint(TAINT_BAD_PAGE)
    this.env.warn('mm/slub.c', 'slab_pad_check')
    this.restore_bytes(s, 'slab padding', POISON_INUSE, fault, end)
  }

  /** Kernel: check_object(): red zones, poison, padding and free pointer of one object. */
  check_object(s: SlubCache, slab: Slab, object: number, val: number): boolean {
    const p = object
    const endobject = object + s.object_size
    let ret = true
    if (s.flags & SLAB_RED_ZONE) {
      if (!this.check_bytes_and_report(s, slab, object, 'Left Redzone', object - s.red_left_pad, val, s.red_left_pad, ret)) ret = false
      if (!this.check_bytes_and_report(s, slab, object, 'Right Redzone', endobject, val, s.inuse - s.object_size, ret)) ret = false
      if (slub_debug_orig_size(s) && val === SLUB_RED_ACTIVE) {
        const orig_size = this.get_orig_size(s, object)
        if (s.object_size > orig_size && !this.check_bytes_and_report(s, slab, object, 'kmalloc Redzone', p + orig_size, val, s.object_size - orig_size, ret)) ret = false
      }
    } else if (s.flags & SLAB_POISON && s.object_size < s.inuse) {
      if (!this.check_bytes_and_report(s, slab, p, 'Alignment padding', endobject, POISON_INUSE, s.inuse - s.object_size, ret)) ret = false
    }
    if (s.flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && s.flags & __OBJECT_POISON) {
        if (!this.check_bytes_and_report(s, slab, p, 'Poison', p, POISON_FREE, s.object_size - 1, ret)) ret = false
        if (!this.check_bytes_and_report(s, slab, p, 'End Poison', p + s.object_size - 1, POISON_END, 1, ret)) ret = false
      }
      if (!this.check_pad_bytes(s, slab, p)) ret = false
    }
    if ((freeptr_outside_object(s) || val !== SLUB_RED_ACTIVE) && !this.check_valid_pointer(s, slab, get_freepointer(this.env.mem, s, p))) {
      this.object_err(s, slab, p, 'Freepointer corrupt')
      set_freepointer(this.env.mem, s, p, 0)
      ret = false
    }
    return ret
  }

  /** Kernel: check_slab(). */
  check_slab(s: SlubCache, slab: Slab): boolean {
    const maxobj = order_objects(slab.order, s.size)
    if (slab.objects > maxobj) {
      this.slab_err(s, slab, `objects ${slab.objects} > max ${maxobj}`)
      return false
    }
    if (slab.inuse > slab.objects) {
      this.slab_err(s, slab, `inuse ${slab.inuse} > max ${slab.objects}`)
      return false
    }
    if (slab.frozen) {
      this.slab_err(s, slab, 'Slab disabled since SLUB metadata consistency check failed')
      return false
    }
    this.slab_pad_check(s, slab)
    return true
  }

  /**
   * Kernel: on_freelist(): whether `search` is on the slab's freelist
   * (search 0: validate the chain), fixing a corrupt chain as Linux does.
   */
  on_freelist(s: SlubCache, slab: Slab, search: number): boolean {
    const m = this.env.mem
    let nr = 0
    let fp = slab.freelist
    let object = 0
    while (fp && nr <= slab.objects) {
      if (fp === search) return true
      if (!this.check_valid_pointer(s, slab, fp)) {
        if (object) {
          this.object_err(s, slab, object, 'Freechain corrupt')
          set_freepointer(m, s, object, 0)
          break
        }
        this.slab_err(s, slab, 'Freepointer corrupt')
        this.leak_free_objects(slab)
        slab.freelist = 0
        slab.inuse = slab.objects
        this.slab_fix(s, 'Freelist cleared')
        return false
      }
      object = fp
      fp = get_freepointer(m, s, object)
      nr++
    }
    if (nr > slab.objects) {
      this.slab_err(s, slab, 'Freelist cycle detected')
      this.leak_free_objects(slab)
      slab.freelist = 0
      slab.inuse = slab.objects
      this.slab_fix(s, 'Freelist cleared')
      return false
    }
    const max_objects = Math.min(order_objects(slab.order, s.size), MAX_OBJS_PER_PAGE)
    if (slab.objects !== max_objects) {
      this.slab_err(s, slab, `Wrong number of objects. Found ${slab.objects} but should be ${max_objects}`)
    }
    if (slab.inuse !== slab.objects - nr) {
      this.slab_err(s, slab, `Wrong object count. Counter is ${slab.inuse} but counted were ${slab.objects - nr}`)
      slab.inuse = slab.objects - nr
      this.slab_fix(s, 'Object count adjusted')
    }
    return search === 0
  }

  /**
   * When a freelist is cut, the objects no longer reachable are lost to the
   * allocator, as in Linux. The simulator marks them leaked (OBJ_LEAKED) so the
   * invariant checker can tell them from objects the allocator forgot.
   */
  leak_free_objects(slab: Slab): void {
    const reachable = this.free_map(slab.cache, slab)
    for (let i = 0; i < slab.objects; i++) if (slab.state[i] === OBJ_FREE && !reachable[i]) slab.state[i] = OBJ_LEAKED
  }

  /** Kernel: setup_object_debug(). */
  setup_object_debug(s: SlubCache, object: number): void {
    if (!(s.flags & (SLAB_STORE_USER | SLAB_RED_ZONE | __OBJECT_POISON))) return
    this.init_object(s, object, SLUB_RED_INACTIVE)
    this.init_tracking(s, object)
  }

  /** Kernel: setup_slab_debug(): a new slab of a poisoning cache is filled with POISON_INUSE. */
  setup_slab_debug(s: SlubCache, slab: Slab): void {
    if (!(s.flags & SLAB_POISON)) return
    this.env.mem.memset(slab.base, POISON_INUSE, PAGE_SIZE * 2 ** slab.order)
  }

  /** Kernel: alloc_debug_processing(). False: the slab was found corrupt and is now marked all used. */
  alloc_debug_processing(s: SlubCache, slab: Slab, object: number, orig_size: number, caller: string): boolean {
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      let ok = this.check_slab(s, slab)
      if (ok && !this.check_valid_pointer(s, slab, object)) {
        this.object_err(s, slab, object, 'Freelist Pointer check fails')
        ok = false
      }
      if (ok && !this.check_object(s, slab, object, SLUB_RED_INACTIVE)) ok = false
      if (!ok) {
        this.slab_fix(s, 'Marking all objects used')
        this.leak_free_objects(slab)
        const i = slab.obj_to_index(object)
        if (i >= 0 && slab.state[i] === OBJ_FREE) slab.state[i] = OBJ_LEAKED
        slab.inuse = slab.objects
        slab.freelist = 0
        slab.frozen = true
        return false
      }
    }
    if (s.flags & SLAB_STORE_USER) this.set_track(s, object, TRACK_ALLOC, caller)
    this.trace(s, slab, object, true)
    this.set_orig_size(s, object, orig_size)
    this.init_object(s, object, SLUB_RED_ACTIVE)
    return true
  }

  /** Kernel: free_consistency_checks(). */
  private free_consistency_checks(s: SlubCache, slab: Slab, object: number): boolean {
    if (!this.check_valid_pointer(s, slab, object)) {
      this.slab_err(s, slab, `Invalid object pointer ${this.env.mem.p(object)}`)
      return false
    }
    if (this.on_freelist(s, slab, object)) {
      this.object_err(s, slab, object, 'Object already free')
      return false
    }
    if (!this.check_object(s, slab, object, SLUB_RED_ACTIVE)) return false
    if (s !== slab.cache) {
      this.object_err(s, slab, object, 'page slab pointer corrupt.')
      return false
    }
    return true
  }

  /** Kernel: free_debug_processing() for one object. False: the object is not freed. */
  free_debug_processing(s: SlubCache, slab: Slab, object: number, caller: string): boolean {
    let ok = true
    if (s.flags & SLAB_CONSISTENCY_CHECKS && !this.check_slab(s, slab)) ok = false
    if (ok && slab.inuse < 1) {
      this.slab_err(s, slab, `Slab has ${slab.inuse} allocated objects but 1 are to be freed`)
      ok = false
    }
    if (ok && s.flags & SLAB_CONSISTENCY_CHECKS && !this.free_consistency_checks(s, slab, object)) ok = false
    if (!ok) {
      this.slab_fix(s, `Object at ${this.env.mem.p(object)} not freed`)
      return false
    }
    if (s.flags & SLAB_STORE_USER) this.set_track(s, object, TRACK_FREE, caller)
    this.trace(s, slab, object, false)
    this.init_object(s, object, SLUB_RED_INACTIVE)
    return true
  }

  /** Kernel: trace() (SLAB_TRACE). */
  private trace(s: SlubCache, slab: Slab, object: number, alloc: boolean): void {
    if (!(s.flags & SLAB_TRACE)) return
    const m = this.env.mem
    this.env.printk.pr_info(`TRACE ${s.name} ${alloc ? 'alloc' : 'free'} ${m.p(object)} inuse=${slab.inuse} fp=${m.p(slab.freelist)}`)
    if (!alloc) for (const l of m.hex_dump('Object ', object, s.object_size)) this.env.printk.pr_info(l)
  }
}
