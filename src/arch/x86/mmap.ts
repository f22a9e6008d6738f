/**
 * x86's address-space randomisation and mmap layout (Kernel:
 * arch/x86/mm/mmap.c arch_rnd, arch_mmap_rnd, mmap_base, mmap_legacy_base,
 * arch_pick_mmap_base; arch/x86/kernel/process.c arch_align_stack,
 * arch_randomize_brk; arch/x86/include/asm/elf.h __STACK_RND_MASK).
 *
 * Plain functions of numbers: kernel/exec.ts applies them to an mm while it
 * loads a program. `random` is PF_RANDOMIZE: the task runs with
 * kernel.randomize_va_space non-zero (and no ADDR_NO_RANDOMIZE personality).
 * Every draw comes from the machine's KernelRandom, in the order the kernel
 * makes them, so a seed gives one layout.
 */
import { PAGE_SIZE } from '../../include/page_types.js'
import { randomize_page, type KernelRandom } from '../../include/random.js'

const MiB = 1024 * 1024

/** CONFIG_ARCH_MMAP_RND_BITS (vm.mmap_rnd_bits): 28 on x86_64, 8 on i386. */
export function mmap_rnd_bits(long_bits: 32 | 64): number {
  return long_bits === 64 ? 28 : 8
}

/** CONFIG_ARCH_MMAP_RND_COMPAT_BITS (vm.mmap_rnd_compat_bits): 8, for 32-bit tasks on x86_64. */
export const MMAP_RND_COMPAT_BITS = 8

/** __STACK_RND_MASK(is32bit): 16 GiB of pages for a 64-bit task, 8 MiB for a 32-bit one. */
export function stack_rnd_mask(is32bit: boolean): number {
  return is32bit ? 0x7ff : 0x3fffff
}

/** Kernel: arch_rnd(): `rndbits` random bits of pages, or 0 without PF_RANDOMIZE. */
export function arch_rnd(rnd: KernelRandom, random: boolean, rndbits: number, long_bits: 32 | 64): number {
  if (!random) return 0
  const v = rnd.get_random_long(long_bits) & ((1n << BigInt(rndbits)) - 1n)
  return Number(v) * PAGE_SIZE
}

/** Kernel: stack_maxrandom_size(): how far down randomize_stack_top() may move the stack. */
export function stack_maxrandom_size(random: boolean, is32bit: boolean): number {
  return random ? stack_rnd_mask(is32bit) * PAGE_SIZE : 0
}

/**
 * Kernel: mmap_base(): the top of the top-down mmap area, below the stack's
 * rlimit, the stack's random range and the guard gap, at least 128 MiB and
 * at most 5/6 of the address space below TASK_SIZE, minus `rnd`.
 */
export function mmap_base(rnd: number, task_size: number, rlim_stack: number, stack_guard_gap: number, random: boolean, is32bit: boolean): number {
  let gap = rlim_stack
  const pad = stack_maxrandom_size(random, is32bit) + stack_guard_gap
  // Values close to RLIM_INFINITY would overflow an unsigned long: the kernel skips the pad then.
  if (gap + pad < 2 ** 64) gap += pad
  const gap_min = 128 * MiB
  const gap_max = Math.floor(task_size / 6) * 5
  if (gap < gap_min) gap = gap_min
  else if (gap > gap_max) gap = gap_max
  return Math.ceil((task_size - gap - rnd) / PAGE_SIZE) * PAGE_SIZE
}

/** Kernel: mmap_legacy_base(): __TASK_UNMAPPED_BASE (a third of the address space, page aligned) plus `rnd`. */
export function mmap_legacy_base(rnd: number, task_size: number): number {
  return Math.ceil(task_size / 3 / PAGE_SIZE) * PAGE_SIZE + rnd
}

/**
 * Kernel: arch_align_stack(): with randomisation, up to 8 KiB lower
 * (get_random_u32_below(8192)); then 16-byte aligned.
 */
export function arch_align_stack(rnd: KernelRandom, random: boolean, sp: number): number {
  if (random) sp -= rnd.get_random_u32_below(8192)
  return sp - (sp % 16)
}

/**
 * Kernel: arch_randomize_brk(): the program break moved to a random page in
 * [brk, brk + 1 GiB) for a 64-bit task, [brk, brk + 32 MiB) for a 32-bit one.
 */
export function arch_randomize_brk(rnd: KernelRandom, brk: number, is32bit: boolean, long_bits: 32 | 64): number {
  return randomize_page(rnd, brk, is32bit ? 32 * MiB : 1024 * MiB, long_bits)
}
