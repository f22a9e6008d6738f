/**
 * `node dist/bench/addrspace.js`: the address-space numbers of issue 3, side
 * by side with the real kernel measured in the same run (bench/fault_bench.c,
 * compiled with the system compiler):
 *  - anonymous write faults per second (THP off on the real side);
 *  - mmap+munmap pairs per second (two pages, no hint);
 *  - TLB-hit user loads per second (mmsim only: the real CPU does this in hardware).
 * Prints a table, or one JSON object with --json. --soft uses the software
 * page-table store instead of page tables in frames.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Machine } from '../src/machine.js'
import { type AddressSpace, type AnonVma, type MmEnv, default_sysctl } from '../src/mm/mm_types.js'
import { FramePageTables } from '../src/mm/pgtable_mm.js'
import { SoftPageTables } from '../src/mm/pgtable_soft.js'
import { GFP_KERNEL, __GFP_ZERO } from '../src/mm/gfp.js'
import { mm_alloc } from '../src/kernel/fork.js'
import { mmput } from '../src/kernel/exit.js'
import { vm_mmap_pgoff, do_munmap } from '../src/mm/mmap.js'
import { access_user } from '../src/mm/uaccess.js'
import { attach_mmu } from '../src/mm/tlbflush.js'
import { MmuSet } from '../src/hw/mmu.js'
import { PG_reserved } from '../src/mm/page.js'

const json = process.argv.includes('--json')
const PAGES = 16384

function real_kernel(): { faults_per_s: number; mmap_munmap_pairs_per_s: number } | null {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-bench-'))
  try {
    const src = fileURLToPath(new URL('../../bench/fault_bench.c', import.meta.url))
    const exe = join(dir, 'fault_bench')
    execFileSync('cc', ['-O2', '-o', exe, src])
    return JSON.parse(execFileSync(exe, [String(PAGES), '5'], { encoding: 'utf8' })) as {
      faults_per_s: number
      mmap_munmap_pairs_per_s: number
    }
  } catch {
    return null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function env_of(m: Machine): MmEnv {
  const zero = m.page_alloc.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0)
  m.pages.set(zero, PG_reserved)
  let id = 0
  return {
    arch: m.arch,
    pages: m.pages,
    physmem: m.physmem,
    vmstat: m.vmstat,
    trace: null,
    alloc_pages: (g, o) => m.page_alloc.alloc_pages(g, o),
    __free_pages: (pfn, o) => {
      m.pages._refcount[pfn] = 1
      m.page_alloc.__free_pages(pfn, o)
    },
    pgd_alloc: () => (process.argv.includes('--soft') ? new SoftPageTables() : FramePageTables.create(m.pgtables)),
    zero_pfn: zero,
    sysctl: default_sysctl(),
    totalram_pages: () => m.page_alloc.totalram_pages(),
    available_pages: () => m.page_alloc.nr_free_pages(),
    vm_committed_as: 0,
    next_id: () => ++id,
    anon_vmas: new Map<number, AnonVma>(),
    mappings: new Map<number, AddressSpace>(),
  }
}

const m = new Machine({ arch: 'x86_64', ram: '1G', seed: 1, debug_vm: false })
const env = env_of(m)
const mmus = attach_mmu(env, new MmuSet(1, 64))
const mm = mm_alloc(env, m.arch.TASK_SIZE)
if (!mm) throw new Error('mm_alloc')
mm.mmap_base = 0x7f0000000000
const ANON = 0x22
let best_faults = 0
for (let r = 0; r < 5; r++) {
  const a = vm_mmap_pgoff(mm, null, 0, PAGES * 4096, 3, ANON, 0)
  const t0 = performance.now()
  for (let i = 0; i < PAGES; i++) access_user(mm, a + i * 4096, 1, true, 1)
  const dt = (performance.now() - t0) / 1000
  do_munmap(mm, a, PAGES * 4096)
  best_faults = Math.max(best_faults, PAGES / dt)
}
const N = 20000
let best_pairs = 0
for (let r = 0; r < 5; r++) {
  const t0 = performance.now()
  for (let i = 0; i < N; i++) do_munmap(mm, vm_mmap_pgoff(mm, null, 0, 8192, 3, ANON, 0), 8192)
  best_pairs = Math.max(best_pairs, N / ((performance.now() - t0) / 1000))
}
const a = vm_mmap_pgoff(mm, null, 0, 16 * 4096, 3, ANON, 0)
access_user(mm, a, 16 * 4096, true, 1)
const h0 = mmus.stats().hits
const L = 400000
const t0 = performance.now()
for (let i = 0; i < L; i++) access_user(mm, a + (i % 16) * 4096, 8, false)
const loads = L / ((performance.now() - t0) / 1000)
const hit_ratio = (mmus.stats().hits - h0) / L
mmput(mm)

const real = real_kernel()
const metrics: Record<string, number> = {
  mmsim_anon_faults_per_s: Math.round(best_faults),
  real_anon_faults_per_s: real ? Math.round(real.faults_per_s) : -1,
  mmsim_mmap_munmap_per_s: Math.round(best_pairs),
  real_mmap_munmap_per_s: real ? Math.round(real.mmap_munmap_pairs_per_s) : -1,
  mmsim_tlb_hit_loads_per_s: Math.round(loads),
  mmsim_tlb_hit_ratio: Number(hit_ratio.toFixed(4)),
}
if (real) {
  metrics.faults_ratio_mmsim_over_real = Number((best_faults / real.faults_per_s).toFixed(3))
  metrics.mmap_ratio_mmsim_over_real = Number((best_pairs / real.mmap_munmap_pairs_per_s).toFixed(3))
}
if (json) process.stdout.write(JSON.stringify(metrics) + '\n')
else {
  const w = Math.max(...Object.keys(metrics).map((s) => s.length))
  for (const [k, v] of Object.entries(metrics)) console.log(k.padEnd(w) + '  ' + String(v))
}
