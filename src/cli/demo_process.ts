/**
 * The process part of `mmsim demo`: a newcomer sees a process's life — its
 * /proc/<pid>/maps after exec, mmap and demand faults filling page tables
 * (an address split into its page-table indices and the PTE found there),
 * the shared zero page, copy-on-write after fork, a fatal SIGSEGV that the
 * machine survives, and what it all costs in slab objects and page tables.
 * Every number printed is read from the simulated machine.
 */
import type { Machine } from '../machine.js'
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../uapi/mman.js'
import { SignalError } from '../user/errors.js'
import type { Process } from '../user/process.js'
import { FramePageTables } from '../mm/pgtable_mm.js'
import { walk_text } from '../mm/pgtable_debug.js'
import { pmap } from '../user/pmap.js'

type Out = (line: string) => void

function section(out: Out, title: string): void {
  out('')
  out(`== ${title}`)
}

function show(out: Out, text: string, filter?: (line: string) => boolean): void {
  for (const line of text.trimEnd().split('\n')) if (!filter || filter(line)) out('   ' + line)
}

function hex(a: number): string {
  return '0x' + a.toString(16)
}

/** The page-table walk of a user address of p, as text (empty when the tables are not in frames). */
function walk(m: Machine, p: Process, addr: number): string {
  const pgd = p.mm.pgd
  return pgd instanceof FramePageTables ? walk_text(m.pgtables, pgd.mm, addr) : ''
}

const STATUS_KEYS = /^(VmSize|VmRSS|RssAnon|RssFile|VmPTE):/

export function run_process_demo(m: Machine, out: Out, first_step = 1): void {
  let n = first_step
  const step = (title: string): void => section(out, `${n++}. ${title}`)

  step('A process: fork + execve of a small program linked against glibc')
  const p = m.spawn({ name: 'app' })
  out(`pid ${p.pid}. The ELF loader mapped the program (text r-x, rodata, RELRO, data), ld.so and libc`)
  out('(each with their own segments), and the stack; /proc/' + p.pid + '/maps:')
  show(out, m.proc(`/proc/${p.pid}/maps`))
  out(`mm_struct: start_code ${hex(p.mm.start_code)} end_code ${hex(p.mm.end_code)} start_brk ${hex(p.mm.start_brk)} ` +
    `mmap_base ${hex(p.mm.mmap_base)} start_stack ${hex(p.mm.start_stack)}`)
  show(out, m.proc(`/proc/${p.pid}/status`), (l) => STATUS_KEYS.test(l))

  step('mmap(NULL, 3 pages, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)')
  const a = p.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS)
  out(`Returned ${hex(a)}: a new VMA right below the libraries (top-down from mmap_base), but no memory yet:`)
  out(`   mincore: ${[...p.mincore(a, 3 * 4096)].map((x) => x & 1).join('')}  (1 = a page-table entry is present)`)

  step('A store to the first page: a demand fault allocates a zeroed page')
  p.store(a, new TextEncoder().encode('hello'))
  out(`store(${hex(a)}, "hello") faulted (do_anonymous_page) and the MMU walk now finds a PTE:`)
  show(out, walk(m, p, a))

  step('A load from the second page: the shared zero page, mapped read-only')
  const z = p.load(a + 4096, 4)
  out(`load(${hex(a + 4096)}, 4) = [${[...z].join(', ')}]; the PTE points at the zero page (pfn ${hex(m.zero_pfn)}), without RW:`)
  show(out, walk(m, p, a + 4096))
  out(`   mincore: ${[...p.mincore(a, 3 * 4096)].map((x) => x & 1).join('')}; smaps counts only the written page as Anonymous:`)
  show(out, m.proc(`/proc/${p.pid}/smaps`).split(/\n(?=[0-9a-f]+-)/).find((b) => b.startsWith(a.toString(16))) ?? '', (l) =>
    /^[0-9a-f]+-|^(Rss|Anonymous|Private_Dirty):/.test(l))

  step('fork(): the child shares the page; both PTEs become read-only (copy-on-write)')
  const c = p.fork()
  out(`child pid ${c.pid}; parent's PTE after fork:`)
  show(out, walk(m, p, a))
  c.store(a, new TextEncoder().encode('HELLO'))
  out(`the child stores "HELLO": a write fault copies the page (do_wp_page); the child's PTE now points elsewhere:`)
  show(out, walk(m, c, a))
  out(`parent reads "${new TextDecoder().decode(p.load(a, 5))}", child reads "${new TextDecoder().decode(c.load(a, 5))}"`)
  c.exit(0)
  c.wait()
  out(`child exited (${c.status}); its mm was torn down (exit_mmap, free_pgtables).`)

  step('A store to read-only memory: SIGSEGV kills the process, the machine goes on')
  const victim = m.spawn({ name: 'victim' })
  const ro = victim.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)
  try {
    victim.store(ro, [1])
  } catch (e) {
    if (!(e instanceof SignalError)) throw e
    out(`pid ${victim.pid}: ${e.signal} (${e.code}) at ${hex(e.addr)}; wait() says "${victim.wait()}"`)
  }

  step('What it costs: slab objects and page tables')
  for (const cache of ['task_struct', 'mm_struct', 'vm_area_struct', 'anon_vma', 'anon_vma_chain']) {
    out(`   ${cache.padEnd(16)} ${String(m.kernel_objects.count(cache)).padStart(4)} objects in use`)
  }
  show(out, m.proc(`/proc/${p.pid}/status`), (l) => /^VmPTE:/.test(l))
  show(out, m.proc('/proc/meminfo'), (l) => /^(Slab|PageTables):/.test(l))
  out(`pmap -x ${p.pid}:`)
  show(out, pmap({ pid: p.pid, cmdline: p.task.cmdline.join(' '), start_stack: BigInt(p.mm.start_stack), smaps: m.proc(`/proc/${p.pid}/smaps`) }, 'x'))
  m.check()
}
