/**
 * getrlimit / setrlimit / prlimit64 (Kernel: kernel/sys.c do_prlimit(),
 * sys_getrlimit(), sys_setrlimit(), sys_prlimit64()).
 *
 * Order of checks in do_prlimit(): a resource number >= RLIM_NLIMITS is
 * EINVAL; then, for a new limit, soft above hard is EINVAL and an
 * RLIMIT_NOFILE hard limit above fs.nr_open is EPERM (for root too); then
 * raising the hard limit without CAP_SYS_RESOURCE is EPERM. Lowering the
 * hard limit is allowed to anyone and cannot be undone without the
 * capability. On success the old limit is returned and the new one installed.
 */
import { EINVAL, EPERM } from '../include/errno.js'
import { CAP_SYS_RESOURCE, cred_capable } from '../include/cred.js'
import { RLIM_NLIMITS, RLIMIT_NOFILE, NR_OPEN_DEFAULT, type CurrentTask, type Rlimit } from '../include/resource.js'

/**
 * Kernel: do_prlimit(): read and/or replace `tsk`'s limit for `resource`,
 * acting as `cur` (the caller, whose capabilities count). 0 or -errno;
 * `old_rlim`, when given, receives the previous limit.
 */
export function do_prlimit(
  cur: CurrentTask,
  tsk: CurrentTask,
  resource: number,
  new_rlim: Rlimit | null,
  old_rlim: Rlimit | null,
  nr_open = NR_OPEN_DEFAULT,
): number {
  if (!Number.isInteger(resource) || resource < 0 || resource >= RLIM_NLIMITS) return -EINVAL
  if (new_rlim) {
    if (new_rlim.rlim_cur > new_rlim.rlim_max) return -EINVAL
    if (resource === RLIMIT_NOFILE && new_rlim.rlim_max > nr_open) return -EPERM
  }
  const rlim = tsk.signal.rlim[resource]
  if (new_rlim) {
    // The capable() check is made against init_user_ns.
    if (new_rlim.rlim_max > rlim.rlim_max && !cred_capable(cur.cred, CAP_SYS_RESOURCE)) return -EPERM
  }
  if (old_rlim) {
    old_rlim.rlim_cur = rlim.rlim_cur
    old_rlim.rlim_max = rlim.rlim_max
  }
  if (new_rlim) {
    rlim.rlim_cur = new_rlim.rlim_cur
    rlim.rlim_max = new_rlim.rlim_max
  }
  return 0
}

/** Kernel: sys_getrlimit(): the calling task's limit. 0 or -EINVAL. */
export function sys_getrlimit(cur: CurrentTask, resource: number, out: Rlimit): number {
  return do_prlimit(cur, cur, resource, null, out)
}

/** Kernel: sys_setrlimit(): set the calling task's limit. 0 or -errno. */
export function sys_setrlimit(cur: CurrentTask, resource: number, rlim: Rlimit): number {
  return do_prlimit(cur, cur, resource, { rlim_cur: rlim.rlim_cur, rlim_max: rlim.rlim_max }, null)
}
