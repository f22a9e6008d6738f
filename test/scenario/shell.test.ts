/**
 * The shell (src/scenario/shell.ts) and `why`: a session of typed steps,
 * `back` undoing exactly one step (the replayed machine hands out the same
 * addresses again), one error line per bad line with the session going on,
 * and `why` naming what a frame or address is. End-to-end: `mmsim shell`
 * reading from a pipe, as the contract says.
 */
import { describe, expect, it } from 'vitest'
import { Shell, complete_line, parse_step } from '../../src/scenario/shell.js'
import { mmsim, mmsim_spawned } from '../cli/helpers.js'

function session(lines: string[], machine = {}): string[] {
  const sh = new Shell({ machine: { ram: '64M', ...machine } })
  return lines.map((l, i) => sh.line(l, i + 1))
}

describe('mmsim shell', () => {
  it('runs typed steps with positional and key=value arguments', () => {
    const out = session(['spawn a', 'mmap 8K rw- MAP_PRIVATE|MAP_ANONYMOUS as=buf', 'store $buf "hi there"', 'load $buf 8', 'kmalloc 128'])
    expect(out[0]).toBe('a: spawn("a") = 100')
    expect(out[1]).toMatch(/^a: mmap\(NULL, 8192, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x7f[0-9a-f]+$/)
    expect(out[2]).toMatch(/store\(0x7f[0-9a-f]+, "hi there"\) = 8$/)
    expect(out[3]).toMatch(/load\(0x7f[0-9a-f]+, 8\) = "hi there"$/)
    expect(out[4]).toMatch(/^kernel: kmalloc\(128, 0xcc0\(GFP_KERNEL\)\) = 0xffff8880[0-9a-f]{8}$/)
  })

  it('completes commands, then /proc paths one component at a time, as bash does', () => {
    expect(complete_line('kmal', [])).toEqual([['kmalloc'], 'kmal'])
    expect(complete_line('ex', [])[0]).toEqual(['exit', 'explain'])
    expect(complete_line('cat /proc/s', [])).toEqual([['/proc/self/', '/proc/slabinfo', '/proc/stat', '/proc/swaps', '/proc/sys/'], '/proc/s'])
    expect(complete_line('cat /proc/self/sm', [])[0]).toEqual(['/proc/self/smaps', '/proc/self/smaps_rollup'])
    expect(complete_line('cat /proc/1', [100, 101])[0]).toEqual(['/proc/100/', '/proc/101/'])
    expect(complete_line('explain o', [])[0]).toEqual(['on', 'off'])
    expect(complete_line('kmalloc 12', [])[0]).toEqual([])
    const sh = new Shell({ machine: { ram: '64M' } })
    sh.line('spawn a', 1)
    expect(sh.complete('cat /proc/10')[0]).toEqual(['/proc/100/'])
  })

  it('vmstat prints procps\' report of the machine', () => {
    // After a system call the process is current on its CPU: r is 1.
    const out = session(['spawn a', 'mmap 8K rw- MAP_PRIVATE|MAP_ANONYMOUS', 'vmstat'])
    const lines = out[2].split('\n')
    expect(lines[0]).toBe('$ vmstat')
    expect(lines[1]).toBe('procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----')
    expect(lines[3]).toMatch(/^ 1 {2}0 +0 +\d+ +0 +\d+ +0 +0 +\d+ +\d+ +0 +\d+ +\d+ +\d+ +\d+ +\d+ +0$/)
  })

  it('back undoes exactly the last step: the same kmalloc gets the same object again', () => {
    const sh = new Shell({ machine: { ram: '64M' } })
    sh.line('spawn a', 1)
    const first = sh.line('kmalloc 64 as=p', 2)
    const second = sh.line('kmalloc 64', 3)
    expect(second).not.toBe(first)
    expect(sh.line('back', 4)).toBe("back: undid 'kmalloc' (2 steps replayed)")
    expect(sh.line('kmalloc 64', 5)).toBe(second)
    expect(sh.line('back', 6)).toMatch(/^back: undid/)
    expect(sh.line('back', 7)).toMatch(/^back: undid/)
    expect(sh.line('kmalloc 64', 8)).toBe(first)
  })

  it('answers a bad line with one error line and goes on', () => {
    const out = session(['frob 1', 'mmap 8K rw-', 'munmap $nothing 4K', 'kmalloc 64 gfp=GFP_KERNAL', 'spawn a', 'munmap 0x1001 4K', 'cat /proc/nope'])
    expect(out[0]).toBe("error: unknown command 'frob' (did you mean free?); try help")
    expect(out[1]).toMatch(/^error: mmap: flags: /)
    expect(out[2]).toMatch(/^error: munmap: no process yet/)
    expect(out[3]).toMatch(/^error: kmalloc: gfp: unknown gfp name 'GFP_KERNAL' \(did you mean GFP_KERNEL/)
    expect(out[5]).toBe('a: munmap(0x1001, 4096) = -1 EINVAL (Invalid argument)')
    expect(out[6]).toBe("error: cat: no file /proc/nope in this machine's /proc")
    for (const o of out) expect(o.split('\n')).toHaveLength(1)
  })

  it('why says what a frame or an address is', () => {
    const out = session(['spawn a', 'mmap 4K rw- MAP_PRIVATE|MAP_ANONYMOUS as=m', 'why $m', 'store $m "x"', 'why $m', 'kmalloc 128 as=k', 'why $k', 'why pfn:0x5'])
    expect(out[2]).toContain('no page yet: the first access faults one in (demand paging)')
    expect(out[4]).toMatch(/pte\[\d+\] in pfn 0x[0-9a-f]+: 0x[0-9a-f]{16} \(P RW US A D NX pfn=0x[0-9a-f]+\)/)
    expect(out[4]).toMatch(/an anonymous page \(anon_vma \d+\)/)
    expect(out[4]).toMatch(/mapped by pid 100 \(a\) at 0x7f[0-9a-f]+ in an anonymous VMA/)
    expect(out[6]).toMatch(/inside object \d+ of a slab of cache kmalloc-128/)
    expect(out[7]).toMatch(/^pfn 0x5 \(physical 0x5000, zone DMA\): reserved at boot/)
  })

  it('parses a line with the scenario schemas', () => {
    expect(parse_step('mlock $a 4K flags=MLOCK_ONFAULT', 1).args).toEqual({ addr: '$a', len: '4K', flags: 'MLOCK_ONFAULT' })
    expect(parse_step('cat /proc/meminfo', 1).args).toBe('/proc/meminfo')
    expect(parse_step('alloc_pages 3', 1).args).toEqual({ order: 3 })
  })

  it('reads commands from a pipe and exits 0 at the end of input', () => {
    const r = mmsim_spawned(['shell', '--ram', '64M'], 'cat /proc/meminfo\nspawn a\nkmalloc 128\n')
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^\$ cat \/proc\/meminfo\nMemTotal: +\d+ kB\n/)
    expect(r.stdout).toMatch(/kernel: kmalloc\(128, 0xcc0\(GFP_KERNEL\)\) = 0xffff8880[0-9a-f]{8}\n$/)
  })

  it('mmsim why answers on a freshly booted machine, exit 2 for a bad argument', async () => {
    const r = await mmsim('why', 'pfn:0x1000')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^pfn 0x1000 .*reserved at boot \(the kernel image: \.text\)/)
    const bad = await mmsim('why', 'nope')
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  })
})
