/**
 * sysfs, as much as a user reads of it (Kernel: fs/sysfs/file.c
 * sysfs_create_file / sysfs_kf_seq_show, fs/sysfs/dir.c; drivers/base/
 * core.c device attributes): read-only attribute files whose text a
 * show() function formats on every read, under /sys/...
 *
 * mmsim has no sysfs mount a process can open; its files are read the way
 * /proc's are, through Machine.proc('/sys/class/uio/uio0/maps/map0/addr')
 * (root.ts hands /sys paths here). A show() returns the text or -errno, as
 * a kernel show() does (-ENODEV from a device that is going away); a read of
 * such a file fails with that errno.
 */
import { EEXIST, ENOENT } from '../include/errno.js'

/** A sysfs attribute's show(): its text, or -errno. */
export type SysfsShow = () => string | number

export class Sysfs {
  private readonly files = new Map<string, SysfsShow>()

  /** Kernel: sysfs_create_file() at a full path; -EEXIST when the path exists (sysfs_warn_dup). */
  sysfs_create_file(path: string, show: SysfsShow): number {
    if (this.files.has(path)) return -EEXIST
    this.files.set(path, show)
    return 0
  }

  /** Kernel: sysfs_remove_dir()/kobject_del(): the directory `dir` and everything under it. */
  sysfs_remove_dir(dir: string): void {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`
    for (const p of [...this.files.keys()]) if (p.startsWith(prefix)) this.files.delete(p)
  }

  /** The text of an attribute, or -errno (ENOENT when there is none). */
  read(path: string): string | number {
    const show = this.files.get(path)
    return show ? show() : -ENOENT
  }

  /** The entries directly under `dir`, sorted (ls). */
  list(dir: string): string[] {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`
    const names = new Set<string>()
    for (const p of this.files.keys()) if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0])
    return [...names].sort()
  }
}
