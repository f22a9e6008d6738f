/**
 * The ordered range tree behind mm->mm_mt (the maple tree's role;
 * Kernel: lib/maple_tree.c in MT_FLAGS_ALLOC_RANGE mode).
 *
 * A B+tree of disjoint, non-empty [vm_start, vm_end) ranges kept in address
 * order. Leaves hold up to NODE_SLOTS entries and are linked both ways, so an
 * iterator steps in O(1); internal nodes hold up to NODE_SLOTS children.
 * Every node caches its first and last entry (`lo`, `hi`: routing reads their
 * live vm_end, so a boundary moved in place never misroutes) and the largest
 * gap between two consecutive entries inside its subtree (`gap`), as the
 * maple tree's allocation-range nodes keep a gap per slot. With it the
 * unmapped-area searches skip every subtree that cannot hold the request:
 * O(log n) per search instead of a walk over all VMAs.
 *
 * The entries themselves may move their boundaries in place (a VMA being
 * split, expanded or shrunk); the caller then calls `update(entry)` (the
 * kernel's vma_iter_store) so the cached gaps follow. `check()` proves the
 * whole structure (order, links, fill, cached lo/hi/gap) for the invariant
 * checker.
 */
import { KernelBug } from '../include/bug.js'

/** What the tree orders: a half-open, page-aligned address range. */
export interface MtRange {
  vm_start: number
  vm_end: number
}

/** Entries per node: the maple tree's range nodes have 16 slots. */
const NODE_SLOTS = 16
/** A node below this many entries borrows from or merges with a sibling. */
const NODE_MIN = NODE_SLOTS / 4

class MtNode<T extends MtRange> {
  /** Entries of a leaf, in order (empty in an internal node). */
  slots: T[] = []
  /** Children of an internal node, in order (empty in a leaf). */
  kids: MtNode<T>[] = []
  parent: MtNode<T> | null = null
  /** Neighbouring leaves (leaves only). */
  prev: MtNode<T> | null = null
  next: MtNode<T> | null = null
  /** First and last entry of the subtree. */
  lo!: T
  hi!: T
  /** Largest gap between consecutive entries inside the subtree (0 with one entry). */
  gap = 0
  /**
   * Internal nodes: gaps[i] is the largest gap that ends inside child i's
   * span: its own gap, or the one between child i-1 and child i (the
   * maple tree's per-slot gap array). A search reads these numbers and
   * visits only children that can hold the request.
   */
  gaps: number[] = []
  constructor(readonly leaf: boolean) {}

  get size(): number {
    return this.leaf ? this.slots.length : this.kids.length
  }
}

/**
 * The largest gap inside a node, from its own slots or children; an internal
 * node's per-child gaps are written into `gaps` (its own array or a scratch one).
 */
function node_gap<T extends MtRange>(n: MtNode<T>, gaps: number[]): number {
  let gap = 0
  if (n.leaf) {
    const s = n.slots
    for (let i = 1; i < s.length; i++) {
      const g = s[i].vm_start - s[i - 1].vm_end
      if (g > gap) gap = g
    }
    return gap
  }
  const k = n.kids
  if (gaps.length !== k.length) gaps.length = k.length
  gap = gaps[0] = k[0].gap
  for (let i = 1; i < k.length; i++) {
    let g = k[i].lo.vm_start - k[i - 1].hi.vm_end
    if (k[i].gap > g) g = k[i].gap
    gaps[i] = g
    if (g > gap) gap = g
  }
  return gap
}

/** A node's first entry, from its slots or children. */
function node_lo<T extends MtRange>(n: MtNode<T>): T {
  return n.leaf ? n.slots[0] : n.kids[0].lo
}

/** A node's last entry, from its slots or children. */
function node_hi<T extends MtRange>(n: MtNode<T>): T {
  return n.leaf ? n.slots[n.slots.length - 1] : n.kids[n.kids.length - 1].hi
}

/** Recompute a node's cached lo/hi/gap from its own slots or children. */
function pull<T extends MtRange>(n: MtNode<T>): void {
  n.lo = node_lo(n)
  n.hi = node_hi(n)
  n.gap = node_gap(n, n.gaps)
}

/** check()'s copy of an internal node's gaps as pull() would compute them (reused). */
const gaps_scratch: number[] = []

/** Does a node's cached lo/hi/gap (and gaps) differ from what pull() would compute? (Reads only.) */
function stale<T extends MtRange>(n: MtNode<T>): boolean {
  if (n.lo !== node_lo(n) || n.hi !== node_hi(n) || n.gap !== node_gap(n, gaps_scratch)) return true
  if (n.leaf) return false
  if (n.gaps.length !== gaps_scratch.length) return true
  for (let i = 0; i < gaps_scratch.length; i++) if (n.gaps[i] !== gaps_scratch[i]) return true
  return false
}

/** Index of the first entry/child whose (last) vm_end is above addr, or size when none. */
function slot_above<T extends MtRange>(n: MtNode<T>, addr: number): number {
  let lo = 0
  let hi: number
  if (n.leaf) {
    const s = n.slots
    hi = s.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (s[mid].vm_end > addr) hi = mid
      else lo = mid + 1
    }
  } else {
    const k = n.kids
    hi = k.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (k[mid].hi.vm_end > addr) hi = mid
      else lo = mid + 1
    }
  }
  return lo
}

/** A position in the tree: a leaf and a slot in it (Kernel: struct ma_state, roughly). */
export interface MtCursor<T extends MtRange> {
  node: MtNode<T> | null
  offset: number
}

/** MapleTree's iterator: a leaf and a slot in it. */
class MtIterator<T extends MtRange> implements Iterator<T> {
  private i = 0
  constructor(private leaf: MtNode<T> | null) {}

  next(): IteratorResult<T> {
    let l = this.leaf
    while (l !== null && this.i >= l.slots.length) {
      l = this.leaf = l.next
      this.i = 0
    }
    if (l === null) return { done: true, value: undefined }
    return { done: false, value: l.slots[this.i++] }
  }
}

export class MapleTree<T extends MtRange> implements Iterable<T> {
  private root: MtNode<T> | null = null
  private count = 0

  get size(): number {
    return this.count
  }

  first(): T | null {
    return this.root ? this.root.lo : null
  }

  last(): T | null {
    return this.root ? this.root.hi : null
  }

  /** The leaf holding the first entry with vm_end > addr, and its slot (node null when none). */
  seek(addr: number, cur: MtCursor<T>): MtCursor<T> {
    let n = this.root
    if (!n || n.hi.vm_end <= addr) {
      cur.node = null
      cur.offset = 0
      return cur
    }
    while (!n.leaf) n = n.kids[slot_above(n, addr)]
    cur.node = n
    cur.offset = slot_above(n, addr)
    return cur
  }

  /** Kernel: mt_find() as find_vma() uses it: the first entry with vm_end > addr. */
  find(addr: number): T | null {
    let n = this.root
    if (!n || n.hi.vm_end <= addr) return null
    while (!n.leaf) n = n.kids[slot_above(n, addr)]
    return n.slots[slot_above(n, addr)]
  }

  /** The last entry with vm_start < addr (Kernel: mas_prev() from addr), or null. */
  find_before(addr: number): T | null {
    const n = this.root
    if (!n || n.lo.vm_start >= addr) return null
    const cur = this.seek(addr, { node: null, offset: 0 })
    if (!cur.node) return n.hi
    // The entry at the cursor ends above addr; it is the answer only if it starts below.
    const e = cur.node.slots[cur.offset]
    if (e.vm_start < addr) return e
    return this.step_back(cur)
  }

  /** The entry after the cursor's, moving it there; null at the end. */
  step(cur: MtCursor<T>): T | null {
    const n = cur.node
    if (!n) return null
    if (++cur.offset < n.slots.length) return n.slots[cur.offset]
    cur.node = n.next
    cur.offset = 0
    return cur.node ? cur.node.slots[0] : null
  }

  /** The entry before the cursor's, moving it there; null at the start. */
  step_back(cur: MtCursor<T>): T | null {
    const n = cur.node
    if (!n) return null
    if (--cur.offset >= 0) return n.slots[cur.offset]
    cur.node = n.prev
    cur.offset = cur.node ? cur.node.slots.length - 1 : 0
    return cur.node ? cur.node.slots[cur.offset] : null
  }

  /** The entry at the cursor, or null when it is past the end. */
  at(cur: MtCursor<T>): T | null {
    return cur.node ? cur.node.slots[cur.offset] : null
  }

  /**
   * The entries in order. A plain iterator over the leaf chain, not a
   * generator: for-of over a generator allocates and cannot be inlined, and
   * the checker walks every mm's VMAs after every call.
   */
  [Symbol.iterator](): Iterator<T> {
    let n = this.root
    if (n) while (!n.leaf) n = n.kids[0]
    return new MtIterator(n)
  }

  /** All entries in order, as an array (for callers that change the tree while they walk it). */
  to_array(): T[] {
    const out: T[] = []
    for (const e of this) out.push(e)
    return out
  }

  /** Kernel: mas_store() of a new entry into an empty range. Throws on overlap. */
  insert(e: T): void {
    if (e.vm_start >= e.vm_end) throw new KernelBug('maple_tree: empty range')
    if (!this.root) {
      const l = new MtNode<T>(true)
      l.slots.push(e)
      pull(l)
      this.root = l
      this.count = 1
      return
    }
    const cur = this.seek(e.vm_start, { node: null, offset: 0 })
    let leaf: MtNode<T>
    let at: number
    if (cur.node) {
      const next = cur.node.slots[cur.offset]
      if (next.vm_start < e.vm_end) throw new KernelBug('maple_tree: overlapping range')
      leaf = cur.node
      at = cur.offset
    } else {
      // Above every entry: the end of the last leaf.
      leaf = this.root
      while (!leaf.leaf) leaf = leaf.kids[leaf.kids.length - 1]
      at = leaf.slots.length
    }
    // splice(at, 0, e) by hand: splice allocates the array of removed elements on every call.
    const slots = leaf.slots
    for (let j = slots.length; j > at; j--) slots[j] = slots[j - 1]
    slots[at] = e
    this.count++
    this.fixup(leaf)
  }

  /** Kernel: vma_iter_clear() of an entry's range. Throws when e is not in the tree. */
  erase(e: T): void {
    const cur = this.seek(e.vm_start, { node: null, offset: 0 })
    const leaf = cur.node
    if (!leaf || leaf.slots[cur.offset] !== e) throw new KernelBug('maple_tree: erasing an entry not in the tree')
    const slots = leaf.slots
    for (let j = cur.offset + 1; j < slots.length; j++) slots[j - 1] = slots[j]
    slots.pop()
    this.count--
    this.fixup(leaf)
  }

  /**
   * Refresh the cached gaps after e's boundaries moved in place (Kernel:
   * vma_iter_store() of the new range). The new range must keep the order.
   */
  update(e: T): void {
    const cur = this.seek(e.vm_start, { node: null, offset: 0 })
    if (!cur.node || cur.node.slots[cur.offset] !== e) throw new KernelBug('maple_tree: updating an entry not in the tree')
    for (let n: MtNode<T> | null = cur.node; n; n = n.parent) pull(n)
  }

  /** Kernel: __mt_destroy(): drop every entry. */
  destroy(): void {
    this.root = null
    this.count = 0
  }

  /** Restore fill bounds and caches from a changed leaf up to the root. */
  private fixup(leaf: MtNode<T>): void {
    let n: MtNode<T> | null = leaf
    while (n) {
      const parent: MtNode<T> | null = n.parent
      if (n.size > NODE_SLOTS) {
        // split() pulls both halves and hangs the new one in the parent (a new root if none).
        this.split(n)
        n = n.parent
        continue
      }
      if (parent && n.size < NODE_MIN) {
        // rebalance() pulls what it changed; the parent's child list changed either way.
        this.rebalance(n)
        n = parent
        continue
      }
      if (n.size === 0) {
        this.root = null
        return
      }
      pull(n)
      n = parent
    }
    // A root with one child shrinks the tree by a level.
    let r = this.root
    while (r && !r.leaf && r.kids.length === 1) {
      r = r.kids[0]
      r.parent = null
      this.root = r
    }
  }

  /** Split an over-full node in two; a root split grows the tree by a level. */
  private split(n: MtNode<T>): void {
    const right = new MtNode<T>(n.leaf)
    const half = n.size >>> 1
    if (n.leaf) {
      right.slots = n.slots.splice(half)
      right.next = n.next
      if (right.next) right.next.prev = right
      right.prev = n
      n.next = right
    } else {
      right.kids = n.kids.splice(half)
      for (const k of right.kids) k.parent = right
    }
    pull(n)
    pull(right)
    let parent = n.parent
    if (!parent) {
      parent = new MtNode<T>(false)
      parent.kids.push(n)
      n.parent = parent
      this.root = parent
    }
    parent.kids.splice(parent.kids.indexOf(n) + 1, 0, right)
    right.parent = parent
  }

  /** An under-full n borrows entries from a sibling, or the two merge when both fit one node. */
  private rebalance(n: MtNode<T>): void {
    const parent = n.parent as MtNode<T>
    const i = parent.kids.indexOf(n)
    const sib = i > 0 ? parent.kids[i - 1] : parent.kids[i + 1]
    const left = i > 0 ? sib : n
    const right = i > 0 ? n : sib
    if (left.size + right.size <= NODE_SLOTS) {
      // Merge right into left.
      if (left.leaf) {
        left.slots.push(...right.slots)
        left.next = right.next
        if (left.next) left.next.prev = left
      } else {
        for (const k of right.kids) k.parent = left
        left.kids.push(...right.kids)
      }
      parent.kids.splice(parent.kids.indexOf(right), 1)
      pull(left)
      return
    }
    // Borrow: even the two out.
    if (left.leaf) {
      const all = left.slots.concat(right.slots)
      const half = all.length >>> 1
      left.slots = all.slice(0, half)
      right.slots = all.slice(half)
    } else {
      const all = left.kids.concat(right.kids)
      const half = all.length >>> 1
      left.kids = all.slice(0, half)
      right.kids = all.slice(half)
      for (const k of left.kids) k.parent = left
      for (const k of right.kids) k.parent = right
    }
    pull(left)
    pull(right)
  }

  /**
   * The highest gap, clipped to [low, high), of at least `length` bytes
   * (Kernel: mas_empty_area_rev()). A gap runs from an entry's vm_end (0
   * before the first) to the next entry's vm_start. Returns the entry right
   * above the chosen gap (null when the gap is the one above the last entry)
   * and sets `gap_start`/`gap_end` to the clipped gap; undefined when no gap fits.
   */
  gap_rev(length: number, low: number, high: number): T | null | undefined {
    const r = this.root
    if (!r) return this.fit(0, high, length, low, high) ? null : undefined
    if (this.fit(r.hi.vm_end, high, length, low, high)) return null
    const e = this.may_fit(r, length, low, high) ? this.rev_in(r, length, low, high) : null
    if (e) return e
    return this.fit(0, r.lo.vm_start, length, low, high) ? r.lo : undefined
  }

  /** The lowest such gap (Kernel: mas_empty_area()), same conventions as gap_rev(). */
  gap_fwd(length: number, low: number, high: number): T | null | undefined {
    const r = this.root
    if (!r) return this.fit(0, high, length, low, high) ? null : undefined
    if (this.fit(0, r.lo.vm_start, length, low, high)) return r.lo
    const e = this.may_fit(r, length, low, high) ? this.fwd_in(r, length, low, high) : null
    if (e) return e
    return this.fit(r.hi.vm_end, high, length, low, high) ? null : undefined
  }

  /** The clipped bounds of the last gap found. */
  gap_start = 0
  gap_end = 0

  /** Does [start, end) clipped to [low, high) hold length bytes? Records the clipped gap. */
  private fit(start: number, end: number, length: number, low: number, high: number): boolean {
    const s = start > low ? start : low
    const e = end < high ? end : high
    if (e > s && e - s >= length) {
      this.gap_start = s
      this.gap_end = e
      return true
    }
    return false
  }

  /** Could a gap inside n, clipped to [low, high), hold length bytes? */
  private may_fit(n: MtNode<T>, length: number, low: number, high: number): boolean {
    if (n.gap < length) return false
    const s = n.lo.vm_end > low ? n.lo.vm_end : low
    const e = n.hi.vm_start < high ? n.hi.vm_start : high
    return e > s && e - s >= length
  }

  /** gap_rev() inside n, whose may_fit() held. */
  private rev_in(n: MtNode<T>, length: number, low: number, high: number): T | null {
    if (n.leaf) {
      const s = n.slots
      for (let i = s.length - 1; i > 0; i--) {
        const gs = s[i - 1].vm_end
        if (gs >= high) continue
        const ge = s[i].vm_start
        if (ge <= low) return null
        // Clipping only shrinks a gap: one too small unclipped (most are 0) needs no fit().
        if (ge - gs >= length && this.fit(gs, ge, length, low, high)) return s[i]
      }
      return null
    }
    const k = n.kids
    const gaps = n.gaps
    for (let i = k.length - 1; i >= 0; i--) {
      if (gaps[i] < length) continue
      const c = k[i]
      // Everything from here down lies below low.
      if (c.hi.vm_start <= low) return null
      // A child whose gaps all lie above high is skipped without a visit.
      if (c.lo.vm_end < high && this.may_fit(c, length, low, high)) {
        const e = this.rev_in(c, length, low, high)
        if (e) return e
      }
      if (i > 0 && this.fit(k[i - 1].hi.vm_end, c.lo.vm_start, length, low, high)) return c.lo
    }
    return null
  }

  /** gap_fwd() inside n, whose may_fit() held. */
  private fwd_in(n: MtNode<T>, length: number, low: number, high: number): T | null {
    if (n.leaf) {
      const s = n.slots
      for (let i = 1; i < s.length; i++) {
        const ge = s[i].vm_start
        if (ge <= low) continue
        const gs = s[i - 1].vm_end
        if (gs >= high) return null
        if (ge - gs >= length && this.fit(gs, ge, length, low, high)) return s[i]
      }
      return null
    }
    const k = n.kids
    const gaps = n.gaps
    for (let i = 0; i < k.length; i++) {
      if (gaps[i] < length) continue
      const c = k[i]
      if (i > 0 && this.fit(k[i - 1].hi.vm_end, c.lo.vm_start, length, low, high)) return c.lo
      // Everything from here up lies above high.
      if (c.lo.vm_end >= high) return null
      if (c.hi.vm_start > low && this.may_fit(c, length, low, high)) {
        const e = this.fwd_in(c, length, low, high)
        if (e) return e
      }
    }
    return null
  }

  /** Prove the structure: order, fill, parent and leaf links, cached lo/hi/gap, count. Throws KernelBug. */
  check(): void {
    const r = this.root
    if (!r) {
      if (this.count !== 0) throw new KernelBug(`maple_tree: empty tree counts ${this.count}`)
      return
    }
    if (r.parent) throw new KernelBug('maple_tree: root has a parent')
    const leaves: MtNode<T>[] = []
    let depth = -1
    const walk = (n: MtNode<T>, d: number): void => {
      if (n.size === 0) throw new KernelBug('maple_tree: empty node')
      if (n !== r && n.size < NODE_MIN) throw new KernelBug(`maple_tree: node with ${n.size} < ${NODE_MIN} entries`)
      if (n.size > NODE_SLOTS) throw new KernelBug(`maple_tree: node with ${n.size} > ${NODE_SLOTS} entries`)
      if (stale(n)) throw new KernelBug('maple_tree: stale lo/hi/gap (a moved boundary without update())')
      if (n.leaf) {
        if (depth < 0) depth = d
        else if (depth !== d) throw new KernelBug('maple_tree: leaves at different depths')
        leaves.push(n)
        return
      }
      for (const k of n.kids) {
        if (k.parent !== n) throw new KernelBug('maple_tree: wrong parent link')
        walk(k, d + 1)
      }
    }
    walk(r, 0)
    let count = 0
    let last = -Infinity
    for (let i = 0; i < leaves.length; i++) {
      const l = leaves[i]
      if (l.prev !== (i > 0 ? leaves[i - 1] : null) || l.next !== (i + 1 < leaves.length ? leaves[i + 1] : null)) {
        throw new KernelBug('maple_tree: broken leaf links')
      }
      for (const e of l.slots) {
        if (e.vm_start >= e.vm_end) throw new KernelBug('maple_tree: empty range')
        if (e.vm_start < last) throw new KernelBug('maple_tree: ranges overlap or are unsorted')
        last = e.vm_end
        count++
      }
    }
    if (count !== this.count) throw new KernelBug(`maple_tree: counts ${this.count}, holds ${count}`)
  }
}
