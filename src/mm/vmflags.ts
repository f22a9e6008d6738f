/**
 * The two-letter VmFlags mnemonics of /proc/<pid>/smaps, in bit order
 * (Kernel: fs/proc/task_mmu.c show_smap_vma_flags(), x86-64 6.18 without
 * soft-dirty and protection keys).
 */
import { flags_bit, type vm_flags_t } from '../include/wide.js'

const MNEMONICS: [number, string][] = [
  [0, 'rd'], [1, 'wr'], [2, 'ex'], [3, 'sh'], [4, 'mr'], [5, 'mw'], [6, 'me'], [7, 'ms'], [8, 'gd'],
  [9, 'um'], [10, 'pf'], [11, 'gu'], [12, 'uw'], [13, 'lo'], [14, 'io'], [15, 'sr'], [16, 'rr'], [17, 'dc'],
  [18, 'de'], [19, 'lf'], [20, 'ac'], [21, 'nr'], [22, 'ht'], [23, 'sf'], [24, 'ar'], [25, 'wf'], [26, 'dd'],
  [28, 'mm'], [29, 'hg'], [30, 'nh'], [31, 'mg'], [37, 'ss'], [40, 'dp'], [41, 'ui'], [42, 'sl'],
]

/** The VmFlags line's value for a vm_flags number ("rd wr mr mw me ac"). */
export function vm_flags_string(flags: vm_flags_t): string {
  const out: string[] = []
  for (const [bit, name] of MNEMONICS) if (flags_bit(flags, bit)) out.push(name)
  return out.join(' ')
}
