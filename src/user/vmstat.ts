/**
 * vmstat(8) as procps-ng prints its first report, from the texts of the
 * files procps reads (/proc/stat, /proc/meminfo, /proc/vmstat):
 *
 *   procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----
 *    r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st
 *    2  0      0 23783104  14808 743064    0    0  1134   280  151  289  7  5 88  0  0
 *
 * r and b are procs_running and procs_blocked; swpd SwapTotal - SwapFree,
 * free MemFree, buff Buffers, cache Cached + SReclaimable (kB). The rest
 * are averages since boot, computed as procps does: Div is the sum over
 * every CPU of the user+nice, system+irq+softirq, idle, iowait and steal
 * ticks (1 when that sum is 0, and then idle counts 1); si/so are pswpin
 * and pswpout in kB, bi/bo pgpgin and pgpgout, in/cs the intr total and
 * ctxt, each times USER_HZ / Div rounded to nearest; us/sy/id/wa/st are
 * the shares of Div in percent, rounded to nearest.
 */

const HEADER = [
  'procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----',
  ' r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st',
]

/** The field widths of procps' format "%2lu %2lu %6lu %6lu %6lu %6lu %4u %4u %5u %5u %4u %4u %2u %2u %2u %2u %2u". */
const WIDTHS = [2, 2, 6, 6, 6, 6, 4, 4, 5, 5, 4, 4, 2, 2, 2, 2, 2]

function fields(text: string, re: RegExp): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const line of text.split('\n')) {
    const m = re.exec(line)
    if (m) out.set(m[1], m[2].trim().split(/\s+/).map(Number))
  }
  return out
}

export interface VmstatInput {
  stat: string
  meminfo: string
  vmstat: string
  /** The page size in kB (kb_per_page). */
  page_kb: number
  /** USER_HZ (procps_hertz_get()). */
  hz: number
}

/** vmstat's output (header and the since-boot line, with its trailing newline). */
export function vmstat(i: VmstatInput): string {
  const st = fields(i.stat, /^(\S+)\s+(.*)$/)
  const mi = fields(i.meminfo, /^([A-Za-z0-9_()]+):\s+(\d+)/)
  const vm = fields(i.vmstat, /^(\S+) (\d+)$/)
  const s1 = (k: string): number => st.get(k)?.[0] ?? 0
  const m = (k: string): number => mi.get(k)?.[0] ?? 0
  const v = (k: string): number => vm.get(k)?.[0] ?? 0
  const [user, nice, system, idle, iowait, irq, softirq, steal] = st.get('cpu') ?? []
  const cpu_use = (user ?? 0) + (nice ?? 0)
  const cpu_sys = (system ?? 0) + (irq ?? 0) + (softirq ?? 0)
  let cpu_idl = idle ?? 0
  const cpu_iow = iowait ?? 0
  const cpu_sto = steal ?? 0
  let div = cpu_use + cpu_sys + cpu_idl + cpu_iow + cpu_sto
  if (div === 0) {
    div = 1
    cpu_idl = 1
  }
  const divo2 = Math.floor(div / 2)
  const rate = (n: number): number => Math.floor((n * i.hz + divo2) / div)
  const pct = (n: number): number => Math.floor((100 * n + divo2) / div)
  const row = [
    s1('procs_running'), s1('procs_blocked'),
    m('SwapTotal') - m('SwapFree'), m('MemFree'), m('Buffers'), m('Cached') + m('SReclaimable'),
    rate(v('pswpin') * i.page_kb), rate(v('pswpout') * i.page_kb), rate(v('pgpgin')), rate(v('pgpgout')),
    rate(s1('intr')), rate(s1('ctxt')),
    pct(cpu_use), pct(cpu_sys), pct(cpu_idl), pct(cpu_iow), pct(cpu_sto),
  ]
  return `${HEADER.join('\n')}\n${row.map((n, k) => String(n).padStart(WIDTHS[k])).join(' ')}\n`
}
