/**
 * /proc/<pid>/oom_score, oom_score_adj and oom_adj (Kernel: fs/proc/base.c
 * proc_oom_score(), oom_score_adj_read/write(), oom_adj_read/write(),
 * __set_oom_adj()).
 *
 * Writes follow the kernel: at most PROC_NUMBUF - 1 (12) bytes are read,
 * whitespace is stripped and kstrtoint() parses the rest (base 0: 0x hex,
 * leading 0 octal; EINVAL for junk, ERANGE past int); oom_score_adj takes
 * -1000..1000, oom_adj -16..15 or -17 (OOM_DISABLE), scaled to the new
 * range (15 maps to 1000). Lowering needs CAP_SYS_RESOURCE below
 * oom_score_adj_min (oom_score_adj) or below the current value (the legacy
 * oom_adj) -- EACCES otherwise; a writer with the capability also sets
 * oom_score_adj_min. Processes sharing the mm get the same value.
 * Measured on Linux 6.18.44: test/fixtures/probes/oom_memcg.txt.
 */
import { CAP_SYS_RESOURCE, cred_capable, type Cred } from '../../include/cred.js'
import { EACCES, EINVAL, ERANGE } from '../../include/errno.js'
import { OOM_ADJUST_MAX, OOM_ADJUST_MIN, OOM_DISABLE, OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN, proc_oom_score } from '../../mm/oom_kill.js'
import type { TaskStruct } from '../../kernel/task.js'

const PROC_NUMBUF = 13

/** Kernel: proc_oom_score(): totalpages is RAM + swap. */
export function oom_score_show(t: TaskStruct, totalpages: number): string {
  return `${proc_oom_score(t, totalpages)}\n`
}
export function oom_score_adj_show(t: TaskStruct): string {
  return `${t.signal.oom_score_adj}\n`
}
export function oom_adj_show(t: TaskStruct): string {
  const adj = t.signal.oom_score_adj
  const v = adj === OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : Math.trunc((adj * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX)
  return `${v}\n`
}

/** Kernel: kstrtoint(s, 0): the value, or -EINVAL / -ERANGE. */
export function kstrtoint(s: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(s)
  if (!m) return Number.NaN
  const body = m[2]
  const v = body.length > 1 && (body[1] === 'x' || body[1] === 'X') ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10)
  const signed = m[1] === '-' ? -v : v
  if (signed > 2 ** 31 - 1 || signed < -(2 ** 31)) return Number.POSITIVE_INFINITY
  return signed
}

/** Kernel: __set_oom_adj(). */
function set_oom_adj(task: TaskStruct, writer: Cred, tasks: Iterable<TaskStruct>, adj: number, legacy: boolean): number {
  const cap = cred_capable(writer, CAP_SYS_RESOURCE)
  if (legacy ? adj < task.signal.oom_score_adj && !cap : adj < task.signal.oom_score_adj_min && !cap) return -EACCES
  const apply = (t: TaskStruct): void => {
    t.signal.oom_score_adj = adj
    if (!legacy && cap) t.signal.oom_score_adj_min = adj
  }
  apply(task)
  // Other processes using the same mm (not threads of the group, which share signal in Linux).
  for (const p of tasks) if (p !== task && p.mm !== null && p.mm === task.mm && p.tgid !== task.tgid && !p.is_kthread) apply(p)
  return 0
}

/** Kernel: oom_score_adj_write(): bytes consumed, or -errno. */
export function oom_score_adj_write(task: TaskStruct, writer: Cred, tasks: Iterable<TaskStruct>, buf: string): number {
  const v = kstrtoint(buf.slice(0, PROC_NUMBUF - 1).trim())
  if (Number.isNaN(v)) return -EINVAL
  if (v === Number.POSITIVE_INFINITY) return -ERANGE
  if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) return -EINVAL
  const err = set_oom_adj(task, writer, tasks, v, false)
  return err < 0 ? err : Math.min(buf.length, PROC_NUMBUF - 1)
}

/** Kernel: oom_adj_write(): bytes consumed, or -errno. */
export function oom_adj_write(task: TaskStruct, writer: Cred, tasks: Iterable<TaskStruct>, buf: string): number {
  const raw = kstrtoint(buf.slice(0, PROC_NUMBUF - 1).trim())
  if (Number.isNaN(raw)) return -EINVAL
  if (raw === Number.POSITIVE_INFINITY) return -ERANGE
  if ((raw < OOM_ADJUST_MIN || raw > OOM_ADJUST_MAX) && raw !== OOM_DISABLE) return -EINVAL
  const adj = raw === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : Math.trunc((raw * OOM_SCORE_ADJ_MAX) / -OOM_DISABLE)
  const err = set_oom_adj(task, writer, tasks, adj, true)
  return err < 0 ? err : Math.min(buf.length, PROC_NUMBUF - 1)
}
