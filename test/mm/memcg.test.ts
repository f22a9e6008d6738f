/**
 * Memory cgroups, LRU reclaim and the page cache's xarray nodes, through the
 * library API: limits reclaim page cache and swap, memory.stat, errno.
 */
import { describe, expect, it } from 'vitest'
import { boot } from '../helpers.js'
import { O_CREAT, O_RDWR, POSIX_FADV_DONTNEED } from '../../src/index.js'
import { XaNodes, type XaNode } from '../../src/mm/xarray.js'
import { RCU_GP_NS } from '../../src/kernel/rcu.js'

const MB = 1024 * 1024

/** A file of `pages` pages written by p (then dropped from the cache), and its fd. */
function make_file(p: ReturnType<ReturnType<typeof boot>['spawn']>, path: string, pages: number): number {
  const fd = p.open(path, O_RDWR | O_CREAT, 0o600)
  p.pwrite(fd, new Uint8Array(pages * 4096).fill(7), 0)
  expect(p.sys_fsync(fd)).toBe(0)
  p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
  return fd
}

describe('memory cgroups', () => {
  it('a limit makes reads reclaim the group\'s page cache; memory.stat and the files agree', () => {
    const m = boot({ ram: '256M' })
    const g = m.cgroup_create('small', { limit: '512K' })
    const p = m.spawn()
    const fd = make_file(p, '/var/tmp/f', 1024)
    g.attach(p)
    for (let i = 0; i < 1024; i++) p.pread(fd, 4096, i * 4096)
    const st = g.stat()
    expect(st.cache / 4096).toBeLessThanOrEqual(128)
    expect(st.pgpgin).toBe(1024)
    expect(st.pgpgout).toBe(1024 - st.cache / 4096)
    expect(g.usage()).toBeLessThanOrEqual(512 * 1024)
    expect(m.proc('/sys/fs/cgroup/memory/small/memory.limit_in_bytes')).toBe(`${512 * 1024}\n`)
    expect(m.proc('/sys/fs/cgroup/memory/small/cgroup.procs')).toBe(`${p.pid}\n`)
    expect(m.proc('/sys/fs/cgroup/memory/small/memory.stat')).toMatch(/^cache \d+\nrss 0\n/)
    // Every page read once: a scan-resistant LRU keeps none of them active.
    expect(st.active_file).toBe(0)
    expect(/pgsteal_file (\d+)/.exec(m.proc('/proc/vmstat'))![1]).toBe(String(1024 - st.cache / 4096))
  })

  it('pages read twice are activated and survive a scan', () => {
    const m = boot({ ram: '256M' })
    const g = m.cgroup_create('hot', { limit: '512K' })
    const p = m.spawn()
    const fd = make_file(p, '/var/tmp/f', 512)
    g.attach(p)
    for (let pass = 0; pass < 2; pass++) for (let i = 0; i < 16; i++) p.pread(fd, 4096, i * 4096)
    for (let i = 16; i < 512; i++) p.pread(fd, 4096, i * 4096)
    const mapping = p.file_of(fd)!.f_mapping
    for (let i = 0; i < 16; i++) expect(mapping.i_pages.has(i)).toBe(true)
    expect(mapping.i_shadows.size).toBeGreaterThan(300)
  })

  it('anonymous memory over the limit goes to swap and comes back intact', () => {
    const m = boot({ ram: '256M', swap: '64M' })
    const g = m.cgroup_create('anon', { limit: '1M', swappiness: 100 })
    const p = m.spawn()
    g.attach(p)
    const a = p.mmap(0, 4 * MB, 3, 0x22)
    for (let i = 0; i < 1024; i++) p.store(a + i * 4096, [i & 0xff, i >> 8])
    expect(g.stat().swap).toBeGreaterThan(0)
    expect(g.usage()).toBeLessThanOrEqual(MB)
    for (let i = 0; i < 1024; i += 7) expect([...p.load(a + i * 4096, 2)]).toEqual([i & 0xff, i >> 8])
  })

  it('a charge that reclaim cannot fit kills a task of the group (memcg OOM), and the group goes on', () => {
    const m = boot({ ram: '128M' })
    const g = m.cgroup_create('box', { limit: '1M' })
    const p = m.spawn()
    g.attach(p)
    const a = p.mmap(0, 4 * MB, 3, 0x22)
    expect(() => {
      for (let i = 0; i < 1024; i++) p.store(a + i * 4096, [1])
    }).toThrow(/SIGKILL/)
    const log = m.dmesg()
    expect(log).toMatch(/oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=\(null\),cpuset=\/,mems_allowed=0,oom_memcg=\/box,task_memcg=\/box,task=app,pid=\d+,uid=0/)
    expect(log).toMatch(new RegExp(`Memory cgroup out of memory: Killed process ${p.pid} \\(app\\)`))
    expect(log).toMatch(/memory: usage 1024kB, limit 1024kB, failcnt \d+/)
    const q = m.spawn()
    g.attach(q)
    const b = q.mmap(0, 10 * 4096, 3, 0x22)
    for (let i = 0; i < 10; i++) q.store(b + i * 4096, [2])
    expect(g.stat().rss).toBe(10 * 4096)
  })

  it('xarray nodes freed by fadvise DONTNEED stay charged for an RCU grace period; their pages go to the charge stock', () => {
    const m = boot({ ram: '256M' })
    const g = m.cgroup_create('k', { limit: '8M' })
    const p = m.spawn()
    const fd = make_file(p, '/var/tmp/k', 512)
    g.attach(p)
    const kmem = (): number => Number(m.proc('/sys/fs/cgroup/memory/k/memory.kmem.usage_in_bytes')) / 4096
    const usage = (): number => g.usage() / 4096
    for (let i = 0; i < 512; i++) p.pread(fd, 4096, i * 4096)
    // 8 leaves of 64 slots and their root: 9 nodes of 592 bytes, 2 pages.
    expect(kmem()).toBe(2)
    const u = usage()
    p.fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    // The 512 pages are uncharged at once; the 9 unlinked nodes wait for their grace period.
    expect(kmem()).toBe(2)
    expect(usage()).toBe(u - 512)
    m.clock.advance(RCU_GP_NS)
    p.lseek(fd, 0, 0) // a system call: its return to user mode runs the due timers
    // Freed on the CPU that queued them, one by one into its object stock: once it holds more
    // than a page, the whole pages go to the charge stock (refill_stock), so kmem drops and usage
    // does not. The stock ends with exactly one page, which it keeps (more than a page is given back).
    expect(kmem()).toBe(1)
    expect(usage()).toBe(u - 512)
  })

  it('refuses what cgroup v1 refuses', () => {
    const m = boot({ ram: '128M' })
    m.cgroup_create('a')
    expect(() => m.cgroup_create('a')).toThrow(/EEXIST/)
    expect(() => m.cgroup_create('a/b')).toThrow(/EINVAL/)
    const g = m.cgroup_create('b')
    expect(() => g.set_swappiness(201)).toThrow(/EINVAL/)
    // Unreclaimable memory (anonymous, no swap) above a new limit: EBUSY, the old limit stays.
    const p = m.spawn()
    g.attach(p)
    const a = p.mmap(0, MB, 3, 0x22)
    for (let i = 0; i < 256; i++) p.store(a + i * 4096, [1])
    expect(() => g.set_limit(64 * 4096)).toThrow(/EBUSY/)
    expect(m.proc('/sys/fs/cgroup/memory/b/memory.limit_in_bytes')).not.toBe(`${64 * 4096}\n`)
  })
})

describe('memcg reclaim that frees nothing in its first priority loop', () => {
  it('runs the loop again (a full walk of the group tree) before it deactivates by force: the pages it marked referenced go, the active list stays', () => {
    const m = boot({ ram: '256M', swap: '64M' })
    const g = m.cgroup_create('twice', { limit: 24 * 4096, swappiness: 60 })
    const p = m.spawn()
    g.attach(p)
    const a = p.mmap(0, 64 * 4096, 3, 0x22)
    const events: Array<{ name: string; text: string }> = []
    m.trace.on((e) => {
      if (/memcg_reclaim|lru_shrink/.test(e.name)) events.push({ name: e.name, text: e.text })
    })
    // Each access after a TLB flush, as the reclaim oracle's sync points do, so it sets the Accessed bit.
    const touch = (i: number, write: boolean): void => {
      m.mm_env.flush_tlb_mm(p.mm)
      if (write) p.store(a + i * 4096, [1])
      else p.load(a + i * 4096, 1)
    }
    for (let i = 0; i < 24; i++) touch(i, true)
    const present = (): number[] => [...Array(64).keys()].filter((i) => (p.mm.pgd.get(a / 4096 + i) & 1) !== 0)
    // Those the first reclaim kept (PG_referenced) are used again: the next scan activates them.
    const kept = present()
    for (const i of kept) touch(i, false)
    events.length = 0
    let i = 24
    while (!events.length) touch(i++, true)
    const names = events.map((e) => e.name)
    expect(names.filter((n) => n === 'mm_vmscan_memcg_reclaim_begin')).toHaveLength(1)
    // No forced deactivation: the full-walk retry freed the folios the first loop only marked.
    expect(names).not.toContain('mm_vmscan_lru_shrink_active')
    const scans = events.filter((e) => e.name === 'mm_vmscan_lru_shrink_inactive').map((e) => ({
      reclaimed: Number(/nr_reclaimed=(\d+)/.exec(e.text)![1]),
      activated: Number(/nr_activate_anon=(\d+)/.exec(e.text)![1]),
      priority: Number(/priority=(\d+)/.exec(e.text)![1]),
    }))
    const first_gain = scans.findIndex((s) => s.reclaimed > 0)
    expect(first_gain).toBeGreaterThan(0)
    // Everything before the first gain is the first loop, down to priority 0, and it freed nothing.
    expect(scans[first_gain - 1].priority).toBe(0)
    const activated = scans.slice(0, first_gain).reduce((n, s) => n + s.activated, 0)
    expect(activated).toBe(kept.length - 1)
    const freed = Number(/nr_reclaimed=(\d+)/.exec(events.at(-1)!.text)![1])
    expect(freed).toBe(scans.reduce((n, s) => n + s.reclaimed, 0))
    expect(freed).toBeGreaterThan(0)
    expect(g.stat().active_anon / 4096).toBe(activated)
  })
})

describe('the page cache\'s xarray nodes', () => {
  const alloc = () => {
    let live = 0
    return {
      a: {
        alloc: (): XaNode => {
          live++
          return { count: 0, obj: 1, memcg: 1 }
        },
        free: () => {
          live--
        },
      },
      live: () => live,
    }
  }
  it('needs no node for index 0 alone, one for a small file, a root and leaves for a large one', () => {
    const { a, live } = alloc()
    const x = new XaNodes()
    const present = new Set<number>()
    const add = (i: number): void => {
      expect(x.store(i, a)).toBe(true)
      present.add(i)
    }
    add(0)
    expect(live()).toBe(0)
    add(1)
    expect(live()).toBe(1)
    for (let i = 2; i < 512; i++) add(i)
    expect(live()).toBe(9) // 8 leaves of 64 slots and their root
    for (let i = 511; i >= 1; i--) {
      present.delete(i)
      x.erase(i, a, (k) => present.has(k))
    }
    expect(live()).toBe(0) // index 0 alone is back in the head
    present.delete(0)
    x.erase(0, a, (k) => present.has(k))
    expect(x.height).toBe(0)
  })
  it('grows a level for a far index and shrinks when only slot 0 is left', () => {
    const { a, live } = alloc()
    const x = new XaNodes()
    const present = new Set([100])
    expect(x.store(100, a)).toBe(true)
    expect(live()).toBe(2)
    expect(x.store(5000, a)).toBe(true)
    present.add(5000)
    expect(live()).toBe(5) // a third level: a new root, and a middle node and leaf for 5000
    present.delete(5000)
    x.erase(5000, a, (k) => present.has(k))
    expect(live()).toBe(2)
  })
})

describe('MADV_DONTNEED frees emptied page tables (CONFIG_PT_RECLAIM), as recorded on 6.18.44', () => {
  it('a 2 MiB file mapping is PMD-aligned; dropping all of it frees its PTE table', () => {
    const m = boot({ ram: '128M' })
    const p = m.spawn()
    const fd = make_file(p, '/var/tmp/big', 512)
    const map = p.mmap(0, 2 * MB, 3, 0x01, fd, 0)
    expect(map % (2 * MB)).toBe(0)
    const vmpte = (): number => Number(/VmPTE:\s+(\d+) kB/.exec(m.proc(`/proc/${p.pid}/status`))![1])
    const start = vmpte()
    p.load(map, 1)
    expect(vmpte()).toBe(start + 4)
    p.madvise(map, 2 * MB, 4) // MADV_DONTNEED
    expect(vmpte()).toBe(start)
    p.load(map + 100 * 4096, 1)
    expect(vmpte()).toBe(start + 4)
  })
})
