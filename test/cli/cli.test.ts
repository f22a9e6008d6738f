/**
 * The `mmsim` command: most cases through its entry point in this process
 * (test/cli/helpers.ts), and end to end, as a user runs the built command,
 * one success and one usage error.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { mmsim as run, mmsim_spawned } from './helpers.js'

describe('mmsim command', () => {
  it('demo walks through the steps the README promises and ends with the checker verdict', async () => {
    const r = await run('demo')
    expect(r.status).toBe(0)
    for (const step of [
      '1. Boot', '2. /proc/buddyinfo', '3. alloc_pages(GFP_KERNEL, 3)', '4. __free_pages', '5. GFP_DMA', '6. Order-0',
      '7. kmalloc(100, GFP_KERNEL)', '8. /proc/meminfo', '9. A process', '10. mmap(NULL', '11. Demand paging', '12. fork()',
      '13. What a process costs',
    ]) {
      expect(r.stdout).toContain(step)
    }
    // the page-table walk shows every level of the x86_64 tables and the PTE found
    expect(r.stdout).toMatch(/pgd \d+, pud \d+, pmd \d+, pte \d+, offset 0x000/)
    expect(r.stdout).toMatch(/pte\[\d+\] in pfn 0x[0-9a-f]+: 0x[0-9a-f]{16} \(P RW US A D NX pfn=0x[0-9a-f]+\)/)
    expect(r.stdout).toMatch(/Parent still reads 0x42, child reads 0x43/)
    expect(r.stdout).toMatch(/100 more loads from that page: 100 TLB hits, 0 misses/)
    expect(r.stdout).toContain('Identical to step 2')
    expect(r.stdout).toMatch(/verified every frame, free list and counter: OK/)
  })

  it('proc prints a /proc file in the kernel format (end to end: the built command in a new process)', () => {
    const r = mmsim_spawned(['proc', '/proc/buddyinfo', '--ram', '1G'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Node 0, zone {6}DMA( +\d+){11} \n/)
  })

  it('bad arguments get one line and exit 2', async () => {
    for (const args of [['frobnicate'], ['demo', '--ram', 'huge'], ['demo', '--arch', 'arm'], ['demo', '--bogus'], ['demo', '--cpus', 'x']]) {
      const r = await run(...args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^mmsim: /)
    }
    // A value that begins with '-' is the option's value, and its check says what is wrong with it.
    expect((await run('demo', '--ram', '-1G')).stderr).toBe("mmsim: ram: '-1G' is not a size like 64M, 1G or a byte count\n")
    expect((await run('demo', '--seed', '-1')).stderr).toBe("mmsim: --seed: '-1' is not a non-negative integer\n")
    // End to end: the process's exit status and its stderr.
    const r = mmsim_spawned(['demo', '--bogus'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^mmsim: [^\n]*\n$/)
  })

  it('an unknown /proc file is exit 2 with one line listing the files there are', async () => {
    const r = await run('proc', '/proc/nope')
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^mmsim: proc: no file \/proc\/nope \(there are \/proc\/buddyinfo, .*\/proc\/meminfo/)
  })

  it('a machine larger than the host can hold is refused in one line, before anything is allocated', async () => {
    const r = await run('proc', '/proc/meminfo', '--ram', '64T')
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^mmsim: ram: 64T needs 656\.0 GiB of host memory for its struct pages, this host has [\d.]+ GiB \(the largest it can boot is about \d+[GT]\)\n$/)
  })

  it('/proc/self is the reading process, as with cat on Linux', async () => {
    const r = await run('proc', '/proc/self/status')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Name:\tcat\n/)
  })
})

describe('--seed and address-space randomisation', () => {
  it('the same seed gives byte-identical output, another seed another layout, --norandmaps the fixed one', async () => {
    const maps = async (...a: string[]): Promise<string> => {
      const r = await run('proc', '/proc/self/maps', '--ram', '64M', ...a)
      expect(r.status).toBe(0)
      return r.stdout
    }
    const a = await maps('--seed', '3')
    expect(await maps('--seed', '3')).toBe(a)
    expect(await maps('--seed', '4')).not.toBe(a)
    const fixed = await maps('--seed', '3', '--norandmaps')
    expect(fixed).toMatch(/^555555554000-555555556000 r--p /)
    expect(await maps('--seed', '4', '--norandmaps')).toBe(fixed)
  })

  it('run: randomize_va_space in the scenario, and --norandmaps / --seed on the command line override it', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-aslr-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = (aslr: string): string => {
      const f = join(dir, `s${aslr}.yaml`)
      writeFileSync(f, `machine: { ram: 64M${aslr} }\nsteps:\n  - spawn: app\n  - cat: /proc/self/maps\n`)
      return f
    }
    const fixed = await run('run', file(', randomize_va_space: 0'))
    expect(fixed.status).toBe(0)
    expect(fixed.stdout).toMatch(/^555555554000-555555556000 r--p /m)
    const randomised = await run('run', file(''))
    expect(randomised.stdout).not.toBe(fixed.stdout)
    expect((await run('run', file(''), '--norandmaps')).stdout).toBe(fixed.stdout)
    expect((await run('run', file(''), '--seed', '9')).stdout).not.toBe(randomised.stdout)
    expect((await run('run', file(''))).stdout).toBe(randomised.stdout)
  })
})

describe('addresses a user sees', () => {
  it('are the kernel\'s hex in the demo, run (text and --json) and why, never negative numbers', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-addr-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const f = join(dir, 'k.yaml')
    writeFileSync(f, 'steps:\n  - kmalloc: { size: 100, as: obj }\n  - vmalloc: { size: 8K, as: v }\n  - kfree: $obj\n  - vfree: $v\n')
    const negative = /(^|[^0-9a-zA-Z_])-(0x)?[0-9a-f]{6,}\b|0x-/m
    for (const args of [['demo'], ['run', f], ['run', f, '--json'], ['why', '0xffff888000100000']]) {
      const r = await run(...args)
      expect(r.status, args.join(' ')).toBe(0)
      expect(r.stdout, args.join(' ')).toMatch(/0xffff(888|c90)/)
      expect(r.stdout.match(negative), args.join(' ')).toBeNull()
    }
  })
})
