/**
 * struct module as the rest of the kernel sees it (Kernel:
 * include/linux/module.h try_module_get()/module_put(), kernel/module/main.c
 * module_refcount()). A loaded module's reference count says who uses it:
 * each open of one of its character devices holds references (cdev_get and
 * fops_get each take one), and delete_module refuses with EBUSY until they
 * are gone. The loader (src/drivers/module.ts) owns the state changes.
 *
 * Invariant: refcnt >= 0; no reference is taken once the module is GOING.
 */
export const MODULE_STATE_LIVE = 0
export const MODULE_STATE_COMING = 1
export const MODULE_STATE_GOING = 2

export class Module {
  refcnt = 0
  state = MODULE_STATE_COMING
  constructor(readonly name: string) {}
}

/** Kernel: try_module_get(): false once the module is going away (NULL owner: always true). */
export function try_module_get(mod: Module | null | undefined): boolean {
  if (!mod) return true
  if (mod.state === MODULE_STATE_GOING) return false
  mod.refcnt++
  return true
}

/** Kernel: module_put(). */
export function module_put(mod: Module | null | undefined): void {
  if (mod) mod.refcnt--
}

/** Kernel: module_refcount(). */
export function module_refcount(mod: Module): number {
  return mod.refcnt
}
