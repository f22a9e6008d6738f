/**
 * What is wrong with a machine's options before it boots: the error a bad
 * option throws, and whether the host can hold the machine at all. Apart
 * from machine.ts so that the command line can check its options (and
 * catch the error) without loading the kernel.
 */
import { parse_size } from './mm/mm_init.js'
import { HOST_BYTES_PER_PAGE } from './mm/page.js'

/** A bad machine option: the message says which and why, in one line. */
export class MachineConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MachineConfigError'
  }
}

/**
 * Why a machine of `ram` bytes would not fit in a host with `host_bytes` of
 * memory, or null: its struct page arrays are one buffer of
 * HOST_BYTES_PER_PAGE per frame, which the host must be able to commit (a
 * simulated page's contents come later, as it is touched).
 */
export function host_memory_problem(ram_text: string, host_bytes: number): string | null {
  const ram = parse_size(ram_text)
  if (!Number.isFinite(ram)) return null
  const need = (ram / 4096) * HOST_BYTES_PER_PAGE
  if (need <= host_bytes * 0.75) return null
  const gib = (b: number): string => (b / 2 ** 30).toFixed(1)
  const max_frames = Math.floor((host_bytes * 0.75) / HOST_BYTES_PER_PAGE)
  const max_g = Math.floor((max_frames * 4096) / 2 ** 30)
  return `ram: ${ram_text} needs ${gib(need)} GiB of host memory for its struct pages, this host has ${gib(host_bytes)} GiB (the largest it can boot is about ${max_g >= 1024 ? `${Math.floor(max_g / 1024)}T` : `${max_g}G`})`
}
