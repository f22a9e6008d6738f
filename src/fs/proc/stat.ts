/**
 * /proc/stat (Kernel: fs/proc/stat.c show_stat()): per-CPU time in
 * USER_HZ ticks, interrupt and context-switch counts, forks, and the tasks
 * running and blocked now; procps' vmstat and top read it.
 *
 * The times come from the simulated clock's per-CPU accounting
 * (src/hw/clock.ts): kernel work is system time, a task waiting for the
 * disk is iowait on its CPU, and every other nanosecond since boot is that
 * CPU's idle time. User-mode instructions cost no simulated time, so user
 * and nice stay 0; mmsim has no softirqs, hard-irq time, steal or guests.
 * The machine boots at the epoch (btime 0): it has no wall clock.
 */
import type { ProcView } from './internal.js'

/** Kernel: USER_HZ, the unit of /proc/stat's times. */
export const USER_HZ = 100
/** Kernel: NR_SOFTIRQS (HI, TIMER, NET_TX, NET_RX, BLOCK, IRQ_POLL, TASKLET, SCHED, HRTIMER, RCU). */
const NR_SOFTIRQS = 10

/** Kernel: nsec_to_clock_t(). */
function nsec_to_clock_t(ns: number): number {
  return Math.floor(ns / (1e9 / USER_HZ))
}

/** user nice system idle iowait irq softirq steal guest guest_nice of one CPU, in nanoseconds. */
function cpu_times(v: ProcView, cpu: number): number[] {
  const c = v.cpustat
  const system = c.system_ns[cpu] ?? 0
  const iowait = c.iowait_ns[cpu] ?? 0
  return [0, 0, system, Math.max(0, c.now_ns - system - iowait), iowait, 0, 0, 0, 0, 0]
}

export function stat_show(v: ProcView): string {
  const per_cpu = Array.from({ length: v.cpus }, (_, i) => cpu_times(v, i))
  const sum = per_cpu.reduce((a, t) => a.map((x, i) => x + t[i]), new Array<number>(10).fill(0))
  const line = (name: string, t: number[]): string => `${name} ${t.map(nsec_to_clock_t).join(' ')}\n`
  let out = line('cpu ', sum)
  per_cpu.forEach((t, i) => (out += line(`cpu${i}`, t)))
  const irqs = Array.from({ length: v.nr_irqs }, (_, i) => v.irq_count(i))
  out += `intr ${irqs.reduce((a, b) => a + b, 0)} ${irqs.join(' ')}\n`
  out += `ctxt ${v.nr_switches}\nbtime 0\nprocesses ${v.total_forks}\n`
  out += `procs_running ${v.nr_running()}\nprocs_blocked ${v.nr_iowait()}\n`
  out += `softirq 0 ${new Array<number>(NR_SOFTIRQS).fill(0).join(' ')}\n`
  return out
}
