/**
 * The second half of `mmsim demo`: a process's life as LDD3 chapter 15
 * tells it — its /proc/<pid>/maps after exec, mmap and demand faults filling
 * page tables (an address split into its page-table indices and the PTE
 * found), copy-on-write after fork, and what it all costs in slab objects and
 * page-table pages. Every value printed is read from the simulated machine.
 */
import type { Machine } from '../machine.js'
import { walk_text } from '../mm/pgtable_debug.js'
import type { Process } from '../user/process.js'
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../include/uapi/mman.js'
import { section, show, type Out } from './demo_out.js'

const hex = (v: number): string => '0x' + v.toString(16)

/** The page-table walk of `addr` in `p`'s address space, as text. */
function walk(m: Machine, p: Process, addr: number): string {
  const tables = p.mm.pgd as unknown as { mm?: { pgd: number; pgtables_bytes: number } }
  if (!tables.mm) return '(no frame page tables)'
  return walk_text(m.pgtables, tables.mm, addr)
}

/** The leaf PTE's frame for `addr`, read from the page tables in frames. */
function pte_frame(m: Machine, p: Process, addr: number): string {
  const tables = p.mm.pgd as unknown as { mm?: { pgd: number; pgtables_bytes: number } }
  if (!tables.mm) return '?'
  const steps = m.pgtables.walk_levels(tables.mm, addr)
  const leaf = steps[steps.length - 1]
  return leaf.level === 'pte' && leaf.val & 1 ? hex(Math.floor(leaf.val / 4096) % 2 ** 40) : 'not present'
}

function smaps_of(m: Machine, pid: number, start: number): string[] {
  const text = m.proc(`/proc/${pid}/smaps`)
  const blocks = text.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
  const b = blocks.find((x) => x.startsWith(start.toString(16).padStart(8, '0') + '-') || x.startsWith(start.toString(16) + '-'))
  return b ? b.split('\n') : []
}

export function run_process_demo(m: Machine, out: Out, step: number): void {
  section(out, `${step}. A process: /proc/<pid>/maps right after exec`)
  const p = m.spawn({ name: 'demo' })
  const maps = m.proc(`/proc/${p.pid}/maps`)
  const special = [...new Set(maps.match(/\[[a-z]+\]/g) ?? [])].join(', ')
  out(`pid ${p.pid}: the program's segments (r--p, r-xp, rw-p), its libraries, and ${special}:`)
  show(out, maps)

  section(out, `${step + 1}. mmap(NULL, 64 KiB, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)`)
  const len = 16 * 4096
  const a = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  out(`The kernel picked ${hex(a)} top-down below mmap_base; a new VMA, but no page is mapped yet:`)
  show(out, m.proc(`/proc/${p.pid}/maps`), (l) => l.startsWith(a.toString(16)))
  show(out, smaps_of(m, p.pid, a).join('\n'), (l) => /^(Rss|Anonymous):/.test(l))

  section(out, `${step + 2}. Demand paging: the first store to ${hex(a + 0x1000)} faults`)
  const flt0 = p.mm.min_flt
  p.store(a + 0x1000, new Uint8Array([0x42]))
  out(`do_anonymous_page() allocated a zeroed page and mapped it (minor faults: ${p.mm.min_flt - flt0}).`)
  out('The address split into its page-table indices, and the entry at each level:')
  show(out, walk(m, p, a + 0x1000))
  out(`A load from ${hex(a + 0x3000)} maps the shared zero page read-only instead:`)
  p.load(a + 0x3000, 1)
  show(out, walk(m, p, a + 0x3000), (l) => l.startsWith('pte['))
  show(out, smaps_of(m, p.pid, a).join('\n'), (l) => /^(Rss|Anonymous):/.test(l))
  const cpu = p.task.cpu
  const before = m.tlb.tlb_stats()[cpu]
  for (let i = 0; i < 100; i++) p.load(a + 0x1000 + (i % 64), 1)
  const after = m.tlb.tlb_stats()[cpu]
  out(`100 more loads from that page: ${after.hits - before.hits} TLB hits, ${after.misses - before.misses} misses (the walk is cached). CPU ${cpu}'s TLB now holds:`)
  show(out, m.tlb.tlb_text(cpu), (l) => l.startsWith('cpu') || l.includes(`vpn 0x${Math.floor((a + 0x1000) / 4096).toString(16)} `) || l.includes(`vpn 0x${Math.floor((a + 0x3000) / 4096).toString(16)} `))

  section(out, `${step + 3}. fork(): parent and child share the page copy-on-write`)
  const c = p.fork()
  out(`child pid ${c.pid}; both PTEs now point at frame ${pte_frame(m, p, a + 0x1000)} (parent) / ${pte_frame(m, c, a + 0x1000)} (child), write-protected:`)
  show(out, smaps_of(m, p.pid, a).join('\n'), (l) => /^(Rss|Pss|Shared_Dirty|Private_Dirty):/.test(l))
  c.store(a + 0x1000, new Uint8Array([0x43]))
  out(`The child's store faults: do_wp_page() copies the page. Child frame ${pte_frame(m, c, a + 0x1000)}, parent frame ${pte_frame(m, p, a + 0x1000)}.`)
  out(`Parent still reads 0x${p.load(a + 0x1000, 1)[0].toString(16)}, child reads 0x${c.load(a + 0x1000, 1)[0].toString(16)}.`)
  c.exit(0)
  out(`The child exited; the parent's page is its own again:`)
  show(out, smaps_of(m, p.pid, a).join('\n'), (l) => /^(Rss|Pss|Shared_Dirty|Private_Dirty):/.test(l))

  section(out, `${step + 4}. What a process costs the kernel`)
  out('Its kernel objects come from slab caches (/proc/slabinfo):')
  show(out, m.proc('/proc/slabinfo'), (l) => /^(task_struct|mm_struct|vm_area_struct|anon_vma|anon_vma_chain) /.test(l))
  out('Its page tables are page frames too (/proc/<pid>/status, /proc/meminfo):')
  show(out, m.proc(`/proc/${p.pid}/status`), (l) => /^(VmRSS|RssAnon|VmPTE):/.test(l))
  show(out, m.proc('/proc/meminfo'), (l) => /^(PageTables|Slab):/.test(l))
  p.exit(0)
}
