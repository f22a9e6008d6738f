/**
 * CPU-time measurement for the bench rows. The bench host is shared with
 * other jobs, so a row's cost is this process's CPU time (process.cpuUsage:
 * user + system of every thread, GC helpers included), never wall time.
 */

/** This process's CPU time so far, in microseconds. */
export function cpu_us(): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

/**
 * Operations per CPU second: `op` runs in batches of doubling size until
 * one batch took `min_ms` of CPU. A slow operation (1 ms at 60,000 VMAs)
 * is then timed over a few calls and a fast one over many, so every row
 * finishes in about 2 * min_ms whatever its speed. The small batches warm
 * the JIT up before the batch that counts.
 */
export function cpu_rate(op: (i: number) => void, min_ms: number): number {
  for (let n = 1; ; n *= 2) {
    const t0 = cpu_us()
    for (let i = 0; i < n; i++) op(i)
    const dt = cpu_us() - t0
    if (dt >= min_ms * 1000) return (n / dt) * 1e6
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const h = s.length >> 1
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2
}
