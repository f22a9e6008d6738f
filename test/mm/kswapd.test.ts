/**
 * kswapd: woken below the low watermark, it reclaims until a zone is above
 * its high watermark, naps, and leaves a hopeless node to direct reclaim;
 * watermark boosts from fragmenting fallbacks are paid off by kswapd.
 */
import { describe, expect, it } from 'vitest'
import { MAP_ANONYMOUS, MAP_PRIVATE, O_CREAT, O_RDWR, PROT_READ, PROT_WRITE } from '../../src/index.js'
import type { Machine, Process } from '../../src/index.js'
import { Kswapd } from '../../src/mm/kswapd.js'
import { boot } from '../helpers.js'

const RW = PROT_READ | PROT_WRITE
const ANON = MAP_PRIVATE | MAP_ANONYMOUS
const MiB = 1 << 20

const vmstat = (m: Machine, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(m.proc('/proc/vmstat'))?.[1])

/** `mb` MiB of clean page cache: written to a file on the disk, then synced. */
function page_cache(p: Process, mb: number): void {
  const fd = p.open('/var/tmp/cache', O_RDWR | O_CREAT, 0o644)
  const buf = p.mmap(0, MiB, RW, ANON)
  p.store(buf, new Uint8Array(MiB).fill(0x42))
  for (let i = 0; i < mb; i++) p.write(fd, buf, MiB)
  p.sys_fsync(fd)
  p.close(fd)
  p.munmap(buf, MiB)
}

/** Touch `mb` MiB of fresh anonymous memory. */
function anon(p: Process, mb: number): number {
  const a = p.mmap(0, mb * MiB, RW, ANON)
  for (let o = 0; o < mb * MiB; o += 4096) p.store(a + o, [1])
  return a
}

const kswapd_of = (m: Machine): Kswapd => m.mm_env.kswapd as Kswapd

describe('kswapd', () => {
  /** 48 MiB machine: 24 MiB of clean page cache, then 20 MiB of anonymous memory (no swap). */
  function pressure(on_boot: (m: Machine) => void = () => {}): { m: Machine; p: Process; k: Kswapd } {
    const m = boot({ ram: '48M' })
    on_boot(m)
    const p = m.spawn({ name: 'w' })
    m.deferred_check(() => page_cache(p, 24))
    m.deferred_check(() => anon(p, 20))
    return { m, p, k: kswapd_of(m) }
  }

  it('below the low watermark it reclaims page cache beside the allocating task, naps, and sleeps once the node is balanced; fallbacks boost the watermarks and kswapd pays the boost off', () => {
    const boosts: number[] = []
    const wakes: string[] = []
    const { m, p, k } = pressure((m) => {
      m.trace.on((e) => {
        if (e.name !== 'mm_vmscan_wakeup_kswapd') return
        wakes.push(e.text)
        boosts.push(m.page_alloc.zones.reduce((n, z) => n + z.watermark_boost, 0))
      })
    })
    const stolen = vmstat(m, 'pgsteal_kswapd')
    expect(stolen).toBeGreaterThan(0)
    expect(vmstat(m, 'pgscan_kswapd')).toBeGreaterThanOrEqual(stolen)
    expect(vmstat(m, 'pageoutrun')).toBe(k.runs)
    // Woken again within its 100 ms nap: the low watermark was hit quickly.
    expect(vmstat(m, 'kswapd_low_wmark_hit_quickly')).toBeGreaterThan(0)
    // rmqueue() of a zone a fallback boosted wakes kswapd with order 0 and no gfp flags.
    const boosted = wakes.map((w, i) => (/gfp_flags=0x0 /.test(w) ? boosts[i] : 0)).filter((b) => b > 0)
    expect(boosted.length).toBeGreaterThan(0)
    expect(Math.min(...boosted)).toBeGreaterThanOrEqual(512)
    // The zones count their LRU pages (nr_zone_*), which should_reclaim_retry counts as reclaimable.
    const zi = m.proc('/proc/zoneinfo')
    const file = [...zi.matchAll(/nr_zone_inactive_file (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0)
    expect(file).toBe(vmstat(m, 'nr_inactive_file'))
    expect(m.page_alloc.zones.reduce((n, z) => n + m.page_alloc.zone_reclaimable_pages(z), 0)).toBe(vmstat(m, 'nr_inactive_file') + vmstat(m, 'nr_active_file'))
    // Idle time: the nap ends, the node is balanced (a zone above its high watermark), the boost
    // is paid off, kswapd sleeps and a second idle second does not run it.
    m.clock.sleep_until(m.clock.now() + 1_000_000_000)
    p.brk(0)
    const runs = k.runs
    expect(k.pgdat_balanced(0, m.page_alloc.zones.length - 1)).toBe(true)
    expect(m.page_alloc.zones.every((z) => z.watermark_boost === 0)).toBe(true)
    m.clock.sleep_until(m.clock.now() + 1_000_000_000)
    p.brk(0)
    expect(k.runs).toBe(runs)
    // The page cache it dropped was clean: the file reads back whole.
    const fd = p.open('/var/tmp/cache', O_RDWR)
    expect([...p.pread(fd, 8, 13 * MiB)]).toEqual(new Array(8).fill(0x42))
  })

  it('a hopeless node (16 runs in a row that freed nothing) is left to direct reclaim: a wakeup does not run kswapd', () => {
    const { m, p, k } = pressure()
    const z = m.page_alloc.zones.find((x) => x.name === 'DMA32')!
    const runs = k.runs
    k.kswapd_failures = 16
    k.wakeup(z, 0, 0, m.page_alloc.zones.length - 1)
    m.clock.advance(1000)
    p.brk(0)
    expect(k.runs).toBe(runs)
    k.kswapd_failures = 0
    // Asking for more than the node has free at high order: not balanced, so the wakeup runs kswapd.
    k.wakeup(z, 0, 10, m.page_alloc.zones.length - 1)
    m.clock.advance(1000)
    p.brk(0)
    expect(k.runs).toBe(runs + 1)
  })

})
