/**
 * Character device numbers and cdevs (Kernel: fs/char_dev.c,
 * drivers/base/map.c kobj_map; fs/proc/devices.c for /proc/devices).
 *
 * A driver first reserves a range of device numbers under a name
 * (register_chrdev_region, or alloc_chrdev_region for a dynamic major): the
 * registry is Linux's chrdevs[] hash of 255 buckets (major % 255), each a
 * list sorted by major then base minor; a char_device_struct costs a kmalloc
 * of the simulated kernel. Then it makes numbers live with a cdev
 * (cdev_init/cdev_alloc + cdev_add: the cdev map from dev_t ranges to
 * cdevs). Opening an inode with S_IFCHR runs chrdev_open(): look the
 * number up in the map (ENXIO when nothing is there), take references on
 * the cdev and its owner module, replace the file's f_op with the cdev's
 * and call its open.
 *
 * Invariants: no two regions of one major overlap; every region lies
 * within one major (0 <= baseminor, baseminor + minorct <= 2^20); a cdev
 * is in the map exactly while it is added (cdev_add to cdev_del); an
 * inode's i_cdev holds a cdev that an open found.
 */
import { EBUSY, EINVAL, ENOMEM, ENXIO } from '../include/errno.js'
import { try_module_get, module_put, type Module } from '../include/module.js'
import { MAJOR, MINOR, MINORBITS, MKDEV, type File, type FileOperations, type Inode, type InodeCdev } from './fs.js'

/** CHRDEV_MAJOR_MAX: majors are 0..511. */
export const CHRDEV_MAJOR_MAX = 512
/** CHRDEV_MAJOR_HASH_SIZE: the buckets of chrdevs[]. */
export const CHRDEV_MAJOR_HASH_SIZE = 255
/** Dynamic majors are taken from 254 down to CHRDEV_MAJOR_DYN_END... */
export const CHRDEV_MAJOR_DYN_END = 234
/** ...then from CHRDEV_MAJOR_DYN_EXT_START down to CHRDEV_MAJOR_DYN_EXT_END. */
export const CHRDEV_MAJOR_DYN_EXT_START = 511
export const CHRDEV_MAJOR_DYN_EXT_END = 384
export const MINORMASK = 2 ** MINORBITS - 1
/** sizeof(struct char_device_struct) on x86_64: next, major, baseminor, minorct, name[64], cdev. */
const CHAR_DEVICE_STRUCT_SIZE = 96
/** sizeof(struct cdev) on x86_64 (kobject, owner, ops, list, dev, count). */
const CDEV_SIZE = 104

/** struct char_device_struct: one registered region. */
export interface CharDeviceStruct {
  readonly major: number
  readonly baseminor: number
  readonly minorct: number
  /** The name, at most 63 characters (strscpy into name[64]). */
  readonly name: string
  /** The cdev __register_chrdev() made for the region, if any. */
  cdev: Cdev | null
  /** The kmalloc'd object (kzalloc in __register_chrdev_region). */
  readonly kaddr: number
}

/** struct cdev. */
export class Cdev implements InodeCdev {
  owner: Module | null = null
  ops: FileOperations | null = null
  dev = 0
  count = 0
  /** The kobject's references (kobject_get/put); a cdev_alloc'd cdev is freed at zero. */
  kref = 1
  /** The inodes that cached this cdev (cdev->list; cdev_purge clears them). */
  readonly list = new Set<Inode>()
  constructor(
    private readonly reg: ChrdevRegistry,
    /** The kmalloc'd object of cdev_alloc(), 0 for a cdev embedded in the driver's structure. */
    readonly kaddr: number,
  ) {}

  /** Kernel: cdev_put(): drop the reference chrdev_open() took (and its module reference). */
  cdev_put(): void {
    const owner = this.owner
    this.reg.kobject_put(this)
    module_put(owner)
  }
}

/** What the registry needs of the kernel: kmalloc for its objects, the log. */
export interface ChrdevHost {
  kzalloc(size: number, caller: string): number
  kfree(addr: number, caller: string): void
  pr_err(text: string): void
}

/** kobj_map's probe: numbers [dev, dev + range) lead to `cdev`. */
interface Probe {
  readonly dev: number
  readonly range: number
  readonly cdev: Cdev
}

/** The char-device numbers of one machine: chrdevs[] and the cdev map. */
export class ChrdevRegistry {
  /** chrdevs[]: per bucket, sorted by major then baseminor. */
  private readonly chrdevs: CharDeviceStruct[][] = []
  /** cdev_map: the probes, smallest range first for a number (kobj_lookup's order). */
  private probes: Probe[] = []

  constructor(private readonly host: ChrdevHost) {
    // A loop, not Array.from({ length }, ...) (~8x slower through the iterator protocol): every boot makes these.
    for (let i = 0; i < CHRDEV_MAJOR_HASH_SIZE; i++) this.chrdevs.push([])
  }

  private static major_to_index(major: number): number {
    return major % CHRDEV_MAJOR_HASH_SIZE
  }

  /**
   * Kernel: find_dynamic_major(): 254..234 where the hash bucket is empty
   * (so a major 489..509 makes major - 255 look taken), then 511..384 where
   * no region has that major; -EBUSY when none is free.
   */
  private find_dynamic_major(): number {
    for (let i = CHRDEV_MAJOR_HASH_SIZE - 1; i >= CHRDEV_MAJOR_DYN_END; i--) {
      if (this.chrdevs[i].length === 0) return i
    }
    for (let i = CHRDEV_MAJOR_DYN_EXT_START; i >= CHRDEV_MAJOR_DYN_EXT_END; i--) {
      if (!this.chrdevs[ChrdevRegistry.major_to_index(i)].some((cd) => cd.major === i)) return i
    }
    return -EBUSY
  }

  /** Kernel: __register_chrdev_region(): the new region, or -errno. major 0 picks a dynamic one. */
  __register_chrdev_region(major: number, baseminor: number, minorct: number, name: string): CharDeviceStruct | number {
    if (major >= CHRDEV_MAJOR_MAX) {
      this.host.pr_err(`CHRDEV "${name}" major requested (${major}) is greater than the maximum (${CHRDEV_MAJOR_MAX - 1})`)
      return -EINVAL
    }
    if (minorct > MINORMASK + 1 - baseminor) {
      this.host.pr_err(
        `CHRDEV "${name}" minor range requested (${baseminor}-${baseminor + minorct - 1}) is out of range of maximum range (0-${MINORMASK}) for a single major`,
      )
      return -EINVAL
    }
    const kaddr = this.host.kzalloc(CHAR_DEVICE_STRUCT_SIZE, '__register_chrdev_region')
    if (!kaddr) return -ENOMEM
    if (major === 0) {
      const r = this.find_dynamic_major()
      if (r < 0) {
        this.host.pr_err(`CHRDEV "${name}" dynamic allocation region is full`)
        this.host.kfree(kaddr, '__register_chrdev_region')
        return r
      }
      major = r
    }
    const bucket = this.chrdevs[ChrdevRegistry.major_to_index(major)]
    let at = bucket.length
    for (let i = 0; i < bucket.length; i++) {
      const curr = bucket[i]
      if (curr.major < major) continue
      if (curr.major > major) {
        at = i
        break
      }
      if (curr.baseminor + curr.minorct <= baseminor) continue
      if (curr.baseminor >= baseminor + minorct) {
        at = i
        break
      }
      this.host.kfree(kaddr, '__register_chrdev_region')
      return -EBUSY
    }
    const cd: CharDeviceStruct = { major, baseminor, minorct, name: name.slice(0, 63), cdev: null, kaddr }
    bucket.splice(at, 0, cd)
    return cd
  }

  /** Kernel: __unregister_chrdev_region(): remove the region that matches exactly (else nothing). */
  private __unregister_chrdev_region(major: number, baseminor: number, minorct: number): void {
    const bucket = this.chrdevs[ChrdevRegistry.major_to_index(major)]
    const i = bucket.findIndex((cd) => cd.major === major && cd.baseminor === baseminor && cd.minorct === minorct)
    if (i < 0) return
    const [cd] = bucket.splice(i, 1)
    this.host.kfree(cd.kaddr, '__unregister_chrdev_region')
  }

  /**
   * Kernel: register_chrdev_region(): reserve [from, from + count), split
   * per major; a failure rolls back the pieces already registered. 0 or -errno.
   */
  register_chrdev_region(from: number, count: number, name: string): number {
    const to = from + count
    let n = from
    let err = 0
    for (; n < to; ) {
      const next = Math.min(MKDEV(MAJOR(n) + 1, 0), to)
      const cd = this.__register_chrdev_region(MAJOR(n), MINOR(n), next - n, name)
      if (typeof cd === 'number') {
        err = cd
        break
      }
      n = next
    }
    if (!err) return 0
    for (let m = from; m < n; ) {
      const next = MKDEV(MAJOR(m) + 1, 0)
      this.__unregister_chrdev_region(MAJOR(m), MINOR(m), next - m)
      m = next
    }
    return err
  }

  /** Kernel: alloc_chrdev_region(): a dynamic major; `dev` gets MKDEV(major, baseminor). 0 or -errno. */
  alloc_chrdev_region(dev: { value: number }, baseminor: number, count: number, name: string): number {
    const cd = this.__register_chrdev_region(0, baseminor, count, name)
    if (typeof cd === 'number') return cd
    dev.value = MKDEV(cd.major, cd.baseminor)
    return 0
  }

  /** Kernel: unregister_chrdev_region(): per major, only a region matching exactly goes (a mismatch leaks it). */
  unregister_chrdev_region(from: number, count: number): void {
    const to = from + count
    for (let n = from; n < to; ) {
      const next = Math.min(MKDEV(MAJOR(n) + 1, 0), to)
      this.__unregister_chrdev_region(MAJOR(n), MINOR(n), next - n)
      n = next
    }
  }

  /**
   * Kernel: __register_chrdev(): a region plus a cdev_alloc'd cdev for
   * `count` minors from `baseminor`; returns the major when `major` was 0,
   * else 0; -errno on failure.
   */
  __register_chrdev(major: number, baseminor: number, count: number, name: string, fops: FileOperations): number {
    const cd = this.__register_chrdev_region(major, baseminor, count, name)
    if (typeof cd === 'number') return cd
    const cdev = this.cdev_alloc()
    let err = -ENOMEM
    if (cdev) {
      cdev.owner = fops.owner ?? null
      cdev.ops = fops
      err = this.cdev_add(cdev, MKDEV(cd.major, baseminor), count)
      if (!err) {
        cd.cdev = cdev
        return major ? 0 : cd.major
      }
      this.kobject_put(cdev)
    }
    this.__unregister_chrdev_region(cd.major, baseminor, count)
    return err
  }

  /** Kernel: register_chrdev(): minors 0..255. */
  register_chrdev(major: number, name: string, fops: FileOperations): number {
    return this.__register_chrdev(major, 0, 256, name, fops)
  }

  /** Kernel: __unregister_chrdev(): the region and the cdev __register_chrdev made. */
  __unregister_chrdev(major: number, baseminor: number, count: number, _name: string): void {
    const bucket = this.chrdevs[ChrdevRegistry.major_to_index(major)]
    const cd = bucket.find((c) => c.major === major && c.baseminor === baseminor && c.minorct === count)
    const cdev = cd?.cdev ?? null
    this.__unregister_chrdev_region(major, baseminor, count)
    if (cdev) this.cdev_del(cdev)
  }

  /** Kernel: unregister_chrdev(). */
  unregister_chrdev(major: number, name: string): void {
    this.__unregister_chrdev(major, 0, 256, name)
  }

  // ---- cdev ----

  /** Kernel: cdev_alloc(): a standalone cdev (kzalloc'd; freed when its last reference goes), or null. */
  cdev_alloc(): Cdev | null {
    const kaddr = this.host.kzalloc(CDEV_SIZE, 'cdev_alloc')
    return kaddr ? new Cdev(this, kaddr) : null
  }

  /** Kernel: cdev_init(): a cdev embedded in the driver's structure, with its fops. */
  cdev_init(fops: FileOperations): Cdev {
    const cdev = new Cdev(this, 0)
    cdev.ops = fops
    cdev.owner = fops.owner ?? null
    return cdev
  }

  /** Kernel: cdev_add(): the numbers are live at once (opens may arrive). 0 or -errno. */
  cdev_add(cdev: Cdev, dev: number, count: number): number {
    cdev.dev = dev
    cdev.count = count
    if (count === 0) return -EINVAL
    // kobj_map(): the range leads to the cdev (the map holds no reference: the cdev's first one is the driver's).
    this.probes.push({ dev, range: count, cdev })
    this.probes.sort((a, b) => a.range - b.range)
    return 0
  }

  /** Kernel: cdev_del(): new opens fail with ENXIO; open files keep their f_op (and their references). */
  cdev_del(cdev: Cdev): void {
    this.probes = this.probes.filter((p) => p.cdev !== cdev)
    // cdev_purge(): inodes forget it, so the next open looks the number up again.
    for (const inode of cdev.list) inode.i_cdev = null
    cdev.list.clear()
    this.kobject_put(cdev)
  }

  /** Kernel: kobj_lookup(cdev_map, dev): the cdev whose (smallest) range holds dev, or null. */
  kobj_lookup(dev: number): Cdev | null {
    for (const p of this.probes) if (dev >= p.dev && dev - p.dev < p.range) return p.cdev
    return null
  }

  /** kobject_put() of a cdev: a cdev_alloc'd one is freed at zero (cdev_dynamic_release). */
  kobject_put(cdev: Cdev): void {
    if (--cdev.kref === 0 && cdev.kaddr) this.host.kfree(cdev.kaddr, 'cdev_dynamic_release')
  }

  /** Kernel: cdev_get(): module then kobject reference; false when the module is going away. */
  private cdev_get(cdev: Cdev): boolean {
    if (!try_module_get(cdev.owner)) return false
    cdev.kref++
    return true
  }

  /**
   * Kernel: chrdev_open() (def_chr_fops.open): ENXIO when no cdev has the
   * number or its module is unloading; else the file gets the cdev's fops
   * (and a module reference, fops_get) and their open runs.
   */
  chrdev_open(inode: Inode, filp: File): number {
    let p = inode.i_cdev instanceof Cdev ? inode.i_cdev : null
    if (!p) {
      const found = this.kobj_lookup(inode.i_rdev)
      if (!found) return -ENXIO
      if (!this.cdev_get(found)) return -ENXIO
      p = found
      inode.i_cdev = p
      p.list.add(inode)
    } else if (!this.cdev_get(p)) {
      return -ENXIO
    }
    const fops = p.ops
    if (!fops || !try_module_get(fops.owner)) {
      p.cdev_put()
      return -ENXIO
    }
    filp.f_op = fops // replace_fops()
    if (fops.open) {
      const ret = fops.open(inode, filp)
      if (ret) {
        module_put(fops.owner)
        p.cdev_put()
        return ret
      }
    }
    return 0
  }

  /** The registered regions of one major, in base-minor order. */
  regions(major: number): CharDeviceStruct[] {
    return this.chrdevs[ChrdevRegistry.major_to_index(major)].filter((cd) => cd.major === major)
  }

  /** Kernel: chrdev_show() for every major: the "Character devices:" lines of /proc/devices. */
  chrdev_show(): string {
    let out = ''
    for (let major = 0; major < CHRDEV_MAJOR_MAX; major++) {
      for (const cd of this.regions(major)) out += `${String(cd.major).padStart(3)} ${cd.name}\n`
    }
    return out
  }
}
