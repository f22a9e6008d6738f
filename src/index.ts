/**
 * mmsim: the library entry. `Machine` boots a simulated Linux machine;
 * every GFP flag is exported with Linux's value.
 */
export { Machine, MachineConfigError, type MachineOptions } from './machine.js'
export { Kernel } from './kernel/kernel.js'
export { KernelBug } from './kernel/bug.js'
export * from './mm/gfp.js'
export type { Page, Pfn } from './mm/page.js'
export { arch_profile, type ArchName, type ArchProfile } from './arch/profile.js'
