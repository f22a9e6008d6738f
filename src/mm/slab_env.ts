/**
 * What the slab allocators need from the rest of the kernel besides pages:
 * the log, the current CPU/task, jiffies, kernel taint and the WARN()
 * banner (Kernel: kernel/panic.c print_tainted(), __warn()).
 *
 * Call sites (%pS) are strings here: the kernel-side API passes the name of
 * its caller; tracks store an interned id in the object's metadata bytes.
 */
import type { Printk } from '../include/printk.js'
import type { SlabMem } from './slab_mem.js'
import type { SlabGeometry } from './slab_h.js'
import { NS_PER_JIFFY } from '../include/jiffies.js'

// enum taint flags in print order (kernel/panic.c taint_flags[]).
const TAINT_CHARS = ['P', 'F', 'S', 'R', 'M', 'B', 'U', 'D', 'A', 'W', 'C', 'I', 'O', 'E', 'L', 'K', 'X', 'T', 'N', 'J']
export const TAINT_BAD_PAGE = 5
export const TAINT_WARN = 9

export class SlabEnv {
  private taint_mask = 0
  private readonly callers: string[] = ['0x0']
  private readonly caller_ids = new Map<string, number>([['0x0', 0]])

  constructor(
    readonly mem: SlabMem,
    readonly printk: Printk,
    readonly geo: SlabGeometry,
    /** The CPU the current kernel code runs on. */
    readonly cpu: () => number,
    /** pid and comm of the current task. */
    readonly task: () => { pid: number; comm: string },
    /** Page flags as %pGp prints them. */
    readonly page_flags: (pfn: number) => string,
  ) {}

  /** jiffies from the simulated clock. */
  jiffies(): number {
    return Math.floor(this.printk.now() / NS_PER_JIFFY)
  }

  /** Intern a call-site name; 0 is "no call site". */
  caller_id(name: string): number {
    let id = this.caller_ids.get(name)
    if (id === undefined) {
      id = this.callers.length
      this.callers.push(name)
      this.caller_ids.set(name, id)
    }
    return id
  }
  caller_name(id: number): string {
    return this.callers[id] ?? `0x${id.toString(16)}`
  }

  /** Kernel: add_taint(). */
  add_taint(flag: number): void {
    this.taint_mask |= 1 << flag
  }
  tainted(flag: number): boolean {
    return (this.taint_mask & (1 << flag)) !== 0
  }
  /** Kernel: print_tainted(): "Not tainted" or "Tainted: G    B   W  ..." (one column per flag). */
  print_tainted(): string {
    if (this.taint_mask === 0) return 'Not tainted'
    let s = 'Tainted: '
    for (let i = 0; i < TAINT_CHARS.length; i++) {
      if (i === 0) s += this.taint_mask & 1 ? 'P' : 'G'
      else s += this.taint_mask & (1 << i) ? TAINT_CHARS[i] : ' '
    }
    return s
  }

  /**
   * Kernel: WARN()/WARN_ON() banner (__warn()): the cut-here line, the
   * message, the WARNING line naming the function, and the end-of-trace line.
   */
  warn(where: string, func: string, message?: string): void {
    const p = this.printk
    const { pid, comm } = this.task()
    p.printk(4, '------------[ cut here ]------------')
    if (message) p.printk(4, message)
    p.printk(4, `WARNING: CPU: ${this.cpu()} PID: ${pid} at ${where} ${func}`)
    this.add_taint(TAINT_WARN)
    p.printk(4, `CPU: ${this.cpu()} UID: 0 PID: ${pid} Comm: ${comm} ${this.print_tainted()} 6.18.0-mmsim #1`)
    p.printk(4, '---[ end trace 0000000000000000 ]---')
  }
}

/**
 * The part of the page allocator (src/mm/page_alloc.ts, class PageAllocator)
 * the slab allocators use. Kept structural so the slab code depends on the
 * allocator's contract, not its internals.
 */
export interface PageAllocLike {
  readonly arch: import('../arch/profile.js').ArchProfile
  readonly pages: import('./page.js').PageArray
  readonly physmem: import('../hw/physmem.js').PhysMem
  readonly vmstat: import('./vmstat.js').VmStat
  readonly printk: Printk
  readonly trace: import('../include/trace.js').Tracer
  /** The CPU the current kernel code runs on. */
  cpu: number
  pid: number
  comm: string
  alloc_pages(gfp: number, order: number): number
  __free_pages(pfn: number, order: number): void
  page_address(pfn: number): number
  virt_to_pfn(va: number): number
  compound_head(pfn: number): number
  page_ptr(pfn: number): string
}

/** A table of live slabs by id; a slab's head page keeps id + 1 in page->private. */
export class SlabRegistry<T> {
  readonly items: (T | undefined)[] = []
  private readonly free_ids: number[] = []
  alloc_id(): number {
    return this.free_ids.length ? (this.free_ids.pop() as number) : this.items.length
  }
  set(id: number, t: T): void {
    this.items[id] = t
  }
  remove(id: number): void {
    this.items[id] = undefined
    this.free_ids.push(id)
  }
  *live(): IterableIterator<T> {
    for (const t of this.items) if (t !== undefined) yield t
  }
}
