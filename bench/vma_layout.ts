/**
 * The many-VMA address space of the VMA rows, built the same way in the
 * simulator as bench/scale_bench.c builds it in the real kernel: a
 * PROT_NONE reservation of n + 2 pages (the first and last stay PROT_NONE,
 * so nothing outside can merge with the run), every inner page mapped again
 * MAP_FIXED, read-write at even indexes and read-only at odd ones, so no two
 * neighbours merge and the process has n VMAs more.
 */
import type { Machine, Process } from '../src/index.js'
import { PROT_NONE, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE } from '../src/include/uapi/mman.js'

export const RW = PROT_READ | PROT_WRITE
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS

/** Builds the n one-page VMAs in `p`; returns the address of the first. */
export function make_vmas(m: Machine, p: Process, n: number): number {
  const base = p.mmap(0, (n + 2) * 4096, PROT_NONE, ANON | MAP_NORESERVE) + 4096
  m.deferred_check(() => {
    for (let i = 0; i < n; i++) p.mmap(base + i * 4096, 4096, i % 2 ? PROT_READ : RW, ANON | MAP_FIXED)
  })
  return base
}

/** One store to every read-write page of the run, so exit and smaps have resident pages to see. */
export function touch_vmas(m: Machine, p: Process, base: number, n: number): void {
  const one = new Uint8Array([1])
  m.deferred_check(() => {
    for (let i = 0; i < n; i += 2) p.store(base + i * 4096, one)
  })
}
