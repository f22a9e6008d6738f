/**
 * The machine's page-replacement policy (MachineOptions.reclaim), for
 * page-replacement studies on a whole system: page tables, faults, the page
 * cache, swap and memory cgroups stay Linux's, only the choice of which
 * evictable page goes is the policy's (vmscan_replacement.ts).
 *
 * - `linux` (the default): Linux's two-list LRU, vmscan.ts. Nothing here runs.
 * - `fifo`: the page resident longest goes first; references never count.
 * - `lru`: the page used least recently goes first, with every access
 *   counted (each user load or store, each read() or write() of a cached
 *   page). No real kernel can do this, since the hardware tells it nothing
 *   about a TLB hit; a simulator can, which makes it the yardstick.
 * - `clock`: second chance. The hand sweeps the pages in the order they came
 *   in; a page referenced since the hand last passed it (an Accessed bit in
 *   one of its PTEs, which the MMU sets when it loads the translation into
 *   the TLB, or PG_referenced from read()/write()) has the bits cleared and
 *   goes behind the hand; the first page found unreferenced goes.
 * - `random`: a page drawn uniformly from the evictable pages, from the
 *   machine's seeded random source.
 *
 * Under a policy every evictable page sits on an inactive list (nothing is
 * ever activated), each list in the policy's order with the victim at its
 * tail: `seq` numbers each page's place, counting up at the head and down
 * at the tail, so the tails of the anonymous and file lists are compared to
 * find the one victim of a single order across both. For `random`, each
 * lruvec also keeps its evictable pages in arrays (anon, file) to draw from.
 */
import type { KernelRandom } from '../include/random.js'

export const RECLAIM_POLICIES = ['linux', 'fifo', 'lru', 'clock', 'random'] as const
export type ReclaimPolicy = (typeof RECLAIM_POLICIES)[number]

/** The evictable pages of one lruvec by type, for `random` (index 0: anon, 1: file). */
export interface ReplacementMembers {
  readonly of: [number[], number[]]
}

export class Replacement {
  /** Per pfn: its place in the policy's order (greater: younger; the victim has the least). */
  readonly seq: Float64Array
  /** random: per pfn, its index in its lruvec's member array (-1: none). */
  readonly pos: Int32Array | null
  private young = 0
  private old = 0

  constructor(
    readonly policy: Exclude<ReclaimPolicy, 'linux'>,
    nr_pfns: number,
    readonly random: KernelRandom,
  ) {
    this.seq = new Float64Array(nr_pfns)
    this.pos = policy === 'random' ? new Int32Array(nr_pfns).fill(-1) : null
  }

  /** The page went on `file`'s list at the head (the young end) or the tail of lruvec `m`. */
  added(m: ReplacementMembers, pfn: number, file: number, head: boolean): void {
    this.seq[pfn] = head ? ++this.young : --this.old
    const pos = this.pos
    if (pos !== null) {
      const arr = m.of[file]
      pos[pfn] = arr.length
      arr.push(pfn)
    }
  }

  /** lru: the page was used (it is now the youngest; the caller moved it to its list's head). */
  used(pfn: number): void {
    this.seq[pfn] = ++this.young
  }

  /** The page left `file`'s list of lruvec `m`. */
  removed(m: ReplacementMembers, pfn: number, file: number): void {
    const pos = this.pos
    if (pos === null) return
    const arr = m.of[file]
    const i = pos[pfn]
    const last = arr.pop() as number
    if (last !== pfn) {
      arr[i] = last
      pos[last] = i
    }
    pos[pfn] = -1
  }

  /** random: a member drawn uniformly from the anonymous pages (when `anon`) and the file pages; -1 if none. */
  draw(m: ReplacementMembers, anon: boolean): number {
    const na = anon ? m.of[0].length : 0
    const n = na + m.of[1].length
    if (n === 0) return -1
    const k = this.random.get_random_u32_below(n)
    return k < na ? m.of[0][k] : m.of[1][k - na]
  }
}
