/**
 * The release of the simulated kernel (include/generated/utsrelease.h):
 * what `uname -r` answers inside mmsim, what the boot log and oops lines
 * print, and the `kernel` field of a replayed oracle result.
 *
 * mmsim models one kernel: Linux 6.18.44 as built for the reference machine
 * whose /proc files and oracle recordings are the ground truth (its slab
 * object sizes, its behaviour). It therefore carries that build's release
 * string, so a replay that agrees with the recording is byte-identical to
 * it. What built a machine is said once, in its boot line.
 */
export const UTS_RELEASE = '6.18.44-fc-v595'
/** The rest of `uname -v`-ish detail the boot line prints. */
export const LINUX_COMPILE_BY = 'mmsim'

/**
 * Kernel: linux_banner (init/version.c): the boot log's first line and the
 * text of /proc/version (linux_proc_banner with the same fields).
 */
export const LINUX_BANNER = `Linux version ${UTS_RELEASE} (${LINUX_COMPILE_BY}@sim) (gcc (GCC) 14.2.0) #1 SMP PREEMPT_DYNAMIC`
