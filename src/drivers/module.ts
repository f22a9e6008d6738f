/**
 * Loadable modules (Kernel: kernel/module/main.c load_module(),
 * do_init_module(), delete_module; kernel/params.c parse_args()) and the
 * load/unload scripts LDD3 ships with its drivers (scull_load: insmod, then
 * mknod of the nodes under /dev with the major it reads from
 * /proc/devices).
 *
 * A module is an object with a name, its parameters' types and defaults,
 * init() returning 0 or -errno, exit(), and optionally the nodes its load
 * script makes. Built-in drivers and user-written ones are the same kind of
 * object; the loader makes a fresh instance of a built-in per load.
 *
 * Invariants: a name is loaded at most once; a module is LIVE only after
 * its init returned 0; rmmod refuses with EBUSY while the module's
 * reference count (open files of its devices, mappings holding them) is
 * not zero, EAGAIN (EWOULDBLOCK) while a loaded module requires it, and
 * then runs exit and removes the nodes its script made. A module's
 * `requires` are loaded before it, as modprobe would.
 */
import { EAGAIN, EBUSY, EEXIST, EINVAL, ENOENT } from '../include/errno.js'
import { MODULE_STATE_GOING, MODULE_STATE_LIVE, Module, module_refcount } from '../include/module.js'
import type { DriverKernel } from './driver_api.js'

/** A module_param()'s type: int (a decimal, 0x hex or 0 octal number) or charp (a string). */
export type ModuleParamType = 'int' | 'uint' | 'charp'
export type ModuleParamValue = number | string

/** A device node the module's load script creates: /dev/<name>, char device `dev` (MKDEV), mode, and the group it chgrp's it to (root's 0 when absent). */
export interface DeviceNode {
  readonly name: string
  readonly dev: number
  readonly mode: number
  readonly gid?: number
}

/** The group LDD3's load scripts give their nodes ("staff", gid 50 on Debian; "wheel" where there is no staff). */
export const STAFF_GID = 50

/** struct module's driver side: what insmod loads. */
export interface KernelModule {
  readonly name: string
  /** module_param() declarations: name -> type. Values the caller does not give keep the module's defaults. */
  readonly params?: Readonly<Record<string, ModuleParamType>>
  /** module_init(): 0 or -errno; `THIS_MODULE` is the owner to put in file_operations. */
  init(k: DriverKernel, params: Readonly<Record<string, ModuleParamValue>>, THIS_MODULE: Module): number
  /** module_exit(). */
  exit(k: DriverKernel): void
  /** Modules whose symbols this one uses: loaded first (as modprobe does), and held while this one is. */
  readonly requires?: readonly string[]
  /** The load script's mknod lines, run after a successful init. */
  nodes?(): readonly DeviceNode[]
}

/** What the loader needs of the machine: device nodes in /dev. */
export interface ModuleHost {
  /** mknod as root, then chgrp to `gid`. */
  mknod(path: string, mode: number, dev: number, gid?: number): number
  unlink(path: string): number
}

interface Loaded {
  readonly def: KernelModule
  readonly mod: Module
  /** The kernel API as this module sees it (its allocations are its own). */
  readonly k: DriverKernel
  readonly nodes: readonly DeviceNode[]
}

/** Kernel: kstrtoint() as param_set_int() uses it (base 0: 0x.. hex, 0.. octal). NaN when not a number. */
function parse_int(text: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(text)
  if (!m) return NaN
  const body = m[2]
  const v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10)
  return m[1] === '-' ? -v : v
}

export class ModuleLoader {
  private readonly loaded = new Map<string, Loaded>()
  private tainted_oot = false

  constructor(
    private readonly k: DriverKernel,
    private readonly host: ModuleHost,
    private readonly builtins: ReadonlyMap<string, () => KernelModule>,
  ) {}

  /** The loaded module of that name, or null (lsmod). */
  find_module(name: string): Module | null {
    return this.loaded.get(name)?.mod ?? null
  }

  /** Names of the loaded modules, most recent first (as lsmod lists them). */
  list(): string[] {
    return [...this.loaded.keys()].reverse()
  }

  /**
   * insmod: a built-in driver by name or a module object, with parameters.
   * 0 or -errno: ENOENT for an unknown name, EEXIST when loaded, EINVAL for
   * a parameter value of the wrong type, or what init returned.
   */
  insmod(what: string | KernelModule, params: Readonly<Record<string, ModuleParamValue>> = {}): number {
    let def: KernelModule
    if (typeof what === 'string') {
      const make = this.builtins.get(what)
      if (!make) return -ENOENT
      def = make()
    } else {
      def = what
    }
    if (this.loaded.has(def.name)) return -EEXIST
    // modprobe: the modules it depends on first (a failure stops the load).
    for (const dep of def.requires ?? []) {
      if (this.loaded.has(dep)) continue
      const r = this.insmod(dep)
      if (r < 0) return r
    }
    const args: Record<string, ModuleParamValue> = {}
    for (const [key, raw] of Object.entries(params)) {
      const type = def.params?.[key]
      if (!type) {
        // parse_args() -> unknown_module_param_cb(): warned about and ignored.
        this.k.pr_warn(`${def.name}: unknown parameter '${key}' ignored`)
        continue
      }
      if (type === 'charp') {
        args[key] = String(raw)
        continue
      }
      const v = typeof raw === 'number' ? raw : parse_int(raw)
      const ok = Number.isInteger(v) && (type === 'int' ? v >= -(2 ** 31) && v < 2 ** 31 : v >= 0 && v < 2 ** 32)
      if (!ok) {
        this.k.pr_err(`${def.name}: '${String(raw)}' invalid for parameter '${key}'`)
        return -EINVAL
      }
      args[key] = v
    }
    if (!this.tainted_oot) {
      // module_augment_kernel_taints(): the first out-of-tree module taints the kernel (TAINT_OOT_MODULE).
      this.k.pr_warn(`${def.name}: loading out-of-tree module taints kernel.`)
      this.tainted_oot = true
    }
    const mod = new Module(def.name)
    const k = this.k.for_module(mod)
    const ret = def.init(k, args, mod)
    if (ret < 0) return ret
    if (ret > 0) {
      this.k.pr_warn(`do_init_module: '${def.name}'->init suspiciously returned ${ret}, it should follow 0/-E convention`)
    }
    mod.state = MODULE_STATE_LIVE
    const nodes = def.nodes?.() ?? []
    for (const n of nodes) {
      // rm -f, then mknod: a stale node of an earlier load goes first.
      this.host.unlink(`/dev/${n.name}`)
      k.mmsim_check_node(`/dev/${n.name}`, n.mode)
      this.host.mknod(`/dev/${n.name}`, n.mode, n.dev, n.gid)
    }
    this.loaded.set(def.name, { def, mod, k, nodes })
    return 0
  }

  /** rmmod (delete_module): 0, -ENOENT when not loaded, -EBUSY while in use. */
  rmmod(name: string): number {
    const l = this.loaded.get(name)
    if (!l) return -ENOENT
    // delete_module(): a module others use (its source_list) is EWOULDBLOCK, "in use by".
    const users = [...this.loaded.values()].filter((o) => o.def.requires?.includes(name))
    if (users.length) {
      this.k.pr_err(`rmmod: ERROR: Module ${name} is in use by: ${users.map((u) => u.def.name).join(' ')}`)
      return -EAGAIN
    }
    if (module_refcount(l.mod) !== 0) return -EBUSY
    l.mod.state = MODULE_STATE_GOING
    l.def.exit(l.k)
    // The unload script: rm -f the nodes.
    for (const n of l.nodes) this.host.unlink(`/dev/${n.name}`)
    this.loaded.delete(name)
    return 0
  }
}
