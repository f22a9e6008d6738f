/**
 * /proc/<pid>/stat and /proc/<pid>/cmdline (Kernel: do_task_stat(),
 * fs/proc/array.c; proc_pid_cmdline_read(), fs/proc/base.c).
 *
 * stat is one line of 52 fields in the order proc(5) documents; what the
 * simulator does not model (times, tty, scheduling) prints as an idle
 * SCHED_OTHER task without a terminal would: 0, priority 20, nice 0, one
 * thread, rsslim RLIM_INFINITY, exit_signal SIGCHLD. kstkesp/kstkeip and
 * wchan print 0, as 6.x does for anyone but a ptrace-capable reader.
 * Fault counters are the faults charged to the task's address space.
 */
import type { TaskStruct } from '../../kernel/task.js'
import { get_mm_rss } from '../../mm/mm_types.js'

const RLIM_INFINITY = '18446744073709551615'

function state_char(t: TaskStruct): string {
  if (t.exit_state === 32) return 'Z'
  if (t.exit_state === 16) return 'X'
  if (t.is_kthread && t.__state !== 0) return 'I'
  return t.__state === 0 ? 'R' : 'S'
}

/** /proc/<pid>/stat. */
export function proc_pid_stat(t: TaskStruct): string {
  const mm = t.mm
  const ppid = t.parent ? t.parent.pid : t.is_kthread ? 2 : 1
  let ign = 0n
  let cgt = 0n
  for (const [sig, h] of t.sighand) {
    if (h === 'SIG_IGN') ign |= 1n << BigInt(sig - 1)
    else if (typeof h === 'function') cgt |= 1n << BigInt(sig - 1)
  }
  const rss = mm ? get_mm_rss(mm) : 0
  const f: (string | number | bigint)[] = [
    t.pid,
    `(${t.comm})`,
    state_char(t),
    ppid,
    t.tgid, // pgrp
    t.tgid, // session
    0, // tty_nr
    -1, // tpgid
    t.flags >>> 0,
    mm ? mm.min_flt : t.min_flt,
    0,
    mm ? mm.maj_flt : t.maj_flt,
    0,
    0, // utime
    0, // stime
    0,
    0,
    20, // priority
    0, // nice
    1, // num_threads
    0, // itrealvalue
    0, // starttime
    mm ? mm.total_vm * 4096 : 0, // vsize (bytes)
    rss,
    mm ? RLIM_INFINITY : 0,
    mm ? mm.start_code : 0,
    mm ? mm.end_code : 0,
    mm ? mm.start_stack : 0,
    0, // kstkesp
    0, // kstkeip
    0, // signal (pending)
    0, // blocked
    ign,
    cgt,
    0, // wchan
    0,
    0,
    t.is_kthread ? 0 : 17, // exit_signal
    t.cpu,
    0, // rt_priority
    0, // policy
    0,
    0,
    0,
    mm ? mm.start_data : 0,
    mm ? mm.end_data : 0,
    mm ? mm.start_brk : 0,
    mm ? mm.arg_start : 0,
    mm ? mm.arg_end : 0,
    mm ? mm.env_start : 0,
    mm ? mm.env_end : 0,
    t.exit_state ? t.exit_code : 0,
  ]
  return f.join(' ') + '\n'
}

/** /proc/<pid>/cmdline: the arguments, each followed by a NUL (empty for kernel threads). */
export function proc_pid_cmdline(t: TaskStruct): string {
  if (!t.mm) return ''
  return t.cmdline.map((a) => a + '\0').join('')
}
