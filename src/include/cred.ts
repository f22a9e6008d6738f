/**
 * Task credentials and POSIX capabilities (Kernel: include/linux/cred.h,
 * include/uapi/linux/capability.h, kernel/cred.c, kernel/capability.c,
 * security/commoncap.c).
 *
 * A task's struct cred carries its ids and its capability sets. Without
 * user namespaces (everything here runs in init_user_ns), capable(cap) is
 * "cap is in the effective set" (cap_capable()). A task started as uid 0
 * gets the full set (CAP_FULL_SET, as the init task's cred and a root
 * execve give it); any other uid gets none: cap_bprm_creds_from_file()
 * grants nothing to a non-root execve without file capabilities, so a
 * uid-1000 process has CapEff 0 (its bounding set stays full).
 *
 * Invariants: a cred is never modified once installed (fork shares the
 * parent's values: copy_creds() copies them into a new cred); the cap sets
 * are kernel_cap_t flag words (src/include/wide.ts: exact non-negative
 * numbers, bits 0..CAP_LAST_CAP, no raw bitwise operator on them).
 *
 * Leaf module: imports only src/include (wide.ts for the bit tests), so the
 * mm layer may read creds (as current_cred() is reachable from everywhere in
 * the kernel).
 */
import { EPERM } from './errno.js'
import { flags_bit, type kernel_cap_t } from './wide.js'

export type { kernel_cap_t } from './wide.js'

// ---- capability numbers (include/uapi/linux/capability.h) ----
export const CAP_CHOWN = 0
export const CAP_DAC_OVERRIDE = 1
export const CAP_DAC_READ_SEARCH = 2
export const CAP_KILL = 5
export const CAP_SETUID = 7
export const CAP_NET_ADMIN = 12
export const CAP_IPC_LOCK = 14
export const CAP_IPC_OWNER = 15
export const CAP_SYS_MODULE = 16
export const CAP_SYS_RAWIO = 17
export const CAP_SYS_PTRACE = 19
export const CAP_SYS_ADMIN = 21
export const CAP_SYS_NICE = 23
export const CAP_SYS_RESOURCE = 24
export const CAP_MKNOD = 27
export const CAP_SETFCAP = 31
export const CAP_SYSLOG = 34
export const CAP_PERFMON = 38
export const CAP_CHECKPOINT_RESTORE = 40
/** The highest capability number of 6.18. */
export const CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE
/** CAP_FULL_SET: bits 0..CAP_LAST_CAP (0x1ffffffffff). */
export const CAP_FULL_SET = (2 ** (CAP_LAST_CAP + 1) - 1) as kernel_cap_t
export const CAP_EMPTY_SET = 0 as kernel_cap_t

/** Kernel: cap_raised(): is `cap` in the set `caps`? */
export function cap_raised(caps: kernel_cap_t, cap: number): boolean {
  // Hot (every mmap): a bit of a 41-bit set kept in a double, see flags_bit().
  return flags_bit(caps, cap)
}

/** struct cred (the parts the simulator uses). */
export class Cred {
  readonly uid: number
  readonly gid: number
  readonly euid: number
  readonly egid: number
  readonly suid: number
  readonly sgid: number
  readonly fsuid: number
  readonly fsgid: number
  readonly cap_inheritable: kernel_cap_t
  readonly cap_permitted: kernel_cap_t
  readonly cap_effective: kernel_cap_t
  readonly cap_bset: kernel_cap_t
  readonly cap_ambient: kernel_cap_t

  constructor(uid: number, gid: number, caps: { permitted: kernel_cap_t; effective: kernel_cap_t; bset: kernel_cap_t }) {
    this.uid = this.euid = this.suid = this.fsuid = uid
    this.gid = this.egid = this.sgid = this.fsgid = gid
    this.cap_inheritable = CAP_EMPTY_SET
    this.cap_permitted = caps.permitted
    this.cap_effective = caps.effective
    this.cap_bset = caps.bset
    this.cap_ambient = CAP_EMPTY_SET
  }
}

/**
 * The cred of a task that execve()d as `uid` (gid the same unless given):
 * root gets the full permitted and effective sets, anyone else none
 * (Kernel: cap_bprm_creds_from_file(), security/commoncap.c).
 */
export function cred_for_uid(uid: number, gid = uid): Cred {
  const root = uid === 0
  return new Cred(uid, gid, {
    permitted: root ? CAP_FULL_SET : CAP_EMPTY_SET,
    effective: root ? CAP_FULL_SET : CAP_EMPTY_SET,
    bset: CAP_FULL_SET,
  })
}

/** The cred of init / kernel threads (init_cred): uid 0, every capability. */
export const init_cred: Cred = cred_for_uid(0)

/**
 * Kernel: cap_capable() against init_user_ns: 0 when `cap` is in the
 * effective set of `cred`, -EPERM otherwise.
 */
export function cap_capable(cred: Cred, cap: number): number {
  return cap_raised(cred.cap_effective, cap) ? 0 : -EPERM
}

/** Kernel: has_capability_noaudit() / capable() for a given cred. */
export function cred_capable(cred: Cred, cap: number): boolean {
  return cap_capable(cred, cap) === 0
}
