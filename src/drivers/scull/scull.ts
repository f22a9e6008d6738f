/**
 * scull's header (LDD3 scull/scull.h, martinezjavier/ldd3): defaults, the
 * ioctl commands (magic 'k'), and the module-wide settings every device
 * and the ioctl share (the C module's globals, one set per load here).
 */
import { _IO, _IOR, _IOW, _IOWR } from '../../include/uapi/ioctl.js'
import type { Cdev } from '../../fs/char_dev.js'
import type { File } from '../../fs/fs.js'
import { EINVAL } from '../../include/errno.js'
import { SEEK_CUR, SEEK_END, SEEK_SET } from '../../include/uapi/fcntl.js'

/**
 * Kernel: scull_llseek() (and scullp_llseek(), the same code in
 * scullp/main.c): SET, CUR or END of a device `size` bytes long, no upper
 * bound; a negative result, or another whence, is EINVAL.
 */
export function scull_llseek(filp: File, off: number, whence: number, size: number): number {
  let newpos: number
  if (whence === SEEK_SET) newpos = off
  else if (whence === SEEK_CUR) newpos = filp.f_pos + off
  else if (whence === SEEK_END) newpos = size + off
  else return -EINVAL
  if (newpos < 0) return -EINVAL
  filp.f_pos = newpos
  return newpos
}

export const SCULL_MAJOR = 0
export const SCULL_NR_DEVS = 4
export const SCULL_P_NR_DEVS = 4
export const SCULL_QUANTUM = 4000
export const SCULL_QSET = 1000
export const SCULL_P_BUFFER = 4000
/** Largest position a built-in scull stores (SECURITY S-B7: no unbounded list walk). */
export const SCULL_MAX_SIZE = 64 * 1024 * 1024

export const SCULL_IOC_MAGIC = 'k'
const INT = 4 // sizeof(int)
export const SCULL_IOCRESET = _IO(SCULL_IOC_MAGIC, 0)
/** S means "Set" through a ptr, T "Tell" directly with the argument value, G "Get" (reply by setting
 *  through a pointer), Q "Query" (response is on the return value), X "eXchange" (G and S atomically),
 *  H "sHift" (T and Q atomically). */
export const SCULL_IOCSQUANTUM = _IOW(SCULL_IOC_MAGIC, 1, INT)
export const SCULL_IOCSQSET = _IOW(SCULL_IOC_MAGIC, 2, INT)
export const SCULL_IOCTQUANTUM = _IO(SCULL_IOC_MAGIC, 3)
export const SCULL_IOCTQSET = _IO(SCULL_IOC_MAGIC, 4)
export const SCULL_IOCGQUANTUM = _IOR(SCULL_IOC_MAGIC, 5, INT)
export const SCULL_IOCGQSET = _IOR(SCULL_IOC_MAGIC, 6, INT)
export const SCULL_IOCQQUANTUM = _IO(SCULL_IOC_MAGIC, 7)
export const SCULL_IOCQQSET = _IO(SCULL_IOC_MAGIC, 8)
export const SCULL_IOCXQUANTUM = _IOWR(SCULL_IOC_MAGIC, 9, INT)
export const SCULL_IOCXQSET = _IOWR(SCULL_IOC_MAGIC, 10, INT)
export const SCULL_IOCHQUANTUM = _IO(SCULL_IOC_MAGIC, 11)
export const SCULL_IOCHQSET = _IO(SCULL_IOC_MAGIC, 12)
/** The pipe's buffer size: set (T) and query (Q). */
export const SCULL_P_IOCTSIZE = _IO(SCULL_IOC_MAGIC, 13)
export const SCULL_P_IOCQSIZE = _IO(SCULL_IOC_MAGIC, 14)
export const SCULL_IOC_MAXNR = 14

/** The module's parameters and the settings the ioctls change (scull_quantum... in main.c). */
export interface ScullGlobals {
  scull_major: number
  scull_minor: number
  scull_nr_devs: number
  scull_quantum: number
  scull_qset: number
  scull_p_nr_devs: number
  scull_p_buffer: number
}

/** struct scull_dev. */
export class ScullDev {
  /** Kernel address of the first scull_qset node (0: none). */
  data = 0
  quantum: number
  qset: number
  /** Bytes: the highest position written. */
  size = 0
  cdev: Cdev | null = null
  constructor(g: ScullGlobals) {
    this.quantum = g.scull_quantum
    this.qset = g.scull_qset
  }
}
