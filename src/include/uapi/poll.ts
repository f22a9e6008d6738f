/** poll(2)'s event bits (include/uapi/asm-generic/poll.h) and struct pollfd. */
export const POLLIN = 0x0001
export const POLLPRI = 0x0002
export const POLLOUT = 0x0004
export const POLLERR = 0x0008
export const POLLHUP = 0x0010
export const POLLNVAL = 0x0020
export const POLLRDNORM = 0x0040
export const POLLRDBAND = 0x0080
export const POLLWRNORM = 0x0100
export const POLLWRBAND = 0x0200

/** struct pollfd: `revents` is filled in by poll(). */
export interface PollFd {
  fd: number
  events: number
  revents: number
}
