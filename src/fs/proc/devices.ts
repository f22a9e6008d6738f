/**
 * /proc/devices (Kernel: fs/proc/devices.c devinfo_show(), chrdev_show()
 * in fs/char_dev.c, blkdev_show() in block/genhd.c): the registered
 * character-device regions by major ("%3d %s"), a blank line, then the
 * block-device majors.
 *
 * The block devices are the ones mmsim's machine has: its root disk
 * /dev/vda (fe:00) of virtio_blk, which registered "virtblk" with a
 * dynamic block major (254, the first one), and "blkext", the major 259
 * genhd registers at boot for extended partitions.
 */
import type { ProcView } from './internal.js'

const BLOCK_DEVICES: readonly (readonly [number, string])[] = [
  [254, 'virtblk'],
  [259, 'blkext'],
]

/** Kernel: devinfo_show() over every major. */
export function devices_show(v: ProcView): string {
  let out = 'Character devices:\n' + v.chrdev_show() + '\nBlock devices:\n'
  for (const [major, name] of BLOCK_DEVICES) out += `${String(major).padStart(3)} ${name}\n`
  return out
}
