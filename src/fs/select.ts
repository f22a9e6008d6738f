/**
 * poll(2) (Kernel: fs/select.c do_sys_poll(), do_poll(), do_pollfd();
 * include/linux/poll.h poll_wait(), vfs_poll()).
 *
 * Each pollfd asks its file's f_op->poll for the current mask (a file
 * without poll is always ready: DEFAULT_POLLMASK), keeping the bits asked
 * for plus POLLERR|POLLHUP; a negative fd is skipped (revents 0), a closed
 * one is POLLNVAL. The first pass registers the caller on every wait queue
 * the drivers name (poll_wait); when nothing is ready and the timeout is
 * not 0 the caller sleeps there (src/kernel/wait.ts) and polls again when
 * woken.
 */
import { EINVAL } from '../include/errno.js'
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDNORM, POLLWRNORM, type PollFd } from '../include/uapi/poll.js'
import type { WaitQueueHead } from '../include/wait.js'
import type { File, PollTable } from './fs.js'

/** DEFAULT_POLLMASK: a file without poll is readable and writable. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

/** Kernel: poll_wait(): register on `wq` (when the table still collects queues). */
export function poll_wait(file: File, wq: WaitQueueHead, pt: PollTable | null): void {
  if (pt?._qproc) pt._qproc(file, wq)
}

/** Kernel: vfs_poll(). */
export function vfs_poll(file: File, pt: PollTable | null): number {
  if (!file.f_op.poll) return DEFAULT_POLLMASK
  return file.f_op.poll(file, pt)
}

/**
 * Kernel: do_pollfd() over every entry, once: the number of entries with
 * revents != 0. `fget` finds a descriptor's file; EINVAL when there are
 * more entries than RLIMIT_NOFILE allows.
 */
export function do_poll_pass(fds: PollFd[], fget: (fd: number) => File | null, pt: PollTable | null, nofile: number): number {
  if (fds.length > nofile) return -EINVAL
  let count = 0
  for (const p of fds) {
    p.revents = 0
    if (p.fd < 0) continue
    const f = fget(p.fd)
    if (!f) {
      p.revents = POLLNVAL
    } else {
      // The caller's interest plus the events that are always reported.
      p.revents = vfs_poll(f, pt) & (p.events | POLLERR | POLLHUP)
    }
    if (p.revents) count++
  }
  return count
}
