/**
 * The OOM killer (Kernel: mm/oom_kill.c). When the page allocator has
 * exhausted reclaim, out_of_memory() picks the task whose death frees the
 * most memory and SIGKILLs it:
 *
 *  - oom_badness(): rss + swap entries + page-table pages, plus
 *    oom_score_adj scaled to a thousandth of the memory at stake
 *    (totalpages: RAM + swap globally, the limit for a memcg); LONG_MIN
 *    (unkillable) for kernel threads, init, oom_score_adj -1000 and an mm
 *    already marked MMF_OOM_SKIP;
 *  - select_bad_process(): the highest badness among candidates (every
 *    process globally, the memcg's tasks for a memcg OOM), ties to the later
 *    one; an existing victim still freeing memory aborts the selection so a
 *    second task is not killed for the same shortage;
 *  - oom_kill_process(): the log (dump_header, the task table, the
 *    oom-kill line), SIGKILL to the victim and every other process sharing
 *    its mm, mark_oom_victim (access to reserves), the oom_kill counter, and
 *    the oom reaper queued OOM_REAPER_DELAY later;
 *  - the oom reaper: if the victim still holds its mm after the delay, its
 *    private and anonymous memory is unmapped (the "oom_reaper: reaped" line);
 *    exit_mmap() sets MMF_OOM_SKIP, so a victim that exited is skipped
 *    silently, as on the real kernel.
 *
 * mm/ cannot see task_struct (it lives above, in src/kernel): the kernel
 * hands the killer an OomHost (current, the process list, signal delivery,
 * mmgrab/mmdrop). Delivery is Linux's: a victim other than current is sent
 * SIGKILL and exits when it next runs, which in mmsim is host.schedule() at
 * the end of out_of_memory(), i.e. before the allocating task retries;
 * current, when chosen, dies on its way back to user mode.
 *
 * Invariants (debug_vm, check_oom()): a task with signal.oom_mm set has
 * SIGNAL_GROUP_EXIT; oom_score_adj and oom_score_adj_min lie in
 * [-1000, 1000]; the oom_kill event count equals the kills made.
 */
import { KernelBug } from '../include/bug.js'
import { SIGNAL_GROUP_EXIT } from '../include/resource.js'
import type { OomTask } from './oom_types.js'
export type { OomSignal, OomTask } from './oom_types.js'
import type { Printk } from '../include/printk.js'
import type { Clock } from '../hw/clock.js'
import { format_gfp, __GFP_FS, type gfp_t } from './gfp.js'
import { get_mm_rss, MM_ANONPAGES, MM_FILEPAGES, MM_SHMEMPAGES, MM_SWAPENTS, VM_HUGETLB, VM_PFNMAP, VM_SHARED, vm_flags_test, mm_flags_set, mm_flags_test, MMF_OOM_REAP_QUEUED, MMF_OOM_SKIP, type MmStruct } from './mm_types.js'
import { zap_page_range_single } from './memory.js'
import { OOM_KILL } from './vm_event_item.js'
import type { VmStat } from './vmstat.js'
import { dump_stack_lines, __show_mem, type ShowMemSource } from './show_mem.js'
import { mem_cgroup_print_oom_context, mem_cgroup_print_oom_meminfo, type OomMemcg } from './memcontrol_oom.js'

export const OOM_SCORE_ADJ_MIN = -1000
export const OOM_SCORE_ADJ_MAX = 1000
/** The legacy /proc/<pid>/oom_adj scale: -17 disables, -16..15 adjusts. */
export const OOM_DISABLE = -17
export const OOM_ADJUST_MIN = -16
export const OOM_ADJUST_MAX = 15


/** The victim is given this long to exit before the reaper takes its memory (OOM_REAPER_DELAY, 2*HZ). */
export const OOM_REAPER_DELAY_NS = 2_000_000_000

export const LONG_MIN = Number.MIN_SAFE_INTEGER

export const CONSTRAINT_NONE = 0
export const CONSTRAINT_CPUSET = 1
export const CONSTRAINT_MEMORY_POLICY = 2
export const CONSTRAINT_MEMCG = 3
const oom_constraint_text = ['CONSTRAINT_NONE', 'CONSTRAINT_CPUSET', 'CONSTRAINT_MEMORY_POLICY', 'CONSTRAINT_MEMCG']

const PF_EXITING = 0x00000004
const PF_KTHREAD = 0x00200000

/** What the kernel (src/kernel) gives the killer: tasks, signals and mm references. */
export interface OomHost {
  /** current; null in a context with no user task (the kernel API at boot: swapper/0). */
  current(): OomTask | null
  /** for_each_process(): thread-group leaders not yet reaped, in creation order. */
  processes(): Iterable<OomTask>
  /** do_send_sig_info(SIGKILL, SEND_SIG_PRIV, p, PIDTYPE_TGID): the group gets SIGNAL_GROUP_EXIT. */
  send_sigkill(p: OomTask): void
  /** Other tasks get the CPU: every task other than current with a fatal signal pending exits now. */
  schedule(): void
  mmgrab(mm: MmStruct): void
  mmdrop(mm: MmStruct): void
  /** The executing CPU. */
  cpu(): number
  /** True while a user-mode page fault is being handled (the call trace's bottom frames). */
  in_user_fault(): boolean
  /** The task's memory cgroup path ("/" for the root group). */
  task_memcg_path(p: OomTask): string
}

/** struct oom_control. */
export interface OomControl {
  /** null: every zone (the simulated machine has one node). */
  readonly nodemask: null
  /** The memcg whose limit was hit; null for a global OOM. */
  readonly memcg: OomMemcg | null
  readonly gfp_mask: gfp_t
  /** -1: sysrq-triggered (not an allocation). */
  readonly order: number
  /** The highest zone the allocation may use (gfp_zone), for show_mem's filter. */
  readonly highest_zoneidx: number
  totalpages: number
  chosen: OomTask | null | 'abort'
  chosen_points: number
  constraint: number
}

export function oom_control(gfp_mask: gfp_t, order: number, highest_zoneidx: number, memcg: OomMemcg | null = null): OomControl {
  return { nodemask: null, memcg, gfp_mask, order, highest_zoneidx, totalpages: 0, chosen: null, chosen_points: LONG_MIN, constraint: CONSTRAINT_NONE }
}

const K = (pages: number): number => pages * 4

const test_bit = mm_flags_test
const set_bit = mm_flags_set

/** Kernel: oom_unkillable_task(): init and kernel threads. */
export function oom_unkillable_task(p: OomTask): boolean {
  return p.pid === 1 || (p.flags & PF_KTHREAD) !== 0
}

/** Kernel: tsk_is_oom_victim(). */
export function tsk_is_oom_victim(p: OomTask): boolean {
  return p.signal.oom_mm !== null
}

/** Kernel: fatal_signal_pending() for the group (SIGKILL sent). */
export function fatal_signal_pending(p: OomTask): boolean {
  return (p.signal.flags & SIGNAL_GROUP_EXIT) !== 0
}

/**
 * Kernel: oom_badness(): how much memory killing p frees, adjusted by its
 * oom_score_adj in thousandths of totalpages; LONG_MIN when p must not be
 * killed. Pages, not bytes.
 */
export function oom_badness(p: OomTask, totalpages: number): number {
  if (oom_unkillable_task(p)) return LONG_MIN
  const mm = p.mm // find_lock_task_mm(): a single-threaded task's own mm
  if (!mm || p.exit_state !== 0) return LONG_MIN
  let adj = p.signal.oom_score_adj
  if (adj === OOM_SCORE_ADJ_MIN || test_bit(mm, MMF_OOM_SKIP)) return LONG_MIN
  const points = get_mm_rss(mm) + mm.rss_stat[MM_SWAPENTS] + Math.floor(mm.pgd.mm.pgtables_bytes / 4096)
  // adj *= totalpages / 1000: integer division first, as the kernel's long arithmetic does.
  adj *= Math.floor(totalpages / 1000)
  return points + adj
}

/** Kernel: proc_oom_score(): badness scaled into [0, 2000] (0 for the unkillable). */
export function proc_oom_score(p: OomTask, totalpages: number): number {
  const badness = oom_badness(p, totalpages)
  if (badness === LONG_MIN) return 0
  // C's long division truncates toward zero; the result is printed as unsigned long.
  const points = Math.trunc(((1000 + Math.trunc((badness * 1000) / totalpages)) * 2) / 3)
  return points < 0 ? 2 ** 64 + points : points
}

/** The OOM killer of one machine. */
export class OomKiller {
  /** sysctl vm.panic_on_oom (0: kill; mmsim does not model panicking on OOM, it only records the value). */
  sysctl_panic_on_oom = 0
  /** sysctl vm.oom_kill_allocating_task. */
  sysctl_oom_kill_allocating_task = 0
  /** sysctl vm.oom_dump_tasks. */
  sysctl_oom_dump_tasks = 1
  /** Kills made (the count /proc/vmstat's oom_kill must equal). */
  kills = 0

  constructor(
    private readonly host: OomHost,
    private readonly printk: Printk,
    private readonly vmstat: VmStat,
    private readonly mem: ShowMemSource,
    private readonly clock: Clock,
    private readonly uts_release: string,
  ) {}

  /** Kernel: task_will_free_mem(): the task is already dying and will free its mm. */
  private task_will_free_mem(p: OomTask): boolean {
    const mm = p.mm
    if (!mm || !this.__task_will_free_mem(p) || test_bit(mm, MMF_OOM_SKIP)) return false
    if (mm.mm_users <= 1) return true
    for (const q of this.host.processes()) {
      if (q.mm !== mm || q.tgid === p.tgid) continue
      if (!this.__task_will_free_mem(q)) return false
    }
    return true
  }
  private __task_will_free_mem(p: OomTask): boolean {
    return fatal_signal_pending(p) || (p.flags & PF_EXITING) !== 0
  }

  /**
   * Kernel: out_of_memory(). True when it made progress: a victim was
   * killed or is still exiting, or the allocation is one the OOM killer
   * leaves alone (GFP_NOFS) and the caller should retry. Throws KernelBug
   * (the kernel's panic) when a global OOM finds nothing to kill.
   */
  out_of_memory(oc: OomControl): boolean {
    const cur = this.host.current()
    const memcg_oom = oc.memcg !== null
    // A task already dying is given reserves to exit with, not a second kill.
    if (cur && this.task_will_free_mem(cur)) {
      this.mark_oom_victim(cur)
      this.queue_oom_reaper(cur)
      return true
    }
    // The OOM killer does not compensate for IO-less reclaim (a memcg OOM must act regardless).
    if (!(oc.gfp_mask & __GFP_FS) && !memcg_oom) return true
    oc.constraint = this.constrained_alloc(oc)
    if (
      !memcg_oom && this.sysctl_oom_kill_allocating_task && cur?.mm && !oom_unkillable_task(cur) &&
      cur.signal.oom_score_adj !== OOM_SCORE_ADJ_MIN
    ) {
      oc.chosen = cur
      this.oom_kill_process(oc, 'Out of memory (oom_kill_allocating_task)')
      this.host.schedule()
      return true
    }
    this.select_bad_process(oc, memcg_oom ? (oc.memcg as OomMemcg).tasks() : this.host.processes())
    if (oc.chosen === null) {
      this.dump_header(oc)
      this.printk.pr_warn('Out of memory and no killable processes...')
      // Linux panics here ("System is deadlocked on memory"). A simulated machine whose memory a
      // library caller exhausted through the kernel API should not end the host program: the
      // allocation fails instead, and the log says so.
      if (!memcg_oom && oc.order !== -1) this.printk.pr_emerg('mmsim: Linux would panic here (System is deadlocked on memory); the allocation fails instead')
      return false
    }
    if (oc.chosen !== 'abort') this.oom_kill_process(oc, memcg_oom ? 'Memory cgroup out of memory' : 'Out of memory')
    // The victims run and exit before the allocating task tries again.
    this.host.schedule()
    return true
  }

  /** Kernel: constrained_alloc(): one node and no cpusets or mempolicies here, so NONE or MEMCG; sets totalpages. */
  private constrained_alloc(oc: OomControl): number {
    if (oc.memcg) {
      oc.totalpages = oc.memcg.get_max() || 1
      return CONSTRAINT_MEMCG
    }
    oc.totalpages = this.mem.totalram_pages() + this.mem.total_swap_pages()
    return CONSTRAINT_NONE
  }

  /** Kernel: select_bad_process() / oom_evaluate_task() over `candidates`. */
  select_bad_process(oc: OomControl, candidates: Iterable<OomTask>): void {
    oc.chosen = null
    oc.chosen_points = LONG_MIN
    for (const p of candidates) {
      if (oom_unkillable_task(p)) continue
      // A victim still freeing its memory: wait for it rather than kill another task.
      if (tsk_is_oom_victim(p)) {
        if (test_bit(p.signal.oom_mm as MmStruct, MMF_OOM_SKIP)) continue
        oc.chosen = 'abort'
        return
      }
      const points = oom_badness(p, oc.totalpages)
      if (points === LONG_MIN || points < oc.chosen_points) continue
      oc.chosen = p
      oc.chosen_points = points
    }
  }

  /** Kernel: mark_oom_victim(): reserves for the victim, its mm pinned in signal->oom_mm. */
  private mark_oom_victim(p: OomTask): void {
    if (p.signal.oom_mm || !p.mm) return
    p.signal.oom_mm = p.mm
    this.host.mmgrab(p.mm)
  }

  /** Kernel: oom_kill_process(). */
  private oom_kill_process(oc: OomControl, message: string): void {
    const victim = oc.chosen as OomTask
    if (this.task_will_free_mem(victim)) {
      this.mark_oom_victim(victim)
      this.queue_oom_reaper(victim)
      return
    }
    this.dump_header(oc)
    this.dump_oom_victim(oc, victim)
    this.__oom_kill_process(victim, message)
  }

  /** Kernel: __oom_kill_process(). */
  private __oom_kill_process(victim: OomTask, message: string): void {
    const mm = victim.mm
    if (!mm) {
      this.printk.pr_info(`${message}: OOM victim ${victim.pid} (${victim.comm}) is already exiting. Skip killing the task`)
      return
    }
    this.host.mmgrab(mm)
    this.vmstat.count_vm_event(OOM_KILL)
    this.kills++
    // SIGKILL before access to reserves, so the victim cannot spend them from user space.
    this.host.send_sigkill(victim)
    this.mark_oom_victim(victim)
    this.printk.pr_err(
      `${message}: Killed process ${victim.pid} (${victim.comm}) total-vm:${K(mm.total_vm)}kB, ` +
        `anon-rss:${K(mm.rss_stat[MM_ANONPAGES])}kB, file-rss:${K(mm.rss_stat[MM_FILEPAGES])}kB, ` +
        `shmem-rss:${K(mm.rss_stat[MM_SHMEMPAGES])}kB, UID:${victim.uid} pgtables:${mm.pgd.mm.pgtables_bytes / 1024}kB ` +
        `oom_score_adj:${victim.signal.oom_score_adj}`,
    )
    // Every other process using the mm dies too, or the memory would stay mapped.
    let can_oom_reap = true
    for (const p of this.host.processes()) {
      if (p.mm !== mm || p.tgid === victim.tgid) continue
      if (p.pid === 1) {
        can_oom_reap = false
        set_bit(mm, MMF_OOM_SKIP)
        this.printk.pr_info(`oom killer ${victim.pid} (${victim.comm}) has mm pinned by ${p.pid} (${p.comm})`)
        continue
      }
      if (p.flags & PF_KTHREAD) continue
      this.host.send_sigkill(p)
    }
    if (can_oom_reap) this.queue_oom_reaper(victim)
    this.host.mmdrop(mm)
  }

  /** Kernel: queue_oom_reaper(): the reaper looks at the victim OOM_REAPER_DELAY from now. */
  private queue_oom_reaper(p: OomTask): void {
    const mm = p.signal.oom_mm
    if (!mm || test_bit(mm, MMF_OOM_REAP_QUEUED)) return
    set_bit(mm, MMF_OOM_REAP_QUEUED)
    this.host.mmgrab(mm) // the reaper's own reference (the kernel pins the task, whose signal pins the mm)
    this.clock.add_timer(this.clock.now() + OOM_REAPER_DELAY_NS, () => {
      this.oom_reap_task(p, mm)
      this.host.mmdrop(mm)
    })
  }

  /** Kernel: oom_reap_task() / oom_reap_task_mm(). */
  oom_reap_task(p: OomTask, mm: MmStruct): void {
    // exit_mmap() sets MMF_OOM_SKIP: a victim that already exited has nothing left to reap.
    if (!test_bit(mm, MMF_OOM_SKIP) && !mm.dead) {
      __oom_reap_task_mm(mm)
      this.printk.pr_info(
        `oom_reaper: reaped process ${p.pid} (${p.comm}), now anon-rss:${K(mm.rss_stat[MM_ANONPAGES])}kB, ` +
          `file-rss:${K(mm.rss_stat[MM_FILEPAGES])}kB, shmem-rss:${K(mm.rss_stat[MM_SHMEMPAGES])}kB`,
      )
    }
    // Hidden from the OOM killer from now on: reaped, or nothing more to get from it.
    set_bit(mm, MMF_OOM_SKIP)
  }

  /** Kernel: dump_header(). */
  dump_header(oc: OomControl): void {
    const cur = this.host.current()
    const comm = cur ? cur.comm : 'swapper/0'
    this.printk.pr_warn(
      `${comm} invoked oom-killer: gfp_mask=${format_gfp(oc.gfp_mask)}, order=${oc.order}, oom_score_adj=${cur ? cur.signal.oom_score_adj : 0}`,
    )
    for (const l of dump_stack_lines(this.host.cpu(), cur, this.uts_release, oc.memcg !== null, this.host.in_user_fault())) this.printk.pr_warn(l)
    if (oc.memcg) mem_cgroup_print_oom_meminfo(this.printk, oc.memcg)
    else __show_mem(this.printk, this.mem, oc.highest_zoneidx)
    if (this.sysctl_oom_dump_tasks) this.dump_tasks(oc)
  }

  /** Kernel: dump_tasks() / dump_task(). */
  private dump_tasks(oc: OomControl): void {
    this.printk.pr_info('Tasks state (memory values in pages):')
    this.printk.pr_info('[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name')
    const tasks = oc.memcg ? oc.memcg.tasks() : this.host.processes()
    for (const p of tasks) {
      if (oom_unkillable_task(p) || !p.mm || p.exit_state !== 0) continue
      const mm = p.mm
      const r = mm.rss_stat
      this.printk.pr_info(
        `[${String(p.pid).padStart(7)}] ${String(p.uid).padStart(5)} ${String(p.tgid).padStart(5)} ${String(mm.total_vm).padStart(8)} ` +
          `${String(get_mm_rss(mm)).padStart(8)} ${String(r[MM_ANONPAGES]).padStart(8)} ${String(r[MM_FILEPAGES]).padStart(8)} ` +
          `${String(r[MM_SHMEMPAGES]).padStart(9)} ${String(mm.pgd.mm.pgtables_bytes).padStart(8)} ${String(r[MM_SWAPENTS]).padStart(8)}` +
          `         ${String(p.signal.oom_score_adj).padStart(5)} ${p.comm}`,
      )
    }
  }

  /** Kernel: dump_oom_victim(): the one-line summary. */
  private dump_oom_victim(oc: OomControl, victim: OomTask): void {
    this.printk.pr_info(
      `oom-kill:constraint=${oom_constraint_text[oc.constraint]},nodemask=(null),cpuset=/,mems_allowed=0` +
        mem_cgroup_print_oom_context(oc.memcg, this.host.task_memcg_path(victim)) +
        `,task=${victim.comm},pid=${victim.pid},uid=${victim.uid}`,
    )
  }
}

/**
 * Kernel: __oom_reap_task_mm(): unmap what the victim's death would free and
 * nobody else can need: anonymous and private mappings (shared file pages
 * stay; hugetlb and PFN maps are not the kernel's memory to take).
 */
export function __oom_reap_task_mm(mm: MmStruct): void {
  for (const vma of mm.mm_mt.to_array()) {
    if (vm_flags_test(vma.vm_flags, VM_HUGETLB) || vm_flags_test(vma.vm_flags, VM_PFNMAP)) continue
    if (vma.vm_file === null || !vm_flags_test(vma.vm_flags, VM_SHARED)) zap_page_range_single(mm, vma, vma.vm_start, vma.vm_end)
  }
}

/** The OOM state debug_vm proves for each task. Throws KernelBug. */
export function check_oom_task(p: OomTask): void {
  const s = p.signal
  if (s.oom_score_adj < OOM_SCORE_ADJ_MIN || s.oom_score_adj > OOM_SCORE_ADJ_MAX || !Number.isInteger(s.oom_score_adj)) {
    throw new KernelBug(`oom check: pid ${p.pid} oom_score_adj ${s.oom_score_adj} out of range`)
  }
  if (s.oom_score_adj_min < OOM_SCORE_ADJ_MIN || s.oom_score_adj_min > OOM_SCORE_ADJ_MAX) {
    throw new KernelBug(`oom check: pid ${p.pid} oom_score_adj_min ${s.oom_score_adj_min} out of range`)
  }
  if (s.oom_mm && !(s.flags & SIGNAL_GROUP_EXIT) && !(p.flags & PF_EXITING)) {
    throw new KernelBug(`oom check: pid ${p.pid} is an OOM victim without a fatal signal`)
  }
}
