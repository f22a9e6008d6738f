/**
 * The node structure of a page cache's xarray (Kernel: lib/xarray.c
 * xas_expand(), xas_create(), xas_delete_node(), xas_shrink();
 * include/linux/xarray.h XA_CHUNK_SHIFT).
 *
 * The cache itself is the mapping's i_pages / i_shadows maps; this class
 * tracks which 64-slot nodes an xarray holding those indices would have,
 * because each node is a 576-byte radix_tree_node object: slab memory, and
 * kernel memory charged to the memory cgroup (the page cache's xarray is
 * XA_FLAGS_ACCOUNT), which moves the point where a limited group starts to
 * reclaim. A lone entry at index 0 lives in the head and needs no node; a
 * tree grows a level when an index does not fit and shrinks while its root
 * holds only slot 0.
 */

/** XA_CHUNK_SHIFT: 64 slots per node. */
export const XA_CHUNK_SHIFT = 6
const XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT
/**
 * What one node costs its memory cgroup (obj_full_size()): the slab's
 * object stride, 584 (sizeof(struct xa_node) 576 plus the free pointer SLUB
 * keeps outside objects that have a constructor; /sys/kernel/slab/
 * radix_tree_node/slab_size on 6.18), plus the obj_cgroup pointer, 8.
 */
export const XA_NODE_SIZE = 592

/** A node of the tree: its occupied slot count, and who pays for it. */
export interface XaNode {
  count: number
  /** Kernel address of the radix_tree_node object. */
  obj: number
  /** The memory cgroup the object is charged to (its id). */
  memcg: number
}

/** Allocation and freeing of node objects (slab + memcg charge), supplied by the page cache. */
export interface XaNodeAlloc {
  alloc(): XaNode | null
  free(node: XaNode): void
}

/** Key of the node at `level` (shift = 6 * level) covering `index`. */
function key(level: number, index: number): number {
  return Math.floor(index / XA_CHUNK_SIZE ** (level + 1)) * 16 + level
}

export class XaNodes {
  /** Levels of nodes (0: empty or only the head entry). */
  height = 0
  /** Is there an entry in the head (the tree holds only index 0, no node)? */
  head = false
  readonly nodes = new Map<number, XaNode>()

  /**
   * An entry (page or shadow) now occupies the empty slot `index`. The
   * nodes it needs come from `a`; false (nothing changed) when one cannot
   * be allocated.
   */
  store(index: number, a: XaNodeAlloc): boolean {
    if (this.height === 0 && !this.head && index === 0) {
      this.head = true
      return true
    }
    // The common case, a slot of an existing leaf: a leaf exists only under its whole path, so
    // nothing is made and only the leaf's count changes (what the general path below ends with).
    if (this.height > 0 && index < XA_CHUNK_SIZE ** this.height) {
      const leaf = this.nodes.get(key(0, index))
      if (leaf !== undefined) {
        leaf.count++
        return true
      }
    }
    const made: Array<[number, XaNode]> = []
    const get = (level: number, idx: number): XaNode | null => {
      const k = key(level, idx)
      let node = this.nodes.get(k)
      if (node === undefined) {
        const fresh = a.alloc()
        if (fresh === null) return null
        node = fresh
        this.nodes.set(k, node)
        made.push([k, node])
      }
      return node
    }
    const undo = (): false => {
      for (const [k, node] of made) {
        this.nodes.delete(k)
        a.free(node)
      }
      return false
    }
    let height = this.height
    let head = this.head
    if (height === 0) {
      // xas_expand() of an empty tree or of a head entry at index 0.
      height = 1
      if (head) {
        const leaf = get(0, 0)
        if (!leaf) return undo()
        leaf.count = 1
        head = false
      }
    }
    // xas_expand(): a tree with entries gets a new root above the old one, whose slot 0 holds
    // it; an empty tree only grows its shift (the path to index is made below, no slot-0 chain).
    const had = this.height > 0 || this.head
    while (index > XA_CHUNK_SIZE ** height - 1) {
      if (had) {
        const root = get(height, 0)
        if (!root) return undo()
        root.count = 1
      }
      height++
    }
    // xas_create(): descend, making missing nodes; each new node fills a slot of its parent.
    // The counts change only once every node is there (a failed allocation changes nothing).
    const fresh: number[] = []
    for (let level = height - 1; level >= 0; level--) {
      const exists = this.nodes.has(key(level, index))
      if (!get(level, index)) return undo()
      if (!exists && level < height - 1) fresh.push(level)
    }
    for (const level of fresh) this.nodes.get(key(level + 1, index))!.count++
    this.nodes.get(key(0, index))!.count++
    this.height = height
    this.head = head
    return true
  }

  /** The entry at `index` is gone (its slot is empty now): free empty nodes, then shrink. */
  erase(index: number, a: XaNodeAlloc, occupied: (index: number) => boolean): void {
    if (this.height === 0) {
      this.head = false
      return
    }
    let level = 0
    for (; ; level++) {
      const k = key(level, index)
      const node = this.nodes.get(k)!
      if (--node.count > 0) break
      this.nodes.delete(k)
      a.free(node)
      if (level === this.height - 1) {
        this.height = 0
        return
      }
    }
    // xas_shrink(), when the node left holding entries is the root: while the root holds
    // only its slot 0, that slot becomes the root (or, for a leaf, the head).
    if (level !== this.height - 1) return
    while (this.height > 0) {
      const rk = key(this.height - 1, 0)
      const root = this.nodes.get(rk)!
      if (root.count !== 1) break
      if (this.height === 1) {
        if (!occupied(0)) break
        this.nodes.delete(rk)
        a.free(root)
        this.height = 0
        this.head = true
        break
      }
      if (!this.nodes.has(key(this.height - 2, 0))) break
      this.nodes.delete(rk)
      a.free(root)
      this.height--
    }
  }
}
