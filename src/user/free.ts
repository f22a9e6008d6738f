/**
 * free(1) as procps-ng 4 prints it, from the text of /proc/meminfo (which
 * is what procps reads):
 *
 *                 total        used        free      shared  buff/cache   available
 *   Mem:        24684096      389896    23783104        8788      757772    24294200
 *   Swap:              0           0           0
 *
 * total MemTotal; free MemFree; shared Shmem; buff/cache Buffers + Cached
 * + SReclaimable; available MemAvailable (MemFree when the kernel has no
 * MemAvailable); used total - available (procps 4.0; older versions
 * subtracted free and buff/cache instead). -m and -g divide by 1024 and
 * 1024^2, rounding down, as procps's integer scaling does.
 */

export type FreeUnit = 'k' | 'm' | 'g'

function meminfo_kb(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)/.exec(line)
    if (m) out.set(m[1], Number(m[2]))
  }
  return out
}

/** free's output (with its trailing newline) for the text of /proc/meminfo. */
export function free(meminfo: string, unit: FreeUnit = 'k'): string {
  const mi = meminfo_kb(meminfo)
  const g = (k: string): number => mi.get(k) ?? 0
  const div = unit === 'k' ? 1 : unit === 'm' ? 1024 : 1024 * 1024
  const total = g('MemTotal')
  const available = mi.has('MemAvailable') ? g('MemAvailable') : g('MemFree')
  const cols = [total, total - available, g('MemFree'), g('Shmem'), g('Buffers') + g('Cached') + g('SReclaimable'), available]
  const swap = [g('SwapTotal'), g('SwapTotal') - g('SwapFree'), g('SwapFree')]
  const row = (label: string, vs: number[]): string => label.padEnd(8) + vs.map((v) => String(Math.floor(v / div)).padStart(12)).join('')
  const head = ''.padEnd(8) + ['total', 'used', 'free', 'shared', 'buff/cache', 'available'].map((h) => h.padStart(12)).join('')
  return `${head}\n${row('Mem:', cols)}\n${row('Swap:', swap)}\n`
}
