/**
 * Kernel stacks of tasks (Kernel: kernel/fork.c alloc_thread_stack_node(),
 * free_thread_stack(), try_get_cached_stack(),
 * try_release_thread_stack_to_cache(), account_kernel_stack();
 * arch/x86/include/asm/page_{64,32}_types.h THREAD_SIZE).
 *
 * x86_64 has CONFIG_VMAP_STACK: a stack is THREAD_SIZE (16 KiB) of vmalloc
 * space aligned to THREAD_ALIGN (= THREAD_SIZE), allocated with
 * THREADINFO_GFP minus __GFP_ACCOUNT (so zeroed), by kernel_clone() — the
 * "kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4" lines of /proc/vmallocinfo.
 * Each CPU keeps up to NR_CACHED_STACKS (2) freed stacks and hands them to
 * the next fork on that CPU after clearing them; only stacks that do not fit
 * the cache are vfree()d (lazily, like every vfree).
 * i386 / i386-pae have no VMAP_STACK: THREAD_SIZE is 8 KiB, an order-1
 * block from the page allocator (THREADINFO_GFP, zeroed), no cache.
 *
 * NR_KERNEL_STACK_KB (/proc/meminfo KernelStack) counts the stacks of live
 * tasks only: a cached stack still shows in VmallocUsed but not in KernelStack.
 *
 * Invariant (check()): KernelStack equals live stacks * THREAD_SIZE / 1024;
 * cached stacks are idle vmalloc areas of THREAD_SIZE.
 */
import { KernelBug } from '../include/bug.js'
import { GFP_KERNEL, __GFP_ZERO } from '../mm/gfp.js'
import type { PageAllocator } from '../mm/page_alloc.js'
import type { Vmalloc } from '../mm/vmalloc.js'
import { NODE_STAT } from '../mm/vmstat.js'
import { format_addr } from '../include/hex.js'

/** Kernel: NR_CACHED_STACKS. */
export const NR_CACHED_STACKS = 2
/** Kernel: THREADINFO_GFP without __GFP_ACCOUNT (memcg charging is manual for cached stacks). */
const THREADINFO_GFP = GFP_KERNEL | __GFP_ZERO

export class ThreadStacks {
  /** Kernel: THREAD_SIZE. */
  readonly THREAD_SIZE: number
  /** Kernel: CONFIG_VMAP_STACK. */
  readonly vmap_stack: boolean
  /** Stacks of live tasks (stack address -> CPU-independent). */
  private readonly live = new Set<number>()
  /** Kernel: per-CPU cached_stacks[NR_CACHED_STACKS] (vmalloc addresses, 0 = empty). */
  private readonly cached: number[][]

  constructor(
    private readonly page_alloc: PageAllocator,
    private readonly vmalloc: Vmalloc,
    nr_cpus: number,
  ) {
    this.vmap_stack = page_alloc.arch.bits === 64
    this.THREAD_SIZE = this.vmap_stack ? 16384 : 8192
    this.cached = Array.from({ length: nr_cpus }, () => new Array<number>(NR_CACHED_STACKS).fill(0))
  }

  private get order(): number {
    return Math.log2(this.THREAD_SIZE / 4096)
  }

  /** Kernel: account_kernel_stack(): KernelStack in kB. */
  private account(sign: 1 | -1): void {
    this.page_alloc.vmstat.mod_node_page_state(NODE_STAT.nr_kernel_stack, (sign * this.THREAD_SIZE) / 1024)
  }

  /**
   * Kernel: alloc_thread_stack_node() as dup_task_struct() calls it. Returns
   * the stack's kernel address, or 0 (-ENOMEM). `caller` is what
   * /proc/vmallocinfo shows for a new vmalloc'd stack.
   */
  alloc_thread_stack_node(caller = 'kernel_clone+0x94/0x3e0'): number {
    let stack = 0
    if (this.vmap_stack) {
      const slots = this.cached[this.page_alloc.cpu]
      for (let i = 0; i < NR_CACHED_STACKS && stack === 0; i++) {
        if (slots[i] === 0) continue
        stack = slots[i] // this_cpu_xchg(cached_stacks[i], NULL)
        slots[i] = 0
        for (const pfn of this.vmalloc.find_vm_area(stack)?.pages ?? []) this.page_alloc.physmem.fill(pfn, 0) // memset(stack, 0, THREAD_SIZE)
      }
      if (stack === 0) {
        stack = this.vmalloc.__vmalloc_node_range(
          this.THREAD_SIZE,
          this.THREAD_SIZE, // THREAD_ALIGN
          this.vmalloc.layout.VMALLOC_START,
          this.vmalloc.layout.VMALLOC_END,
          THREADINFO_GFP,
          this.vmalloc.kernel_prot,
          0,
          caller,
        )
      }
    } else {
      const pfn = this.page_alloc.alloc_pages(THREADINFO_GFP, this.order)
      stack = pfn < 0 ? 0 : this.page_alloc.page_address(pfn)
    }
    if (stack === 0) return 0
    this.gen++
    this.live.add(stack)
    this.account(1)
    return stack
  }

  /**
   * Kernel: account_kernel_stack(tsk, -1) + free_thread_stack(): the stack
   * goes to this CPU's cache when a slot is free, else it is vfree()d
   * (non-VMAP: its pages go back to the page allocator).
   */
  free_thread_stack(stack: number): void {
    if (!this.live.delete(stack)) throw new KernelBug(`free_thread_stack: ${format_addr(stack)} is not a live kernel stack`)
    this.gen++
    this.account(-1)
    if (!this.vmap_stack) {
      this.page_alloc.__free_pages(this.page_alloc.virt_to_pfn(stack), this.order)
      return
    }
    const slots = this.cached[this.page_alloc.cpu]
    for (let i = 0; i < NR_CACHED_STACKS; i++) {
      if (slots[i] === 0) {
        slots[i] = stack // try_release_thread_stack_to_cache()
        return
      }
    }
    this.vmalloc.vfree(stack)
  }

  /** Live task stacks. */
  get nr_live(): number {
    return this.live.size
  }

  /** Stacks parked in the per-CPU caches. */
  get nr_cached(): number {
    return this.cached.reduce((n, c) => n + c.filter((s) => s !== 0).length, 0)
  }

  /** Bumped when a stack is handed out or given back (the per-call check's "nothing changed"). */
  private gen = 0
  /** gen and the vmap areas' generation when the stacks' areas were last looked up. */
  private checked_gen = -1
  private checked_va_gen = -1

  /**
   * DEBUG_VM check of the invariant at the top of the file. After a call
   * (`per_call`), the stacks' areas are looked up again only when a stack
   * or a vmap area changed since they last were.
   */
  check(per_call = false): void {
    const kb = this.page_alloc.vmstat.node_page_state(NODE_STAT.nr_kernel_stack)
    if (kb !== (this.live.size * this.THREAD_SIZE) / 1024) throw new KernelBug(`thread stacks: KernelStack ${kb} kB for ${this.live.size} live stacks`)
    if (!this.vmap_stack) return
    if (per_call && this.checked_gen === this.gen && this.checked_va_gen === this.vmalloc.va.gen) return
    this.checked_gen = -1
    for (const s of [...this.live, ...this.cached.flat().filter((x) => x !== 0)]) {
      const vm = this.vmalloc.find_vm_area(s)
      if (vm === null || vm.addr !== s || vm.nr_pages * 4096 !== this.THREAD_SIZE) throw new KernelBug(`thread stacks: ${format_addr(s)} is not a THREAD_SIZE vmalloc area`)
    }
    this.checked_gen = this.gen
    this.checked_va_gen = this.vmalloc.va.gen
  }
}
