/**
 * /proc/cpuinfo (Kernel: arch/x86/kernel/cpu/proc.c show_cpuinfo()): one
 * block per online CPU, in the kernel's field order and tab layout.
 *
 * The CPU is mmsim's own (model name says so): one package whose cores
 * are the machine's CPUs, no SMT. What the memory manager depends on
 * follows the machine: the address sizes are the profile's (46 bits
 * physical and 48 virtual on x86_64, 4-level paging so no la57; 32/32 on
 * i386; 36/32 with PAE); pae and nx only where the page tables have them;
 * lm, pdpe1gb (the direct map's 1 GiB pages, DirectMap1G) on x86_64;
 * pcid and invpcid when the machine's TLB uses PCIDs (MachineOptions.pcid,
 * x86_64 only, as Linux enables PCID in long mode only). pse, pge (global
 * kernel entries in the TLB) and pat are the PTE bits mmsim models. The
 * rest is the baseline every such CPU has. No caches are modelled, so there
 * is no "cache size" line (the kernel omits it when the size is 0); the
 * TSC runs at TSC_KHZ and bogomips is what calibrating the delay loop on
 * it gives (2 * MHz).
 */
import type { ProcView } from './internal.js'
// HZ for bogomips' loops_per_jiffy (lpj = tsc_khz * 1000 / HZ when calibrated on the TSC).
import { HZ } from '../../include/jiffies.js'

/** The simulated TSC's rate in kHz (cpu_khz): "cpu MHz". Simulated time itself is counted in ns (src/hw/clock.ts). */
export const TSC_KHZ = 2_000_000

/** The feature flags, in x86_cap_flags order (cpufeatures.h words 0, 1, 4, 7, 9). */
function cpu_flags(v: ProcView): string[] {
  const x86_64 = v.arch.bits === 64
  const pae = v.arch.name !== 'i386'
  const word0 = ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', ...(pae ? ['pae'] : []), 'mce', 'cx8', 'apic', 'sep', 'mtrr', 'pge', 'mca', 'cmov', 'pat', 'pse36', 'clflush', 'mmx', 'fxsr', 'sse', 'sse2']
  const word1 = [...(x86_64 ? ['syscall'] : []), ...(v.arch.has_nx ? ['nx'] : []), ...(x86_64 ? ['pdpe1gb', 'lm'] : [])]
  const pcid = x86_64 && v.pcid
  const word4 = ['pni', ...(x86_64 ? ['cx16'] : []), ...(pcid ? ['pcid'] : [])]
  const word9 = pcid ? ['invpcid'] : []
  return [...word0, ...word1, ...word4, ...word9]
}

export function cpuinfo_show(v: ProcView): string {
  const x86_64 = v.arch.bits === 64
  const phys_bits = Math.log2(v.arch.max_phys)
  const virt_bits = x86_64 ? 48 : 32
  const lpj = (TSC_KHZ * 1000) / HZ
  let out = ''
  for (let cpu = 0; cpu < v.cpus; cpu++) {
    out += `processor\t: ${cpu}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 0\n`
    out += `model name\t: mmsim simulated ${x86_64 ? 'x86-64' : 'i686'} CPU\nstepping\t: 0\n`
    out += `cpu MHz\t\t: ${Math.floor(TSC_KHZ / 1000)}.${String(TSC_KHZ % 1000).padStart(3, '0')}\n`
    out += `physical id\t: 0\nsiblings\t: ${v.cpus}\ncore id\t\t: ${cpu}\ncpu cores\t: ${v.cpus}\napicid\t\t: ${cpu}\ninitial apicid\t: ${cpu}\n`
    const cpuid_level = x86_64 ? 13 : 2
    if (x86_64) out += `fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: ${cpuid_level}\nwp\t\t: yes\n`
    else out += `fdiv_bug\t: no\nf00f_bug\t: no\ncoma_bug\t: no\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: ${cpuid_level}\nwp\t\t: yes\n`
    out += `flags\t\t: ${cpu_flags(v).join(' ')}\nbugs\t\t:\n`
    out += `bogomips\t: ${Math.floor(lpj / (500000 / HZ))}.${String(Math.floor(lpj / (5000 / HZ)) % 100).padStart(2, '0')}\n`
    out += `clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: ${phys_bits} bits physical, ${virt_bits} bits virtual\npower management:\n\n`
  }
  return out
}
