import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SignalError, ErrnoError } from '../../src/index.js'
import { oom_badness, oom_control, LONG_MIN } from '../../src/mm/oom_kill.js'
import { boot } from '../helpers.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS
const fixture = readFileSync(new URL('../fixtures/probes/oom_memcg.txt', import.meta.url), 'utf8')

/** Touch `mb` MiB of fresh anonymous memory; the SignalError if the process is killed. */
function hog(p: ReturnType<ReturnType<typeof boot>['spawn']>, mb: number): SignalError | null {
  try {
    // 16 MiB at a time: one mapping larger than RAM would be refused by the overcommit heuristic.
    for (let done = 0; done < mb; done += 16) {
      const n = Math.min(16, mb - done) << 20
      const a = p.mmap(0, n, RW, ANON)
      for (let o = 0; o < n; o += 4096) p.store(a + o, [1])
    }
  } catch (e) {
    if (e instanceof SignalError) return e
    throw e
  }
  return null
}
const oom_kills = (m: ReturnType<typeof boot>): number => Number(/^oom_kill (\d+)$/m.exec(m.proc('/proc/vmstat'))?.[1])

describe('the OOM killer', () => {
  it('kills the memory hog exactly once, logs Linux lines, and the machine goes on', () => {
    const m = boot({ ram: '64M' })
    const small = m.spawn({ name: 'small' })
    small.store(small.mmap(0, 1 << 20, RW, ANON), [9])
    const p = m.spawn({ name: 'hog' })
    const e = m.deferred_check(() => hog(p, 128))
    expect(e?.signal).toBe('SIGKILL')
    expect(p.wait()).toBe('signal:SIGKILL')
    expect(oom_kills(m)).toBe(1)
    const log = m.dmesg()
    expect(log).toMatch(/\] hog invoked oom-killer: gfp_mask=0x140dca\(GFP_HIGHUSER_MOVABLE\|__GFP_ZERO\|__GFP_COMP\)|\] hog invoked oom-killer: gfp_mask=0x[0-9a-f]+\(GFP_[A-Z_|]+\), order=0, oom_score_adj=0\n/)
    expect(log).toContain(`Comm: hog Not tainted`)
    expect(log).toMatch(/\] Mem-Info:\n.*\] active_anon:\d+ inactive_anon:\d+ isolated_anon:\d+\n.*\] {2}active_file:/)
    expect(log).toMatch(/\] Node 0 DMA32: (\d+\*\d+kB (\([UMEHI]+\) )?){11}= \d+kB\n/)
    expect(log).toMatch(/\] \d+ pages RAM\n/)
    expect(log).toContain('] Tasks state (memory values in pages):\n')
    expect(log).toContain(`oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=hog,pid=${p.pid},uid=0\n`)
    expect(log).toMatch(new RegExp(`\\] Out of memory: Killed process ${p.pid} \\(hog\\) total-vm:\\d+kB, anon-rss:\\d+kB, file-rss:\\d+kB, shmem-rss:\\d+kB, UID:0 pgtables:\\d+kB oom_score_adj:0\\n`))
    expect(log.match(/Killed process/g)).toHaveLength(1)
    // The other process is untouched and memory is usable again.
    expect(small.alive).toBe(true)
    const q = m.spawn({ name: 'after' })
    expect(hog(q, 8)).toBeNull()
    m.check()
  })

  it('the task table and the kill line have the real kernel\'s shape (the memcg recording)', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'oom_hog' })
    m.deferred_check(() => hog(p, 128))
    const real_row = /^\[[ \d.]+\] \[ +\d+\] +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +-?\d+ oom_hog$/m
    expect(fixture).toMatch(real_row)
    expect(m.dmesg()).toMatch(real_row)
    const header = /^\[[ \d.]+\] \[ {2}pid {2}\] {3}uid {2}tgid total_vm {6}rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name$/m
    expect(fixture).toMatch(header)
    expect(m.dmesg()).toMatch(header)
    const kill = /killed process \d+ \(oom_hog\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB, shmem-rss:0kB, UID:0 pgtables:\d+kB oom_score_adj:0$/im
    expect(fixture).toMatch(kill)
    expect(m.dmesg()).toMatch(kill)
    // The row's columns are the victim's own counters: rss = anon + file + shmem.
    const row = /\[ +(\d+)\] +0 +\d+ +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +0 oom_hog/.exec(m.dmesg())
    expect(row).not.toBeNull()
    const [, pid, , rss, anon, file, shmem] = (row as RegExpExecArray).map(Number)
    expect(pid).toBe(p.pid)
    expect(rss).toBe(anon + file + shmem)
  })

  it('never kills oom_score_adj -1000; kills the allocating task itself when it is the biggest', () => {
    const m = boot({ ram: '64M' })
    const keep = m.spawn({ name: 'keeper' })
    const a = keep.mmap(0, 16 << 20, RW, ANON)
    m.deferred_check(() => {
      for (let o = 0; o < 16 << 20; o += 4096) keep.store(a + o, [1])
    })
    keep.set_oom_score_adj(-1000)
    const p = m.spawn({ name: 'hog' })
    const e = m.deferred_check(() => hog(p, 128))
    expect(e?.signal).toBe('SIGKILL')
    expect(keep.alive).toBe(true)
    expect(m.dmesg()).not.toMatch(/Killed process \d+ \(keeper\)/)
    expect(m.dmesg()).toMatch(new RegExp(`Killed process ${p.pid} \\(hog\\)`))
  })

  it('select_bad_process picks the highest oom_badness among the eligible (ties: the later), never -1000', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ mb: fc.integer({ min: 0, max: 6 }), adj: fc.constantFrom(-1000, -500, 0, 0, 300, 1000) }), { minLength: 1, maxLength: 5 }), (specs) => {
        const m = boot({ ram: '64M' })
        // Filling memory page by page is set-up here: checked once at the end of it (deferred_check).
        const ps = m.deferred_check(() =>
          specs.map((s, i) => {
            const p = m.spawn({ name: `t${i}` })
            if (s.mb) {
              const a = p.mmap(0, s.mb << 20, RW, ANON)
              for (let o = 0; o < s.mb << 20; o += 4096) p.store(a + o, [1])
            }
            p.set_oom_score_adj(s.adj)
            return p
          }),
        )
        const oc = oom_control(0xcc0, 0, 2)
        oc.totalpages = m.page_alloc.totalram_pages()
        m.oom.select_bad_process(oc, ps.map((p) => p.task))
        const scores = ps.map((p) => oom_badness(p.task, oc.totalpages))
        const best = Math.max(...scores)
        if (best === LONG_MIN) return oc.chosen === null
        const expected = ps[scores.lastIndexOf(best)].task
        return oc.chosen === expected && expected.signal.oom_score_adj !== -1000
      }),
      { numRuns: 15 },
    )
    // Up to 30 MiB stored page by page with the per-call checker: over 60 s on a loaded host.
  }, 180_000)
})

describe('/proc/<pid>/oom_score, oom_score_adj, oom_adj', () => {
  it('oom_score follows Linux\'s formula, (1000 + badness * 1000 / totalpages) * 2 / 3', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 8 << 20, RW, ANON)
    m.deferred_check(() => {
      for (let o = 0; o < 8 << 20; o += 4096) p.store(a + o, [1])
    })
    const total = m.page_alloc.totalram_pages()
    for (const adj of [0, 500, -500, 1000]) {
      p.set_oom_score_adj(adj)
      const mm = p.task.mm!
      const badness = mm.rss_stat[0] + mm.rss_stat[1] + mm.rss_stat[3] + mm.rss_stat[2] + mm.pgd.mm.pgtables_bytes / 4096 + adj * Math.floor(total / 1000)
      expect(m.proc(`/proc/${p.pid}/oom_score`)).toBe(`${Math.trunc(((1000 + Math.trunc((badness * 1000) / total)) * 2) / 3)}\n`)
    }
    p.set_oom_score_adj(-1000)
    expect(m.proc(`/proc/${p.pid}/oom_score`)).toBe('0\n')
    // A fresh process with almost nothing mapped scores 666, as the probe read on Linux.
    expect(fixture).toContain('read  oom_score              = 666')
  })

  it('writes are parsed and checked as on Linux 6.18 (the probe\'s table)', () => {
    const m = boot({ ram: '64M' })
    const p = m.spawn({ name: 'probe', uid: 0 })
    // The probe ran as root without CAP_SYS_RESOURCE: lowering below oom_score_adj_min (0) was refused.
    p.task.cred = { ...p.task.cred, cap_effective: p.task.cred.cap_effective } as typeof p.task.cred
    const res = (text: string, legacy = false): string => {
      try {
        p.write_oom_score_adj(text, p, legacy)
        return 'ok'
      } catch (e) {
        return (e as ErrnoError).code
      }
    }
    expect([res('500'), p.oom_score_adj]).toEqual(['ok', 500])
    expect([res('1001'), res('-1001'), res('abc'), res(''), res('7x')]).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL'])
    expect([res(' 12 \n'), p.oom_score_adj]).toEqual(['ok', 12])
    expect([res('0x10'), p.oom_score_adj]).toEqual(['ok', 16])
    expect([res('010'), p.oom_score_adj]).toEqual(['ok', 8])
    expect(res('99999999999')).toBe('ERANGE')
    expect([res('+7'), p.oom_score_adj]).toEqual(['ok', 7])
    expect([res('15', true), p.oom_score_adj, m.proc(`/proc/${p.pid}/oom_adj`)]).toEqual(['ok', 1000, '15\n'])
    expect(res('16', true)).toBe('EINVAL')
    expect([res('300'), m.proc(`/proc/${p.pid}/oom_adj`)]).toEqual(['ok', '5\n'])
    expect(fixture).toContain('read  oom_adj                = 5')
    // An unprivileged process may raise, and lower down to oom_score_adj_min, not below it.
    const u = m.spawn({ name: 'user', uid: 1000 })
    const ures = (text: string, legacy = false): string => {
      try {
        u.write_oom_score_adj(text, u, legacy)
        return 'ok'
      } catch (e) {
        return (e as ErrnoError).code
      }
    }
    expect([ures('400'), ures('350'), ures('0'), ures('-1')]).toEqual(['ok', 'ok', 'ok', 'EACCES'])
    // The legacy file may not lower the current value at all without the capability.
    expect([ures('3', true), ures('0', true), ures('-17', true)]).toEqual(['ok', 'EACCES', 'EACCES'])
    // fork inherits it.
    u.set_oom_score_adj(123)
    expect(u.fork().oom_score_adj).toBe(123)
  })
})

describe('the simulated clock', () => {
  it('moves forward with work; dmesg timestamps are monotonic and in printk\'s format', () => {
    const m = boot({ ram: '64M' })
    const t0 = m.clock.now()
    expect(t0).toBeGreaterThan(0) // boot took time
    const p = m.spawn({ name: 'app' })
    const a = p.mmap(0, 1 << 20, RW, ANON)
    const t1 = m.clock.now()
    for (let o = 0; o < 1 << 20; o += 4096) p.store(a + o, [1])
    expect(m.clock.now()).toBeGreaterThan(t1)
    const stamps = m.dmesg().trimEnd().split('\n').map((l) => {
      expect(l).toMatch(/^\[ {0,4}\d+\.\d{6}\] /)
      return Number(/^\[\s*([\d.]+)\]/.exec(l)?.[1])
    })
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThanOrEqual(stamps[i - 1])
    expect(stamps[stamps.length - 1]).toBeGreaterThan(0)
  })
  it('timers run in order once due, never while time stands still', () => {
    const m = boot({ ram: '64M' })
    const order: number[] = []
    const now = m.clock.now()
    m.clock.add_timer(now + 20, () => order.push(2))
    m.clock.add_timer(now + 10, () => order.push(1))
    m.clock.run_timers()
    expect(order).toEqual([])
    m.clock.sleep_until(now + 30)
    expect(order).toEqual([1, 2])
  })
})
