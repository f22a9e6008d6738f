/**
 * Golden tests of the /proc formatters against a real Linux 6.18 process
 * (../shared/reference/proc/pid-*.txt, `sleep 30`): the reference VMAs and
 * their counters are rebuilt as simulator objects, and the formatters must
 * print the reference files byte for byte.
 */
import { XaNodes } from '../../src/mm/xarray.js'
import { DiskBlocks } from '../../src/hw/block_store.js'
import { file_ra_state_init } from '../../src/mm/readahead.js'
import { describe, expect, it } from 'vitest'
import { MKDEV } from '../../src/fs/fs.js'
import { readFileSync } from 'node:fs'
import {
  proc_pid_maps, proc_pid_smaps, proc_pid_smaps_rollup, proc_pid_statm, proc_pid_status, task_mem,
  vm_flags_string, show_smap_counters, proc_pid_pagemap,
} from '../../src/fs/proc/task_mmu.js'
import { parse_smaps } from '../../src/user/pmap.js'
import { VmArea, MmStruct, type VmFile, type vm_flags_t } from '../../src/mm/mm_types.js'
import { X86_64 } from '../../src/arch/profile.js'
import { TaskStruct } from '../../src/kernel/task.js'
import type { MemSizeStats, MmEntry } from '../../src/kernel/mm_entry.js'

const REF = new URL('../fixtures/reference', import.meta.url).pathname
const ref = (f: string): string => readFileSync(`${REF}/${f}`, 'utf8')

const CODES = ['rd', 'wr', 'ex', 'sh', 'mr', 'mw', 'me', 'ms', 'gd', 'um', 'pf', 'gu', 'uw', 'lo', 'io', 'sr', 'rr',
  'dc', 'de', 'lf', 'ac', 'nr', 'ht', 'sf', 'ar', 'wf', 'dd', '', 'mm', 'hg', 'nh', 'mg']

function flags_of(codes: string): vm_flags_t {
  let f = 0
  for (const c of codes.split(' ').filter(Boolean)) {
    const bit = c === 'sl' ? 42 : c === 'dp' ? 40 : CODES.indexOf(c)
    if (bit < 0) throw new Error(`unknown code ${c}`)
    f += 2 ** bit
  }
  return f as vm_flags_t
}

const KB = 1024

function stats_of(fields: [string, number][]): MemSizeStats {
  const g = (n: string): number => (fields.find(([k]) => k === n)?.[1] ?? 0) * KB
  return {
    resident: g('Rss'), pss: g('Pss') * 4096, pss_dirty: g('Pss_Dirty') * 4096, pss_anon: 0, pss_file: 0, pss_shmem: 0,
    pss_locked: g('Locked') * 4096, shared_clean: g('Shared_Clean'), shared_dirty: g('Shared_Dirty'),
    private_clean: g('Private_Clean'), private_dirty: g('Private_Dirty'), referenced: g('Referenced'),
    anonymous: g('Anonymous'), ksm: g('KSM'), lazyfree: g('LazyFree'), anonymous_thp: g('AnonHugePages'),
    shmem_thp: g('ShmemPmdMapped'), file_thp: g('FilePmdMapped'), swap: g('Swap'), swap_pss: g('SwapPss') * 4096,
    shared_hugetlb: g('Shared_Hugetlb'), private_hugetlb: g('Private_Hugetlb'),
  }
}

/** The reference `sleep` process rebuilt from pid-smaps.txt. */
function reference_process(): { k: MmEntry; task: TaskStruct; mm: MmStruct } {
  const entries = parse_smaps(ref('pid-smaps.txt')).filter((e) => !e.path.includes('vsyscall'))
  const files = new Map<string, VmFile>()
  const stats = new Map<VmArea, MemSizeStats>()
  const pgd = { nr_ptes: 11, get: () => 0, set: () => true, each: () => {}, free_pgtables: () => {}, destroy: () => {} }
  const mm = new MmStruct({} as never, 1, X86_64.TASK_SIZE, pgd as never)
  for (const e of entries) {
    const v = new VmArea(mm)
    v.vm_start = Number(e.start)
    v.vm_end = Number(e.end)
    v.vm_flags = flags_of(e.vmflags)
    if (e.path.startsWith('/')) {
      let f = files.get(e.path)
      if (!f) {
        const [maj, min] = e.dev.split(':').map((h) => parseInt(h, 16))
        const host = { i_ino: Number(e.inode), i_sb: { s_dev: MKDEV(maj, min) } }
        const f_mapping = { id: Number(e.inode), i_pages: new Map(), i_shadows: new Map(), i_swap: new Map(), xa: new XaNodes(), i_mmap: new Set<VmArea>(), i_size: 0, backing: 'disk' as const, host, ra_folios: new Map(), disk_blocks: new DiskBlocks(), dirty_tag: new Set<number>(), dirtied_when: 0, writeback_index: 0, i_state: 0, itable_dirty: false }
        f = { f_mode: 1, f_mapping, name: e.path, anon_shared: false, f_count: 1, f_ra: file_ra_state_init(f_mapping) }
        files.set(e.path, f)
      }
      v.vm_file = f
      v.vm_pgoff = parseInt(e.offset, 16) / 4096
    } else if (e.path === '[vvar]' || e.path === '[vvar_vclock]' || e.path === '[vdso]') {
      v.special_name = e.path
    }
    mm.mm_mt.insert(v)
    stats.set(v, stats_of(e.fields))
  }
  mm.start_brk = 0x557fa9726000
  mm.brk = 0x557fa9747000
  mm.start_stack = 0x7ffd64510f80
  mm.start_code = 0x557f79a09000
  mm.end_code = 0x557f79a0e000 - 0x7b // the end of .text is not page aligned
  mm.total_vm = 2920 / 4
  mm.hiwater_vm = 2920 / 4
  mm.exec_vm = (20 + 1368 + 8 + 152) / 4
  mm.data_vm = 224 / 4
  mm.stack_vm = 132 / 4
  mm.rss_stat[0] = 1636 / 4
  mm.rss_stat[1] = 112 / 4
  const k = {
    arch: X86_64,
    smaps_walk: (_mm: MmStruct, vma: VmArea) => stats.get(vma) as MemSizeStats,
  } as unknown as MmEntry
  const task = new TaskStruct(6192, 'sleep', mm, 0)
  return { k, task, mm }
}

describe('/proc/<pid>/maps, smaps (Linux 6.18 format)', () => {
  it('maps matches the reference byte for byte', () => {
    const { k, task } = reference_process()
    expect(proc_pid_maps(k, task)).toBe(ref('pid-maps.txt'))
  })
  it('smaps matches the reference byte for byte', () => {
    const { k, task } = reference_process()
    expect(proc_pid_smaps(k, task)).toBe(ref('pid-smaps.txt'))
  })
  it('status memory lines match the reference', () => {
    const { mm } = reference_process()
    const want = ref('pid-status.txt').split('\n').filter((l) => /^(Vm|Rss|HugetlbPages)/.test(l)).join('\n') + '\n'
    expect(task_mem(mm)).toBe(want)
  })
  it('status has the reference layout', () => {
    const { task } = reference_process()
    const got = proc_pid_status(task).split('\n').map((l) => l.split(':')[0])
    const want = ref('pid-status.txt').split('\n').map((l) => l.split(':')[0])
    expect(got).toEqual(want)
  })
  it('statm: size resident shared text lib data dt in pages', () => {
    const { task } = reference_process()
    expect(proc_pid_statm(task)).toBe(`${2920 / 4} ${1748 / 4} ${1636 / 4} 5 0 ${(224 + 132) / 4} 0\n`)
  })
  it('smaps_rollup sums the VMAs, with Pss_Anon/File/Shmem and the [rollup] header', () => {
    const { k, task } = reference_process()
    const out = proc_pid_smaps_rollup(k, task)
    const lines = out.split('\n')
    expect(lines[0]).toBe('557f79a07000-7ffd64512000 ---p 00000000 00:00 0                          [rollup]')
    expect(lines[1]).toBe('Rss:                1748 kB')
    expect(lines[2]).toBe('Pss:                 309 kB')
    expect(lines[4]).toMatch(/^Pss_Anon: +0 kB$/)
    expect(out).not.toContain('VmFlags')
  })
  it('VmFlags prints codes by bit order with a trailing space; unknown bits print ??', () => {
    expect(vm_flags_string(0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x100000)).toBe('rd wr mr mw me ac ')
    expect(vm_flags_string(0x1 | 0x10 | 0x20 | 0x40 | 0x800)).toBe('rd mr mw me gu ')
    expect(vm_flags_string((0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x100000) + 2 ** 42)).toBe('rd wr mr mw me ac sl ')
    expect(vm_flags_string(2 ** 32)).toBe('')
    expect(vm_flags_string(2 ** 45)).toBe('?? ')
  })
  it('every counter line is 24 columns before " kB"', () => {
    const z = show_smap_counters(stats_of([]), true)
    for (const l of z.trimEnd().split('\n')) expect(l.length).toBe(27)
  })
  it('pagemap: present, exclusive and PFN bits, PFN hidden without CAP_SYS_ADMIN', () => {
    const { k, task, mm } = reference_process()
    const base = mm.mm_mt.to_array()[5].vm_start // [heap], anonymous
    const pfn = 0x1234
    ;(mm as unknown as { env: unknown }).env = { zero_pfn: 1, pages: { nr: 0x10000, page_mapcount: () => 1, mapping: new Int32Array(0x10000).fill(-1) } }
    const kk = { ...k, pte_of: (_m: MmStruct, a: number) => (a === base ? pfn * 4096 + 0x67 : 0) } as MmEntry
    const off = (base / 4096) * 8
    const pm = proc_pid_pagemap(kk, task, off, 16, true)
    const dv = new DataView(pm.buffer)
    expect(dv.getUint32(0, true)).toBe(pfn)
    expect(dv.getUint32(4, true)).toBe((2 ** 31 + 2 ** 24) >>> 0) // present (63) + exclusive (56)
    expect(dv.getUint32(8, true)).toBe(0)
    expect(dv.getUint32(12, true)).toBe(0)
    const hidden = new DataView(proc_pid_pagemap(kk, task, off, 8, false).buffer)
    expect(hidden.getUint32(0, true)).toBe(0)
  })
})
