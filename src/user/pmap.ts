/**
 * pmap(1) as procps-ng prints it, from the text of /proc/<pid>/smaps (which
 * is what procps reads): `pmap PID`, `pmap -x PID`, `pmap -X PID` and
 * `pmap -XX PID`.
 *
 *  default  "%016lx %6luK %s %s" ("%08lx" on 32-bit): address, size, 5-char mode ("r-x--", the
 *           4th char 's' for shared), mapping ("  [ anon ]", "  [ stack ]"
 *           for the VMA holding start_stack, else the file's basename);
 *           footer " total %16luK".
 *  -x       "%016lx %7lu %7lu %7lu %s %s" with RSS and Dirty (Shared_Dirty +
 *           Private_Dirty); footer dashes and "total kB" line.
 *  -X/-XX   one column per smaps field (-X leaves out KernelPageSize,
 *           MMUPageSize, Shared/Private Clean/Dirty and VmFlags), each as
 *           wide as its header, widest value or total; a footer of '=' and
 *           the totals followed by "KB ".
 */

export interface SmapsEntry {
  readonly start: bigint
  readonly end: bigint
  readonly perms: string
  readonly offset: string
  readonly dev: string
  readonly inode: string
  /** The name column of the maps line ('' for unnamed anonymous memory). */
  readonly path: string
  /** Numeric fields in file order (kB values, THPeligible, ProtectionKey). */
  readonly fields: [string, number][]
  readonly vmflags: string
}

/** Parse /proc/<pid>/smaps text. */
export function parse_smaps(text: string): SmapsEntry[] {
  const out: SmapsEntry[] = []
  let cur: { start: bigint; end: bigint; perms: string; offset: string; dev: string; inode: string; path: string; fields: [string, number][]; vmflags: string } | null = null
  for (const line of text.split('\n')) {
    const h = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) ?\s*(.*)$/.exec(line)
    if (h) {
      cur = { start: BigInt('0x' + h[1]), end: BigInt('0x' + h[2]), perms: h[3], offset: h[4], dev: h[5], inode: h[6], path: h[7], fields: [], vmflags: '' }
      out.push(cur)
      continue
    }
    if (!cur) continue
    const f = /^([A-Za-z_]+):\s+(.*)$/.exec(line)
    if (!f) continue
    if (f[1] === 'VmFlags') cur.vmflags = f[2].trim()
    else cur.fields.push([f[1], parseInt(f[2], 10) || 0])
  }
  return out
}

function field(e: SmapsEntry, name: string): number {
  for (const [k, v] of e.fields) if (k === name) return v
  return 0
}

function kbytes(e: SmapsEntry): number {
  return Number((e.end - e.start) / 1024n)
}

function mode(perms: string): string {
  return perms.slice(0, 3) + (perms[3] === 's' ? 's' : '-') + '-'
}

/** procps's mapping_name(): basename of a path, else "  [ stack ]" / "  [ anon ]". */
function mapping_name(e: SmapsEntry, start_stack: bigint): string {
  if (e.path.includes('/')) {
    const cp = e.path.slice(e.path.lastIndexOf('/'))
    return cp.length > 1 ? cp.slice(1) : cp
  }
  if (start_stack >= e.start && start_stack <= e.end) return '  [ stack ]'
  return '  [ anon ]'
}

function hexw(v: bigint, w: number): string {
  return v.toString(16).padStart(w, '0')
}

export interface PmapInput {
  readonly pid: number
  /** The command line, arguments joined by spaces. */
  readonly cmdline: string
  /** mm->start_stack (procps reads it from /proc/<pid>/stat). */
  readonly start_stack: bigint
  /** The text of /proc/<pid>/smaps. */
  readonly smaps: string
  /** sizeof(long) * 8 of the machine pmap runs on: 32-bit pmap prints 8-digit addresses. */
  readonly bits?: 32 | 64
}

export type PmapMode = 'default' | 'x' | 'X' | 'XX'

/** pmap's output for one process. */
export function pmap(input: PmapInput, m: PmapMode = 'default'): string {
  const entries = parse_smaps(input.smaps)
  const w = input.bits === 32 ? 8 : 16
  let s = `${input.pid}:   ${input.cmdline}\n`
  if (m === 'default') {
    let total = 0
    for (const e of entries) {
      total += kbytes(e)
      s += `${hexw(e.start, w)} ${String(kbytes(e)).padStart(6)}K ${mode(e.perms)} ${mapping_name(e, input.start_stack)}\n`
    }
    return s + ` total ${String(total).padStart(w)}K\n`
  }
  if (m === 'x') {
    s += `${'Address'.padEnd(w)} ${'Kbytes'.padStart(7)} ${'RSS'.padStart(7)} ${'Dirty'.padStart(7)} ${'Mode'.padEnd(5)} Mapping\n`
    let tk = 0
    let tr = 0
    let td = 0
    for (const e of entries) {
      const k = kbytes(e)
      const rss = field(e, 'Rss')
      const dirty = field(e, 'Shared_Dirty') + field(e, 'Private_Dirty')
      tk += k
      tr += rss
      td += dirty
      s += `${hexw(e.start, w)} ${String(k).padStart(7)} ${String(rss).padStart(7)} ${String(dirty).padStart(7)} ${mode(e.perms)} ${mapping_name(e, input.start_stack)}\n`
    }
    s += `${'-'.repeat(w)} ------- ------- ------- \n`
    return s + `${'total kB'.padEnd(w)} ${String(tk).padStart(7)} ${String(tr).padStart(7)} ${String(td).padStart(7)}\n`
  }
  return pmap_X(s, entries, m === 'XX')
}

/** procps's is_unimportant(): the fields -X leaves out. */
const X_HIDDEN = new Set(['AnonHugePages', 'KernelPageSize', 'MMUPageSize', 'Shared_Clean', 'Shared_Dirty', 'Private_Clean', 'Private_Dirty'])

function pmap_X(head: string, entries: SmapsEntry[], all: boolean): string {
  const names: string[] = []
  for (const e of entries) {
    for (const [k] of e.fields) if (!names.includes(k) && (all || !X_HIDDEN.has(k))) names.push(k)
  }
  const totals = names.map((n) => entries.reduce((a, e) => a + field(e, n), 0))
  // Field columns are as wide as their header or their total (values never exceed the total).
  const widths = names.map((n, i) => Math.max(n.length, String(totals[i]).length))
  const w_addr = Math.max(7, ...entries.map((e) => e.start.toString(16).length))
  const w_perm = Math.max(4, ...entries.map((e) => e.perms.length))
  const w_off = Math.max(6, ...entries.map((e) => e.offset.length))
  const w_dev = Math.max(6, ...entries.map((e) => e.dev.length))
  const w_ino = Math.max(5, ...entries.map((e) => e.inode.length))
  const w_flags = Math.max(7, ...entries.map((e) => e.vmflags.length))
  const name_of = (e: SmapsEntry): string => (e.path.includes('/') ? e.path.slice(e.path.lastIndexOf('/') + 1) : e.path)
  let s = head
  s += `${'Address'.padStart(w_addr)} ${'Perm'.padStart(w_perm)} ${'Offset'.padStart(w_off)} ${'Device'.padStart(w_dev)} ${'Inode'.padStart(w_ino)} `
  s += names.map((n, i) => n.padStart(widths[i])).join(' ')
  if (all) s += ' ' + 'VmFlags'.padStart(w_flags)
  s += ' Mapping\n'
  for (const e of entries) {
    s += `${e.start.toString(16).padStart(w_addr)} ${e.perms.padStart(w_perm)} ${e.offset.padStart(w_off)} ${e.dev.padStart(w_dev)} ${e.inode.padStart(w_ino)} `
    s += names.map((n, i) => String(field(e, n)).padStart(widths[i])).join(' ')
    if (all) s += ' ' + e.vmflags.padStart(w_flags)
    s += ' ' + name_of(e) + '\n'
  }
  const lead = ' '.repeat(w_addr + 1 + w_perm + 1 + w_off + 1 + w_dev + 1 + w_ino + 1)
  s += lead + widths.map((w) => '='.repeat(w) + ' ').join('') + '\n'
  s += lead + totals.map((t, i) => String(t).padStart(widths[i]) + ' ').join('') + 'KB \n'
  return s
}
